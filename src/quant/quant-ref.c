/*
 * quant-ref.c - the reference (plain C) kernels: dequantization of every
 * weight type we read, and the dot product of each weight type with its
 * activation ("vec_dot") type.
 *
 * These are the definitions the SIMD kernels are tested against, so they
 * are written for clarity: one block at a time, integer sums per scale
 * group, then one float multiply-add per group, in the order ggml's
 * generic C kernels use. Bit layouts are GGUF's:
 *
 *   Q4_0/Q4_1/IQ4_NL/MXFP4  byte j holds element j (low nibble) and
 *                           element j + 16 (high nibble)
 *   Q5_0/Q5_1               as Q4, plus bit j of the 32-bit qh is the
 *                           fifth bit of element j
 *   Q2_K/Q3_K               per 128 elements, 32 bytes; bits 2s..2s+1 of
 *                           byte l hold element 32s + l; Q3_K's hmask bit
 *                           k of byte l is the high bit of element 32k + l
 *   Q4_K/Q5_K               per 64 elements, 32 bytes: low nibbles are
 *                           elements 0..31, high nibbles 32..63; 8 6-bit
 *                           scale/min pairs packed in 12 bytes
 *   Q6_K                    ql nibbles + qh 2-bit pairs, 16 int8 scales
 *   IQ4_XS                  8 groups of 32 with 6-bit scales, IQ4_NL codes
 *
 * No allocation, no failure: callers validate sizes.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant/quant-int.h"
#include "util/util.h"

const int8_t quant_kvalues_iq4nl[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10,
	1, 13, 25, 38, 53, 69, 89, 113
};

/* e2m1 values times two: 0 0.5 1 1.5 2 3 4 6 and their negatives. */
const int8_t quant_kvalues_mxfp4[16] = {
	0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12
};

/* ---------------------------------------------------------------- */
/* Dequantization                                                    */

static void
dq_f32(const void *src, float *dst, int64_t n)
{
	memcpy(dst, src, (size_t)n * sizeof(float));
}

static void
dq_f16(const void *src, float *dst, int64_t n)
{
	const uint16_t *s = src;
	int64_t i;

	for (i = 0; i < n; i++)
		dst[i] = quant_h2f(s[i]);
}

static void
dq_bf16(const void *src, float *dst, int64_t n)
{
	const uint16_t *s = src;
	int64_t i;

	for (i = 0; i < n; i++)
		dst[i] = util_bf16_to_f32(s[i]);
}

static void
dq_q4_0(const void *src, float *y, int64_t n)
{
	const block_q4_0 *x = src;
	int64_t i, nb = n / QK4_0;
	int j;

	for (i = 0; i < nb; i++, y += QK4_0) {
		float d = quant_h2f(x[i].d);

		for (j = 0; j < 16; j++) {
			y[j] = ((x[i].qs[j] & 0xF) - 8) * d;
			y[j + 16] = ((x[i].qs[j] >> 4) - 8) * d;
		}
	}
}

static void
dq_q4_1(const void *src, float *y, int64_t n)
{
	const block_q4_1 *x = src;
	int64_t i, nb = n / QK4_1;
	int j;

	for (i = 0; i < nb; i++, y += QK4_1) {
		float d = quant_h2f(x[i].d), m = quant_h2f(x[i].m);

		for (j = 0; j < 16; j++) {
			y[j] = (x[i].qs[j] & 0xF) * d + m;
			y[j + 16] = (x[i].qs[j] >> 4) * d + m;
		}
	}
}

static void
dq_q5_0(const void *src, float *y, int64_t n)
{
	const block_q5_0 *x = src;
	int64_t i, nb = n / QK5_0;
	uint32_t qh;
	int j;

	for (i = 0; i < nb; i++, y += QK5_0) {
		float d = quant_h2f(x[i].d);

		memcpy(&qh, x[i].qh, sizeof qh);
		for (j = 0; j < 16; j++) {
			int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;

			y[j] = (((x[i].qs[j] & 0xF) | (h0 << 4)) - 16) * d;
			y[j + 16] = (((x[i].qs[j] >> 4) | (h1 << 4)) - 16) * d;
		}
	}
}

