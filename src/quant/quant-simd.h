/*
 * quant-simd.h - the 256-bit integer kernels, written once and compiled
 * twice: by quant-avx2.c (target AVX2+FMA+F16C, products with
 * vpmaddubsw + vpmaddwd) and by quant-avx512.c (target AVX-512 F/BW/VL +
 * VNNI, products of the 32-blocks with vpdpbusd, 32 vector registers).
 * Private to those two files; not a header anyone else includes.
 *
 * The includer defines QS_FN (storage class + target attribute of every
 * function here) and QS_VNNI (0 or 1).
 *
 * Two intermediate forms keep the number of kernels small:
 *
 *   B32  32-element blocks as signed int8 values w8[32] with a float
 *        scale d and an offset m (Q4_1/Q5_1; 0 otherwise). Q4_0, Q4_1,
 *        Q5_0, Q5_1, IQ4_NL, MXFP4 unpack to it; Q8_0 is read in place.
 *        dot = sum over blocks of d * dy * sum(w8 * y8) + m * sy.
 *   K    256-element super-blocks as unsigned levels q[256] (0..63), a
 *        scale sc[g] and a correction c[g] per group of 16, and floats
 *        d, dm, such that element = d * sc[g] * q - dm * c[g]. Q2_K (c =
 *        4-bit min), Q3_K (q + 4, c = 4 sc), Q4_K/Q5_K (c = 6-bit min,
 *        duplicated over both 16s of a 32-group) and Q6_K (q + 32,
 *        c = 32 sc) unpack to it. With Q8_K activations the correction
 *        needs only the 16 bsums: dot = dy * (d * sum_g sc[g] *
 *        sum(q * y) - dm * sum_g c[g] * bsums[g]).
 *
 * One token (decode) takes the fused qs_fdot_* kernels, which decode
 * in registers and never touch a buffer. Several tokens (prefill) take
 * the tiles: a row is unpacked one chunk (QS_CHUNK elements) at a time
 * into a stack buffer and the chunk is multiplied with the tokens four
 * at a time, so the unpacking is paid once per row and tile (K) or per
 * row and four tokens (B32), not once per token. The integer sums are
 * exact; only the float accumulation order differs from the reference.
 */

#define QS_CHUNK	2048
#define QS_CB32		(QS_CHUNK / 32)
#define QS_CK		(QS_CHUNK / QK_K)

struct qs_b32 {
	int8_t	w8[QS_CHUNK];
	float	d[QS_CB32];
	float	m[QS_CB32];
};

struct qs_k {
	uint8_t	q[QS_CHUNK];
	int16_t	sc[QS_CK * 16];
	int16_t	c[QS_CK * 16];
	float	d[QS_CK];
	float	dm[QS_CK];
};

typedef void qs_unpack_b32_fn(const void *w, int64_t nb, struct qs_b32 *u);
typedef void qs_unpack_k_fn(const void *w, int64_t nb, struct qs_k *u);

QS_FN float
qs_hsum8(__m256 v)
{
	__m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1),
	    _mm256_castps256_ps128(v));

	r = _mm_add_ps(r, _mm_movehl_ps(r, r));
	r = _mm_add_ss(r, _mm_movehdup_ps(r));
	return _mm_cvtss_f32(r);
}

QS_FN float
qs_h2f(uint16_t h)
{
	return _cvtsh_ss(h);
}

/* 32 bits -> 32 bytes, 0xFF where the bit is set. */
QS_FN __m256i
qs_bits32(const uint8_t *p)
{
	uint32_t x;
	__m256i v, sel, bit;

	memcpy(&x, p, 4);
	v = _mm256_set1_epi32((int)x);
	sel = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	    2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
	v = _mm256_and_si256(_mm256_shuffle_epi8(v, sel), bit);
	return _mm256_cmpeq_epi8(v, bit);
}

/* 16 bytes of nibbles -> 32 bytes: low nibbles first, then high. */
QS_FN __m256i
qs_nibbles(const uint8_t *p)
{
	__m128i t = _mm_loadu_si128((const __m128i *)p);
	__m128i m = _mm_set1_epi8(0xF);

	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(t, 4), m),
	    _mm_and_si128(t, m));
}

/* Code-table lookup of 32 nibbles. */
QS_FN __m256i
qs_nibbles_lut(const uint8_t *p, const int8_t *table)
{
	__m128i t = _mm_loadu_si128((const __m128i *)p);
	__m128i lut = _mm_loadu_si128((const __m128i *)table);
	__m128i m = _mm_set1_epi8(0xF);

	return _mm256_set_m128i(
	    _mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(t, 4), m)),
	    _mm_shuffle_epi8(lut, _mm_and_si128(t, m)));
}

/* Signed x signed bytes, four products per int32 lane. */
QS_FN __m256i
qs_dot_i8(__m256i w, __m256i y)
{
	__m256i aw = _mm256_sign_epi8(w, w), sy = _mm256_sign_epi8(y, w);
#if QS_VNNI
	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sy);
#else
	return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sy),
	    _mm256_set1_epi16(1));
#endif
}

/* ---------------------------------------------------------------- */
/* B32: one block into a register                                    */

QS_FN __m256i
qs_ld_q4_0(const void *w, int64_t i, float *d, float *m)
{
	const block_q4_0 *b = (const block_q4_0 *)w + i;

	*d = qs_h2f(b->d);
	*m = 0;
	return _mm256_sub_epi8(qs_nibbles(b->qs), _mm256_set1_epi8(8));
}

QS_FN __m256i
qs_ld_q4_1(const void *w, int64_t i, float *d, float *m)
{
	const block_q4_1 *b = (const block_q4_1 *)w + i;

	*d = qs_h2f(b->d);
	*m = qs_h2f(b->m);
	return qs_nibbles(b->qs);
}

