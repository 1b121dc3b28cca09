/*
 * engine.h - the engine room: model load, forward pass, router, sampler,
 * CPU thread pool, routing telemetry.
 *
 * One forward pass serves every architecture: a per-architecture
 * description (struct eng_arch) says how norms, RoPE, routing and shared
 * experts behave, and the optional tensors a file carries (biases, q/k
 * norms, shared experts) are bound when present. Hyper-parameters come
 * from GGUF metadata only.
 *
 * Objects: a model (weights, mmap'd; read-only, shareable), a context
 * (KV cache, scratch buffers, thread pool, telemetry; one conversation at
 * a time). Nothing is allocated in the per-token path: all buffers are
 * sized at context creation.
 *
 * engine uses util, formats, quant, tokenizer, cache, kernels.
 */
#ifndef MOESCOPE_ENGINE_H
#define MOESCOPE_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct gguf;
struct eng_model;
struct eng_ctx;

/* Hyper-parameters, read from "<arch>.*" keys. */
struct eng_hparams {
	char	 arch[32];
	int	 n_layer;
	int	 n_embd;
	int	 n_head;
	int	 n_head_kv;
	int	 head_dim_k;	/* key_length, else n_embd / n_head */
	int	 head_dim_v;	/* value_length, else head_dim_k */
	int	 n_ff;		/* dense FFN width (0 if none) */
	int	 n_expert;	/* routed experts per MoE layer (0: dense) */
	int	 n_expert_used;	/* top-k */
	int	 n_ff_exp;	/* routed expert FFN width */
	int	 n_ff_shexp;	/* shared expert FFN width (0: none) */
	int	 n_expert_shared; /* shared expert count (deepseek2) */
	int	 n_layer_dense_lead; /* leading dense layers */
	int	 n_vocab;
	int	 n_ctx_train;
	int	 n_rot;		/* rotary dims per head */
	float	 rope_base;
	float	 rope_freq_scale;
	float	 norm_eps;
	int	 expert_norm;	/* renormalize top-k weights */
	float	 expert_scale;	/* multiply routed weights */
	int	 gating;	/* ENG_GATING_* */
	/* YaRN */
	int	 rope_yarn;
	float	 yarn_ext_factor;
	float	 yarn_attn_factor;	/* cos/sin magnitude */
	float	 yarn_beta_fast;
	float	 yarn_beta_slow;
	int	 n_ctx_orig;
	float	 yarn_log_mul;
	float	 yarn_corr[2];		/* correction dims (derived) */
	/* sliding window (gpt-oss; the layer pattern is the arch's) */
	int	 swa_window;
	/* MLA (deepseek2) */
	int	 q_lora_rank;
	int	 kv_lora_rank;
	int	 head_dim_k_mla;	/* qk_nope + qk_rope */
	int	 head_dim_v_mla;	/* v_head_dim */
	/* grouped routing (DeepSeek-V3) */
	int	 n_expert_groups;
	int	 n_group_used;
	float	 kq_scale;	/* attention scale (derived) */
};

enum {
	ENG_GATING_SOFTMAX = 1,
	ENG_GATING_SIGMOID = 2,
	ENG_GATING_SOFTMAX_TOPK = 3	/* softmax over the selected logits */
};

/*
 * Load a model from an open GGUF (which the model keeps a reference to;
 * the caller must not close it before eng_model_free). Validates every
 * tensor's presence, type and shape against the metadata; errors name
 * the tensor.
 */
int eng_model_load(struct eng_model **out, struct gguf *g, struct err *e);

/* Open path and load it; the model owns the GGUF. */
int eng_model_open(struct eng_model **out, const char *path, struct err *e);
void eng_model_free(struct eng_model *m);
const struct eng_hparams *eng_model_hparams(const struct eng_model *m);
struct gguf *eng_model_gguf(const struct eng_model *m);

/* Bytes of weights one decoded token reads: dense weights plus the used
 * share of the expert weights; and the total expert bytes. */
uint64_t eng_model_bytes_per_token(const struct eng_model *m);
/* Bytes of KV cache one decode step reads when positions [0, n_ctx)
 * are visible (sliding-window layers only their window; MLA its latent
 * rows once), for a cache of kv_type (ENG_KV_*). */
uint64_t eng_model_kv_bytes(const struct eng_model *m, int64_t n_ctx,
    int kv_type);