static void
dq_q5_1(const void *src, float *y, int64_t n)
{
	const block_q5_1 *x = src;
	int64_t i, nb = n / QK5_1;
	uint32_t qh;
	int j;

	for (i = 0; i < nb; i++, y += QK5_1) {
		float d = quant_h2f(x[i].d), m = quant_h2f(x[i].m);

		memcpy(&qh, x[i].qh, sizeof qh);
		for (j = 0; j < 16; j++) {
			int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;

			y[j] = ((x[i].qs[j] & 0xF) | (h0 << 4)) * d + m;
			y[j + 16] = ((x[i].qs[j] >> 4) | (h1 << 4)) * d + m;
		}
	}
}

static void
dq_q8_0(const void *src, float *y, int64_t n)
{
	const block_q8_0 *x = src;
	int64_t i, nb = n / QK8_0;
	int j;

	for (i = 0; i < nb; i++, y += QK8_0) {
		float d = quant_h2f(x[i].d);

		for (j = 0; j < QK8_0; j++)
			y[j] = x[i].qs[j] * d;
	}
}

static void
dq_q8_1(const void *src, float *y, int64_t n)
{
	const block_q8_1 *x = src;
	int64_t i, nb = n / QK8_1;
	int j;

	for (i = 0; i < nb; i++, y += QK8_1) {
		float d = quant_h2f(x[i].d);

		for (j = 0; j < QK8_1; j++)
			y[j] = x[i].qs[j] * d;
	}
}

static void
dq_q2_k(const void *src, float *y, int64_t n)
{
	const block_q2_K *x = src;
	int64_t i, nb = n / QK_K;
	int h, s, l, is;

	for (i = 0; i < nb; i++) {
		float d = quant_h2f(x[i].d), dmin = quant_h2f(x[i].dmin);

		is = 0;
		for (h = 0; h < 2; h++) {
			const uint8_t *q = x[i].qs + 32 * h;

			for (s = 0; s < 4; s++) {
				int half;

				for (half = 0; half < 2; half++) {
					uint8_t sc = x[i].scales[is++];
					float dl = d * (sc & 0xF);
					float ml = dmin * (sc >> 4);

					const uint8_t *p = q + 16 * half;

					for (l = 0; l < 16; l++)
						*y++ = dl * ((p[l] >> (2 * s)) &
						    3) - ml;
				}
			}
		}
	}
}

static void
dq_q3_k(const void *src, float *y, int64_t n)
{
	const block_q3_K *x = src;
	int64_t i, nb = n / QK_K;
	int8_t sc[16];
	int h, s, l, half, is;

	for (i = 0; i < nb; i++) {
		float d = quant_h2f(x[i].d);
		uint8_t m = 1;

		quant_q3k_scales(x[i].scales, sc);
		is = 0;
		for (h = 0; h < 2; h++) {
			const uint8_t *q = x[i].qs + 32 * h;

			for (s = 0; s < 4; s++, m <<= 1) {
				for (half = 0; half < 2; half++) {
					float dl = d * sc[is++];

					for (l = 16 * half; l < 16 * half + 16;
					    l++) {
						int v = (q[l] >> (2 * s)) & 3;

						if (!(x[i].hmask[l] & m))
							v -= 4;
						*y++ = dl * v;
					}
				}
			}
		}
	}
}

static void
dq_q4_k(const void *src, float *y, int64_t n)
{
	const block_q4_K *x = src;
	int64_t i, nb = n / QK_K;
	uint8_t sc, m;
	int j, l;

	for (i = 0; i < nb; i++) {
		const uint8_t *q = x[i].qs;
		float d = quant_h2f(x[i].d), dmin = quant_h2f(x[i].dmin);

		for (j = 0; j < 4; j++, q += 32) {
			float d1, m1, d2, m2;

			quant_scale_min_k4(2 * j, x[i].scales, &sc, &m);
			d1 = d * sc;
			m1 = dmin * m;
			quant_scale_min_k4(2 * j + 1, x[i].scales, &sc, &m);
			d2 = d * sc;
			m2 = dmin * m;
			for (l = 0; l < 32; l++)
				*y++ = d1 * (q[l] & 0xF) - m1;
			for (l = 0; l < 32; l++)
				*y++ = d2 * (q[l] >> 4) - m2;
		}
	}
}

