/*
 * 201-quant-ref.c - quant room, reference kernels: dequantization of
 * hand-built blocks, quantize -> dequantize error bounds, the activation
 * rounding (x86 ggml-cpu), reference dot products against dequantized
 * floats, and the weight quantizers against llama.cpp's own files: every
 * quantized tensor of the fixture GGUFs must come out byte for byte when
 * we quantize the F32 fixture's tensor.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "formats/formats.h"
#include "quant/quant.h"
#include "util/util.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float
frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static float
grand(void)
{
	return frand() + frand() + frand();
}

static uint16_t
h(float f)
{
	return util_f32_to_fp16(f);
}

/* ---------------------------------------------------------------- */

static void
test_hand_blocks(void)
{
	float y[256];
	int j, bad;

	{
		block_q4_0 b;

		b.d = h(0.5f);
		for (j = 0; j < 16; j++)
			b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
		quant_dequant_row_ref(GGML_TYPE_Q4_0, &b, y, 32);
		bad = 0;
		for (j = 0; j < 16; j++)
			bad += y[j] != (j - 8) * 0.5f ||
			    y[j + 16] != (7 - j) * 0.5f;
		ok(!bad, "Q4_0 hand block");
	}
	{
		block_q4_1 b;

		b.d = h(0.25f);
		b.m = h(-1.0f);
		for (j = 0; j < 16; j++)
			b.qs[j] = (uint8_t)(j | (j << 4));
		quant_dequant_row_ref(GGML_TYPE_Q4_1, &b, y, 32);
		bad = 0;
		for (j = 0; j < 16; j++)
			bad += y[j] != j * 0.25f - 1 || y[j + 16] != y[j];
		ok(!bad, "Q4_1 hand block");
	}
	{
		block_q5_0 b;
		uint32_t qh = 0x80000001u;	/* elements 0 and 31 */

		b.d = h(2.0f);
		memset(b.qs, 0x33, 16);
		memcpy(b.qh, &qh, 4);
		quant_dequant_row_ref(GGML_TYPE_Q5_0, &b, y, 32);
		ok(y[0] == (19 - 16) * 2.0f && y[1] == (3 - 16) * 2.0f &&
		    y[31] == (19 - 16) * 2.0f && y[16] == (3 - 16) * 2.0f,
		    "Q5_0 hand block (fifth bits 0 and 31)");
	}
	{
		block_q5_1 b;
		uint32_t qh = 0x00010000u;	/* element 16 */

		b.d = h(1.0f);
		b.m = h(0.5f);
		memset(b.qs, 0xF1, 16);
		memcpy(b.qh, &qh, 4);
		quant_dequant_row_ref(GGML_TYPE_Q5_1, &b, y, 32);
		ok(y[0] == 1.5f && y[16] == 31.5f && y[17] == 15.5f,
		    "Q5_1 hand block");
	}
	{
		block_q8_0 b;

		b.d = h(0.125f);
		for (j = 0; j < 32; j++)
			b.qs[j] = (int8_t)(j * 8 - 128);
		quant_dequant_row_ref(GGML_TYPE_Q8_0, &b, y, 32);
		bad = 0;
		for (j = 0; j < 32; j++)
			bad += y[j] != (j * 8 - 128) * 0.125f;
		ok(!bad, "Q8_0 hand block");
	}
	{
		block_mxfp4 b;
		static const float e2m1[16] = { 0, .5f, 1, 1.5f, 2, 3, 4, 6,
		    0, -.5f, -1, -1.5f, -2, -3, -4, -6 };

		b.e = 127 + 3;	/* scale 2^3 */
		for (j = 0; j < 16; j++)
			b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
		quant_dequant_row_ref(GGML_TYPE_MXFP4, &b, y, 32);
		bad = 0;
		for (j = 0; j < 16; j++)
			bad += y[j] != e2m1[j] * 8 ||
			    y[j + 16] != e2m1[15 - j] * 8;
		ok(!bad, "MXFP4 hand block: e2m1 values times 2^(e-127)");
		b.e = 0;
		b.qs[0] = 7;
		quant_dequant_row_ref(GGML_TYPE_MXFP4, &b, y, 32);
		ok(y[0] == 6 * ldexpf(1, -127), "MXFP4 E8M0 0 is 2^-127");
	}
	{
		block_iq4_nl b;

		b.d = h(1.0f);
		for (j = 0; j < 16; j++)
			b.qs[j] = (uint8_t)(j | (j << 4));
		quant_dequant_row_ref(GGML_TYPE_IQ4_NL, &b, y, 32);
		ok(y[0] == -127 && y[7] == -10 && y[8] == 1 &&
		    y[15] == 113 && y[31] == 113, "IQ4_NL code table");
	}
	{
		block_q2_K b;

		memset(&b, 0, sizeof b);
		b.d = h(1.0f);
		b.dmin = h(0.5f);
		for (j = 0; j < 16; j++)
			b.scales[j] = (uint8_t)((j % 16) | (1 << 4));
		/* element 32*s + l of the first 128: bits 2s of qs[l] */
		b.qs[0] = 3 << 2;	/* element 32 = 3 */
		b.qs[17] = 2;		/* element 17 = 2 */
		b.qs[32 + 5] = 1 << 6;	/* element 128 + 96 + 5 = 1 */
		quant_dequant_row_ref(GGML_TYPE_Q2_K, &b, y, 256);
		/* group of element e is e / 16 */
		ok(y[32] == 2 * 3 - 0.5f && y[17] == 1 * 2 - 0.5f &&
		    y[229] == 14 * 1 - 0.5f && y[0] == -0.5f,
		    "Q2_K hand block");
	}
	{
		block_q3_K b;

		memset(&b, 0, sizeof b);
		b.d = h(1.0f);
		/* scale j = 33 for all: low nibble 1, high bits 2 */
		for (j = 0; j < 8; j++)
			b.scales[j] = 0x11;
		for (j = 8; j < 12; j++)
			b.scales[j] = 0xAA;
		memset(b.hmask, 0xFF, 32);
		b.hmask[3] &= (uint8_t)~(1 << 5);	/* 128+32+3: -4 */
		b.qs[32 + 3] = 1 << 2;			/* level 1 */
		b.qs[7] = 3;				/* element 7: 3 */
		quant_dequant_row_ref(GGML_TYPE_Q3_K, &b, y, 256);
		ok(y[7] == 3 && y[163] == -3 && y[0] == 0,
		    "Q3_K hand block");
	}
	{
		block_q4_K b;

		memset(&b, 0, sizeof b);
		b.d = h(1.0f);
		b.dmin = h(1.0f);
		b.scales[0] = 2;	/* group 0 scale 2 */
		b.scales[4] = 1;	/* group 0 min 1 */
		b.scales[8] = 0x53;	/* group 4: scale 3, min 5 */
		b.qs[0] = 0x75;		/* element 0: 5, element 32: 7 */
		b.qs[64 + 1] = 0x04;	/* element 128+1: 4 */
		quant_dequant_row_ref(GGML_TYPE_Q4_K, &b, y, 256);
		ok(y[0] == 2 * 5 - 1 && y[32] == 0 && y[129] == 3 * 4 - 5,
		    "Q4_K hand block (6-bit scales/mins)");
	}
	{
		block_q5_K b;

		memset(&b, 0, sizeof b);
		b.d = h(1.0f);
		b.dmin = h(0.0f);
		b.scales[1] = 1;	/* group 1 scale 1 */
		b.qs[2] = 0x30;		/* element 34: 3 */
		b.qh[2] = 2;		/* + 16 */
		quant_dequant_row_ref(GGML_TYPE_Q5_K, &b, y, 256);
		ok(y[34] == 19 && y[2] == 0, "Q5_K hand block");
	}
	{
		block_q6_K b;

		memset(&b, 0, sizeof b);
		b.d = h(0.5f);
		for (j = 0; j < 16; j++)
			b.scales[j] = (int8_t)(j - 8);
		/* element 64 + 3: high nibble of ql[3], qh[3] bits 4-5 */
		b.ql[3] = 0xA0;
		b.qh[3] = 3 << 4;
		quant_dequant_row_ref(GGML_TYPE_Q6_K, &b, y, 256);
		ok(y[67] == 0.5f * (4 - 8) * (0x3A - 32) &&
		    y[0] == 0.5f * -8 * -32, "Q6_K hand block");
	}
	{
		block_iq4_xs b;

		memset(&b, 0, sizeof b);
		b.d = h(1.0f);
		b.scales_l[1] = 0x30;	/* group 3 low bits 3 */
		b.scales_h = 2 << 6;	/* group 3 high bits 2: 35 - 32 */
		b.qs[48] = 0xF0;	/* element 96: code 0, 112: code 15 */
		quant_dequant_row_ref(GGML_TYPE_IQ4_XS, &b, y, 256);
		ok(y[96] == 3 * -127 && y[112] == 3 * 113 && y[0] == -32 * -127,
		    "IQ4_XS hand block");
	}
	{
		block_q8_1 b;

		b.d = h(0.5f);
		b.s = h(3.0f);
		for (j = 0; j < 32; j++)
			b.qs[j] = (int8_t)(j - 16);
		quant_dequant_row_ref(GGML_TYPE_Q8_1, &b, y, 32);
		ok(y[0] == -8 && y[31] == 7.5f, "Q8_1 hand block");
	}
	{
		static block_q8_K b;

		b.d = -0.25f;
		for (j = 0; j < 256; j++)
			b.qs[j] = (int8_t)(j % 200 - 100);
		quant_dequant_row_ref(GGML_TYPE_Q8_K, &b, y, 256);
		ok(y[0] == 25 && y[255] == -0.25f * -45, "Q8_K hand block");
	}
	{
		float f[3] = { 1.5f, -2, 3e-39f };

		quant_dequant_row_ref(GGML_TYPE_F32, f, y, 3);
		ok(memcmp(f, y, sizeof f) == 0, "F32 dequant is a copy");
	}
	{
		uint16_t a[2] = { 0x3c00, 0xc000 }, bb[2] = { 0x3f80, 0x4040 };
		float o[2];

		quant_dequant_row_ref(GGML_TYPE_F16, a, o, 2);
		ok(o[0] == 1 && o[1] == -2, "F16 dequant");
		quant_dequant_row_ref(GGML_TYPE_BF16, bb, o, 2);
		ok(o[0] == 1 && o[1] == 3, "BF16 dequant");
	}
}

