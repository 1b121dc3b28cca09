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
 *   - one-token products of the 32-blocks with 512-bit vpdpbusd: Q5_0
 *     two blocks per step; Q4_0, Q4_1, IQ4_NL, MXFP4 and Q8_0 four
 *     blocks per step, the 4-bit codes of all four decoded by one
 *     vpshufb (Q5_1 keeps the 256-bit VNNI kernel: faster here);
 *   - Q2_K..Q6_K and IQ4_XS products 64 elements per 512-bit step (vpmaddubsw /
 *     vpmaddwd, scales spread with vpermw), for one token and for
 *     tiles of several;
 *   - F32 and F16 products sixteen lanes wide; BF16 with vdpbf16ps
 *     (AVX512-BF16) or, without it, by widening to F32; for several
 *     tokens, 4 x 4 register tiles of all three.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <stddef.h>
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
}

/*
 * 32-block tiles for several tokens: each row's chunk is unpacked once
 * per four tokens (quant-simd.h's unpackers), then four blocks at a time
 * fill two registers; their |w| and signs are taken once, and each token
 * costs two activation loads, two vpdpbusd and two FMAs whose scales
 * come from the contiguous weight and token scale arrays.
 */
/* Four tokens' activations of blocks i..i+1 (lo) or i+2..i+3 (hi). */
QS_FN __m512i
z_y2(const int8_t *b, size_t xbsz)
{
	return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(
	    (const __m256i *)b)), _mm256_loadu_si256((const __m256i *)
	    (b + xbsz)), 1);
}

/* |w| . sign(y, w) for 64 weights already split into abs and sign. */
QS_FN __m512i
z_sdot(__m512i aw, __mmask64 neg, __m512i y)
{
	return _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw,
	    _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y));
}

/*
 * One row's unpacked chunk (cn blocks) . four tokens: out4[t] gets the
 * chunk's sum. yq[t]: the tokens' first quants in the chunk; yd / ys:
 * their block scales and (Q8_1) sums, as floats.
 */
QS_FN void
z_b32_chunk(const struct qs_b32 *u, int64_t cn, const int8_t *const *yq,
    size_t xbsz, const float (*yd)[QS_CB32], const float (*ys)[QS_CB32],
    int has_m, float *out4)
{
	const __m512i s01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0,
	    1, 1, 1, 1, 1, 1, 1, 1);
	const __m512i s23 = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2,
	    3, 3, 3, 3, 3, 3, 3, 3);
	__m512 acc[4];
	__m128 msv[4];
	int64_t i;
	int t;

	_Pragma("GCC unroll 4")
	for (t = 0; t < 4; t++) {
		acc[t] = _mm512_setzero_ps();
		msv[t] = _mm_setzero_ps();
	}
	for (i = 0; i + 4 <= cn; i += 4) {
		__m512i w01 = _mm512_loadu_si512(u->w8 + 32 * i);
		__m512i w23 = _mm512_loadu_si512(u->w8 + 32 * i + 64);
		__mmask64 n01 = _mm512_movepi8_mask(w01);
		__mmask64 n23 = _mm512_movepi8_mask(w23);
		__m512i a01 = _mm512_abs_epi8(w01), a23 = _mm512_abs_epi8(w23);
		__m128 dw = _mm_loadu_ps(u->d + i), mw = _mm_loadu_ps(u->m + i);

		_Pragma("GCC unroll 4")
		for (t = 0; t < 4; t++) {
			const int8_t *b = yq[t] + (size_t)i * xbsz;
			__m512i p01 = z_sdot(a01, n01, z_y2(b, xbsz));
			__m512i p23 = z_sdot(a23, n23, z_y2(b + 2 * xbsz,
			    xbsz));
			__m512 d4 = _mm512_castps128_ps512(_mm_mul_ps(dw,
			    _mm_loadu_ps(&yd[t][i])));

			acc[t] = _mm512_fmadd_ps(_mm512_permutexvar_ps(s01, d4),
			    _mm512_cvtepi32_ps(p01), acc[t]);
			acc[t] = _mm512_fmadd_ps(_mm512_permutexvar_ps(s23, d4),
			    _mm512_cvtepi32_ps(p23), acc[t]);
			if (has_m)
				msv[t] = _mm_fmadd_ps(mw,
				    _mm_loadu_ps(&ys[t][i]), msv[t]);
		}
	}
	_Pragma("GCC unroll 4")
	for (t = 0; t < 4; t++) {
		__m128 v = _mm_add_ps(msv[t], _mm_movehl_ps(msv[t], msv[t]));

		v = _mm_add_ss(v, _mm_movehdup_ps(v));
		out4[t] = _mm512_reduce_add_ps(acc[t]) + _mm_cvtss_f32(v);
	}
	for (; i < cn; i++) {
		__m256i wv = _mm256_loadu_si256((const __m256i *)
		    (u->w8 + 32 * i));

		for (t = 0; t < 4; t++) {
			__m256i p = qs_dot_i8(wv, _mm256_loadu_si256(
			    (const __m256i *)(yq[t] + (size_t)i * xbsz)));

			out4[t] += u->d[i] * yd[t][i] *
			    qs_hsum8(_mm256_cvtepi32_ps(p)) +
			    u->m[i] * ys[t][i];
		}
	}
}

QS_FN void
z_tile_b32(qs_unpack_b32_fn *up, size_t bsz, int has_m, int64_t n,
    const void *w, size_t ws, int nr, const void *x, size_t xs, int nt,
    float *y, size_t ys)
{
	struct qs_b32 u;
	float yd[4][QS_CB32], ysum[4][QS_CB32], out[QUANT_TILE_R][4];
	float part[4];
	const int8_t *yq[4];
	size_t xbsz = has_m ? sizeof(block_q8_1) : sizeof(block_q8_0);
	size_t qoff = has_m ? offsetof(block_q8_1, qs) :
	    offsetof(block_q8_0, qs);
	int64_t nb = n / 32, c0, cn, i;
	int r, t, m, t0;

	while (nr > QUANT_TILE_R) {
		z_tile_b32(up, bsz, has_m, n, w, ws, QUANT_TILE_R, x, xs, nt,
		    y, ys);
		w = (const char *)w + QUANT_TILE_R * ws;
		y += QUANT_TILE_R;
		nr -= QUANT_TILE_R;
	}
	for (t0 = 0; t0 < nt; t0 += 4) {
		const char *xt[4];

		m = nt - t0 < 4 ? nt - t0 : 4;
		for (t = 0; t < 4; t++)
			xt[t] = (const char *)x +
			    (size_t)(t0 + (t < m ? t : 0)) * xs;
		memset(out, 0, sizeof out);
		for (c0 = 0; c0 < nb; c0 += cn) {
			cn = nb - c0 < QS_CB32 ? nb - c0 : QS_CB32;
			for (t = 0; t < 4; t++) {
				for (i = 0; i < cn; i++) {
					const char *b = xt[t] +
					    (size_t)(c0 + i) * xbsz;
					uint16_t hd, hs = 0;

					memcpy(&hd, b, 2);
					if (has_m)
						memcpy(&hs, b + 2, 2);
					yd[t][i] = qs_h2f(hd);
					ysum[t][i] = has_m ? qs_h2f(hs) : 0;
				}
				yq[t] = (const int8_t *)(xt[t] +
				    (size_t)c0 * xbsz + qoff);
			}
			for (r = 0; r < nr; r++) {
				up((const char *)w + (size_t)r * ws +
				    (size_t)c0 * bsz, cn, &u);
				z_b32_chunk(&u, cn, yq, xbsz,
				    (const float (*)[QS_CB32])yd,
				    (const float (*)[QS_CB32])ysum, has_m,
				    part);
				for (t = 0; t < 4; t++)
					out[r][t] += part[t];
			}
		}
		for (r = 0; r < nr; r++)
			for (t = 0; t < m; t++)
				y[(size_t)(t0 + t) * ys + (size_t)r] =
				    out[r][t];
	}
}

#define Z_PTILE(name, blk, has_m)					\
QS_FN void								\
z_ptile_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	z_tile_b32(qs_up_##name, sizeof(blk), has_m, n, w, ws, nr, x,	\
	    xs, nt, y, ys);						\
}