static void
dq_q5_k(const void *src, float *y, int64_t n)
{
	const block_q5_K *x = src;
	int64_t i, nb = n / QK_K;
	uint8_t sc, m;
	int j, l;

	for (i = 0; i < nb; i++) {
		const uint8_t *ql = x[i].qs, *qh = x[i].qh;
		float d = quant_h2f(x[i].d), dmin = quant_h2f(x[i].dmin);
		uint8_t u1 = 1, u2 = 2;

		for (j = 0; j < 4; j++, ql += 32, u1 <<= 2, u2 <<= 2) {
			float d1, m1, d2, m2;

			quant_scale_min_k4(2 * j, x[i].scales, &sc, &m);
			d1 = d * sc;
			m1 = dmin * m;
			quant_scale_min_k4(2 * j + 1, x[i].scales, &sc, &m);
			d2 = d * sc;
			m2 = dmin * m;
			for (l = 0; l < 32; l++)
				*y++ = d1 * ((ql[l] & 0xF) +
				    (qh[l] & u1 ? 16 : 0)) - m1;
			for (l = 0; l < 32; l++)
				*y++ = d2 * ((ql[l] >> 4) +
				    (qh[l] & u2 ? 16 : 0)) - m2;
		}
	}
}

/* Element 128h + 32s + l of a Q6_K block, unbiased (-32..31). */
static inline int
q6k_get(const block_q6_K *b, int h, int s, int l)
{
	const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
	int lo = (s & 1) ? ql[l + 32] : ql[l];

	lo = (s & 2) ? lo >> 4 : lo & 0xF;
	return (lo | (((qh[l] >> (2 * s)) & 3) << 4)) - 32;
}

static void
dq_q6_k(const void *src, float *y, int64_t n)
{
	const block_q6_K *x = src;
	int64_t i, nb = n / QK_K;
	int h, s, l;

	for (i = 0; i < nb; i++) {
		float d = quant_h2f(x[i].d);

		for (h = 0; h < 2; h++)
			for (s = 0; s < 4; s++)
				for (l = 0; l < 32; l++)
					*y++ = d * x[i].scales[8 * h + 2 * s +
					    l / 16] * q6k_get(&x[i], h, s, l);
	}
}

static void
dq_q8_k(const void *src, float *y, int64_t n)
{
	const block_q8_K *x = src;
	int64_t i, nb = n / QK_K;
	int j;

	for (i = 0; i < nb; i++, y += QK_K)
		for (j = 0; j < QK_K; j++)
			y[j] = x[i].d * x[i].qs[j];
}

/* One 32-block of 4-bit codes of a table: byte j holds codes j and
 * j + 16; y = d * table[code]. */
static inline void
dq_lut4(const int8_t *table, const uint8_t *qs, float d, float *y)
{
	int j;

	for (j = 0; j < 16; j++) {
		uint8_t q = qs[j];

		y[j] = d * table[q & 0xF];
		y[j + 16] = d * table[q >> 4];
	}
}

static void
dq_iq4_nl(const void *src, float *y, int64_t n)
{
	const block_iq4_nl *x = src;
	int64_t i, nb = n / QK4_NL;

	for (i = 0; i < nb; i++, y += QK4_NL)
		dq_lut4(quant_kvalues_iq4nl, x[i].qs, quant_h2f(x[i].d), y);
}

