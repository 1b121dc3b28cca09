/*
 * quant.h - the quant room: dequantization, quantization and dot products
 * for every weight type the engine reads, with a plain reference version
 * of each and AVX2 / AVX-512 versions picked at run time by CPUID.
 *
 * Products follow ggml's scheme: activations are first quantized to the
 * weight type's "vec_dot type" (Q8_0 for the 32-blocks, Q8_K for the
 * K-quants, F32 for F32, ...), then each weight row is dotted with them.
 * That is what llama.cpp's CPU backend does, so our logits for quantized
 * models match its logits closely, not only within quantization noise.
 *
 * quant uses util only.
 */
#ifndef MOESCOPE_QUANT_H
#define MOESCOPE_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "quant/quant-common.h"

/* Which implementation the dispatchers use. */
enum quant_isa {
	QUANT_ISA_REF = 0,	/* plain C */
	QUANT_ISA_AVX2,		/* AVX2 + FMA + F16C */
	QUANT_ISA_AVX512	/* AVX-512 F/BW/VL/DQ (+VNNI, BF16 if there) */
};

/*
 * Detect the CPU once and select kernels; called by the first use of any
 * dispatcher. quant_set_isa() forces a level (tests compare each level
 * with QUANT_ISA_REF); it returns the level actually in force, which is
 * never above what the CPU supports.
 */
enum quant_isa quant_isa(void);
enum quant_isa quant_set_isa(enum quant_isa isa);
const char *quant_isa_name(enum quant_isa isa);

/* True when the engine can compute with weights of this type. */
int quant_supported(int type);

/* The type activations are quantized to before a product with type's
 * weights (e.g. Q8_0 for Q4_0, Q8_K for Q4_K, F32 for F32). */
int quant_vec_dot_type(int type);

/* Bytes of a row of n elements; ERR_RANGE when n is not a multiple of the
 * block size or the size overflows. */
int quant_row_bytes(int type, int64_t n, size_t *bytes);

/* Row of n elements -> float. n is a multiple of the block size (an
 * unsupported type or a partial block gives zeros, never a crash). */
void quant_dequant_row(int type, const void *src, float *dst, int64_t n);

/* float -> row of n elements (reference rounding, as ggml's
 * quantize_row_*_ref). Types: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1
 * Q2_K..Q6_K Q8_K MXFP4. Returns ERR_UNSUPPORTED for others, ERR_RANGE
 * when n is not a multiple of the block size. */
int quant_quantize_row(int type, const float *src, void *dst, int64_t n);

/*
 * float -> activation row of n elements of type (a vec_dot type: F32,
 * F16, BF16, Q8_0, Q8_1, Q8_K), rounded exactly as llama.cpp's x86 CPU
 * backend rounds activations before its products (which for Q8_0 and
 * Q8_1 is not quantize_row_*_ref: see quant-quantize.c). The engine uses
 * this, not quant_quantize_row(), on activations. ERR_UNSUPPORTED for
 * other types, ERR_RANGE when n is not a multiple of the block size.
 */
int quant_quantize_act(int type, const float *src, void *dst, int64_t n);

/* Dot product of a weight row (type) with activations already quantized
 * to quant_vec_dot_type(type); n elements (0 for an unsupported type or
 * a partial block). */
float quant_vec_dot(int type, int64_t n, const void *w, const void *x);

/*
 * Y[t][r] = dot(W row r, X[t]) for r in [r0, r1), t in [0, ntok).
 * W: rows of n elements of type, row stride w_stride bytes.
 * X: ntok activation rows quantized to quant_vec_dot_type(type), row
 *    stride x_stride bytes.
 * Y: float, row stride y_stride floats (one row per token).
 * The engine splits [0, rows) across its threads; the kernel tiles rows
 * and tokens so each weight row is read once per call. Only Y[t][r0..r1)
 * is written (zeros for an unsupported type or partial block). No
 * allocation; safe to call from several threads at once.
 */
void quant_matmul(int type, int64_t n, const void *w, size_t w_stride,
    int64_t r0, int64_t r1, const void *x, size_t x_stride, int ntok,
    float *y, size_t y_stride);

/*
 * y[i] += a * x[i] for n floats (attention's weighted sum of value rows).
 * The SIMD levels fuse the multiply-add, so results may differ from the
 * reference in the last bit.
 */
void quant_axpy_f32(int64_t n, float a, const float *x, float *y);
/* The same with x in F16 (an F16 KV cache's value rows). */
void quant_axpy_f16(int64_t n, float a, const uint16_t *x, float *y);

/* The reference (plain C) versions, for tests. */
void quant_dequant_row_ref(int type, const void *src, float *dst, int64_t n);
float quant_vec_dot_ref(int type, int64_t n, const void *w, const void *x);
void quant_axpy_f32_ref(int64_t n, float a, const float *x, float *y);
void quant_axpy_f16_ref(int64_t n, float a, const uint16_t *x, float *y);

#endif
