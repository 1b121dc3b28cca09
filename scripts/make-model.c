/*
 * make-model.c - write a GGUF with random weights in a real model's shape
 * and tensor names, quickly, so benchmarks and the offloading work have
 * big models without a download.
 *
 *   scripts/make-model --shape qwen3-30b-a3b --type q4_k_m -o FILE
 *       [--vocab VOCAB.gguf] [--seed N] [--layers N] [--skew S]
 *
 * Speed: quantizing billions of random floats would take hours, so each
 * (type, scale) gets a pool of blocks quantized once from Gaussian data
 * with the real quantizers, and tensors are filled with blocks drawn at
 * random from the pool: the values have the distribution a quantized
 * N(0, s^2) tensor has, at disk speed.
 *
 * --skew S (0 = uniform, the default) gives routing structure like a
 * trained model's: every token embedding carries a shared component u
 * (so every hidden state does, through the residual stream), and expert
 * e's router row gets S * log(1/rank(e)) * u, a Zipf-like popularity by
 * rank. Ranks are a random permutation in layer 0 and, from layer to
 * layer, the previous permutation with a quarter of its entries swapped
 * (popular experts stay fairly popular one layer down, as in trained
 * models). Consecutive tokens share most of their attention output, so
 * they tend to reuse experts. The scale of S is calibrated against real
 * routing traces (see the offloading notes in doc/design.md).
 *
 * Tokenizer metadata is copied from a vocabulary GGUF (default: the
 * fixture vocabulary of the shape's family), and the vocabulary size is
 * that file's token count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "quant/quant.h"
#include "util/util.h"

struct shape {
	const char	*name;
	const char	*arch;
	int		 n_layer, d, n_head, n_kv, head_dim;
	int		 n_expert, n_used, ff_exp, ff_shexp;
	float		 rope_base, eps;
	int		 ctx;
	int		 qk_norm;	/* 0 none, 1 per head, 2 whole */
	const char	*vocab;		/* fixture vocabulary file */
	/* DeepSeek-V2 (MLA): kv_lora, rope dims, nope dims, v dims, dense
	 * lead layers and their FFN width; gpt-oss: sliding window */
	int		 kv_lora, qk_rope, qk_nope, v_head, n_dense, ff_dense;
	int		 swa;
};