static inline int
iq4xs_scale(const block_iq4_xs *b, int ib)
{
	return (((b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
	    (((b->scales_h >> (2 * ib)) & 3) << 4)) - 32;
}

static void
dq_iq4_xs(const void *src, float *y, int64_t n)
{
	const block_iq4_xs *x = src;
	int64_t i, nb = n / QK_K;
	int ib;

	for (i = 0; i < nb; i++) {
		float d = quant_h2f(x[i].d);

		for (ib = 0; ib < 8; ib++, y += 32)
			dq_lut4(quant_kvalues_iq4nl, x[i].qs + 16 * ib,
			    d * iq4xs_scale(&x[i], ib), y);
	}
}

static void
dq_mxfp4(const void *src, float *y, int64_t n)
{
	const block_mxfp4 *x = src;
	int64_t i, nb = n / QK_MXFP4;

	for (i = 0; i < nb; i++, y += QK_MXFP4)
		dq_lut4(quant_kvalues_mxfp4, x[i].qs, quant_e8m0_half(x[i].e),
		    y);
}

/* ---------------------------------------------------------------- */
/* Dot products                                                      */

static float
dot_f32(int64_t n, const void *w, const void *x)
{
	const float *a = w, *b = x;
	double s = 0;
	int64_t i;

	for (i = 0; i < n; i++)
		s += (double)(a[i] * b[i]);
	return (float)s;
}

static float
dot_f16(int64_t n, const void *w, const void *x)
{
	const uint16_t *a = w, *b = x;
	double s = 0;
	int64_t i;

	for (i = 0; i < n; i++)
		s += (double)(quant_h2f(a[i]) * quant_h2f(b[i]));
	return (float)s;
}

static float
dot_bf16(int64_t n, const void *w, const void *x)
{
	const uint16_t *a = w, *b = x;
	double s = 0;
	int64_t i;

	for (i = 0; i < n; i++)
		s += (double)(util_bf16_to_f32(a[i]) *
		    util_bf16_to_f32(b[i]));
	return (float)s;
}

static float
dot_q4_0(int64_t n, const void *w, const void *xv)
{
	const block_q4_0 *a = w;
	const block_q8_0 *b = xv;
	int64_t i, nb = n / QK8_0;
	float s = 0;
	int j;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		for (j = 0; j < 16; j++)
			sum += ((a[i].qs[j] & 0xF) - 8) * b[i].qs[j] +
			    ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
		s += sum * quant_h2f(a[i].d) * quant_h2f(b[i].d);
	}
	return s;
}

static float
dot_q4_1(int64_t n, const void *w, const void *xv)
{
	const block_q4_1 *a = w;
	const block_q8_1 *b = xv;
	int64_t i, nb = n / QK8_1;
	float s = 0;
	int j;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		for (j = 0; j < 16; j++)
			sum += (a[i].qs[j] & 0xF) * b[i].qs[j] +
			    (a[i].qs[j] >> 4) * b[i].qs[j + 16];
		s += quant_h2f(a[i].d) * quant_h2f(b[i].d) * sum +
		    quant_h2f(a[i].m) * quant_h2f(b[i].s);
	}
	return s;
}

static float
dot_q5_0(int64_t n, const void *w, const void *xv)
{
	const block_q5_0 *a = w;
	const block_q8_0 *b = xv;
	int64_t i, nb = n / QK8_0;
	uint32_t qh;
	float s = 0;
	int j;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		memcpy(&qh, a[i].qh, sizeof qh);
		for (j = 0; j < 16; j++) {
			int v0 = ((a[i].qs[j] & 0xF) |
			    (int)(((qh >> j) & 1) << 4)) - 16;
			int v1 = ((a[i].qs[j] >> 4) |
			    (int)(((qh >> (j + 16)) & 1) << 4)) - 16;

			sum += v0 * b[i].qs[j] + v1 * b[i].qs[j + 16];
		}
		s += sum * quant_h2f(a[i].d) * quant_h2f(b[i].d);
	}
	return s;
}

static float
dot_q5_1(int64_t n, const void *w, const void *xv)
{
	const block_q5_1 *a = w;
	const block_q8_1 *b = xv;
	int64_t i, nb = n / QK8_1;
	uint32_t qh;
	float s = 0;
	int j;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		memcpy(&qh, a[i].qh, sizeof qh);
		for (j = 0; j < 16; j++) {
			int v0 = (a[i].qs[j] & 0xF) |
			    (int)(((qh >> j) & 1) << 4);
			int v1 = (a[i].qs[j] >> 4) |
			    (int)(((qh >> (j + 16)) & 1) << 4);

			sum += v0 * b[i].qs[j] + v1 * b[i].qs[j + 16];
		}
		s += quant_h2f(a[i].d) * quant_h2f(b[i].d) * sum +
		    quant_h2f(a[i].m) * quant_h2f(b[i].s);
	}
	return s;
}

static float
dot_q8_0(int64_t n, const void *w, const void *xv)
{
	const block_q8_0 *a = w, *b = xv;
	int64_t i, nb = n / QK8_0;
	float s = 0;
	int j;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		for (j = 0; j < QK8_0; j++)
			sum += a[i].qs[j] * b[i].qs[j];
		s += sum * (quant_h2f(a[i].d) * quant_h2f(b[i].d));
	}
	return s;
}

/*
 * sum += the integer dot of one 32-block of table codes (as dq_lut4) with
 * 32 int8 activations. A macro, not a function: as a function GCC
 * vectorizes the loop into lane extractions, 40% slower.
 */
