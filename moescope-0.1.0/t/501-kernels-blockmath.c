/*
 * 501-kernels-blockmath.c - the block math the CUDA kernels run
 * (src/quant/quant-block.h, compiled here as plain C) against the quant
 * room's reference: for every weight type, random blocks (random bytes
 * with sane scales, so every bit pattern of codes and packed scales
 * occurs) dequantized sub-block by sub-block must equal
 * quant_dequant_row_ref bit for bit; whole-block dots must equal
 * quant_vec_dot_ref bit for bit on rows of several blocks, and the
 * per-sub-block contributions must sum to it closely; the activation
 * quantizers must give the bytes quant_quantize_act gives (random, zero
 * and tied inputs); the half / bfloat16 conversions must equal util's on
 * every half and on random floats. Runs everywhere: no device needed.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "quant/quant.h"
#include "quant/quant-block.h"
#include "util/util.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static float
frand(void)
{
	return (float)(rnd() & 0xffffff) / 8388608.0f - 1.0f;
}

/* A random normal half of magnitude about 2^-10 .. 2^-3. */
static qc_half
rhalf(void)
{
	return (qc_half)((rnd() & 0x8000) | ((5 + rnd() % 7) << 10) |
	    (rnd() & 0x3ff));
}

#define NB	7			/* blocks per row */
#define MAXB	(NB * 256)

static uint8_t	wbuf[NB * 256], xbuf[NB * 512];
static float	ref[MAXB], got[MAXB], xf[MAXB];

/* Random bytes, then sane fp16 scales in the fields that hold them. */
static void
rand_blocks(int type, void *dst, int nb)
{
	const struct quant_type_info *ti = quant_type_info(type);
	uint8_t *p = dst;
	size_t i;
	int b;

	for (i = 0; i < (size_t)nb * ti->size; i++)
		p[i] = (uint8_t)rnd();
	for (b = 0; b < nb; b++) {
		void *v = p + (size_t)b * ti->size;

		switch (type) {
		case GGML_TYPE_Q4_0: ((block_q4_0 *)v)->d = rhalf(); break;
		case GGML_TYPE_Q4_1:
			((block_q4_1 *)v)->d = rhalf();
			((block_q4_1 *)v)->m = rhalf();
			break;
		case GGML_TYPE_Q5_0: ((block_q5_0 *)v)->d = rhalf(); break;
		case GGML_TYPE_Q5_1:
			((block_q5_1 *)v)->d = rhalf();
			((block_q5_1 *)v)->m = rhalf();
			break;
		case GGML_TYPE_Q8_0: ((block_q8_0 *)v)->d = rhalf(); break;
		case GGML_TYPE_IQ4_NL: ((block_iq4_nl *)v)->d = rhalf(); break;
		case GGML_TYPE_MXFP4:
			((block_mxfp4 *)v)->e = (uint8_t)(110 + rnd() % 30);
			break;
		case GGML_TYPE_Q2_K:
			((block_q2_K *)v)->d = rhalf();
			((block_q2_K *)v)->dmin = rhalf();
			break;
		case GGML_TYPE_Q3_K: ((block_q3_K *)v)->d = rhalf(); break;
		case GGML_TYPE_Q4_K:
			((block_q4_K *)v)->d = rhalf();
			((block_q4_K *)v)->dmin = rhalf();
			break;
		case GGML_TYPE_Q5_K:
			((block_q5_K *)v)->d = rhalf();
			((block_q5_K *)v)->dmin = rhalf();
			break;
		case GGML_TYPE_Q6_K: ((block_q6_K *)v)->d = rhalf(); break;
		case GGML_TYPE_IQ4_XS: ((block_iq4_xs *)v)->d = rhalf(); break;
		default: break;
		}
	}
}

