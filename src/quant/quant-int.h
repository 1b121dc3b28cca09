/*
 * quant-int.h - private to the quant room: kernel tables filled by each
 * implementation (reference C, AVX2, AVX-512), the code tables of the
 * non-linear formats, and small helpers shared by the .c files.
 */
#ifndef MOESCOPE_QUANT_INT_H
#define MOESCOPE_QUANT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quant/quant.h"

/* Row of n elements -> float. */
typedef void quant_dequant_fn(const void *src, float *dst, int64_t n);

/* Dot product of one weight row with one activation row (n elements). */
typedef float quant_dot_fn(int64_t n, const void *w, const void *x);

/*
 * Tile: y[t * ys + r] = dot(w row r, x row t) for r < nr, t < nt.
 * Rows are ws bytes apart, activation rows xs bytes apart. nr and nt are
 * at most QUANT_TILE_R / QUANT_TILE_T.
 */
typedef void quant_tile_fn(int64_t n, const void *w, size_t ws, int nr,
    const void *x, size_t xs, int nt, float *y, size_t ys);

/* float -> row of n elements. */
typedef void quant_quant_fn(const float *src, void *dst, int64_t n);

/*
 * GEMM: y[t * ys + r] = dot(w row r, x row t) for every r < nr, t < nt,
 * in one call (the kernel blocks rows and tokens itself). Returns 0 when
 * it cannot take the shape (the caller then uses the tiles).
 */
typedef int quant_gemm_fn(int64_t n, const void *w, size_t ws, int64_t nr,
    const void *x, size_t xs, int nt, float *y, size_t ys);

/* y[i] += a * x[i], n floats (x F32, or F16 for the second form). */
typedef void quant_axpy_fn(int64_t n, float a, const float *x, float *y);
typedef void quant_axpy16_fn(int64_t n, float a, const uint16_t *x,
    float *y);

#define QUANT_TILE_R	4
#define QUANT_TILE_T	16

struct quant_kernels {
	quant_dequant_fn	*dequant[GGML_TYPE_COUNT];
	quant_dot_fn		*dot[GGML_TYPE_COUNT];
	quant_tile_fn		*tile[GGML_TYPE_COUNT];
	quant_gemm_fn		*gemm[GGML_TYPE_COUNT]; /* or NULL */
	quant_quant_fn		*act[GGML_TYPE_COUNT];
	quant_axpy_fn		*axpy;
	quant_axpy16_fn		*axpy16;
};

/*
 * Each implementation fills the entries it has; NULL entries fall back to
 * the level below. quant_ref_fill() fills every supported type.
 */
void quant_ref_fill(struct quant_kernels *k);
void quant_avx2_fill(struct quant_kernels *k);
void quant_avx512_fill(struct quant_kernels *k, int vnni, int bf16);

/* Reference activation quantizers (x86 ggml-cpu rounding, see
 * quant-quantize.c) and weight quantizers (quantize_row_*_ref). */
void quant_quantize_act_ref(int type, const float *src, void *dst,
    int64_t n);
int quant_quantize_weight_ref(int type, const float *src, void *dst,
    int64_t n);

/* IQ4_NL / IQ4_XS code values, and MXFP4's e2m1 values doubled (the
 * E8M0 scale is halved to match: quant_e8m0_half()). */
extern const int8_t quant_kvalues_iq4nl[16];
extern const int8_t quant_kvalues_mxfp4[16];

/* 2^(e - 128): half of the E8M0 scale, as ggml's E8M0_TO_FP32_HALF. */
static inline float
quant_e8m0_half(uint8_t e)
{
	uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
	float f;

	memcpy(&f, &bits, sizeof f);
	return f;
}

/* Half -> float, exact (a branchy inline version of util_fp16_to_f32). */
static inline float
quant_h2f(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, em = h & 0x7fffu;
	uint32_t bits;
	float f;

	if (em < 0x400) {
		f = (float)em * 0x1p-24f;
		return sign ? -f : f;
	}
	if (em >= 0x7c00)
		bits = sign | 0x7f800000u | ((em & 0x3ffu) << 13);
	else
		bits = sign | ((em << 13) + 0x38000000u);
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* 6-bit scale and min j of a Q4_K / Q5_K block. */
static inline void
quant_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
	if (j < 4) {
		*d = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
	}
}

/* The 16 6-bit scales of a Q3_K block, unbiased (-32..31). */
static inline void
quant_q3k_scales(const uint8_t *s, int8_t *out)
{
	int j;

	for (j = 0; j < 16; j++) {
		int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
		int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;

		out[j] = (int8_t)((lo | (hi << 4)) - 32);
	}
}

#endif
