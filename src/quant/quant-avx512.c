/*
 * quant-avx512.c - AVX-512 kernels (F, BW, VL, DQ; VNNI and BF16 where
 * the CPU has them).
 *
 * As in quant-avx2.c, every function carries its target attribute, so
 * the file is built without -march and its code only runs after
 * quant-dispatch.c has seen the features in CPUID. What this level adds
 * over AVX2:
 *   - the integer kernels of quant-simd.h compiled for AVX-512VL + VNNI:
 *     32-block products with vpdpbusd, 32 vector registers (installed
 *     only when VNNI is present; otherwise the AVX2 ones stay);
 *   - one-token products of the 32-blocks (Q4_0, Q4_1, Q5_0, Q5_1,
 *     Q8_0, IQ4_NL, MXFP4) with 512-bit vpdpbusd, two blocks per
 *     instruction;
 *   - F32 and F16 products sixteen lanes wide; BF16 with vdpbf16ps
 *     (AVX512-BF16) or, without it, by widening to F32.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>

#include "quant/quant-int.h"

#if defined(__x86_64__) || defined(__i386__)

#define QS_FN static __attribute__((target( \
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"), unused))
#define QS_VNNI 1
#include "quant/quant-simd.h"

#define Z_FN static __attribute__((target( \
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"), unused))
#define ZB_FN static __attribute__((target( \
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"), \
	unused))

Z_FN __m512
z_f32(const void *p, int64_t i)
{
	return _mm512_loadu_ps((const float *)p + i);
}

Z_FN __m512
z_f16(const void *p, int64_t i)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)
	    ((const uint16_t *)p + i)));
}

Z_FN __m512
z_bf16(const void *p, int64_t i)
{
	__m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)
	    ((const uint16_t *)p + i)));

	return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

Z_FN float
zs_f32(const void *p, int64_t i)
{
	return ((const float *)p)[i];
}

Z_FN float
zs_f16(const void *p, int64_t i)
{
	return _cvtsh_ss(((const uint16_t *)p)[i]);
}

Z_FN float
zs_bf16(const void *p, int64_t i)
{
	uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

#define Z_DOT(name, ld, scalar)						\
Z_FN float								\
name(int64_t n, const void *w, const void *x)				\
{									\
	__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();	\
	__m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();	\
	int64_t i = 0;							\
	float s;							\
									\
	for (; i + 64 <= n; i += 64) {					\
		a0 = _mm512_fmadd_ps(ld(w, i), ld(x, i), a0);		\
		a1 = _mm512_fmadd_ps(ld(w, i + 16), ld(x, i + 16), a1);\
		a2 = _mm512_fmadd_ps(ld(w, i + 32), ld(x, i + 32), a2);\
		a3 = _mm512_fmadd_ps(ld(w, i + 48), ld(x, i + 48), a3);\
	}								\
	for (; i + 16 <= n; i += 16)					\
		a0 = _mm512_fmadd_ps(ld(w, i), ld(x, i), a0);		\
	s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1),	\
	    _mm512_add_ps(a2, a3)));					\
	for (; i < n; i++)						\
		s += scalar(w, i) * scalar(x, i);			\
	return s;							\
}

Z_DOT(z_dot_f32, z_f32, zs_f32)
Z_DOT(z_dot_f16, z_f16, zs_f16)
Z_DOT(z_dot_bf16, z_bf16, zs_bf16)

/* BF16 pairs with vdpbf16ps: 32 products per instruction. */
ZB_FN float
z_dot_bf16_dp(int64_t n, const void *w, const void *x)
{
	const uint16_t *a = w, *b = x;
	__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
	int64_t i = 0;
	float s;

	for (; i + 64 <= n; i += 64) {
		a0 = _mm512_dpbf16_ps(a0,
		    (__m512bh)_mm512_loadu_si512(a + i),
		    (__m512bh)_mm512_loadu_si512(b + i));
		a1 = _mm512_dpbf16_ps(a1,
		    (__m512bh)_mm512_loadu_si512(a + i + 32),
		    (__m512bh)_mm512_loadu_si512(b + i + 32));
	}
	for (; i + 32 <= n; i += 32)
		a0 = _mm512_dpbf16_ps(a0,
		    (__m512bh)_mm512_loadu_si512(a + i),
		    (__m512bh)_mm512_loadu_si512(b + i));
	s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
	for (; i < n; i++)
		s += zs_bf16(w, i) * zs_bf16(x, i);
	return s;
}

/*
 * 32-blocks, two per 512-bit vpdpbusd: each block is unpacked to signed
 * bytes by quant-simd.h's loader, the halves joined, |w| . sign(y, w).
 */
