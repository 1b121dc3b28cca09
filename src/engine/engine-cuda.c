/*
 * engine-cuda.c - the CUDA side of a context (--device cuda): weight
 * products, expert FFNs and standard attention over a device copy of the
 * KV cache run on the GPU through kernels/kern.h; the rest of the
 * forward pass (embedding, norms, q/k norms, RoPE, MLA attention,
 * routing, residuals, sampling) stays on the CPU, which hands
 * activations over per call.
 *
 * Placement, decided once in eng_cuda_new():
 *
 *   workspaces   activations, FFN hidden rows, outputs for a batch of
 *                n_batch tokens x k experts, the kernels' workspace, and
 *                pinned host mirrors for the copies
 *   dense        every non-expert weight (attention, MLA, router, shared
 *                experts, dense FFNs, output) and the expert biases,
 *                uploaded in forward order while the device keeps
 *                gpu_budget + 256 MiB free; what does not fit stays on
 *                the CPU (a note says how much)
 *   KV cache     a device copy of the F32 KV cache (standard attention;
 *                MLA stays on the CPU) when it fits: each layer's new
 *                key/value rows are copied up after RoPE and the split-K
 *                attention kernel runs there (eng_cuda_attn)
 *   experts      gpu_budget / (bytes of one expert) slots, split evenly
 *                over the MoE layers (at most n_expert per layer): a
 *                per-layer LRU cache keyed by expert id. When the device
 *                cannot hold them, half as many are tried, and so on.
 *
 * An expert batch (eng_cuda_ffn_start): hits are queued first on the
 * compute stream; each miss is either copied (host memcpy into one of two
 * pinned staging buffers, then an async copy on the copy stream, the
 * compute stream waiting on its event) or, when the layer cannot hold all
 * its experts and the cost model says the CPU is cheaper for that many
 * tokens (bytes / measured CPU rate x passes of 16 tokens < bytes /
 * measured PCIe rate), left to the CPU, which computes those experts
 * while the GPU works. MOESCOPE_CUDA_MISS=copy|cpu overrides the model.
 * Outputs come back through pinned memory in eng_cuda_ffn_finish(). Any
 * device error switches the device off for the context with a note; the
 * CPU recomputes what was lost.
 *
 * Prefetch (--prefetch gate, no RAM cache): after layer L's attention the
 * engine predicts layer L+1's experts (its router on the current hidden
 * state) and eng_cuda_prefetch() starts their copies on the copy stream,
 * so they travel while layer L's experts compute; the staging memcpy
 * itself runs on the calling thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-cuda.h"

#ifndef HAVE_CUDA

int
eng_cuda_new(struct eng_cuda **out, const struct eng_model *m, int n_batch,
    int k, int ff_max, uint64_t gpu_budget, int n_threads, struct err *e)
{
	(void)m; (void)n_batch; (void)k; (void)ff_max; (void)gpu_budget;
	(void)n_threads;
	*out = NULL;
	return err_set(e, ERR_UNSUPPORTED, "built without the CUDA backend");
}

void
eng_cuda_free(struct eng_cuda *g)
{
	(void)g;
}

int
eng_cuda_matmul(struct eng_cuda *g, const struct eng_w *w, int64_t mat,
    const float *x, size_t xs, int ntok, float *y, size_t ys)
{
	(void)g; (void)w; (void)mat; (void)x; (void)xs; (void)ntok; (void)y;
	(void)ys;
	return 0;
}

int
eng_cuda_ffn_start(struct eng_cuda *g, int il, int expert_layer,
    const struct eng_w *wg, const struct eng_w *wu, const struct eng_w *wd,
    const float *bg, const float *bu, const float *bd, int act,
    struct eng_cuda_grp *gr, int ngrp, const float *xin)
{
	(void)g; (void)il; (void)expert_layer; (void)wg; (void)wu; (void)wd;
	(void)bg; (void)bu; (void)bd; (void)act; (void)gr; (void)ngrp;
	(void)xin;
	return 0;
}

int
eng_cuda_ffn_finish(struct eng_cuda *g, const struct eng_cuda_grp *gr,
    int ngrp, float *y)
{
	(void)g; (void)gr; (void)ngrp; (void)y;
	return 0;
}

int
eng_cuda_kv_new(struct eng_cuda *g, int n_ctx, struct err *e)
{
	(void)g; (void)n_ctx;
	return err_set(e, ERR_UNSUPPORTED, "built without the CUDA backend");
}

int
eng_cuda_attn(struct eng_cuda *g, int il, int pos0, int ntok,
    const float *q, const float *knew, const float *vnew, int window,
    const float *sinks, float *att)
{
	(void)g; (void)il; (void)pos0; (void)ntok; (void)q; (void)knew;
	(void)vnew; (void)window; (void)sinks; (void)att;
	return 0;
}

int
eng_cuda_slots(const struct eng_cuda *g)
{
	(void)g;
	return 0;
}

void
eng_cuda_prefetch(struct eng_cuda *g, int il, int e,
    const struct eng_w *wg, const struct eng_w *wu, const struct eng_w *wd)
{
	(void)g; (void)il; (void)e; (void)wg; (void)wu; (void)wd;
}

void
eng_cuda_stats_get(const struct eng_cuda *g, struct eng_cuda_stats *s)
{
	(void)g;
	memset(s, 0, sizeof *s);
}

#else

#include "kern.h"

#define EC_RESERVE	((uint64_t)256 << 20)	/* device memory kept free */
#define EC_ALIGN	256