Z_PTILE(q4_0, block_q4_0, 0)
Z_PTILE(q4_1, block_q4_1, 1)
Z_PTILE(q5_0, block_q5_0, 0)
Z_PTILE(q5_1, block_q5_1, 1)
Z_PTILE(q8_0, block_q8_0, 0)
Z_PTILE(iq4_nl, block_iq4_nl, 0)
Z_PTILE(mxfp4, block_mxfp4, 0)

/* Tiles of Q5_0 and Q5_1: one token with a row dot (fdot), several
 * with z_ptile_*. */
#define Z_B32_TILE(name, fdot)						\
QS_FN void								\
z_tile_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	int r;								\
									\
	if (nt != 1) {							\
		z_ptile_##name(n, w, ws, nr, x, xs, nt, y, ys);		\
		return;							\
	}								\
	for (r = 0; r < nr; r++)					\
		y[r] = fdot(n, (const char *)w + (size_t)r * ws, x);	\
}

Z_B32(q4_0, block_q4_0, 0)
Z_B32(q4_1, block_q4_1, 1)
Z_B32(q5_0, block_q5_0, 0)
Z_B32(q8_0, block_q8_0, 0)
Z_B32(iq4_nl, block_iq4_nl, 0)
Z_B32(mxfp4, block_mxfp4, 0)
Z_B32_TILE(q5_0, z_fdot_q5_0)
Z_B32_TILE(q5_1, qs_fdot_q5_1)

/*
 * 4-bit codes, four blocks per iteration: the four 16-byte code arrays
 * fill one register, one shift/mask/vpshufb turns all 128 codes into
 * signed bytes, two qword permutes put them back in element order next
 * to two 64-byte loads of activations, and the four block scales are
 * computed as one 4-float vector. kind: 0 fp16 d (Q4_0, IQ4_NL), 1 E8M0
 * (MXFP4), 2 fp16 d and m with unsigned codes (Q4_1 . Q8_1), 3 int8
 * values loaded as they are (Q8_0).
 */
static float z_e8m0[256];

static const int8_t z_lut_q4_0[16] = {
	-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7
};
static const int8_t z_lut_u4[16] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

/* Unaligned little-endian 16-bit load. */
#define Z_U16(p) ((short)((p)[0] | ((p)[1] << 8)))

/* Always inlined so that block sizes and kind are constants. */
static inline __attribute__((always_inline, target(
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
float
z_dot_4bit(int64_t nb, const uint8_t *w, size_t wsz, size_t wq,
    const int8_t *lut, int kind, const uint8_t *x, size_t xsz, size_t xq)
{
	const __m512i mf = _mm512_set1_epi8(0xF);
	const __m512i l512 = _mm512_broadcast_i32x4(_mm_loadu_si128(
	    (const __m128i *)lut));
	const __m512i i01 = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
	const __m512i i23 = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
	const __m512i s01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0,
	    1, 1, 1, 1, 1, 1, 1, 1);
	const __m512i s23 = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2,
	    3, 3, 3, 3, 3, 3, 3, 3);
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	__m128 accm = _mm_setzero_ps();
	int64_t i;

	for (i = 0; i + 4 <= nb; i += 4) {
		const uint8_t *b = w + (size_t)i * wsz;
		const uint8_t *y = x + (size_t)i * xsz;
		__m512i q, lo, hi, w01, w23, y01, y23, p01, p23;
		__m128 d4, yd4;

		if (kind == 3) {
			w01 = _mm512_inserti64x4(_mm512_castsi256_si512(
			    _mm256_loadu_si256((const __m256i *)(b + wq))),
			    _mm256_loadu_si256((const __m256i *)
			    (b + wsz + wq)), 1);
			w23 = _mm512_inserti64x4(_mm512_castsi256_si512(
			    _mm256_loadu_si256((const __m256i *)
			    (b + 2 * wsz + wq))), _mm256_loadu_si256(
			    (const __m256i *)(b + 3 * wsz + wq)), 1);
		} else {
			q = _mm512_castsi128_si512(_mm_loadu_si128(
			    (const __m128i *)(b + wq)));
			q = _mm512_inserti32x4(q, _mm_loadu_si128(
			    (const __m128i *)(b + wsz + wq)), 1);
			q = _mm512_inserti32x4(q, _mm_loadu_si128(
			    (const __m128i *)(b + 2 * wsz + wq)), 2);
			q = _mm512_inserti32x4(q, _mm_loadu_si128(
			    (const __m128i *)(b + 3 * wsz + wq)), 3);
			lo = _mm512_shuffle_epi8(l512, _mm512_and_si512(q, mf));
			hi = _mm512_shuffle_epi8(l512, _mm512_and_si512(
			    _mm512_srli_epi16(q, 4), mf));
			w01 = _mm512_permutex2var_epi64(lo, i01, hi);
			w23 = _mm512_permutex2var_epi64(lo, i23, hi);
		}
		y01 = _mm512_inserti64x4(_mm512_castsi256_si512(
		    _mm256_loadu_si256((const __m256i *)(y + xq))),
		    _mm256_loadu_si256((const __m256i *)(y + xsz + xq)), 1);
		y23 = _mm512_inserti64x4(_mm512_castsi256_si512(
		    _mm256_loadu_si256((const __m256i *)(y + 2 * xsz + xq))),
		    _mm256_loadu_si256((const __m256i *)(y + 3 * xsz + xq)), 1);
		if (kind == 2) {
			p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w01,
			    y01);
			p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w23,
			    y23);
		} else {
			__mmask64 n01 = _mm512_movepi8_mask(w01);
			__mmask64 n23 = _mm512_movepi8_mask(w23);

			p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
			    _mm512_abs_epi8(w01), _mm512_mask_sub_epi8(y01, n01,
			    _mm512_setzero_si512(), y01));
			p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
			    _mm512_abs_epi8(w23), _mm512_mask_sub_epi8(y23, n23,
			    _mm512_setzero_si512(), y23));
		}
		yd4 = _mm_cvtph_ps(_mm_setr_epi16(Z_U16(y), Z_U16(y + xsz),
		    Z_U16(y + 2 * xsz), Z_U16(y + 3 * xsz), 0, 0, 0, 0));
		if (kind == 1)
			d4 = _mm_setr_ps(z_e8m0[b[0]], z_e8m0[b[wsz]],
			    z_e8m0[b[2 * wsz]], z_e8m0[b[3 * wsz]]);
		else
			d4 = _mm_cvtph_ps(_mm_setr_epi16(Z_U16(b),
			    Z_U16(b + wsz), Z_U16(b + 2 * wsz),
			    Z_U16(b + 3 * wsz), 0, 0, 0, 0));
		if (kind == 2)
			accm = _mm_fmadd_ps(_mm_cvtph_ps(_mm_setr_epi16(
			    Z_U16(b + 2), Z_U16(b + wsz + 2),
			    Z_U16(b + 2 * wsz + 2), Z_U16(b + 3 * wsz + 2),
			    0, 0, 0, 0)), _mm_cvtph_ps(_mm_setr_epi16(
			    Z_U16(y + 2), Z_U16(y + xsz + 2),
			    Z_U16(y + 2 * xsz + 2), Z_U16(y + 3 * xsz + 2),
			    0, 0, 0, 0)), accm);
		d4 = _mm_mul_ps(d4, yd4);
		acc0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(s01,
		    _mm512_castps128_ps512(d4)), _mm512_cvtepi32_ps(p01), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(s23,
		    _mm512_castps128_ps512(d4)), _mm512_cvtepi32_ps(p23), acc1);
	}
	accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
	accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) +
	    _mm_cvtss_f32(accm);
}

/* Four blocks at a time, the rest (fewer than four) with Z_B32's. */
#define Z_4BIT(name, blk, yblk, lut, kind)				\
QS_FN float								\
z_fdot4_##name(int64_t n, const void *w, const void *x)		\
{									\
	int64_t nb = n / 32, n4 = nb & ~(int64_t)3;			\
	float s;							\
									\
	s = z_dot_4bit(n4, w, sizeof(blk), offsetof(blk, qs), lut,	\
	    kind, x, sizeof(yblk), offsetof(yblk, qs));			\
	if (n4 < nb)							\
		s += z_fdot_##name(32 * (nb - n4), (const blk *)w + n4,	\
		    (const yblk *)x + n4);				\
	return s;							\
}									\
QS_FN void								\
z_tile4_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	int r;								\
									\
	if (nt != 1) {							\
		z_ptile_##name(n, w, ws, nr, x, xs, nt, y, ys);		\
		return;							\
	}								\
	for (r = 0; r < nr; r++)					\
		y[r] = z_fdot4_##name(n, (const char *)w +		\
		    (size_t)r * ws, x);					\
}

