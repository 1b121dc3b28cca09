/*
 * cmd-route.c - `moescope route MODEL -p TEXT|--tokens 1,2,3 -o
 * TRACE.jsonl [-n N]`: the routing of every token, one JSON object per line:
 *
 *   {"pos":0,"token":785,"n_expert":8,"layers":[{"layer":0,
 *    "experts":[6,4],"weights":[0.62,0.38]},...]}
 *
 * Dense layers have empty lists. With --predict, each layer that has a
 * next-layer prediction (every MoE layer but the first: layer L's router
 * on the state after layer L-1's attention, as --prefetch gate computes
 * it) also carries "predicted":[...], its top-k guess, best first, after
 * "weights"; readers that do not know the field ignore it. With -n N the
 * model also generates N tokens (sampling flags apply; --temp 0 is
 * greedy) and their routing is
 * traced too, so traces can be as long as a cache study needs. The file
 * is written to a temporary name and renamed when complete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine/engine-gen.h"
#include "formats/formats.h"

struct tracer {
	FILE	*fp;
	int	 n_expert;
};

static void
trace_token(void *arg, const struct eng_route *r)
{
	struct tracer *t = arg;
	int il, s, first;

	fprintf(t->fp, "{\"pos\":%d,\"token\":%d,\"n_expert\":%d,"
	    "\"layers\":[", r->pos, r->token, t->n_expert);
	for (il = 0; il < r->n_layer; il++) {
		const int16_t *ex = r->experts + il * r->k;
		const float *w = r->weights + il * r->k;
		const int16_t *pr = r->predicted != NULL ? r->predicted +
		    il * r->k : NULL;

		fprintf(t->fp, "%s{\"layer\":%d,\"experts\":[", il ? "," : "",
		    il);
		for (s = 0, first = 1; s < r->k; s++)
			if (ex[s] >= 0) {
				fprintf(t->fp, "%s%d", first ? "" : ",", ex[s]);
				first = 0;
			}
		fputs("],\"weights\":[", t->fp);
		for (s = 0, first = 1; s < r->k; s++)
			if (ex[s] >= 0) {
				fprintf(t->fp, "%s%.9g", first ? "" : ",",
				    w[s]);
				first = 0;
			}
		if (eng_route_pred_hits(ex, pr, r->k, NULL) >= 0) {
			fputs("],\"predicted\":[", t->fp);
			for (s = 0; s < r->k; s++)
				fprintf(t->fp, "%s%d", s ? "," : "", pr[s]);
		}
		fputs("]}", t->fp);
	}
	fputs("]}\n", t->fp);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope route MODEL (-p TEXT | -f FILE | "
	    "--tokens 1,2,3) -o TRACE.jsonl [-n N]\n"
	    "    [--predict] [options]\n\n"
	    "Writes, per token and layer, the chosen experts and their gate "
	    "weights\n(JSON lines). -n N also generates N tokens and traces "
	    "them (default 0).\n--predict adds, from layer 1 on, the experts "
	    "that the previous layer's state\npredicted (\"predicted\", "
	    "best first).\n\n%s\n%s", cmd_prompt_help, cmd_opts_help);
}

int
cmd_route_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct eng_model *m = NULL;
	struct eng_ctx *c = NULL;
	struct eng_sampler *s = NULL;
	struct util_atomic out = { 0 };
	struct cmd_prompt pr = { 0 };
	struct eng_chat chat = { 0 };
	struct tracer tr;
	const char *model = NULL, *outp = NULL;
	int32_t *ids = NULL;
	struct eng_gen_params gp = { 0 };
	struct eng_gen_result gr = { 0 };
	struct err e = { 0 };
	char *mpath = NULL;
	int i, n = 0, rc = 1, r, opened = 0, have_chat = 0;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	cmd_opts_init(&o);
	o.max_tokens = 0;
	for (i = 1; i < argc; i++) {
		if ((r = cmd_opts_parse(&o, argc, argv, &i)) < 0 ||
		    (r == 0 && (r = cmd_prompt_parse(&pr, argc, argv, &i)) < 0))
			return 2;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			outp = argv[++i];
		else if (strcmp(argv[i], "--predict") == 0)
			o.ep.predict = 1;
		else if (argv[i][0] != '-' && model == NULL)
			model = argv[i];
		else {
			fprintf(stderr, "moescope route: unexpected '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!cmd_prompt_given(&pr) || outp == NULL) {
		usage(stderr);
		return 2;
	}
	if (cmd_model_path(model, &mpath, &e) != 0 ||
	    eng_model_open(&m, mpath, &e) != 0)
		goto done;
	if (cmd_opts_resolve(&o, m) != 0) {
		rc = 2;
		goto done;
	}
	if (pr.tokens == NULL) {
		if (eng_chat_load(&chat, eng_model_gguf(m), pr.tmpl, &e) != 0)
			goto done;
		have_chat = 1;
	}
	if (cmd_prompt_encode(&pr, &chat, &ids, &n, &e) != 0)
		goto done;
	if (o.ep.n_ctx == 0)
		o.ep.n_ctx = n + o.max_tokens + 1;
	if (eng_ctx_new(&c, m, &o.ep, &e) != 0 ||
	    eng_sampler_new(&s, eng_model_hparams(m)->n_vocab, &o.sp, &e) != 0)
		goto done;
	if (util_atomic_open(&out, outp, &e) != 0)
		goto done;
	opened = 1;
	tr.fp = out.fp;
	tr.n_expert = eng_model_hparams(m)->n_expert;
	eng_set_route_hook(c, trace_token, &tr);
	/* every generated token is evaluated, so its routing is traced:
	 * sample one more than is traced (the shared loop leaves the last
	 * sampled token unevaluated); no tokenizer, so no early stop */
	gp.max_tokens = o.max_tokens > 0 ? o.max_tokens + 1 : 0;
	if (eng_gen_run(c, s, NULL, ids, n, 0, &gp, &gr, &e) != 0)
		goto done;
	opened = 0;
	if (util_atomic_commit(&out, &e) != 0)
		goto done;
	rc = 0;
done:
	if (opened)
		util_atomic_abort(&out);
	if (rc == 1)
		cmd_fail(&e);
	eng_gen_result_fini(&gr);
	free(ids);
	if (have_chat)
		eng_chat_fini(&chat);
	eng_sampler_free(s);
	eng_ctx_free(c);
	eng_model_free(m);
	free(mpath);
	return rc;
}
