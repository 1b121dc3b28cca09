/*
 * quant-avx2.c - AVX2 + FMA + F16C kernels.
 *
 * Every function carries target("avx2,fma,f16c") instead of the file
 * being built with -march: the binary still runs on any x86-64, and
 * quant-dispatch.c installs these only when CPUID reports the features.
 * The integer kernels (32-blocks and K-quants) come from quant-simd.h,
 * compiled here with vpmaddubsw/vpmaddwd products; this file adds the
 * float ones (F32, F16, BF16: eight lanes, four accumulators; 4 x 2
 * register tiles for several tokens) and the
 * activation quantizers (Q8_0, Q8_1, Q8_K, F16, BF16).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant/quant-int.h"
#include "util/util.h"

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

/*
 * Float tiles for several tokens: 4 rows x 2 tokens of sums in eight
 * registers (sixteen in all is the AVX2 limit), each weight vector
 * loaded and widened once for two tokens; one token goes to the row
 * dots. kind: 0 F32, 1 F16, 2 BF16.
 */
static inline __attribute__((always_inline, target("avx2,fma,f16c")))
__m256
a_ldf(const void *p, int64_t i, int kind)
{
	if (kind == 0)
		return ld_f32(p, i);
	if (kind == 1)
		return ld_f16(p, i);
	return ld_bf16(p, i);
}

static inline __attribute__((always_inline, target("avx2,fma,f16c")))
float
a_scf(const void *p, int64_t i, int kind)
{
	if (kind == 0)
		return sc_f32(p, i);
	if (kind == 1)
		return sc_f16(p, i);
	return sc_bf16(p, i);
}

static inline __attribute__((always_inline, target("avx2,fma,f16c")))
void
a_tile_float(int kind, int64_t n, const void *w, size_t ws, int nr,
    const void *x, size_t xs, int nt, float *y, size_t ys)
{
	int r0, t0, r, t;

	for (r0 = 0; r0 < nr; r0 += 4) {
		for (t0 = 0; t0 < nt; t0 += 2) {
			const char *wp[4], *xp[2];
			__m256 acc[4][2];
			float tl[4][2];
			int64_t i;

			_Pragma("GCC unroll 4")
			for (r = 0; r < 4; r++) {
				wp[r] = (const char *)w + (size_t)(r0 +
				    (r0 + r < nr ? r : 0)) * ws;
				_Pragma("GCC unroll 2")
				for (t = 0; t < 2; t++) {
					acc[r][t] = _mm256_setzero_ps();
					tl[r][t] = 0;
				}
			}
			_Pragma("GCC unroll 2")
			for (t = 0; t < 2; t++)
				xp[t] = (const char *)x + (size_t)(t0 +
				    (t0 + t < nt ? t : 0)) * xs;
			for (i = 0; i + 8 <= n; i += 8) {
				__m256 x0 = a_ldf(xp[0], i, kind);
				__m256 x1 = a_ldf(xp[1], i, kind);

				_Pragma("GCC unroll 4")
				for (r = 0; r < 4; r++) {
					__m256 wv = a_ldf(wp[r], i, kind);

					acc[r][0] = _mm256_fmadd_ps(wv, x0,
					    acc[r][0]);
					acc[r][1] = _mm256_fmadd_ps(wv, x1,
					    acc[r][1]);
				}
			}
			for (; i < n; i++)
				for (r = 0; r < 4; r++)
					for (t = 0; t < 2; t++)
						tl[r][t] += a_scf(wp[r], i,
						    kind) * a_scf(xp[t], i,
						    kind);
			_Pragma("GCC unroll 4")
			for (r = 0; r < 4; r++) {
				_Pragma("GCC unroll 2")
				for (t = 0; t < 2; t++)
					if (r0 + r < nr && t0 + t < nt)
						y[(size_t)(t0 + t) * ys +
						    (size_t)(r0 + r)] =
						    qs_hsum8(acc[r][t]) +
						    tl[r][t];
			}
		}
	}
}