Z_4BIT(q4_0, block_q4_0, block_q8_0, z_lut_q4_0, 0)
Z_4BIT(iq4_nl, block_iq4_nl, block_q8_0, quant_kvalues_iq4nl, 0)
Z_4BIT(mxfp4, block_mxfp4, block_q8_0, quant_kvalues_mxfp4, 1)
Z_4BIT(q4_1, block_q4_1, block_q8_1, z_lut_u4, 2)
Z_4BIT(q8_0, block_q8_0, block_q8_0, z_lut_u4, 3)

/*
 * K-quants, one token, 64 elements per 512-bit step: Q4_K/Q5_K's low
 * and high nibbles of 32 bytes are the 64 consecutive elements the
 * activations hold, and Q6_K's four 32-element planes pair up the same
 * way; scales go to 16-bit lanes with one vpermw per step.
 */
QS_FN __m512i
z_k4_step(__m512i qz, const int8_t *y, __m512i scv, int j)
{
	const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0,
	    0x00010001, 0x00010001, 0x00010001, 0x00010001, 0x00010001,
	    0x00010001, 0x00010001, 0x00010001);
	__m512i sc = _mm512_permutexvar_epi16(_mm512_add_epi16(idx,
	    _mm512_set1_epi16((short)(2 * j))), scv);

	return _mm512_madd_epi16(_mm512_maddubs_epi16(qz,
	    _mm512_loadu_si512(y)), sc);
}

/* One Q4_K or Q5_K super-block (qh: Q5_K's fifth bits, NULL for Q4_K;
 * always inlined, as qs_k45_block) . one Q8_K block into acc and the
 * mins' correction into accm. */
static inline __attribute__((always_inline, target(
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
void
z_k45_block(uint16_t d, uint16_t dmin, const uint8_t *scales,
    const uint8_t *qs, const uint8_t *qh, const block_q8_K *y, __m512 *acc,
    __m256 *accm)
{
	const __m512i mf = _mm512_set1_epi8(0xF), m16 = _mm512_set1_epi8(16);
	const __m512i sh4 = _mm512_inserti64x4(_mm512_setzero_si512(),
	    _mm256_set1_epi16(4), 1);
	__m512i isum = _mm512_setzero_si512(), scv;
	__m256i hv = _mm256_setzero_si256();
	__m128i sm = qs_k4_vec(scales);
	int j;

	scv = _mm512_castsi128_si512(qs_k4_sc16(sm));
	*accm = _mm256_fmadd_ps(_mm256_set1_ps(y->d * qs_h2f(dmin)),
	    _mm256_cvtepi32_ps(qs_k4_minsum(sm, y->bsums)), *accm);
	if (qh != NULL)
		hv = _mm256_loadu_si256((const __m256i *)qh);
	_Pragma("GCC unroll 4")
	for (j = 0; j < 4; j++) {
		/* the 32 bytes in both halves, the upper shifted down a
		 * nibble: low levels, then high */
		__m512i qz = _mm512_and_si512(_mm512_srlv_epi16(
		    _mm512_broadcast_i64x4(_mm256_loadu_si256(
		    (const __m256i *)(qs + 32 * j))), sh4), mf);

		if (qh != NULL) {
			/* low half: bit 2j of qh to bit 4, high: 2j + 1 */
			__m256i hb = _mm256_srli_epi16(hv, 2 * j);
			__m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(
			    _mm256_slli_epi16(hb, 4)), _mm256_slli_epi16(hb, 3),
			    1);

			qz = _mm512_or_si512(qz, _mm512_and_si512(hz, m16));
		}
		isum = _mm512_add_epi32(isum, z_k4_step(qz, y->qs + 64 * j,
		    scv, j));
	}
	*acc = _mm512_fmadd_ps(_mm512_set1_ps(y->d * qs_h2f(d)),
	    _mm512_cvtepi32_ps(isum), *acc);
}

QS_FN float
z_fdot_q4_k(int64_t n, const void *w, const void *x)
{
	const block_q4_K *a = w;
	const block_q8_K *y = x;
	__m512 acc = _mm512_setzero_ps();
	__m256 accm = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;

	for (i = 0; i < nb; i++)
		z_k45_block(a[i].d, a[i].dmin, a[i].scales, a[i].qs, NULL,
		    &y[i], &acc, &accm);
	return _mm512_reduce_add_ps(acc) - qs_hsum8(accm);
}

QS_FN float
z_fdot_q5_k(int64_t n, const void *w, const void *x)
{
	const block_q5_K *a = w;
	const block_q8_K *y = x;
	__m512 acc = _mm512_setzero_ps();
	__m256 accm = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;

	for (i = 0; i < nb; i++)
		z_k45_block(a[i].d, a[i].dmin, a[i].scales, a[i].qs, a[i].qh,
		    &y[i], &acc, &accm);
	return _mm512_reduce_add_ps(acc) - qs_hsum8(accm);
}

QS_FN float
z_fdot_q6_k(int64_t n, const void *w, const void *x)
{
	const block_q6_K *a = w;
	const block_q8_K *y = x;
	const __m512i mf = _mm512_set1_epi8(0xF), m3 = _mm512_set1_epi8(3);
	const __m512i sh01 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
	const __m512i sh23 = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);
	/* 16-bit lane k of a step takes group 4 * step + k / 8 */
	const __m512i g0 = _mm512_setr_epi32(0, 0, 0, 0, 0x00010001,
	    0x00010001, 0x00010001, 0x00010001, 0x00020002, 0x00020002,
	    0x00020002, 0x00020002, 0x00030003, 0x00030003, 0x00030003,
	    0x00030003);
	__m512 acc = _mm512_setzero_ps();
	int64_t i, nb = n / QK_K;
	int h;

	for (i = 0; i < nb; i++) {
		__m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(
		    (const __m128i *)a[i].scales));
		__m512i scv = _mm512_castsi256_si512(sc16);
		__m512i isum = _mm512_setzero_si512();
		__m256i csum = _mm256_madd_epi16(_mm256_slli_epi16(sc16, 5),
		    _mm256_loadu_si256((const __m256i *)y[i].bsums));

		for (h = 0; h < 2; h++) {
			__m512i l = _mm512_loadu_si512(a[i].ql + 64 * h);
			__m256i hv = _mm256_loadu_si256((const __m256i *)
			    (a[i].qh + 32 * h));
			__m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(
			    hv), hv, 1);
			__m512i q01 = _mm512_or_si512(_mm512_and_si512(l, mf),
			    _mm512_slli_epi16(_mm512_and_si512(
			    _mm512_srlv_epi64(hz, sh01), m3), 4));
			__m512i q23 = _mm512_or_si512(_mm512_and_si512(
			    _mm512_srli_epi16(l, 4), mf), _mm512_slli_epi16(
			    _mm512_and_si512(_mm512_srlv_epi64(hz, sh23), m3),
			    4));
			__m512i s01 = _mm512_permutexvar_epi16(_mm512_add_epi16(
			    g0, _mm512_set1_epi16((short)(8 * h))), scv);
			__m512i s23 = _mm512_permutexvar_epi16(_mm512_add_epi16(
			    g0, _mm512_set1_epi16((short)(8 * h + 4))), scv);

			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
			    _mm512_maddubs_epi16(q01, _mm512_loadu_si512(
			    y[i].qs + 128 * h)), s01));
			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
			    _mm512_maddubs_epi16(q23, _mm512_loadu_si512(
			    y[i].qs + 128 * h + 64)), s23));
		}
		isum = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(csum));
		acc = _mm512_fmadd_ps(_mm512_set1_ps(y[i].d * qs_h2f(a[i].d)),
		    _mm512_cvtepi32_ps(isum), acc);
	}
	return _mm512_reduce_add_ps(acc);
}

/* 16-bit lane k of a 64-element step of Q2_K/Q3_K/Q6_K takes the scale
 * of group 4 * step + k / 16 (plus the step's base, added by callers). */