QS_FN __m256i
qs_ld_q5_0(const void *w, int64_t i, float *d, float *m)
{
	const block_q5_0 *b = (const block_q5_0 *)w + i;
	__m256i hb = _mm256_and_si256(qs_bits32(b->qh),
	    _mm256_set1_epi8(0x10));

	*d = qs_h2f(b->d);
	*m = 0;
	return _mm256_sub_epi8(_mm256_or_si256(qs_nibbles(b->qs), hb),
	    _mm256_set1_epi8(16));
}

QS_FN __m256i
qs_ld_q5_1(const void *w, int64_t i, float *d, float *m)
{
	const block_q5_1 *b = (const block_q5_1 *)w + i;
	__m256i hb = _mm256_and_si256(qs_bits32(b->qh),
	    _mm256_set1_epi8(0x10));

	*d = qs_h2f(b->d);
	*m = qs_h2f(b->m);
	return _mm256_or_si256(qs_nibbles(b->qs), hb);
}

QS_FN __m256i
qs_ld_q8_0(const void *w, int64_t i, float *d, float *m)
{
	const block_q8_0 *b = (const block_q8_0 *)w + i;

	*d = qs_h2f(b->d);
	*m = 0;
	return _mm256_loadu_si256((const __m256i *)b->qs);
}

QS_FN __m256i
qs_ld_iq4_nl(const void *w, int64_t i, float *d, float *m)
{
	const block_iq4_nl *b = (const block_iq4_nl *)w + i;

	*d = qs_h2f(b->d);
	*m = 0;
	return qs_nibbles_lut(b->qs, quant_kvalues_iq4nl);
}

QS_FN __m256i
qs_ld_mxfp4(const void *w, int64_t i, float *d, float *m)
{
	const block_mxfp4 *b = (const block_mxfp4 *)w + i;

	*d = quant_e8m0_half(b->e);
	*m = 0;
	return qs_nibbles_lut(b->qs, quant_kvalues_mxfp4);
}

/* Unpacker (into a chunk buffer) and fused one-token dot per type. */
#define QS_B32_UP(name, has_m)						\
QS_FN void								\
qs_up_##name(const void *w, int64_t nb, struct qs_b32 *u)		\
{									\
	int64_t i;							\
									\
	for (i = 0; i < nb; i++)					\
		_mm256_storeu_si256((__m256i *)(u->w8 + 32 * i),	\
		    qs_ld_##name(w, i, &u->d[i], &u->m[i]));		\
}									\
QS_FN float								\
qs_fdot_##name(int64_t n, const void *w, const void *x)		\
{									\
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();	\
	int64_t i, nb = n / 32;						\
	float d0, m0, d1, m1, ms = 0;					\
									\
	if (!has_m) {							\
		const block_q8_0 *y = x;				\
									\
		for (i = 0; i + 1 < nb; i += 2) {			\
			__m256i w0 = qs_ld_##name(w, i, &d0, &m0);	\
			__m256i w1 = qs_ld_##name(w, i + 1, &d1, &m1);	\
			__m256i p0 = qs_dot_i8(w0, _mm256_loadu_si256(	\
			    (const __m256i *)y[i].qs));			\
			__m256i p1 = qs_dot_i8(w1, _mm256_loadu_si256(	\
			    (const __m256i *)y[i + 1].qs));		\
									\
			acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 *	\
			    qs_h2f(y[i].d)), _mm256_cvtepi32_ps(p0),	\
			    acc0);					\
			acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 *	\
			    qs_h2f(y[i + 1].d)), _mm256_cvtepi32_ps(p1),\
			    acc1);					\
		}							\
		for (; i < nb; i++) {					\
			__m256i w0 = qs_ld_##name(w, i, &d0, &m0);	\
			__m256i p0 = qs_dot_i8(w0, _mm256_loadu_si256(	\
			    (const __m256i *)y[i].qs));			\
									\
			acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 *	\
			    qs_h2f(y[i].d)), _mm256_cvtepi32_ps(p0),	\
			    acc0);					\
		}							\
	} else {							\
		const block_q8_1 *y = x;				\
									\
		for (i = 0; i < nb; i++) {				\
			__m256i w0 = qs_ld_##name(w, i, &d0, &m0);	\
			__m256i p0 = qs_dot_i8(w0, _mm256_loadu_si256(	\
			    (const __m256i *)y[i].qs));			\
									\
			acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 *	\
			    qs_h2f(y[i].d)), _mm256_cvtepi32_ps(p0),	\
			    acc0);					\
			ms += m0 * qs_h2f(y[i].s);			\
		}							\
	}								\
	return qs_hsum8(_mm256_add_ps(acc0, acc1)) + ms;		\
}

QS_B32_UP(q4_0, 0)
QS_B32_UP(q4_1, 1)
QS_B32_UP(q5_0, 0)
QS_B32_UP(q5_1, 1)
QS_B32_UP(q8_0, 0)
QS_B32_UP(iq4_nl, 0)
QS_B32_UP(mxfp4, 0)

/*
 * B32 tile: for each group of four tokens and each chunk, the tokens'
 * fp16 scales are converted once; then each row's chunk is unpacked once
 * and every block of it is multiplied with all four tokens (missing
 * tokens of a short group repeat the first and are discarded).
 */
