/*
 * engine-forward.c - contexts and the forward pass.
 *
 * eng_eval() runs a batch of tokens through the model, top to bottom:
 *
 *   x = token_embd[tokens]                         [B][d]
 *   per layer:
 *     xn = rmsnorm(x) * attn_norm
 *     q, k, v = xn Wq (+bq), xn Wk (+bk), xn Wv (+bv)
 *     q, k = qk-norm (per head or whole), RoPE (normal or NeoX)
 *     K/V cache[pos..] = k, v
 *     a = softmax(q K^T / sqrt(hd), causal) V      [B][n_head * hd_v]
 *     x += a Wo (+bo)
 *     xn = rmsnorm(x) * ffn_norm
 *     MoE:   p = softmax(xn Wr); top-k; weights (renormalized or not)
 *            tokens grouped by expert; each active expert's gate/up/down
 *            run once over its tokens; x += sum_k w_k expert_k(xn)
 *            (+ sigmoid-gated shared expert)
 *     dense: x += down(silu(gate(xn)) * up(xn))
 *   logits = rmsnorm(x) * output_norm Woutput
 *
 * Every matrix product quantizes its activations to the weight type's
 * vec-dot type (as llama.cpp's CPU backend does) and splits rows over the
 * thread pool. All buffers are allocated in eng_ctx_new(); eval
 * allocates nothing. Accumulation orders are fixed (the k expert outputs
 * of a token are summed in top-k order), so results do not depend on the
 * thread count or on where experts live.
 */
#include <float.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"
#include "engine/engine-cuda.h"
#include "cache/cache.h"

struct grp {			/* one expert's share of a batch */
	int		 expert;
	int		 ntok;
	int		 row0;	/* first row in the gathered buffers */
	float		 wsum;	/* sum of its gate weights (policy) */
	const uint8_t	*w[3];	/* its gate, up, down matrices */
};

struct eng_ctx {
	struct eng_model	*m;
	const struct eng_hparams *hp;
	struct pool		*pool;
	int			 n_ctx, n_batch, n_threads, pos;
	int			 k;		/* experts per token (>= 1) */
	int			 ff_max;	/* widest FFN */
	/* KV cache: [n_layer][n_ctx][n_head_kv * hd], F32 or F16 */
	uint8_t			*kc, *vc;
	int			 kv_type;	/* GGML_TYPE_F32 / _F16 */
	size_t			 kv_esz;	/* bytes an element */
	/* [threads][16][kv_row]: queries in F16 */
	float			*kvtmp;
	size_t			 kv_row;	/* widest head row */
	/* activations, [B][...] */
	float			*x, *xn, *q, *kb, *vb, *att, *tmp, *moe;
	float			*q2, *qa;	/* MLA: queries, q-LoRA */
	float			*rlog;		/* [B][n_expert] */
	float			*score;		/* [n_expert + groups] */
	int			*sel;		/* [B][k] */
	float			*selw;		/* [B][k] */
	float			*hg, *hu;	/* [B*k][ff_max] */
	float			*yd;		/* [B*k][d] */
	float			*eout;		/* [B][k][d] */
	float			*shg;		/* [B] */
	uint8_t			*xq, *xq2, *gq;	/* quantized activations */
	size_t			 xq_cap;
	uint8_t			*xqt;		/* [B] rows, once per token */
	int			 xq_ready;	/* xq/xq2 hold the expert
						 * input rows already */
	float			*scores;	/* [threads][16][n_ctx] */
	float			*logits;	/* [n_vocab] last token */
	int			*cnt;		/* [n_expert] */
	int			*slot;		/* [B*k]: t*k+s per row */
	struct grp		*grps;		/* [n_expert] */
	/* expert cache (NULL: experts read in place) */
	struct cache		*cache;
	int			 prefetch, policy;
	uint64_t		 budget;
	int			*psel;		/* [B][k] predicted experts */
	float			*pselw;
	uint8_t			*pred;		/* [n_layer][n_expert] */
	/* prefetch window: compute time between consecutive layers'
	 * predictions (stalls excluded), averaged */
	uint64_t		 pf_mark_ns, pf_stall_ns;
	double			 pf_window_s;
	uint64_t		*pstat;		/* [n_layer][3]: pred, hit,
						 * actual */
	struct err		*err;		/* of the running eval */
	/* telemetry */
	int			 ring;
	int16_t			*r_exp;		/* [ring][n_layer][k] */
	float			*r_w;
	int16_t			*r_pexp;	/* [ring][n_layer][k]
						 * predicted; NULL: off */
	int32_t			*r_tok, *r_pos;
	uint64_t		*counts;	/* [n_layer][n_expert] */
	eng_route_fn		 hook;
	void			*hook_arg;
	struct eng_timing	 timing;
	/* --device cuda (engine-cuda.c; NULL: CPU only) */
	struct eng_cuda		*cuda;
	struct eng_cuda_grp	*cgrp;		/* [n_expert + 1] */
	int			 il;		/* layer being computed */
};

/* ---- small kernels (reference-exact, as ggml computes them) ---- */

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
		y[i] = x[i] * scale;
	if (w != NULL)
		for (i = 0; i < n; i++)
			y[i] *= w[i];
}