static const struct shape shapes[] = {
	{ "olmoe-1b-7b", "olmoe", 16, 2048, 16, 16, 128, 64, 8, 1024, 0,
	    10000.0f, 1e-5f, 4096, 2, "tokenizer/ggml-vocab-gpt-neox.gguf",
	    0, 0, 0, 0, 0, 0, 0 },
	{ "qwen3-30b-a3b", "qwen3moe", 48, 2048, 32, 4, 128, 128, 8, 768, 0,
	    1000000.0f, 1e-6f, 40960, 1, "tokenizer/ggml-vocab-qwen2.gguf",
	    0, 0, 0, 0, 0, 0, 0 },
	{ "mixtral-8x7b", "llama", 32, 4096, 32, 8, 128, 8, 2, 14336, 0,
	    1000000.0f, 1e-5f, 32768, 0, "tokenizer/ggml-vocab-llama-spm.gguf",
	    0, 0, 0, 0, 0, 0, 0 },
	{ "qwen1.5-moe-a2.7b", "qwen2moe", 24, 2048, 16, 16, 128, 60, 4, 1408,
	    5632, 1000000.0f, 1e-6f, 8192, 0,
	    "tokenizer/ggml-vocab-qwen2.gguf", 0, 0, 0, 0, 0, 0, 0 },
	{ "tiny", "qwen3moe", 2, 256, 4, 1, 128, 8, 4, 32, 0, 1000000.0f,
	    1e-6f, 4096, 1, "tokenizer/ggml-vocab-qwen2.gguf",
	    0, 0, 0, 0, 0, 0, 0 },
	/* DeepSeek-V2-Lite: MLA without q-LoRA, 2 shared experts, a dense
	 * first layer, YaRN x40 */
	{ "deepseek-v2-lite", "deepseek2", 27, 2048, 16, 1, 0, 64, 6, 1408,
	    2816, 10000.0f, 1e-6f, 163840, 0,
	    "tokenizer/ggml-vocab-deepseek-llm.gguf", 512, 64, 128, 128, 1,
	    10944, 0 },
	/* gpt-oss-20b: sinks, sliding window 128 on even layers, biases,
	 * MXFP4 experts (vocabulary: qwen2's 151936 stands in for
	 * o200k-harmony's 201088) */
	{ "gpt-oss-20b", "gpt-oss", 24, 2880, 64, 8, 64, 32, 4, 2880, 0,
	    150000.0f, 1e-5f, 131072, 0, "tokenizer/ggml-vocab-qwen2.gguf",
	    0, 0, 0, 0, 0, 0, 128 },
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static float
gauss(void)
{
	double u1 = ((rnd() >> 11) + 1) * (1.0 / 9007199254740993.0);
	double u2 = (rnd() >> 11) * (1.0 / 9007199254740992.0);

	return (float)(sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

#define POOL_BLOCKS 4096

struct pool {
	int		 type;
	float		 sigma;
	int		 colblk;	/* -1, or the column block whose values
					 * carry the shared direction */
	uint8_t		*blocks;	/* POOL_BLOCKS blocks */
	size_t		 bsize;
	int		 blck;
};

#define MAX_POOLS 256

static struct pool pools[MAX_POOLS];
static int npools;
static float *shared_u;		/* [d] unit-variance shared direction */
static float shared_k;		/* its weight in the embeddings */

static struct pool *
pool_get(int type, float sigma, int colblk)
{
	const struct quant_type_info *ti = quant_type_info(type);
	struct pool *p;
	float *x;
	int i, n;

	for (i = 0; i < npools; i++)
		if (pools[i].type == type && pools[i].sigma == sigma &&
		    pools[i].colblk == colblk)
			return &pools[i];
	if (npools == MAX_POOLS)
		return NULL;
	p = &pools[npools];
	p->type = type;
	p->sigma = sigma;
	p->colblk = colblk;
	p->blck = (int)ti->blck;
	p->bsize = ti->size;
	n = POOL_BLOCKS * p->blck;
	x = malloc((size_t)n * sizeof *x);
	p->blocks = malloc(POOL_BLOCKS * p->bsize);
	if (x == NULL || p->blocks == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		x[i] = gauss() * sigma + (colblk >= 0 ? shared_k *
		    shared_u[colblk * p->blck + i % p->blck] : 0);
	if (quant_quantize_row(type, x, p->blocks, n) != 0) {
		free(x);
		return NULL;
	}
	free(x);
	npools++;
	return p;
}

struct maker {
	struct gguf_writer	*w;
	const struct shape	*s;
	int			 n_vocab;
	int			 type_mix;	/* 0: one type; 1: q4_k_m; 2: q5_k_m */
	int			 type;
	float			 skew;
	struct err		 e;
	/* declared tensors, in order */
	struct tdesc {
		char	 name[96];
		int	 type, n_dims, kind;
		uint64_t ne[3];
		float	 sigma;
		int	 layer;
	}			*t;
	int			 nt, cap;
};

enum { K_MAT, K_NORM, K_ROUTER, K_F32RAND };

static int
add(struct maker *m, int kind, int type, float sigma, int layer, int n_dims,
    uint64_t ne0, uint64_t ne1, uint64_t ne2, const char *fmt, ...)
{
	struct tdesc *t;
	va_list ap;

	if (m->nt == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->t = realloc(m->t, (size_t)m->cap * sizeof *m->t);
		if (m->t == NULL)
			return err_set(&m->e, ERR_NOMEM, "out of memory");
	}
	t = &m->t[m->nt++];
	va_start(ap, fmt);
	vsnprintf(t->name, sizeof t->name, fmt, ap);
	va_end(ap);
	t->kind = kind;
	t->type = type;
	t->sigma = sigma;
	t->layer = layer;
	t->n_dims = n_dims;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->ne[2] = ne2;
	return gguf_writer_add_tensor(m->w, t->name, type, n_dims, t->ne, NULL,
	    &m->e);
}

/* llama.cpp's "use more bits" layers of the _M mixes. */
static int
more_bits(int il, int n)
{
	return il < n / 8 || il >= 7 * n / 8 || (il - n / 8) % 3 == 2;
}

/* The type of a weight matrix with rows of n elements. */
static int
wtype(struct maker *m, const char *role, int il, int64_t n)
{
	int t = m->type, n_layer = m->s->n_layer;

	if (m->type_mix) {
		int base = m->type_mix == 1 ? GGML_TYPE_Q4_K : GGML_TYPE_Q5_K;

		t = base;
		if (strcmp(role, "output") == 0)
			t = GGML_TYPE_Q6_K;
		else if ((strcmp(role, "attn_v") == 0 ||
		    strcmp(role, "ffn_down") == 0) && more_bits(il, n_layer))
			t = GGML_TYPE_Q6_K;
		if (m->s->n_expert == 8 && (strcmp(role, "attn_v") == 0 ||
		    strcmp(role, "attn_k") == 0))
			t = GGML_TYPE_Q8_0;
	}
	/* gpt-oss ships its experts in MXFP4 (the published layout) */
	if (strcmp(m->s->arch, "gpt-oss") == 0 && strncmp(role, "ffn_", 4)
	    == 0)
		t = GGML_TYPE_MXFP4;
	/* rows that are not whole K-blocks fall back */
	if (n % quant_type_info(t)->blck != 0)
		t = GGML_TYPE_Q8_0;
	if (n % 32 != 0)
		t = GGML_TYPE_F16;
	return t;
}

/*
 * The gate, up and down matrices of layer il's FFN of width ff: n_expert
 * experts (3-D, names "ffn_gate_exps") or, with n_expert 0, one FFN
 * named "ffn_gate" + suffix ("" dense, "_shexp" shared experts).
 */
static int
declare_ffn(struct maker *m, int il, int64_t ff, int64_t n_expert,
    const char *suffix)
{
	int64_t d = m->s->d, ne = n_expert ? n_expert : 1;
	int n_dims = n_expert ? 3 : 2, rc;
	float lin = 0.02f;

	if (n_expert)
		suffix = "_exps";
	if ((rc = add(m, K_MAT, wtype(m, "ffn_gate", il, d), lin, il, n_dims,
	    d, ff, ne, "blk.%d.ffn_gate%s.weight", il, suffix)) != 0 ||
	    (rc = add(m, K_MAT, wtype(m, "ffn_up", il, d), lin, il, n_dims,
	    d, ff, ne, "blk.%d.ffn_up%s.weight", il, suffix)) != 0)
		return rc;
	return add(m, K_MAT, wtype(m, "ffn_down", il, ff), lin, il, n_dims,
	    ff, d, ne, "blk.%d.ffn_down%s.weight", il, suffix);
}

/* DeepSeek-V2-style layers: MLA attention (no q-LoRA, as V2-Lite), a
 * dense FFN in the first n_dense layers, routed + shared experts. */
static int
declare_mla(struct maker *m)
{
	const struct shape *s = m->s;
	int64_t d = s->d, nh = s->n_head, hk = s->qk_nope + s->qk_rope;
	float lin = 0.02f;
	int il, rc;

#define A(...) if ((rc = add(m, __VA_ARGS__)) != 0) return rc
#define FFN(...) if ((rc = declare_ffn(m, __VA_ARGS__)) != 0) return rc
	for (il = 0; il < s->n_layer; il++) {
		A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, d, 1, 1,
		    "blk.%d.attn_norm.weight", il);
		A(K_MAT, wtype(m, "attn_q", il, d), lin, il, 2, d, nh * hk, 1,
		    "blk.%d.attn_q.weight", il);
		A(K_MAT, wtype(m, "attn_kv_a_mqa", il, d), lin, il, 2, d,
		    s->kv_lora + s->qk_rope, 1, "blk.%d.attn_kv_a_mqa.weight",
		    il);
		A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, s->kv_lora, 1, 1,
		    "blk.%d.attn_kv_a_norm.weight", il);
		A(K_MAT, wtype(m, "attn_k_b", il, s->qk_nope), lin, il, 3,
		    s->qk_nope, s->kv_lora, nh, "blk.%d.attn_k_b.weight", il);
		A(K_MAT, wtype(m, "attn_v_b", il, s->kv_lora), lin, il, 3,
		    s->kv_lora, s->v_head, nh, "blk.%d.attn_v_b.weight", il);
		A(K_MAT, wtype(m, "attn_output", il, nh * s->v_head), lin, il,
		    2, nh * s->v_head, d, 1, "blk.%d.attn_output.weight", il);
		A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, d, 1, 1,
		    "blk.%d.ffn_norm.weight", il);
		if (il < s->n_dense) {
			FFN(il, s->ff_dense, 0, "");
			continue;
		}
		A(K_ROUTER, GGML_TYPE_F32, 0.1f, il, 2, d, s->n_expert, 1,
		    "blk.%d.ffn_gate_inp.weight", il);
		FFN(il, s->ff_exp, s->n_expert, "");
		FFN(il, s->ff_shexp, 0, "_shexp");
	}
#undef A
#undef FFN
	return 0;
}

static int
declare(struct maker *m)
{
	const struct shape *s = m->s;
	int64_t d = s->d, qd = (int64_t)s->n_head * s->head_dim;
	int64_t kd = (int64_t)s->n_kv * s->head_dim;
	float lin = 0.02f;
	int il, rc;

#define A(...) if ((rc = add(m, __VA_ARGS__)) != 0) return rc
#define FFN(...) if ((rc = declare_ffn(m, __VA_ARGS__)) != 0) return rc
	A(K_MAT, wtype(m, "embd", 0, d), 1.0f, -1, 2, d, m->n_vocab, 1,
	    "token_embd.weight");
	A(K_NORM, GGML_TYPE_F32, 0.1f, -1, 1, d, 1, 1, "output_norm.weight");
	A(K_MAT, wtype(m, "output", 0, d), lin, -1, 2, d, m->n_vocab, 1,
	    "output.weight");
	if (strcmp(s->arch, "deepseek2") == 0)
		return declare_mla(m);
	for (il = 0; il < s->n_layer; il++) {
		A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, d, 1, 1,
		    "blk.%d.attn_norm.weight", il);
		A(K_MAT, wtype(m, "attn_q", il, d), lin, il, 2, d, qd, 1,
		    "blk.%d.attn_q.weight", il);
		if (strcmp(s->arch, "gpt-oss") == 0) {
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, qd, 1, 1,
			    "blk.%d.attn_q.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, kd, 1, 1,
			    "blk.%d.attn_k.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, kd, 1, 1,
			    "blk.%d.attn_v.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, d, 1, 1,
			    "blk.%d.attn_output.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, 1.0f, il, 1, s->n_head, 1,
			    1, "blk.%d.attn_sinks.weight", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, s->n_expert, 1,
			    1, "blk.%d.ffn_gate_inp.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 2, s->ff_exp,
			    s->n_expert, 1, "blk.%d.ffn_gate_exps.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 2, s->ff_exp,
			    s->n_expert, 1, "blk.%d.ffn_up_exps.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 2, d,
			    s->n_expert, 1, "blk.%d.ffn_down_exps.bias", il);
		}
		A(K_MAT, wtype(m, "attn_k", il, d), lin, il, 2, d, kd, 1,
		    "blk.%d.attn_k.weight", il);
		A(K_MAT, wtype(m, "attn_v", il, d), lin, il, 2, d, kd, 1,
		    "blk.%d.attn_v.weight", il);
		A(K_MAT, wtype(m, "attn_output", il, qd), lin, il, 2, qd, d, 1,
		    "blk.%d.attn_output.weight", il);
		if (strcmp(s->arch, "qwen2moe") == 0) {
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, qd, 1, 1,
			    "blk.%d.attn_q.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, kd, 1, 1,
			    "blk.%d.attn_k.bias", il);
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, kd, 1, 1,
			    "blk.%d.attn_v.bias", il);
		}
		if (s->qk_norm) {
			A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, s->qk_norm == 1 ?
			    s->head_dim : qd, 1, 1, "blk.%d.attn_q_norm.weight",
			    il);
			A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, s->qk_norm == 1 ?
			    s->head_dim : kd, 1, 1, "blk.%d.attn_k_norm.weight",
			    il);
		}
		A(K_NORM, GGML_TYPE_F32, 0.1f, il, 1, d, 1, 1,
		    strcmp(s->arch, "gpt-oss") == 0 ?
		    "blk.%d.post_attention_norm.weight" :
		    "blk.%d.ffn_norm.weight", il);
		A(K_ROUTER, GGML_TYPE_F32, 0.1f, il, 2, d, s->n_expert, 1,
		    "blk.%d.ffn_gate_inp.weight", il);
		FFN(il, s->ff_exp, s->n_expert, "");
		if (s->ff_shexp) {
			A(K_F32RAND, GGML_TYPE_F32, lin, il, 1, d, 1, 1,
			    "blk.%d.ffn_gate_inp_shexp.weight", il);
			FFN(il, s->ff_shexp, 0, "_shexp");
		}
	}