QS_FN void
qs_tile_b32(qs_unpack_b32_fn *up, size_t bsz, int has_m, int64_t n,
    const void *w, size_t ws, int nr, const void *x, size_t xs, int nt,
    float *y, size_t ys)
{
	struct qs_b32 u;
	float yd[4][QS_CB32], ysum[4][QS_CB32], out[QUANT_TILE_R][4];
	const int8_t *yq[4];
	size_t xbsz = has_m ? sizeof(block_q8_1) : sizeof(block_q8_0);
	size_t qoff = has_m ? offsetof(block_q8_1, qs) : offsetof(block_q8_0,
	    qs);
	int64_t nb = n / 32, c0, cn, i;
	int r, t, m, t0;

	while (nr > QUANT_TILE_R) {
		qs_tile_b32(up, bsz, has_m, n, w, ws, QUANT_TILE_R, x, xs, nt,
		    y, ys);
		w = (const char *)w + QUANT_TILE_R * ws;
		y += QUANT_TILE_R;
		nr -= QUANT_TILE_R;
	}
	for (t0 = 0; t0 < nt; t0 += 4) {
		const char *xt[4];

		m = nt - t0 < 4 ? nt - t0 : 4;
		_Pragma("GCC unroll 4")
		for (t = 0; t < 4; t++)
			xt[t] = (const char *)x +
			    (size_t)(t0 + (t < m ? t : 0)) * xs;
		memset(out, 0, sizeof out);
		for (c0 = 0; c0 < nb; c0 += cn) {
			cn = nb - c0 < QS_CB32 ? nb - c0 : QS_CB32;
			_Pragma("GCC unroll 4")
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
				__m256 acc[4];
				float ms[4] = { 0, 0, 0, 0 };

				up((const char *)w + (size_t)r * ws +
				    (size_t)c0 * bsz, cn, &u);
				_Pragma("GCC unroll 4")
				for (t = 0; t < 4; t++)
					acc[t] = _mm256_setzero_ps();
				for (i = 0; i < cn; i++) {
					__m256i wv = _mm256_loadu_si256(
					    (const __m256i *)(u.w8 + 32 * i));

					_Pragma("GCC unroll 4")
					for (t = 0; t < 4; t++) {
						__m256i p = qs_dot_i8(wv,
						    _mm256_loadu_si256(
						    (const __m256i *)(yq[t] +
						    (size_t)i * xbsz)));

						acc[t] = _mm256_fmadd_ps(
						    _mm256_set1_ps(u.d[i] *
						    yd[t][i]),
						    _mm256_cvtepi32_ps(p),
						    acc[t]);
						ms[t] += u.m[i] * ysum[t][i];
					}
				}
				_Pragma("GCC unroll 4")
				for (t = 0; t < 4; t++)
					out[r][t] += qs_hsum8(acc[t]) + ms[t];
			}
		}
		for (r = 0; r < nr; r++)
			for (t = 0; t < m; t++)
				y[(size_t)(t0 + t) * ys + (size_t)r] =
				    out[r][t];
	}
}

QS_FN void
qs_dq_b32(qs_unpack_b32_fn *up, size_t bsz, const void *w, float *dst,
    int64_t n)
{
	struct qs_b32 u;
	int64_t nb = n / 32, c0, cn, i;
	int j;

	for (c0 = 0; c0 < nb; c0 += cn) {
		cn = nb - c0 < QS_CB32 ? nb - c0 : QS_CB32;
		up((const char *)w + (size_t)c0 * bsz, cn, &u);
		for (i = 0; i < cn; i++) {
			__m256 d = _mm256_set1_ps(u.d[i]);
			__m256 m = _mm256_set1_ps(u.m[i]);
			float *o = dst + 32 * (c0 + i);

			for (j = 0; j < 32; j += 8) {
				__m128i b = _mm_loadl_epi64((const __m128i *)
				    (u.w8 + 32 * i + j));
				__m256 f = _mm256_cvtepi32_ps(
				    _mm256_cvtepi8_epi32(b));

				_mm256_storeu_ps(o + j,
				    _mm256_fmadd_ps(f, d, m));
			}
		}
	}
}

/* ---------------------------------------------------------------- */
/* K unpackers                                                       */

QS_FN void
qs_up_q2_k(const void *w, int64_t nb, struct qs_k *u)
{
	const block_q2_K *b = w;
	const __m256i m3 = _mm256_set1_epi8(3);
	int64_t i;
	int h, s, g;

	for (i = 0; i < nb; i++) {
		uint8_t *q = u->q + QK_K * i;

		for (h = 0; h < 2; h++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)
			    (b[i].qs + 32 * h));

			for (s = 0; s < 4; s++)
				_mm256_storeu_si256((__m256i *)(q + 128 * h +
				    32 * s), _mm256_and_si256(
				    _mm256_srli_epi16(v, 2 * s), m3));
		}
		for (g = 0; g < 16; g++) {
			u->sc[16 * i + g] = b[i].scales[g] & 0xF;
			u->c[16 * i + g] = b[i].scales[g] >> 4;
		}
		u->d[i] = qs_h2f(b[i].d);
		u->dm[i] = qs_h2f(b[i].dmin);
	}
}

QS_FN void
qs_up_q3_k(const void *w, int64_t nb, struct qs_k *u)
{
	const block_q3_K *b = w;
	const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	int8_t sc[16];
	int64_t i;
	int h, s, g;

	for (i = 0; i < nb; i++) {
		uint8_t *q = u->q + QK_K * i;
		__m256i hm = _mm256_loadu_si256((const __m256i *)b[i].hmask);

		for (h = 0; h < 2; h++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)
			    (b[i].qs + 32 * h));

			for (s = 0; s < 4; s++) {
				__m256i bit = _mm256_set1_epi8(
				    (char)(1 << (4 * h + s)));
				__m256i hb = _mm256_cmpeq_epi8(
				    _mm256_and_si256(hm, bit), bit);
				__m256i l = _mm256_and_si256(
				    _mm256_srli_epi16(v, 2 * s), m3);

				_mm256_storeu_si256((__m256i *)(q + 128 * h +
				    32 * s), _mm256_or_si256(l,
				    _mm256_and_si256(hb, four)));
			}
		}
		quant_q3k_scales(b[i].scales, sc);
		for (g = 0; g < 16; g++) {
			u->sc[16 * i + g] = sc[g];
			u->c[16 * i + g] = (int16_t)(4 * sc[g]);
		}
		u->d[i] = u->dm[i] = qs_h2f(b[i].d);
	}
}