#define Z_G0 _mm512_setr_epi32(0, 0, 0, 0, 0x00010001, 0x00010001,	\
	0x00010001, 0x00010001, 0x00020002, 0x00020002, 0x00020002,	\
	0x00020002, 0x00030003, 0x00030003, 0x00030003, 0x00030003)

QS_FN float
z_fdot_q2_k(int64_t n, const void *w, const void *x)
{
	const block_q2_K *a = w;
	const block_q8_K *y = x;
	const __m512i m3 = _mm512_set1_epi8(3);
	const __m512i sh01 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
	const __m512i sh23 = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);
	__m512 acc = _mm512_setzero_ps();
	__m256 accm = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;
	int h;

	for (i = 0; i < nb; i++) {
		__m128i raw = _mm_loadu_si128((const __m128i *)a[i].scales);
		__m512i scv = _mm512_zextsi256_si512(_mm256_cvtepu8_epi16(
		    _mm_and_si128(raw, _mm_set1_epi8(0xF))));
		__m256i msum = _mm256_madd_epi16(_mm256_cvtepu8_epi16(
		    _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0xF))),
		    _mm256_loadu_si256((const __m256i *)y[i].bsums));
		__m512i isum = _mm512_setzero_si512();
		float yd = y[i].d;

		for (h = 0; h < 2; h++) {
			__m256i qv = _mm256_loadu_si256((const __m256i *)
			    (a[i].qs + 32 * h));
			__m512i qz = _mm512_inserti64x4(_mm512_castsi256_si512(
			    qv), qv, 1);
			__m512i q01 = _mm512_and_si512(_mm512_srlv_epi64(qz,
			    sh01), m3);
			__m512i q23 = _mm512_and_si512(_mm512_srlv_epi64(qz,
			    sh23), m3);
			__m512i s01 = _mm512_permutexvar_epi16(_mm512_add_epi16(
			    Z_G0, _mm512_set1_epi16((short)(8 * h))), scv);
			__m512i s23 = _mm512_permutexvar_epi16(_mm512_add_epi16(
			    Z_G0, _mm512_set1_epi16((short)(8 * h + 4))), scv);

			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
			    _mm512_maddubs_epi16(q01, _mm512_loadu_si512(
			    y[i].qs + 128 * h)), s01));
			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
			    _mm512_maddubs_epi16(q23, _mm512_loadu_si512(
			    y[i].qs + 128 * h + 64)), s23));
		}
		acc = _mm512_fmadd_ps(_mm512_set1_ps(yd * qs_h2f(a[i].d)),
		    _mm512_cvtepi32_ps(isum), acc);
		accm = _mm256_fmadd_ps(_mm256_set1_ps(yd * qs_h2f(a[i].dmin)),
		    _mm256_cvtepi32_ps(msum), accm);
	}
	return _mm512_reduce_add_ps(acc) - qs_hsum8(accm);
}

QS_FN float
z_fdot_q3_k(int64_t n, const void *w, const void *x)
{
	const block_q3_K *a = w;
	const block_q8_K *y = x;
	const __m512i m3 = _mm512_set1_epi8(3), m1 = _mm512_set1_epi8(1);
	const __m512i sh01 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
	const __m512i sh23 = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);
	__m512 acc = _mm512_setzero_ps();
	int64_t i, nb = n / QK_K;
	int h;

	for (i = 0; i < nb; i++) {
		__m256i sc16 = _mm256_cvtepi8_epi16(_mm_sub_epi8(qs_q3k_scales(
		    a[i].scales), _mm_set1_epi8(32)));
		__m512i scv = _mm512_zextsi256_si512(sc16);
		__m256i csum = _mm256_madd_epi16(_mm256_slli_epi16(sc16, 2),
		    _mm256_loadu_si256((const __m256i *)y[i].bsums));
		__m256i hm = _mm256_loadu_si256((const __m256i *)a[i].hmask);
		__m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(hm), hm,
		    1);
		__m512i isum = _mm512_setzero_si512();

		for (h = 0; h < 2; h++) {
			__m256i qv = _mm256_loadu_si256((const __m256i *)
			    (a[i].qs + 32 * h));
			__m512i qz = _mm512_inserti64x4(_mm512_castsi256_si512(
			    qv), qv, 1);
			/* high bit of plane s of half h: bit 4h + s of hmask */
			__m512i b01 = _mm512_setr_epi64(4 * h, 4 * h, 4 * h,
			    4 * h, 4 * h + 1, 4 * h + 1, 4 * h + 1, 4 * h + 1);
			__m512i b23 = _mm512_add_epi64(b01,
			    _mm512_set1_epi64(2));
			__m512i q01 = _mm512_or_si512(_mm512_and_si512(
			    _mm512_srlv_epi64(qz, sh01), m3), _mm512_slli_epi16(
			    _mm512_and_si512(_mm512_srlv_epi64(hz, b01), m1),
			    2));
			__m512i q23 = _mm512_or_si512(_mm512_and_si512(
			    _mm512_srlv_epi64(qz, sh23), m3), _mm512_slli_epi16(
			    _mm512_and_si512(_mm512_srlv_epi64(hz, b23), m1),
			    2));
			__m512i s01 = _mm512_permutexvar_epi16(_mm512_add_epi16(
			    Z_G0, _mm512_set1_epi16((short)(8 * h))), scv);
			__m512i s23 = _mm512_permutexvar_epi16(_mm512_add_epi16(
			    Z_G0, _mm512_set1_epi16((short)(8 * h + 4))), scv);

			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
			    _mm512_maddubs_epi16(q01, _mm512_loadu_si512(
			    y[i].qs + 128 * h)), s01));
			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
			    _mm512_maddubs_epi16(q23, _mm512_loadu_si512(
			    y[i].qs + 128 * h + 64)), s23));
		}
		isum = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(csum));
		acc = _mm512_fmadd_ps(_mm512_set1_ps(y[i].d * qs_h2f(a[i].d)),
		    _mm512_cvtepi32_ps(isum), acc);
	}
	return _mm512_reduce_add_ps(acc);
}

/*
 * K tiles for several tokens: quant-simd.h's K form (unpacked levels,
 * 16 scales and corrections per super-block), 64 levels per 512-bit step
 * for four tokens at a time.
 */
QS_FN void
z_k_sb4(const struct qs_k *u, int64_t i, const block_q8_K *const *yt,
    int64_t j, __m512 *acc)
{
	const uint8_t *q = u->q + QK_K * i;
	__m512i scv = _mm512_zextsi256_si512(_mm256_loadu_si256(
	    (const __m256i *)(u->sc + 16 * i)));
	__m256i c16 = _mm256_loadu_si256((const __m256i *)(u->c + 16 * i));
	__m512i isum[4];
	int p, t;

	_Pragma("GCC unroll 4")
	for (t = 0; t < 4; t++)
		isum[t] = _mm512_setzero_si512();
	_Pragma("GCC unroll 4")
	for (p = 0; p < 4; p++) {
		__m512i sc = _mm512_permutexvar_epi16(_mm512_add_epi16(Z_G0,
		    _mm512_set1_epi16((short)(4 * p))), scv);
		__m512i a = _mm512_loadu_si512(q + 64 * p);

		_Pragma("GCC unroll 4")
		for (t = 0; t < 4; t++)
			isum[t] = _mm512_add_epi32(isum[t], _mm512_madd_epi16(
			    _mm512_maddubs_epi16(a, _mm512_loadu_si512(
			    yt[t][j].qs + 64 * p)), sc));
	}
	_Pragma("GCC unroll 4")
	for (t = 0; t < 4; t++) {
		const block_q8_K *b = &yt[t][j];
		__m512i cs = _mm512_zextsi256_si512(_mm256_madd_epi16(c16,
		    _mm256_loadu_si256((const __m256i *)b->bsums)));

		acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(b->d * u->d[i]),
		    _mm512_cvtepi32_ps(isum[t]), acc[t]);
		acc[t] = _mm512_fnmadd_ps(_mm512_set1_ps(b->d * u->dm[i]),
		    _mm512_cvtepi32_ps(cs), acc[t]);
	}
}