#define ISUM_LUT4(sum, table, qs, y) do {				\
	int j_;								\
									\
	for (j_ = 0; j_ < 16; j_++)					\
		(sum) += (table)[(qs)[j_] & 0xF] * (y)[j_] +		\
		    (table)[(qs)[j_] >> 4] * (y)[j_ + 16];		\
} while (0)

static float
dot_iq4_nl(int64_t n, const void *w, const void *xv)
{
	const block_iq4_nl *a = w;
	const block_q8_0 *b = xv;
	int64_t i, nb = n / QK4_NL;
	float s = 0;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		ISUM_LUT4(sum, quant_kvalues_iq4nl, a[i].qs, b[i].qs);
		s += quant_h2f(a[i].d) * quant_h2f(b[i].d) * sum;
	}
	return s;
}

static float
dot_mxfp4(int64_t n, const void *w, const void *xv)
{
	const block_mxfp4 *a = w;
	const block_q8_0 *b = xv;
	int64_t i, nb = n / QK_MXFP4;
	float s = 0;

	for (i = 0; i < nb; i++) {
		int sum = 0;

		ISUM_LUT4(sum, quant_kvalues_mxfp4, a[i].qs, b[i].qs);
		s += quant_e8m0_half(a[i].e) * quant_h2f(b[i].d) * sum;
	}
	return s;
}

static float
dot_q2_k(int64_t n, const void *w, const void *xv)
{
	const block_q2_K *a = w;
	const block_q8_K *b = xv;
	int64_t i, nb = n / QK_K;
	float s = 0;
	int g, l;

	for (i = 0; i < nb; i++) {
		int isum = 0, msum = 0;

		for (g = 0; g < 16; g++) {
			/* group g: elements 16g..16g+15 */
			int h = g / 8, sh = (g % 8) / 2, off = 16 * (g % 2);
			const uint8_t *q = a[i].qs + 32 * h + off;
			const int8_t *y = b[i].qs + 16 * g;
			int sum = 0;

			for (l = 0; l < 16; l++)
				sum += ((q[l] >> (2 * sh)) & 3) * y[l];
			isum += (a[i].scales[g] & 0xF) * sum;
			msum += (a[i].scales[g] >> 4) * b[i].bsums[g];
		}
		s += b[i].d * quant_h2f(a[i].d) * isum -
		    b[i].d * quant_h2f(a[i].dmin) * msum;
	}
	return s;
}

static float
dot_q3_k(int64_t n, const void *w, const void *xv)
{
	const block_q3_K *a = w;
	const block_q8_K *b = xv;
	int64_t i, nb = n / QK_K;
	int8_t sc[16];
	float s = 0;
	int g, l;

	for (i = 0; i < nb; i++) {
		int isum = 0;

		quant_q3k_scales(a[i].scales, sc);
		for (g = 0; g < 16; g++) {
			int h = g / 8, sh = (g % 8) / 2, off = 16 * (g % 2);
			const uint8_t *q = a[i].qs + 32 * h + off;
			const uint8_t *hm = a[i].hmask + off;
			uint8_t m = (uint8_t)(1u << (4 * h + sh));
			const int8_t *y = b[i].qs + 16 * g;
			int sum = 0;

			for (l = 0; l < 16; l++) {
				int v = (q[l] >> (2 * sh)) & 3;

				if (!(hm[l] & m))
					v -= 4;
				sum += v * y[l];
			}
			isum += sc[g] * sum;
		}
		s += quant_h2f(a[i].d) * b[i].d * isum;
	}
	return s;
}

static float
dot_q4_k(int64_t n, const void *w, const void *xv)
{
	const block_q4_K *a = w;
	const block_q8_K *b = xv;
	int64_t i, nb = n / QK_K;
	uint8_t sc, m;
	float s = 0;
	int g, l;

	for (i = 0; i < nb; i++) {
		int isum = 0, msum = 0;

		for (g = 0; g < 8; g++) {
			const uint8_t *q = a[i].qs + 32 * (g / 2);
			const int8_t *y = b[i].qs + 32 * g;
			int sum = 0;

			quant_scale_min_k4(g, a[i].scales, &sc, &m);
			for (l = 0; l < 32; l++)
				sum += ((g & 1) ? q[l] >> 4 : q[l] & 0xF) *
				    y[l];
			isum += sc * sum;
			msum += m * (b[i].bsums[2 * g] + b[i].bsums[2 * g + 1]);
		}
		s += quant_h2f(a[i].d) * b[i].d * isum -
		    quant_h2f(a[i].dmin) * b[i].d * msum;
	}
	return s;
}