/*
 * Q4_K/Q5_K scales: the 12 packed bytes to 8 6-bit scales (bytes 0..7)
 * and 8 mins (bytes 8..15) of a vector, built in registers: a trip
 * through a stack buffer costs a store-forwarding stall per block.
 */
QS_FN inline __attribute__((always_inline)) __m128i
qs_k4_vec(const uint8_t *s12)
{
	uint32_t u0, u1, u2;

	memcpy(&u0, s12, 4);
	memcpy(&u1, s12 + 4, 4);
	memcpy(&u2, s12 + 8, 4);
	return _mm_setr_epi32((int)(u0 & 0x3f3f3f3fu),
	    (int)((u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4)),
	    (int)(u1 & 0x3f3f3f3fu),
	    (int)(((u2 >> 4) & 0x0f0f0f0fu) |
	    (((u1 >> 6) & 0x03030303u) << 4)));
}

/* The 8 scales and 8 mins, each twice (one per 16 levels), as int16. */
QS_FN inline __attribute__((always_inline)) void
qs_k4_scales(const uint8_t *s12, int16_t *sc, int16_t *c)
{
	__m128i sm = qs_k4_vec(s12);
	__m256i d = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sm, sm));
	__m256i m = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));

	_mm256_storeu_si256((__m256i *)sc, d);
	_mm256_storeu_si256((__m256i *)c, m);
}

QS_FN void
qs_up_q4_k(const void *w, int64_t nb, struct qs_k *u)
{
	const block_q4_K *b = w;
	const __m256i mf = _mm256_set1_epi8(0xF);
	int64_t i;
	int j;

	for (i = 0; i < nb; i++) {
		uint8_t *q = u->q + QK_K * i;

		for (j = 0; j < 4; j++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)
			    (b[i].qs + 32 * j));

			_mm256_storeu_si256((__m256i *)(q + 64 * j),
			    _mm256_and_si256(v, mf));
			_mm256_storeu_si256((__m256i *)(q + 64 * j + 32),
			    _mm256_and_si256(_mm256_srli_epi16(v, 4), mf));
		}
		qs_k4_scales(b[i].scales, u->sc + 16 * i, u->c + 16 * i);
		u->d[i] = qs_h2f(b[i].d);
		u->dm[i] = qs_h2f(b[i].dmin);
	}
}

QS_FN void
qs_up_q5_k(const void *w, int64_t nb, struct qs_k *u)
{
	const block_q5_K *b = w;
	const __m256i mf = _mm256_set1_epi8(0xF), m16 = _mm256_set1_epi8(16);
	int64_t i;
	int j;

	for (i = 0; i < nb; i++) {
		uint8_t *q = u->q + QK_K * i;
		__m256i hv = _mm256_loadu_si256((const __m256i *)b[i].qh);

		for (j = 0; j < 4; j++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)
			    (b[i].qs + 32 * j));
			__m256i b0 = _mm256_set1_epi8((char)(1 << (2 * j)));
			__m256i b1 = _mm256_set1_epi8((char)(2 << (2 * j)));
			__m256i h0 = _mm256_and_si256(_mm256_cmpeq_epi8(
			    _mm256_and_si256(hv, b0), b0), m16);
			__m256i h1 = _mm256_and_si256(_mm256_cmpeq_epi8(
			    _mm256_and_si256(hv, b1), b1), m16);

			_mm256_storeu_si256((__m256i *)(q + 64 * j),
			    _mm256_or_si256(_mm256_and_si256(v, mf), h0));
			_mm256_storeu_si256((__m256i *)(q + 64 * j + 32),
			    _mm256_or_si256(_mm256_and_si256(
			    _mm256_srli_epi16(v, 4), mf), h1));
		}
		qs_k4_scales(b[i].scales, u->sc + 16 * i, u->c + 16 * i);
		u->d[i] = qs_h2f(b[i].d);
		u->dm[i] = qs_h2f(b[i].dmin);
	}
}

QS_FN void
qs_up_q6_k(const void *w, int64_t nb, struct qs_k *u)
{
	const block_q6_K *b = w;
	const __m256i mf = _mm256_set1_epi8(0xF), m3 = _mm256_set1_epi8(3);
	int64_t i;
	int h, g;

	for (i = 0; i < nb; i++) {
		uint8_t *q = u->q + QK_K * i;

		for (h = 0; h < 2; h++) {
			__m256i l0 = _mm256_loadu_si256((const __m256i *)
			    (b[i].ql + 64 * h));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)
			    (b[i].ql + 64 * h + 32));
			__m256i hv = _mm256_loadu_si256((const __m256i *)
			    (b[i].qh + 32 * h));
			__m256i v[4];
			int s;

			v[0] = _mm256_and_si256(l0, mf);
			v[1] = _mm256_and_si256(l1, mf);
			v[2] = _mm256_and_si256(_mm256_srli_epi16(l0, 4), mf);
			v[3] = _mm256_and_si256(_mm256_srli_epi16(l1, 4), mf);
			for (s = 0; s < 4; s++) {
				__m256i hi = _mm256_and_si256(
				    _mm256_srli_epi16(hv, 2 * s), m3);

				_mm256_storeu_si256((__m256i *)(q + 128 * h +
				    32 * s), _mm256_or_si256(v[s],
				    _mm256_slli_epi16(hi, 4)));
			}
		}
		for (g = 0; g < 16; g++) {
			u->sc[16 * i + g] = b[i].scales[g];
			u->c[16 * i + g] = (int16_t)(32 * b[i].scales[g]);
		}
		u->d[i] = u->dm[i] = qs_h2f(b[i].d);
	}
}

