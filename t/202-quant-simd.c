/*
 * 202-quant-simd.c - quant room, SIMD kernels against the reference: for
 * each ISA level this CPU has (AVX2, AVX-512; the others are skipped),
 * every weight type's dot product and dequantization on random rows whose
 * block counts are odd and cross the kernels' chunk size, and
 * quant_matmul against a naive loop of reference dots for 1, 3, 17 and 64
 * tokens over an odd row range (rows outside it must stay untouched).
 * Also: the activation quantizer against an instruction-level model of
 * ggml-cpu's x86 quantize_row_q8_0/_q8_1 (AVX: max_ps reduction,
 * 127/amax, _mm256_round_ps to nearest, cvtps, saturating packs, F16C
 * scale) on random, tied and tiny inputs.
 */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "quant/quant.h"
#include "util/util.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static float
frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static const int types[] = {
	GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0,
	GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
	GGML_TYPE_IQ4_NL, GGML_TYPE_MXFP4, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
	GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_XS,
};
#define NTYPES ((int)(sizeof types / sizeof types[0]))

#define ROWS	37
#define MAXN	2304
#define MAXTOK	64

static float	wf[ROWS][MAXN], xf[MAXTOK][MAXN];
static unsigned char wq[ROWS][MAXN * 4], xq[MAXTOK][MAXN * 4];
static float	ya[MAXTOK][ROWS + 3], yb[MAXTOK][ROWS + 3];
static float	da[MAXN], db[MAXN];

/* Elements per row for a type: odd block counts, past the 2048 chunk. */
static int64_t
row_len(int type)
{
	const struct quant_type_info *ti = quant_type_info(type);

	if (ti->blck == 1)
		return 2141;
	if (ti->blck == 32)
		return 32 * 67;
	return 256 * 9;
}

/* Fill W (rows of type) and X (tokens of its vec_dot type). */
static void
make_data(int type, int64_t n, int ntok)
{
	int vt = quant_vec_dot_type(type), r, t;
	int64_t i;
	size_t rb = 0, b;

	for (r = 0; r < ROWS; r++) {
		for (i = 0; i < n; i++)
			wf[r][i] = frand() * (1 + (i % 7));
		if (quant_quantize_row(type, wf[r], wq[r], n) != 0) {
			/* IQ4_NL / IQ4_XS: random codes, small scales */
			quant_row_bytes(type, n, &rb);
			for (b = 0; b < rb; b++)
				wq[r][b] = (unsigned char)(rng >> (b % 50));
			if (type == GGML_TYPE_IQ4_NL)
				for (b = 0; b < (size_t)n / 32; b++)
					((block_iq4_nl *)wq[r])[b].d =
					    util_f32_to_fp16(0.003f);
			else
				for (b = 0; b < (size_t)n / 256; b++)
					((block_iq4_xs *)wq[r])[b].d =
					    util_f32_to_fp16(0.002f);
			frand();
		}
	}
	for (t = 0; t < ntok; t++) {
		for (i = 0; i < n; i++)
			xf[t][i] = frand() * 3;
		quant_quantize_act(vt, xf[t], xq[t], n);
	}
}

/* Sum of |w_i x_i| of the dequantized rows: the scale of rounding. */
static double
magnitude(int type, const void *w, const void *x, int64_t n)
{
	double m = 0;
	int64_t i;

	quant_dequant_row_ref(type, w, da, n);
	quant_dequant_row_ref(quant_vec_dot_type(type), x, db, n);
	for (i = 0; i < n; i++)
		m += fabs((double)da[i] * db[i]);
	return m;
}


/* ---------------------------------------------------------------- */
/* Activation rounding: instruction-level model of the x86 path       */