static float
dot_q5_k(int64_t n, const void *w, const void *xv)
{
	const block_q5_K *a = w;
	const block_q8_K *b = xv;
	int64_t i, nb = n / QK_K;
	uint8_t sc, m;
	float s = 0;
	int g, l;

	for (i = 0; i < nb; i++) {
		int isum = 0, msum = 0;

		for (g = 0; g < 8; g++) {
			const uint8_t *q = a[i].qs + 32 * (g / 2);
			const int8_t *y = b[i].qs + 32 * g;
			uint8_t hb = (uint8_t)(1u << g);
			int sum = 0;

			quant_scale_min_k4(g, a[i].scales, &sc, &m);
			for (l = 0; l < 32; l++) {
				int v = (g & 1) ? q[l] >> 4 : q[l] & 0xF;

				if (a[i].qh[l] & hb)
					v += 16;
				sum += v * y[l];
			}
			isum += sc * sum;
			msum += m * (b[i].bsums[2 * g] + b[i].bsums[2 * g + 1]);
		}
		s += quant_h2f(a[i].d) * b[i].d * isum -
		    quant_h2f(a[i].dmin) * b[i].d * msum;
	}
	return s;
}

static float
dot_q6_k(int64_t n, const void *w, const void *xv)
{
	const block_q6_K *a = w;
	const block_q8_K *b = xv;
	int64_t i, nb = n / QK_K;
	float s = 0;
	int h, sg, l;

	for (i = 0; i < nb; i++) {
		int isum = 0;

		for (h = 0; h < 2; h++) {
			for (sg = 0; sg < 4; sg++) {
				const int8_t *y = b[i].qs + 128 * h + 32 * sg;
				int s0 = 0, s1 = 0;

				for (l = 0; l < 16; l++)
					s0 += q6k_get(&a[i], h, sg, l) * y[l];
				for (l = 16; l < 32; l++)
					s1 += q6k_get(&a[i], h, sg, l) * y[l];
				isum += a[i].scales[8 * h + 2 * sg] * s0 +
				    a[i].scales[8 * h + 2 * sg + 1] * s1;
			}
		}
		s += quant_h2f(a[i].d) * b[i].d * isum;
	}
	return s;
}

static float
dot_iq4_xs(int64_t n, const void *w, const void *xv)
{
	const block_iq4_xs *a = w;
	const block_q8_K *b = xv;
	int64_t i, nb = n / QK_K;
	float s = 0;
	int ib;

	for (i = 0; i < nb; i++) {
		const uint8_t *qs = a[i].qs;
		const int8_t *y = b[i].qs;
		int isum = 0;

		for (ib = 0; ib < 8; ib++, qs += 16, y += 32) {
			int sum = 0;

			ISUM_LUT4(sum, quant_kvalues_iq4nl, qs, y);
			isum += iq4xs_scale(&a[i], ib) * sum;
		}
		s += quant_h2f(a[i].d) * b[i].d * isum;
	}
	return s;
}

/* ---------------------------------------------------------------- */

/* Generic tile: one dot per (row, token). */
static void
tile_generic(quant_dot_fn *dot, int64_t n, const void *w, size_t ws,
    int nr, const void *x, size_t xs, int nt, float *y, size_t ys)
{
	int r, t;

	for (t = 0; t < nt; t++)
		for (r = 0; r < nr; r++)
			y[(size_t)t * ys + (size_t)r] = dot(n,
			    (const char *)w + (size_t)r * ws,
			    (const char *)x + (size_t)t * xs);
}

#define REF_TILE(name, dotfn)						\
static void								\
name(int64_t n, const void *w, size_t ws, int nr, const void *x,	\
    size_t xs, int nt, float *y, size_t ys)				\
{									\
	tile_generic(dotfn, n, w, ws, nr, x, xs, nt, y, ys);		\
}