/* From 16 int16 scales in a register: sc[2p] in lanes 0-7, sc[2p + 1] in
 * lanes 8-15 (no trip through memory). */
QS_FN __m256i
qs_pair_scale(__m256i sc16, int p)
{
	const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
	    0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);

	return _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(sc16,
	    _mm256_set1_epi32(p)), pick);
}

/* Super-block i of an unpacked chunk . super-block j of four tokens. */
QS_FN void
qs_k_sb4(const struct qs_k *u, int64_t i, const block_q8_K *const *yt,
    int64_t j, __m256 *acc)
{
	const uint8_t *q = u->q + QK_K * i;
	__m256i sc = _mm256_loadu_si256((const __m256i *)(u->sc + 16 * i));
	__m256i c16 = _mm256_loadu_si256((const __m256i *)(u->c + 16 * i));
	__m256i isum[4];
	int p, t;

	_Pragma("GCC unroll 4")
	for (t = 0; t < 4; t++)
		isum[t] = _mm256_setzero_si256();
	_Pragma("GCC unroll 8")
	for (p = 0; p < 8; p++) {
		__m256i s16 = qs_pair_scale(sc, p);
		__m256i a = _mm256_loadu_si256((const __m256i *)(q + 32 * p));

		_Pragma("GCC unroll 4")
		for (t = 0; t < 4; t++) {
			__m256i v = _mm256_maddubs_epi16(a, _mm256_loadu_si256(
			    (const __m256i *)(yt[t][j].qs + 32 * p)));

			isum[t] = _mm256_add_epi32(isum[t],
			    _mm256_madd_epi16(v, s16));
		}
	}
	_Pragma("GCC unroll 4")
	for (t = 0; t < 4; t++) {
		const block_q8_K *b = &yt[t][j];
		__m256i cs = _mm256_madd_epi16(c16,
		    _mm256_loadu_si256((const __m256i *)b->bsums));

		acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(b->d * u->d[i]),
		    _mm256_cvtepi32_ps(isum[t]), acc[t]);
		acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(b->d * u->dm[i]),
		    _mm256_cvtepi32_ps(cs), acc[t]);
	}
}

/*
 * K tile: each row's chunk is unpacked once for all the tile's tokens
 * (at most QUANT_TILE_T); every 32 unpacked levels are loaded once per
 * four tokens, whose int32 sums stay in registers for the super-block.
 */
QS_FN void
qs_tile_k(qs_unpack_k_fn *up, size_t bsz, int64_t n, const void *w,
    size_t ws, int nr, const void *x, size_t xs, int nt, float *y,
    size_t ys)
{
	struct qs_k u;
	__m256 acc[QUANT_TILE_T];
	int64_t nb = n / QK_K, c0, cn, i;
	int r, t, m, t0;

	while (nt > QUANT_TILE_T) {
		qs_tile_k(up, bsz, n, w, ws, nr, x, xs, QUANT_TILE_T, y, ys);
		x = (const char *)x + QUANT_TILE_T * xs;
		y += QUANT_TILE_T * ys;
		nt -= QUANT_TILE_T;
	}
	for (r = 0; r < nr; r++) {
		const char *wr = (const char *)w + (size_t)r * ws;

		for (t = 0; t < nt; t++)
			acc[t] = _mm256_setzero_ps();
		for (c0 = 0; c0 < nb; c0 += cn) {
			cn = nb - c0 < QS_CK ? nb - c0 : QS_CK;
			up(wr + (size_t)c0 * bsz, cn, &u);
			for (t0 = 0; t0 < nt; t0 += 4) {
				const block_q8_K *yt[4];
				__m256 a4[4];

				m = nt - t0 < 4 ? nt - t0 : 4;
				_Pragma("GCC unroll 4")
				for (t = 0; t < 4; t++) {
					yt[t] = (const block_q8_K *)
					    ((const char *)x + (size_t)(t0 +
					    (t < m ? t : 0)) * xs);
					a4[t] = t < m ? acc[t0 + t] :
					    _mm256_setzero_ps();
				}
				for (i = 0; i < cn; i++)
					qs_k_sb4(&u, i, yt, c0 + i, a4);
				for (t = 0; t < m; t++)
					acc[t0 + t] = a4[t];
			}
		}
		for (t = 0; t < nt; t++)
			y[(size_t)t * ys + (size_t)r] = qs_hsum8(acc[t]);
	}
}

QS_FN void
qs_dq_k(qs_unpack_k_fn *up, size_t bsz, const void *w, float *dst,
    int64_t n)
{
	struct qs_k u;
	int64_t nb = n / QK_K, c0, cn, i;
	int g, j;

	for (c0 = 0; c0 < nb; c0 += cn) {
		cn = nb - c0 < QS_CK ? nb - c0 : QS_CK;
		up((const char *)w + (size_t)c0 * bsz, cn, &u);
		for (i = 0; i < cn; i++) {
			for (g = 0; g < 16; g++) {
				__m256 f = _mm256_set1_ps(u.d[i] *
				    u.sc[16 * i + g]);
				__m256 m = _mm256_set1_ps(u.dm[i] *
				    u.c[16 * i + g]);
				const uint8_t *q = u.q + QK_K * i + 16 * g;
				float *o = dst + QK_K * (c0 + i) + 16 * g;

				for (j = 0; j < 16; j += 8) {
					__m256 v = _mm256_cvtepi32_ps(
					    _mm256_cvtepu8_epi32(
					    _mm_loadl_epi64((const __m128i *)
					    (q + j))));

					_mm256_storeu_ps(o + j,
					    _mm256_fmsub_ps(v, f, m));
				}
			}
		}
	}
}