/* Sub-block sub of block b of a row -> 32 floats, through the header. */
static void
dq32(int type, const void *row, int b, int sub, float *y)
{
	switch (type) {
#define C(T, t, B) case GGML_TYPE_##T:					\
		qb_dq32_##t((const B *)row + b, sub, y); break;
	C(Q4_0, q4_0, block_q4_0) C(Q4_1, q4_1, block_q4_1)
	C(Q5_0, q5_0, block_q5_0) C(Q5_1, q5_1, block_q5_1)
	C(Q8_0, q8_0, block_q8_0) C(IQ4_NL, iq4_nl, block_iq4_nl)
	C(MXFP4, mxfp4, block_mxfp4) C(Q2_K, q2_k, block_q2_K)
	C(Q3_K, q3_k, block_q3_K) C(Q4_K, q4_k, block_q4_K)
	C(Q5_K, q5_k, block_q5_K) C(Q6_K, q6_k, block_q6_K)
	C(IQ4_XS, iq4_xs, block_iq4_xs)
#undef C
	default: break;
	}
}

/* Block b's whole dot (full) and its sub-block sub's share (part). */
static void
dotb(int type, const void *w, const void *x, int b, int sub, float *full,
    float *part)
{
	switch (type) {
#define C(T, t, B, X) case GGML_TYPE_##T:				\
		*full = qb_dot_##t((const B *)w + b, (const X *)x + b);	\
		*part = *full; break;
	C(Q4_0, q4_0, block_q4_0, block_q8_0)
	C(Q4_1, q4_1, block_q4_1, block_q8_1)
	C(Q5_0, q5_0, block_q5_0, block_q8_0)
	C(Q5_1, q5_1, block_q5_1, block_q8_1)
	C(Q8_0, q8_0, block_q8_0, block_q8_0)
	C(IQ4_NL, iq4_nl, block_iq4_nl, block_q8_0)
	C(MXFP4, mxfp4, block_mxfp4, block_q8_0)
#undef C
#define K(T, t, B) case GGML_TYPE_##T:					\
		*full = qb_dot_##t((const B *)w + b,			\
		    (const block_q8_K *)x + b);				\
		*part = qb_dot32_##t((const B *)w + b,			\
		    (const block_q8_K *)x + b, sub); break;
	K(Q2_K, q2_k, block_q2_K) K(Q3_K, q3_k, block_q3_K)
	K(Q4_K, q4_k, block_q4_K) K(Q5_K, q5_k, block_q5_K)
	K(Q6_K, q6_k, block_q6_K) K(IQ4_XS, iq4_xs, block_iq4_xs)
#undef K
	default:
		*full = *part = 0;
	}
}

static const int types[] = {
	GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
	GGML_TYPE_Q8_0, GGML_TYPE_IQ4_NL, GGML_TYPE_MXFP4, GGML_TYPE_Q2_K,
	GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
	GGML_TYPE_IQ4_XS,
};
#define NTYPES ((int)(sizeof types / sizeof types[0]))

static void
check_type(int type)
{
	const struct quant_type_info *ti = quant_type_info(type);
	int vt = quant_vec_dot_type(type), nsub = (int)ti->blck / 32;
	int64_t n = (int64_t)NB * ti->blck;
	int rep, b, sub, bad_dq = 0, bad_dot = 0, bad_part = 0;
	float full, part, rd, sum, mag;

	for (rep = 0; rep < 20; rep++) {
		int i;

		rand_blocks(type, wbuf, NB);
		quant_dequant_row_ref(type, wbuf, ref, n);
		for (b = 0; b < NB; b++)
			for (sub = 0; sub < nsub; sub++)
				dq32(type, wbuf, b, sub, got +
				    (size_t)b * ti->blck + 32 * sub);
		if (memcmp(ref, got, (size_t)n * sizeof(float)) != 0)
			bad_dq++;
		for (i = 0; i < n; i++)
			xf[i] = frand() * (rep % 3 == 0 ? 100.f : 1.f);
		quant_quantize_act(vt, xf, xbuf, n);
		rd = quant_vec_dot_ref(type, n, wbuf, xbuf);
		sum = 0;
		for (b = 0; b < NB; b++) {
			dotb(type, wbuf, xbuf, b, 0, &full, &part);
			sum += full;
		}
		if (memcmp(&sum, &rd, sizeof sum) != 0) {
			if (bad_dot++ == 0)
				diag("  %s dot %.9g, ref %.9g", ti->name,
				    sum, rd);
		}
		sum = 0;
		mag = 0;
		for (b = 0; b < NB; b++)
			for (sub = 0; sub < nsub; sub++) {
				dotb(type, wbuf, xbuf, b, sub, &full, &part);
				sum += part;
				mag += fabsf(part);
			}
		if (fabsf(sum - rd) > 1e-5f * (mag + 1e-20f))
			bad_part++;
	}
	ok(bad_dq == 0, "%s: dequantization equals the reference", ti->name);
	ok(bad_dot == 0, "%s: block dots equal quant_vec_dot_ref", ti->name);
	ok(bad_part == 0, "%s: sub-block contributions sum to the dot",
	    ti->name);
}

