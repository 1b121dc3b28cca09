/*
 * quant-common.h - ggml/GGUF tensor types and quantization block layouts,
 * declared once for C and CUDA (kernels/ includes this header too).
 *
 * Type ids and block layouts are GGUF's: a file written by llama.cpp or
 * by us reads the same. Each block struct carries a static assertion on
 * its size; quant_type_info() gives the elements per block and bytes per
 * block of every id, so any GGUF can at least be inspected. Header only:
 * the formats room uses it without linking the quant room.
 */
#ifndef MOESCOPE_QUANT_COMMON_H
#define MOESCOPE_QUANT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define QC_HD __host__ __device__
#define QC_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define QC_HD
#include <assert.h>
#define QC_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

enum ggml_type {
	GGML_TYPE_F32 = 0,
	GGML_TYPE_F16 = 1,
	GGML_TYPE_Q4_0 = 2,
	GGML_TYPE_Q4_1 = 3,
	GGML_TYPE_Q5_0 = 6,
	GGML_TYPE_Q5_1 = 7,
	GGML_TYPE_Q8_0 = 8,
	GGML_TYPE_Q8_1 = 9,
	GGML_TYPE_Q2_K = 10,
	GGML_TYPE_Q3_K = 11,
	GGML_TYPE_Q4_K = 12,
	GGML_TYPE_Q5_K = 13,
	GGML_TYPE_Q6_K = 14,
	GGML_TYPE_Q8_K = 15,
	GGML_TYPE_IQ2_XXS = 16,
	GGML_TYPE_IQ2_XS = 17,
	GGML_TYPE_IQ3_XXS = 18,
	GGML_TYPE_IQ1_S = 19,
	GGML_TYPE_IQ4_NL = 20,
	GGML_TYPE_IQ3_S = 21,
	GGML_TYPE_IQ2_S = 22,
	GGML_TYPE_IQ4_XS = 23,
	GGML_TYPE_I8 = 24,
	GGML_TYPE_I16 = 25,
	GGML_TYPE_I32 = 26,
	GGML_TYPE_I64 = 27,
	GGML_TYPE_F64 = 28,
	GGML_TYPE_IQ1_M = 29,
	GGML_TYPE_BF16 = 30,
	GGML_TYPE_TQ1_0 = 34,
	GGML_TYPE_TQ2_0 = 35,
	GGML_TYPE_MXFP4 = 39,
	GGML_TYPE_COUNT = 40
};

#define QK4_0	32
#define QK4_1	32
#define QK5_0	32
#define QK5_1	32
#define QK8_0	32
#define QK8_1	32
#define QK4_NL	32
#define QK_MXFP4 32
#define QK_K	256
#define K_SCALE_SIZE 12

typedef uint16_t qc_half;	/* IEEE binary16 bits */

