/*
 * quant-block.h - the block math of every weight type the engine reads,
 * as static inline functions that compile for the CPU (C11) and for
 * CUDA (__host__ __device__ through QC_HD), so the CPU tests check the
 * very code the GPU kernels run (t/501-kernels-blockmath.c compares each
 * function with quant_dequant_row_ref / quant_vec_dot_ref).
 *
 * Every block is seen as sub-blocks of 32 elements (one for the 32-element
 * types, eight for the 256-element K-quants and IQ4_XS), which is the unit
 * a GPU thread decodes:
 *
 *   qb_dq32_T(b, sub, y)      elements 32 sub .. 32 sub + 31 -> float y[32]
 *   qb_isum_T(w, x, sub, ...) integer sums of one sub-block with the
 *                             activation block (Q8_0, Q8_1 or Q8_K)
 *   qb_dot32_T(w, x, sub)     that sub-block's float contribution
 *   qb_dot_T(w, x)            the whole block's dot product, with the
 *                             integer sums and the float expression in
 *                             the order quant-ref.c uses, so it equals
 *                             quant_vec_dot_ref on one block
 *
 * Activations are quantized with qb_act_q8_0 / qb_act_q8_1 / qb_act_q8_k,
 * which round as quant_quantize_act_ref does (llama.cpp's x86 backend).
 * The code tables of IQ4_NL and MXFP4 are packed into 64-bit constants so
 * device code needs no table in memory. No allocation, no failure.
 */
#ifndef MOESCOPE_QUANT_BLOCK_H
#define MOESCOPE_QUANT_BLOCK_H

#include <stdint.h>
#if !defined(__CUDACC__)
#include <math.h>
#include <string.h>
#endif

#include "quant/quant-common.h"

/* ---- scalars ---- */

static inline QC_HD float
qb_bits_f32(uint32_t u)
{
#if defined(__CUDA_ARCH__)
	return __uint_as_float(u);
#else
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
#endif
}

static inline QC_HD uint32_t
qb_f32_bits(float f)
{
#if defined(__CUDA_ARCH__)
	return __float_as_uint(f);
#else
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	return u;
#endif
}

/* IEEE half bits -> float, exact. */
static inline QC_HD float
qb_h2f(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, em = h & 0x7fffu;
	float f;

	if (em < 0x400) {
		f = (float)em * 0x1p-24f;
		return sign ? -f : f;
	}
	if (em >= 0x7c00)
		return qb_bits_f32(sign | 0x7f800000u | ((em & 0x3ffu) << 13));
	return qb_bits_f32(sign | ((em << 13) + 0x38000000u));
}

