/*
 * 502-kernels-ops.c - every CUDA kernel against the CPU reference on
 * random data whose sizes have tails (row counts not a multiple of the
 * rows per block, token counts not a multiple of the token tile, odd
 * block counts, contexts across several attention chunks):
 *
 *   kern_matmul   every weight type, 1 / 3 / 17 tokens (per-row kernels:
 *                 the CPU's activation rounding, so close to
 *                 quant_vec_dot_ref) and 80 tokens through cuBLAS (F16
 *                 tiles: looser); kern_dequant against
 *                 quant_dequant_row_ref
 *   kern_rmsnorm, kern_rope (normal, NeoX, YaRN), kern_attention (GQA,
 *                 sliding window, sinks, decode and prefill), kern_route
 *                 (softmax, sigmoid, softmax over the top k; biases,
 *                 renormalization, scale), kern_swiglu (both forms),
 *                 kern_add, kern_add_rows
 *   out of device memory: a clear ERR_NOMEM, and the device still works
 *
 * The CPU side restates the engine's small kernels (engine-forward.c).
 * Prints "1..0 # SKIP no CUDA device" where there is none.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "quant/quant.h"
#include "quant/quant-block.h"
#include "util/util.h"

#ifndef HAVE_CUDA
int
main(void)
{
	tap_skip_all("no CUDA device (built without the CUDA backend)");
	return 0;
}
#else
#include "kern.h"

static uint64_t rng = 0xD1B54A32D192ED03ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static float
frand(void)
{
	return (float)(rnd() & 0xffffff) / 8388608.0f - 1.0f;
}

static struct err ke;

/* Device copy of n bytes (NULL on failure, reported). */
static void *
up(const void *h, size_t n)
{
	void *d = NULL;

	if (kern_malloc(&d, n, &ke) != 0 || kern_h2d(d, h, n, NULL, &ke) != 0) {
		diag("upload: %s", ke.msg);
		kern_free(d);
		return NULL;
	}
	return d;
}

static int
down(void *h, const void *d, size_t n)
{
	if (kern_d2h(h, d, n, NULL, &ke) != 0 ||
	    kern_stream_sync(NULL, &ke) != 0) {
		diag("download: %s", ke.msg);
		return -1;
	}
	return 0;
}

/* Largest |a - b| relative to scale (per element scale when sc != NULL). */
static double
maxdiff(const float *a, const float *b, size_t n, const float *sc, float s)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]) /
		    ((sc ? sc[i] : s) + 1e-30);

		if (!(d <= m))
			m = d;
	}
	return m;
}

/* ---- products ---- */

static const int types[] = {
	GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0,
	GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
	GGML_TYPE_IQ4_NL, GGML_TYPE_MXFP4, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
	GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_XS,
};
#define NTYPES ((int)(sizeof types / sizeof types[0]))
#define ROWS	37
#define MAXTOK	80

/* Random weights: quantized floats, or (IQ4_*) random codes. */
static void
rand_weights(int type, int64_t n, uint8_t *w, size_t rb)
{
	static float f[4096];
	int r, i;

	for (r = 0; r < ROWS; r++) {
		uint8_t *row = w + (size_t)r * rb;

		for (i = 0; i < n; i++)
			f[i] = frand() * 0.5f;
		if (quant_quantize_row(type, f, row, n) == 0)
			continue;
		for (i = 0; i < (int)rb; i++)
			row[i] = (uint8_t)rnd();
		if (type == GGML_TYPE_IQ4_NL)
			for (i = 0; i < n / 32; i++)
				((block_iq4_nl *)row)[i].d = qb_f2h(0.01f);
		else
			for (i = 0; i < n / 256; i++)
				((block_iq4_xs *)row)[i].d = qb_f2h(0.01f);
	}
}