/* ---------------------------------------------------------------- */

static void
test_roundtrip(void)
{
	static const struct { int type; double tol; } t[] = {
		{ GGML_TYPE_F16, 1e-3 }, { GGML_TYPE_BF16, 8e-3 },
		{ GGML_TYPE_Q4_0, 0.13 }, { GGML_TYPE_Q4_1, 0.09 },
		{ GGML_TYPE_Q5_0, 0.05 }, { GGML_TYPE_Q5_1, 0.045 },
		{ GGML_TYPE_Q8_0, 0.006 }, { GGML_TYPE_Q8_1, 0.006 },
		{ GGML_TYPE_Q2_K, 0.35 }, { GGML_TYPE_Q3_K, 0.18 },
		{ GGML_TYPE_Q4_K, 0.09 }, { GGML_TYPE_Q5_K, 0.045 },
		{ GGML_TYPE_Q6_K, 0.025 }, { GGML_TYPE_Q8_K, 0.006 },
		{ GGML_TYPE_MXFP4, 0.25 },
	};
	enum { N = 1024 };
	static float x[N], y[N];
	static unsigned char q[N * 4];
	size_t i, k;

	for (i = 0; i < N; i++)
		x[i] = grand();
	for (k = 0; k < sizeof t / sizeof t[0]; k++) {
		double err = 0, amax = 0;
		int rc;

		rc = quant_quantize_row(t[k].type, x, q, N);
		quant_dequant_row_ref(t[k].type, q, y, N);
		for (i = 0; i < N; i++) {
			double e = fabs((double)x[i] - y[i]);

			err = e > err ? e : err;
			amax = fabs(x[i]) > amax ? fabs(x[i]) : amax;
		}
		ok(rc == 0 && err <= t[k].tol * amax,
		    "%s quantize/dequantize max error %.4f <= %.4f",
		    quant_type_info(t[k].type)->name, err, t[k].tol * amax);
	}
	ok(quant_quantize_row(GGML_TYPE_IQ2_XXS, x, q, 256) ==
	    ERR_UNSUPPORTED, "quantize IQ2_XXS: unsupported");
	ok(quant_quantize_row(GGML_TYPE_Q4_0, x, q, 33) == ERR_RANGE,
	    "quantize 33 elements of Q4_0: range error");
	{
		size_t b = 0;

		ok(quant_row_bytes(GGML_TYPE_Q4_K, 512, &b) == 0 && b == 288,
		    "row bytes Q4_K 512");
		ok(quant_row_bytes(GGML_TYPE_Q4_K, 100, &b) == ERR_RANGE,
		    "row bytes of a partial block: range error");
		ok(quant_row_bytes(GGML_TYPE_F32, INT64_MAX, &b) == ERR_RANGE,
		    "row bytes overflow caught");
		ok(quant_row_bytes(77, 32, &b) == ERR_UNSUPPORTED,
		    "row bytes of an unknown type");
	}
	/* all-zero and hostile blocks must not trap */
	memset(x, 0, sizeof x);
	for (k = 0; k < sizeof t / sizeof t[0]; k++)
		quant_quantize_row(t[k].type, x, q, 256);
	x[3] = NAN;
	x[40] = INFINITY;
	x[300] = -INFINITY;
	for (k = 0; k < sizeof t / sizeof t[0]; k++)
		quant_quantize_row(t[k].type, x, q, 512);
	for (k = 0; k <= QUANT_ISA_AVX512; k++) {
		quant_set_isa((enum quant_isa)k);
		quant_quantize_act(GGML_TYPE_Q8_0, x, q, 512);
		quant_quantize_act(GGML_TYPE_Q8_1, x, q, 512);
		quant_quantize_act(GGML_TYPE_Q8_K, x, q, 512);
		quant_quantize_act(GGML_TYPE_F16, x, q, 512);
		quant_quantize_act(GGML_TYPE_BF16, x, q, 512);
	}
	quant_set_isa(QUANT_ISA_AVX512);
	ok(1, "zero, NaN and infinite inputs quantize without trapping");
}