__attribute__((target("avx2,fma,f16c"))) static void
model_q8(const float *x, int64_t n, block_q8_0 *y0, block_q8_1 *y1)
{
	int64_t i;

	for (i = 0; i < n / 32; i++, x += 32) {
		const __m256 sign = _mm256_set1_ps(-0.0f);
		__m256 v[4], mx;
		__m128 m4;
		__m256i q[4], p;
		float mxs, d, id;
		int j, sum;
		int8_t out[32];

		for (j = 0; j < 4; j++)
			v[j] = _mm256_loadu_ps(x + 8 * j);
		mx = _mm256_andnot_ps(sign, v[0]);
		for (j = 1; j < 4; j++)
			mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[j]));
		m4 = _mm_max_ps(_mm256_extractf128_ps(mx, 1),
		    _mm256_castps256_ps128(mx));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
		mxs = _mm_cvtss_f32(m4);
		d = mxs / 127.f;
		id = mxs != 0.0f ? 127.f / mxs : 0.0f;
		for (j = 0; j < 4; j++)
			q[j] = _mm256_cvtps_epi32(_mm256_round_ps(
			    _mm256_mul_ps(v[j], _mm256_set1_ps(id)),
			    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
		{
			__m256i s4 = _mm256_add_epi32(_mm256_add_epi32(q[0],
			    q[1]), _mm256_add_epi32(q[2], q[3]));
			int32_t l[8];

			_mm256_storeu_si256((__m256i *)l, s4);
			for (sum = 0, j = 0; j < 8; j++)
				sum += l[j];
		}
		p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
		    _mm256_packs_epi32(q[2], q[3]));
		p = _mm256_permutevar8x32_epi32(p,
		    _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
		_mm256_storeu_si256((__m256i *)out, p);
		y0[i].d = _cvtss_sh(d, 0);
		memcpy(y0[i].qs, out, 32);
		y1[i].d = y0[i].d;
		y1[i].s = _cvtss_sh(d * (float)sum, 0);
		memcpy(y1[i].qs, out, 32);
	}
}

static void
test_act_model(void)
{
	enum { N = 32 * 512 };
	static float x[N];
	static block_q8_0 a0[N / 32], m0[N / 32];
	static block_q8_1 a1[N / 32], m1[N / 32];
	int64_t i;
	int k, bad0 = 0, bad1 = 0;

	if (!__builtin_cpu_supports("avx2") ||
	    !__builtin_cpu_supports("f16c")) {
		ok(1, "# skip no AVX2/F16C for the activation model");
		return;
	}
	for (k = 0; k < 4; k++) {
		for (i = 0; i < N; i++) {
			float v = frand();

			switch (k) {
			case 0:		/* plain random */
				x[i] = v * 5;
				break;
			case 1:		/* ties: amax 127, halves */
				x[i] = i % 32 == 0 ? 127.f :
				    (float)((int)(v * 100)) + 0.5f;
				break;
			case 2:		/* amax 63.5: ties after x2 */
				x[i] = i % 32 == 5 ? -63.5f :
				    (float)((int)(v * 120)) * 0.25f;
				break;
			default:	/* tiny and zero blocks */
				x[i] = (i / 32) % 3 == 0 ? 0.0f :
				    v * 1e-30f;
				break;
			}
		}
		model_q8(x, N, m0, m1);
		quant_quantize_act(GGML_TYPE_Q8_0, x, a0, N);
		quant_quantize_act(GGML_TYPE_Q8_1, x, a1, N);
		bad0 += memcmp(a0, m0, sizeof a0) != 0;
		bad1 += memcmp(a1, m1, sizeof a1) != 0;
	}
	ok(!bad0, "Q8_0 activations byte-identical to the x86 AVX model "
	    "(random, ties, tiny, zero)");
	ok(!bad1, "Q8_1 activations byte-identical to the x86 AVX model");
}

/* y += a x at every length up to 70 (tails of each vector width), with
 * neighbours past the end untouched. */
static void
test_axpy(enum quant_isa isa)
{
	float x[80], y0[80], y1[80], a;
	int n, i, bad = 0;

	if (quant_set_isa(isa) != isa)
		return;
	for (n = 0; n <= 70; n++) {
		a = frand();
		for (i = 0; i < 80; i++) {
			x[i] = frand();
			y0[i] = y1[i] = frand();
		}
		quant_axpy_f32_ref(n, a, x, y0);
		quant_axpy_f32(n, a, x, y1);
		for (i = 0; i < 80; i++)
			bad += !(fabsf(y0[i] - y1[i]) <= 1e-6f *
			    (fabsf(y0[i]) + fabsf(a * x[i])) &&
			    (i < n || y0[i] == y1[i]));
	}
	ok(!bad, "%s axpy_f32 = ref at lengths 0..70, nothing past n "
	    "written", quant_isa_name(isa));
	bad = 0;
	for (n = 0; n <= 70; n++) {
		uint16_t h[80];

		a = frand();
		for (i = 0; i < 80; i++) {
			h[i] = util_f32_to_fp16(frand() * 4);
			y0[i] = y1[i] = frand();
		}
		quant_axpy_f16_ref(n, a, h, y0);
		quant_axpy_f16(n, a, h, y1);
		for (i = 0; i < 80; i++)
			bad += !(fabsf(y0[i] - y1[i]) <= 1e-6f *
			    (fabsf(y0[i]) + fabsf(a * util_fp16_to_f32(h[i]))) &&
			    (i < n || y0[i] == y1[i]));
	}
	ok(!bad, "%s axpy_f16 = ref at lengths 0..70, nothing past n "
	    "written", quant_isa_name(isa));
	quant_set_isa(QUANT_ISA_AVX512);
}