/* What a miss does (MOESCOPE_CUDA_MISS=auto|copy|cpu, for tests and
 * benchmarks): the cost model, always copy, always the CPU. */
enum { EC_MISS_AUTO = 0, EC_MISS_COPY, EC_MISS_CPU };

struct ec_dense {			/* a weight (or bias) on the device */
	const uint8_t	*h;
	size_t		 n;
	uint8_t		*d;
};

struct ec_slot {			/* one GPU expert slot */
	int		 expert;	/* -1: empty */
	uint64_t	 used;		/* call tick of the last use */
	kern_event	*ready;		/* its copy is done */
};

struct eng_cuda {
	const struct eng_model	*m;
	int			 d, k, n_batch, failed;
	kern_stream		*s, *cs;	/* compute, copy */
	struct ec_dense		*dn;
	int			 ndn;
	size_t			 dncap;
	/* expert slots: [n_layer][nslot], memory slot_bytes each */
	int			 nslot;
	size_t			 slot_bytes, off[3];
	struct ec_slot		*slots;
	uint8_t			**smem;		/* [n_layer] */
	uint64_t		 tick;
	uint8_t			*stage[2];	/* pinned staging */
	kern_event		*stage_ev[2];
	int			 stage_i;
	/* workspaces (floats) */
	float			*dx, *dy, *dhg, *dhu, *dyd, *hx, *hy;
	size_t			 xcap, ycap, hcap, hycap;
	void			*dws;
	size_t			 ws_bytes;
	int			 r0, nr;	/* rows of the running batch */
	int			 miss;		/* EC_MISS_* */
	uint64_t		 t_start;
	/* device KV cache: [n_layer][n_ctx][kd] and [..][vd] */
	float			*dk, *dv, *dq, *datt;
	void			*daws;
	size_t			 aws_bytes;
	int			 n_ctx;
	int			 dry;		/* ec_put only counts */
	uint64_t		 dry_bytes;
	struct eng_cuda_stats	 st;
	struct err		 err;
};

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static size_t
up_align(size_t n)
{
	return (n + EC_ALIGN - 1) & ~(size_t)(EC_ALIGN - 1);
}

/* Switch the device off for this context after an error. */
static void
ec_fail(struct eng_cuda *g)
{
	if (!g->failed)
		fprintf(stderr, "moescope: cuda: %s; continuing on the CPU\n",
		    g->err.msg);
	g->failed = 1;
}

static int
dense_cmp(const void *a, const void *b)
{
	const struct ec_dense *x = a, *y = b;

	return x->h < y->h ? -1 : x->h > y->h;
}

/* Device address of host bytes [p, p + n) of an uploaded tensor. */
static void *
ec_lookup(const struct eng_cuda *g, const void *p, size_t n)
{
	const uint8_t *q = p;
	int lo = 0, hi = g->ndn - 1, mid;

	while (lo <= hi) {
		mid = (lo + hi) / 2;
		if (g->dn[mid].h > q)
			hi = mid - 1;
		else if (g->dn[mid].h + g->dn[mid].n < q + n)
			lo = mid + 1;
		else
			return g->dn[mid].d + (q - g->dn[mid].h);
	}
	return NULL;
}

/* Upload one tensor if it fits while keeping keep bytes free; 0 when it
 * stays on the CPU (or is absent). */
static int
ec_put(struct eng_cuda *g, const void *h, size_t n, uint64_t keep)
{
	size_t fr = 0, tot = 0;
	void *d = NULL;

	if (h == NULL || n == 0 || ec_lookup(g, h, n) != NULL)
		return 0;
	if (g->dry) {
		g->dry_bytes += n;
		return 0;
	}
	if (kern_mem_get(&fr, &tot, &g->err) != 0 || fr < n + keep ||
	    kern_malloc(&d, n, &g->err) != 0) {
		g->st.dense_cpu += n;
		return 0;
	}
	if (kern_h2d(d, h, n, NULL, &g->err) != 0) {
		kern_free(d);
		g->st.dense_cpu += n;
		return 0;
	}
	if (util_grow(&g->dn, &g->dncap, (size_t)g->ndn + 1,
	    sizeof *g->dn) != 0) {
		kern_free(d);
		return 0;
	}
	g->dn[g->ndn].h = h;
	g->dn[g->ndn].n = n;
	g->dn[g->ndn].d = d;
	g->ndn++;
	qsort(g->dn, (size_t)g->ndn, sizeof *g->dn, dense_cmp);
	g->st.dense_dev += n;
	return 1;
}

static void
ec_put_w(struct eng_cuda *g, const struct eng_w *w, uint64_t keep)
{
	if (w->data != NULL && kern_type_supported(w->type))
		ec_put(g, w->data, w->mat_bytes * (size_t)w->n_mat, keep);
}