QS_FN void
z_tile_k(qs_unpack_k_fn *up, size_t bsz, int64_t n, const void *w,
    size_t ws, int nr, const void *x, size_t xs, int nt, float *y,
    size_t ys)
{
	struct qs_k u;
	__m512 acc[QUANT_TILE_T];
	int64_t nb = n / QK_K, c0, cn, i;
	int r, t, m, t0;

	while (nt > QUANT_TILE_T) {
		z_tile_k(up, bsz, n, w, ws, nr, x, xs, QUANT_TILE_T, y, ys);
		x = (const char *)x + QUANT_TILE_T * xs;
		y += QUANT_TILE_T * ys;
		nt -= QUANT_TILE_T;
	}
	for (r = 0; r < nr; r++) {
		const char *wr = (const char *)w + (size_t)r * ws;

		for (t = 0; t < nt; t++)
			acc[t] = _mm512_setzero_ps();
		for (c0 = 0; c0 < nb; c0 += cn) {
			cn = nb - c0 < QS_CK ? nb - c0 : QS_CK;
			up(wr + (size_t)c0 * bsz, cn, &u);
			for (t0 = 0; t0 < nt; t0 += 4) {
				const block_q8_K *yt[4];
				__m512 a4[4];

				m = nt - t0 < 4 ? nt - t0 : 4;
				_Pragma("GCC unroll 4")
				for (t = 0; t < 4; t++) {
					yt[t] = (const block_q8_K *)
					    ((const char *)x + (size_t)(t0 +
					    (t < m ? t : 0)) * xs);
					a4[t] = t < m ? acc[t0 + t] :
					    _mm512_setzero_ps();
				}
				for (i = 0; i < cn; i++)
					z_k_sb4(&u, i, yt, c0 + i, a4);
				for (t = 0; t < m; t++)
					acc[t0 + t] = a4[t];
			}
		}
		for (t = 0; t < nt; t++)
			y[(size_t)t * ys + (size_t)r] =
			    _mm512_reduce_add_ps(acc[t]);
	}
}

/*
 * K-quant GEMM with VNNI, for several tokens (prefill): the vector runs
 * over 16 tokens, not over the elements of a row. The activations of a
 * group of up to 16 tokens are transposed once per call into xr: for
 * every 4 elements, the 4 bytes of each token side by side (64 bytes).
 * Each weight row is unpacked to the K form (unsigned levels, a scale and
 * a correction per 16), and 4 of its levels broadcast against xr make one
 * vpdpbusd: 16 tokens x 4 multiply-adds into int32 lanes. Four rows share
 * each xr load. A 16-group's integer sum is scaled (vpmulld) into the
 * block's exact integer sum; the corrections take the tokens' bsums two
 * groups per vpmaddwd; the block ends in float as the tile form does
 * (dy * d * isum - dy * dm * msum). The transposition is paid once per
 * call for all rows, where the tiles unpack per four tokens.
 */
#define ZG_TOK		16
#define ZG_SLOTS	64		/* packed blocks of 16 tokens */
#define ZG_MAXB		64		/* 16384 elements a row */

/* One block of 16 tokens, transposed. */
struct zg_xb {
	int8_t	q[QK_K / 4][ZG_TOK][4];
	int16_t	bs[8][ZG_TOK][2];
	float	d[ZG_TOK];
};

static __thread struct zg_xb zg_xbuf[ZG_SLOTS] __attribute__((aligned(64)));
static __thread struct qs_k zg_ubuf[4][ZG_MAXB / QS_CK]
    __attribute__((aligned(64)));

/* nt <= 16 tokens' nb blocks into xp[0..nb). */
QS_FN inline __attribute__((always_inline)) void
zg_pack(struct zg_xb *xp, const void *x, size_t xs, int nt, int64_t nb)
{
	int64_t i;
	int t, k, g;

	for (t = 0; t < ZG_TOK; t++) {
		const block_q8_K *y = (const block_q8_K *)((const char *)x +
		    (size_t)(t < nt ? t : 0) * xs);

		for (i = 0; i < nb; i++) {
			if (t >= nt) {
				for (k = 0; k < QK_K / 4; k++)
					memset(xp[i].q[k][t], 0, 4);
				for (g = 0; g < 8; g++)
					xp[i].bs[g][t][0] =
					    xp[i].bs[g][t][1] = 0;
				xp[i].d[t] = 0;
				continue;
			}
			for (k = 0; k < QK_K / 4; k++)
				memcpy(xp[i].q[k][t], y[i].qs + 4 * k, 4);
			for (g = 0; g < 8; g++) {
				xp[i].bs[g][t][0] = y[i].bsums[2 * g];
				xp[i].bs[g][t][1] = y[i].bsums[2 * g + 1];
			}
			xp[i].d[t] = y[i].d;
		}
	}
}

/* Four rows (unpacked chunks u[0..3], block i of the chunk) times one
 * packed block of 16 tokens, into fa[0..3]. */
QS_FN inline __attribute__((always_inline)) void
zg_block4(const struct qs_k *const *u, int64_t i, const struct zg_xb *xp,
    __m512 *fa)
{
	__m512i bs[4], ms[4];
	__m512 dy = _mm512_load_ps(xp->d);
	int g, s, r;

	_Pragma("GCC unroll 4")
	for (r = 0; r < 4; r++)
		bs[r] = ms[r] = _mm512_setzero_si512();
	for (g = 0; g < 16; g++) {
		__m512i is[4];

		_Pragma("GCC unroll 4")
		for (r = 0; r < 4; r++)
			is[r] = _mm512_setzero_si512();
		_Pragma("GCC unroll 4")
		for (s = 0; s < 4; s++) {
			__m512i xv = _mm512_load_si512(xp->q[4 * g + s]);

			_Pragma("GCC unroll 4")
			for (r = 0; r < 4; r++) {
				int32_t w4;

				memcpy(&w4, u[r]->q + QK_K * i + 16 * g +
				    4 * s, 4);
				is[r] = _mm512_dpbusd_epi32(is[r],
				    _mm512_set1_epi32(w4), xv);
			}
		}
		_Pragma("GCC unroll 4")
		for (r = 0; r < 4; r++)
			bs[r] = _mm512_add_epi32(bs[r], _mm512_mullo_epi32(
			    is[r], _mm512_set1_epi32(u[r]->sc[16 * i + g])));
	}
	for (g = 0; g < 8; g++) {
		__m512i bv = _mm512_load_si512(xp->bs[g]);

		_Pragma("GCC unroll 4")
		for (r = 0; r < 4; r++) {
			uint32_t c2 = (uint16_t)u[r]->c[16 * i + 2 * g] |
			    (uint32_t)(uint16_t)u[r]->c[16 * i + 2 * g + 1] <<
			    16;

			ms[r] = _mm512_add_epi32(ms[r], _mm512_madd_epi16(bv,
			    _mm512_set1_epi32((int)c2)));
		}
	}
	_Pragma("GCC unroll 4")
	for (r = 0; r < 4; r++) {
		fa[r] = _mm512_fmadd_ps(_mm512_mul_ps(dy,
		    _mm512_set1_ps(u[r]->d[i])), _mm512_cvtepi32_ps(bs[r]),
		    fa[r]);
		fa[r] = _mm512_fnmadd_ps(_mm512_mul_ps(dy,
		    _mm512_set1_ps(u[r]->dm[i])), _mm512_cvtepi32_ps(ms[r]),
		    fa[r]);
	}
}

/*
 * The GEMM driver both weight families share: what differs is in a
 * struct zgf (unpack a chunk of a row, pack a group of tokens, one block
 * of four rows times one packed group). Rows [0, nr) times nt tokens: as
 * many groups of 16 tokens as the packed buffer holds are packed
 * together, so the weights are read once per batch of groups; each quad
 * of rows is unpacked once, whole, and passed over every group; the next
 * quad's rows are on their way to L2 while one computes (the unpack
 * would otherwise wait on memory). The driver is inlined into one
 * function per family with that family's constant struct zgf, so its
 * hooks are inlined too (called through pointers they cost the 32-block
 * kernel a quarter of its speed); a type's own unpacker stays a call.
 */
/* A weight type: its block size, unpacker and whether it has a min. */
struct zgt {
	size_t			 bsz;
	qs_unpack_k_fn		*upk;	/* K family */
	qs_unpack_b32_fn	*upb;	/* 32-block family */
	int			 has_m;	/* Q4_1/Q5_1 (Q8_1 tokens) */
};

