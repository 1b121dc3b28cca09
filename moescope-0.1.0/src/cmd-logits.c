/*
 * cmd-logits.c - `moescope logits MODEL --tokens 1,2,3 -o FILE`: the
 * logits after every prefix of the token list, float32 little-endian,
 * row-major [n_tokens][n_vocab], written atomically. Used to compare the
 * engine with reference implementations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope logits MODEL --tokens 1,2,3 -o FILE "
	    "[options]\n\n"
	    "Writes float32 little-endian logits, [n_tokens][n_vocab], one "
	    "row per\nposition (row i: after tokens 0..i).\n\n%s",
	    cmd_opts_help);
}

int
cmd_logits_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct eng_model *m = NULL;
	struct eng_ctx *c = NULL;
	const char *model = NULL, *toks = NULL, *outp = NULL;
	int32_t *ids = NULL;
	float *lg = NULL;
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
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			outp = argv[++i];
		else if (argv[i][0] != '-' && model == NULL)
			model = argv[i];
		else {
			fprintf(stderr, "moescope logits: unexpected '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (model == NULL || toks == NULL || outp == NULL) {
		usage(stderr);
		return 2;
	}
	if (cmd_parse_tokens(toks, &ids, &n) != 0)
		return 2;
	if (o.ep.n_ctx == 0)
		o.ep.n_ctx = n;
	if (eng_model_open(&m, model, &e) != 0)
		goto out;
	if (cmd_opts_resolve(&o, m) != 0) {
		rc = 2;
		goto out;
	}
	if (eng_ctx_new(&c, m, &o.ep, &e) != 0)
		goto out;
	lg = malloc((size_t)n * eng_model_hparams(m)->n_vocab * sizeof *lg);
	if (lg == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory for %d x %d logits", n,
		    eng_model_hparams(m)->n_vocab);
		goto out;
	}
	if (eng_eval(c, ids, n, 1, lg, NULL, &e) != 0)
		goto out;
	if (util_write_file(outp, lg, (size_t)n *
	    eng_model_hparams(m)->n_vocab * sizeof *lg, &e) != 0)
		goto out;
	rc = 0;
out:
	if (rc == 1)
		cmd_fail(&e);
	free(lg);
	free(ids);
	eng_ctx_free(c);
	eng_model_free(m);
	return rc;
}