typedef struct { qc_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { qc_half d, m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { qc_half d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { qc_half d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; }
    block_q5_1;
typedef struct { qc_half d; int8_t qs[QK8_0]; } block_q8_0;
typedef struct { qc_half d, s; int8_t qs[QK8_1]; } block_q8_1;
typedef struct {
	uint8_t	scales[QK_K / 16];	/* 4-bit scales and mins */
	uint8_t	qs[QK_K / 4];		/* 2-bit quants */
	qc_half	d, dmin;
} block_q2_K;
typedef struct {
	uint8_t	hmask[QK_K / 8];	/* high bit */
	uint8_t	qs[QK_K / 4];		/* low 2 bits */
	uint8_t	scales[12];		/* 6-bit scales */
	qc_half	d;
} block_q3_K;
typedef struct {
	qc_half	d, dmin;
	uint8_t	scales[K_SCALE_SIZE];	/* 6-bit scales and mins */
	uint8_t	qs[QK_K / 2];
} block_q4_K;
typedef struct {
	qc_half	d, dmin;
	uint8_t	scales[K_SCALE_SIZE];
	uint8_t	qh[QK_K / 8];
	uint8_t	qs[QK_K / 2];
} block_q5_K;
typedef struct {
	uint8_t	ql[QK_K / 2];		/* low 4 bits */
	uint8_t	qh[QK_K / 4];		/* high 2 bits */
	int8_t	scales[QK_K / 16];	/* 8-bit scales */
	qc_half	d;
} block_q6_K;
typedef struct {
	float	d;
	int8_t	qs[QK_K];
	int16_t	bsums[QK_K / 16];	/* sums of groups of 16 */
} block_q8_K;
typedef struct { qc_half d; uint16_t qs[QK_K / 8]; } block_iq2_xxs;
typedef struct { qc_half d; uint16_t qs[QK_K / 8]; uint8_t scales[QK_K / 32]; }
    block_iq2_xs;
typedef struct {
	qc_half d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32];
	uint8_t scales[QK_K / 32];
} block_iq2_s;
typedef struct { qc_half d; uint8_t qs[3 * QK_K / 8]; } block_iq3_xxs;
typedef struct {
	qc_half d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32];
	uint8_t signs[QK_K / 8]; uint8_t scales[QK_K / 64];
} block_iq3_s;
typedef struct { qc_half d; uint8_t qs[QK_K / 8]; uint16_t qh[QK_K / 32]; }
    block_iq1_s;
typedef struct { uint8_t qs[QK_K / 8]; uint8_t qh[QK_K / 16];
	uint8_t scales[QK_K / 32]; } block_iq1_m;
typedef struct { qc_half d; uint8_t qs[QK4_NL / 2]; } block_iq4_nl;
typedef struct {
	qc_half d; uint16_t scales_h; uint8_t scales_l[QK_K / 64];
	uint8_t qs[QK_K / 2];
} block_iq4_xs;
typedef struct { uint8_t qs[(QK_K - 4 * QK_K / 64) / 5];
	uint8_t qh[QK_K / 64]; qc_half d; } block_tq1_0;
typedef struct { uint8_t qs[QK_K / 4]; qc_half d; } block_tq2_0;
typedef struct { uint8_t e; uint8_t qs[QK_MXFP4 / 2]; } block_mxfp4;

QC_STATIC_ASSERT(sizeof(block_q4_0) == 18, "q4_0 size");
QC_STATIC_ASSERT(sizeof(block_q4_1) == 20, "q4_1 size");
QC_STATIC_ASSERT(sizeof(block_q5_0) == 22, "q5_0 size");
QC_STATIC_ASSERT(sizeof(block_q5_1) == 24, "q5_1 size");
QC_STATIC_ASSERT(sizeof(block_q8_0) == 34, "q8_0 size");
QC_STATIC_ASSERT(sizeof(block_q8_1) == 36, "q8_1 size");
QC_STATIC_ASSERT(sizeof(block_q2_K) == 84, "q2_K size");
QC_STATIC_ASSERT(sizeof(block_q3_K) == 110, "q3_K size");
QC_STATIC_ASSERT(sizeof(block_q4_K) == 144, "q4_K size");
QC_STATIC_ASSERT(sizeof(block_q5_K) == 176, "q5_K size");
QC_STATIC_ASSERT(sizeof(block_q6_K) == 210, "q6_K size");
QC_STATIC_ASSERT(sizeof(block_q8_K) == 292, "q8_K size");
QC_STATIC_ASSERT(sizeof(block_iq2_xxs) == 66, "iq2_xxs size");
QC_STATIC_ASSERT(sizeof(block_iq2_xs) == 74, "iq2_xs size");
QC_STATIC_ASSERT(sizeof(block_iq2_s) == 82, "iq2_s size");
QC_STATIC_ASSERT(sizeof(block_iq3_xxs) == 98, "iq3_xxs size");
QC_STATIC_ASSERT(sizeof(block_iq3_s) == 110, "iq3_s size");
QC_STATIC_ASSERT(sizeof(block_iq1_s) == 50, "iq1_s size");
QC_STATIC_ASSERT(sizeof(block_iq1_m) == 56, "iq1_m size");
QC_STATIC_ASSERT(sizeof(block_iq4_nl) == 18, "iq4_nl size");
QC_STATIC_ASSERT(sizeof(block_iq4_xs) == 136, "iq4_xs size");
QC_STATIC_ASSERT(sizeof(block_tq1_0) == 54, "tq1_0 size");
QC_STATIC_ASSERT(sizeof(block_tq2_0) == 66, "tq2_0 size");
QC_STATIC_ASSERT(sizeof(block_mxfp4) == 17, "mxfp4 size");

/* Name, elements per block and bytes per block of a type id (C only:
 * C++ has no designated array initializers; kernels/ does not need it). */
#if !defined(__cplusplus)
struct quant_type_info {
	const char	*name;		/* NULL: no such type id */
	uint32_t	 blck;
	uint32_t	 size;
};

static inline const struct quant_type_info *
quant_type_info(int type)
{
	static const struct quant_type_info t[GGML_TYPE_COUNT] = {
		[GGML_TYPE_F32] = { "F32", 1, 4 },
		[GGML_TYPE_F16] = { "F16", 1, 2 },
		[GGML_TYPE_Q4_0] = { "Q4_0", QK4_0, sizeof(block_q4_0) },
		[GGML_TYPE_Q4_1] = { "Q4_1", QK4_1, sizeof(block_q4_1) },
		[GGML_TYPE_Q5_0] = { "Q5_0", QK5_0, sizeof(block_q5_0) },
		[GGML_TYPE_Q5_1] = { "Q5_1", QK5_1, sizeof(block_q5_1) },
		[GGML_TYPE_Q8_0] = { "Q8_0", QK8_0, sizeof(block_q8_0) },
		[GGML_TYPE_Q8_1] = { "Q8_1", QK8_1, sizeof(block_q8_1) },
		[GGML_TYPE_Q2_K] = { "Q2_K", QK_K, sizeof(block_q2_K) },
		[GGML_TYPE_Q3_K] = { "Q3_K", QK_K, sizeof(block_q3_K) },
		[GGML_TYPE_Q4_K] = { "Q4_K", QK_K, sizeof(block_q4_K) },
		[GGML_TYPE_Q5_K] = { "Q5_K", QK_K, sizeof(block_q5_K) },
		[GGML_TYPE_Q6_K] = { "Q6_K", QK_K, sizeof(block_q6_K) },
		[GGML_TYPE_Q8_K] = { "Q8_K", QK_K, sizeof(block_q8_K) },
		[GGML_TYPE_IQ2_XXS] = { "IQ2_XXS", QK_K, sizeof(block_iq2_xxs) },
		[GGML_TYPE_IQ2_XS] = { "IQ2_XS", QK_K, sizeof(block_iq2_xs) },
		[GGML_TYPE_IQ3_XXS] = { "IQ3_XXS", QK_K, sizeof(block_iq3_xxs) },
		[GGML_TYPE_IQ1_S] = { "IQ1_S", QK_K, sizeof(block_iq1_s) },
		[GGML_TYPE_IQ4_NL] = { "IQ4_NL", QK4_NL, sizeof(block_iq4_nl) },
		[GGML_TYPE_IQ3_S] = { "IQ3_S", QK_K, sizeof(block_iq3_s) },
		[GGML_TYPE_IQ2_S] = { "IQ2_S", QK_K, sizeof(block_iq2_s) },
		[GGML_TYPE_IQ4_XS] = { "IQ4_XS", QK_K, sizeof(block_iq4_xs) },
		[GGML_TYPE_I8] = { "I8", 1, 1 },
		[GGML_TYPE_I16] = { "I16", 1, 2 },
		[GGML_TYPE_I32] = { "I32", 1, 4 },
		[GGML_TYPE_I64] = { "I64", 1, 8 },
		[GGML_TYPE_F64] = { "F64", 1, 8 },
		[GGML_TYPE_IQ1_M] = { "IQ1_M", QK_K, sizeof(block_iq1_m) },
		[GGML_TYPE_BF16] = { "BF16", 1, 2 },
		[GGML_TYPE_TQ1_0] = { "TQ1_0", QK_K, sizeof(block_tq1_0) },
		[GGML_TYPE_TQ2_0] = { "TQ2_0", QK_K, sizeof(block_tq2_0) },
		[GGML_TYPE_MXFP4] = { "MXFP4", QK_MXFP4, sizeof(block_mxfp4) },
	};

	if (type < 0 || type >= GGML_TYPE_COUNT || t[type].name == NULL)
		return NULL;
	return &t[type];
}
#endif

#endif