/* ---------------------------------------------------------------- */

static void
test_act(void)
{
	float x[256];
	block_q8_0 a, r;
	block_q8_1 a1;
	block_q8_K k;
	int j, bad;

	/* amax 127: multiplier exactly 1, so x.5 values are ties */
	for (j = 0; j < 32; j++)
		x[j] = 0;
	x[0] = 127;
	x[1] = 0.5f;
	x[2] = 1.5f;
	x[3] = 2.5f;
	x[4] = -2.5f;
	x[5] = -0.5f;
	x[6] = 3.49f;
	quant_quantize_act(GGML_TYPE_Q8_0, x, &a, 32);
	quant_quantize_row(GGML_TYPE_Q8_0, x, &r, 32);
	ok(a.qs[0] == 127 && a.qs[1] == 0 && a.qs[2] == 2 && a.qs[3] == 2 &&
	    a.qs[4] == -2 && a.qs[5] == 0 && a.qs[6] == 3 &&
	    a.d == util_f32_to_fp16(1.0f),
	    "Q8_0 activations round half to even (x86 AVX path)");
	ok(r.qs[1] == 1 && r.qs[3] == 3 && r.qs[4] == -3 && r.qs[5] == -1,
	    "Q8_0 weights round half away from zero (quantize_row_q8_0_ref)");
	quant_quantize_act(GGML_TYPE_Q8_1, x, &a1, 32);
	ok(memcmp(a1.qs, a.qs, 32) == 0 &&
	    a1.s == util_f32_to_fp16(127 + 0 + 2 + 2 - 2 + 0 + 3),
	    "Q8_1 activations: same quants, s = d * sum");
	/* multiplier 127/amax, not 1/(amax/127): 1/d differs here */
	for (j = 0; j < 32; j++)
		x[j] = (j - 16) * 0.0123f;
	x[7] = 0.3f;
	quant_quantize_act(GGML_TYPE_Q8_0, x, &a, 32);
	bad = 0;
	for (j = 0; j < 32; j++) {
		float id = 127.f / 0.3f;
		float v = nearbyintf(x[j] * id);

		bad += a.qs[j] != (int8_t)v;
	}
	ok(!bad && a.d == util_f32_to_fp16(0.3f / 127.f),
	    "Q8_0 activations use 127/amax and RNE");
	/* Q8_K: largest magnitude positive -> negative scale */
	for (j = 0; j < 256; j++)
		x[j] = (float)((j * 37) % 101 - 50) / 10.0f;
	x[9] = 12.7f;
	quant_quantize_act(GGML_TYPE_Q8_K, x, &k, 256);
	bad = 0;
	for (j = 0; j < 256; j++) {
		float v = nearbyintf(-127.f / 12.7f * x[j]);

		bad += k.qs[j] != (int8_t)(v > 127 ? 127 : v);
	}
	for (j = 0; j < 16; j++) {
		int s = 0, l;

		for (l = 0; l < 16; l++)
			s += k.qs[16 * j + l];
		bad += k.bsums[j] != s;
	}
	ok(!bad && k.d == 1 / (-127.f / 12.7f) && k.qs[9] == -127,
	    "Q8_K activations: -127/max, nearest even, bsums");
}