/* A family: its shapes and hooks. */
struct zgf {
	int64_t	 belem;		/* elements of a block */
	int64_t	 cblk;		/* blocks of an unpacked chunk */
	size_t	 ustride;	/* bytes of an unpacked chunk */
	size_t	 xstride;	/* bytes of a packed block of 16 tokens */
	int64_t	 slots;		/* packed blocks the buffer holds */
	void	(*unpack)(const struct zgt *, const void *, int64_t, void *);
	void	(*pack)(const struct zgt *, void *, const void *, size_t, int,
		    int64_t);
	void	(*block4)(const struct zgt *, const void *const *, int64_t,
		    const void *, __m512 *);
};

#define ZGF_CHUNKS	8	/* a row's chunks: 16384 elements */

QS_FN inline __attribute__((always_inline)) void
zgf_rows(const struct zgf *f, const struct zgt *ty, uint8_t *ubuf,
    const uint8_t *xbuf, int64_t n, const void *w, size_t ws, int64_t nr,
    int ng, int nt, float *y, size_t ys)
{
	int64_t nb = n / f->belem, nch = (nb + f->cblk - 1) / f->cblk;
	int64_t r, c, i, cn;
	float out[4][ZG_TOK] __attribute__((aligned(64)));
	const void *u[4];
	int k, t, m, j, mt;

	for (r = 0; r < nr; r += 4) {
		m = nr - r < 4 ? (int)(nr - r) : 4;
		for (k = 0; k < 4; k++)
			for (c = 0; c < nch; c++)
				f->unpack(ty, (const char *)w + (size_t)(r +
				    (k < m ? k : 0)) * ws + (size_t)(c *
				    f->cblk) * ty->bsz, nb - c * f->cblk <
				    f->cblk ? nb - c * f->cblk : f->cblk,
				    ubuf + (size_t)(k * ZGF_CHUNKS + c) *
				    f->ustride);
		if (r + 4 < nr) {
			const char *nx = (const char *)w + (size_t)(r + 4) * ws;
			size_t nbytes = (size_t)(nr - r - 4 < 4 ? nr - r - 4 :
			    4) * ws, o;

			for (o = 0; o < nbytes; o += 64)
				_mm_prefetch(nx + o, _MM_HINT_T1);
		}
		for (j = 0; j < ng; j++) {
			__m512 fa[4];

			_Pragma("GCC unroll 4")
			for (k = 0; k < 4; k++)
				fa[k] = _mm512_setzero_ps();
			for (c = 0; c < nch; c++) {
				for (k = 0; k < 4; k++)
					u[k] = ubuf + (size_t)(k *
					    ZGF_CHUNKS + c) * f->ustride;
				cn = nb - c * f->cblk < f->cblk ?
				    nb - c * f->cblk : f->cblk;
				for (i = 0; i < cn; i++)
					f->block4(ty, u, i, xbuf +
					    (size_t)(j * nb + c * f->cblk + i) *
					    f->xstride, fa);
			}
			mt = nt - j * ZG_TOK < ZG_TOK ? nt - j * ZG_TOK :
			    ZG_TOK;
			for (k = 0; k < m; k++) {
				_mm512_store_ps(out[k], fa[k]);
				for (t = 0; t < mt; t++)
					y[(size_t)(j * ZG_TOK + t) * ys +
					    (size_t)(r + k)] = out[k][t];
			}
		}
	}
}

/* 0 when a row is longer than the buffers take (the tiles do it). */
QS_FN inline __attribute__((always_inline)) int
zgf_gemm(const struct zgf *f, const struct zgt *ty, uint8_t *ubuf,
    uint8_t *xbuf, int64_t n, const void *w, size_t ws, int64_t nr,
    const void *x, size_t xs, int nt, float *y, size_t ys)
{
	int64_t nb = n / f->belem;
	int fit, t0, ng, j, m;

	if (nb > ZGF_CHUNKS * f->cblk || nb > f->slots)
		return 0;
	fit = (int)(f->slots / nb);
	for (t0 = 0; t0 < nt; t0 += ng * ZG_TOK) {
		ng = (nt - t0 + ZG_TOK - 1) / ZG_TOK;
		if (ng > fit)
			ng = fit;
		for (j = 0; j < ng; j++) {
			m = nt - t0 - j * ZG_TOK;
			f->pack(ty, xbuf + (size_t)(j * nb) * f->xstride,
			    (const char *)x + (size_t)(t0 + j * ZG_TOK) * xs,
			    xs, m < ZG_TOK ? m : ZG_TOK, nb);
		}
		zgf_rows(f, ty, ubuf, xbuf, n, w, ws, nr, ng, nt - t0 < ng *
		    ZG_TOK ? nt - t0 : ng * ZG_TOK, y + (size_t)t0 * ys, ys);
	}
	return 1;
}

/* The K family's hooks and driver. */
QS_FN inline __attribute__((always_inline)) void
zgk_unpack(const struct zgt *ty, const void *w, int64_t nb, void *u)
{
	ty->upk(w, nb, u);
}

QS_FN inline __attribute__((always_inline)) void
zgk_pack(const struct zgt *ty, void *xp, const void *x, size_t xs, int nt,
    int64_t nb)
{
	(void)ty;
	zg_pack(xp, x, xs, nt, nb);
}

QS_FN inline __attribute__((always_inline)) void
zgk_block4(const struct zgt *ty, const void *const *u, int64_t i,
    const void *xp, __m512 *fa)
{
	(void)ty;
	zg_block4((const struct qs_k *const *)u, i, xp, fa);
}

QS_FN int
z_gemm_kfam(const struct zgt *ty, int64_t n, const void *w, size_t ws,
    int64_t nr, const void *x, size_t xs, int nt, float *y, size_t ys)
{
	static const struct zgf f = { QK_K, QS_CK, sizeof(struct qs_k),
	    sizeof(struct zg_xb), ZG_SLOTS, zgk_unpack, zgk_pack,
	    zgk_block4 };

	return zgf_gemm(&f, ty, (uint8_t *)zg_ubuf, (uint8_t *)zg_xbuf, n, w,
	    ws, nr, x, xs, nt, y, ys);
}

#define Z_KGEMM(name, blk)						\
QS_FN int								\
z_gemm_##name(int64_t n, const void *w, size_t ws, int64_t nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	const struct zgt ty = { sizeof(blk), qs_up_##name, NULL, 0 };	\
									\
	return z_gemm_kfam(&ty, n, w, ws, nr, x, xs, nt, y, ys);	\
}
Z_KGEMM(q2_k, block_q2_K)
Z_KGEMM(q3_k, block_q3_K)
Z_KGEMM(q4_k, block_q4_K)
Z_KGEMM(q5_k, block_q5_K)
Z_KGEMM(q6_k, block_q6_K)

/*
 * The same GEMM for the 32-blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL,
 * MXFP4): rows unpack to signed levels (or unsigned plus a min), stored
 * with the sign bit flipped, i.e. level + 128 as an unsigned byte, which
 * is what vpdpbusd takes; the packed tokens carry 128 * (sum of their
 * quants) per block to take the offset back out. A block ends in float
 * as the tiles do: d_w * d_x * isum (+ m_w * s_x for the min types).
 */
#define ZB_SLOTS	512		/* packed 32-blocks of 16 tokens */
#define ZB_MAXB		512		/* 16384 elements a row */

struct zb_xb {
	int8_t	q[8][ZG_TOK][4];
	int32_t	c128[ZG_TOK];		/* 128 x sum of quants */
	float	d[ZG_TOK];
	float	s[ZG_TOK];		/* Q8_1: d * sum */
};

static __thread struct zb_xb zb_xbuf[ZB_SLOTS] __attribute__((aligned(64)));
static __thread struct qs_b32 zb_ubuf[4][ZB_MAXB / QS_CB32]
    __attribute__((aligned(64)));

