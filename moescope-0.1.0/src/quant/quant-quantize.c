/*
 * quant-quantize.c - float -> quantized rows: the weight quantizers the
 * converter uses, and the activation quantizers the products use.
 *
 * Weights (quant_quantize_weight_ref) reproduce ggml's quantize_row_*_ref
 * bit for bit, so a file we convert equals one llama-quantize writes
 * without an importance matrix: the same scale searches (make_qx_quants
 * for Q6_K, make_q3_quants for Q3_K, make_qkx2_quants for Q2_K/Q4_K/
 * Q5_K), the same float expressions in the same order, the same rounding
 * (nearest_int's add-a-magic-number trick, which rounds half to even;
 * roundf for Q8_0; truncation of x + 8.5 for Q4_0 ...), and no fused
 * multiply-adds (local.mk builds the room with -ffp-contract=off; with
 * contraction 7-30% of the Q4_K/Q5_K rows come out different). The
 * comparisons are checked against llama.cpp-made files in
 * t/201-quant-ref.c.
 *
 * Activations (quant_quantize_act_ref) reproduce what llama.cpp's x86 CPU
 * backend does before a product (its from_float of the vec_dot type),
 * which is not always the reference:
 *
 *   Q8_0, Q8_1  ggml-cpu/arch/x86/quants.c quantize_row_q8_0/_q8_1 (AVX
 *               path): amax over the 32 values; d = amax / 127 stored as
 *               fp16; the multiplier is 127 / amax (not 1 / d); products
 *               rounded half to even (_mm256_round_ps + cvtps), packed with
 *               signed saturation. Q8_1's s is fp16(d * sum of quants).
 *               The reference instead uses 1 / d and roundf (half away
 *               from zero); the two differ on ties and near-ties.
 *   Q8_K        x86 uses quantize_row_q8_K_ref: iscale = -127 / (the
 *               signed value of largest magnitude), nearest_int, clamp to
 *               127, d = 1 / iscale, bsums over 16s. (The repacked 4x8
 *               path gives the same products.)
 *   F16, BF16   round to nearest even (F16C / AVX512-BF16 conversions;
 *               the latter also flush FP32 denormals to zero, which we
 *               do not: a difference below 1e-38).
 *   F32         copied.
 *
 * Everything here is total: NaN or infinite inputs give some block, never
 * undefined behaviour (float -> int conversions go through x86's
 * "integer indefinite" semantics explicitly).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant/quant-int.h"
#include "util/util.h"

#define GROUP_MAX_EPS 1e-15f

/* (int)v as cvttss2si does it: INT32_MIN when out of range or NaN. */
static inline int32_t
trunc_i32(float v)
{
	if (!(v > -2147483904.0f && v < 2147483648.0f))
		return INT32_MIN;
	return (int32_t)v;
}

/* cvtss2si with round-to-nearest-even (the default MXCSR mode). */
static inline int32_t
rne_i32(float v)
{
	if (!(v > -2147483904.0f && v < 2147483648.0f))
		return INT32_MIN;
	return (int32_t)nearbyintf(v);
}

/* ggml's nearest_int: half to even for |f| < 2^22. */
static inline int
nearest_int(float f)
{
	float v = f + 12582912.f;
	int32_t i;

	memcpy(&i, &v, sizeof i);
	return (i & 0x007fffff) - 0x00400000;
}

static inline int
imin(int a, int b)
{
	return a < b ? a : b;
}

static inline int
imax(int a, int b)
{
	return a > b ? a : b;
}