static void
test_level(enum quant_isa isa)
{
	static const int ntoks[] = { 1, 3, 17, 64 };
	int k, r, t, j;

	if (quant_set_isa(isa) != isa) {
		ok(1, "# skip %s not available on this CPU",
		    quant_isa_name(isa));
		return;
	}
	{
		static const int acts[] = { GGML_TYPE_Q8_0, GGML_TYPE_Q8_1,
		    GGML_TYPE_Q8_K, GGML_TYPE_F16, GGML_TYPE_BF16 };
		int a, bad;
		int64_t i;
		size_t rb = 0;

		for (a = 0; a < 5; a++) {
			bad = 0;
			for (t = 0; t < 8; t++) {
				for (i = 0; i < MAXN; i++)
					xf[0][i] = t == 0 && i < 512 ? 0.0f :
					    t == 1 ? (float)((int)(frand() *
					    40)) + 0.5f : t == 2 && i % 256 ==
					    7 ? 50.0f : t == 2 && i % 256 == 9 ?
					    -50.0f : frand() * (1 + t);
				quant_set_isa(isa);
				quant_quantize_act(acts[a], xf[0], xq[0], MAXN);
				quant_set_isa(QUANT_ISA_REF);
				quant_quantize_act(acts[a], xf[0], xq[1], MAXN);
				quant_set_isa(isa);
				quant_row_bytes(acts[a], MAXN, &rb);
				bad += memcmp(xq[0], xq[1], rb) != 0;
			}
			ok(!bad, "%s %s activations byte-identical to ref",
			    quant_isa_name(isa),
			    quant_type_info(acts[a])->name);
		}
	}
	for (k = 0; k < NTYPES; k++) {
		int type = types[k];
		int64_t n = row_len(type), i;
		const char *name = quant_type_info(type)->name;
		int bad = 0;
		double worst = 0;

		make_data(type, n, MAXTOK);
		/* dot */
		for (r = 0; r < ROWS; r++) {
			double m = magnitude(type, wq[r], xq[r % MAXTOK], n);
			float want = quant_vec_dot_ref(type, n, wq[r],
			    xq[r % MAXTOK]);
			float got = quant_vec_dot(type, n, wq[r],
			    xq[r % MAXTOK]);
			double e = fabs((double)got - want) / (m + 1e-30);

			worst = e > worst ? e : worst;
			bad += !(e <= 2e-6);
		}
		ok(!bad, "%s %s vec_dot = ref (worst rel. err %.2g)",
		    quant_isa_name(isa), name, worst);
		/* dequant */
		bad = 0;
		for (r = 0; r < ROWS; r++) {
			double amax = 0;

			quant_dequant_row_ref(type, wq[r], da, n);
			quant_dequant_row(type, wq[r], db, n);
			for (i = 0; i < n; i++)
				amax = fabs(da[i]) > amax ? fabs(da[i]) : amax;
			for (i = 0; i < n; i++)
				bad += !(fabs((double)da[i] - db[i]) <=
				    2e-6 * amax);
		}
		ok(!bad, "%s %s dequant = ref", quant_isa_name(isa), name);
		/* matmul */
		for (j = 0; j < 4; j++) {
			int nt = ntoks[j];
			size_t wrb = 0, xrb = 0;

			quant_row_bytes(type, n, &wrb);
			quant_row_bytes(quant_vec_dot_type(type), n, &xrb);
			for (t = 0; t < nt; t++)
				for (r = 0; r < ROWS + 3; r++)
					ya[t][r] = -7777.f;
			quant_matmul(type, n, wq, sizeof wq[0], 3, ROWS, xq,
			    sizeof xq[0], nt, &ya[0][0], ROWS + 3);
			bad = 0;
			for (t = 0; t < nt; t++) {
				for (r = 0; r < ROWS + 3; r++) {
					if (r < 3 || r >= ROWS) {
						bad += ya[t][r] != -7777.f;
						continue;
					}
					yb[t][r] = quant_vec_dot_ref(type, n,
					    wq[r], xq[t]);
					bad += !(fabs((double)ya[t][r] -
					    yb[t][r]) <= 2e-6 * magnitude(type,
					    wq[r], xq[t], n));
				}
			}
			ok(!bad, "%s %s matmul rows 3..%d x %d tokens = "
			    "naive loop", quant_isa_name(isa), name, ROWS - 1,
			    nt);
		}
	}
}