QS_FN inline __attribute__((always_inline)) void
zb_pack(struct zb_xb *xp, const void *x, size_t xs, int nt, int64_t nb,
    int has_m)
{
	size_t bsz = has_m ? sizeof(block_q8_1) : sizeof(block_q8_0);
	size_t qoff = has_m ? offsetof(block_q8_1, qs) :
	    offsetof(block_q8_0, qs);
	int64_t i;
	int t, k, j, sum;

	for (t = 0; t < ZG_TOK; t++)
		for (i = 0; i < nb; i++) {
			const char *b = (const char *)x + (size_t)t * xs +
			    (size_t)i * bsz;
			const int8_t *q = (const int8_t *)(b + qoff);
			uint16_t hd, hs;

			if (t >= nt) {
				for (k = 0; k < 8; k++)
					memset(xp[i].q[k][t], 0, 4);
				xp[i].c128[t] = 0;
				xp[i].d[t] = xp[i].s[t] = 0;
				continue;
			}
			sum = 0;
			for (k = 0; k < 8; k++) {
				memcpy(xp[i].q[k][t], q + 4 * k, 4);
				for (j = 0; j < 4; j++)
					sum += q[4 * k + j];
			}
			xp[i].c128[t] = 128 * sum;
			memcpy(&hd, b, 2);
			xp[i].d[t] = qs_h2f(hd);
			if (has_m) {
				memcpy(&hs, b + 2, 2);
				xp[i].s[t] = qs_h2f(hs);
			} else
				xp[i].s[t] = 0;
		}
}

/* Four rows' unpacked chunks (levels + 128), block i, times one packed
 * block of 16 tokens, into fa[0..3]. */
QS_FN inline __attribute__((always_inline)) void
zb_block4(const struct qs_b32 *const *u, int64_t i, const struct zb_xb *xp,
    int has_m, __m512 *fa)
{
	__m512i is[4];
	__m512i c128 = _mm512_load_si512(xp->c128);
	__m512 dy = _mm512_load_ps(xp->d);
	int k, r;

	_Pragma("GCC unroll 4")
	for (r = 0; r < 4; r++)
		is[r] = _mm512_setzero_si512();
	_Pragma("GCC unroll 8")
	for (k = 0; k < 8; k++) {
		__m512i xv = _mm512_load_si512(xp->q[k]);

		_Pragma("GCC unroll 4")
		for (r = 0; r < 4; r++) {
			int32_t w4;

			memcpy(&w4, u[r]->w8 + 32 * i + 4 * k, 4);
			is[r] = _mm512_dpbusd_epi32(is[r],
			    _mm512_set1_epi32(w4), xv);
		}
	}
	_Pragma("GCC unroll 4")
	for (r = 0; r < 4; r++) {
		fa[r] = _mm512_fmadd_ps(_mm512_mul_ps(dy,
		    _mm512_set1_ps(u[r]->d[i])), _mm512_cvtepi32_ps(
		    _mm512_sub_epi32(is[r], c128)), fa[r]);
		if (has_m)
			fa[r] = _mm512_fmadd_ps(_mm512_set1_ps(u[r]->m[i]),
			    _mm512_load_ps(xp->s), fa[r]);
	}
}

/* The 32-block family's hooks (unpacked levels flipped to level + 128)
 * and driver. */
QS_FN inline __attribute__((always_inline)) void
zgb_unpack(const struct zgt *ty, const void *w, int64_t nb, void *uv)
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);
	struct qs_b32 *u = uv;
	int64_t o;

	ty->upb(w, nb, u);
	for (o = 0; o < nb * 32; o += 64)
		_mm512_store_si512(u->w8 + o, _mm512_xor_si512(
		    _mm512_load_si512(u->w8 + o), flip));
}

QS_FN inline __attribute__((always_inline)) void
zgb_pack(const struct zgt *ty, void *xp, const void *x, size_t xs, int nt,
    int64_t nb)
{
	zb_pack(xp, x, xs, nt, nb, ty->has_m);
}

QS_FN inline __attribute__((always_inline)) void
zgb_block4(const struct zgt *ty, const void *const *u, int64_t i,
    const void *xp, __m512 *fa)
{
	zb_block4((const struct qs_b32 *const *)u, i, xp, ty->has_m, fa);
}

QS_FN int
z_gemm_bfam(const struct zgt *ty, int64_t n, const void *w, size_t ws,
    int64_t nr, const void *x, size_t xs, int nt, float *y, size_t ys)
{
	static const struct zgf f = { 32, QS_CB32, sizeof(struct qs_b32),
	    sizeof(struct zb_xb), ZB_SLOTS, zgb_unpack, zgb_pack,
	    zgb_block4 };

	return zgf_gemm(&f, ty, (uint8_t *)zb_ubuf, (uint8_t *)zb_xbuf, n, w,
	    ws, nr, x, xs, nt, y, ys);
}

#define Z_BGEMM(name, blk, has_m)					\
QS_FN int								\
z_gemm_##name(int64_t n, const void *w, size_t ws, int64_t nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	const struct zgt ty = { sizeof(blk), NULL, qs_up_##name, has_m };\
									\
	return z_gemm_bfam(&ty, n, w, ws, nr, x, xs, nt, y, ys);	\
}
Z_BGEMM(q4_0, block_q4_0, 0)
Z_BGEMM(q4_1, block_q4_1, 1)
Z_BGEMM(q5_0, block_q5_0, 0)
Z_BGEMM(q5_1, block_q5_1, 1)
Z_BGEMM(q8_0, block_q8_0, 0)
Z_BGEMM(iq4_nl, block_iq4_nl, 0)
Z_BGEMM(mxfp4, block_mxfp4, 0)

/* IQ4_XS, one token: two 32-groups (64 elements) per step, codes
 * through one vpshufb, signed products with vpdpbusd; the eight 6-bit
 * group scales are decoded as a vector and applied in float. */
QS_FN __m256
z_iq4xs_scales(const block_iq4_xs *b)
{
	uint32_t sl;
	__m128i lo, hi, nib, h2, ls;

	memcpy(&sl, b->scales_l, 4);
	lo = _mm_cvtsi32_si128((int)(sl & 0x0f0f0f0fu));
	hi = _mm_cvtsi32_si128((int)((sl >> 4) & 0x0f0f0f0fu));
	nib = _mm_cvtepu8_epi16(_mm_unpacklo_epi8(lo, hi));
	h2 = _mm_and_si128(_mm_srlv_epi16(_mm_set1_epi16((short)b->scales_h),
	    _mm_setr_epi16(0, 2, 4, 6, 8, 10, 12, 14)), _mm_set1_epi16(3));
	ls = _mm_sub_epi16(_mm_or_si128(nib, _mm_slli_epi16(h2, 4)),
	    _mm_set1_epi16(32));
	return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(ls));
}

QS_FN float
z_fdot_iq4_xs(int64_t n, const void *w, const void *x)
{
	const block_iq4_xs *a = w;
	const block_q8_K *y = x;
	const __m256i mf = _mm256_set1_epi8(0xF);
	const __m512i lut = _mm512_broadcast_i32x4(_mm_loadu_si128(
	    (const __m128i *)quant_kvalues_iq4nl));
	const __m512i i01 = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
	const __m512i half = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0,
	    1, 1, 1, 1, 1, 1, 1, 1);
	__m512 acc = _mm512_setzero_ps();
	int64_t i, nb = n / QK_K;
	int p;

	for (i = 0; i < nb; i++) {
		__m512 lsf = _mm512_castps256_ps512(_mm256_mul_ps(
		    z_iq4xs_scales(&a[i]), _mm256_set1_ps(y[i].d *
		    qs_h2f(a[i].d))));

		for (p = 0; p < 4; p++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)
			    (a[i].qs + 32 * p));
			__m512i qz = _mm512_permutex2var_epi64(
			    _mm512_zextsi256_si512(_mm256_and_si256(q, mf)),
			    i01, _mm512_zextsi256_si512(_mm256_and_si256(
			    _mm256_srli_epi16(q, 4), mf)));
			__m512i v = _mm512_shuffle_epi8(lut, qz);
			__m512i yv = _mm512_loadu_si512(y[i].qs + 64 * p);
			__mmask64 neg = _mm512_movepi8_mask(v);
			__m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
			    _mm512_abs_epi8(v), _mm512_mask_sub_epi8(yv, neg,
			    _mm512_setzero_si512(), yv));
			__m512 sc = _mm512_permutexvar_ps(_mm512_add_epi32(half,
			    _mm512_set1_epi32(2 * p)), lsf);

			acc = _mm512_fmadd_ps(sc, _mm512_cvtepi32_ps(d), acc);
		}
	}
	return _mm512_reduce_add_ps(acc);
}