/* ---------------------------------------------------------------- */
/* Per-type entry points                                             */

#define QS_B32(name, blk, has_m)					\
QS_FN void								\
qs_tile_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	int r;								\
									\
	if (nt == 1) {							\
		for (r = 0; r < nr; r++)				\
			y[r] = qs_fdot_##name(n, (const char *)w +	\
			    (size_t)r * ws, x);				\
		return;							\
	}								\
	qs_tile_b32(qs_up_##name, sizeof(blk), has_m, n, w, ws, nr, x,	\
	    xs, nt, y, ys);						\
}									\
QS_FN void								\
qs_dq_##name(const void *w, float *dst, int64_t n)			\
{									\
	qs_dq_b32(qs_up_##name, sizeof(blk), w, dst, n);		\
}

QS_B32(q4_0, block_q4_0, 0)
QS_B32(q4_1, block_q4_1, 1)
QS_B32(q5_0, block_q5_0, 0)
QS_B32(q5_1, block_q5_1, 1)
QS_B32(q8_0, block_q8_0, 0)
QS_B32(iq4_nl, block_iq4_nl, 0)
QS_B32(mxfp4, block_mxfp4, 0)

/* ---------------------------------------------------------------- */
/* Fused one-token K dots (no chunk buffer)                          */

/* The 8 scales of qs_k4_vec() as int16 x 8. */
QS_FN inline __attribute__((always_inline)) __m128i
qs_k4_sc16(__m128i sm)
{
	return _mm_cvtepu8_epi16(sm);
}

/* sum_g min[g] * (bsums[2g] + bsums[2g+1]) lanes, as int32 x 8; the mins
 * are bytes 8..15 of qs_k4_vec(). */
QS_FN inline __attribute__((always_inline)) __m256i
qs_k4_minsum(__m128i sm, const int16_t *bsums)
{
	__m128i dup = _mm_shuffle_epi8(sm, _mm_setr_epi8(8, 8, 9, 9, 10, 10,
	    11, 11, 12, 12, 13, 13, 14, 14, 15, 15));

	return _mm256_madd_epi16(_mm256_cvtepu8_epi16(dup),
	    _mm256_loadu_si256((const __m256i *)bsums));
}

/* int16 scale k of 8 (broadcast over the vector). */
#define QS_SC16(scv, k) _mm256_shuffle_epi8(scv,			\
	_mm256_set1_epi16((short)(0x0100 + 0x0202 * (k))))

/*
 * One Q4_K or Q5_K super-block . one Q8_K block into acc: the two types
 * differ only in Q5_K's fifth bits (qh; NULL for Q4_K). Always inlined,
 * so that qh == NULL is a constant and Q4_K's code carries no trace of
 * them.
 */
QS_FN inline __attribute__((always_inline)) __m256
qs_k45_block(uint16_t d, uint16_t dmin, const uint8_t *scales,
    const uint8_t *qs, const uint8_t *qh, const block_q8_K *y, __m256 acc)
{
	const __m256i mf = _mm256_set1_epi8(0xF), m16 = _mm256_set1_epi8(16);
	__m256i isum = _mm256_setzero_si256(), scv, msum;
	__m256i hv = _mm256_setzero_si256();
	__m128i sm = qs_k4_vec(scales);
	int j;

	scv = _mm256_broadcastsi128_si256(qs_k4_sc16(sm));
	msum = qs_k4_minsum(sm, y->bsums);
	if (qh != NULL)
		hv = _mm256_loadu_si256((const __m256i *)qh);
	for (j = 0; j < 4; j++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
		__m256i lo = _mm256_and_si256(q, mf);
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mf);
		__m256i p0, p1;

		if (qh != NULL) {
			__m256i hb = _mm256_srli_epi16(hv, 2 * j);

			lo = _mm256_or_si256(lo, _mm256_and_si256(
			    _mm256_slli_epi16(hb, 4), m16));
			hi = _mm256_or_si256(hi, _mm256_and_si256(
			    _mm256_slli_epi16(hb, 3), m16));
		}
		p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256(
		    (const __m256i *)(y->qs + 64 * j)));
		p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256(
		    (const __m256i *)(y->qs + 64 * j + 32)));
		p0 = _mm256_madd_epi16(p0, QS_SC16(scv, 2 * j));
		p1 = _mm256_madd_epi16(p1, QS_SC16(scv, 2 * j + 1));
		isum = _mm256_add_epi32(isum, _mm256_add_epi32(p0, p1));
	}
	acc = _mm256_fmadd_ps(_mm256_set1_ps(y->d * qs_h2f(d)),
	    _mm256_cvtepi32_ps(isum), acc);
	return _mm256_fnmadd_ps(_mm256_set1_ps(y->d * qs_h2f(dmin)),
	    _mm256_cvtepi32_ps(msum), acc);
}

QS_FN float
qs_fdot_q4_k(int64_t n, const void *w, const void *x)
{
	const block_q4_K *a = w;
	const block_q8_K *y = x;
	__m256 acc = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;

	for (i = 0; i < nb; i++)
		acc = qs_k45_block(a[i].d, a[i].dmin, a[i].scales, a[i].qs,
		    NULL, &y[i], acc);
	return qs_hsum8(acc);
}

