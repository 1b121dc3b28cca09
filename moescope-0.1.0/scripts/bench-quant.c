/*
 * bench-quant.c - a measurement tool, not a test: weight bandwidth of
 * quant_matmul for one token (decode: GB/s of weights streamed) and
 * throughput for a batch of tokens (prefill: GMAC/s), per weight type and
 * per ISA level this CPU has, on one thread (timed in thread CPU time,
 * best of several runs).
 *
 *   scripts/bench-quant [-m MB] [-n ROWLEN] [-t TOKENS] [TYPE ...]
 *
 * Weights are random bytes (speed does not depend on the values, except
 * that MXFP4 gets realistic exponents: tiny scales would make denormal
 * floats). The decode matrix is MB megabytes (default 64, larger than
 * the caches), the prefill one its first 1024 rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/quant.h"
#include "util/util.h"

static const int types[] = {
	GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0,
	GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
	GGML_TYPE_IQ4_NL, GGML_TYPE_MXFP4, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
	GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_XS,
};

static uint64_t rng = 88172645463325252ull;

static void
fill(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		/* keep fp16 scales finite: clear bit 6 of every byte */
		p[i] = (unsigned char)(rng & 0xBF);
	}
}

/* Thread CPU time: the machine is shared, wall time would count the
 * other processes' turns. */
static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
run(int type, int64_t n, const unsigned char *w, size_t ws, int64_t rows,
    const unsigned char *x, size_t xs, int ntok, float *y, int reps)
{
	double best = 1e30;
	int i;

	for (i = 0; i < reps; i++) {
		uint64_t t0 = cpu_ns();

		quant_matmul(type, n, w, ws, 0, rows, x, xs, ntok, y,
		    (size_t)rows);
		t0 = cpu_ns() - t0;
		if (t0 * 1e-9 < best)
			best = t0 * 1e-9;
	}
	return best;
}

static int
wanted(int type, int argc, char **argv, int first)
{
	int i;

	if (first >= argc)
		return 1;
	for (i = first; i < argc; i++)
		if (strcmp(argv[i], quant_type_info(type)->name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	long mb = 64, n = 4096, ntok = 64;
	int a = 1, k, lvl;
	enum quant_isa top = quant_isa();
	float *xf;

	for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		long *p = strcmp(argv[a], "-m") == 0 ? &mb :
		    strcmp(argv[a], "-n") == 0 ? &n :
		    strcmp(argv[a], "-t") == 0 ? &ntok : NULL;

		if (p == NULL || util_parse_long(argv[a + 1], 1, 1 << 20,
		    p) != 0 || n % 256 != 0) {
			fprintf(stderr, "usage: bench-quant [-m MB] "
			    "[-n ROWLEN (multiple of 256)] [-t TOKENS] "
			    "[TYPE ...]\n");
			return 2;
		}
	}
	xf = malloc((size_t)n * (size_t)ntok * sizeof(float));
	if (xf == NULL)
		return 1;
	for (k = 0; k < n * ntok; k++)
		xf[k] = (float)((k * 7919) % 1000) / 500.0f - 1.0f;
	printf("%-7s %-7s %10s %12s\n", "type", "isa", "decode", "prefill");
	printf("%-7s %-7s %10s %12s\n", "", "", "GB/s", "GMAC/s");
	for (k = 0; k < (int)(sizeof types / sizeof types[0]); k++) {
		int type = types[k], vt = quant_vec_dot_type(type), t;
		size_t ws = 0, xs = 0;
		int64_t rows, prows;
		unsigned char *w, *x;
		float *y;

		if (!wanted(type, argc, argv, a))
			continue;
		quant_row_bytes(type, n, &ws);
		quant_row_bytes(vt, n, &xs);
		rows = (int64_t)((size_t)mb * 1024 * 1024 / ws);
		prows = rows < 1024 ? rows : 1024;
		w = malloc(ws * (size_t)rows);
		x = malloc(xs * (size_t)ntok);
		y = malloc(sizeof(float) * (size_t)rows * (size_t)ntok);
		if (w == NULL || x == NULL || y == NULL)
			return 1;
		fill(w, ws * (size_t)rows);
		if (type == GGML_TYPE_F32)
			for (t = 0; t < (int)(ws * rows / 4); t++)
				((float *)w)[t] = 0.001f * (t % 100);
		if (type == GGML_TYPE_MXFP4)	/* realistic E8M0 scales */
			for (t = 0; t < (int)(ws * rows / 17); t++)
				((block_mxfp4 *)w)[t].e =
				    (uint8_t)(118 + t % 13);
		for (t = 0; t < ntok; t++)
			quant_quantize_act(vt, xf + (size_t)t * n,
			    x + (size_t)t * xs, n);
		for (lvl = QUANT_ISA_REF; lvl <= (int)top; lvl++) {
			double td, tp;

			quant_set_isa((enum quant_isa)lvl);
			td = run(type, n, w, ws, rows, x, xs, 1, y, 5);
			tp = run(type, n, w, ws, prows, x, xs, (int)ntok, y,
			    lvl == QUANT_ISA_REF ? 1 : 3);
			printf("%-7s %-7s %10.2f %12.2f\n",
			    quant_type_info(type)->name,
			    quant_isa_name((enum quant_isa)lvl),
			    (double)ws * rows / td * 1e-9,
			    (double)n * prows * ntok / tp * 1e-9);
			fflush(stdout);
		}
		quant_set_isa(top);
		free(w);
		free(x);
		free(y);
	}
	free(xf);
	return 0;
}