#define Z_B32(name, blk, has_m)						\
QS_FN float								\
z_fdot_##name(int64_t n, const void *w, const void *x)			\
{									\
	const block_q8_0 *y0 = x;					\
	const block_q8_1 *y1 = x;					\
	__m512 acc = _mm512_setzero_ps();				\
	int64_t i, nb = n / 32;						\
	float d0, m0, d1, m1, ms = 0, s;				\
									\
	for (i = 0; i + 1 < nb; i += 2) {				\
		__m256i wa = qs_ld_##name(w, i, &d0, &m0);		\
		__m256i wb = qs_ld_##name(w, i + 1, &d1, &m1);		\
		const int8_t *ya = has_m ? y1[i].qs : y0[i].qs;		\
		const int8_t *yb = has_m ? y1[i + 1].qs : y0[i + 1].qs;	\
		uint16_t ha = has_m ? y1[i].d : y0[i].d;		\
		uint16_t hb = has_m ? y1[i + 1].d : y0[i + 1].d;	\
		__m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(wa),\
		    wb, 1);						\
		__m512i yv = _mm512_inserti64x4(_mm512_castsi256_si512(	\
		    _mm256_loadu_si256((const __m256i *)ya)),		\
		    _mm256_loadu_si256((const __m256i *)yb), 1);	\
		__mmask64 neg = _mm512_movepi8_mask(wv);		\
		__m512i sy = _mm512_mask_sub_epi8(yv, neg,		\
		    _mm512_setzero_si512(), yv);			\
		__m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(),	\
		    _mm512_abs_epi8(wv), sy);				\
		__m512 dv = _mm512_insertf32x8(_mm512_set1_ps(d0 *	\
		    qs_h2f(ha)), _mm256_set1_ps(d1 * qs_h2f(hb)), 1);	\
									\
		acc = _mm512_fmadd_ps(dv, _mm512_cvtepi32_ps(p), acc);	\
		if (has_m)						\
			ms += m0 * qs_h2f(y1[i].s) +			\
			    m1 * qs_h2f(y1[i + 1].s);			\
	}								\
	s = _mm512_reduce_add_ps(acc) + ms;				\
	if (i < nb)							\
		s += qs_fdot_##name(32, (const blk *)w + i, has_m ?	\
		    (const void *)(y1 + i) : (const void *)(y0 + i));	\
	return s;							\
}									\
QS_FN void								\
z_tile_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	int r;								\
									\
	if (nt != 1) {							\
		qs_tile_##name(n, w, ws, nr, x, xs, nt, y, ys);		\
		return;							\
	}								\
	for (r = 0; r < nr; r++)					\
		y[r] = z_fdot_##name(n, (const char *)w + (size_t)r * ws,\
		    x);							\
}

Z_B32(q4_0, block_q4_0, 0)
Z_B32(q4_1, block_q4_1, 1)
Z_B32(q5_0, block_q5_0, 0)
Z_B32(q5_1, block_q5_1, 1)
Z_B32(q8_0, block_q8_0, 0)
Z_B32(iq4_nl, block_iq4_nl, 0)
Z_B32(mxfp4, block_mxfp4, 0)

#define Z_TILE(name, dot)						\
Z_FN void								\
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

Z_TILE(z_tile_f32, z_dot_f32)
Z_TILE(z_tile_f16, z_dot_f16)
Z_TILE(z_tile_bf16, z_dot_bf16)

ZB_FN void
z_tile_bf16_dp(int64_t n, const void *w, size_t ws, int nr, const void *x,
    size_t xs, int nt, float *y, size_t ys)
{
	int r, t;

	for (r = 0; r < nr; r++)
		for (t = 0; t < nt; t++)
			y[(size_t)t * ys + (size_t)r] = z_dot_bf16_dp(n,
			    (const char *)w + (size_t)r * ws,
			    (const char *)x + (size_t)t * xs);
}

void
quant_avx512_fill(struct quant_kernels *k, int vnni, int bf16)
{
	k->dot[GGML_TYPE_F32] = z_dot_f32;
	k->tile[GGML_TYPE_F32] = z_tile_f32;
	k->dot[GGML_TYPE_F16] = z_dot_f16;
	k->tile[GGML_TYPE_F16] = z_tile_f16;
	k->dot[GGML_TYPE_BF16] = bf16 ? z_dot_bf16_dp : z_dot_bf16;
	k->tile[GGML_TYPE_BF16] = bf16 ? z_tile_bf16_dp : z_tile_bf16;
	if (vnni) {
		qs_fill_int(k);
#define Z_SET(T, name) do {						\
	k->dot[GGML_TYPE_##T] = z_fdot_##name;				\
	k->tile[GGML_TYPE_##T] = z_tile_##name;				\
} while (0)
		Z_SET(Q4_0, q4_0);
		Z_SET(Q4_1, q4_1);
		Z_SET(Q5_0, q5_0);
		Z_SET(Q5_1, q5_1);
		Z_SET(Q8_0, q8_0);
		Z_SET(IQ4_NL, iq4_nl);
		Z_SET(MXFP4, mxfp4);
#undef Z_SET
	}
}

#else

void
quant_avx512_fill(struct quant_kernels *k, int vnni, int bf16)
{
	(void)k;
	(void)vnni;
	(void)bf16;
}

#endif