/*
 * Long rows with many tokens: the GEMM kernels pack as many groups of 16
 * tokens as their buffer holds and go round again for the rest (K: 40
 * blocks, 32-blocks: 300, one group a round), and past their longest row
 * (70 and 600 blocks) hand over to the tiles. Every level against the
 * reference dot.
 */
static void
test_long_rows(void)
{
	static const int ktypes[] = { GGML_TYPE_Q4_K, GGML_TYPE_Q6_K,
	    GGML_TYPE_Q8_0, GGML_TYPE_Q4_1 };
	static const int64_t lens[] = { 256 * 40, 256 * 70 };
	static const int64_t lens32[] = { 32 * 300, 32 * 600 };
	enum quant_isa isa;
	int ti, li, r, t, nr = 6, nt = 37, bad;
	int64_t i, n;
	size_t wrb, xrb;
	unsigned char *w, *x;
	float *f, *y;

	for (ti = 0; ti < 4; ti++)
		for (li = 0; li < 2; li++) {
			int vt = quant_vec_dot_type(ktypes[ti]);

			n = ti < 2 ? lens[li] : lens32[li];
			wrb = xrb = 0;
			quant_row_bytes(ktypes[ti], n, &wrb);
			quant_row_bytes(vt, n, &xrb);
			w = malloc(wrb * (size_t)nr);
			x = malloc(xrb * (size_t)nt);
			f = malloc(sizeof *f * (size_t)n);
			y = malloc(sizeof *y * (size_t)nr * (size_t)nt);
			if (w == NULL || x == NULL || f == NULL ||
			    y == NULL) {
				ok(0, "out of memory");
				return;
			}
			for (r = 0; r < nr; r++) {
				for (i = 0; i < n; i++)
					f[i] = frand() * (1 + (i % 5));
				quant_quantize_row(ktypes[ti], f,
				    w + (size_t)r * wrb, n);
			}
			for (t = 0; t < nt; t++) {
				for (i = 0; i < n; i++)
					f[i] = frand() * 3;
				quant_quantize_act(vt, f,
				    x + (size_t)t * xrb, n);
			}
			for (isa = QUANT_ISA_REF; isa <= QUANT_ISA_AVX512;
			    isa++) {
				if (quant_set_isa(isa) != isa)
					continue;
				bad = 0;
				quant_matmul(ktypes[ti], n, w, wrb, 0, nr, x,
				    xrb, nt, y, (size_t)nr);
				for (t = 0; t < nt; t++)
					for (r = 0; r < nr; r++) {
						const void *wr = w +
						    (size_t)r * wrb;
						const void *xt = x +
						    (size_t)t * xrb;
						double want = quant_vec_dot_ref(
						    ktypes[ti], n, wr, xt);

						bad += !(fabs((double)y[t * nr +
						    r] - want) <= 2e-6 *
						    magnitude(ktypes[ti], wr,
						    xt, n));
					}
				ok(!bad, "%s %s matmul, rows of %lld, %d "
				    "tokens = naive loop", quant_isa_name(isa),
				    quant_type_info(ktypes[ti])->name,
				    (long long)n, nt);
			}
			quant_set_isa(QUANT_ISA_AVX512);
			free(w);
			free(x);
			free(f);
			free(y);
		}
}

