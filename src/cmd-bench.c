/*
 * cmd-bench.c - `moescope bench MODEL [-p 128] [-n 64] [--reps 3]
 * [--json]`: prefill and decode speed, bytes one decoded token reads,
 * the machine's measured read bandwidth (in the same invocation), and the
 * roofline ratio decode_tps * bytes_per_token / bandwidth. Each figure is
 * the median over --reps runs; the 1-minute load average is printed so a
 * reader can judge how quiet the machine was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope bench MODEL [-p N] [-n N] [--reps N] "
	    "[--json] [options]\n\n"
	    "  -p N       prompt tokens for the prefill test (default 128)\n"
	    "  -n N       tokens decoded one at a time (default 64)\n"
	    "  --reps N   repetitions; medians are reported (default 3)\n"
	    "  --json     one JSON object instead of text\n\n%s",
	    cmd_opts_help);
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
loadavg(void)
{
	double l = -1;
	FILE *fp = fopen("/proc/loadavg", "r");

	if (fp != NULL) {
		if (fscanf(fp, "%lf", &l) != 1)
			l = -1;
		fclose(fp);
	}
	return l;
}

int
cmd_bench_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct eng_model *m = NULL;
	struct eng_ctx *c = NULL;
	const struct eng_hparams *hp;
	const char *model = NULL;
	struct err e = { 0 };
	double *pre = NULL, *dec = NULL, bw = 0, ptps, dtps, roof, load0;
	int32_t *toks = NULL;
	uint64_t rng = 12345, t0, bpt;
	long np = 128, reps = 3, v;
	int i, r, k, rc = 1, json = 0;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	cmd_opts_init(&o);
	o.max_tokens = 64;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			if (util_parse_long(argv[++i], 1, 1 << 20, &np) != 0)
				goto bad;
			continue;
		}
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			if (util_parse_long(argv[++i], 1, 1000, &reps) != 0)
				goto bad;
			continue;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		if ((r = cmd_opts_parse(&o, argc, argv, &i)) < 0)
			return 2;
		if (r > 0)
			continue;
		if (argv[i][0] != '-' && model == NULL)
			model = argv[i];
		else
			goto bad;
	}
	if (model == NULL)
		goto bad;
	if (o.max_tokens < 1)
		o.max_tokens = 1;
	if (o.ep.n_threads == 0)
		o.ep.n_threads = util_ncpu();
	if (o.ep.n_ctx == 0)
		o.ep.n_ctx = (int)np + o.max_tokens;
	load0 = loadavg();
	if (eng_model_open(&m, model, &e) != 0 ||
	    eng_ctx_new(&c, m, &o.ep, &e) != 0)
		goto out;
	hp = eng_model_hparams(m);
	pre = calloc((size_t)reps, sizeof *pre);
	dec = calloc((size_t)reps, sizeof *dec);
	toks = malloc((size_t)(np + o.max_tokens) * sizeof *toks);
	if (pre == NULL || dec == NULL || toks == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < np + o.max_tokens; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		toks[i] = (int32_t)((rng >> 33) % (uint64_t)hp->n_vocab);
	}
	for (r = 0; r < reps; r++) {
		eng_ctx_reset(c, 1);
		t0 = util_now_ns();
		if (eng_eval(c, toks, (int)np, 0, NULL, NULL, &e) != 0)
			goto out;
		pre[r] = (double)np * 1e9 / (double)(util_now_ns() - t0);
		t0 = util_now_ns();
		for (k = 0; k < o.max_tokens; k++)
			if (eng_eval(c, toks + np + k, 1, 0, NULL, NULL, &e)
			    != 0)
				goto out;
		dec[r] = (double)o.max_tokens * 1e9 /
		    (double)(util_now_ns() - t0);
	}
	/* bandwidth, same thread count, 1 GiB buffer */
	if (eng_bench_bandwidth(o.ep.n_threads, (size_t)1 << 30, 3, &bw, &e)
	    != 0)
		goto out;
	ptps = median(pre, (int)reps);
	dtps = median(dec, (int)reps);
	bpt = eng_model_bytes_per_token(m);
	roof = dtps * (double)bpt / (bw * 1e9);
	if (json)
		printf("{\"model\":\"%s\",\"arch\":\"%s\",\"threads\":%d,"
		    "\"prompt_tokens\":%ld,\"decode_tokens\":%d,\"reps\":%ld,"
		    "\"prefill_tps\":%.3f,\"decode_tps\":%.3f,"
		    "\"bytes_per_token\":%llu,\"bandwidth_gbs\":%.3f,"
		    "\"roofline_ratio\":%.4f,\"loadavg\":%.2f}\n", model,
		    hp->arch, o.ep.n_threads, np, o.max_tokens, reps, ptps,
		    dtps, (unsigned long long)bpt, bw, roof, load0);
	else {
		char b1[32];

		printf("model            %s (%s)\n", model, hp->arch);
		printf("threads          %d\n", o.ep.n_threads);
		printf("prefill          %.2f tok/s (%ld tokens, median of "
		    "%ld)\n", ptps, np, reps);
		printf("decode           %.2f tok/s (%d tokens, median of "
		    "%ld)\n", dtps, o.max_tokens, reps);
		printf("bytes per token  %s\n", util_fmt_bytes(bpt, b1,
		    sizeof b1));
		printf("read bandwidth   %.2f GB/s (measured, %d threads)\n",
		    bw, o.ep.n_threads);
		printf("roofline         %.1f%% of the bandwidth bound\n",
		    roof * 100);
		printf("load average     %.2f at start\n", load0);
	}
	rc = 0;
out:
	if (rc != 0)
		cmd_fail(&e);
	free(pre);
	free(dec);
	free(toks);
	eng_ctx_free(c);
	eng_model_free(m);
	return rc;
bad:
	fprintf(stderr, "moescope bench: bad arguments\n");
	usage(stderr);
	(void)v;
	return 2;
}
