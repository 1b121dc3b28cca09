/*
 * cmd-bench.c - `moescope bench MODEL [-p 128] [-n 64] [--reps 3]
 * [--ram-budget B | --sweep B1,B2,...] [--json]`.
 *
 * Reports prefill and decode speed, the bytes one decoded token reads
 * (its active weights plus the KV cache of the positions it attends to,
 * at the run's average position; both parts are printed), the machine's
 * read bandwidth measured in the same invocation, and the roofline ratio
 * decode_tps * bytes_per_token / bandwidth. With a RAM
 * budget for experts it also reports the expert cache: hit rate,
 * prefetch precision and recall, bytes read from disk per token, the
 * share of decode time stalled on I/O, and the disk's measured read
 * bandwidth. --sweep runs several budgets (and the plain-mmap baseline
 * first) in one invocation. Figures are medians over --reps runs; the
 * load average is printed so a reader can judge how quiet the machine
 * was.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cache/cache.h"

struct bench_row {
	char	 label[32];
	int	 cached;
	double	 ptps, dtps;
	double	 hit, prec, recall, disk_per_tok, stall;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope bench MODEL [-p N] [-n N] [--reps N] "
	    "[--sweep B,...] [--json] [options]\n\n"
	    "  -p N          prompt tokens for the prefill test (default 128)\n"
	    "  -n N          tokens decoded one at a time (default 64)\n"
	    "  --reps N      repetitions; medians are reported (default 3)\n"
	    "  --sweep LIST  expert RAM budgets to compare, e.g. "
	    "10%%,25%%,50%%,100%%\n"
	    "                (the plain-mmap baseline runs first)\n"
	    "  --json        one JSON object instead of text\n\n%s",
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

/*
 * The disk's sequential read bandwidth for this file: O_DIRECT reads of
 * 4 MiB blocks from its end backwards (where the expert data is; the
 * page cache neither helps nor is filled), up to 1 GiB. GB/s, or 0.
 */
static double
disk_bandwidth(const char *path)
{
	const size_t blk = 4u << 20;
	uint64_t t0, done = 0;
	off_t size, off;
	void *buf;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	if (posix_memalign(&buf, 4096, blk) != 0) {
		close(fd);
		return 0;
	}
	t0 = util_now_ns();
	for (off = (size / (off_t)blk - 1) * (off_t)blk; off >= 0 &&
	    done < (1ull << 30); off -= (off_t)blk) {
		ssize_t r = pread(fd, buf, blk, off);

		if (r <= 0)
			break;
		done += (uint64_t)r;
	}
	t0 = util_now_ns() - t0;
	free(buf);
	close(fd);
	return t0 && done ? (double)done / (double)t0 : 0;
}

static int
bench_one(struct eng_model *m, const struct eng_params *ep, const int32_t
    *toks, int np, int nd, int reps, struct bench_row *row, struct err *e)
{
	const struct eng_hparams *hp = eng_model_hparams(m);
	double pre[64], dec[64], hit[64], prec[64], rec[64], disk[64];
	double stall[64];
	struct eng_ctx *c;
	uint64_t t0, dt;
	int r, k, il, rc;

	if (reps > 64)
		reps = 64;
	if ((rc = eng_ctx_new(&c, m, ep, e)) != 0)
		return rc;
	for (r = 0; r < reps; r++) {
		struct eng_cache_layer tot, cl;

		eng_ctx_reset(c, 1);
		t0 = util_now_ns();
		if ((rc = eng_eval(c, toks, np, 0, NULL, NULL, e)) != 0)
			goto out;
		pre[r] = (double)np * 1e9 / (double)(util_now_ns() - t0);
		eng_ctx_reset_stats(c);
		t0 = util_now_ns();
		for (k = 0; k < nd; k++)
			if ((rc = eng_eval(c, toks + np + k, 1, 0, NULL, NULL,
			    e)) != 0)
				goto out;
		dt = util_now_ns() - t0;
		dec[r] = (double)nd * 1e9 / (double)dt;
		memset(&tot, 0, sizeof tot);
		for (il = 0; il < hp->n_layer; il++) {
			eng_cache_layer(c, il, &cl, NULL);
			tot.hits += cl.hits;
			tot.misses += cl.misses;
			tot.pred += cl.pred;
			tot.pred_hit += cl.pred_hit;
			tot.actual += cl.actual;
			tot.bytes_read += cl.bytes_read;
			tot.stall_ns += cl.stall_ns;
		}
		hit[r] = tot.hits + tot.misses ? (double)tot.hits /
		    (double)(tot.hits + tot.misses) : 1;
		prec[r] = tot.pred ? (double)tot.pred_hit / (double)tot.pred :
		    0;
		rec[r] = tot.actual ? (double)tot.pred_hit /
		    (double)tot.actual : 0;
		disk[r] = (double)tot.bytes_read / nd;
		stall[r] = (double)tot.stall_ns / (double)dt;
	}
	row->ptps = median(pre, reps);
	row->dtps = median(dec, reps);
	row->hit = median(hit, reps);
	row->prec = median(prec, reps);
	row->recall = median(rec, reps);
	row->disk_per_tok = median(disk, reps);
	row->stall = median(stall, reps);
out:
	eng_ctx_free(c);
	return rc;
}