#define FLOAT_TILE(name, kind, dot)					\
QS_FN void								\
name(int64_t n, const void *w, size_t ws, int nr, const void *x,	\
    size_t xs, int nt, float *y, size_t ys)				\
{									\
	int r;								\
									\
	if (nt == 1) {							\
		for (r = 0; r < nr; r++)				\
			y[r] = dot(n, (const char *)w + (size_t)r * ws, x);\
		return;							\
	}								\
	a_tile_float(kind, n, w, ws, nr, x, xs, nt, y, ys);		\
}

FLOAT_TILE(tile_f32, 0, dot_f32)
FLOAT_TILE(tile_f16, 1, dot_f16)
FLOAT_TILE(tile_bf16, 2, dot_bf16)

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

/*
 * Activation quantizers, byte for byte those of quant-quantize.c (the
 * same x86 rounding, just eight lanes at a time); t/202 compares them.
 */
QS_FN __m256
a_absmax8(const float *x, int nv)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(x));
	int j;

	for (j = 1; j < nv; j++)
		m = _mm256_max_ps(m, _mm256_andnot_ps(sign,
		    _mm256_loadu_ps(x + 8 * j)));
	return m;
}

QS_FN float
a_hmax8(__m256 m)
{
	__m128 r = _mm_max_ps(_mm256_extractf128_ps(m, 1),
	    _mm256_castps256_ps128(m));

	r = _mm_max_ps(r, _mm_movehl_ps(r, r));
	r = _mm_max_ss(r, _mm_movehdup_ps(r));
	return _mm_cvtss_f32(r);
}

/* 32 floats times id, rounded to nearest even, packed with saturation;
 * returns the sum of the (unsaturated) integers. */
QS_FN int
a_q32(const float *x, float id, int8_t *qs)
{
	__m256 mul = _mm256_set1_ps(id);
	__m256i q[4], s, p;
	__m128i h;
	int j;

	for (j = 0; j < 4; j++)
		q[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(
		    _mm256_loadu_ps(x + 8 * j), mul),
		    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]),
	    _mm256_add_epi32(q[2], q[3]));
	p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
	    _mm256_packs_epi32(q[2], q[3]));
	p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2,
	    6, 3, 7));
	_mm256_storeu_si256((__m256i *)qs, p);
	h = _mm_add_epi32(_mm256_castsi256_si128(s),
	    _mm256_extracti128_si256(s, 1));
	h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 1));
	return _mm_cvtsi128_si32(h);
}

QS_FN void
act_q8_0(const float *x, void *dst, int64_t n)
{
	block_q8_0 *y = dst;
	int64_t i;

	for (i = 0; i < n / 32; i++, x += 32) {
		float amax = a_hmax8(a_absmax8(x, 4));

		y[i].d = (uint16_t)_cvtss_sh(amax / 127.f, 0);
		a_q32(x, amax != 0.0f ? 127.f / amax : 0.0f, y[i].qs);
	}
}

QS_FN void
act_q8_1(const float *x, void *dst, int64_t n)
{
	block_q8_1 *y = dst;
	int64_t i;

	for (i = 0; i < n / 32; i++, x += 32) {
		float amax = a_hmax8(a_absmax8(x, 4)), d = amax / 127.f;
		int sum;

		y[i].d = (uint16_t)_cvtss_sh(d, 0);
		sum = a_q32(x, amax != 0.0f ? 127.f / amax : 0.0f, y[i].qs);
		y[i].s = (uint16_t)_cvtss_sh(d * (float)sum, 0);
	}
}

/* Q8_K: the signed value of largest magnitude (its first occurrence),
 * iscale = -127 / it, nearest even, at most 127, bsums of 16s. */