uint64_t eng_model_expert_bytes(const struct eng_model *m);

struct eng_params {
	int	 n_ctx;		/* 0: min(n_ctx_train, 4096) */
	int	 n_batch;	/* max tokens per forward call (prefill
				 * chunk); 0: 256 */
	int	 n_threads;	/* 0: number of cores */
	int	 route_ring;	/* routing records kept; 0: n_ctx */
	/* expert offloading: 0 = every expert read in place (mmap) */
	uint64_t ram_budget;	/* bytes of expert slots in RAM */
	int	 cache_policy;	/* enum cache_policy (lru, lfu, gate) */
	int	 prefetch;	/* ENG_PREFETCH_* */
	int	 io_threads;	/* 0: 4 */
	/* CUDA backend (engine-cuda.c) */
	int	 device;	/* ENG_DEVICE_* */
	uint64_t gpu_budget;	/* bytes of GPU expert slots (0: none) */
	/* record every MoE layer's next-layer prediction in the routing
	 * ring (eng_route.predicted): one more router product per layer
	 * and token; outputs are unchanged. 0: off */
	int	 predict;
	/* KV cache element type: ENG_KV_F32 (the reference's, the default)
	 * or ENG_KV_F16 (half the memory and the bytes attention reads;
	 * keys and values rounded to F16, queries to F16 for the scores,
	 * as llama.cpp's default cache does) */
	int	 kv_type;
};

enum {
	ENG_KV_F32 = 0,
	ENG_KV_F16 = 1
};

enum {
	ENG_DEVICE_CPU = 0,
	ENG_DEVICE_CUDA = 1	/* weights products on the GPU; falls back
				 * to the CPU (with a note) when there is
				 * no device */
};

enum {
	ENG_PREFETCH_NONE = 0,
	ENG_PREFETCH_GATE = 1	/* next layer's router on the current
				 * hidden state, after attention */
};

/* A context: KV cache, buffers and a thread pool for one model. */
int eng_ctx_new(struct eng_ctx **out, struct eng_model *m,
    const struct eng_params *p, struct err *e);
void eng_ctx_free(struct eng_ctx *c);

/* Forget the conversation (KV cache, position); telemetry counts stay
 * unless reset_stats. */
void eng_ctx_reset(struct eng_ctx *c, int reset_stats);

/* Zero the telemetry counters (routing counts, timings, cache) and keep
 * the conversation. */
void eng_ctx_reset_stats(struct eng_ctx *c);

/*
 * Keep only the first pos tokens of the conversation (0 <= pos <=
 * eng_ctx_pos(c)): later evaluation continues at pos, so a caller that
 * shares a prefix with what the cache holds need not evaluate it again.
 * The routing records of the dropped positions are forgotten. 0 or
 * ERR_RANGE.
 */
int eng_ctx_rewind(struct eng_ctx *c, int pos);

/* Tokens in the KV cache (the next position). */
int eng_ctx_pos(const struct eng_ctx *c);
int eng_ctx_n_ctx(const struct eng_ctx *c);
int eng_ctx_n_threads(const struct eng_ctx *c);

/*
 * Evaluate n tokens at positions pos..pos+n-1 (appending to the KV
 * cache), in chunks of n_batch. When all_logits, logits for every token
 * are written to out (n x n_vocab floats); else only the last token's
 * (n_vocab floats). out may be NULL. Errors: a token outside the
 * vocabulary, a context overflow, ERR_CANCELLED when *cancel becomes
 * non-zero between layers (the cache then holds only the tokens
 * completed).
 */
int eng_eval(struct eng_ctx *c, const int32_t *tokens, int n,
    int all_logits, float *out, const atomic_int *cancel, struct err *e);

/* The logits of the last evaluated token (n_vocab floats). */
const float *eng_last_logits(const struct eng_ctx *c);

/* ---- routing telemetry ---- */

/*
 * One token's routing: for each layer, k expert ids (-1 for a dense
 * layer) and their final gate weights. With eng_params.predict, also the
 * experts predicted for each layer L >= 1 before it ran: layer L's router
 * (after its pre-FFN norm) on the hidden state after layer L-1's
 * attention, top-k by the model's selection rule, best first (what
 * --prefetch gate loads ahead); -1 where there is no prediction (layer 0,
 * dense layers).
 */
