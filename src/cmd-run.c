/*
 * cmd-run.c - `moescope run MODEL --tokens 1,2,3 [-n N]`: one generation
 * without the TUI. Token ids in, generated ids out (one per line); the
 * text form (-p TEXT) arrives with the tokenizer. Stops at -n tokens or
 * at the model's end-of-sequence token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "formats/formats.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope run MODEL --tokens 1,2,3 [options]\n\n"
	    "Generates up to -n tokens after the prompt and prints their "
	    "ids, one per\nline. --temp 0 decodes greedily.\n\n%s",
	    cmd_opts_help);
}

int
cmd_run_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct eng_model *m = NULL;
	struct eng_ctx *c = NULL;
	struct eng_sampler *s = NULL;
	const char *model = NULL, *toks = NULL;
	int32_t *ids = NULL, tok;
	uint32_t eos = UINT32_MAX;
	struct err e = { 0 };
	int i, n = 0, rc = 1, r;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	cmd_opts_init(&o);
	for (i = 1; i < argc; i++) {
		if ((r = cmd_opts_parse(&o, argc, argv, &i)) < 0)
			return 2;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc)
			toks = argv[++i];
		else if (argv[i][0] != '-' && model == NULL)
			model = argv[i];
		else {
			fprintf(stderr, "moescope run: unexpected '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (model == NULL || toks == NULL) {
		usage(stderr);
		return 2;
	}
	if (cmd_parse_tokens(toks, &ids, &n) != 0)
		return 2;
	if (eng_model_open(&m, model, &e) != 0 ||
	    eng_ctx_new(&c, m, &o.ep, &e) != 0 ||
	    eng_sampler_new(&s, eng_model_hparams(m)->n_vocab, &o.sp, &e) != 0)
		goto out;
	if (gguf_get(eng_model_gguf(m), "tokenizer.ggml.eos_token_id") != NULL)
		gguf_get_u32(eng_model_gguf(m), "tokenizer.ggml.eos_token_id",
		    &eos, NULL);
	for (i = 0; i < n; i++)
		eng_sampler_accept(s, ids[i]);
	if (eng_eval(c, ids, n, 0, NULL, NULL, &e) != 0)
		goto out;
	for (i = 0; i < o.max_tokens; i++) {
		tok = eng_sampler_sample(s, eng_last_logits(c));
		eng_sampler_accept(s, tok);
		printf("%d\n", tok);
		fflush(stdout);
		if ((uint32_t)tok == eos || i + 1 == o.max_tokens)
			break;
		if (eng_eval(c, &tok, 1, 0, NULL, NULL, &e) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		cmd_fail(&e);
	free(ids);
	eng_sampler_free(s);
	eng_ctx_free(c);
	eng_model_free(m);
	return rc;
}