static inline int8_t
sat8(int32_t v)
{
	return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

static inline uint16_t
f2h(float f)
{
	return util_f32_to_fp16(f);
}

/* ---------------------------------------------------------------- */
/* 32-element formats                                                */

static void
q_q4_0(const float *x, void *dst, int64_t n)
{
	block_q4_0 *y = dst;
	int64_t i, nb = n / QK4_0;
	int j;

	for (i = 0; i < nb; i++, x += QK4_0) {
		float amax = 0, max = 0, d, id;

		for (j = 0; j < QK4_0; j++)
			if (amax < fabsf(x[j])) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		d = max / -8;
		id = d ? 1.0f / d : 0.0f;
		y[i].d = f2h(d);
		for (j = 0; j < 16; j++) {
			uint8_t a = (uint8_t)imin(15,
			    (int8_t)trunc_i32(x[j] * id + 8.5f));
			uint8_t b = (uint8_t)imin(15,
			    (int8_t)trunc_i32(x[j + 16] * id + 8.5f));

			y[i].qs[j] = (uint8_t)(a | (b << 4));
		}
	}
}

static void
q_q4_1(const float *x, void *dst, int64_t n)
{
	block_q4_1 *y = dst;
	int64_t i, nb = n / QK4_1;
	int j;

	for (i = 0; i < nb; i++, x += QK4_1) {
		float min = FLT_MAX, max = -FLT_MAX, d, id;

		for (j = 0; j < QK4_1; j++) {
			if (x[j] < min)
				min = x[j];
			if (x[j] > max)
				max = x[j];
		}
		d = (max - min) / 15;
		id = d ? 1.0f / d : 0.0f;
		y[i].d = f2h(d);
		y[i].m = f2h(min);
		for (j = 0; j < 16; j++) {
			float x0 = (x[j] - min) * id;
			float x1 = (x[j + 16] - min) * id;
			uint8_t a = (uint8_t)imin(15,
			    (int8_t)trunc_i32(x0 + 0.5f));
			uint8_t b = (uint8_t)imin(15,
			    (int8_t)trunc_i32(x1 + 0.5f));

			y[i].qs[j] = (uint8_t)(a | (b << 4));
		}
	}
}

static void
q_q5_0(const float *x, void *dst, int64_t n)
{
	block_q5_0 *y = dst;
	int64_t i, nb = n / QK5_0;
	int j;

	for (i = 0; i < nb; i++, x += QK5_0) {
		float amax = 0, max = 0, d, id;
		uint32_t qh = 0;

		for (j = 0; j < QK5_0; j++)
			if (amax < fabsf(x[j])) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		d = max / -16;
		id = d ? 1.0f / d : 0.0f;
		y[i].d = f2h(d);
		for (j = 0; j < 16; j++) {
			uint8_t a = (uint8_t)imin(31,
			    (int8_t)trunc_i32(x[j] * id + 16.5f));
			uint8_t b = (uint8_t)imin(31,
			    (int8_t)trunc_i32(x[j + 16] * id + 16.5f));

			y[i].qs[j] = (uint8_t)((a & 0xF) | ((b & 0xF) << 4));
			qh |= ((a & 0x10u) >> 4) << j;
			qh |= ((b & 0x10u) >> 4) << (j + 16);
		}
		memcpy(y[i].qh, &qh, sizeof qh);
	}
}

static void
q_q5_1(const float *x, void *dst, int64_t n)
{
	block_q5_1 *y = dst;
	int64_t i, nb = n / QK5_1;
	int j;

	for (i = 0; i < nb; i++, x += QK5_1) {
		float min = FLT_MAX, max = -FLT_MAX, d, id;
		uint32_t qh = 0;

		for (j = 0; j < QK5_1; j++) {
			if (x[j] < min)
				min = x[j];
			if (x[j] > max)
				max = x[j];
		}
		d = (max - min) / 31;
		id = d ? 1.0f / d : 0.0f;
		y[i].d = f2h(d);
		y[i].m = f2h(min);
		for (j = 0; j < 16; j++) {
			float x0 = (x[j] - min) * id;
			float x1 = (x[j + 16] - min) * id;
			uint8_t a = (uint8_t)trunc_i32(x0 + 0.5f);
			uint8_t b = (uint8_t)trunc_i32(x1 + 0.5f);

			y[i].qs[j] = (uint8_t)((a & 0xF) | ((b & 0xF) << 4));
			qh |= ((a & 0x10u) >> 4) << j;
			qh |= ((b & 0x10u) >> 4) << (j + 16);
		}
		memcpy(y[i].qh, &qh, sizeof qh);
	}
}

static void
q_q8_0(const float *x, void *dst, int64_t n)
{
	block_q8_0 *y = dst;
	int64_t i, nb = n / QK8_0;
	int j;

	for (i = 0; i < nb; i++, x += QK8_0) {
		float amax = 0, d, id;

		for (j = 0; j < QK8_0; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		d = amax / 127;
		id = d ? 1.0f / d : 0.0f;
		y[i].d = f2h(d);
		for (j = 0; j < QK8_0; j++)
			y[i].qs[j] = (int8_t)trunc_i32(roundf(x[j] * id));
	}
}

static void
q_q8_1(const float *x, void *dst, int64_t n)
{
	block_q8_1 *y = dst;
	int64_t i, nb = n / QK8_1;
	int j, sum;

	for (i = 0; i < nb; i++, x += QK8_1) {
		float amax = 0, d, id;

		for (j = 0; j < QK8_1; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		d = amax / 127;
		id = d ? 1.0f / d : 0.0f;
		y[i].d = f2h(d);
		sum = 0;
		for (j = 0; j < QK8_1; j++) {
			y[i].qs[j] = (int8_t)trunc_i32(roundf(x[j] * id));
			sum += y[i].qs[j];
		}
		y[i].s = f2h((float)sum * d);
	}
}

static int
mxfp4_best(float x, float e)
{
	float best = fabsf(quant_kvalues_mxfp4[0] * e - x);
	int i, bi = 0;

	for (i = 1; i < 16; i++) {
		float err = fabsf(quant_kvalues_mxfp4[i] * e - x);

		if (err < best) {
			bi = i;
			best = err;
		}
	}
	return bi;
}

static void
q_mxfp4(const float *x, void *dst, int64_t n)
{
	block_mxfp4 *y = dst;
	int64_t i, nb = n / QK_MXFP4;
	int j;

	for (i = 0; i < nb; i++, x += QK_MXFP4) {
		float amax = 0, d;
		uint8_t e;

		for (j = 0; j < QK_MXFP4; j++)
			if (amax < fabsf(x[j]))
				amax = fabsf(x[j]);
		e = amax > 0.0f ? (uint8_t)trunc_i32(floorf(log2f(amax)) -
		    2 + 127) : 0;
		d = quant_e8m0_half(e);
		y[i].e = e;
		for (j = 0; j < 16; j++)
			y[i].qs[j] = (uint8_t)(mxfp4_best(x[j], d) |
			    (mxfp4_best(x[j + 16], d) << 4));
	}
}

/* ---------------------------------------------------------------- */
/* K-quant scale searches (ggml's make_*_quants, same arithmetic)    */

/* Symmetric levels -nmax..nmax-1 with weights x^2 (rmse_type 1). */
static float
make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
	float max = 0, amax = 0, iscale, sumlx, suml2, scale, best;
	int i, is, l;

	for (i = 0; i < n; i++) {
		float ax = fabsf(x[i]);

		if (ax > amax) {
			amax = ax;
			max = x[i];
		}
	}
	if (amax < GROUP_MAX_EPS) {
		memset(L, 0, (size_t)n);
		return 0.f;
	}
	iscale = -nmax / max;
	sumlx = suml2 = 0;
	for (i = 0; i < n; i++) {
		float w = x[i] * x[i];

		l = nearest_int(iscale * x[i]);
		l = imax(-nmax, imin(nmax - 1, l));
		L[i] = (int8_t)(l + nmax);
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	scale = suml2 ? sumlx / suml2 : 0.0f;
	best = scale * sumlx;
	for (is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = suml2 = 0;
		for (i = 0; i < n; i++) {
			float w = x[i] * x[i];

			l = nearest_int(iscale * x[i]);
			l = imax(-nmax, imin(nmax - 1, l));
			sumlx += w * x[i] * l;
			suml2 += w * l * l;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (i = 0; i < n; i++) {
				l = nearest_int(iscale * x[i]);
				L[i] = (int8_t)(nmax +
				    imax(-nmax, imin(nmax - 1, l)));
			}
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

/* Q3_K's search: start from -nmax/max, then move single levels. */
static float
make_q3_quants(int n, int nmax, const float *x, int8_t *L)
{
	float max = 0, amax = 0, iscale, sumlx, suml2;
	int i, l, itry;

	for (i = 0; i < n; i++) {
		float ax = fabsf(x[i]);

		if (ax > amax) {
			amax = ax;
			max = x[i];
		}
	}
	if (amax < GROUP_MAX_EPS) {
		memset(L, 0, (size_t)n);
		return 0.f;
	}
	iscale = -nmax / max;
	sumlx = suml2 = 0;
	for (i = 0; i < n; i++) {
		float w = x[i] * x[i];

		l = nearest_int(iscale * x[i]);
		l = imax(-nmax, imin(nmax - 1, l));
		L[i] = (int8_t)l;
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	for (itry = 0; itry < 5; itry++) {
		int changed = 0;

		for (i = 0; i < n; i++) {
			float w = x[i] * x[i];
			float slx = sumlx - w * x[i] * L[i];

			if (slx > 0) {
				float sl2 = suml2 - w * L[i] * L[i];
				int nl = nearest_int(x[i] * sl2 / slx);

				nl = imax(-nmax, imin(nmax - 1, nl));
				if (nl != L[i]) {
					slx += w * x[i] * nl;
					sl2 += w * nl * nl;
					if (sl2 > 0 && slx * slx * suml2 >
					    sumlx * sumlx * sl2) {
						L[i] = (int8_t)nl;
						sumlx = slx;
						suml2 = sl2;
						changed++;
					}
				}
			}
		}
		if (!changed)
			break;
	}
	for (i = 0; i < n; i++)
		L[i] = (int8_t)(L[i] + nmax);
	return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Asymmetric levels 0..nmax with a min, weighted least squares over a
 * sweep of nstep + 1 candidate scales. */
static float
make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
    uint8_t *L, float *the_min, uint8_t *Laux, float rmin, float rdelta,
    int nstep, int use_mad)
{
	float min = x[0], max = x[0], sum_w = weights[0];
	float sum_x = sum_w * x[0], iscale, scale, best_error;
	int i, is, l;

	for (i = 1; i < n; i++) {
		float w = weights[i];

		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		sum_w += w;
		sum_x += w * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		memset(L, 0, (size_t)n);
		*the_min = -min;
		return 0.f;
	}
	iscale = nmax / (max - min);
	scale = 1 / iscale;
	best_error = 0;
	for (i = 0; i < n; i++) {
		float diff;

		l = nearest_int(iscale * (x[i] - min));
		L[i] = (uint8_t)imax(0, imin(nmax, l));
		diff = scale * L[i] + min - x[i];
		diff = use_mad ? fabsf(diff) : diff * diff;
		best_error += weights[i] * diff;
	}
	if (nstep < 1) {
		*the_min = -min;
		return scale;
	}
	for (is = 0; is <= nstep; is++) {
		float sum_l = 0, sum_l2 = 0, sum_xl = 0, D;

		iscale = (rmin + rdelta * is + nmax) / (max - min);
		for (i = 0; i < n; i++) {
			float w = weights[i];

			l = nearest_int(iscale * (x[i] - min));
			l = imax(0, imin(nmax, l));
			Laux[i] = (uint8_t)l;
			sum_l += w * l;
			sum_l2 += w * l * l;
			sum_xl += w * l * x[i];
		}
		D = sum_w * sum_l2 - sum_l * sum_l;
		if (D > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
			float cur_error = 0;

			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			for (i = 0; i < n; i++) {
				float diff = this_scale * Laux[i] + this_min -
				    x[i];

				diff = use_mad ? fabsf(diff) : diff * diff;
				cur_error += weights[i] * diff;
			}
			if (cur_error < best_error) {
				memcpy(L, Laux, (size_t)n);
				best_error = cur_error;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

/* ---------------------------------------------------------------- */
/* K-quants                                                          */

/* Pack 2-bit levels: per 128, byte l holds elements l, l+32, l+64, l+96. */
static void
pack_2bit(const uint8_t *L, uint8_t *qs)
{
	int j, l;

	for (j = 0; j < QK_K; j += 128)
		for (l = 0; l < 32; l++)
			qs[j / 4 + l] = (uint8_t)(L[j + l] |
			    (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
			    (L[j + l + 96] << 6));
}

static void
q_q2_k(const float *x, void *dst, int64_t n)
{
	block_q2_K *y = dst;
	int64_t i, nb = n / QK_K;
	uint8_t L[QK_K], Laux[16];
	float weights[16], mins[16], scales[16];
	const float q4scale = 15.f;
	int j, l;

	for (i = 0; i < nb; i++, x += QK_K) {
		float max_scale = 0, max_min = 0;

		for (j = 0; j < 16; j++) {
			for (l = 0; l < 16; l++)
				weights[l] = fabsf(x[16 * j + l]);
			scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights,
			    L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
			if (scales[j] > max_scale)
				max_scale = scales[j];
			if (mins[j] > max_min)
				max_min = mins[j];
		}
		if (max_scale > 0) {
			float iscale = q4scale / max_scale;

			for (j = 0; j < 16; j++)
				y[i].scales[j] = (uint8_t)nearest_int(iscale *
				    scales[j]);
			y[i].d = f2h(max_scale / q4scale);
		} else {
			memset(y[i].scales, 0, 16);
			y[i].d = f2h(0.f);
		}
		if (max_min > 0) {
			float iscale = q4scale / max_min;

			for (j = 0; j < 16; j++)
				y[i].scales[j] |= (uint8_t)(nearest_int(iscale *
				    mins[j]) << 4);
			y[i].dmin = f2h(max_min / q4scale);
		} else
			y[i].dmin = f2h(0.f);
		for (j = 0; j < 16; j++) {
			float d = quant_h2f(y[i].d) * (y[i].scales[j] & 0xF);
			float dm;

			if (!d)
				continue;
			dm = quant_h2f(y[i].dmin) * (y[i].scales[j] >> 4);
			for (l = 0; l < 16; l++) {
				int v = nearest_int((x[16 * j + l] + dm) / d);

				L[16 * j + l] = (uint8_t)imax(0, imin(3, v));
			}
		}
		pack_2bit(L, y[i].qs);
	}
}

static void
q_q3_k(const float *x, void *dst, int64_t n)
{
	block_q3_K *y = dst;
	int64_t i, nb = n / QK_K;
	int8_t L[QK_K];
	float scales[16];
	int j, l;

	for (i = 0; i < nb; i++, x += QK_K) {
		float max_scale = 0, amax = 0;
		int m;
		uint8_t hm;

		for (j = 0; j < 16; j++) {
			scales[j] = make_q3_quants(16, 4, x + 16 * j,
			    L + 16 * j);
			if (fabsf(scales[j]) > amax) {
				amax = fabsf(scales[j]);
				max_scale = scales[j];
			}
		}
		memset(y[i].scales, 0, 12);
		if (max_scale) {
			float iscale = -32.f / max_scale;

			for (j = 0; j < 16; j++) {
				int8_t v = (int8_t)nearest_int(iscale *
				    scales[j]);

				v = (int8_t)(imax(-32, imin(31, v)) + 32);
				if (j < 8)
					y[i].scales[j] = (uint8_t)(v & 0xF);
				else
					y[i].scales[j - 8] |=
					    (uint8_t)((v & 0xF) << 4);
				v = (int8_t)(v >> 4);
				y[i].scales[j % 4 + 8] |=
				    (uint8_t)(v << (2 * (j / 4)));
			}
			y[i].d = f2h(1 / iscale);
		} else
			y[i].d = f2h(0.f);
		{
			int8_t sc[16];

			quant_q3k_scales(y[i].scales, sc);
			for (j = 0; j < 16; j++) {
				float d = quant_h2f(y[i].d) * sc[j];

				if (!d)
					continue;
				for (l = 0; l < 16; l++) {
					int v = nearest_int(x[16 * j + l] / d);

					v = imax(-4, imin(3, v));
					L[16 * j + l] = (int8_t)(v + 4);
				}
			}
		}
		memset(y[i].hmask, 0, QK_K / 8);
		m = 0;
		hm = 1;
		for (j = 0; j < QK_K; j++) {
			if (L[j] > 3) {
				y[i].hmask[m] |= hm;
				L[j] = (int8_t)(L[j] - 4);
			}
			if (++m == QK_K / 8) {
				m = 0;
				hm = (uint8_t)(hm << 1);
			}
		}
		pack_2bit((const uint8_t *)L, y[i].qs);
	}
}

/* Q4_K and Q5_K share everything but the level count and the search
 * parameters; set the 6-bit scales and return the levels in L. */
static void
q_k4_scales(const float *x, int nmax, float rmin, int nstep, uint8_t *L,
    qc_half *dd, qc_half *dmin, uint8_t *sc12)
{
	uint8_t Laux[32], ls, lm, sc, m;
	float weights[32], mins[8], scales[8];
	float max_scale = 0, max_min = 0, inv_scale, inv_min;
	int j, l;

	for (j = 0; j < 8; j++) {
		float sum_x2 = 0, av_x;

		for (l = 0; l < 32; l++)
			sum_x2 += x[32 * j + l] * x[32 * j + l];
		av_x = sqrtf(sum_x2 / 32);
		for (l = 0; l < 32; l++)
			weights[l] = av_x + fabsf(x[32 * j + l]);
		scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights,
		    L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, 0);
		if (scales[j] > max_scale)
			max_scale = scales[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	inv_min = max_min > 0 ? 63.f / max_min : 0.f;
	for (j = 0; j < 8; j++) {
		ls = (uint8_t)nearest_int(inv_scale * scales[j]);
		lm = (uint8_t)nearest_int(inv_min * mins[j]);
		ls = (uint8_t)imin(63, ls);
		lm = (uint8_t)imin(63, lm);
		if (j < 4) {
			sc12[j] = ls;
			sc12[j + 4] = lm;
		} else {
			sc12[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
			sc12[j - 4] |= (uint8_t)((ls >> 4) << 6);
			sc12[j] |= (uint8_t)((lm >> 4) << 6);
		}
	}
	*dd = f2h(max_scale / 63.f);
	*dmin = f2h(max_min / 63.f);
	for (j = 0; j < 8; j++) {
		float d, dm;

		quant_scale_min_k4(j, sc12, &sc, &m);
		d = quant_h2f(*dd) * sc;
		if (!d)
			continue;
		dm = quant_h2f(*dmin) * m;
		for (l = 0; l < 32; l++) {
			int v = nearest_int((x[32 * j + l] + dm) / d);

			L[32 * j + l] = (uint8_t)imax(0, imin(nmax, v));
		}
	}
}

static void
q_q4_k(const float *x, void *dst, int64_t n)
{
	block_q4_K *y = dst;
	int64_t i, nb = n / QK_K;
	uint8_t L[QK_K];
	int j, l;

	for (i = 0; i < nb; i++, x += QK_K) {
		uint8_t *q = y[i].qs;

		q_k4_scales(x, 15, -1.f, 20, L, &y[i].d, &y[i].dmin,
		    y[i].scales);
		for (j = 0; j < QK_K; j += 64, q += 32)
			for (l = 0; l < 32; l++)
				q[l] = (uint8_t)(L[j + l] |
				    (L[j + l + 32] << 4));
	}
}

static void
q_q5_k(const float *x, void *dst, int64_t n)
{
	block_q5_K *y = dst;
	int64_t i, nb = n / QK_K;
	uint8_t L[QK_K];
	int j, k;

	for (i = 0; i < nb; i++, x += QK_K) {
		uint8_t *qh = y[i].qh, *ql = y[i].qs;
		uint8_t m1 = 1, m2 = 2;

		q_k4_scales(x, 31, -0.5f, 15, L, &y[i].d, &y[i].dmin,
		    y[i].scales);
		memset(qh, 0, QK_K / 8);
		for (k = 0; k < QK_K; k += 64, ql += 32) {
			for (j = 0; j < 32; j++) {
				int l1 = L[k + j], l2 = L[k + j + 32];

				if (l1 > 15) {
					l1 -= 16;
					qh[j] |= m1;
				}
				if (l2 > 15) {
					l2 -= 16;
					qh[j] |= m2;
				}
				ql[j] = (uint8_t)(l1 | (l2 << 4));
			}
			m1 = (uint8_t)(m1 << 2);
			m2 = (uint8_t)(m2 << 2);
		}
	}
}

static void
q_q6_k(const float *x, void *dst, int64_t n)
{
	block_q6_K *y = dst;
	int64_t i, nb = n / QK_K;
	int8_t L[QK_K];
	float scales[16];
	int j, l;

	for (i = 0; i < nb; i++, x += QK_K) {
		float max_scale = 0, max_abs = 0, iscale;
		uint8_t *ql = y[i].ql, *qh = y[i].qh;

		for (j = 0; j < 16; j++) {
			scales[j] = make_qx_quants(16, 32, x + 16 * j,
			    L + 16 * j);
			if (fabsf(scales[j]) > max_abs) {
				max_abs = fabsf(scales[j]);
				max_scale = scales[j];
			}
		}
		if (max_abs < GROUP_MAX_EPS) {
			memset(&y[i], 0, sizeof y[i]);
			y[i].d = f2h(0.f);
			continue;
		}
		iscale = -128.f / max_scale;
		y[i].d = f2h(1 / iscale);
		for (j = 0; j < 16; j++)
			y[i].scales[j] = (int8_t)imin(127,
			    nearest_int(iscale * scales[j]));
		for (j = 0; j < 16; j++) {
			float d = quant_h2f(y[i].d) * y[i].scales[j];

			if (!d)
				continue;
			for (l = 0; l < 16; l++) {
				int v = nearest_int(x[16 * j + l] / d);

				v = imax(-32, imin(31, v));
				L[16 * j + l] = (int8_t)(v + 32);
			}
		}
		for (j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
			for (l = 0; l < 32; l++) {
				uint8_t q1 = L[j + l] & 0xF;
				uint8_t q2 = L[j + l + 32] & 0xF;
				uint8_t q3 = L[j + l + 64] & 0xF;
				uint8_t q4 = L[j + l + 96] & 0xF;

				ql[l] = (uint8_t)(q1 | (q3 << 4));
				ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
				qh[l] = (uint8_t)((L[j + l] >> 4) |
				    ((L[j + l + 32] >> 4) << 2) |
				    ((L[j + l + 64] >> 4) << 4) |
				    ((L[j + l + 96] >> 4) << 6));
			}
		}
	}
}

static void
q_q8_k(const float *x, void *dst, int64_t n)
{
	block_q8_K *y = dst;
	int64_t i, nb = n / QK_K;
	int j, l;

	for (i = 0; i < nb; i++, x += QK_K) {
		float max = 0, amax = 0, iscale;

		for (j = 0; j < QK_K; j++) {
			float ax = fabsf(x[j]);

			if (ax > amax) {
				amax = ax;
				max = x[j];
			}
		}
		if (!amax) {
			y[i].d = 0;
			memset(y[i].qs, 0, QK_K);
			memset(y[i].bsums, 0, sizeof y[i].bsums);
			continue;
		}
		iscale = -127.f / max;
		for (j = 0; j < QK_K; j++)
			y[i].qs[j] = (int8_t)imin(127,
			    nearest_int(iscale * x[j]));
		for (j = 0; j < 16; j++) {
			int sum = 0;

			for (l = 0; l < 16; l++)
				sum += y[i].qs[16 * j + l];
			y[i].bsums[j] = (int16_t)sum;
		}
		y[i].d = 1 / iscale;
	}
}

static void
q_f16(const float *x, void *dst, int64_t n)
{
	uint16_t *y = dst;
	int64_t i;

	for (i = 0; i < n; i++)
		y[i] = util_f32_to_fp16(x[i]);
}

static void
q_bf16(const float *x, void *dst, int64_t n)
{
	uint16_t *y = dst;
	int64_t i;

	for (i = 0; i < n; i++)
		y[i] = util_f32_to_bf16(x[i]);
}

/* ---------------------------------------------------------------- */
/* Activations: x86 ggml-cpu rounding                                */

/* Q8_0 / Q8_1 block as the AVX path of ggml-cpu builds it. */
static void
act_q8_block(const float *x, qc_half *dd, int8_t *qs, qc_half *ds)
{
	float amax = 0, d, id;
	int32_t v, sum = 0;
	int j;

	for (j = 0; j < 32; j++) {
		float a = fabsf(x[j]);

		/* maxps returns its second operand when either is NaN */
		amax = a > amax ? a : (a == a ? amax : a);
	}
	d = amax / 127.f;
	*dd = f2h(d);
	id = amax != 0.0f ? 127.f / amax : 0.0f;
	for (j = 0; j < 32; j++) {
		v = rne_i32(x[j] * id);
		sum += v == INT32_MIN ? 0 : v;
		qs[j] = sat8(v);
	}
	if (ds != NULL)
		*ds = f2h(d * (float)sum);
}

void
quant_quantize_act_ref(int type, const float *src, void *dst, int64_t n)
{
	int64_t i;

	switch (type) {
	case GGML_TYPE_F32:
		memcpy(dst, src, (size_t)n * sizeof(float));
		break;
	case GGML_TYPE_F16:
		q_f16(src, dst, n);
		break;
	case GGML_TYPE_BF16:
		q_bf16(src, dst, n);
		break;
	case GGML_TYPE_Q8_0: {
		block_q8_0 *y = dst;

		for (i = 0; i < n / QK8_0; i++)
			act_q8_block(src + 32 * i, &y[i].d, y[i].qs, NULL);
		break;
	}
	case GGML_TYPE_Q8_1: {
		block_q8_1 *y = dst;

		for (i = 0; i < n / QK8_1; i++)
			act_q8_block(src + 32 * i, &y[i].d, y[i].qs, &y[i].s);
		break;
	}
	case GGML_TYPE_Q8_K:
		q_q8_k(src, dst, n);
		break;
	default:
		break;
	}
}

int
quant_quantize_weight_ref(int type, const float *src, void *dst, int64_t n)
{
	switch (type) {
	case GGML_TYPE_F32:
		memcpy(dst, src, (size_t)n * sizeof(float));
		return 0;
	case GGML_TYPE_F16: q_f16(src, dst, n); return 0;
	case GGML_TYPE_BF16: q_bf16(src, dst, n); return 0;
	case GGML_TYPE_Q4_0: q_q4_0(src, dst, n); return 0;
	case GGML_TYPE_Q4_1: q_q4_1(src, dst, n); return 0;
	case GGML_TYPE_Q5_0: q_q5_0(src, dst, n); return 0;
	case GGML_TYPE_Q5_1: q_q5_1(src, dst, n); return 0;
	case GGML_TYPE_Q8_0: q_q8_0(src, dst, n); return 0;
	case GGML_TYPE_Q8_1: q_q8_1(src, dst, n); return 0;
	case GGML_TYPE_Q2_K: q_q2_k(src, dst, n); return 0;
	case GGML_TYPE_Q3_K: q_q3_k(src, dst, n); return 0;
	case GGML_TYPE_Q4_K: q_q4_k(src, dst, n); return 0;
	case GGML_TYPE_Q5_K: q_q5_k(src, dst, n); return 0;
	case GGML_TYPE_Q6_K: q_q6_k(src, dst, n); return 0;
	case GGML_TYPE_Q8_K: q_q8_k(src, dst, n); return 0;
	case GGML_TYPE_MXFP4: q_mxfp4(src, dst, n); return 0;
	default:
		return ERR_UNSUPPORTED;
	}
}