#undef A
#undef FFN
	return 0;
}

#define KEY(k) (snprintf(key, sizeof key, "%s.%s", s->arch, k), key)

static int
metadata(struct maker *m, const struct gguf *vocab)
{
	const struct shape *s = m->s;
	char key[128];
	uint64_t i;
	int rc = 0;

	rc |= gguf_writer_set_str(m->w, "general.architecture", s->arch,
	    &m->e);
	rc |= gguf_writer_set_str(m->w, "general.name", s->name, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("block_count"),
	    (uint32_t)s->n_layer, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("context_length"),
	    (uint32_t)s->ctx, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("embedding_length"),
	    (uint32_t)s->d, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("feed_forward_length"),
	    (uint32_t)s->ff_exp, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("attention.head_count"),
	    (uint32_t)s->n_head, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("attention.head_count_kv"),
	    (uint32_t)s->n_kv, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("attention.key_length"),
	    (uint32_t)s->head_dim, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("attention.value_length"),
	    (uint32_t)s->head_dim, &m->e);
	rc |= gguf_writer_set_f32(m->w, KEY("rope.freq_base"), s->rope_base,
	    &m->e);
	rc |= gguf_writer_set_f32(m->w,
	    KEY("attention.layer_norm_rms_epsilon"), s->eps, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("expert_count"),
	    (uint32_t)s->n_expert, &m->e);
	rc |= gguf_writer_set_u32(m->w, KEY("expert_used_count"),
	    (uint32_t)s->n_used, &m->e);
	if (strcmp(s->arch, "llama") != 0)
		rc |= gguf_writer_set_u32(m->w,
		    KEY("expert_feed_forward_length"), (uint32_t)s->ff_exp,
		    &m->e);
	if (s->ff_shexp)
		rc |= gguf_writer_set_u32(m->w,
		    KEY("expert_shared_feed_forward_length"),
		    (uint32_t)s->ff_shexp, &m->e);
	if (strcmp(s->arch, "deepseek2") == 0) {
		rc |= gguf_writer_set_u32(m->w, KEY("attention.key_length"),
		    (uint32_t)(s->kv_lora + s->qk_rope), &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("attention.value_length"),
		    (uint32_t)s->kv_lora, &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("attention.key_length_mla"),
		    (uint32_t)(s->qk_nope + s->qk_rope), &m->e);
		rc |= gguf_writer_set_u32(m->w,
		    KEY("attention.value_length_mla"), (uint32_t)s->v_head,
		    &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("attention.kv_lora_rank"),
		    (uint32_t)s->kv_lora, &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("rope.dimension_count"),
		    (uint32_t)s->qk_rope, &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("feed_forward_length"),
		    (uint32_t)s->ff_dense, &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("leading_dense_block_count"),
		    (uint32_t)s->n_dense, &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("expert_shared_count"),
		    (uint32_t)(s->ff_shexp / s->ff_exp), &m->e);
		rc |= gguf_writer_set_f32(m->w, KEY("expert_weights_scale"), 1.0f,
		    &m->e);
		rc |= gguf_writer_set_u32(m->w, KEY("expert_gating_func"), 1,
		    &m->e);
		rc |= gguf_writer_set_str(m->w, KEY("rope.scaling.type"), "yarn",
		    &m->e);
		rc |= gguf_writer_set_f32(m->w, KEY("rope.scaling.factor"), 40.0f,
		    &m->e);
		rc |= gguf_writer_set_u32(m->w,
		    KEY("rope.scaling.original_context_length"), 4096, &m->e);
		rc |= gguf_writer_set_f32(m->w,
		    KEY("rope.scaling.yarn_log_multiplier"), 0.0707f, &m->e);
	}
	if (strcmp(s->arch, "gpt-oss") == 0) {
		rc |= gguf_writer_set_u32(m->w, KEY("attention.sliding_window"),
		    (uint32_t)s->swa, &m->e);
		rc |= gguf_writer_set_str(m->w, KEY("rope.scaling.type"), "yarn",
		    &m->e);
		rc |= gguf_writer_set_f32(m->w, KEY("rope.scaling.factor"), 32.0f,
		    &m->e);
		rc |= gguf_writer_set_u32(m->w,
		    KEY("rope.scaling.original_context_length"), 4096, &m->e);
	}
	rc |= gguf_writer_set_u32(m->w, "general.file_type", 15, &m->e);
	if (rc)
		return ERR_FORMAT;
	for (i = 0; i < vocab->n_kv; i++)
		if (strncmp(vocab->kv[i].key, "tokenizer.", 10) == 0 &&
		    (rc = gguf_writer_set_value(m->w, vocab->kv[i].key,
		    &vocab->kv[i].v, &m->e)) != 0)
			return rc;
	return 0;
}