/* ---------------------------------------------------------------- */

static void
test_dot_vs_dequant(void)
{
	static const int types[] = {
		GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0,
		GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
		GGML_TYPE_IQ4_NL, GGML_TYPE_MXFP4, GGML_TYPE_Q2_K,
		GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
		GGML_TYPE_IQ4_XS,
	};
	enum { N = 768 };
	static float x[N], w[N], dw[N], dx[N];
	static unsigned char qw[N * 4], qx[N * 4];
	size_t k;
	int i;

	for (i = 0; i < N; i++) {
		w[i] = grand();
		x[i] = grand();
	}
	for (k = 0; k < sizeof types / sizeof types[0]; k++) {
		int t = types[k], vt = quant_vec_dot_type(t);
		double want = 0, mag = 0;
		float got;

		if (quant_quantize_row(t, w, qw, N) != 0) {
			/* IQ4_NL / IQ4_XS: random bytes with sane scales */
			size_t rb = 0, b;

			quant_row_bytes(t, N, &rb);
			for (b = 0; b < rb; b++)
				qw[b] = (unsigned char)(frand() * 127 + 128);
			if (t == GGML_TYPE_IQ4_NL)
				for (b = 0; b < N / 32; b++)
					((block_iq4_nl *)qw)[b].d = h(0.01f);
			else
				for (b = 0; b < N / 256; b++)
					((block_iq4_xs *)qw)[b].d = h(0.01f);
		}
		quant_quantize_act(vt, x, qx, N);
		quant_dequant_row_ref(t, qw, dw, N);
		quant_dequant_row_ref(vt, qx, dx, N);
		for (i = 0; i < N; i++) {
			want += (double)dw[i] * dx[i];
			mag += fabs((double)dw[i] * dx[i]);
		}
		got = quant_vec_dot_ref(t, N, qw, qx);
		is_near(got, want, 1e-5 * mag + 1e-6,
		    "%s ref dot equals dot of dequantized rows",
		    quant_type_info(t)->name);
	}
	ok(quant_vec_dot_type(GGML_TYPE_Q4_K) == GGML_TYPE_Q8_K &&
	    quant_vec_dot_type(GGML_TYPE_Q5_1) == GGML_TYPE_Q8_1 &&
	    quant_vec_dot_type(GGML_TYPE_MXFP4) == GGML_TYPE_Q8_0 &&
	    quant_vec_dot_type(GGML_TYPE_IQ4_XS) == GGML_TYPE_Q8_K &&
	    quant_vec_dot_type(GGML_TYPE_BF16) == GGML_TYPE_BF16 &&
	    quant_vec_dot_type(GGML_TYPE_IQ2_XXS) == -1,
	    "vec_dot types as ggml-cpu");
	ok(quant_supported(GGML_TYPE_Q6_K) &&
	    !quant_supported(GGML_TYPE_Q8_K) &&
	    !quant_supported(GGML_TYPE_IQ2_XS) && !quant_supported(-1) &&
	    !quant_supported(400), "supported weight types");
}