/* Every dense weight and the expert biases, in forward order. */
static void
ec_upload_dense(struct eng_cuda *g, uint64_t keep)
{
	const struct eng_model *m = g->m;
	const struct eng_hparams *hp = &m->hp;
	int il;

	for (il = 0; il < hp->n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];
		size_t fb = (size_t)hp->n_expert * L->exp_gate.rows *
		    sizeof(float);
		size_t db = (size_t)hp->n_expert * hp->n_embd * sizeof(float);

		ec_put_w(g, &L->wq, keep);
		ec_put_w(g, &L->wk, keep);
		ec_put_w(g, &L->wv, keep);
		ec_put_w(g, &L->wo, keep);
		ec_put_w(g, &L->wq_a, keep);
		ec_put_w(g, &L->wq_b, keep);
		ec_put_w(g, &L->wkv_a, keep);
		ec_put_w(g, &L->wk_b, keep);
		ec_put_w(g, &L->wv_b, keep);
		ec_put_w(g, &L->router, keep);
		ec_put_w(g, &L->sh_gate, keep);
		ec_put_w(g, &L->sh_up, keep);
		ec_put_w(g, &L->sh_down, keep);
		ec_put_w(g, &L->sh_gate_inp, keep);
		ec_put_w(g, &L->ffn_gate, keep);
		ec_put_w(g, &L->ffn_up, keep);
		ec_put_w(g, &L->ffn_down, keep);
		ec_put(g, L->exp_gate_b, fb, keep);
		ec_put(g, L->exp_up_b, fb, keep);
		ec_put(g, L->exp_down_b, db, keep);
		ec_put(g, L->sinks, (size_t)hp->n_head * sizeof(float), keep);
	}
	ec_put_w(g, &m->output, keep);
}

/* Bytes of one expert of layer il (gate, up, down), 0 for dense layers. */
static size_t
ec_expert_bytes(const struct eng_layer *L, size_t off[3])
{
	size_t a, b, c;

	if (!L->is_moe || L->exp_gate.data == NULL)
		return 0;
	a = up_align(L->exp_gate.mat_bytes);
	b = up_align(L->exp_up.mat_bytes);
	c = up_align(L->exp_down.mat_bytes);
	if (off != NULL) {
		off[0] = 0;
		off[1] = a;
		off[2] = a + b;
	}
	return a + b + c;
}

/* Carve the expert budget into per-layer slots; halve on failure. */
static void
ec_slots(struct eng_cuda *g, uint64_t budget)
{
	const struct eng_hparams *hp = &g->m->hp;
	int il, n_moe = 0, want, i;
	size_t sb = 0, o[3];

	for (il = 0; il < hp->n_layer; il++) {
		size_t b = ec_expert_bytes(&g->m->layers[il], o);

		if (b > 0)
			n_moe++;
		if (b > sb) {
			sb = b;
			memcpy(g->off, o, sizeof o);
		}
	}
	if (n_moe == 0 || sb == 0 || budget == 0)
		return;
	want = (int)(budget / sb / (uint64_t)n_moe);
	/* the whole expert bytes (--gpu-budget 100%) hold every expert,
	 * whatever the slots' alignment padding */
	if (budget >= eng_model_expert_bytes(g->m))
		want = hp->n_expert;
	if (want > hp->n_expert)
		want = hp->n_expert;
	if (want < 1) {
		fprintf(stderr, "moescope: cuda: --gpu-budget holds less than "
		    "one expert per layer (%zu MiB needed); experts stay on "
		    "the CPU\n", (sb * (size_t)n_moe) >> 20);
		return;
	}
	g->slot_bytes = sb;
	g->smem = calloc((size_t)hp->n_layer, sizeof *g->smem);
	g->slots = calloc((size_t)hp->n_layer * want, sizeof *g->slots);
	if (g->smem == NULL || g->slots == NULL)
		return;
	for (; want >= 1; want /= 2) {
		int okk = 1;

		for (il = 0; il < hp->n_layer && okk; il++) {
			void *d = NULL;

			if (ec_expert_bytes(&g->m->layers[il], NULL) == 0)
				continue;
			if (kern_malloc(&d, sb * (size_t)want, &g->err) != 0)
				okk = 0;
			g->smem[il] = d;
		}
		if (okk)
			break;
		for (il = 0; il < hp->n_layer; il++) {
			kern_free(g->smem[il]);
			g->smem[il] = NULL;
		}
		fprintf(stderr, "moescope: cuda: %d expert slots per layer do "
		    "not fit (%s); trying %d\n", want, g->err.msg, want / 2);
	}
	if (want < 1)
		return;
	for (i = 0; i < hp->n_layer * want; i++) {
		g->slots[i].expert = -1;
		if (kern_event_new(&g->slots[i].ready, &g->err) != 0)
			return;
	}
	g->nslot = want;
	if (kern_host_alloc((void **)&g->stage[0], sb, &g->err) != 0 ||
	    kern_host_alloc((void **)&g->stage[1], sb, &g->err) != 0 ||
	    kern_event_new(&g->stage_ev[0], &g->err) != 0 ||
	    kern_event_new(&g->stage_ev[1], &g->err) != 0)
		g->nslot = 0;
	g->st.slots = g->nslot;
}

/* CPU product rate (bytes of weights per second, all threads): one
 * expert matrix times one token, timed on this thread once it is in
 * memory, scaled by 0.7 per thread (memory-bound products do not scale
 * linearly). */
