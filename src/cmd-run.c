/*
 * cmd-run.c - `moescope run [MODEL] -p TEXT | -f FILE | --tokens IDS`: one
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
#include "engine/engine-gen.h"

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
	fprintf(fp, "usage: moescope run [MODEL] (-p TEXT | -f FILE | "
	    "--tokens 1,2,3) [options]\n\n"
	    "Without MODEL, the embedded default model (a tiny demo MoE).\n"
	    "Generates up to -n tokens after the prompt and streams the text "
	    "to stdout.\n"
	    "  --ids     print generated token ids, one per line\n"
	    "  --stats   print prefill/decode speed to stderr\n\n%s\n%s",
	    cmd_prompt_help, cmd_opts_help);
}

/* Print each generated token as it comes: its text, or its id. */
static int
run_token(void *arg, int32_t tok, const char *text, size_t len)
{
	const int *want_ids = arg;

	if (*want_ids && tok >= 0)
		printf("%d\n", tok);
	else if (!*want_ids && text != NULL)
		fwrite(text, 1, len, stdout);
	fflush(stdout);
	return 0;
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
	struct eng_gen_params gp = { 0 };
	struct eng_gen_result gr = { 0 };
	const char *model = NULL;
	char *path = NULL;
	int32_t *ids = NULL;
	struct err e = { 0 };
	int i, n = 0, rc = 1, r, want_ids = 0, stats = 0, have_chat = 0;

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
	if (!cmd_prompt_given(&pr)) {
		usage(stderr);
		return 2;
	}
	/* a file, or a name in the local store (e.g. ORG/NAME after pull);
	 * no MODEL: the embedded default model (models/README.md) */
	if (cmd_model_path(model, &path, &e) != 0 ||
	    eng_model_open(&m, path, &e) != 0)
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
	signal(SIGINT, on_sigint);
	gp.max_tokens = o.max_tokens;
	gp.cancel = &run_cancel;
	gp.on_token = run_token;
	gp.arg = &want_ids;
	if (eng_gen_run(c, s, have_chat ? chat.tok : NULL, ids, n, 0, &gp,
	    &gr, &e) != 0)
		goto out;
	if (!want_ids)
		putchar('\n');
	if (stats) {
		const struct eng_timing *t = eng_timing(c);

		fprintf(stderr, "prompt %d tokens, %.2f tok/s; generated %d "
		    "tokens, %.2f tok/s\n", n, t->prefill_ns ?
		    (double)t->prefill_tokens * 1e9 / (double)t->prefill_ns :
		    0, gr.n_gen, t->decode_ns ? (double)t->decode_tokens *
		    1e9 / (double)t->decode_ns : 0);
	}
	rc = 0;
out:
	if (rc == 1)
		cmd_fail(&e);
	eng_gen_result_fini(&gr);
	free(ids);
	free(path);
	if (have_chat)
		eng_chat_fini(&chat);
	eng_sampler_free(s);
	eng_ctx_free(c);
	eng_model_free(m);
	return rc;
}