#define CHUNK (8u << 20)

static void
swap(int *perm, int a, int b)
{
	int tmp = perm[a];

	perm[a] = perm[b];
	perm[b] = tmp;
}

/*
 * Add the popularity of --skew to the router rows v of t (see the top):
 * expert e's row gets skew * log(1/rank(e)) * dir / d, the ranks a random
 * permutation in the first router and, from one router to the next, the
 * previous permutation with E/4 random swaps.
 */
static int
skew_router(struct maker *m, const struct tdesc *t, float *v,
    const float *dir)
{
	static int *perm, perm_e;
	int E = (int)t->ne[1], d = (int)t->ne[0], e, j;

	if (perm == NULL || perm_e != E) {
		/* layer 0: a random ranking */
		free(perm);
		if ((perm = malloc((size_t)E * sizeof *perm)) == NULL)
			return err_set(&m->e, ERR_NOMEM, "out of memory");
		perm_e = E;
		for (e = 0; e < E; e++)
			perm[e] = e;
		for (e = E - 1; e > 0; e--)
			swap(perm, e, (int)(rnd() % (uint64_t)(e + 1)));
	} else
		/* next layers: E/4 random swaps */
		for (j = 0; j < E / 4; j++) {
			e = (int)(rnd() % (uint64_t)E);
			swap(perm, e, (int)(rnd() % (uint64_t)E));
		}
	for (e = 0; e < E; e++) {
		float pop = m->skew * logf(1.0f / (float)(perm[e] + 1));

		for (j = 0; j < d; j++)
			v[(size_t)e * d + j] += pop * dir[j] / (float)d;
	}
	return 0;
}