static void
check_act(void)
{
	static float x[MAXB];
	static uint8_t a[NB * 300], g[NB * 300];
	int rep, i, b, bad0 = 0, bad1 = 0, badk = 0;

	for (rep = 0; rep < 40; rep++) {
		int n = 4 * 256;

		for (i = 0; i < n; i++)
			x[i] = frand() * (rep % 4 == 0 ? 1e3f : 1.f);
		if (rep % 5 == 1)		/* a zero block */
			memset(x, 0, 256 * sizeof *x);
		if (rep % 5 == 2)		/* ties at 127/amax */
			for (i = 0; i < 64; i++)
				x[i] = (float)(i % 9 - 4) * 0.5f;
		quant_quantize_act(GGML_TYPE_Q8_0, x, a, n);
		for (b = 0; b < n / 32; b++)
			qb_act_q8_0(x + 32 * b, (block_q8_0 *)g + b);
		bad0 += memcmp(a, g, (size_t)n / 32 * sizeof(block_q8_0)) != 0;
		quant_quantize_act(GGML_TYPE_Q8_1, x, a, n);
		for (b = 0; b < n / 32; b++)
			qb_act_q8_1(x + 32 * b, (block_q8_1 *)g + b);
		bad1 += memcmp(a, g, (size_t)n / 32 * sizeof(block_q8_1)) != 0;
		quant_quantize_act(GGML_TYPE_Q8_K, x, a, n);
		for (b = 0; b < n / 256; b++)
			qb_act_q8_k(x + 256 * b, (block_q8_K *)g + b);
		badk += memcmp(a, g, (size_t)n / 256 * sizeof(block_q8_K)) != 0;
	}
	ok(bad0 == 0, "Q8_0 activations equal quant_quantize_act");
	ok(bad1 == 0, "Q8_1 activations equal quant_quantize_act");
	ok(badk == 0, "Q8_K activations equal quant_quantize_act");
}

static void
check_conv(void)
{
	int bad = 0, i;
	uint32_t h;
	float a, g;

	for (h = 0; h < 65536; h++) {
		a = util_fp16_to_f32((uint16_t)h);
		g = qb_h2f((uint16_t)h);
		bad += memcmp(&a, &g, sizeof a) != 0;
	}
	ok(bad == 0, "qb_h2f equals util_fp16_to_f32 on every half");
	bad = 0;
	for (i = 0; i < 1000000; i++) {
		uint32_t u = rnd() << 16 ^ rnd();
		float f;

		memcpy(&f, &u, sizeof f);
		bad += qb_f2h(f) != util_f32_to_fp16(f);
		bad += qb_f2bf(f) != util_f32_to_bf16(f);
		a = qb_bf2f((uint16_t)u);
		g = util_bf16_to_f32((uint16_t)u);
		bad += memcmp(&a, &g, sizeof a) != 0;
	}
	ok(bad == 0, "float -> half / bfloat16 and back as util's");
}

int
main(void)
{
	int i;

	for (i = 0; i < NTYPES; i++)
		check_type(types[i]);
	check_act();
	check_conv();
	return tap_done();
}