QS_FN float
qs_fdot_q5_k(int64_t n, const void *w, const void *x)
{
	const block_q5_K *a = w;
	const block_q8_K *y = x;
	__m256 acc = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;

	for (i = 0; i < nb; i++)
		acc = qs_k45_block(a[i].d, a[i].dmin, a[i].scales, a[i].qs,
		    a[i].qh, &y[i], acc);
	return qs_hsum8(acc);
}

QS_FN float
qs_fdot_q6_k(int64_t n, const void *w, const void *x)
{
	const block_q6_K *a = w;
	const block_q8_K *y = x;
	const __m256i mf = _mm256_set1_epi8(0xF), m3 = _mm256_set1_epi8(3);
	__m256 acc = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;
	int h, s;

	for (i = 0; i < nb; i++) {
		__m256i isum = _mm256_setzero_si256(), sc16, csum;
		float dd = y[i].d * qs_h2f(a[i].d);

		sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)
		    a[i].scales));
		csum = _mm256_madd_epi16(_mm256_slli_epi16(sc16, 5),
		    _mm256_loadu_si256((const __m256i *)y[i].bsums));
		for (h = 0; h < 2; h++) {
			__m256i l0 = _mm256_loadu_si256((const __m256i *)
			    (a[i].ql + 64 * h));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)
			    (a[i].ql + 64 * h + 32));
			__m256i hv = _mm256_loadu_si256((const __m256i *)
			    (a[i].qh + 32 * h));
			__m256i v[4];

			v[0] = _mm256_and_si256(l0, mf);
			v[1] = _mm256_and_si256(l1, mf);
			v[2] = _mm256_and_si256(_mm256_srli_epi16(l0, 4), mf);
			v[3] = _mm256_and_si256(_mm256_srli_epi16(l1, 4), mf);
			for (s = 0; s < 4; s++) {
				__m256i q, p, s2;

				q = _mm256_or_si256(v[s], _mm256_slli_epi16(
				    _mm256_and_si256(_mm256_srli_epi16(hv,
				    2 * s), m3), 4));
				p = _mm256_maddubs_epi16(q, _mm256_loadu_si256(
				    (const __m256i *)(y[i].qs + 128 * h +
				    32 * s)));
				s2 = qs_pair_scale(sc16, 4 * h + s);
				isum = _mm256_add_epi32(isum,
				    _mm256_madd_epi16(p, s2));
			}
		}
		acc = _mm256_fmadd_ps(_mm256_set1_ps(dd),
		    _mm256_cvtepi32_ps(_mm256_sub_epi32(isum, csum)), acc);
	}
	return qs_hsum8(acc);
}

QS_FN float
qs_fdot_q2_k(int64_t n, const void *w, const void *x)
{
	const block_q2_K *a = w;
	const block_q8_K *y = x;
	const __m256i m3 = _mm256_set1_epi8(3);
	__m256 acc = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;
	int h, s;

	for (i = 0; i < nb; i++) {
		__m128i raw = _mm_loadu_si128((const __m128i *)a[i].scales);
		__m256i isum = _mm256_setzero_si256(), msum, sc;
		float yd = y[i].d;

		sc = _mm256_cvtepu8_epi16(_mm_and_si128(raw,
		    _mm_set1_epi8(0xF)));
		msum = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_and_si128(
		    _mm_srli_epi16(raw, 4), _mm_set1_epi8(0xF))),
		    _mm256_loadu_si256((const __m256i *)y[i].bsums));
		for (h = 0; h < 2; h++) {
			__m256i qv = _mm256_loadu_si256((const __m256i *)
			    (a[i].qs + 32 * h));

			for (s = 0; s < 4; s++) {
				__m256i q = _mm256_and_si256(
				    _mm256_srli_epi16(qv, 2 * s), m3);
				__m256i p = _mm256_maddubs_epi16(q,
				    _mm256_loadu_si256((const __m256i *)
				    (y[i].qs + 128 * h + 32 * s)));

				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(
				    p, qs_pair_scale(sc, 4 * h + s)));
			}
		}
		acc = _mm256_fmadd_ps(_mm256_set1_ps(yd * qs_h2f(a[i].d)),
		    _mm256_cvtepi32_ps(isum), acc);
		acc = _mm256_fnmadd_ps(_mm256_set1_ps(yd * qs_h2f(a[i].dmin)),
		    _mm256_cvtepi32_ps(msum), acc);
	}
	return qs_hsum8(acc);
}

/* The 16 6-bit Q3_K scales, still biased by 32, four at a time. */
QS_FN __m128i
qs_q3k_scales(const uint8_t *s12)
{
	uint32_t u[4], t;

	memcpy(u, s12, 12);
	t = u[2];
	u[2] = ((u[0] >> 4) & 0x0f0f0f0fu) | (((t >> 4) & 0x03030303u) << 4);
	u[3] = ((u[1] >> 4) & 0x0f0f0f0fu) | (((t >> 6) & 0x03030303u) << 4);
	u[0] = (u[0] & 0x0f0f0f0fu) | ((t & 0x03030303u) << 4);
	u[1] = (u[1] & 0x0f0f0f0fu) | (((t >> 2) & 0x03030303u) << 4);
	return _mm_setr_epi32((int)u[0], (int)u[1], (int)u[2], (int)u[3]);
}