QS_FN void
z_tile_iq4_xs(int64_t n, const void *w, size_t ws, int nr, const void *x,
    size_t xs, int nt, float *y, size_t ys)
{
	int r, t;

	for (r = 0; r < nr; r++)
		for (t = 0; t < nt; t++)
			y[(size_t)t * ys + (size_t)r] = z_fdot_iq4_xs(n,
			    (const char *)w + (size_t)r * ws,
			    (const char *)x + (size_t)t * xs);
}

#define Z_KTILE(name, blk)						\
QS_FN void								\
z_tile_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	int r;								\
									\
	if (nt != 1) {							\
		z_tile_k(qs_up_##name, sizeof(blk), n, w, ws, nr, x, xs,\
		    nt, y, ys);						\
		return;							\
	}								\
	for (r = 0; r < nr; r++)					\
		y[r] = z_fdot_##name(n, (const char *)w + (size_t)r * ws,\
		    x);							\
}

Z_KTILE(q2_k, block_q2_K)
Z_KTILE(q3_k, block_q3_K)
Z_KTILE(q4_k, block_q4_K)
Z_KTILE(q5_k, block_q5_K)
Z_KTILE(q6_k, block_q6_K)

/*
 * Float tiles for several tokens: 4 rows x 4 tokens of sums in 16
 * registers, each weight vector loaded (and widened) once for four
 * tokens; the tail of a row is a masked load. One token goes to the
 * row dots above. kind: 0 F32, 1 F16, 2 BF16.
 */
static inline __attribute__((always_inline, target(
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
__m512
z_ldf(const void *p, int64_t i, int kind, __mmask16 m)
{
	if (kind == 0)
		return _mm512_maskz_loadu_ps(m, (const float *)p + i);
	if (kind == 1)
		return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m,
		    (const uint16_t *)p + i));
	return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(
	    _mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i)), 16));
}

static inline __attribute__((always_inline, target(
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
void
z_tile_float(int kind, int64_t n, const void *w, size_t ws, int nr,
    const void *x, size_t xs, int nt, float *y, size_t ys)
{
	int r0, t0, r, t;

	for (r0 = 0; r0 < nr; r0 += 4) {
		for (t0 = 0; t0 < nt; t0 += 4) {
			const char *wp[4], *xp[4];
			__m512 acc[4][4];
			int64_t i;

			_Pragma("GCC unroll 4")
			for (r = 0; r < 4; r++) {
				wp[r] = (const char *)w + (size_t)(r0 +
				    (r0 + r < nr ? r : 0)) * ws;
				xp[r] = (const char *)x + (size_t)(t0 +
				    (t0 + r < nt ? r : 0)) * xs;
				_Pragma("GCC unroll 4")
				for (t = 0; t < 4; t++)
					acc[r][t] = _mm512_setzero_ps();
			}
			for (i = 0; i < n; i += 16) {
				__mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF :
				    (__mmask16)((1u << (n - i)) - 1);
				__m512 wv[4], xv[4];

				_Pragma("GCC unroll 4")
				for (r = 0; r < 4; r++) {
					wv[r] = z_ldf(wp[r], i, kind, m);
					xv[r] = z_ldf(xp[r], i, kind, m);
				}
				_Pragma("GCC unroll 4")
				for (r = 0; r < 4; r++) {
					_Pragma("GCC unroll 4")
					for (t = 0; t < 4; t++)
						acc[r][t] = _mm512_fmadd_ps(
						    wv[r], xv[t], acc[r][t]);
				}
			}
			_Pragma("GCC unroll 4")
			for (r = 0; r < 4; r++) {
				_Pragma("GCC unroll 4")
				for (t = 0; t < 4; t++)
					if (r0 + r < nr && t0 + t < nt)
						y[(size_t)(t0 + t) * ys +
						    (size_t)(r0 + r)] =
						    _mm512_reduce_add_ps(
						    acc[r][t]);
			}
		}
	}
}

#define Z_FTILE(name, kind, dot)					\
Z_FN void								\
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
	z_tile_float(kind, n, w, ws, nr, x, xs, nt, y, ys);		\
}

Z_FTILE(z_tile_f32, 0, z_dot_f32)
Z_FTILE(z_tile_f16, 1, z_dot_f16)
Z_FTILE(z_tile_bf16, 2, z_dot_bf16)

ZB_FN void
z_tile_bf16_dp(int64_t n, const void *w, size_t ws, int nr, const void *x,
    size_t xs, int nt, float *y, size_t ys)
{
	int r;

	if (nt != 1) {
		z_tile_bf16(n, w, ws, nr, x, xs, nt, y, ys);
		return;
	}
	for (r = 0; r < nr; r++)
		y[r] = z_dot_bf16_dp(n, (const char *)w + (size_t)r * ws, x);
}

/* y += a x: x's 16 elements as floats by LD (full) and LDM (masked). */
#define Z_AXPY(name, T, LD, LDM)					\
Z_FN void								\
name(int64_t n, float a, const T *x, float *y)				\
{									\
	__m512 av = _mm512_set1_ps(a);					\
	int64_t i;							\
	__mmask16 m;							\
									\
	for (i = 0; i + 16 <= n; i += 16)				\
		_mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, LD(x + i),	\
		    _mm512_loadu_ps(y + i)));				\
	if (i < n) {							\
		m = (__mmask16)((1u << (n - i)) - 1);			\
		_mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av,	\
		    LDM(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));	\
	}								\
}
#define Z_LD_F32(p)		_mm512_loadu_ps(p)
#define Z_LDM_F32(m, p)		_mm512_maskz_loadu_ps(m, p)
#define Z_LD_F16(p)		_mm512_cvtph_ps(_mm256_loadu_si256(	\
	(const __m256i *)(p)))
#define Z_LDM_F16(m, p)		_mm512_cvtph_ps(			\
	_mm256_maskz_loadu_epi16(m, p))
Z_AXPY(z_axpy_f32, float, Z_LD_F32, Z_LDM_F32)
Z_AXPY(z_axpy_f16, uint16_t, Z_LD_F16, Z_LDM_F16)

void
quant_avx512_fill(struct quant_kernels *k, int vnni, int bf16)
{
	int e;

	k->axpy = z_axpy_f32;
	k->axpy16 = z_axpy_f16;
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
		k->gemm[GGML_TYPE_Q2_K] = z_gemm_q2_k;
		k->gemm[GGML_TYPE_Q3_K] = z_gemm_q3_k;
		k->gemm[GGML_TYPE_Q4_K] = z_gemm_q4_k;
		k->gemm[GGML_TYPE_Q5_K] = z_gemm_q5_k;
		k->gemm[GGML_TYPE_Q6_K] = z_gemm_q6_k;
		k->gemm[GGML_TYPE_Q4_0] = z_gemm_q4_0;
		k->gemm[GGML_TYPE_Q4_1] = z_gemm_q4_1;
		k->gemm[GGML_TYPE_Q5_0] = z_gemm_q5_0;
		k->gemm[GGML_TYPE_Q5_1] = z_gemm_q5_1;
		k->gemm[GGML_TYPE_Q8_0] = z_gemm_q8_0;
		k->gemm[GGML_TYPE_IQ4_NL] = z_gemm_iq4_nl;
		k->gemm[GGML_TYPE_MXFP4] = z_gemm_mxfp4;
		Z_SET(Q5_0, q5_0);
		Z_SET(IQ4_XS, iq4_xs);
		Z_SET(Q2_K, q2_k);
		Z_SET(Q3_K, q3_k);
		Z_SET(Q4_K, q4_k);
		Z_SET(Q5_K, q5_k);
		Z_SET(Q6_K, q6_k);
		k->tile[GGML_TYPE_Q5_1] = z_tile_q5_1;
#undef Z_SET
#define Z_SET4(T, name) do {						\
	k->dot[GGML_TYPE_##T] = z_fdot4_##name;				\
	k->tile[GGML_TYPE_##T] = z_tile4_##name;			\
} while (0)
		for (e = 0; e < 256; e++)
			z_e8m0[e] = quant_e8m0_half((uint8_t)e);
		Z_SET4(Q4_0, q4_0);
		Z_SET4(Q4_1, q4_1);
		Z_SET4(IQ4_NL, iq4_nl);
		Z_SET4(MXFP4, mxfp4);
		Z_SET4(Q8_0, q8_0);
#undef Z_SET4
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