static double
ec_cpu_rate(const struct eng_model *m, int n_threads)
{
	const struct eng_w *w = NULL;
	uint64_t t0, dt;
	size_t qb = 0;
	float *y, *xf;
	void *xq;
	double r = 0;
	int il;

	for (il = 0; il < m->hp.n_layer && w == NULL; il++)
		if (m->layers[il].is_moe && m->layers[il].exp_up.data != NULL)
			w = &m->layers[il].exp_up;
	if (w == NULL || quant_row_bytes(quant_vec_dot_type(w->type), w->n,
	    &qb) != 0)
		return 0;
	xq = calloc(1, qb + 64);
	xf = calloc((size_t)w->n, sizeof *xf);
	y = calloc((size_t)w->rows, sizeof *y);
	if (xq != NULL && xf != NULL && y != NULL &&
	    quant_quantize_act(quant_vec_dot_type(w->type), xf, xq, w->n) ==
	    0) {
		int rep;

		/* the second pass reads from memory, not from the disk */
		for (rep = 0; rep < 2; rep++) {
			t0 = util_now_ns();
			quant_matmul(w->type, w->n, w->data, w->row_bytes, 0,
			    w->rows, xq, qb, 1, y, (size_t)w->rows);
			dt = util_now_ns() - t0;
		}
		if (dt > 0)
			r = (double)w->mat_bytes / (dt * 1e-9) *
			    (n_threads > 1 ? 0.7 * n_threads : 1);
	}
	free(xq);
	free(xf);
	free(y);
	return r;
}

void
eng_cuda_free(struct eng_cuda *g)
{
	int i, nl;

	if (g == NULL)
		return;
	if (g->st.hits + g->st.misses + g->st.cpu_experts > 0 ||
	    g->st.busy_ns > 0)
		fprintf(stderr, "moescope: cuda: expert hits %llu, misses "
		    "%llu (hit rate %.3f), on the CPU %llu, prefetched %llu; "
		    "%.3f GB copied (PCIe %.1f GB/s measured); stall %.3f "
		    "of %.3f s on the device\n",
		    (unsigned long long)g->st.hits,
		    (unsigned long long)g->st.misses,
		    g->st.hits + g->st.misses ? (double)g->st.hits /
		    (double)(g->st.hits + g->st.misses) : 0.0,
		    (unsigned long long)g->st.cpu_experts,
		    (unsigned long long)g->st.prefetched,
		    g->st.h2d_bytes * 1e-9, g->st.pcie_bps * 1e-9,
		    g->st.wait_ns * 1e-9, g->st.busy_ns * 1e-9);
	nl = g->m->hp.n_layer;
	if (g->s != NULL)
		(void)kern_stream_sync(g->s, NULL);
	if (g->cs != NULL)
		(void)kern_stream_sync(g->cs, NULL);
	for (i = 0; i < g->ndn; i++)
		kern_free(g->dn[i].d);
	free(g->dn);
	if (g->slots != NULL)
		for (i = 0; i < nl * g->nslot; i++)
			kern_event_free(g->slots[i].ready);
	if (g->smem != NULL)
		for (i = 0; i < nl; i++)
			kern_free(g->smem[i]);
	free(g->slots);
	free(g->smem);
	for (i = 0; i < 2; i++) {
		kern_host_free(g->stage[i]);
		kern_event_free(g->stage_ev[i]);
	}
	kern_free(g->dk); kern_free(g->dv); kern_free(g->dq);
	kern_free(g->datt); kern_free(g->daws);
	kern_free(g->dx); kern_free(g->dy); kern_free(g->dhg);
	kern_free(g->dhu); kern_free(g->dyd); kern_free(g->dws);
	kern_host_free(g->hx);
	kern_host_free(g->hy);
	kern_stream_free(g->s);
	kern_stream_free(g->cs);
	free(g);
}

