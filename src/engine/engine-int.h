/*
 * engine-int.h - engine room internals shared by its files: the thread
 * pool, the architecture table, weight views and the model/context
 * structs.
 */
#ifndef MOESCOPE_ENGINE_INT_H
#define MOESCOPE_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/engine.h"
#include "formats/formats.h"
#include "quant/quant.h"

/* ---- thread pool (engine-pool.c) ---- */

/*
 * Items [0, n) are handed out in chunks through an atomic counter, so a
 * thread that the OS deschedules only delays the chunks it took: the
 * others take the rest. Workers spin briefly for the next job, then sleep
 * on a condition variable (no busy waiting when the cores are shared).
 */
typedef void (*pool_fn)(void *arg, int64_t i0, int64_t i1, int tid);

struct pool;

int eng_pool_new(struct pool **out, int n_threads, struct err *e);
void eng_pool_free(struct pool *p);
int eng_pool_size(const struct pool *p);
/* Run fn over [0, n) in chunks of `chunk` on all threads (the caller
 * included); returns when every item is done. */
void eng_pool_run(struct pool *p, pool_fn fn, void *arg, int64_t n,
    int64_t chunk);

/* ---- architectures (engine-arch.c) ---- */

struct eng_arch {
	const char	*name;		/* general.architecture */
	int		 rope_neox;	/* rotate (i, i + n/2) pairs */
	int		 expert_norm;	/* default: renormalize top-k */
	int		 gating;	/* default ENG_GATING_* */
	int		 swa_pattern;	/* every Nth layer is full (0: none) */
	int		 act;		/* ENG_ACT_* of the expert FFN */
	int		 yarn_mla;	/* YaRN magnitude folded into the
					 * attention scale (DeepSeek) */
	const char	*ffn_norm;	/* name of the pre-FFN norm */
};

enum { ENG_ACT_SILU = 0, ENG_ACT_SWIGLU_OAI = 1 };

const struct eng_arch *eng_arch_find(const char *name);

/* ---- weights ---- */

/* A weight matrix (or a stack of them: experts) in the file. */
struct eng_w {
	const char	*name;
	int		 type;
	int64_t		 n;		/* columns (ne0) */
	int64_t		 rows;		/* ne1 */
	int64_t		 n_mat;		/* ne2: experts; 1 otherwise */
	size_t		 row_bytes;
	size_t		 mat_bytes;	/* rows * row_bytes */
	const uint8_t	*data;		/* NULL: tensor absent */
};

struct eng_layer {
	const float	*attn_norm;	/* [d] */
	struct eng_w	 wq, wk, wv, wo;
	const float	*bq, *bk, *bv, *bo;
	const float	*q_norm, *k_norm;
	int		 qk_norm_head;	/* norms span one head (else all) */
	const float	*sinks;		/* [n_head] attention sink logits */
	int		 swa;		/* sliding-window layer */
	/* multi-head latent attention (DeepSeek-V2) */
	int		 is_mla;
	struct eng_w	 wq_a, wq_b;	/* [q_lora][d], [n_head*hd_k][q_lora] */
	const float	*q_a_norm;	/* [q_lora] */
	struct eng_w	 wkv_a;		/* [kv_lora + rope][d] */
	const float	*kv_a_norm;	/* [kv_lora] */
	struct eng_w	 wk_b;		/* [n_head][kv_lora][qk_nope] */
	struct eng_w	 wv_b;		/* [n_head][v_head][kv_lora] */
	const float	*ffn_norm;	/* [d] */
	/* MoE */
	struct eng_w	 router;	/* [n_expert][d] */
	const float	*router_b;	/* [n_expert] added to the logits */
	const float	*router_bias;	/* [n_expert] selection-only bias */
	struct eng_w	 exp_gate, exp_up, exp_down;
	const float	*exp_gate_b, *exp_up_b;	/* [n_expert][ff] */
	const float	*exp_down_b;		/* [n_expert][d] */
	/* dense FFN (dense layers) */
	struct eng_w	 ffn_gate, ffn_up, ffn_down;
	/* shared expert */
	struct eng_w	 sh_gate, sh_up, sh_down;
	struct eng_w	 sh_gate_inp;	/* [1][d], sigmoid gate */
	int		 is_moe;
};

struct eng_model {
	struct gguf		*g;
	int			 own_g;
	const struct eng_arch	*arch;
	struct eng_hparams	 hp;
	struct eng_w		 tok_embd;	/* [n_vocab][d] */
	const float		*out_norm;
	struct eng_w		 output;	/* [n_vocab][d] */
	struct eng_layer	*layers;
	float			**owned;	/* dequantized small tensors */
	size_t			 owned_len, owned_cap;
};

#endif