/* ---------------------------------------------------------------- */
/* Two threads on disjoint row ranges = one thread on all rows        */

struct mt_job {
	int	 type;
	int64_t	 n, r0, r1;
	float	*y;
};

static void *
mt_run(void *arg)
{
	struct mt_job *j = arg;

	quant_matmul(j->type, j->n, wq, sizeof wq[0], j->r0, j->r1, xq,
	    sizeof xq[0], 5, j->y, ROWS);
	return NULL;
}

static void
test_threads(void)
{
	static const int mt_types[] = { GGML_TYPE_Q4_K, GGML_TYPE_Q8_0,
	    GGML_TYPE_MXFP4, GGML_TYPE_BF16 };
	static float one[5][ROWS], two[5][ROWS];
	int k, bad = 0;

	for (k = 0; k < 4; k++) {
		int type = mt_types[k];
		int64_t n = row_len(type);
		struct mt_job a = { type, n, 0, 20, &two[0][0] };
		struct mt_job b = { type, n, 20, ROWS, &two[0][0] };
		pthread_t ta, tb;

		make_data(type, n, 5);
		quant_matmul(type, n, wq, sizeof wq[0], 0, ROWS, xq,
		    sizeof xq[0], 5, &one[0][0], ROWS);
		if (pthread_create(&ta, NULL, mt_run, &a) != 0 ||
		    pthread_create(&tb, NULL, mt_run, &b) != 0) {
			ok(1, "# skip cannot start threads");
			return;
		}
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		bad += memcmp(one, two, sizeof one) != 0;
	}
	ok(!bad, "two threads on disjoint row ranges give the one-thread "
	    "result bit for bit");
}

int
main(void)
{
	enum quant_isa top;
	float x[64];
	unsigned char a[128], b[128];
	int i;

	top = quant_isa();
	diag("detected ISA: %s", quant_isa_name(top));
	test_act_model();
	test_level(QUANT_ISA_REF);
	test_level(QUANT_ISA_AVX2);
	test_level(QUANT_ISA_AVX512);
	test_axpy(QUANT_ISA_REF);
	test_axpy(QUANT_ISA_AVX2);
	test_axpy(QUANT_ISA_AVX512);
	test_long_rows();
	ok(quant_set_isa(QUANT_ISA_AVX512) == top,
	    "set_isa never goes above the CPU");
	test_threads();
	/* unsupported and malformed requests are harmless */
	for (i = 0; i < 64; i++)
		x[i] = frand();
	quant_quantize_act(GGML_TYPE_Q8_0, x, a, 64);
	ok(quant_vec_dot(GGML_TYPE_IQ2_XXS, 256, a, a) == 0 &&
	    quant_vec_dot(GGML_TYPE_Q4_0, 33, a, a) == 0 &&
	    quant_vec_dot(-3, 32, a, a) == 0,
	    "vec_dot of unsupported type or partial block returns 0");
	{
		float yy[2][4] = { { 5, 5, 5, 5 }, { 5, 5, 5, 5 } }, d[32];

		quant_matmul(GGML_TYPE_IQ2_XXS, 256, a, 0, 1, 3, a, 0, 2,
		    &yy[0][0], 4);
		quant_matmul(GGML_TYPE_Q4_0, 33, a, 0, 0, 1, a, 0, 1,
		    &yy[0][0], 4);
		quant_matmul(GGML_TYPE_Q4_0, 32, a, 0, 3, 3, a, 0, 1,
		    &yy[0][0], 4);
		d[0] = 9;
		quant_dequant_row(GGML_TYPE_IQ2_XXS, a, d, 32);
		ok(yy[0][0] == 0 && yy[0][1] == 0 && yy[0][2] == 0 &&
		    yy[1][1] == 0 && yy[1][2] == 0 && yy[0][3] == 5 &&
		    yy[1][0] == 5 && d[0] == 0,
		    "matmul/dequant of unsupported type or partial block "
		    "write zeros, only inside the row range");
	}
	ok(quant_quantize_act(GGML_TYPE_Q4_K, x, b, 256) == ERR_UNSUPPORTED &&
	    quant_quantize_act(GGML_TYPE_Q8_0, x, b, 48) == ERR_RANGE,
	    "quantize_act rejects non-activation types and partial blocks");
	return tap_done();
}