int
eng_cuda_new(struct eng_cuda **out, const struct eng_model *m, int n_batch,
    int k, int ff_max, uint64_t gpu_budget, int n_threads, struct err *e)
{
	const struct eng_hparams *hp = &m->hp;
	struct eng_cuda *g;
	struct kern_info ki;
	size_t fr = 0, tot = 0;
	int64_t maxn = hp->n_embd, maxr = hp->n_embd, bk;
	int il, rc;

	*out = NULL;
	if ((rc = kern_init(0, e)) != 0)
		return rc;
	g = calloc(1, sizeof *g);
	if (g == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	g->m = m;
	g->d = hp->n_embd;
	if (getenv("MOESCOPE_CUDA_MISS") != NULL) {
		const char *mv = getenv("MOESCOPE_CUDA_MISS");

		g->miss = strcmp(mv, "copy") == 0 ? EC_MISS_COPY :
		    strcmp(mv, "cpu") == 0 ? EC_MISS_CPU : EC_MISS_AUTO;
	}
	g->k = k;
	g->n_batch = n_batch;
	for (il = 0; il < hp->n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];
		const struct eng_w *ws[] = { &L->wq, &L->wk, &L->wv, &L->wo,
		    &L->wq_a, &L->wq_b, &L->wkv_a, &L->wk_b, &L->wv_b,
		    &L->router, &L->sh_gate, &L->sh_up, &L->sh_down,
		    &L->ffn_gate, &L->ffn_up, &L->ffn_down, &L->exp_gate,
		    &L->exp_up, &L->exp_down };
		size_t i;

		for (i = 0; i < sizeof ws / sizeof ws[0]; i++) {
			maxn = max64(maxn, ws[i]->n);
			maxr = max64(maxr, ws[i]->rows);
		}
	}
	maxn = max64(maxn, ff_max);
	bk = (int64_t)n_batch * k;
	g->xcap = (size_t)max64(bk * hp->n_embd, (int64_t)n_batch * maxn);
	g->hcap = (size_t)(bk * ff_max);
	g->ycap = (size_t)max64((int64_t)n_batch * maxr, m->output.rows);
	if (g->ycap > ((size_t)64 << 20))	/* tokens are chunked */
		g->ycap = (size_t)max64((int64_t)64 << 20, m->output.rows);
	g->hycap = g->ycap > (size_t)bk * hp->n_embd ? g->ycap :
	    (size_t)bk * hp->n_embd;
	g->ws_bytes = (size_t)bk * (size_t)maxn * 2 + ((size_t)32 << 20);
	rc = 0;
	if (kern_stream_new(&g->s, e) != 0 || kern_stream_new(&g->cs, e) != 0 ||
	    kern_malloc((void **)&g->dx, g->xcap * 4, e) != 0 ||
	    kern_malloc((void **)&g->dy, g->ycap * 4, e) != 0 ||
	    kern_malloc((void **)&g->dhg, g->hcap * 4, e) != 0 ||
	    kern_malloc((void **)&g->dhu, g->hcap * 4, e) != 0 ||
	    kern_malloc((void **)&g->dyd, (size_t)bk * hp->n_embd * 4, e) !=
	    0 || kern_malloc(&g->dws, g->ws_bytes, e) != 0 ||
	    kern_host_alloc((void **)&g->hx, g->xcap * 4, e) != 0 ||
	    kern_host_alloc((void **)&g->hy, g->hycap * 4, e) != 0) {
		rc = e != NULL ? e->code : ERR_CUDA;
		eng_cuda_free(g);
		return rc ? rc : ERR_CUDA;
	}
	if (kern_measure_h2d(&g->st.pcie_bps, &g->err) != 0)
		g->st.pcie_bps = 12e9;
	g->st.cpu_bps = ec_cpu_rate(m, n_threads);
	/* dense weights first; the expert budget gets what is left when the
	 * device cannot hold both (a smaller plan, said below) */
	g->dry = 1;
	ec_upload_dense(g, 0);
	g->dry = 0;
	if (kern_mem_get(&fr, &tot, &g->err) == 0 && gpu_budget > 0) {
		uint64_t avail = fr > EC_RESERVE ? fr - EC_RESERVE : 0;

		if (avail < g->dry_bytes + gpu_budget) {
			uint64_t left = avail > g->dry_bytes ? avail -
			    g->dry_bytes : 0;

			fprintf(stderr, "moescope: cuda: --gpu-budget %llu MiB "
			    "does not fit next to the dense weights (%llu "
			    "MiB); %llu MiB for experts\n",
			    (unsigned long long)(gpu_budget >> 20),
			    (unsigned long long)(g->dry_bytes >> 20),
			    (unsigned long long)(left >> 20));
			gpu_budget = left;
		}
	}
	ec_upload_dense(g, gpu_budget + EC_RESERVE);
	ec_slots(g, gpu_budget);
	if (kern_info_get(&ki, &g->err) != 0)
		snprintf(ki.name, sizeof ki.name, "CUDA device");
	fprintf(stderr, "moescope: cuda: %s; dense weights %llu MiB on the "
	    "device, %llu MiB on the CPU; %d expert slots per MoE layer "
	    "(%zu MiB each)\n", ki.name,
	    (unsigned long long)(g->st.dense_dev >> 20),
	    (unsigned long long)(g->st.dense_cpu >> 20), g->nslot,
	    g->slot_bytes >> 20);
	*out = g;
	return 0;
}

int
eng_cuda_matmul(struct eng_cuda *g, const struct eng_w *w, int64_t mat,
    const float *x, size_t xs, int ntok, float *y, size_t ys)
{
	const uint8_t *hw;
	uint64_t t0, t1;
	void *dw;
	int t, tc, t0k, nt;
	size_t n = (size_t)w->n, rows = (size_t)w->rows;

	if (g == NULL || g->failed || w->data == NULL || ntok <= 0)
		return 0;
	hw = w->data + (size_t)mat * w->mat_bytes;
	if ((dw = ec_lookup(g, hw, w->mat_bytes)) == NULL)
		return 0;
	tc = (int)(g->ycap / rows);
	if ((size_t)tc * n > g->xcap)
		tc = (int)(g->xcap / n);
	if (tc < 1)
		return 0;
	t0 = util_now_ns();
	for (t0k = 0; t0k < ntok; t0k += tc) {
		nt = ntok - t0k < tc ? ntok - t0k : tc;
		for (t = 0; t < nt; t++)
			memcpy(g->hx + (size_t)t * n, x + (size_t)(t0k + t) *
			    xs, n * sizeof(float));
		if (kern_h2d(g->dx, g->hx, (size_t)nt * n * 4, g->s,
		    &g->err) != 0 ||
		    kern_matmul(w->type, w->n, w->rows, dw, w->row_bytes,
		    g->dx, n, nt, g->dy, rows, g->dws, g->ws_bytes, g->s,
		    &g->err) != 0 ||
		    kern_d2h(g->hy, g->dy, (size_t)nt * rows * 4, g->s,
		    &g->err) != 0) {
			ec_fail(g);
			return 0;
		}
		t1 = util_now_ns();
		if (kern_stream_sync(g->s, &g->err) != 0) {
			ec_fail(g);
			return 0;
		}
		g->st.wait_ns += util_now_ns() - t1;
		for (t = 0; t < nt; t++)
			memcpy(y + (size_t)(t0k + t) * ys, g->hy + (size_t)t *
			    rows, rows * sizeof(float));
	}
	g->st.busy_ns += util_now_ns() - t0;
	return 1;
}