QS_FN void
act_q8_k(const float *x, void *dst, int64_t n)
{
	block_q8_K *y = dst;
	int64_t i;
	int j;

	for (i = 0; i < n / QK_K; i++, x += QK_K) {
		float amax = a_hmax8(a_absmax8(x, 32)), max = 0, iscale;
		__m256 mul;
		__m256i c127 = _mm256_set1_epi32(127);

		if (!(amax > 0)) {
			/* zero (or NaN) block: the reference's answer */
			quant_quantize_act_ref(GGML_TYPE_Q8_K, x, &y[i], QK_K);
			continue;
		}
		for (j = 0; j < QK_K; j++)
			if (fabsf(x[j]) == amax) {
				max = x[j];
				break;
			}
		iscale = -127.f / max;
		mul = _mm256_set1_ps(iscale);
		for (j = 0; j < QK_K; j += 32) {
			__m256i q[4], p;
			int k;

			for (k = 0; k < 4; k++)
				q[k] = _mm256_min_epi32(c127,
				    _mm256_cvtps_epi32(_mm256_round_ps(
				    _mm256_mul_ps(_mm256_loadu_ps(x + j +
				    8 * k), mul), _MM_FROUND_TO_NEAREST_INT |
				    _MM_FROUND_NO_EXC)));
			p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
			    _mm256_packs_epi32(q[2], q[3]));
			p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0,
			    4, 1, 5, 2, 6, 3, 7));
			_mm256_storeu_si256((__m256i *)(y[i].qs + j), p);
		}
		for (j = 0; j < 16; j++) {
			__m128i v = _mm_loadu_si128((const __m128i *)
			    (y[i].qs + 16 * j));
			__m256i w = _mm256_madd_epi16(_mm256_cvtepi8_epi16(v),
			    _mm256_set1_epi16(1));
			__m128i h = _mm_add_epi32(_mm256_castsi256_si128(w),
			    _mm256_extracti128_si256(w, 1));

			h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
			h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 1));
			y[i].bsums[j] = (int16_t)_mm_cvtsi128_si32(h);
		}
		y[i].d = 1 / iscale;
	}
}

/* F16 activations: vcvtps2ph, round to nearest even (NaNs may keep a
 * different payload than util_f32_to_fp16's; finite values are equal). */
QS_FN void
act_f16(const float *x, void *dst, int64_t n)
{
	uint16_t *y = dst;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(
		    _mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
	for (; i < n; i++)
		y[i] = util_f32_to_fp16(x[i]);
}

/* BF16 activations: util_f32_to_bf16's arithmetic, eight lanes. */
QS_FN void
act_bf16(const float *x, void *dst, int64_t n)
{
	const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(
	    0x7fff), absm = _mm256_set1_epi32(0x7fffffff), inf =
	    _mm256_set1_epi32(0x7f800000), quiet = _mm256_set1_epi32(0x40);
	uint16_t *y = dst;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256i u = _mm256_loadu_si256((const __m256i *)(x + i));
		__m256i r = _mm256_srli_epi32(_mm256_add_epi32(u,
		    _mm256_add_epi32(bias, _mm256_and_si256(
		    _mm256_srli_epi32(u, 16), one))), 16);
		__m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absm),
		    inf);
		__m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
		__m128i p;

		r = _mm256_blendv_epi8(r, q, nan);
		p = _mm_packus_epi32(_mm256_castsi256_si128(r),
		    _mm256_extracti128_si256(r, 1));
		_mm_storeu_si128((__m128i *)(y + i), p);
	}
	for (; i < n; i++)
		y[i] = util_f32_to_bf16(x[i]);
}

/* y += a x: x's 8 elements as floats by LD, the tail by LD1. */
#define AXPY(name, T, LD, LD1)						\
QS_FN void								\
name(int64_t n, float a, const T *x, float *y)				\
{									\
	__m256 av = _mm256_set1_ps(a);					\
	int64_t i;							\
									\
	for (i = 0; i + 8 <= n; i += 8)					\
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, LD(x + i),	\
		    _mm256_loadu_ps(y + i)));				\
	for (; i < n; i++)						\
		y[i] = fmaf(a, LD1(x[i]), y[i]);			\
}
#define LD_F32(p)	_mm256_loadu_ps(p)
#define LD1_F32(v)	(v)
#define LD_F16(p)	_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LD1_F16(v)	_cvtsh_ss(v)
AXPY(axpy_f32, float, LD_F32, LD1_F32)
AXPY(axpy_f16, uint16_t, LD_F16, LD1_F16)

void
quant_avx2_fill(struct quant_kernels *k)
{
	qs_fill_int(k);
	k->axpy = axpy_f32;
	k->axpy16 = axpy_f16;
	k->act[GGML_TYPE_Q8_0] = act_q8_0;
	k->act[GGML_TYPE_Q8_1] = act_q8_1;
	k->act[GGML_TYPE_Q8_K] = act_q8_k;
	k->act[GGML_TYPE_F16] = act_f16;
	k->act[GGML_TYPE_BF16] = act_bf16;
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