QS_FN float
qs_fdot_q3_k(int64_t n, const void *w, const void *x)
{
	const block_q3_K *a = w;
	const block_q8_K *y = x;
	const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	__m256 acc = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;
	int h, s;

	for (i = 0; i < nb; i++) {
		__m256i hm = _mm256_loadu_si256((const __m256i *)a[i].hmask);
		__m256i isum = _mm256_setzero_si256(), sc16, csum;

		sc16 = _mm256_cvtepi8_epi16(_mm_sub_epi8(qs_q3k_scales(
		    a[i].scales), _mm_set1_epi8(32)));
		csum = _mm256_madd_epi16(_mm256_slli_epi16(sc16, 2),
		    _mm256_loadu_si256((const __m256i *)y[i].bsums));
		for (h = 0; h < 2; h++) {
			__m256i qv = _mm256_loadu_si256((const __m256i *)
			    (a[i].qs + 32 * h));

			for (s = 0; s < 4; s++) {
				__m256i bit = _mm256_set1_epi8(
				    (char)(1 << (4 * h + s)));
				__m256i hb = _mm256_and_si256(_mm256_cmpeq_epi8(
				    _mm256_and_si256(hm, bit), bit), four);
				__m256i q = _mm256_or_si256(_mm256_and_si256(
				    _mm256_srli_epi16(qv, 2 * s), m3), hb);
				__m256i p = _mm256_maddubs_epi16(q,
				    _mm256_loadu_si256((const __m256i *)
				    (y[i].qs + 128 * h + 32 * s)));

				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(
				    p, qs_pair_scale(sc16, 4 * h + s)));
			}
		}
		acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * qs_h2f(a[i].d)),
		    _mm256_cvtepi32_ps(_mm256_sub_epi32(isum, csum)), acc);
	}
	return qs_hsum8(acc);
}

/* IQ4_XS: code-table lookup, signed products, one scale per 32. */
QS_FN float
qs_fdot_iq4_xs(int64_t n, const void *w, const void *x)
{
	const block_iq4_xs *a = w;
	const block_q8_K *y = x;
	__m256 acc = _mm256_setzero_ps();
	int64_t i, nb = n / QK_K;
	int ib;

	for (i = 0; i < nb; i++) {
		__m256i isum = _mm256_setzero_si256();

		for (ib = 0; ib < 8; ib++) {
			int ls = (((a[i].scales_l[ib / 2] >> (4 * (ib % 2))) &
			    0xF) | (((a[i].scales_h >> (2 * ib)) & 3) << 4)) -
			    32;
			__m256i v = qs_nibbles_lut(a[i].qs + 16 * ib,
			    quant_kvalues_iq4nl);
			__m256i p = qs_dot_i8(v, _mm256_loadu_si256(
			    (const __m256i *)(y[i].qs + 32 * ib)));

			isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(p,
			    _mm256_set1_epi32(ls)));
		}
		acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * qs_h2f(a[i].d)),
		    _mm256_cvtepi32_ps(isum), acc);
	}
	return qs_hsum8(acc);
}

QS_FN void
qs_tile_iq4_xs(int64_t n, const void *w, size_t ws, int nr, const void *x,
    size_t xs, int nt, float *y, size_t ys)
{
	int r, t;

	for (r = 0; r < nr; r++)
		for (t = 0; t < nt; t++)
			y[(size_t)t * ys + (size_t)r] = qs_fdot_iq4_xs(n,
			    (const char *)w + (size_t)r * ws,
			    (const char *)x + (size_t)t * xs);
}

#define QS_K(name, up, blk)						\
QS_FN void								\
qs_tile_##name(int64_t n, const void *w, size_t ws, int nr,		\
    const void *x, size_t xs, int nt, float *y, size_t ys)		\
{									\
	int r;								\
									\
	if (nt == 1) {							\
		for (r = 0; r < nr; r++)				\
			y[r] = qs_fdot_##name(n, (const char *)w +	\
			    (size_t)r * ws, x);				\
		return;							\
	}								\
	qs_tile_k(up, sizeof(blk), n, w, ws, nr, x, xs, nt, y, ys);	\
}									\
QS_FN void								\
qs_dq_##name(const void *w, float *dst, int64_t n)			\
{									\
	qs_dq_k(up, sizeof(blk), w, dst, n);				\
}

QS_K(q2_k, qs_up_q2_k, block_q2_K)
QS_K(q3_k, qs_up_q3_k, block_q3_K)
QS_K(q4_k, qs_up_q4_k, block_q4_K)
QS_K(q5_k, qs_up_q5_k, block_q5_K)
QS_K(q6_k, qs_up_q6_k, block_q6_K)

/* Fill the integer kernels of a table. */
QS_FN void
qs_fill_int(struct quant_kernels *k)
{
#define QS_SET(T, name) do {						\
	k->dot[GGML_TYPE_##T] = qs_fdot_##name;				\
	k->tile[GGML_TYPE_##T] = qs_tile_##name;			\
	k->dequant[GGML_TYPE_##T] = qs_dq_##name;			\
} while (0)
	QS_SET(Q4_0, q4_0);
	QS_SET(Q4_1, q4_1);
	QS_SET(Q5_0, q5_0);
	QS_SET(Q5_1, q5_1);
	QS_SET(Q8_0, q8_0);
	QS_SET(IQ4_NL, iq4_nl);
	QS_SET(MXFP4, mxfp4);
	QS_SET(Q2_K, q2_k);
	QS_SET(Q3_K, q3_k);
	QS_SET(Q4_K, q4_k);
	QS_SET(Q5_K, q5_k);
	QS_SET(Q6_K, q6_k);
#undef QS_SET
	k->dot[GGML_TYPE_IQ4_XS] = qs_fdot_iq4_xs;
	k->tile[GGML_TYPE_IQ4_XS] = qs_tile_iq4_xs;
}