int
eng_cuda_kv_new(struct eng_cuda *g, int n_ctx, struct err *e)
{
	const struct eng_hparams *hp = &g->m->hp;
	size_t kd = (size_t)hp->n_head_kv * hp->head_dim_k;
	size_t vd = (size_t)hp->n_head_kv * hp->head_dim_v;
	size_t B = (size_t)g->n_batch, nl = (size_t)hp->n_layer;
	struct kern_attn p;
	size_t fr = 0, tot = 0, need;
	int rc;

	if (g->m->layers[0].is_mla || hp->n_head_kv <= 0)
		return err_set(e, ERR_UNSUPPORTED, "MLA attention stays on "
		    "the CPU");
	memset(&p, 0, sizeof p);
	p.ntok = 1;
	p.n_head = hp->n_head;
	p.hdv = hp->head_dim_v;
	p.pos0 = n_ctx - 1;
	/* workspace for one query at the longest context; more queries at
	 * once when it holds them */
	g->aws_bytes = kern_attn_ws(&p) * (B < 16 ? B : 16);
	need = nl * (size_t)n_ctx * (kd + vd) * 4 + B * (size_t)hp->n_head *
	    (hp->head_dim_k + hp->head_dim_v) * 4 + g->aws_bytes;
	if ((rc = kern_mem_get(&fr, &tot, e)) != 0)
		return rc;
	if (fr < need + EC_RESERVE)
		return err_set(e, ERR_NOMEM, "a device KV cache needs %zu "
		    "MiB, %zu MiB free", need >> 20, fr >> 20);
	if ((rc = kern_malloc((void **)&g->dk, nl * n_ctx * kd * 4, e)) != 0 ||
	    (rc = kern_malloc((void **)&g->dv, nl * n_ctx * vd * 4, e)) != 0 ||
	    (rc = kern_malloc((void **)&g->dq, B * hp->n_head *
	    hp->head_dim_k * 4, e)) != 0 ||
	    (rc = kern_malloc((void **)&g->datt, B * hp->n_head *
	    hp->head_dim_v * 4, e)) != 0 ||
	    (rc = kern_malloc(&g->daws, g->aws_bytes, e)) != 0) {
		kern_free(g->dk); kern_free(g->dv); kern_free(g->dq);
		kern_free(g->datt); kern_free(g->daws);
		g->dk = g->dv = g->dq = g->datt = NULL;
		g->daws = NULL;
		return rc;
	}
	g->n_ctx = n_ctx;
	return 0;
}

int
eng_cuda_attn(struct eng_cuda *g, int il, int pos0, int ntok,
    const float *q, const float *knew, const float *vnew, int window,
    const float *sinks, float *att)
{
	const struct eng_hparams *hp;
	struct kern_attn p;
	size_t kd, vd, qd, od;
	uint64_t t0, t1;
	int t, tc, can;

	if (g == NULL || g->dk == NULL || ntok <= 0)
		return 0;
	hp = &g->m->hp;
	kd = (size_t)hp->n_head_kv * hp->head_dim_k;
	vd = (size_t)hp->n_head_kv * hp->head_dim_v;
	qd = (size_t)hp->n_head * hp->head_dim_k;
	od = (size_t)hp->n_head * hp->head_dim_v;
	/* once off, the device never serves again, so its cache may lag */
	if (g->failed || pos0 + ntok > g->n_ctx || ntok > g->n_batch)
		return 0;
	t0 = util_now_ns();
	memset(&p, 0, sizeof p);
	p.n_head = hp->n_head;
	p.n_head_kv = hp->n_head_kv;
	p.hdk = hp->head_dim_k;
	p.hdv = hp->head_dim_v;
	p.ks = kd;
	p.vs = vd;
	p.window = window;
	p.scale = hp->kq_scale;
	p.dsinks = sinks != NULL ? ec_lookup(g, sinks,
	    (size_t)hp->n_head * sizeof(float)) : NULL;
	/* the new rows always go to the device cache, so it stays whole
	 * even for a batch the device does not compute */
	can = (sinks == NULL || p.dsinks != NULL) &&
	    (size_t)ntok * od <= g->hycap;
	if (kern_h2d(g->dk + ((size_t)il * g->n_ctx + pos0) * kd, knew,
	    (size_t)ntok * kd * 4, g->s, &g->err) != 0 ||
	    kern_h2d(g->dv + ((size_t)il * g->n_ctx + pos0) * vd, vnew,
	    (size_t)ntok * vd * 4, g->s, &g->err) != 0)
		goto fail;
	if (!can)
		return 0;
	if (kern_h2d(g->dq, q, (size_t)ntok * qd * 4, g->s, &g->err) != 0)
		goto fail;
	for (t = 0; t < ntok; t += tc) {
		p.pos0 = pos0 + t;
		for (tc = ntok - t; tc > 1; tc = (tc + 1) / 2) {
			p.ntok = tc;
			if (kern_attn_ws(&p) <= g->aws_bytes)
				break;
		}
		p.ntok = tc;
		if (kern_attention(g->dq + (size_t)t * qd,
		    g->dk + (size_t)il * g->n_ctx * kd,
		    g->dv + (size_t)il * g->n_ctx * vd, g->datt +
		    (size_t)t * od, &p, g->daws, g->s, &g->err) != 0)
			goto fail;
	}
	if (kern_d2h(g->hy, g->datt, (size_t)ntok * od * 4, g->s, &g->err) !=
	    0)
		goto fail;
	t1 = util_now_ns();
	if (kern_stream_sync(g->s, &g->err) != 0)
		goto fail;
	g->st.wait_ns += util_now_ns() - t1;
	memcpy(att, g->hy, (size_t)ntok * od * 4);
	g->st.busy_ns += util_now_ns() - t0;
	return 1;
fail:
	ec_fail(g);
	return 0;
}