REF_TILE(tile_f32, dot_f32)
REF_TILE(tile_f16, dot_f16)
REF_TILE(tile_bf16, dot_bf16)
REF_TILE(tile_q4_0, dot_q4_0)
REF_TILE(tile_q4_1, dot_q4_1)
REF_TILE(tile_q5_0, dot_q5_0)
REF_TILE(tile_q5_1, dot_q5_1)
REF_TILE(tile_q8_0, dot_q8_0)
REF_TILE(tile_iq4_nl, dot_iq4_nl)
REF_TILE(tile_mxfp4, dot_mxfp4)
REF_TILE(tile_q2_k, dot_q2_k)
REF_TILE(tile_q3_k, dot_q3_k)
REF_TILE(tile_q4_k, dot_q4_k)
REF_TILE(tile_q5_k, dot_q5_k)
REF_TILE(tile_q6_k, dot_q6_k)
REF_TILE(tile_iq4_xs, dot_iq4_xs)

#define ACT(name, type)							\
static void								\
name(const float *src, void *dst, int64_t n)				\
{									\
	quant_quantize_act_ref(type, src, dst, n);			\
}

ACT(act_f32, GGML_TYPE_F32)
ACT(act_f16, GGML_TYPE_F16)
ACT(act_bf16, GGML_TYPE_BF16)
ACT(act_q8_0, GGML_TYPE_Q8_0)
ACT(act_q8_1, GGML_TYPE_Q8_1)
ACT(act_q8_k, GGML_TYPE_Q8_K)

void
quant_axpy_f32_ref(int64_t n, float a, const float *x, float *y)
{
	int64_t i;

	for (i = 0; i < n; i++)
		y[i] += a * x[i];
}

void
quant_axpy_f16_ref(int64_t n, float a, const uint16_t *x, float *y)
{
	int64_t i;

	for (i = 0; i < n; i++)
		y[i] += a * util_fp16_to_f32(x[i]);
}

void
quant_ref_fill(struct quant_kernels *k)
{
	memset(k, 0, sizeof *k);

#define D(t, f) k->dequant[GGML_TYPE_##t] = f
	D(F32, dq_f32); D(F16, dq_f16); D(BF16, dq_bf16);
	D(Q4_0, dq_q4_0); D(Q4_1, dq_q4_1); D(Q5_0, dq_q5_0);
	D(Q5_1, dq_q5_1); D(Q8_0, dq_q8_0); D(Q8_1, dq_q8_1);
	D(Q2_K, dq_q2_k); D(Q3_K, dq_q3_k); D(Q4_K, dq_q4_k);
	D(Q5_K, dq_q5_k); D(Q6_K, dq_q6_k); D(Q8_K, dq_q8_k);
	D(IQ4_NL, dq_iq4_nl); D(IQ4_XS, dq_iq4_xs); D(MXFP4, dq_mxfp4);
#undef D

#define V(t, f, g) do {							\
	k->dot[GGML_TYPE_##t] = f;					\
	k->tile[GGML_TYPE_##t] = g;					\
} while (0)
	V(F32, dot_f32, tile_f32); V(F16, dot_f16, tile_f16);
	V(BF16, dot_bf16, tile_bf16); V(Q4_0, dot_q4_0, tile_q4_0);
	V(Q4_1, dot_q4_1, tile_q4_1); V(Q5_0, dot_q5_0, tile_q5_0);
	V(Q5_1, dot_q5_1, tile_q5_1); V(Q8_0, dot_q8_0, tile_q8_0);
	V(IQ4_NL, dot_iq4_nl, tile_iq4_nl);
	V(MXFP4, dot_mxfp4, tile_mxfp4); V(Q2_K, dot_q2_k, tile_q2_k);
	V(Q3_K, dot_q3_k, tile_q3_k); V(Q4_K, dot_q4_k, tile_q4_k);
	V(Q5_K, dot_q5_k, tile_q5_k); V(Q6_K, dot_q6_k, tile_q6_k);
	V(IQ4_XS, dot_iq4_xs, tile_iq4_xs);
#undef V

	k->axpy = quant_axpy_f32_ref;
	k->axpy16 = quant_axpy_f16_ref;
	k->act[GGML_TYPE_F32] = act_f32;
	k->act[GGML_TYPE_F16] = act_f16;
	k->act[GGML_TYPE_BF16] = act_bf16;
	k->act[GGML_TYPE_Q8_0] = act_q8_0;
	k->act[GGML_TYPE_Q8_1] = act_q8_1;
	k->act[GGML_TYPE_Q8_K] = act_q8_k;
}