/* float -> IEEE half bits, round to nearest even (as util_f32_to_fp16). */
static inline QC_HD uint16_t
qb_f2h(float f)
{
	uint32_t u = qb_f32_bits(f);
	uint32_t sign = (u >> 16) & 0x8000, x = u & 0x7fffffff;
	uint32_t e, man, r, rem, half;
	int shift;

	if (x >= 0x7f800000u)
		return (uint16_t)(sign | 0x7c00 |
		    (x > 0x7f800000u ? 0x200 : 0));
	if (x >= 0x477ff000u)
		return (uint16_t)(sign | 0x7c00);
	if (x < 0x38800000u) {
		if (x < 0x33000000u)
			return (uint16_t)sign;
		e = x >> 23;
		man = (x & 0x7fffff) | 0x800000;
		shift = 126 - (int)e;
		r = man >> shift;
		rem = man & ((1u << shift) - 1);
		half = 1u << (shift - 1);
		if (rem > half || (rem == half && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	e = (x >> 23) - 112;
	man = x & 0x7fffff;
	r = (e << 10) | (man >> 13);
	if ((man & 0x1fff) > 0x1000 || ((man & 0x1fff) == 0x1000 && (r & 1)))
		r++;
	return (uint16_t)(sign | r);
}

static inline QC_HD float
qb_bf2f(uint16_t h)
{
	return qb_bits_f32((uint32_t)h << 16);
}

/* float -> bfloat16 bits, round to nearest even (as util_f32_to_bf16). */
static inline QC_HD uint16_t
qb_f2bf(float f)
{
	uint32_t u = qb_f32_bits(f);

	if ((u & 0x7fffffff) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40);
	return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

/* 2^(e - 128): half of MXFP4's E8M0 scale (ggml's E8M0_TO_FP32_HALF). */
static inline QC_HD float
qb_e8m0_half(uint8_t e)
{
	return qb_bits_f32(e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23);
}

/* IQ4_NL code i (0..15): -127 -104 -83 -65 -49 -35 -22 -10 1 13 25 38 53
 * 69 89 113, packed little-endian into two words. */
static inline QC_HD int
qb_iq4nl(int i)
{
	const uint64_t lo = 0xF6EADDCFBFAD9881ull, hi = 0x7159453526190D01ull;

	return (int8_t)(uint8_t)((i < 8 ? lo : hi) >> (8 * (i & 7)));
}

/* MXFP4 e2m1 code i, doubled: 0 1 2 3 4 6 8 12, then negated. */
static inline QC_HD int
qb_mxfp4v(int i)
{
	const uint64_t lo = 0x0C08060403020100ull, hi = 0xF4F8FAFCFDFEFF00ull;

	return (int8_t)(uint8_t)((i < 8 ? lo : hi) >> (8 * (i & 7)));
}

/* 6-bit scale and min j of a Q4_K / Q5_K block. */
static inline QC_HD void
qb_scale_min_k4(int j, const uint8_t *q, int *d, int *m)
{
	if (j < 4) {
		*d = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/* Scale j (0..15) of a Q3_K block, unbiased (-32..31). */
static inline QC_HD int
qb_q3k_scale(const uint8_t *s, int j)
{
	int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
	int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;

	return (lo | (hi << 4)) - 32;
}

/* Scale of sub-block ib (0..7) of an IQ4_XS block (-32..31). */
static inline QC_HD int
qb_iq4xs_scale(const block_iq4_xs *b, int ib)
{
	return (((b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
	    (((b->scales_h >> (2 * ib)) & 3) << 4)) - 32;
}

static inline QC_HD uint32_t
qb_qh32(const uint8_t *qh)
{
	return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 |
	    (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

/* ---- weight values: element l of sub-block sub, as an integer ---- */

/* Q2_K: element 32 sub + l; the 2-bit code (0..3). */
static inline QC_HD int
qb_q2k_q(const block_q2_K *b, int sub, int l)
{
	return (b->qs[32 * (sub / 4) + l] >> (2 * (sub % 4))) & 3;
}

/* Q3_K: element 32 sub + l, signed (-4..3). */
static inline QC_HD int
qb_q3k_q(const block_q3_K *b, int sub, int l)
{
	int v = (b->qs[32 * (sub / 4) + l] >> (2 * (sub % 4))) & 3;

	return (b->hmask[l] & (1u << sub)) ? v : v - 4;
}

/* Q4_K / Q5_K: element 32 sub + l, unsigned (0..15 / 0..31). */
static inline QC_HD int
qb_q4k_q(const block_q4_K *b, int sub, int l)
{
	uint8_t q = b->qs[32 * (sub / 2) + l];

	return (sub & 1) ? q >> 4 : q & 0xF;
}

static inline QC_HD int
qb_q5k_q(const block_q5_K *b, int sub, int l)
{
	uint8_t q = b->qs[32 * (sub / 2) + l];
	int v = (sub & 1) ? q >> 4 : q & 0xF;

	return (b->qh[l] & (1u << sub)) ? v + 16 : v;
}

/* Q6_K: element 32 sub + l, signed (-32..31). */
static inline QC_HD int
qb_q6k_q(const block_q6_K *b, int sub, int l)
{
	int h = sub / 4, s = sub % 4;
	const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
	int lo = (s & 1) ? ql[l + 32] : ql[l];

	lo = (s & 2) ? lo >> 4 : lo & 0xF;
	return (lo | (((qh[l] >> (2 * s)) & 3) << 4)) - 32;
}

/* ---- dequantization of one 32-element sub-block ---- */

static inline QC_HD void
qb_dq32_q4_0(const block_q4_0 *b, int sub, float *y)
{
	float d = qb_h2f(b->d);
	int j;

	(void)sub;
	for (j = 0; j < 16; j++) {
		y[j] = ((b->qs[j] & 0xF) - 8) * d;
		y[j + 16] = ((b->qs[j] >> 4) - 8) * d;
	}
}

static inline QC_HD void
qb_dq32_q4_1(const block_q4_1 *b, int sub, float *y)
{
	float d = qb_h2f(b->d), m = qb_h2f(b->m);
	int j;

	(void)sub;
	for (j = 0; j < 16; j++) {
		y[j] = (b->qs[j] & 0xF) * d + m;
		y[j + 16] = (b->qs[j] >> 4) * d + m;
	}
}

static inline QC_HD void
qb_dq32_q5_0(const block_q5_0 *b, int sub, float *y)
{
	float d = qb_h2f(b->d);
	uint32_t qh = qb_qh32(b->qh);
	int j;

	(void)sub;
	for (j = 0; j < 16; j++) {
		int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;

		y[j] = (((b->qs[j] & 0xF) | (h0 << 4)) - 16) * d;
		y[j + 16] = (((b->qs[j] >> 4) | (h1 << 4)) - 16) * d;
	}
}

static inline QC_HD void
qb_dq32_q5_1(const block_q5_1 *b, int sub, float *y)
{
	float d = qb_h2f(b->d), m = qb_h2f(b->m);
	uint32_t qh = qb_qh32(b->qh);
	int j;

	(void)sub;
	for (j = 0; j < 16; j++) {
		int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;

		y[j] = ((b->qs[j] & 0xF) | (h0 << 4)) * d + m;
		y[j + 16] = ((b->qs[j] >> 4) | (h1 << 4)) * d + m;
	}
}

static inline QC_HD void
qb_dq32_q8_0(const block_q8_0 *b, int sub, float *y)
{
	float d = qb_h2f(b->d);
	int j;

	(void)sub;
	for (j = 0; j < 32; j++)
		y[j] = b->qs[j] * d;
}

static inline QC_HD void
qb_dq32_iq4_nl(const block_iq4_nl *b, int sub, float *y)
{
	float d = qb_h2f(b->d);
	int j;

	(void)sub;
	for (j = 0; j < 16; j++) {
		y[j] = d * qb_iq4nl(b->qs[j] & 0xF);
		y[j + 16] = d * qb_iq4nl(b->qs[j] >> 4);
	}
}

static inline QC_HD void
qb_dq32_mxfp4(const block_mxfp4 *b, int sub, float *y)
{
	float d = qb_e8m0_half(b->e);
	int j;

	(void)sub;
	for (j = 0; j < 16; j++) {
		y[j] = qb_mxfp4v(b->qs[j] & 0xF) * d;
		y[j + 16] = qb_mxfp4v(b->qs[j] >> 4) * d;
	}
}

static inline QC_HD void
qb_dq32_q2_k(const block_q2_K *b, int sub, float *y)
{
	float d = qb_h2f(b->d), dmin = qb_h2f(b->dmin);
	int half, l;

	for (half = 0; half < 2; half++) {
		uint8_t sc = b->scales[2 * sub + half];
		float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);

		for (l = 16 * half; l < 16 * half + 16; l++)
			y[l] = dl * qb_q2k_q(b, sub, l) - ml;
	}
}

static inline QC_HD void
qb_dq32_q3_k(const block_q3_K *b, int sub, float *y)
{
	float d = qb_h2f(b->d);
	int half, l;

	for (half = 0; half < 2; half++) {
		float dl = d * qb_q3k_scale(b->scales, 2 * sub + half);

		for (l = 16 * half; l < 16 * half + 16; l++)
			y[l] = dl * qb_q3k_q(b, sub, l);
	}
}

static inline QC_HD void
qb_dq32_q4_k(const block_q4_K *b, int sub, float *y)
{
	float d = qb_h2f(b->d), dmin = qb_h2f(b->dmin), d1, m1;
	int sc, m, l;

	qb_scale_min_k4(sub, b->scales, &sc, &m);
	d1 = d * sc;
	m1 = dmin * m;
	for (l = 0; l < 32; l++)
		y[l] = d1 * qb_q4k_q(b, sub, l) - m1;
}

static inline QC_HD void
qb_dq32_q5_k(const block_q5_K *b, int sub, float *y)
{
	float d = qb_h2f(b->d), dmin = qb_h2f(b->dmin), d1, m1;
	int sc, m, l;

	qb_scale_min_k4(sub, b->scales, &sc, &m);
	d1 = d * sc;
	m1 = dmin * m;
	for (l = 0; l < 32; l++)
		y[l] = d1 * qb_q5k_q(b, sub, l) - m1;
}

static inline QC_HD void
qb_dq32_q6_k(const block_q6_K *b, int sub, float *y)
{
	float d = qb_h2f(b->d);
	int l;

	for (l = 0; l < 32; l++)
		y[l] = d * b->scales[2 * sub + l / 16] * qb_q6k_q(b, sub, l);
}

static inline QC_HD void
qb_dq32_iq4_xs(const block_iq4_xs *b, int sub, float *y)
{
	const uint8_t *qs = b->qs + 16 * sub;
	float dl = qb_h2f(b->d) * qb_iq4xs_scale(b, sub);
	int j;

	for (j = 0; j < 16; j++) {
		y[j] = dl * qb_iq4nl(qs[j] & 0xF);
		y[j + 16] = dl * qb_iq4nl(qs[j] >> 4);
	}
}

/* ---- dot products with activation blocks ---- */

/* 32-element types with Q8_0 activations: sum of code * activation. */
static inline QC_HD int
qb_isum_q4_0(const block_q4_0 *w, const block_q8_0 *x)
{
	int j, s = 0;

	for (j = 0; j < 16; j++)
		s += ((w->qs[j] & 0xF) - 8) * x->qs[j] +
		    ((w->qs[j] >> 4) - 8) * x->qs[j + 16];
	return s;
}

static inline QC_HD float
qb_dot_q4_0(const block_q4_0 *w, const block_q8_0 *x)
{
	return qb_isum_q4_0(w, x) * qb_h2f(w->d) * qb_h2f(x->d);
}

static inline QC_HD int
qb_isum_q4_1(const block_q4_1 *w, const block_q8_1 *x)
{
	int j, s = 0;

	for (j = 0; j < 16; j++)
		s += (w->qs[j] & 0xF) * x->qs[j] +
		    (w->qs[j] >> 4) * x->qs[j + 16];
	return s;
}

static inline QC_HD float
qb_dot_q4_1(const block_q4_1 *w, const block_q8_1 *x)
{
	return qb_h2f(w->d) * qb_h2f(x->d) * qb_isum_q4_1(w, x) +
	    qb_h2f(w->m) * qb_h2f(x->s);
}

static inline QC_HD int
qb_isum_q5_0(const block_q5_0 *w, const block_q8_0 *x)
{
	uint32_t qh = qb_qh32(w->qh);
	int j, s = 0;

	for (j = 0; j < 16; j++) {
		int v0 = ((w->qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4)) - 16;
		int v1 = ((w->qs[j] >> 4) |
		    (int)(((qh >> (j + 16)) & 1) << 4)) - 16;

		s += v0 * x->qs[j] + v1 * x->qs[j + 16];
	}
	return s;
}

static inline QC_HD float
qb_dot_q5_0(const block_q5_0 *w, const block_q8_0 *x)
{
	return qb_isum_q5_0(w, x) * qb_h2f(w->d) * qb_h2f(x->d);
}

static inline QC_HD int
qb_isum_q5_1(const block_q5_1 *w, const block_q8_1 *x)
{
	uint32_t qh = qb_qh32(w->qh);
	int j, s = 0;

	for (j = 0; j < 16; j++) {
		int v0 = (w->qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4);
		int v1 = (w->qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);

		s += v0 * x->qs[j] + v1 * x->qs[j + 16];
	}
	return s;
}

static inline QC_HD float
qb_dot_q5_1(const block_q5_1 *w, const block_q8_1 *x)
{
	return qb_h2f(w->d) * qb_h2f(x->d) * qb_isum_q5_1(w, x) +
	    qb_h2f(w->m) * qb_h2f(x->s);
}

static inline QC_HD int
qb_isum_q8_0(const block_q8_0 *w, const block_q8_0 *x)
{
	int j, s = 0;

	for (j = 0; j < 32; j++)
		s += w->qs[j] * x->qs[j];
	return s;
}

static inline QC_HD float
qb_dot_q8_0(const block_q8_0 *w, const block_q8_0 *x)
{
	return qb_isum_q8_0(w, x) * (qb_h2f(w->d) * qb_h2f(x->d));
}

static inline QC_HD int
qb_isum_iq4_nl(const block_iq4_nl *w, const block_q8_0 *x)
{
	int j, s = 0;

	for (j = 0; j < 16; j++)
		s += qb_iq4nl(w->qs[j] & 0xF) * x->qs[j] +
		    qb_iq4nl(w->qs[j] >> 4) * x->qs[j + 16];
	return s;
}

static inline QC_HD float
qb_dot_iq4_nl(const block_iq4_nl *w, const block_q8_0 *x)
{
	return qb_h2f(w->d) * qb_h2f(x->d) * qb_isum_iq4_nl(w, x);
}

static inline QC_HD int
qb_isum_mxfp4(const block_mxfp4 *w, const block_q8_0 *x)
{
	int j, s = 0;

	for (j = 0; j < 16; j++)
		s += qb_mxfp4v(w->qs[j] & 0xF) * x->qs[j] +
		    qb_mxfp4v(w->qs[j] >> 4) * x->qs[j + 16];
	return s;
}

static inline QC_HD float
qb_dot_mxfp4(const block_mxfp4 *w, const block_q8_0 *x)
{
	return qb_e8m0_half(w->e) * qb_h2f(x->d) * qb_isum_mxfp4(w, x);
}

/*
 * K-quants with Q8_K activations: sub-block sub's scale-weighted integer
 * sum (*is) and min sum (*ms, Q2_K Q4_K Q5_K only; 0 for the others).
 */
static inline QC_HD void
qb_isum_q2_k(const block_q2_K *w, const block_q8_K *x, int sub, int *is,
    int *ms)
{
	int half, l;

	*is = *ms = 0;
	for (half = 0; half < 2; half++) {
		int g = 2 * sub + half, s = 0;

		for (l = 16 * half; l < 16 * half + 16; l++)
			s += qb_q2k_q(w, sub, l) * x->qs[32 * sub + l];
		*is += (w->scales[g] & 0xF) * s;
		*ms += (w->scales[g] >> 4) * x->bsums[g];
	}
}

static inline QC_HD void
qb_isum_q3_k(const block_q3_K *w, const block_q8_K *x, int sub, int *is,
    int *ms)
{
	int half, l;

	*is = *ms = 0;
	for (half = 0; half < 2; half++) {
		int s = 0;

		for (l = 16 * half; l < 16 * half + 16; l++)
			s += qb_q3k_q(w, sub, l) * x->qs[32 * sub + l];
		*is += qb_q3k_scale(w->scales, 2 * sub + half) * s;
	}
}

static inline QC_HD void
qb_isum_q4_k(const block_q4_K *w, const block_q8_K *x, int sub, int *is,
    int *ms)
{
	int sc, m, l, s = 0;

	qb_scale_min_k4(sub, w->scales, &sc, &m);
	for (l = 0; l < 32; l++)
		s += qb_q4k_q(w, sub, l) * x->qs[32 * sub + l];
	*is = sc * s;
	*ms = m * (x->bsums[2 * sub] + x->bsums[2 * sub + 1]);
}

static inline QC_HD void
qb_isum_q5_k(const block_q5_K *w, const block_q8_K *x, int sub, int *is,
    int *ms)
{
	int sc, m, l, s = 0;

	qb_scale_min_k4(sub, w->scales, &sc, &m);
	for (l = 0; l < 32; l++)
		s += qb_q5k_q(w, sub, l) * x->qs[32 * sub + l];
	*is = sc * s;
	*ms = m * (x->bsums[2 * sub] + x->bsums[2 * sub + 1]);
}

static inline QC_HD void
qb_isum_q6_k(const block_q6_K *w, const block_q8_K *x, int sub, int *is,
    int *ms)
{
	int l, s0 = 0, s1 = 0;

	for (l = 0; l < 16; l++)
		s0 += qb_q6k_q(w, sub, l) * x->qs[32 * sub + l];
	for (l = 16; l < 32; l++)
		s1 += qb_q6k_q(w, sub, l) * x->qs[32 * sub + l];
	*is = w->scales[2 * sub] * s0 + w->scales[2 * sub + 1] * s1;
	*ms = 0;
}

static inline QC_HD void
qb_isum_iq4_xs(const block_iq4_xs *w, const block_q8_K *x, int sub,
    int *is, int *ms)
{
	const uint8_t *qs = w->qs + 16 * sub;
	const int8_t *y = x->qs + 32 * sub;
	int j, s = 0;

	for (j = 0; j < 16; j++)
		s += qb_iq4nl(qs[j] & 0xF) * y[j] + qb_iq4nl(qs[j] >> 4) *
		    y[j + 16];
	*is = qb_iq4xs_scale(w, sub) * s;
	*ms = 0;
}

/* The float expression of each K-type, from its summed integers. */
static inline QC_HD float
qb_kfin_q2_k(const block_q2_K *w, const block_q8_K *x, int is, int ms)
{
	return x->d * qb_h2f(w->d) * is - x->d * qb_h2f(w->dmin) * ms;
}

static inline QC_HD float
qb_kfin_q3_k(const block_q3_K *w, const block_q8_K *x, int is, int ms)
{
	(void)ms;
	return qb_h2f(w->d) * x->d * is;
}

static inline QC_HD float
qb_kfin_q4_k(const block_q4_K *w, const block_q8_K *x, int is, int ms)
{
	return qb_h2f(w->d) * x->d * is - qb_h2f(w->dmin) * x->d * ms;
}

static inline QC_HD float
qb_kfin_q5_k(const block_q5_K *w, const block_q8_K *x, int is, int ms)
{
	return qb_h2f(w->d) * x->d * is - qb_h2f(w->dmin) * x->d * ms;
}

static inline QC_HD float
qb_kfin_q6_k(const block_q6_K *w, const block_q8_K *x, int is, int ms)
{
	(void)ms;
	return qb_h2f(w->d) * x->d * is;
}

static inline QC_HD float
qb_kfin_iq4_xs(const block_iq4_xs *w, const block_q8_K *x, int is, int ms)
{
	(void)ms;
	return qb_h2f(w->d) * x->d * is;
}

/* Whole-block dot and per-sub-block contribution of each K-type. */
#define QB_KDOT(T, B)							\
static inline QC_HD float						\
qb_dot_##T(const B *w, const block_q8_K *x)				\
{									\
	int sub, is = 0, ms = 0, a, b;					\
									\
	for (sub = 0; sub < QK_K / 32; sub++) {				\
		qb_isum_##T(w, x, sub, &a, &b);				\
		is += a;						\
		ms += b;						\
	}								\
	return qb_kfin_##T(w, x, is, ms);				\
}									\
static inline QC_HD float						\
qb_dot32_##T(const B *w, const block_q8_K *x, int sub)			\
{									\
	int is, ms;							\
									\
	qb_isum_##T(w, x, sub, &is, &ms);				\
	return qb_kfin_##T(w, x, is, ms);				\
}

QB_KDOT(q2_k, block_q2_K)
QB_KDOT(q3_k, block_q3_K)
QB_KDOT(q4_k, block_q4_K)
QB_KDOT(q5_k, block_q5_K)
QB_KDOT(q6_k, block_q6_K)
QB_KDOT(iq4_xs, block_iq4_xs)

#undef QB_KDOT

/* ---- activation quantizers (llama.cpp x86 rounding) ---- */

/* Round to nearest even, as cvtss2si; INT32_MIN out of range / NaN. */
static inline QC_HD int32_t
qb_rne_i32(float v)
{
	if (!(v > -2147483904.0f && v < 2147483648.0f))
		return INT32_MIN;
	return (int32_t)rintf(v);
}

/* ggml's nearest_int: half to even for |f| < 2^22. */
static inline QC_HD int
qb_nearest_int(float f)
{
	return (int)(qb_f32_bits(f + 12582912.f) & 0x007fffff) - 0x00400000;
}

/* 32 floats -> Q8_0 / Q8_1 block (ds: Q8_1's sum, or NULL). */
static inline QC_HD void
qb_act_q8(const float *x, qc_half *dd, int8_t *qs, qc_half *ds)
{
	float amax = 0, d, id;
	int32_t v, sum = 0;
	int j;

	for (j = 0; j < 32; j++) {
		float a = fabsf(x[j]);

		amax = a > amax ? a : (a == a ? amax : a);
	}
	d = amax / 127.f;
	*dd = qb_f2h(d);
	id = amax != 0.0f ? 127.f / amax : 0.0f;
	for (j = 0; j < 32; j++) {
		v = qb_rne_i32(x[j] * id);
		sum += v == INT32_MIN ? 0 : v;
		qs[j] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
	}
	if (ds != NULL)
		*ds = qb_f2h(d * (float)sum);
}

static inline QC_HD void
qb_act_q8_0(const float *x, block_q8_0 *y)
{
	qb_act_q8(x, &y->d, y->qs, NULL);
}

static inline QC_HD void
qb_act_q8_1(const float *x, block_q8_1 *y)
{
	qb_act_q8(x, &y->d, y->qs, &y->s);
}

/* 256 floats -> Q8_K block (quantize_row_q8_K_ref). */
static inline QC_HD void
qb_act_q8_k(const float *x, block_q8_K *y)
{
	float mx = 0, amax = 0, iscale;
	int j, l;

	for (j = 0; j < QK_K; j++) {
		float ax = fabsf(x[j]);

		if (ax > amax) {
			amax = ax;
			mx = x[j];
		}
	}
	if (!amax) {
		y->d = 0;
		for (j = 0; j < QK_K; j++)
			y->qs[j] = 0;
		for (j = 0; j < QK_K / 16; j++)
			y->bsums[j] = 0;
		return;
	}
	iscale = -127.f / mx;
	for (j = 0; j < QK_K; j++) {
		int v = qb_nearest_int(iscale * x[j]);

		y->qs[j] = (int8_t)(v < 127 ? v : 127);
	}
	for (j = 0; j < QK_K / 16; j++) {
		int sum = 0;

		for (l = 0; l < 16; l++)
			sum += y->qs[16 * j + l];
		y->bsums[j] = (int16_t)sum;
	}
	y->d = 1 / iscale;
}

#endif