/* The slot of expert e in layer il, or -1. */
static int
ec_find(struct eng_cuda *g, int il, int e)
{
	struct ec_slot *s = g->slots + (size_t)il * g->nslot;
	int i;

	for (i = 0; i < g->nslot; i++)
		if (s[i].expert == e)
			return i;
	return -1;
}

/* Least recently used slot not used by this batch, or -1. */
static int
ec_victim(struct eng_cuda *g, int il)
{
	struct ec_slot *s = g->slots + (size_t)il * g->nslot;
	int i, best = -1;

	for (i = 0; i < g->nslot; i++) {
		if (s[i].used == g->tick && s[i].expert >= 0)
			continue;
		if (best < 0 || s[i].expert < 0 ||
		    (s[best].expert >= 0 && s[i].used < s[best].used))
			best = i;
		if (s[i].expert < 0)
			break;
	}
	return best;
}

/* Copy expert e's three matrices into slot si through pinned staging. */
static int
ec_load(struct eng_cuda *g, int il, int si, const struct eng_cuda_grp *gr,
    const struct eng_w *w3[3])
{
	uint8_t *dst = g->smem[il] + (size_t)si * g->slot_bytes, *st;
	struct ec_slot *s = g->slots + (size_t)il * g->nslot + si;
	int j, b = g->stage_i;

	if (kern_event_sync(g->stage_ev[b], &g->err) != 0)
		return -1;
	st = g->stage[b];
	for (j = 0; j < 3; j++)
		memcpy(st + g->off[j], gr->w[j], w3[j]->mat_bytes);
	if (kern_h2d(dst, st, g->slot_bytes, g->cs, &g->err) != 0 ||
	    kern_event_record(g->stage_ev[b], g->cs, &g->err) != 0 ||
	    kern_event_record(s->ready, g->cs, &g->err) != 0)
		return -1;
	g->stage_i ^= 1;
	s->expert = gr->expert;
	g->st.h2d_bytes += g->slot_bytes;
	return 0;
}

/* Queue one group's FFN on the compute stream. */
static int
ec_group(struct eng_cuda *g, const struct eng_w *w3[3], uint8_t *dw[3],
    const float *db[3], int act, const struct eng_cuda_grp *gr)
{
	int d = g->d, ff = (int)w3[0]->rows, nt = gr->ntok;
	size_t r = (size_t)(gr->row0 - g->r0);
	float *xr = g->dx + r * d, *hg = g->dhg + r * ff, *hu = g->dhu +
	    r * ff, *yr = g->dyd + r * d;
	struct err *e = &g->err;

	if (kern_matmul(w3[0]->type, d, ff, dw[0], w3[0]->row_bytes, xr, d, nt,
	    hg, ff, g->dws, g->ws_bytes, g->s, e) != 0 ||
	    kern_matmul(w3[1]->type, d, ff, dw[1], w3[1]->row_bytes, xr, d, nt,
	    hu, ff, g->dws, g->ws_bytes, g->s, e) != 0)
		return -1;
	if (db[0] != NULL && kern_add_rows(hg, db[0] + (size_t)gr->expert * ff,
	    nt, ff, g->s, e) != 0)
		return -1;
	if (db[1] != NULL && kern_add_rows(hu, db[1] + (size_t)gr->expert * ff,
	    nt, ff, g->s, e) != 0)
		return -1;
	if (kern_swiglu(hg, hu, (int64_t)nt * ff, act == ENG_ACT_SWIGLU_OAI,
	    g->s, e) != 0 ||
	    kern_matmul(w3[2]->type, ff, d, dw[2], w3[2]->row_bytes, hg, ff, nt,
	    yr, d, g->dws, g->ws_bytes, g->s, e) != 0)
		return -1;
	if (db[2] != NULL && kern_add_rows(yr, db[2] + (size_t)gr->expert * d,
	    nt, d, g->s, e) != 0)
		return -1;
	return kern_d2h(g->hy + r * d, yr, (size_t)nt * d * sizeof(float),
	    g->s, e);
}

int
eng_cuda_ffn_start(struct eng_cuda *g, int il, int expert_layer,
    const struct eng_w *wg, const struct eng_w *wu, const struct eng_w *wd,
    const float *bg, const float *bu, const float *bd, int act,
    struct eng_cuda_grp *gr, int ngrp, const float *xin)
{
	const struct eng_w *w3[3] = { wg, wu, wd };
	const float *hb[3] = { bg, bu, bd }, *db[3];
	size_t bsz[3];
	int d = g != NULL ? g->d : 0, ff = (int)wg->rows, i, j, pass, taken = 0;
	uint64_t t0;