/* ---------------------------------------------------------------- */
/* llama.cpp's files                                                 */

struct tally {
	int	type;
	int	tensors, same, rows, rows_same;
	char	first_bad[128];
};

static struct tally *
tally_of(struct tally *t, int *nt, int type)
{
	int i;

	for (i = 0; i < *nt; i++)
		if (t[i].type == type)
			return &t[i];
	memset(&t[*nt], 0, sizeof t[*nt]);
	t[*nt].type = type;
	return &t[(*nt)++];
}

static void
compare_file(const char *dir, const char *arch, const char *variant)
{
	const char *fp = tap_path("%s/models/%s/%s-f32.gguf", dir, arch, arch);
	const char *qp = tap_path("%s/models/%s/%s-%s.gguf", dir, arch, arch,
	    variant);
	struct gguf *gf = NULL, *gq = NULL;
	struct tally tl[16];
	struct err e;
	uint64_t i;
	int nt = 0, k;

	if (gguf_open(&gf, fp, &e) != 0 || gguf_open(&gq, qp, &e) != 0) {
		ok(0, "%s %s: open: %s", arch, variant, e.msg);
		gguf_close(gf);
		return;
	}
	for (i = 0; i < gq->n_tensors; i++) {
		const struct gguf_tensor *tq = &gq->tensors[i], *tf;
		size_t rb = 0, fb = 0;
		int64_t n, nrow, r;
		float *row;
		unsigned char *buf;
		struct tally *ty;
		int same = 1;

		if (tq->type == GGML_TYPE_F32)
			continue;
		tf = gguf_find_tensor(gf, tq->name);
		if (tf == NULL)
			continue;
		n = (int64_t)tq->ne[0];
		nrow = (int64_t)(gguf_tensor_nelem(tq) / tq->ne[0]);
		if (quant_row_bytes(tq->type, n, &rb) != 0 ||
		    quant_row_bytes(tf->type, n, &fb) != 0)
			continue;
		ty = tally_of(tl, &nt, tq->type);
		ty->tensors++;
		row = malloc((size_t)n * sizeof(float));
		buf = malloc(rb);
		for (r = 0; r < nrow; r++) {
			const unsigned char *src = (const unsigned char *)
			    tf->data + (size_t)r * fb;

			quant_dequant_row_ref(tf->type, src, row, n);
			quant_quantize_row(tq->type, row, buf, n);
			ty->rows++;
			if (memcmp(buf, (const unsigned char *)tq->data +
			    (size_t)r * rb, rb) == 0)
				ty->rows_same++;
			else
				same = 0;
		}
		if (same)
			ty->same++;
		else if (ty->first_bad[0] == 0)
			snprintf(ty->first_bad, sizeof ty->first_bad, "%s",
			    tq->name);
		free(row);
		free(buf);
	}
	for (k = 0; k < nt; k++) {
		ok(tl[k].same == tl[k].tensors, "%s %s: %s: %d/%d tensors, "
		    "%d/%d rows identical to llama.cpp's", arch, variant,
		    quant_type_info(tl[k].type)->name, tl[k].same,
		    tl[k].tensors, tl[k].rows_same, tl[k].rows);
		if (tl[k].first_bad[0])
			diag("  first differing tensor: %s", tl[k].first_bad);
	}
	gguf_close(gf);
	gguf_close(gq);
}

static void
test_fixtures(void)
{
	static const char *archs[] = { "mixtral", "qwen2moe", "qwen3moe",
	    "olmoe", "deepseek2", "gpt-oss" };
	const char *dir = tap_fixtures();
	size_t a;

	if (dir == NULL) {
		ok(1, "# skip no fixtures");
		return;
	}
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++) {
		compare_file(dir, archs[a], "q8_0");
		compare_file(dir, archs[a], "q4_k_m");
	}
}

int
main(void)
{
	test_hand_blocks();
	test_roundtrip();
	test_act();
	test_dot_vs_dequant();
	test_fixtures();
	return tap_done();
}