static void
check_matmul(int type)
{
	static uint8_t w[ROWS * 4096 * 4], xq[MAXTOK * 4096 * 4];
	static float x[MAXTOK * 4096], ref[MAXTOK * ROWS],
	    got[MAXTOK * ROWS], mag[MAXTOK * ROWS], wf[ROWS * 4096],
	    dq[ROWS * 4096];
	static const int ntoks[] = { 1, 3, 17, 80 };
	const struct quant_type_info *ti = quant_type_info(type);
	int64_t n = ti->blck == 1 ? 2141 : ti->blck == 32 ? 32 * 13 : 256 * 3;
	int vt = quant_vec_dot_type(type), k, t, r;
	size_t rb = 0, qb = 0, wsb;
	void *dw, *dx, *dy, *dws = NULL, *ddq = NULL;
	double md;

	quant_row_bytes(type, n, &rb);
	quant_row_bytes(vt, n, &qb);
	rand_weights(type, n, w, rb);
	for (r = 0; r < ROWS; r++)
		quant_dequant_row_ref(type, w + (size_t)r * rb, wf + r * n, n);
	for (t = 0; t < MAXTOK * n; t++)
		x[t] = frand() * (t % 7 == 0 ? 4.0f : 1.0f);
	for (t = 0; t < MAXTOK; t++) {
		quant_quantize_act(vt, x + t * n, xq + t * qb, n);
		for (r = 0; r < ROWS; r++) {
			double m = 0;
			int i;

			ref[t * ROWS + r] = quant_vec_dot_ref(type, n,
			    w + (size_t)r * rb, xq + t * qb);
			for (i = 0; i < n; i++)
				m += fabs((double)wf[r * n + i] * x[t * n + i]);
			mag[t * ROWS + r] = (float)m;
		}
	}
	wsb = kern_matmul_ws(type, n, ROWS, MAXTOK, 1);
	if (wsb < kern_matmul_ws(type, n, ROWS, MAXTOK, 0))
		wsb = kern_matmul_ws(type, n, ROWS, MAXTOK, 0);
	dw = up(w, ROWS * rb);
	dx = up(x, sizeof(float) * MAXTOK * n);
	dy = up(got, sizeof got);
	if (dw == NULL || dx == NULL || dy == NULL ||
	    kern_malloc(&dws, wsb, &ke) != 0) {
		ok(0, "%s: device buffers", ti->name);
		goto out;
	}
	for (k = 0; k < 4; k++) {
		int nt = ntoks[k], gemm = nt >= KERN_GEMM_MIN &&
		    type != GGML_TYPE_F32;
		int rc = kern_matmul(type, n, ROWS, dw, rb, dx, n, nt, dy,
		    ROWS, dws, wsb, NULL, &ke);

		if (rc != 0 || down(got, dy, sizeof(float) * nt * ROWS)) {
			ok(0, "%s x %d tokens: %s", ti->name, nt, ke.msg);
			continue;
		}
		md = maxdiff(got, ref, (size_t)nt * ROWS, mag, 0);
		/* per-row kernels: the CPU's block dots, summed in another
		 * order (float, where F32/F16/BF16 sum in double on the CPU);
		 * cuBLAS: F16 activations instead of the CPU's Q8 ones */
		ok(md <= (gemm ? 2e-3 : ti->blck == 1 ? 1e-4 : 2e-5),
		    "%s x %d tokens%s: max error "
		    "%.3g of |w||x|", ti->name, nt, gemm ? " (cuBLAS)" : "",
		    md);
	}
	/* activations past F16's range (x 2^16, exact for the Q8 blocks):
	 * the cuBLAS path scales them down and back */
	if (ti->blck > 1) {
		for (t = 0; t < MAXTOK * n; t++)
			x[t] *= 65536.0f;
		for (t = 0; t < MAXTOK * ROWS; t++) {
			ref[t] *= 65536.0f;
			mag[t] *= 65536.0f;
		}
		if (kern_h2d(dx, x, sizeof(float) * MAXTOK * n, NULL, &ke) !=
		    0 || kern_matmul(type, n, ROWS, dw, rb, dx, n, MAXTOK, dy,
		    ROWS, dws, wsb, NULL, &ke) != 0 || down(got, dy,
		    sizeof(float) * MAXTOK * ROWS) != 0)
			ok(0, "%s: large activations: %s", ti->name, ke.msg);
		else {
			md = maxdiff(got, ref, (size_t)MAXTOK * ROWS, mag, 0);
			ok(md <= 2e-3, "%s x %d tokens (cuBLAS), activations "
			    "up to 2^18: max error %.3g of |w||x|",
			    ti->name, MAXTOK, md);
		}
	}
	/* dequantization of the same rows */
	if (kern_malloc(&ddq, sizeof(float) * ROWS * n, &ke) == 0 &&
	    kern_dequant(type, n, ROWS, dw, rb, ddq, NULL, &ke) == 0 &&
	    down(dq, ddq, sizeof(float) * ROWS * n) == 0) {
		md = maxdiff(dq, wf, (size_t)ROWS * n, NULL, 1.0f);
		ok(md == 0, "%s: kern_dequant equals the reference (%.3g)",
		    ti->name, md);
	} else
		ok(0, "%s: kern_dequant: %s", ti->name, ke.msg);
out:
	kern_free(ddq);
	kern_free(dw);
	kern_free(dx);
	kern_free(dy);
	kern_free(dws);
}