static void
softmax(float *x, int n)
{
	float mx = -INFINITY;
	double sum = 0;
	int i;

	for (i = 0; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (i = 0; i < n; i++) {
		x[i] = expf(x[i] - mx);
		sum += x[i];
	}
	sum = 1.0 / sum;
	for (i = 0; i < n; i++)
		x[i] *= (float)sum;
}

static inline float
silu(float x)
{
	return x / (1.0f + expf(-x));
}

/*
 * RoPE on one head vector, its first n_rot dims rotated: pairs (2i, 2i+1)
 * or, NeoX style, (i, i + n_rot/2). With YaRN, each pair's angle blends
 * the interpolated and extrapolated angles by a ramp over the correction
 * range, and cos/sin carry the YaRN magnitude (ggml's rope_yarn).
 */
static void
rope(float *v, int n_rot, int pos, const struct eng_hparams *hp, int neox)
{
	float theta_scale = powf(hp->rope_base, -2.0f / (float)n_rot);
	float theta = (float)pos, fs = hp->rope_freq_scale;
	float mag = hp->yarn_attn_factor, c, s, x0, x1, t;
	int i, half = n_rot / 2;

	for (i = 0; i < half; i++) {
		t = fs * theta;
		if (hp->yarn_ext_factor != 0.0f) {
			float y = ((float)i - hp->yarn_corr[0]) /
			    fmaxf(0.001f, hp->yarn_corr[1] - hp->yarn_corr[0]);
			float mix = (1 - fminf(1, fmaxf(0, y))) *
			    hp->yarn_ext_factor;

			t = t * (1 - mix) + theta * mix;
		}
		c = cosf(t) * mag;
		s = sinf(t) * mag;
		if (neox) {
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

/* ---- matrix products on the pool ---- */

struct mm_job {
	int		 type;
	int64_t		 n;
	const uint8_t	*w;
	size_t		 w_stride;
	const uint8_t	*x;
	size_t		 x_stride;
	int		 ntok;
	float		*y;
	size_t		 y_stride;
};

static void
mm_run(void *arg, int64_t r0, int64_t r1, int tid)
{
	const struct mm_job *j = arg;

	(void)tid;
	quant_matmul(j->type, j->n, j->w, j->w_stride, r0, r1, j->x,
	    j->x_stride, j->ntok, j->y, j->y_stride);
}

static size_t
qrow_bytes(int type, int64_t n)
{
	size_t b = 0;

	quant_row_bytes(quant_vec_dot_type(type), n, &b);
	return b;
}

/* Quantize ntok rows of n floats (stride xs) for products with type's
 * weights into dst; returns the quantized row stride. */
static size_t
quantize_rows(int type, const float *x, size_t xs, int ntok, int64_t n,
    uint8_t *dst)
{
	int vt = quant_vec_dot_type(type);
	size_t qs = qrow_bytes(type, n);
	int t;

	for (t = 0; t < ntok; t++)
		quant_quantize_act(vt, x + (size_t)t * xs, dst + t * qs, n);
	return qs;
}

/*
 * The fewest rows a worker claims at a time (the pool's claims start
 * large and shrink towards this as a job runs out): an eighth of a
 * thread's share, at least 16 rows. Small fixed chunks interleaved
 * between the threads break each thread's reads into short streams the
 * hardware prefetchers keep restarting (a third slower decode).
 */
static int64_t
row_chunk(const struct eng_ctx *c, int64_t rows)
{
	int64_t ch = rows / ((int64_t)c->n_threads * 8);

	if (ch < 16)
		ch = 16;
	return ch;
}

/*
 * y[t][r] = x[t] . W[mat] row r for ntok rows of x (stride xs floats),
 * y stride ys floats.
 */
static void
matmul(struct eng_ctx *c, const struct eng_w *w, int64_t mat,
    const float *x, size_t xs, int ntok, float *y, size_t ys)
{
	struct mm_job j;

	if (c->cuda != NULL && eng_cuda_matmul(c->cuda, w, mat, x, xs, ntok,
	    y, ys))
		return;
	j.type = w->type;
	j.n = w->n;
	j.w = w->data + (size_t)mat * w->mat_bytes;
	j.w_stride = w->row_bytes;
	j.x = c->xq;
	j.x_stride = quantize_rows(w->type, x, xs, ntok, w->n, c->xq);
	j.ntok = ntok;
	j.y = y;
	j.y_stride = ys;
	eng_pool_run(c->pool, mm_run, &j, w->rows, row_chunk(c, w->rows));
}

static void
add_bias(float *y, const float *b, int ntok, int n)
{
	int t, i;

	if (b == NULL)
		return;
	for (t = 0; t < ntok; t++)
		for (i = 0; i < n; i++)
			y[(size_t)t * n + i] += b[i];
}

/* ---- attention ---- */

struct att_job {
	struct eng_ctx	*c;
	const float	*q;		/* [B][n_head][hdk] */
	const uint8_t	*kc, *vc;	/* this layer's cache rows */
	size_t		 ks, vs;	/* cache row strides */
	int		 hdk, hdv;
	int		 pos0, window;	/* window 0: full attention */
	const float	*sinks;
	int		 hpi;		/* heads an item */
};

#define ATT_HPI_MAX	16

/*
 * One item: a token and hpi heads of one KV group (heads sharing their
 * keys and values). Scores of those heads against every visible cached
 * key in one product (each key row read once for all of them), softmax
 * per head (with the head's sink logit in the denominator when the
 * model has sinks), then the weighted sum of values, each value row
 * read once for all of them.
 */
static void
att_run(void *arg, int64_t i0, int64_t i1, int tid)
{
	const struct att_job *j = arg;
	struct eng_ctx *c = j->c;
	const struct eng_hparams *hp = c->hp;
	int hdk = j->hdk, hdv = j->hdv, nh = hp->n_head, hpi = j->hpi;
	int grp = hp->n_head / hp->n_head_kv, per = nh / hpi;
	float *sc0 = c->scores + (size_t)tid * ATT_HPI_MAX * c->n_ctx;
	float scale = hp->kq_scale, inv[ATT_HPI_MAX];
	/* the queries in F16, for an F16 cache */
	void *qh = c->kvtmp + (size_t)tid * ATT_HPI_MAX * c->kv_row;
	const void *qx;
	size_t esz = c->kv_esz, xs;
	int64_t it;

	for (it = i0; it < i1; it++) {
		int t = (int)(it / per), h0 = (int)(it % per) * hpi;
		int g = h0 / grp, p = j->pos0 + t, jj, i, hh, j0 = 0;
		const float *q = j->q + ((size_t)t * nh + h0) * hdk;
		float *o = c->att + ((size_t)t * nh + h0) * hdv;

		if (j->window > 0 && p - j->window + 1 > 0)
			j0 = p - j->window + 1;
		/* scores: the cached keys (rows of hdk elements) times the
		 * hpi queries, by the quant room's F32 or F16 kernels (an
		 * F16 cache takes the queries in F16 too) */
		if (c->kv_type == GGML_TYPE_F16) {
			for (hh = 0; hh < hpi; hh++)
				quant_quantize_act(GGML_TYPE_F16, q +
				    (size_t)hh * hdk, (uint16_t *)qh +
				    (size_t)hh * hdk, hdk);
			qx = qh;
			xs = (size_t)hdk * 2;
		} else {
			qx = q;
			xs = (size_t)hdk * sizeof(float);
		}
		quant_matmul(c->kv_type, hdk, j->kc + (size_t)g * hdk * esz,
		    j->ks * esz, j0, p + 1, qx, xs, hpi, sc0, c->n_ctx);
		for (hh = 0; hh < hpi; hh++) {
			float *sc = sc0 + (size_t)hh * c->n_ctx, mx = -INFINITY;
			const float *sink = j->sinks != NULL ?
			    &j->sinks[h0 + hh] : NULL;
			double sum = 0;

			for (jj = j0; jj <= p; jj++) {
				sc[jj] *= scale;
				if (sc[jj] > mx)
					mx = sc[jj];
			}
			if (sink != NULL && *sink > mx)
				mx = *sink;
			for (jj = j0; jj <= p; jj++) {
				sc[jj] = expf(sc[jj] - mx);
				sum += sc[jj];
			}
			if (sink != NULL)
				sum += expf(*sink - mx);
			inv[hh] = (float)(1.0 / sum);
		}
		for (i = 0; i < hpi * hdv; i++)
			o[i] = 0;
		for (jj = j0; jj <= p; jj++) {
			const uint8_t *vr = j->vc + ((size_t)jj * j->vs +
			    (size_t)g * hdv) * esz;

			for (hh = 0; hh < hpi; hh++) {
				float w = sc0[(size_t)hh * c->n_ctx + jj] *
				    inv[hh];

				float *oh = o + (size_t)hh * hdv;

				if (c->kv_type == GGML_TYPE_F16)
					quant_axpy_f16(hdv, w,
					    (const uint16_t *)vr, oh);
				else
					quant_axpy_f32(hdv, w,
					    (const float *)vr, oh);
			}
		}
	}
}

/*
 * Heads per attention item: a whole KV group when there are enough items
 * to keep every thread busy (two each), else halved until there are; at
 * most ATT_HPI_MAX.
 */
static int
att_heads_per_item(const struct eng_ctx *c, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	int hpi = hp->n_head / hp->n_head_kv;

	while (hpi > 1 && hpi % 2 == 0 && (hpi > ATT_HPI_MAX ||
	    (int64_t)ntok * hp->n_head / hpi < 2 * (int64_t)c->n_threads))
		hpi /= 2;
	return hpi > ATT_HPI_MAX ? 1 : hpi;
}

/* n floats into the KV cache at element index at, in the cache's type
 * (F16: rounded as the activations are, to nearest even). */
static void
kv_store(struct eng_ctx *c, uint8_t *cache, size_t at, const float *src,
    int n)
{
	if (c->kv_type == GGML_TYPE_F16)
		quant_quantize_act(GGML_TYPE_F16, src, cache + at * 2, n);
	else
		memcpy(cache + at * sizeof(float), src,
		    (size_t)n * sizeof(float));
}

/* Standard attention projections: q, k, v (+ biases), q/k norms, RoPE;
 * k and v appended to the cache. */
static void
qkv_std(struct eng_ctx *c, int il, int pos0, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	const struct eng_layer *L = &c->m->layers[il];
	int d = hp->n_embd, hdk = hp->head_dim_k, hdv = hp->head_dim_v;
	int qd = hp->n_head * hdk, kd = hp->n_head_kv * hdk;
	int vd = hp->n_head_kv * hdv, t, h;
	int neox = c->m->arch->rope_neox;

	matmul(c, &L->wq, 0, c->xn, d, ntok, c->q, qd);
	matmul(c, &L->wk, 0, c->xn, d, ntok, c->kb, kd);
	matmul(c, &L->wv, 0, c->xn, d, ntok, c->vb, vd);
	add_bias(c->q, L->bq, ntok, qd);
	add_bias(c->kb, L->bk, ntok, kd);
	add_bias(c->vb, L->bv, ntok, vd);
	for (t = 0; t < ntok; t++) {
		float *q = c->q + (size_t)t * qd, *k = c->kb + (size_t)t * kd;

		if (L->q_norm != NULL && L->qk_norm_head) {
			for (h = 0; h < hp->n_head; h++)
				rmsnorm(q + h * hdk, q + h * hdk, L->q_norm, hdk,
				    hp->norm_eps);
			for (h = 0; h < hp->n_head_kv; h++)
				rmsnorm(k + h * hdk, k + h * hdk, L->k_norm, hdk,
				    hp->norm_eps);
		} else if (L->q_norm != NULL) {
			rmsnorm(q, q, L->q_norm, qd, hp->norm_eps);
			rmsnorm(k, k, L->k_norm, kd, hp->norm_eps);
		}
		for (h = 0; h < hp->n_head; h++)
			rope(q + h * hdk, hp->n_rot, pos0 + t, hp, neox);
		for (h = 0; h < hp->n_head_kv; h++)
			rope(k + h * hdk, hp->n_rot, pos0 + t, hp, neox);
		kv_store(c, c->kc, ((size_t)il * c->n_ctx + pos0 + t) * kd, k,
		    kd);
		kv_store(c, c->vc, ((size_t)il * c->n_ctx + pos0 + t) * vd,
		    c->vb + (size_t)t * vd, vd);
	}
}

/*
 * Multi-head latent attention, with the k_b absorption: the cache holds
 * per token only the normalized latent (kv_lora) and the roped shared
 * key part (n_rot); each head's query is mapped into latent space
 * (q_nope . k_b[h]) and concatenated with its roped part, so attention is
 * MQA over [latent | rope] keys whose values are the latent itself.
 * Output per head: v_b[h] . (attention over latents).
 */
static void
qkv_mla(struct eng_ctx *c, int il, int pos0, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	const struct eng_layer *L = &c->m->layers[il];
	int d = hp->n_embd, nh = hp->n_head, hk = hp->head_dim_k_mla;
	int kvr = hp->kv_lora_rank, nr = hp->n_rot, nope = hk - nr;
	int kd = kvr + nr, t, h;

	if (L->wq_a.data != NULL) {
		int qr = (int)L->wq_a.rows;

		matmul(c, &L->wq_a, 0, c->xn, d, ntok, c->qa, qr);
		for (t = 0; t < ntok; t++)
			rmsnorm(c->qa + (size_t)t * qr, c->qa + (size_t)t * qr,
			    L->q_a_norm, qr, hp->norm_eps);
		matmul(c, &L->wq_b, 0, c->qa, qr, ntok, c->q2,
		    (size_t)nh * hk);
	} else
		matmul(c, &L->wq, 0, c->xn, d, ntok, c->q2, (size_t)nh * hk);
	matmul(c, &L->wkv_a, 0, c->xn, d, ntok, c->kb, kd);
	for (t = 0; t < ntok; t++) {
		float *kv = c->kb + (size_t)t * kd;

		rmsnorm(kv, kv, L->kv_a_norm, kvr, hp->norm_eps);
		rope(kv + kvr, nr, pos0 + t, hp, c->m->arch->rope_neox);
		kv_store(c, c->kc, ((size_t)il * c->n_ctx + pos0 + t) * kd, kv,
		    kd);
		for (h = 0; h < nh; h++) {
			float *qp = c->q2 + ((size_t)t * nh + h) * hk + nope;
			float *dst = c->q + ((size_t)t * nh + h) * kd + kvr;

			rope(qp, nr, pos0 + t, hp, c->m->arch->rope_neox);
			memcpy(dst, qp, (size_t)nr * sizeof *qp);
		}
	}
	/* q_nope absorbed into latent space, head by head */
	for (h = 0; h < nh; h++)
		matmul(c, &L->wk_b, h, c->q2 + (size_t)h * hk, (size_t)nh * hk,
		    ntok, c->q + (size_t)h * kd, (size_t)nh * kd);
}

static void
attention(struct eng_ctx *c, int il, int pos0, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	const struct eng_layer *L = &c->m->layers[il];
	int d = hp->n_embd, nh = hp->n_head, h, t;
	struct att_job j;

	j.c = c;
	j.pos0 = pos0;
	j.window = L->swa ? hp->swa_window : 0;
	j.sinks = L->sinks;
	if (L->is_mla) {
		int kvr = hp->kv_lora_rank, kd = kvr + hp->n_rot;
		int hv = hp->head_dim_v_mla;

		qkv_mla(c, il, pos0, ntok);
		j.q = c->q;
		j.kc = c->kc + (size_t)il * c->n_ctx * kd * c->kv_esz;
		j.vc = j.kc;		/* values: the latent part of keys */
		j.ks = j.vs = (size_t)kd;
		j.hdk = kd;
		j.hdv = kvr;
		j.hpi = att_heads_per_item(c, ntok);
		eng_pool_run(c->pool, att_run, &j, (int64_t)ntok * nh / j.hpi,
		    1);
		for (h = 0; h < nh; h++)
			matmul(c, &L->wv_b, h, c->att + (size_t)h * kvr,
			    (size_t)nh * kvr, ntok, c->q2 + (size_t)h * hv,
			    (size_t)nh * hv);
		matmul(c, &L->wo, 0, c->q2, (size_t)nh * hv, ntok, c->tmp, d);
	} else {
		int kd = hp->n_head_kv * hp->head_dim_k;
		int vd = hp->n_head_kv * hp->head_dim_v;

		qkv_std(c, il, pos0, ntok);
		j.q = c->q;
		j.kc = c->kc + (size_t)il * c->n_ctx * kd * c->kv_esz;
		j.vc = c->vc + (size_t)il * c->n_ctx * vd * c->kv_esz;
		j.ks = (size_t)kd;
		j.vs = (size_t)vd;
		j.hdk = hp->head_dim_k;
		j.hdv = hp->head_dim_v;
		/* the device keeps an F32 copy of the cache: with an F16
		 * cache attention stays on the CPU */
		if (c->cuda == NULL || c->kv_type != GGML_TYPE_F32 ||
		    !eng_cuda_attn(c->cuda, il, pos0, ntok, c->q,
		    (const float *)j.kc + (size_t)pos0 * kd,
		    (const float *)j.vc + (size_t)pos0 * vd, j.window,
		    j.sinks, c->att))
		{
			j.hpi = att_heads_per_item(c, ntok);
			eng_pool_run(c->pool, att_run, &j,
			    (int64_t)ntok * nh / j.hpi, 1);
		}
		matmul(c, &L->wo, 0, c->att, (size_t)nh * hp->head_dim_v, ntok,
		    c->tmp, d);
	}
	add_bias(c->tmp, L->bo, ntok, d);
	for (t = 0; t < ntok * d; t++)
		c->x[t] += c->tmp[t];
}

/* ---- feed-forward: grouped experts ---- */

/*
 * A job over the rows of several experts at once, so one pool dispatch
 * covers every active expert of a layer: item i belongs to group
 * i / rows_per_grp.
 */
struct ffn_job {
	struct eng_ctx		*c;
	const struct eng_w	*w1, *w2;	/* gate, up (or down, NULL) */
	const struct grp	*g;
	int			 ngrp;
	int64_t			 rows;		/* rows of w1 (+ w2) */
	const uint8_t		*x1, *x2;	/* quantized inputs */
	size_t			 xs1, xs2;
	float			*y1, *y2;
	size_t			 ys;
	int			 k1, k2;	/* which of grp.w */
};

static void
ffn_run(void *arg, int64_t i0, int64_t i1, int tid)
{
	const struct ffn_job *j = arg;
	int64_t per = j->w2 ? 2 * j->rows : j->rows;

	(void)tid;
	while (i0 < i1) {
		int64_t gi = i0 / per, r = i0 % per, end = per;
		const struct grp *g = &j->g[gi];
		const struct eng_w *w = j->w1;
		const uint8_t *x = j->x1;
		size_t xs = j->xs1;
		float *y = j->y1;

		if (r >= j->rows) {
			w = j->w2;
			x = j->x2;
			xs = j->xs2;
			y = j->y2;
			r -= j->rows;
			end = j->rows;
		} else if (j->w2 != NULL)
			end = j->rows;
		if (end - r > i1 - i0)
			end = r + (i1 - i0);
		quant_matmul(w->type, w->n, g->w[w == j->w1 ? j->k1 :
		    j->k2], w->row_bytes, r, end,
		    x + (size_t)g->row0 * xs, xs, g->ntok,
		    y + (size_t)g->row0 * j->ys, j->ys);
		i0 += end - r;
	}
}

/*
 * Run the SwiGLU FFN (gate, up, down; expert `g->expert` of stacked
 * weights) for ngrp groups whose input rows were gathered, in float, into
 * c->tmp-like buffer xin ([rows][d], group g at row g->row0). Output rows
 * go to c->yd.
 */
struct ffn_bias {
	const float	*gate, *up;	/* [n_mat][ff] */
	const float	*down;		/* [n_mat][d] */
	int		 act;		/* ENG_ACT_* */
};

/* out = (per-row bias) added to ngrp groups of rows of width n. */
static void
add_grp_bias(float *y, const float *b, const struct grp *g, int ngrp,
    int n)
{
	int gi, r, i;

	if (b == NULL)
		return;
	for (gi = 0; gi < ngrp; gi++)
		for (r = 0; r < g[gi].ntok; r++) {
			float *row = y + (size_t)(g[gi].row0 + r) * n;
			const float *bb = b + (size_t)g[gi].expert * n;

			for (i = 0; i < n; i++)
				row[i] += bb[i];
		}
}

static void
ffn_groups_cpu(struct eng_ctx *c, const struct eng_w *wg,
    const struct eng_w *wu, const struct eng_w *wd, const struct grp *g,
    int ngrp, const float *xin, const struct ffn_bias *fb)
{
	int d = c->hp->n_embd, ff = (int)wg->rows;
	int r0 = g[0].row0, nr = g[ngrp - 1].row0 + g[ngrp - 1].ntok - r0;
	int vg = quant_vec_dot_type(wg->type);
	int vu = quant_vec_dot_type(wu->type);
	struct ffn_job j;
	size_t qs1, qs2;
	int64_t i, n;

	/* the groups' input rows [r0, r0 + nr), quantized once per distinct
	 * vec-dot type; row r stays at row r of the quantized buffers */
	qs1 = qrow_bytes(wg->type, d);
	qs2 = qrow_bytes(wu->type, d);
	if (!c->xq_ready) {
		quantize_rows(wg->type, xin + (size_t)r0 * d, d, nr, d,
		    c->xq + (size_t)r0 * qs1);
		if (vu != vg)
			quantize_rows(wu->type, xin + (size_t)r0 * d, d, nr,
			    d, c->xq2 + (size_t)r0 * qs2);
	}
	j.c = c;
	j.w1 = wg;
	j.w2 = wu;
	j.k1 = 0;
	j.k2 = 1;
	j.g = g;
	j.ngrp = ngrp;
	j.rows = ff;
	j.x1 = c->xq;
	j.x2 = vu == vg ? c->xq : c->xq2;
	j.xs1 = qs1;
	j.xs2 = qs2;
	j.y1 = c->hg;
	j.y2 = c->hu;
	j.ys = (size_t)ff;
	eng_pool_run(c->pool, ffn_run, &j, (int64_t)ngrp * 2 * ff,
	    row_chunk(c, ff));
	if (fb != NULL) {
		add_grp_bias(c->hg, fb->gate, g, ngrp, ff);
		add_grp_bias(c->hu, fb->up, g, ngrp, ff);
	}
	n = (int64_t)(r0 + nr) * ff;
	if (fb != NULL && fb->act == ENG_ACT_SWIGLU_OAI) {
		/* gpt-oss: clamped gate and up, x * sigmoid(1.702 x) * (y+1) */
		for (i = (int64_t)r0 * ff; i < n; i++) {
			float x = fminf(c->hg[i], 7.0f);
			float y = fminf(fmaxf(c->hu[i], -7.0f), 7.0f);

			c->hg[i] = x / (1.0f + expf(1.702f * -x)) * (y + 1.0f);
		}
	} else
		for (i = (int64_t)r0 * ff; i < n; i++)
			c->hg[i] = silu(c->hg[i]) * c->hu[i];
	j.w1 = wd;
	j.w2 = NULL;
	j.k1 = 2;
	j.rows = d;
	j.xs1 = qrow_bytes(wd->type, ff);
	quantize_rows(wd->type, c->hg + (size_t)r0 * ff, ff, nr, ff,
	    c->gq + (size_t)r0 * j.xs1);
	j.x1 = c->gq;
	j.y1 = c->yd;
	j.ys = (size_t)d;
	eng_pool_run(c->pool, ffn_run, &j, (int64_t)ngrp * d,
	    row_chunk(c, d));
	if (fb != NULL)
		add_grp_bias(c->yd, fb->down, g, ngrp, d);
}

/*
 * --device cuda: the groups the device takes (engine-cuda.c) run there
 * while the CPU computes the others; the rows land in c->yd either way.
 */
static void
ffn_groups(struct eng_ctx *c, const struct eng_w *wg, const struct eng_w *wu,
    const struct eng_w *wd, const struct grp *g, int ngrp, const float *xin,
    const struct ffn_bias *fb)
{
	struct eng_cuda_grp *cg = c->cgrp;
	int i, n;

	if (c->cuda == NULL) {
		ffn_groups_cpu(c, wg, wu, wd, g, ngrp, xin, fb);
		return;
	}
	for (i = 0; i < ngrp; i++) {
		cg[i].expert = g[i].expert;
		cg[i].ntok = g[i].ntok;
		cg[i].row0 = g[i].row0;
		memcpy(cg[i].w, g[i].w, sizeof cg[i].w);
	}
	n = eng_cuda_ffn_start(c->cuda, c->il,
	    wg == &c->m->layers[c->il].exp_gate, wg, wu, wd,
	    fb ? fb->gate : NULL, fb ? fb->up : NULL, fb ? fb->down : NULL,
	    fb ? fb->act : ENG_ACT_SILU, cg, ngrp, xin);
	if (n == 0) {
		ffn_groups_cpu(c, wg, wu, wd, g, ngrp, xin, fb);
		return;
	}
	for (i = 0; i < ngrp; i++)
		if (!cg[i].on_gpu)
			ffn_groups_cpu(c, wg, wu, wd, &g[i], 1, xin, fb);
	if (eng_cuda_ffn_finish(c->cuda, cg, ngrp, c->yd) != 0)
		for (i = 0; i < ngrp; i++)
			if (cg[i].on_gpu)
				ffn_groups_cpu(c, wg, wu, wd, &g[i], 1, xin,
				    fb);
}

/* Point a group at expert e's matrices in the mapped file. */
static void
grp_mapped(struct grp *g, const struct eng_w *wg, const struct eng_w *wu,
    const struct eng_w *wd)
{
	g->w[0] = wg->data + (size_t)g->expert * wg->mat_bytes;
	g->w[1] = wu->data + (size_t)g->expert * wu->mat_bytes;
	g->w[2] = wd->data + (size_t)g->expert * wd->mat_bytes;
}

static void
record_route(struct eng_ctx *c, int il, int pos0, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	int t, s;

	for (t = 0; t < ntok; t++) {
		size_t base = ((size_t)((pos0 + t) % c->ring) * hp->n_layer +
		    il) * c->k;

		/* predict_next() wrote the rest before this layer ran */
		if (c->r_pexp != NULL && (il == 0 || !c->m->layers[il].is_moe))
			for (s = 0; s < c->k; s++)
				c->r_pexp[base + s] = -1;
		for (s = 0; s < c->k; s++) {
			if (c->m->layers[il].is_moe) {
				int e = c->sel[t * c->k + s];

				c->r_exp[base + s] = (int16_t)e;
				c->r_w[base + s] = c->selw[t * c->k + s];
				c->counts[(size_t)il * hp->n_expert + e]++;
			} else {
				c->r_exp[base + s] = -1;
				c->r_w[base + s] = 0;
			}
		}
	}
}

/*
 * The expert inputs, one row per (token, slot) in group order. Each
 * token's row is quantized once (per distinct vec-dot type of gate and
 * up) and the quantized bytes are copied to its slots, instead of
 * copying the float row k times and quantizing every copy. The CUDA
 * path takes float rows: they are gathered into c->tmp for it.
 */
static void
gather_inputs(struct eng_ctx *c, const struct eng_layer *L, int ntok)
{
	int d = c->hp->n_embd, K = c->hp->n_expert_used, r, t;
	int vg = quant_vec_dot_type(L->exp_gate.type);
	int vu = quant_vec_dot_type(L->exp_up.type);
	size_t qs1 = qrow_bytes(L->exp_gate.type, d);
	size_t qs2 = qrow_bytes(L->exp_up.type, d);
	uint8_t *t2 = c->xqt + (size_t)ntok * qs1;

	if (c->cuda != NULL) {
		for (r = 0; r < ntok * K; r++)
			memcpy(c->tmp + (size_t)r * d, c->xn +
			    (size_t)(c->slot[r] / K) * d, (size_t)d *
			    sizeof(float));
		return;
	}
	quantize_rows(L->exp_gate.type, c->xn, d, ntok, d, c->xqt);
	if (vu != vg)
		quantize_rows(L->exp_up.type, c->xn, d, ntok, d, t2);
	for (r = 0; r < ntok * K; r++) {
		t = c->slot[r] / K;
		memcpy(c->xq + (size_t)r * qs1, c->xqt + (size_t)t * qs1, qs1);
		if (vu != vg)
			memcpy(c->xq2 + (size_t)r * qs2, t2 + (size_t)t * qs2,
			    qs2);
	}
	c->xq_ready = 1;
}

/*
 * One token's routing, as llama.cpp's MoE block: logits (+ router bias)
 * -> probabilities (softmax, sigmoid, or the raw logits when the softmax
 * comes after selection) -> selection scores (+ selection-only bias;
 * group-limited when the model has expert groups) -> top-k -> weights
 * (the probabilities of the chosen; softmax over them; renormalized;
 * scaled). p is overwritten.
 */
static void
route_token(struct eng_ctx *c, const struct eng_layer *L, float *p,
    int *sel, float *w)
{
	const struct eng_hparams *hp = c->hp;
	int E = hp->n_expert, K = hp->n_expert_used, e, s, i;
	float *score = c->score, sum = 0;

	if (L->router_b != NULL)
		for (e = 0; e < E; e++)
			p[e] += L->router_b[e];
	if (hp->gating == ENG_GATING_SOFTMAX)
		softmax(p, E);
	else if (hp->gating == ENG_GATING_SIGMOID)
		for (e = 0; e < E; e++)
			p[e] = 1.0f / (1.0f + expf(-p[e]));
	for (e = 0; e < E; e++)
		score[e] = p[e] + (L->router_bias ? L->router_bias[e] : 0);
	if (hp->n_expert_groups > 1) {
		/* keep the n_group_used groups whose two best experts score
		 * highest; the others cannot be chosen */
		int G = hp->n_expert_groups, per = E / G, gi, gj;
		float *gs = c->score + E;

		for (gi = 0; gi < G; gi++) {
			float a = -INFINITY, b = -INFINITY;

			for (i = 0; i < per; i++) {
				float v = score[gi * per + i];

				if (v > a) {
					b = a;
					a = v;
				} else if (v > b)
					b = v;
			}
			gs[gi] = per > 1 ? a + b : a;
		}
		for (gi = 0; gi < G; gi++) {
			int rank = 0;

			for (gj = 0; gj < G; gj++)
				rank += gs[gj] > gs[gi] ||
				    (gs[gj] == gs[gi] && gj < gi);
			if (rank >= hp->n_group_used)
				for (i = 0; i < per; i++)
					score[gi * per + i] = -INFINITY;
		}
	}
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
	if (hp->gating == ENG_GATING_SOFTMAX_TOPK)
		softmax(w, K);
	for (s = 0; s < K; s++)
		sum += w[s];
	if (hp->expert_norm) {
		if (sum < 6.103515625e-5f)
			sum = 6.103515625e-5f;
		for (s = 0; s < K; s++)
			w[s] /= sum;
	}
	if (hp->expert_scale != 1.0f)
		for (s = 0; s < K; s++)
			w[s] *= hp->expert_scale;
}

static int
moe(struct eng_ctx *c, int il, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	const struct eng_layer *L = &c->m->layers[il];
	int d = hp->n_embd, E = hp->n_expert, K = hp->n_expert_used;
	int t, s, e, i, ngrp, row;
	struct ffn_bias fb;

	/* router: probabilities, top-k, weights */
	matmul(c, &L->router, 0, c->xn, d, ntok, c->rlog, E);
	for (t = 0; t < ntok; t++)
		route_token(c, L, c->rlog + (size_t)t * E, c->sel + t * K,
		    c->selw + t * K);
	/* group (token, slot) pairs by expert */
	memset(c->cnt, 0, (size_t)E * sizeof *c->cnt);
	for (t = 0; t < ntok * K; t++)
		c->cnt[c->sel[t]]++;
	ngrp = 0;
	row = 0;
	for (e = 0; e < E; e++) {
		if (c->cnt[e] == 0)
			continue;
		c->grps[ngrp].expert = e;
		c->grps[ngrp].ntok = 0;
		c->grps[ngrp].row0 = row;
		c->grps[ngrp].wsum = 0;
		row += c->cnt[e];
		c->cnt[e] = ngrp++;	/* now: group index of e */
	}
	for (t = 0; t < ntok * K; t++) {
		struct grp *g = &c->grps[c->cnt[c->sel[t]]];
		int r = g->row0 + g->ntok++;

		g->wsum += c->selw[t];
		c->slot[r] = t;
	}
	gather_inputs(c, L, ntok);
	fb.gate = L->exp_gate_b;
	fb.up = L->exp_up_b;
	fb.down = L->exp_down_b;
	fb.act = c->m->arch->act;
	if (c->cache == NULL) {
		for (i = 0; i < ngrp; i++)
			grp_mapped(&c->grps[i], &L->exp_gate, &L->exp_up,
			    &L->exp_down);
		ffn_groups(c, &L->exp_gate, &L->exp_up, &L->exp_down, c->grps,
		    ngrp, c->tmp, &fb);
	} else {
		/* waves of at most the layer's slot count, each expert
		 * pinned while its wave computes */
		int cap = cache_capacity(c->cache, il), done, wave, rc = 0;

		for (done = 0; done < ngrp && rc == 0; done += wave) {
			wave = ngrp - done < cap ? ngrp - done : cap;
			for (i = 0; i < wave; i++) {
				struct grp *g = &c->grps[done + i];

				uint64_t t0 = util_now_ns();

				rc = cache_acquire(c->cache, il, g->expert,
				    g->wsum, g->w, c->err);
				c->pf_stall_ns += util_now_ns() - t0;
				if (rc != 0)
					break;
			}
			if (rc == 0)
				ffn_groups(c, &L->exp_gate, &L->exp_up,
				    &L->exp_down, c->grps + done, wave, c->tmp,
				    &fb);
			while (i-- > 0)
				cache_release(c->cache, il,
				    c->grps[done + i].expert);
		}
		if (rc != 0) {
			c->xq_ready = 0;
			return rc;
		}
	}
	c->xq_ready = 0;
	/* weighted outputs back to (token, slot), summed in top-k order */
	for (row = 0; row < ntok * K; row++) {
		int ts = c->slot[row];
		float w = c->selw[ts], *dst = c->eout + (size_t)ts * d;
		const float *src = c->yd + (size_t)row * d;

		for (i = 0; i < d; i++)
			dst[i] = src[i] * w;
	}
	for (t = 0; t < ntok; t++) {
		float *dst = c->moe + (size_t)t * d;
		const float *src = c->eout + (size_t)t * K * d;

		memcpy(dst, src, (size_t)d * sizeof(float));
		for (s = 1; s < K; s++)
			for (i = 0; i < d; i++)
				dst[i] += src[(size_t)s * d + i];
	}
	/* shared expert, gated by a sigmoid when the file has the gate */
	if (L->sh_up.data != NULL) {
		struct grp g = { 0, ntok, 0, 0, { NULL } };

		grp_mapped(&g, &L->sh_gate, &L->sh_up, &L->sh_down);
		ffn_groups(c, &L->sh_gate, &L->sh_up, &L->sh_down, &g, 1, c->xn,
		    NULL);
		if (L->sh_gate_inp.data != NULL)
			matmul(c, &L->sh_gate_inp, 0, c->xn, d, ntok, c->shg,
			    1);
		for (t = 0; t < ntok; t++) {
			float gt = L->sh_gate_inp.data != NULL ?
			    1.0f / (1.0f + expf(-c->shg[t])) : 1.0f;

			for (i = 0; i < d; i++)
				c->moe[(size_t)t * d + i] +=
				    c->yd[(size_t)t * d + i] * gt;
		}
	}
	return 0;
}

static void
dense_ffn(struct eng_ctx *c, int il, int ntok)
{
	const struct eng_layer *L = &c->m->layers[il];
	struct grp g = { 0, ntok, 0, 0, { NULL } };
	size_t n = (size_t)ntok * c->hp->n_embd;

	grp_mapped(&g, &L->ffn_gate, &L->ffn_up, &L->ffn_down);
	ffn_groups(c, &L->ffn_gate, &L->ffn_up, &L->ffn_down, &g, 1, c->xn,
	    NULL);
	memcpy(c->moe, c->yd, n * sizeof(float));
}

/* ---- speculative prefetch ---- */

/*
 * After layer il's attention, guess layer il+1's experts: its router on
 * the current hidden state (normalized with its own pre-FFN norm) and
 * the same selection rules. The guesses go to the routing ring when the
 * context records predictions, and with --prefetch gate (and a RAM or
 * GPU expert cache) they start loading (at most the layer's slot count,
 * so guesses do not evict each other). Only scratch buffers (tmp, rlog,
 * psel) are written: the layer's own computation is not affected.
 */
static void
predict_next(struct eng_ctx *c, int il, int pos0, int ntok)
{
	const struct eng_hparams *hp = c->hp;
	int nl = il + 1, d = hp->n_embd, E = hp->n_expert;
	int K = hp->n_expert_used, t, s, n = 0, cap = 0, extra, fetch;
	const struct eng_layer *L;
	uint64_t now;
	uint8_t *pred;

	fetch = c->prefetch == ENG_PREFETCH_GATE && (c->cache != NULL ||
	    eng_cuda_slots(c->cuda) > 0);
	if (nl >= hp->n_layer || !c->m->layers[nl].is_moe ||
	    (!fetch && c->r_pexp == NULL))
		return;
	L = &c->m->layers[nl];
	pred = c->pred + (size_t)nl * E;
	if (fetch) {
		now = util_now_ns();
		if (c->pf_mark_ns != 0) {
			double w = (double)(now - c->pf_mark_ns -
			    c->pf_stall_ns) * 1e-9;

			c->pf_window_s = c->pf_window_s == 0 ? w :
			    0.8 * c->pf_window_s + 0.2 * w;
		}
		c->pf_mark_ns = now;
		c->pf_stall_ns = 0;
		memset(pred, 0, (size_t)E);
		/* --device cuda without a RAM cache: the GPU expert slots */
		cap = c->cache != NULL ? cache_capacity(c->cache, nl) :
		    eng_cuda_slots(c->cuda);
	}
	for (t = 0; t < ntok; t++)
		rmsnorm(c->tmp + (size_t)t * d, c->x + (size_t)t * d,
		    L->ffn_norm, d, hp->norm_eps);
	matmul(c, &L->router, 0, c->tmp, d, ntok, c->rlog, E);
	for (t = 0; t < ntok; t++) {
		route_token(c, L, c->rlog + (size_t)t * E, c->psel + t * K,
		    c->pselw + t * K);
		if (c->r_pexp != NULL) {
			int16_t *rp = c->r_pexp + ((size_t)((pos0 + t) %
			    c->ring) * hp->n_layer + nl) * c->k;

			for (s = 0; s < K; s++)
				rp[s] = (int16_t)c->psel[t * K + s];
		}
	}
	if (!fetch)
		return;
	/*
	 * Guesses go out in order of the router's confidence, every
	 * token's first choice before anyone's second, and only as many
	 * as the disk, at the rate it has been reading, can finish within
	 * a few layers' compute (this layer's and the next one's attention
	 * come first; a guess that lands late still shortens the wait,
	 * and the misses' loads go ahead of it in the queue): a fast disk
	 * reads every guess; a disk that is already the bottleneck reads
	 * none, since a guess can only add bytes and delay the misses.
	 * (--device cuda without a RAM cache: the GPU slots' confident
	 * half.)
	 */
	extra = c->cache != NULL ? cache_prefetch_room(c->cache,
	    16 * c->pf_window_s) : (K + 1) / 2 * ntok;
	for (s = 0; s < K; s++)
		for (t = 0; t < ntok; t++) {
			int e = c->psel[t * K + s];

			if (pred[e] || n >= cap)
				continue;
			if (extra-- <= 0)
				break;
			pred[e] = 1;
			n++;
			if (c->cache != NULL)
				cache_prefetch(c->cache, nl, e);
			else
				eng_cuda_prefetch(c->cuda, nl, e,
				    &L->exp_gate, &L->exp_up, &L->exp_down);
		}
}

/* Compare layer il's prediction with its routing (telemetry). */
static void
score_prediction(struct eng_ctx *c, int il, int ntok)
{
	int E = c->hp->n_expert, K = c->hp->n_expert_used, t, e;
	uint8_t *pred = c->pred + (size_t)il * E, *act = c->pred +
	    (size_t)c->hp->n_layer * E;
	uint64_t *ps = c->pstat + (size_t)il * 3;

	memset(act, 0, (size_t)E);
	for (t = 0; t < ntok * K; t++)
		act[c->sel[t]] = 1;
	for (e = 0; e < E; e++) {
		ps[0] += pred[e];
		ps[1] += pred[e] && act[e];
		ps[2] += act[e];
	}
	memset(pred, 0, (size_t)E);
}

/* ---- the pass ---- */

static void
embed(struct eng_ctx *c, const int32_t *tok, int ntok)
{
	const struct eng_w *w = &c->m->tok_embd;
	int t;

	for (t = 0; t < ntok; t++)
		quant_dequant_row(w->type, w->data + (size_t)tok[t] *
		    w->row_bytes, c->x + (size_t)t * c->hp->n_embd, w->n);
}

static void
emit_routes(struct eng_ctx *c, const int32_t *tok, int pos0, int ntok)
{
	struct eng_route r;
	int t;

	for (t = 0; t < ntok; t++) {
		int slot = (pos0 + t) % c->ring;

		c->r_tok[slot] = tok[t];
		c->r_pos[slot] = pos0 + t;
		if (c->hook != NULL && eng_route_get(c, pos0 + t, &r) == 0)
			c->hook(c->hook_arg, &r);
	}
}

/* One chunk of at most n_batch tokens. out: logits rows for all tokens
 * (stride n_vocab) or NULL; the last token's logits always go to
 * c->logits when want_last. */
static int
forward(struct eng_ctx *c, const int32_t *tok, int ntok, float *out,
    int want_last, const atomic_int *cancel)
{
	const struct eng_hparams *hp = c->hp;
	int d = hp->n_embd, pos0 = c->pos, il, t;

	embed(c, tok, ntok);
	if (c->cache != NULL)
		cache_tick(c->cache);
	c->pf_mark_ns = 0;	/* the window spans layers, not tokens */
	for (il = 0; il < hp->n_layer; il++) {
		const struct eng_layer *L = &c->m->layers[il];

		if (cancel != NULL && atomic_load(cancel))
			return ERR_CANCELLED;
		c->il = il;
		for (t = 0; t < ntok; t++)
			rmsnorm(c->xn + (size_t)t * d, c->x + (size_t)t * d,
			    L->attn_norm, d, hp->norm_eps);
		attention(c, il, pos0, ntok);
		if (c->r_pexp != NULL || ((c->cache != NULL || c->cuda !=
		    NULL) && c->prefetch == ENG_PREFETCH_GATE))
			predict_next(c, il, pos0, ntok);
		for (t = 0; t < ntok; t++)
			rmsnorm(c->xn + (size_t)t * d, c->x + (size_t)t * d,
			    L->ffn_norm, d, hp->norm_eps);
		if (L->is_moe) {
			int rc = moe(c, il, ntok);

			if (rc != 0)
				return rc;
			if ((c->cache != NULL || c->cuda != NULL) &&
			    c->prefetch == ENG_PREFETCH_GATE)
				score_prediction(c, il, ntok);
		} else
			dense_ffn(c, il, ntok);
		record_route(c, il, pos0, ntok);
		for (t = 0; t < ntok * d; t++)
			c->x[t] += c->moe[t];
	}
	c->pos += ntok;
	emit_routes(c, tok, pos0, ntok);
	if (out != NULL) {
		for (t = 0; t < ntok; t++)
			rmsnorm(c->xn + (size_t)t * d, c->x + (size_t)t * d,
			    c->m->out_norm, d, hp->norm_eps);
		matmul(c, &c->m->output, 0, c->xn, d, ntok, out, hp->n_vocab);
		if (want_last)
			memcpy(c->logits, out + (size_t)(ntok - 1) * hp->n_vocab,
			    (size_t)hp->n_vocab * sizeof(float));
	} else if (want_last) {
		rmsnorm(c->xn, c->x + (size_t)(ntok - 1) * d, c->m->out_norm, d,
		    hp->norm_eps);
		matmul(c, &c->m->output, 0, c->xn, d, 1, c->logits,
		    hp->n_vocab);
	}
	return 0;
}

int
eng_eval(struct eng_ctx *c, const int32_t *tokens, int n, int all_logits,
    float *out, const atomic_int *cancel, struct err *e)
{
	uint64_t t0 = util_now_ns(), dt;
	int i, done, rc, chunk;

	if (n <= 0)
		return err_set(e, ERR_USAGE, "no tokens to evaluate");
	for (i = 0; i < n; i++)
		if (tokens[i] < 0 || tokens[i] >= c->hp->n_vocab)
			return err_set(e, ERR_RANGE, "token id %d at index %d "
			    "is outside the vocabulary (0..%d)", tokens[i], i,
			    c->hp->n_vocab - 1);
	if (n > c->n_ctx - c->pos)
		return err_set(e, ERR_RANGE, "context overflow: %d tokens "
		    "in the cache + %d new > context size %d", c->pos, n,
		    c->n_ctx);
	for (done = 0; done < n; done += chunk) {
		chunk = n - done < c->n_batch ? n - done : c->n_batch;
		c->err = e;
		rc = forward(c, tokens + done, chunk, all_logits && out ?
		    out + (size_t)done * c->hp->n_vocab : NULL,
		    done + chunk == n, cancel);
		c->err = NULL;
		if (rc == ERR_CANCELLED)
			return err_set(e, rc, "evaluation cancelled");
		if (rc != 0)
			return rc;	/* the message is in e already */
	}
	if (!all_logits && out != NULL)
		memcpy(out, c->logits, (size_t)c->hp->n_vocab * sizeof(float));
	dt = util_now_ns() - t0;
	if (n == 1) {
		c->timing.decode_tokens++;
		c->timing.decode_ns += dt;
	} else {
		c->timing.prefill_tokens += (uint64_t)n;
		c->timing.prefill_ns += dt;
	}
	return 0;
}

const float *
eng_last_logits(const struct eng_ctx *c)
{
	return c->logits;
}

/* ---- context ---- */

static void *
zalloc(size_t n, size_t sz, int *fail)
{
	void *p;

	if (n == 0)
		n = 1;
	p = calloc(n, sz);
	if (p == NULL)
		*fail = 1;
	return p;
}

/* The expert cache: each MoE layer's experts as file ranges of their
 * gate, up and down rows. */
static int
ctx_cache(struct eng_ctx *c, const struct eng_params *p, struct err *e)
{
	const struct eng_model *m = c->m;
	const uint8_t *base = m->g->map.data;
	struct cache_params cp;
	struct cache_seg *segs;
	int il, x, k, rc, E = c->hp->n_expert;

	segs = calloc((size_t)c->hp->n_layer * E * 3, sizeof *segs);
	if (segs == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (il = 0; il < c->hp->n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];
		const struct eng_w *w[3] = { &L->exp_gate, &L->exp_up,
		    &L->exp_down };

		if (!L->is_moe)
			continue;
		for (x = 0; x < E; x++)
			for (k = 0; k < 3; k++) {
				struct cache_seg *sg = &segs[((size_t)il * E +
				    x) * 3 + k];

				sg->off = (uint64_t)(w[k]->data - base) +
				    (uint64_t)x * w[k]->mat_bytes;
				sg->len = w[k]->mat_bytes;
			}
	}
	memset(&cp, 0, sizeof cp);
	cp.ram_budget = p->ram_budget;
	cp.policy = p->cache_policy;
	cp.io_threads = p->io_threads;
	rc = cache_new(&c->cache, m->g->path, c->hp->n_layer, E, 3, segs, &cp,
	    e);
	free(segs);
	c->prefetch = p->prefetch;
	c->policy = p->cache_policy;
	c->budget = p->ram_budget;
	return rc;
}

int
eng_ctx_new(struct eng_ctx **out, struct eng_model *m,
    const struct eng_params *p, struct err *e)
{
	const struct eng_hparams *hp = &m->hp;
	struct eng_ctx *c;
	size_t B, d, kd, vd, qd, od, nmax, bk;
	int fail = 0, rc, il;

	*out = NULL;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	c->m = m;
	c->hp = hp;
	c->n_ctx = p && p->n_ctx > 0 ? p->n_ctx : (hp->n_ctx_train < 4096 ?
	    hp->n_ctx_train : 4096);
	if (c->n_ctx < 1)
		c->n_ctx = 1;
	c->n_batch = p && p->n_batch > 0 ? p->n_batch : 256;
	if (c->n_batch > c->n_ctx)
		c->n_batch = c->n_ctx;
	c->n_threads = p && p->n_threads > 0 ? p->n_threads : util_ncpu();
	c->ring = p && p->route_ring > 0 ? p->route_ring : c->n_ctx;
	c->k = hp->n_expert_used > 0 ? hp->n_expert_used : 1;
	c->ff_max = hp->n_ff;
	for (il = 0; il < hp->n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];

		if (L->exp_gate.rows > c->ff_max)
			c->ff_max = (int)L->exp_gate.rows;
		if (L->sh_up.rows > c->ff_max)
			c->ff_max = (int)L->sh_up.rows;
		if (L->ffn_up.rows > c->ff_max)
			c->ff_max = (int)L->ffn_up.rows;
	}
	B = (size_t)c->n_batch;
	d = (size_t)hp->n_embd;
	kd = (size_t)hp->n_head_kv * hp->head_dim_k;
	vd = (size_t)hp->n_head_kv * hp->head_dim_v;
	qd = (size_t)hp->n_head * hp->head_dim_k;
	od = (size_t)hp->n_head * hp->head_dim_v;
	bk = B * (size_t)c->k;
	nmax = d;
	if ((size_t)c->ff_max > nmax)
		nmax = (size_t)c->ff_max;
	if (od > nmax)
		nmax = od;
	c->kv_type = p->kv_type == ENG_KV_F16 ? GGML_TYPE_F16 : GGML_TYPE_F32;
	c->kv_esz = c->kv_type == GGML_TYPE_F16 ? 2 : sizeof(float);
	c->kc = zalloc((size_t)hp->n_layer * c->n_ctx * kd, c->kv_esz, &fail);
	/* MLA keeps values inside the keys (the latent): no V cache */
	c->vc = zalloc(m->layers[0].is_mla ? 0 : (size_t)hp->n_layer *
	    c->n_ctx * vd, c->kv_esz, &fail);
	/* per thread: an item's queries in F16 (a head's query is at
	 * most a cache row: MLA's too, its latent plus rope) */
	c->kv_row = kd > vd ? kd : vd;
	c->kvtmp = zalloc((size_t)c->n_threads * ATT_HPI_MAX * c->kv_row,
	    sizeof(float), &fail);
	c->x = zalloc(B * d, sizeof(float), &fail);
	c->xn = zalloc(B * d, sizeof(float), &fail);
	c->q = zalloc(B * qd, sizeof(float), &fail);
	c->kb = zalloc(B * kd, sizeof(float), &fail);
	c->vb = zalloc(B * vd, sizeof(float), &fail);
	c->att = zalloc(B * od, sizeof(float), &fail);
	c->tmp = zalloc(bk * (d > od ? d : od), sizeof(float), &fail);
	c->moe = zalloc(B * d, sizeof(float), &fail);
	c->rlog = zalloc(B * (size_t)hp->n_expert, sizeof(float), &fail);
	c->score = zalloc((size_t)hp->n_expert * 2 + 2, sizeof(float), &fail);
	c->q2 = zalloc(B * (size_t)hp->n_head * (size_t)(hp->head_dim_k_mla >
	    hp->head_dim_v_mla ? hp->head_dim_k_mla : hp->head_dim_v_mla),
	    sizeof(float), &fail);
	c->qa = zalloc(B * (size_t)hp->q_lora_rank, sizeof(float), &fail);
	c->sel = zalloc(bk, sizeof(int), &fail);
	c->selw = zalloc(bk, sizeof(float), &fail);
	c->hg = zalloc(bk * (size_t)c->ff_max, sizeof(float), &fail);
	c->hu = zalloc(bk * (size_t)c->ff_max, sizeof(float), &fail);
	c->yd = zalloc(bk * d, sizeof(float), &fail);
	c->eout = zalloc(bk * d, sizeof(float), &fail);
	c->shg = zalloc(B, sizeof(float), &fail);
	/* F32 is the widest vec-dot type: 4 bytes per element */
	c->xq_cap = bk * nmax * 4 + 64;
	c->xq = zalloc(c->xq_cap, 1, &fail);
	c->xq2 = zalloc(c->xq_cap, 1, &fail);
	c->gq = zalloc(c->xq_cap, 1, &fail);
	/* gate and up rows of each token, F32 (4 bytes an element) at most */
	c->xqt = zalloc(B * 2 * (d * 4 + 64), 1, &fail);
	c->scores = zalloc((size_t)c->n_threads * ATT_HPI_MAX * c->n_ctx,
	    sizeof(float), &fail);
	c->logits = zalloc((size_t)hp->n_vocab, sizeof(float), &fail);
	c->cnt = zalloc((size_t)hp->n_expert + 1, sizeof(int), &fail);
	c->slot = zalloc(bk, sizeof(int), &fail);
	c->grps = zalloc((size_t)hp->n_expert + 1, sizeof(struct grp), &fail);
	c->r_exp = zalloc((size_t)c->ring * hp->n_layer * c->k,
	    sizeof(int16_t), &fail);
	c->r_w = zalloc((size_t)c->ring * hp->n_layer * c->k, sizeof(float),
	    &fail);
	c->r_tok = zalloc((size_t)c->ring, sizeof(int32_t), &fail);
	c->r_pos = zalloc((size_t)c->ring, sizeof(int32_t), &fail);
	c->counts = zalloc((size_t)hp->n_layer * (hp->n_expert + 1),
	    sizeof(uint64_t), &fail);
	if (p != NULL && p->predict && hp->n_expert > 0)
		c->r_pexp = zalloc((size_t)c->ring * hp->n_layer * c->k,
		    sizeof(int16_t), &fail);
	if (fail) {
		eng_ctx_free(c);
		return err_set(e, ERR_NOMEM, "out of memory for a context of "
		    "%d tokens (batch %d)", c->n_ctx, c->n_batch);
	}
	c->psel = zalloc(bk, sizeof(int), &fail);
	c->pselw = zalloc(bk, sizeof(float), &fail);
	c->pred = zalloc(((size_t)hp->n_layer + 1) * (hp->n_expert + 1), 1,
	    &fail);
	c->pstat = zalloc((size_t)hp->n_layer * 3, sizeof(uint64_t), &fail);
	if (fail) {
		eng_ctx_free(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if ((rc = eng_pool_new(&c->pool, c->n_threads, e)) != 0) {
		eng_ctx_free(c);
		return rc;
	}
	if (p != NULL && p->ram_budget > 0 && hp->n_expert > 0 &&
	    (rc = ctx_cache(c, p, e)) != 0) {
		eng_ctx_free(c);
		return rc;
	}
	if (p != NULL && p->device == ENG_DEVICE_CUDA) {
		struct err ce;

		err_clear(&ce);
		c->cgrp = zalloc((size_t)hp->n_expert + 1, sizeof *c->cgrp,
		    &fail);
		if (fail || eng_cuda_new(&c->cuda, m, c->n_batch, c->k,
		    c->ff_max, p->gpu_budget, c->n_threads, &ce) != 0)
			fprintf(stderr, "moescope: --device cuda: %s; using "
			    "the CPU\n", fail ? "out of memory" : ce.msg);
		else {
			if (c->cache == NULL)
				c->prefetch = p->prefetch;
			if (eng_cuda_kv_new(c->cuda, c->n_ctx, &ce) != 0)
				fprintf(stderr, "moescope: cuda: %s; attention "
				    "on the CPU\n", ce.msg);
		}
	}
	eng_ctx_reset(c, 1);
	*out = c;
	return 0;
}

void
eng_ctx_free(struct eng_ctx *c)
{
	if (c == NULL)
		return;
	eng_cuda_free(c->cuda);
	free(c->cgrp);
	eng_pool_free(c->pool);
	cache_free(c->cache);
	free(c->psel); free(c->pselw); free(c->pred); free(c->pstat);
	free(c->kc); free(c->vc); free(c->kvtmp);
	free(c->x); free(c->xn); free(c->q);
	free(c->kb); free(c->vb); free(c->att); free(c->tmp); free(c->moe);
	free(c->rlog); free(c->score); free(c->q2); free(c->qa);
	free(c->sel); free(c->selw); free(c->hg); free(c->hu);
	free(c->yd); free(c->eout); free(c->shg);
	free(c->xq); free(c->xq2); free(c->xqt);
	free(c->gq); free(c->scores); free(c->logits); free(c->cnt);
	free(c->slot); free(c->grps); free(c->r_exp); free(c->r_w);
	free(c->r_pexp);
	free(c->r_tok); free(c->r_pos); free(c->counts);
	free(c);
}

void
eng_ctx_reset(struct eng_ctx *c, int reset_stats)
{
	int i;

	c->pos = 0;
	for (i = 0; i < c->ring; i++)
		c->r_pos[i] = -1;
	if (reset_stats)
		eng_ctx_reset_stats(c);
}

void
eng_ctx_reset_stats(struct eng_ctx *c)
{
	if (c->cache != NULL)
		cache_stats_reset(c->cache);
	memset(c->pstat, 0, (size_t)c->hp->n_layer * 3 * sizeof(uint64_t));
	memset(c->counts, 0, (size_t)c->hp->n_layer * (c->hp->n_expert + 1) *
	    sizeof(uint64_t));
	memset(&c->timing, 0, sizeof c->timing);
}

int
eng_ctx_rewind(struct eng_ctx *c, int pos)
{
	int i;

	if (pos < 0 || pos > c->pos)
		return ERR_RANGE;
	c->pos = pos;
	for (i = 0; i < c->ring; i++)
		if (c->r_pos[i] >= pos)
			c->r_pos[i] = -1;
	return 0;
}

int
eng_ctx_pos(const struct eng_ctx *c)
{
	return c->pos;
}

int
eng_ctx_n_ctx(const struct eng_ctx *c)
{
	return c->n_ctx;
}

int
eng_ctx_n_threads(const struct eng_ctx *c)
{
	return c->n_threads;
}

int
eng_route_get(const struct eng_ctx *c, int pos, struct eng_route *r)
{
	int slot;

	if (pos < 0 || pos >= c->pos)
		return ERR_NOTFOUND;
	slot = pos % c->ring;
	if (c->r_pos[slot] != pos)
		return ERR_NOTFOUND;
	r->pos = pos;
	r->token = c->r_tok[slot];
	r->n_layer = c->hp->n_layer;
	r->k = c->k;
	r->experts = c->r_exp + (size_t)slot * c->hp->n_layer * c->k;
	r->weights = c->r_w + (size_t)slot * c->hp->n_layer * c->k;
	r->predicted = c->r_pexp == NULL ? NULL : c->r_pexp + (size_t)slot *
	    c->hp->n_layer * c->k;
	return 0;
}

int
eng_route_pred_hits(const int16_t *experts, const int16_t *predicted,
    int k, uint8_t *hit)
{
	int s, j, n = 0, any = 0;

	for (s = 0; s < k; s++) {
		if (hit != NULL)
			hit[s] = 0;
		any |= predicted != NULL && predicted[s] >= 0;
	}
	if (!any || experts[0] < 0)
		return -1;
	for (s = 0; s < k; s++) {
		for (j = 0; j < k && (experts[s] < 0 ||
		    predicted[j] != experts[s]); j++)
			;
		if (j < k) {
			n++;
			if (hit != NULL)
				hit[s] = 1;
		}
	}
	return n;
}

const uint64_t *
eng_expert_counts(const struct eng_ctx *c)
{
	return c->counts;
}

void
eng_set_route_hook(struct eng_ctx *c, eng_route_fn fn, void *arg)
{
	c->hook = fn;
	c->hook_arg = arg;
}

const struct eng_timing *
eng_timing(const struct eng_ctx *c)
{
	return &c->timing;
}

void
eng_cache_info(const struct eng_ctx *c, struct eng_cache_info *i)
{
	memset(i, 0, sizeof *i);
	i->expert_bytes = eng_model_expert_bytes(c->m);
	if (c->cache == NULL)
		return;
	i->enabled = 1;
	i->prefetch = c->prefetch;
	i->policy = c->policy;
	i->ram_budget = c->budget;
	i->direct_io = cache_direct_io(c->cache);
	i->slot_bytes = cache_slot_bytes(c->cache);
}

void
eng_cache_layer(const struct eng_ctx *c, int layer,
    struct eng_cache_layer *out, uint8_t *resident)
{
	struct cache_stats st;
	const uint64_t *ps = c->pstat + (size_t)layer * 3;

	memset(out, 0, sizeof *out);
	if (c->cache == NULL) {
		if (resident != NULL)
			memset(resident, c->m->layers[layer].is_moe,
			    (size_t)c->hp->n_expert);
		out->resident = out->capacity = c->m->layers[layer].is_moe ?
		    c->hp->n_expert : 0;
		return;
	}
	cache_stats(c->cache, layer, &st);
	out->hits = st.hits;
	out->misses = st.misses;
	out->prefetch_issued = st.prefetch_issued;
	out->prefetch_hits = st.prefetch_hits;
	out->prefetch_wasted = st.prefetch_wasted;
	out->bytes_read = st.bytes_read;
	out->read_ns = st.read_ns;
	out->stall_ns = st.stall_ns;
	out->resident = st.resident;
	out->capacity = st.capacity;
	out->pred = ps[0];
	out->pred_hit = ps[1];
	out->actual = ps[2];
	if (resident != NULL)
		cache_resident(c->cache, layer, resident);
}
