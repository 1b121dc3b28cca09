/*
 * cmd-run.c - `moescope run MODEL -p TEXT | -f FILE | --tokens IDS`: one
 * generation without the TUI. Text is streamed to stdout as it is
 * generated (whole UTF-8 characters only); --ids prints token ids, one
 * per line, instead. Stops after -n tokens or at an end-of-generation
 * token. Timing goes to stderr with --stats.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static atomic_int run_cancel;

static void
on_sigint(int sig)
{
	(void)sig;
	atomic_store(&run_cancel, 1);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope run MODEL (-p TEXT | -f FILE | --tokens "
	    "1,2,3) [options]\n\n"
	    "Generates up to -n tokens after the prompt and streams the text "
	    "to stdout.\n"
	    "  --ids     print generated token ids, one per line\n"
	    "  --stats   print prefill/decode speed to stderr\n\n%s\n%s",
	    cmd_prompt_help, cmd_opts_help);
}

int
cmd_run_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct cmd_prompt pr = { 0 };
	struct eng_model *m = NULL;
	struct eng_ctx *c = NULL;
	struct eng_sampler *s = NULL;
	struct eng_chat chat = { 0 };
	struct tok_stream ts;
	const char *model = NULL, *out;
	int32_t *ids = NULL, tok;
	struct err e = { 0 };
	size_t len;
	int i, n = 0, rc = 1, r, want_ids = 0, stats = 0, have_chat = 0;
	int stream = 0, gen = 0;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	cmd_opts_init(&o);
	for (i = 1; i < argc; i++) {
		if ((r = cmd_opts_parse(&o, argc, argv, &i)) < 0 ||
		    (r == 0 && (r = cmd_prompt_parse(&pr, argc, argv, &i)) < 0))
			return 2;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--ids") == 0)
			want_ids = 1;
		else if (strcmp(argv[i], "--stats") == 0)
			stats = 1;
		else if (argv[i][0] != '-' && model == NULL)
			model = argv[i];
		else {
			fprintf(stderr, "moescope run: unexpected '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (model == NULL || !cmd_prompt_given(&pr)) {
		usage(stderr);
		return 2;
	}
	if (eng_model_open(&m, model, &e) != 0)
		goto out;
	if (cmd_opts_resolve(&o, m) != 0) {
		rc = 2;
		goto out;
	}
	/* text needs the tokenizer; ids alone do not */
	if (pr.tokens == NULL || !want_ids) {
		if (eng_chat_load(&chat, eng_model_gguf(m), pr.tmpl, &e) != 0)
			goto out;
		have_chat = 1;
	}
	if (cmd_prompt_encode(&pr, &chat, &ids, &n, &e) != 0)
		goto out;
	if (o.ep.n_ctx == 0)
		o.ep.n_ctx = n + o.max_tokens;
	if (eng_ctx_new(&c, m, &o.ep, &e) != 0 ||
	    eng_sampler_new(&s, eng_model_hparams(m)->n_vocab, &o.sp, &e) != 0)
		goto out;
	if (have_chat && !want_ids) {
		tokenizer_stream_init(&ts, chat.tok, 0);
		stream = 1;
	}
	signal(SIGINT, on_sigint);
	for (i = 0; i < n; i++)
		eng_sampler_accept(s, ids[i]);
	if (eng_eval(c, ids, n, 0, NULL, &run_cancel, &e) != 0)
		goto out;
	for (gen = 0; gen < o.max_tokens && !atomic_load(&run_cancel);) {
		tok = eng_sampler_sample(s, eng_last_logits(c));
		eng_sampler_accept(s, tok);
		gen++;
		if (have_chat && tokenizer_vocab_is_eog(chat.tok, tok))
			break;
		if (want_ids)
			printf("%d\n", tok);
		else if (tokenizer_stream_push(&ts, tok, &out, &len) == 0)
			fwrite(out, 1, len, stdout);
		fflush(stdout);
		if (gen == o.max_tokens)
			break;
		if (eng_eval(c, &tok, 1, 0, NULL, &run_cancel, &e) != 0)
			goto out;
	}
	if (stream && tokenizer_stream_flush(&ts, &out, &len) == 0)
		fwrite(out, 1, len, stdout);
	if (!want_ids)
		putchar('\n');
	if (stats) {
		const struct eng_timing *t = eng_timing(c);

		fprintf(stderr, "prompt %d tokens, %.2f tok/s; generated %d "
		    "tokens, %.2f tok/s\n", n, t->prefill_ns ?
		    (double)t->prefill_tokens * 1e9 / (double)t->prefill_ns :
		    0, gen, t->decode_ns ? (double)t->decode_tokens * 1e9 /
		    (double)t->decode_ns : 0);
	}
	rc = 0;
out:
	if (rc == 1)
		cmd_fail(&e);
	if (stream)
		tokenizer_stream_fini(&ts);
	free(ids);
	if (have_chat)
		eng_chat_fini(&chat);
	eng_sampler_free(s);
	eng_ctx_free(c);
	eng_model_free(m);
	return rc;
}
