/*
 * quant-avx2.c - AVX2 + FMA + F16C kernels.
 *
 * Every function carries target("avx2,fma,f16c") instead of the file
 * being built with -march: the binary still runs on any x86-64, and
 * quant-dispatch.c installs these only when CPUID reports the features.
 * The integer kernels (32-blocks and K-quants) come from quant-simd.h,
 * compiled here with vpmaddubsw/vpmaddwd products; this file adds the
 * float ones (F32, F16, BF16: eight lanes, four accumulators).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>

#include "quant/quant-int.h"

#if defined(__x86_64__) || defined(__i386__)

#define QS_FN static __attribute__((target("avx2,fma,f16c"), unused))
#define QS_VNNI 0
#include "quant/quant-simd.h"

/* Convert 8 floats at p of the given storage type. */
QS_FN __m256
ld_f32(const void *p, int64_t i)
{
	return _mm256_loadu_ps((const float *)p + i);
}

QS_FN __m256
ld_f16(const void *p, int64_t i)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)
	    ((const uint16_t *)p + i)));
}

QS_FN __m256
ld_bf16(const void *p, int64_t i)
{
	__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)
	    ((const uint16_t *)p + i)));

	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

#define FLOAT_DOT(name, ld, scalar)					\
QS_FN float								\
name(int64_t n, const void *w, const void *x)				\
{									\
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();	\
	__m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();	\
	int64_t i = 0;							\
	float s;							\
									\
	for (; i + 32 <= n; i += 32) {					\
		a0 = _mm256_fmadd_ps(ld(w, i), ld(x, i), a0);		\
		a1 = _mm256_fmadd_ps(ld(w, i + 8), ld(x, i + 8), a1);	\
		a2 = _mm256_fmadd_ps(ld(w, i + 16), ld(x, i + 16), a2);\
		a3 = _mm256_fmadd_ps(ld(w, i + 24), ld(x, i + 24), a3);\
	}								\
	for (; i + 8 <= n; i += 8)					\
		a0 = _mm256_fmadd_ps(ld(w, i), ld(x, i), a0);		\
	s = qs_hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1),		\
	    _mm256_add_ps(a2, a3)));					\
	for (; i < n; i++)						\
		s += scalar(w, i) * scalar(x, i);			\
	return s;							\
}

QS_FN float
sc_f32(const void *p, int64_t i)
{
	return ((const float *)p)[i];
}

QS_FN float
sc_f16(const void *p, int64_t i)
{
	return _cvtsh_ss(((const uint16_t *)p)[i]);
}

QS_FN float
sc_bf16(const void *p, int64_t i)
{
	uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

FLOAT_DOT(dot_f32, ld_f32, sc_f32)
FLOAT_DOT(dot_f16, ld_f16, sc_f16)
FLOAT_DOT(dot_bf16, ld_bf16, sc_bf16)

#define FLOAT_TILE(name, dot)						\
QS_FN void								\
name(int64_t n, const void *w, size_t ws, int nr, const void *x,	\
    size_t xs, int nt, float *y, size_t ys)				\
{									\
	int r, t;							\
									\
	for (r = 0; r < nr; r++)					\
		for (t = 0; t < nt; t++)				\
			y[(size_t)t * ys + (size_t)r] = dot(n,		\
			    (const char *)w + (size_t)r * ws,		\
			    (const char *)x + (size_t)t * xs);		\
}

FLOAT_TILE(tile_f32, dot_f32)
FLOAT_TILE(tile_f16, dot_f16)
FLOAT_TILE(tile_bf16, dot_bf16)

#define FLOAT_DQ(name, ld, scalar)					\
QS_FN void								\
name(const void *src, float *dst, int64_t n)				\
{									\
	int64_t i = 0;							\
									\
	for (; i + 8 <= n; i += 8)					\
		_mm256_storeu_ps(dst + i, ld(src, i));			\
	for (; i < n; i++)						\
		dst[i] = scalar(src, i);				\
}

FLOAT_DQ(dq_f16, ld_f16, sc_f16)
FLOAT_DQ(dq_bf16, ld_bf16, sc_bf16)

void
quant_avx2_fill(struct quant_kernels *k)
{
	qs_fill_int(k);
	k->dot[GGML_TYPE_F32] = dot_f32;
	k->tile[GGML_TYPE_F32] = tile_f32;
	k->dot[GGML_TYPE_F16] = dot_f16;
	k->tile[GGML_TYPE_F16] = tile_f16;
	k->dequant[GGML_TYPE_F16] = dq_f16;
	k->dot[GGML_TYPE_BF16] = dot_bf16;
	k->tile[GGML_TYPE_BF16] = tile_bf16;
	k->dequant[GGML_TYPE_BF16] = dq_bf16;
}

#else

void
quant_avx2_fill(struct quant_kernels *k)
{
	(void)k;
}

#endif