	if (g == NULL || g->failed || ngrp <= 0)
		return 0;
	for (i = 0; i < ngrp; i++)
		gr[i].on_gpu = 0;
	g->r0 = gr[0].row0;
	g->nr = gr[ngrp - 1].row0 + gr[ngrp - 1].ntok - g->r0;
	if ((size_t)g->nr * d > g->xcap || (size_t)g->nr * ff > g->hcap ||
	    (size_t)g->nr * d > g->hycap)
		return 0;
	for (j = 0; j < 3; j++)
		if (!kern_type_supported(w3[j]->type))
			return 0;
	bsz[0] = bsz[1] = (size_t)g->m->hp.n_expert * ff * sizeof(float);
	bsz[2] = (size_t)g->m->hp.n_expert * d * sizeof(float);
	for (j = 0; j < 3; j++) {
		db[j] = NULL;
		if (hb[j] != NULL && (db[j] = ec_lookup(g, hb[j], bsz[j])) ==
		    NULL)
			return 0;
	}
	if (expert_layer && (g->nslot == 0 || g->smem == NULL ||
	    g->smem[il] == NULL))
		return 0;
	t0 = util_now_ns();
	g->tick++;
	memcpy(g->hx, xin + (size_t)g->r0 * d, (size_t)g->nr * d * 4);
	if (kern_h2d(g->dx, g->hx, (size_t)g->nr * d * 4, g->s, &g->err) != 0)
		goto fail;
	/* pass 0: hits and dense groups; pass 1: misses */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < ngrp; i++) {
			uint8_t *dw[3];
			int si;

			if (gr[i].on_gpu)
				continue;
			if (!expert_layer) {
				if (pass == 1)
					continue;
				for (j = 0; j < 3; j++)
					if ((dw[j] = ec_lookup(g, gr[i].w[j],
					    w3[j]->mat_bytes)) == NULL)
						break;
				if (j < 3)
					continue;
			} else {
				struct ec_slot *s;

				si = ec_find(g, il, gr[i].expert);
				if (pass == 0 && si < 0)
					continue;
				if (pass == 1) {
					double tc = (double)g->slot_bytes /
					    g->st.pcie_bps;
					double tp = (double)g->slot_bytes /
					    g->st.cpu_bps * (1 + (gr[i].ntok -
					    1) / 16);

					int cpu = g->miss == EC_MISS_CPU ||
					    (g->miss == EC_MISS_AUTO &&
					    g->nslot < g->m->hp.n_expert &&
					    g->st.cpu_bps > 0 && tp < tc);

					if (cpu) {
						g->st.cpu_experts++;
						continue;
					}
					if ((si = ec_victim(g, il)) < 0) {
						g->st.cpu_experts++;
						continue;
					}
					if (ec_load(g, il, si, &gr[i], w3) != 0)
						goto fail;
					g->st.misses++;
				} else
					g->st.hits++;
				s = g->slots + (size_t)il * g->nslot + si;
				s->used = g->tick;
				if (kern_event_wait(g->s, s->ready, &g->err) !=
				    0)
					goto fail;
				for (j = 0; j < 3; j++)
					dw[j] = g->smem[il] + (size_t)si *
					    g->slot_bytes + g->off[j];
			}
			if (ec_group(g, w3, dw, db, act, &gr[i]) != 0)
				goto fail;
			gr[i].on_gpu = 1;
			taken++;
		}
	g->st.busy_ns += util_now_ns() - t0;
	g->t_start = t0;
	return taken;
fail:
	for (i = 0; i < ngrp; i++)
		gr[i].on_gpu = 0;
	ec_fail(g);
	return 0;
}

int
eng_cuda_ffn_finish(struct eng_cuda *g, const struct eng_cuda_grp *gr,
    int ngrp, float *y)
{
	uint64_t t0 = util_now_ns();
	int i;

	if (kern_stream_sync(g->s, &g->err) != 0) {
		ec_fail(g);
		return -1;
	}
	g->st.wait_ns += util_now_ns() - t0;
	g->st.busy_ns += util_now_ns() - t0;
	for (i = 0; i < ngrp; i++)
		if (gr[i].on_gpu)
			memcpy(y + (size_t)gr[i].row0 * g->d, g->hy +
			    (size_t)(gr[i].row0 - g->r0) * g->d,
			    (size_t)gr[i].ntok * g->d * sizeof(float));
	return 0;
}

int
eng_cuda_slots(const struct eng_cuda *g)
{
	return g == NULL || g->failed ? 0 : g->nslot;
}

void
eng_cuda_prefetch(struct eng_cuda *g, int il, int e,
    const struct eng_w *wg, const struct eng_w *wu, const struct eng_w *wd)
{
	const struct eng_w *w3[3] = { wg, wu, wd };
	struct eng_cuda_grp gr;
	int si, j;

	if (g == NULL || g->failed || g->nslot == 0 || g->smem == NULL ||
	    g->smem[il] == NULL || ec_find(g, il, e) >= 0 ||
	    (si = ec_victim(g, il)) < 0)
		return;
	memset(&gr, 0, sizeof gr);
	gr.expert = e;
	for (j = 0; j < 3; j++)
		gr.w[j] = w3[j]->data + (size_t)e * w3[j]->mat_bytes;
	if (ec_load(g, il, si, &gr, w3) != 0) {
		ec_fail(g);
		return;
	}
	g->slots[(size_t)il * g->nslot + si].used = g->tick;
	g->st.prefetched++;
}

void
eng_cuda_stats_get(const struct eng_cuda *g, struct eng_cuda_stats *s)
{
	if (g == NULL)
		memset(s, 0, sizeof *s);
	else
		*s = g->st;
}

#endif