/* ---- CPU restatements of the engine's small kernels ---- */

static void
rmsnorm(float *y, const float *x, const float *w, int n, float eps)
{
	double sum = 0;
	float scale;
	int i;

	for (i = 0; i < n; i++)
		sum += (double)(x[i] * x[i]);
	scale = 1.0f / sqrtf((float)(sum / n) + eps);
	for (i = 0; i < n; i++)
		y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

static void
rope(float *v, int pos, const struct kern_rope *p)
{
	float theta_scale = powf(p->base, -2.0f / (float)p->n_rot);
	float theta = (float)pos, c, s, x0, x1, t;
	int i, half = p->n_rot / 2;

	for (i = 0; i < half; i++) {
		t = p->freq_scale * theta;
		if (p->ext_factor != 0.0f) {
			float y = ((float)i - p->corr[0]) /
			    fmaxf(0.001f, p->corr[1] - p->corr[0]);
			float mix = (1 - fminf(1, fmaxf(0, y))) *
			    p->ext_factor;

			t = t * (1 - mix) + theta * mix;
		}
		c = cosf(t) * p->attn_factor;
		s = sinf(t) * p->attn_factor;
		if (p->neox) {
			x0 = v[i];
			x1 = v[i + half];
			v[i] = x0 * c - x1 * s;
			v[i + half] = x0 * s + x1 * c;
		} else {
			x0 = v[2 * i];
			x1 = v[2 * i + 1];
			v[2 * i] = x0 * c - x1 * s;
			v[2 * i + 1] = x0 * s + x1 * c;
		}
		theta *= theta_scale;
	}
}

static void
check_small(void)
{
	enum { N = 1000, R = 5 };
	static float x[R * N], w[N], y[R * N], g[R * N], u[R * N];
	float *dx, *dw, *du;
	double md;
	int i, r;

	for (i = 0; i < R * N; i++) {
		x[i] = frand() * 3;
		u[i] = frand() * 10;
	}
	for (i = 0; i < N; i++)
		w[i] = frand();
	dx = up(x, sizeof x);
	dw = up(w, sizeof w);
	du = up(u, sizeof u);
	if (dx == NULL || dw == NULL || du == NULL) {
		ok(0, "small ops: device buffers");
		goto out;
	}
	for (r = 0; r < R; r++)
		rmsnorm(y + r * N, x + r * N, w, N, 1e-6f);
	kern_rmsnorm(dx, dx, dw, N, R, 1e-6f, NULL, &ke);
	down(g, dx, sizeof g);
	md = maxdiff(g, y, R * N, NULL, 1.0f);
	ok(md <= 1e-5, "rmsnorm (%.3g)", md);

	kern_h2d(dx, x, sizeof x, NULL, &ke);
	kern_swiglu(dx, du, R * N, 0, NULL, &ke);
	down(g, dx, sizeof g);
	for (i = 0; i < R * N; i++)
		y[i] = x[i] / (1.0f + expf(-x[i])) * u[i];
	md = maxdiff(g, y, R * N, NULL, 1.0f);
	ok(md <= 1e-5, "swiglu (%.3g)", md);

	kern_h2d(dx, x, sizeof x, NULL, &ke);
	kern_swiglu(dx, du, R * N, 1, NULL, &ke);
	down(g, dx, sizeof g);
	for (i = 0; i < R * N; i++) {
		float a = fminf(x[i], 7.0f);
		float b = fminf(fmaxf(u[i], -7.0f), 7.0f);

		y[i] = a / (1.0f + expf(1.702f * -a)) * (b + 1.0f);
	}
	md = maxdiff(g, y, R * N, NULL, 1.0f);
	ok(md <= 1e-5, "swiglu, gpt-oss clamp (%.3g)", md);

	kern_h2d(dx, x, sizeof x, NULL, &ke);
	kern_add(dx, du, 0.25f, R * N, NULL, &ke);
	kern_add_rows(dx, dw, R, N, NULL, &ke);
	down(g, dx, sizeof g);
	for (i = 0; i < R * N; i++)
		y[i] = (x[i] + u[i] * 0.25f) + w[i % N];
	md = maxdiff(g, y, R * N, NULL, 1.0f);
	ok(md == 0, "add, add_rows (%.3g)", md);
out:
	kern_free(dx);
	kern_free(dw);
	kern_free(du);
}

static void
check_rope(void)
{
	enum { T = 5, H = 3, HD = 64 };
	static float v[T * H * HD], y[T * H * HD], g[T * H * HD];
	struct kern_rope p[3] = {
		{ 64, 0, 10000.0f, 1.0f, 0.0f, 1.0f, { 0, 0 } },
		{ 48, 1, 1000000.0f, 1.0f, 0.0f, 1.0f, { 0, 0 } },
		{ 64, 1, 10000.0f, 0.25f, 1.0f, 1.1f, { 7.5f, 20.2f } },
	};
	float *dv;
	int k, i, t, h;

	for (i = 0; i < T * H * HD; i++)
		v[i] = frand();
	dv = up(v, sizeof v);
	if (dv == NULL) {
		ok(0, "rope: device buffer");
		return;
	}
	for (k = 0; k < 3; k++) {
		double md;

		memcpy(y, v, sizeof v);
		for (t = 0; t < T; t++)
			for (h = 0; h < H; h++)
				rope(y + (t * H + h) * HD, 1000 + t, &p[k]);
		kern_h2d(dv, v, sizeof v, NULL, &ke);
		kern_rope(dv, T, H, H * HD, HD, 1000, &p[k], NULL, &ke);
		down(g, dv, sizeof g);
		md = maxdiff(g, y, T * H * HD, NULL, 1.0f);
		ok(md <= 2e-4, "rope %s%s (%.3g)", p[k].neox ? "neox" :
		    "normal", p[k].ext_factor ? " yarn" : "", md);
	}
	kern_free(dv);
}

/* CPU attention: engine-forward.c's att_run for all (token, head). */
static void
attn_ref(const float *q, const float *kc, const float *vc,
    const struct kern_attn *p, const float *sinks, float *out)
{
	static float sc[4096];
	int t, h, grp = p->n_head / p->n_head_kv;

	for (t = 0; t < p->ntok; t++)
		for (h = 0; h < p->n_head; h++) {
			int g = h / grp, pp = p->pos0 + t, jj, i, j0 = 0;
			const float *qq = q + ((size_t)t * p->n_head + h) *
			    p->hdk;
			float *o = out + ((size_t)t * p->n_head + h) * p->hdv;
			float mx = -INFINITY;
			double sum = 0;

			if (p->window > 0 && pp - p->window + 1 > 0)
				j0 = pp - p->window + 1;
			for (jj = j0; jj <= pp; jj++) {
				const float *kr = kc + (size_t)jj * p->ks +
				    (size_t)g * p->hdk;
				float s = 0;

				for (i = 0; i < p->hdk; i++)
					s += qq[i] * kr[i];
				sc[jj] = s * p->scale;
				if (sc[jj] > mx)
					mx = sc[jj];
			}
			if (sinks != NULL && sinks[h] > mx)
				mx = sinks[h];
			for (jj = j0; jj <= pp; jj++) {
				sc[jj] = expf(sc[jj] - mx);
				sum += sc[jj];
			}
			if (sinks != NULL)
				sum += expf(sinks[h] - mx);
			sum = 1.0 / sum;
			for (i = 0; i < p->hdv; i++)
				o[i] = 0;
			for (jj = j0; jj <= pp; jj++) {
				const float *vr = vc + (size_t)jj * p->vs +
				    (size_t)g * p->hdv;
				float pj = sc[jj] * (float)sum;

				for (i = 0; i < p->hdv; i++)
					o[i] += pj * vr[i];
			}
		}
}

static void
check_attn(void)
{
	enum { CTX = 900, NH = 8, NKV = 2, HD = 72 };
	static float q[7 * NH * HD], kc[CTX * NKV * HD], vc[CTX * NKV * HD];
	static float y[7 * NH * HD], g[7 * NH * HD], sinks[NH];
	static const struct { int ntok, pos0, window, sink; } cs[] = {
		{ 1, 0, 0, 0 }, { 1, 700, 0, 0 }, { 7, 3, 0, 0 },
		{ 5, 500, 0, 1 }, { 6, 600, 128, 1 }, { 1, 899, 4, 0 },
	};
	float *dq = NULL, *dk = NULL, *dv = NULL, *dout = NULL, *ds = NULL;
	void *dws = NULL;
	size_t i;
	int k;

	for (i = 0; i < sizeof q / sizeof *q; i++)
		q[i] = frand();
	for (i = 0; i < sizeof kc / sizeof *kc; i++) {
		kc[i] = frand();
		vc[i] = frand();
	}
	for (i = 0; i < NH; i++)
		sinks[i] = frand() * 2;
	dq = up(q, sizeof q);
	dk = up(kc, sizeof kc);
	dv = up(vc, sizeof vc);
	dout = up(g, sizeof g);
	ds = up(sinks, sizeof sinks);
	for (k = 0; k < (int)(sizeof cs / sizeof cs[0]); k++) {
		struct kern_attn p;
		double md;

		memset(&p, 0, sizeof p);
		p.ntok = cs[k].ntok;
		p.n_head = NH;
		p.n_head_kv = NKV;
		p.hdk = p.hdv = HD;
		p.ks = p.vs = NKV * HD;
		p.pos0 = cs[k].pos0;
		p.window = cs[k].window;
		p.scale = 1.0f / sqrtf(HD);
		p.dsinks = cs[k].sink ? ds : NULL;
		attn_ref(q, kc, vc, &p, cs[k].sink ? sinks : NULL, y);
		kern_free(dws);
		dws = NULL;
		if (dq == NULL || dk == NULL || dv == NULL || dout == NULL ||
		    ds == NULL ||
		    kern_malloc(&dws, kern_attn_ws(&p), &ke) != 0 ||
		    kern_attention(dq, dk, dv, dout, &p, dws, NULL, &ke) != 0 ||
		    down(g, dout, sizeof(float) * p.ntok * NH * HD) != 0) {
			ok(0, "attention case %d: %s", k, ke.msg);
			continue;
		}
		md = maxdiff(g, y, (size_t)p.ntok * NH * HD, NULL, 1.0f);
		ok(md <= 1e-5, "attention: %d tokens at %d, window %d%s "
		    "(%.3g)", p.ntok, p.pos0, p.window, cs[k].sink ?
		    ", sinks" : "", md);
	}
	kern_free(dws);
	kern_free(dq);
	kern_free(dk);
	kern_free(dv);
	kern_free(dout);
	kern_free(ds);
}

/* CPU routing: engine-forward.c's route_token without expert groups. */
static void
route_ref(float *p, int E, int K, int gating, int norm, float scale,
    const float *lb, const float *sb, int *sel, float *w)
{
	float score[1024], sum = 0, mx = -INFINITY;
	double ds = 0;
	int e, s, i;

	for (e = 0; e < E; e++)
		p[e] += lb ? lb[e] : 0;
	if (gating == KERN_GATE_SOFTMAX) {
		for (e = 0; e < E; e++)
			mx = p[e] > mx ? p[e] : mx;
		for (e = 0; e < E; e++) {
			p[e] = expf(p[e] - mx);
			ds += p[e];
		}
		ds = 1.0 / ds;
		for (e = 0; e < E; e++)
			p[e] *= (float)ds;
	} else if (gating == KERN_GATE_SIGMOID)
		for (e = 0; e < E; e++)
			p[e] = 1.0f / (1.0f + expf(-p[e]));
	for (e = 0; e < E; e++)
		score[e] = p[e] + (sb ? sb[e] : 0);
	for (s = 0; s < K; s++) {
		int best = -1;

		for (e = 0; e < E; e++) {
			int taken = 0;

			for (i = 0; i < s; i++)
				taken |= sel[i] == e;
			if (!taken && (best < 0 || score[e] > score[best]))
				best = e;
		}
		sel[s] = best;
		w[s] = p[best];
	}
	if (gating == KERN_GATE_SOFTMAX_TOPK) {
		mx = -INFINITY;
		ds = 0;
		for (s = 0; s < K; s++)
			mx = w[s] > mx ? w[s] : mx;
		for (s = 0; s < K; s++) {
			w[s] = expf(w[s] - mx);
			ds += w[s];
		}
		for (s = 0; s < K; s++)
			w[s] *= (float)(1.0 / ds);
	}
	for (s = 0; s < K; s++)
		sum += w[s];
	if (norm) {
		if (sum < 6.103515625e-5f)
			sum = 6.103515625e-5f;
		for (s = 0; s < K; s++)
			w[s] /= sum;
	}
	if (scale != 1.0f)
		for (s = 0; s < K; s++)
			w[s] *= scale;
}

static void
check_route(void)
{
	enum { T = 9, E = 300, K = 8 };
	static float lg[T * E], lb[E], sb[E], wr[T * K], wg[T * K];
	static float tmp[E];
	static int32_t sg[T * K];
	static int sr[T * K];
	static const struct { int gating, norm, bias; float scale; } cs[] = {
		{ KERN_GATE_SOFTMAX, 1, 0, 1.0f },
		{ KERN_GATE_SOFTMAX, 0, 1, 2.5f },
		{ KERN_GATE_SIGMOID, 1, 1, 1.0f },
		{ KERN_GATE_SOFTMAX_TOPK, 0, 0, 1.0f },
	};
	float *dl = NULL, *dlb, *dsb, *dw;
	int32_t *dsel;
	int k, t, i;

	for (i = 0; i < E; i++) {
		lb[i] = frand() * 0.1f;
		sb[i] = frand() * 0.01f;
	}
	dlb = up(lb, sizeof lb);
	dsb = up(sb, sizeof sb);
	dw = up(wg, sizeof wg);
	dsel = up(sg, sizeof sg);
	for (k = 0; k < 4; k++) {
		int same = 1;
		double md;

		for (i = 0; i < T * E; i++)
			lg[i] = frand() * 4;
		lg[3] = lg[4];		/* a tie */
		kern_free(dl);
		dl = up(lg, sizeof lg);
		for (t = 0; t < T; t++) {
			memcpy(tmp, lg + t * E, sizeof tmp);
			route_ref(tmp, E, K, cs[k].gating, cs[k].norm,
			    cs[k].scale, cs[k].bias ? lb : NULL, cs[k].bias ?
			    sb : NULL, sr + t * K, wr + t * K);
		}
		if (dl == NULL || dlb == NULL || dsb == NULL || dw == NULL ||
		    dsel == NULL || kern_route(dl, T, E, K, cs[k].gating,
		    cs[k].norm, cs[k].scale, cs[k].bias ? dlb : NULL,
		    cs[k].bias ? dsb : NULL, dsel, dw, NULL, &ke) != 0 ||
		    down(sg, dsel, sizeof sg) != 0 ||
		    down(wg, dw, sizeof wg) != 0) {
			ok(0, "route case %d: %s", k, ke.msg);
			continue;
		}
		for (i = 0; i < T * K; i++)
			same &= sg[i] == sr[i];
		md = maxdiff(wg, wr, T * K, NULL, 1.0f);
		ok(same && md <= 1e-5, "route gating %d norm %d bias %d "
		    "scale %g: same experts, weights within %.3g",
		    cs[k].gating, cs[k].norm, cs[k].bias,
		    (double)cs[k].scale, md);
	}
	kern_free(dl);
	kern_free(dlb);
	kern_free(dsb);
	kern_free(dw);
	kern_free(dsel);
}

static void
check_oom(void)
{
	void *d = NULL;
	float one = 1, back = 0;
	int rc = kern_malloc(&d, (size_t)1 << 52, &ke);

	ok(rc == ERR_NOMEM && d == NULL && strstr(ke.msg, "out of device "
	    "memory") != NULL, "4 PiB: ERR_NOMEM, \"%s\"", ke.msg);
	d = up(&one, sizeof one);
	ok(d != NULL && down(&back, d, sizeof back) == 0 && back == 1,
	    "the device still works after it");
	kern_free(d);
}

int
main(void)
{
	struct kern_info ki;
	int i;

	if (kern_init(0, &ke) != 0)
		tap_skip_all("no CUDA device");
	if (kern_info_get(&ki, &ke) == 0)
		diag("%s, sm_%d%d, %zu MiB", ki.name, ki.cc_major,
		    ki.cc_minor, ki.mem_total >> 20);
	for (i = 0; i < NTYPES; i++)
		check_matmul(types[i]);
	check_small();
	check_rope();
	check_attn();
	check_route();
	check_oom();
	kern_fini();
	return tap_done();
}
#endif