struct eng_route {
	int32_t	 pos;
	int32_t	 token;
	int	 n_layer;
	int	 k;
	const int16_t	*experts;	/* [n_layer][k] */
	const float	*weights;	/* [n_layer][k] */
	const int16_t	*predicted;	/* [n_layer][k], or NULL when the
					 * context does not predict */
};

/* The routing of the token at position pos, if still in the ring. */
int eng_route_get(const struct eng_ctx *c, int pos, struct eng_route *r);

/*
 * Which of one layer's k chosen experts (experts[k]) were predicted
 * (predicted[k], as in struct eng_route): hit[s] (may be NULL) gets 1 for
 * a predicted expert, 0 for a miss. Returns the number of hits, or -1
 * when the layer has no prediction (predicted NULL or all -1, or a dense
 * layer); hit is then all 0.
 */
int eng_route_pred_hits(const int16_t *experts, const int16_t *predicted,
    int k, uint8_t *hit);

/* Per-layer, per-expert selection counts since the last stats reset:
 * [n_layer][n_expert]. */
const uint64_t *eng_expert_counts(const struct eng_ctx *c);

/*
 * Called after every evaluated token's routing is known (from the
 * engine thread; copy what you keep).
 */
typedef void (*eng_route_fn)(void *arg, const struct eng_route *r);
void eng_set_route_hook(struct eng_ctx *c, eng_route_fn fn, void *arg);

struct eng_timing {
	uint64_t prefill_tokens, prefill_ns;
	uint64_t decode_tokens, decode_ns;
};
const struct eng_timing *eng_timing(const struct eng_ctx *c);

/* ---- sampling ---- */

struct eng_sampler_params {
	float	 temp;		/* <= 0: greedy */
	int	 top_k;		/* <= 0: off */
	float	 top_p;		/* >= 1: off */
	float	 min_p;		/* <= 0: off */
	float	 repeat_penalty; /* 1: off */
	int	 repeat_last_n;
	uint64_t seed;
	int	 ignore_eos;	/* generation runs past end-of-generation
				 * tokens (to -n), as llama.cpp's flag */
};

struct eng_sampler;

void eng_sampler_defaults(struct eng_sampler_params *p);
int eng_sampler_new(struct eng_sampler **out, int n_vocab,
    const struct eng_sampler_params *p, struct err *e);
void eng_sampler_free(struct eng_sampler *s);
/* The parameters a sampler runs with. */
const struct eng_sampler_params *eng_sampler_get_params(
    const struct eng_sampler *s);
/* Remember a token for the repetition penalty. */
void eng_sampler_accept(struct eng_sampler *s, int32_t tok);
void eng_sampler_reset(struct eng_sampler *s);
/* Pick the next token from logits (n_vocab floats, not modified). */
int32_t eng_sampler_sample(struct eng_sampler *s, const float *logits);



/* ---- expert cache telemetry ---- */

struct eng_cache_info {
	int		 enabled;	/* 0: experts read in place (mmap) */
	int		 policy;
	int		 prefetch;
	int		 direct_io;	/* reads bypass the page cache */
	uint64_t	 ram_budget;
	uint64_t	 slot_bytes;
	uint64_t	 expert_bytes;	/* all experts of the model */
};

/* Per-layer cache counters since the last stats reset. */
struct eng_cache_layer {
	uint64_t	 hits, misses;
	uint64_t	 prefetch_issued, prefetch_hits, prefetch_wasted;
	uint64_t	 bytes_read, read_ns, stall_ns;
	int		 resident, capacity;
	/* speculative prediction vs the routing that followed */
	uint64_t	 pred, pred_hit, actual;
};

void eng_cache_info(const struct eng_ctx *c, struct eng_cache_info *i);
/* Counters of one layer; resident (n_expert bytes, may be NULL) gets 1
 * for experts in RAM now (all 1 when the cache is off). */
void eng_cache_layer(const struct eng_ctx *c, int layer,
    struct eng_cache_layer *out, uint8_t *resident);

/* ---- benchmarking ---- */

/*
 * Measure memory read bandwidth with n_threads threads streaming a
 * buffer of `bytes` (make it several times the last-level cache); the
 * median of `passes` passes (at most 15) after one warm-up pass, in GB/s
 * (1e9 bytes per second).
 */
int eng_bench_bandwidth(int n_threads, size_t bytes, int passes,
    double *gbs, struct err *e);

#endif