int
cmd_bench_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct eng_model *m = NULL;
	const struct eng_hparams *hp;
	const char *model = NULL, *sweep = NULL;
	struct bench_row rows[16];
	struct err e = { 0 };
	char *mpath = NULL;
	double bw = 0, dbw = 0, load0;
	int32_t *toks = NULL;
	uint64_t rng = 12345, bpt, wbpt, kvbpt;
	long np = 128, reps = 3;
	int i, r, rc = 1, json = 0, nrows = 0;

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
			if (util_parse_long(argv[++i], 1, 64, &reps) != 0)
				goto bad;
			continue;
		}
		if (strcmp(argv[i], "--sweep") == 0 && i + 1 < argc) {
			sweep = argv[++i];
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
	memset(rows, 0, sizeof rows);
	if (o.max_tokens < 1)
		o.max_tokens = 1;
	if (o.ep.n_threads == 0)
		o.ep.n_threads = util_ncpu();
	if (o.ep.n_ctx == 0)
		o.ep.n_ctx = (int)np + o.max_tokens;
	load0 = loadavg();
	if (cmd_model_path(model, &mpath, &e) != 0 ||
	    eng_model_open(&m, mpath, &e) != 0)
		goto out;
	model = mpath;
	hp = eng_model_hparams(m);
	toks = malloc((size_t)(np + o.max_tokens) * sizeof *toks);
	if (toks == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < np + o.max_tokens; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		toks[i] = (int32_t)((rng >> 33) % (uint64_t)hp->n_vocab);
	}
	if (sweep != NULL) {
		char *list = strdup(sweep), *tok, *save = NULL;

		/* the baseline: every expert read in place through mmap */
		snprintf(rows[nrows].label, sizeof rows[0].label, "mmap");
		o.ep.ram_budget = 0;
		if (bench_one(m, &o.ep, toks, (int)np, o.max_tokens, (int)reps,
		    &rows[nrows++], &e) != 0) {
			free(list);
			goto out;
		}
		for (tok = strtok_r(list, ",", &save); tok != NULL && nrows <
		    16; tok = strtok_r(NULL, ",", &save)) {
			o.ram_budget = tok;
			if (cmd_opts_resolve(&o, m) != 0) {
				free(list);
				rc = 2;
				goto out;
			}
			snprintf(rows[nrows].label, sizeof rows[0].label, "%s",
			    tok);
			rows[nrows].cached = 1;
			if (bench_one(m, &o.ep, toks, (int)np, o.max_tokens,
			    (int)reps, &rows[nrows++], &e) != 0) {
				free(list);
				goto out;
			}
		}
		free(list);
	} else {
		if (cmd_opts_resolve(&o, m) != 0) {
			rc = 2;
			goto out;
		}
		snprintf(rows[0].label, sizeof rows[0].label, "%s",
		    o.ram_budget ? o.ram_budget : "mmap");
		rows[0].cached = o.ep.ram_budget > 0;
		if (bench_one(m, &o.ep, toks, (int)np, o.max_tokens, (int)reps,
		    &rows[nrows++], &e) != 0)
			goto out;
	}
	if (eng_bench_bandwidth(o.ep.n_threads, (size_t)1 << 30, 5, &bw, &e)
	    != 0)
		goto out;
	for (i = 0; i < nrows; i++)
		if (rows[i].cached)
			dbw = disk_bandwidth(model);
	/* a decode step reads the active weights and the KV cache of
	 * every visible position: on average the prompt plus half of the
	 * decoded tokens */
	wbpt = eng_model_bytes_per_token(m);
	kvbpt = eng_model_kv_bytes(m, np + (o.max_tokens + 1) / 2,
	    o.ep.kv_type);
	bpt = wbpt + kvbpt;
	if (json) {
		printf("{\"model\":\"%s\",\"arch\":\"%s\",\"threads\":%d,"
		    "\"prompt_tokens\":%ld,\"decode_tokens\":%d,\"reps\":%ld,"
		    "\"bytes_per_token\":%llu,\"weight_bytes_per_token\":%llu,"
		    "\"kv_bytes_per_token\":%llu,\"bandwidth_gbs\":%.3f,"
		    "\"disk_gbs\":%.3f,\"loadavg\":%.2f,", model, hp->arch,
		    o.ep.n_threads, np, o.max_tokens, reps,
		    (unsigned long long)bpt, (unsigned long long)wbpt,
		    (unsigned long long)kvbpt, bw, dbw, load0);
		printf("\"prefill_tps\":%.3f,\"decode_tps\":%.3f,"
		    "\"roofline_ratio\":%.4f,\"runs\":[", rows[0].ptps,
		    rows[0].dtps, rows[0].dtps * (double)bpt / (bw * 1e9));
		for (i = 0; i < nrows; i++)
			printf("%s{\"budget\":\"%s\",\"prefill_tps\":%.3f,"
			    "\"decode_tps\":%.3f,\"roofline_ratio\":%.4f,"
			    "\"hit_rate\":%.4f,\"prefetch_precision\":%.4f,"
			    "\"prefetch_recall\":%.4f,"
			    "\"disk_bytes_per_token\":%.0f,"
			    "\"stall_fraction\":%.4f}", i ? "," : "",
			    rows[i].label, rows[i].ptps, rows[i].dtps,
			    rows[i].dtps * (double)bpt / (bw * 1e9),
			    rows[i].hit, rows[i].prec, rows[i].recall,
			    rows[i].disk_per_tok, rows[i].stall);
		printf("]}\n");
	} else {
		char b1[32];

		printf("model            %s (%s)\n", model, hp->arch);
		printf("threads          %d\n", o.ep.n_threads);
		char b2[32], b3[32];

		printf("bytes per token  %s (weights %s + KV cache %s)\n",
		    util_fmt_bytes(bpt, b1, sizeof b1), util_fmt_bytes(wbpt, b2,
		    sizeof b2), util_fmt_bytes(kvbpt, b3, sizeof b3));
		printf("read bandwidth   %.2f GB/s (measured, %d threads)\n",
		    bw, o.ep.n_threads);
		if (dbw > 0)
			printf("disk bandwidth   %.2f GB/s (measured, O_DIRECT)"
			    "\n", dbw);
		printf("load average     %.2f at start; medians of %ld "
		    "runs\n\n", load0, reps);
		printf("%-8s %9s %9s %8s %6s %6s %6s %10s %6s\n", "budget",
		    "prefill", "decode", "roofline", "hit%", "prec%", "rec%",
		    "disk/tok", "stall%");
		for (i = 0; i < nrows; i++) {
			struct bench_row *w = &rows[i];

			if (w->cached)
				printf("%-8s %9.2f %9.2f %7.1f%% %6.1f %6.1f "
				    "%6.1f %10s %6.1f\n", w->label, w->ptps,
				    w->dtps, 100 * w->dtps * (double)bpt /
				    (bw * 1e9), 100 * w->hit, 100 * w->prec,
				    100 * w->recall, util_fmt_bytes(
				    (uint64_t)w->disk_per_tok, b1, sizeof b1),
				    100 * w->stall);
			else
				printf("%-8s %9.2f %9.2f %7.1f%% %6s %6s %6s "
				    "%10s %6s\n", w->label, w->ptps, w->dtps,
				    100 * w->dtps * (double)bpt / (bw * 1e9),
				    "-", "-", "-", "-", "-");
		}
		printf("(prefill and decode in tokens/s)\n");
	}
	rc = 0;
out:
	if (rc == 1)
		cmd_fail(&e);
	free(toks);
	eng_model_free(m);
	free(mpath);
	return rc;
bad:
	fprintf(stderr, "moescope bench: bad arguments\n");
	usage(stderr);
	return 2;
}
