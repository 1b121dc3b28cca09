/*
 * engine-cuda.h - engine room, private: the CUDA side of a context
 * (engine-cuda.c). engine-forward.c asks it to run a weight product or a
 * batch of expert FFNs; when it says no (weight not on the device, no
 * device, a failure) the CPU path runs as before, so every call site
 * keeps its CPU code.
 */
#ifndef MOESCOPE_ENGINE_CUDA_H
#define MOESCOPE_ENGINE_CUDA_H

#include "engine/engine-int.h"

struct eng_cuda;

/* One expert's (or a dense FFN's) share of a batch, rows row0.. of the
 * gathered input. */
struct eng_cuda_grp {
	int		 expert;
	int		 ntok;
	int		 row0;
	const uint8_t	*w[3];		/* host gate, up, down */
	int		 on_gpu;	/* out: computed on the device */
};

struct eng_cuda_stats {
	uint64_t	 hits, misses;	/* GPU expert slots */
	uint64_t	 prefetched;	/* copies started by a prediction */
	uint64_t	 cpu_experts;	/* misses computed on the CPU */
	uint64_t	 h2d_bytes;	/* expert bytes copied */
	uint64_t	 wait_ns;	/* host blocked on the device */
	uint64_t	 busy_ns;	/* time inside device calls */
	double		 pcie_bps, cpu_bps;	/* the cost model's rates */
	uint64_t	 dense_dev, dense_cpu;	/* dense weight bytes */
	int		 slots;		/* GPU expert slots per MoE layer */
};

/*
 * Start the device for a context: upload the dense weights that fit,
 * carve gpu_budget bytes into per-layer expert slots (fewer when the
 * device has less free memory: a note says so), allocate the workspaces
 * for batches of n_batch tokens with k experts each. ERR_CUDA (no
 * device), ERR_UNSUPPORTED (built without CUDA) or ERR_NOMEM; the caller
 * then runs on the CPU.
 */
int eng_cuda_new(struct eng_cuda **out, const struct eng_model *m,
    int n_batch, int k, int ff_max, uint64_t gpu_budget, int n_threads,
    struct err *e);
/* Print the counters as one "cuda:" line on stderr, then free. */
void eng_cuda_free(struct eng_cuda *g);

/*
 * y[t][r] = x[t] . W[mat] row r on the device. Returns 1 when done, 0
 * when the caller must compute it (weight not resident, or the device
 * failed: then it is switched off with a note and the CPU does the rest).
 */
int eng_cuda_matmul(struct eng_cuda *g, const struct eng_w *w, int64_t mat,
    const float *x, size_t xs, int ntok, float *y, size_t ys);

/*
 * Expert FFNs (expert_layer: experts of layer il in GPU slots, else the
 * dense weights at gr[].w) over rows of xin ([rows][d]): queue the GPU
 * work for the groups it takes (on_gpu = 1; misses copied from pinned
 * staging on the copy stream, hits computed first) and return how many
 * it took. The caller computes the other groups on the CPU meanwhile,
 * then calls eng_cuda_ffn_finish() to get the taken groups' rows of y.
 * biases: [n_expert][ff] gate, up and [n_expert][d] down, or NULL.
 */
int eng_cuda_ffn_start(struct eng_cuda *g, int il, int expert_layer,
    const struct eng_w *wg, const struct eng_w *wu, const struct eng_w *wd,
    const float *bg, const float *bu, const float *bd, int act,
    struct eng_cuda_grp *gr, int ngrp, const float *xin);
/* 0, or -1 when the device failed (the caller recomputes every group
 * on the CPU; the device is then off). */
int eng_cuda_ffn_finish(struct eng_cuda *g, const struct eng_cuda_grp *gr,
    int ngrp, float *y);

/*
 * A device copy of the KV cache (standard attention; MLA stays on the
 * CPU) for n_ctx positions, so attention runs on the device. 0, or an
 * error when it does not fit (a note; attention stays on the CPU).
 */
int eng_cuda_kv_new(struct eng_cuda *g, int n_ctx, struct err *e);

/*
 * Layer il's attention on the device for ntok queries at pos0..: the new
 * key and value rows (host cache rows pos0.., already roped) are copied
 * into the device cache, then the split-K kernel writes att
 * ([ntok][n_head][hd_v]). 1 when done; 0 when the caller must compute
 * it (no device cache, or the device failed and is now off).
 */
int eng_cuda_attn(struct eng_cuda *g, int il, int pos0, int ntok,
    const float *q, const float *knew, const float *vnew, int window,
    const float *sinks, float *att);

/* GPU expert slots per MoE layer (0: experts stay on the CPU). */
int eng_cuda_slots(const struct eng_cuda *g);

/*
 * Start copying expert e of layer il (from the mapped file) into a GPU
 * slot on the copy stream, so it arrives while the current layer
 * computes (--prefetch gate). A no-op when it is already there, when
 * there are no slots or the device is off. The slot counts as used now,
 * so the prefetches of one layer do not evict each other.
 */
void eng_cuda_prefetch(struct eng_cuda *g, int il, int e,
    const struct eng_w *wg, const struct eng_w *wu, const struct eng_w *wd);

void eng_cuda_stats_get(const struct eng_cuda *g, struct eng_cuda_stats *s);

#endif