static int
write_tensor(struct maker *m, uint64_t idx, uint8_t *buf,
    const float *shared_dir)
{
	const struct tdesc *t = &m->t[idx];
	uint64_t nbytes = gguf_writer_tensor_nbytes(m->w, idx), done = 0;
	uint64_t nel = t->ne[0] * t->ne[1] * t->ne[2], i;
	int rc;

	if (t->type == GGML_TYPE_F32) {
		/* small vectors and routers: written whole */
		float *v = malloc(nel * sizeof *v);

		if (v == NULL)
			return err_set(&m->e, ERR_NOMEM, "out of memory");
		for (i = 0; i < nel; i++)
			v[i] = t->kind == K_NORM ? 1.0f + gauss() * t->sigma :
			    gauss() * t->sigma;
		if (t->kind == K_ROUTER && m->skew > 0 &&
		    (rc = skew_router(m, t, v, shared_dir)) != 0) {
			free(v);
			return rc;
		}
		rc = gguf_writer_write_data(m->w, idx, v, nel * sizeof *v,
		    &m->e);
		free(v);
		return rc;
	}
	if (t->type == GGML_TYPE_F16) {
		uint16_t *h = (uint16_t *)buf;

		while (done < nel) {
			uint64_t n = nel - done < CHUNK / 2 ? nel - done :
			    CHUNK / 2;

			for (i = 0; i < n; i++)
				h[i] = util_f32_to_fp16(gauss() * t->sigma);
			if ((rc = gguf_writer_write_data(m->w, idx, h, n * 2,
			    &m->e)) != 0)
				return rc;
			done += n;
		}
		return 0;
	}
	{
		/* embeddings of a skewed model: block j of every row comes
		 * from the pool of column block j (values + shared_k * u) */
		int shared = m->skew > 0 && strcmp(t->name,
		    "token_embd.weight") == 0;
		struct pool *p = pool_get(t->type, t->sigma, shared ? 0 : -1);
		uint64_t nblk, b, rowblk;

		if (p == NULL)
			return err_set(&m->e, ERR_NOMEM, "cannot build a block "
			    "pool for %s", quant_type_info(t->type)->name);
		rowblk = t->ne[0] / (uint64_t)p->blck;
		while (done < nbytes) {
			uint64_t n = nbytes - done < CHUNK ? nbytes - done :
			    CHUNK;

			nblk = n / p->bsize;
			for (b = 0; b < nblk; b++) {
				struct pool *q = p;

				if (shared && (q = pool_get(t->type, t->sigma,
				    (int)((done / p->bsize + b) % rowblk))) ==
				    NULL)
					return err_set(&m->e, ERR_NOMEM,
					    "cannot build a block pool");
				memcpy(buf + b * p->bsize, q->blocks +
				    (rnd() % POOL_BLOCKS) * p->bsize, p->bsize);
			}
			if ((rc = gguf_writer_write_data(m->w, idx, buf,
			    nblk * p->bsize, &m->e)) != 0)
				return rc;
			done += nblk * p->bsize;
		}
	}
	return 0;
}

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: make-model --shape SHAPE --type TYPE -o FILE "
	    "[--vocab VOCAB.gguf] [--seed N] [--layers N] [--skew S]\n"
	    "shapes:");
	for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		fprintf(fp, " %s", shapes[i].name);
	fprintf(fp, "\ntypes: q4_k_m q5_k_m q8_0 q4_0 q4_k q5_k q6_k f16 "
	    "f32 (gpt-oss experts are always MXFP4)\n");
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; int type, mix; } types[] = {
		{ "q4_k_m", GGML_TYPE_Q4_K, 1 }, { "q5_k_m", GGML_TYPE_Q5_K, 2 },
		{ "q8_0", GGML_TYPE_Q8_0, 0 }, { "q4_0", GGML_TYPE_Q4_0, 0 },
		{ "q4_k", GGML_TYPE_Q4_K, 0 }, { "q5_k", GGML_TYPE_Q5_K, 0 },
		{ "q6_k", GGML_TYPE_Q6_K, 0 }, { "f16", GGML_TYPE_F16, 0 },
		{ "f32", GGML_TYPE_F32, 0 },
	};
	struct maker m;
	struct gguf *vocab = NULL;
	const char *shape = NULL, *type = NULL, *out = NULL, *vpath = NULL;
	const struct gguf_str *toks;
	char defvocab[4096];
	uint8_t *buf = NULL;
	float *dir = NULL;
	uint64_t i, nv;
	long layers = 0;
	size_t k;
	int a;

	memset(&m, 0, sizeof m);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--shape") == 0 && a + 1 < argc)
			shape = argv[++a];
		else if (strcmp(argv[a], "--type") == 0 && a + 1 < argc)
			type = argv[++a];
		else if (strcmp(argv[a], "-o") == 0 && a + 1 < argc)
			out = argv[++a];
		else if (strcmp(argv[a], "--vocab") == 0 && a + 1 < argc)
			vpath = argv[++a];
		else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc)
			rng_state ^= strtoull(argv[++a], NULL, 10) *
			    0x9e3779b97f4a7c15ull;
		else if (strcmp(argv[a], "--layers") == 0 && a + 1 < argc)
			layers = strtol(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--skew") == 0 && a + 1 < argc)
			m.skew = strtof(argv[++a], NULL);
		else {
			usage(stderr);
			return 2;
		}
	}
	if (shape == NULL || type == NULL || out == NULL) {
		usage(stderr);
		return 2;
	}
	for (k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
		if (strcmp(shapes[k].name, shape) == 0)
			m.s = &shapes[k];
	for (k = 0; k < sizeof types / sizeof types[0]; k++)
		if (strcmp(types[k].name, type) == 0) {
			m.type = types[k].type;
			m.type_mix = types[k].mix;
		}
	if (m.s == NULL || (m.type == 0 && strcmp(type, "f32") != 0)) {
		usage(stderr);
		return 2;
	}
	if (layers > 0) {
		static struct shape custom;

		custom = *m.s;
		custom.n_layer = (int)layers;
		m.s = &custom;
	}
	if (vpath == NULL) {
		const char *fx = getenv("FIXTURES");

		snprintf(defvocab, sizeof defvocab, "%s/%s", fx ? fx :
		    "../shared/fixtures", m.s->vocab);
		vpath = defvocab;
	}
	if (gguf_open(&vocab, vpath, &m.e) != 0 ||
	    gguf_get_str_arr(vocab, "tokenizer.ggml.tokens", &toks, &nv, &m.e)
	    != 0)
		goto fail;
	m.n_vocab = (int)nv;
	buf = malloc(CHUNK);
	dir = malloc((size_t)m.s->d * sizeof *dir);
	if (buf == NULL || dir == NULL ||
	    gguf_writer_new(&m.w, &m.e) != 0)
		goto fail;
	for (a = 0; a < m.s->d; a++)
		dir[a] = gauss();
	shared_u = dir;
	shared_k = m.skew * 0.25f;	/* the shared component grows with S */
	if (metadata(&m, vocab) != 0 || declare(&m) != 0 ||
	    gguf_writer_begin(m.w, out, &m.e) != 0)
		goto fail;
	for (i = 0; i < (uint64_t)m.nt; i++)
		if (write_tensor(&m, i, buf, dir) != 0)
			goto fail;
	if (gguf_writer_finish(m.w, &m.e) != 0)
		goto fail;
	gguf_writer_free(m.w);
	gguf_close(vocab);
	free(buf);
	free(dir);
	free(m.t);
	return 0;
fail:
	fprintf(stderr, "make-model: %s\n", m.e.msg);
	gguf_writer_free(m.w);
	gguf_close(vocab);
	free(buf);
	free(dir);
	free(m.t);
	return 1;
}
