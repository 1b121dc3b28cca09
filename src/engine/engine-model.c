/*
 * engine-model.c - load a model: hyper-parameters from GGUF metadata,
 * weight views bound by the tensor names llama.cpp uses, each checked for
 * presence, type and shape against the metadata before any use.
 *
 * Weights stay in the mmap'd file; only small vectors (norms, biases)
 * stored in a type other than F32 are dequantized into owned buffers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

struct loader {
	struct eng_model	*m;
	struct err		*e;
	char			 key[160];
};

static const char *
k(struct loader *l, const char *suffix)
{
	snprintf(l->key, sizeof l->key, "%s.%s", l->m->hp.arch, suffix);
	return l->key;
}

/*
 * An integer hyper-parameter: a scalar, or a per-layer array whose
 * entries are all equal. *out keeps def when absent and !required.
 */
static int
hp_int(struct loader *l, const char *suffix, int *out, int required)
{
	const struct gguf_value *v = gguf_get(l->m->g, k(l, suffix));
	uint64_t u, i;
	int64_t first;
	int rc;

	if (v == NULL) {
		if (required)
			return err_set(l->e, ERR_FORMAT, "%s: metadata key "
			    "'%s' is missing", l->m->g->path, l->key);
		return 0;
	}
	if (v->type == GGUF_TYPE_ARRAY) {
		if (v->n == 0 || v->raw == NULL)
			return err_set(l->e, ERR_FORMAT, "%s: metadata key "
			    "'%s' is an empty or non-numeric array",
			    l->m->g->path, l->key);
		first = gguf_arr_i64(v, 0);
		for (i = 1; i < v->n; i++)
			if (gguf_arr_i64(v, i) != first)
				return err_set(l->e, ERR_UNSUPPORTED, "%s: "
				    "metadata key '%s' varies per layer, which "
				    "is not supported", l->m->g->path, l->key);
		if (first < 0 || first > INT32_MAX)
			return err_set(l->e, ERR_FORMAT, "%s: metadata key "
			    "'%s' = %lld is out of range", l->m->g->path,
			    l->key, (long long)first);
		*out = (int)first;
		return 0;
	}
	if ((rc = gguf_get_u64(l->m->g, l->key, &u, l->e)) != 0)
		return rc;
	if (u > INT32_MAX)
		return err_set(l->e, ERR_FORMAT, "%s: metadata key '%s' = "
		    "%llu is out of range", l->m->g->path, l->key,
		    (unsigned long long)u);
	*out = (int)u;
	return 0;
}

static int
hp_float(struct loader *l, const char *suffix, float *out, int required)
{
	if (gguf_get(l->m->g, k(l, suffix)) == NULL) {
		if (required)
			return err_set(l->e, ERR_FORMAT, "%s: metadata key "
			    "'%s' is missing", l->m->g->path, l->key);
		return 0;
	}
	return gguf_get_f32(l->m->g, l->key, out, l->e);
}

static int
hp_bool(struct loader *l, const char *suffix, int *out)
{
	if (gguf_get(l->m->g, k(l, suffix)) == NULL)
		return 0;
	return gguf_get_bool(l->m->g, l->key, out, l->e);
}

/* ggml's YaRN correction dimension for a rotation count. */
static float
yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base)
{
	return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2 *
	    (float)M_PI)) / (2 * logf(base));
}

/* Quantities that follow from the metadata: YaRN correction range and
 * magnitude, the attention scale. */
static void
derive(struct eng_hparams *hp, const struct eng_arch *ar)
{
	float lf = logf(1.0f / hp->rope_freq_scale);
	float start, end, mscale;
	int hd = hp->head_dim_k_mla > 0 ? hp->head_dim_k_mla : hp->head_dim_k;

	hp->yarn_attn_factor = 1.0f;
	hp->kq_scale = 1.0f / sqrtf((float)hd);
	if (!hp->rope_yarn)
		return;
	hp->yarn_ext_factor = 1.0f;
	start = floorf(yarn_corr_dim(hp->n_rot, hp->n_ctx_orig,
	    hp->yarn_beta_fast, hp->rope_base));
	end = ceilf(yarn_corr_dim(hp->n_rot, hp->n_ctx_orig,
	    hp->yarn_beta_slow, hp->rope_base));
	hp->yarn_corr[0] = start > 0 ? start : 0;
	hp->yarn_corr[1] = end < hp->n_rot - 1 ? end : (float)(hp->n_rot - 1);
	if (ar->yarn_mla) {
		/* DeepSeek: the rotary magnitude cancels (mscale equals
		 * mscale_all_dim) and the scale moves into the softmax */
		mscale = 1.0f + hp->yarn_log_mul * lf;
		hp->kq_scale *= mscale * mscale;
	} else
		hp->yarn_attn_factor = 1.0f + 0.1f * lf;
}

static int
read_hparams(struct loader *l)
{
	struct eng_hparams *hp = &l->m->hp;
	char *s = NULL;
	int rc;

	hp->n_ctx_train = 4096;
	hp->rope_base = 10000.0f;
	hp->rope_freq_scale = 1.0f;
	hp->norm_eps = 1e-5f;
	hp->expert_scale = 1.0f;
	hp->expert_norm = l->m->arch->expert_norm;
	hp->gating = l->m->arch->gating;
	if ((rc = hp_int(l, "block_count", &hp->n_layer, 1)) != 0 ||
	    (rc = hp_int(l, "embedding_length", &hp->n_embd, 1)) != 0 ||
	    (rc = hp_int(l, "attention.head_count", &hp->n_head, 1)) != 0)
		return rc;
	hp->n_head_kv = hp->n_head;
	if ((rc = hp_int(l, "attention.head_count_kv", &hp->n_head_kv, 0))
	    != 0 ||
	    (rc = hp_int(l, "feed_forward_length", &hp->n_ff, 0)) != 0 ||
	    (rc = hp_int(l, "context_length", &hp->n_ctx_train, 0)) != 0 ||
	    (rc = hp_int(l, "expert_count", &hp->n_expert, 0)) != 0 ||
	    (rc = hp_int(l, "expert_used_count", &hp->n_expert_used, 0)) != 0 ||
	    (rc = hp_int(l, "expert_feed_forward_length", &hp->n_ff_exp, 0))
	    != 0 ||
	    (rc = hp_int(l, "expert_shared_feed_forward_length",
	    &hp->n_ff_shexp, 0)) != 0 ||
	    (rc = hp_int(l, "expert_shared_count", &hp->n_expert_shared, 0))
	    != 0 ||
	    (rc = hp_int(l, "leading_dense_block_count",
	    &hp->n_layer_dense_lead, 0)) != 0 ||
	    (rc = hp_float(l, "rope.freq_base", &hp->rope_base, 0)) != 0 ||
	    (rc = hp_float(l, "attention.layer_norm_rms_epsilon",
	    &hp->norm_eps, 0)) != 0 ||
	    (rc = hp_float(l, "expert_weights_scale", &hp->expert_scale, 0))
	    != 0 ||
	    (rc = hp_bool(l, "expert_weights_norm", &hp->expert_norm)) != 0)
		return rc;
	if (hp->n_layer < 1 || hp->n_layer > 4096 || hp->n_embd < 1 ||
	    hp->n_embd > 1 << 20 || hp->n_head < 1 || hp->n_head_kv < 1 ||
	    hp->n_head % hp->n_head_kv != 0)
		return err_set(l->e, ERR_FORMAT, "%s: implausible shape: "
		    "%d layers, d_model %d, %d heads, %d kv heads",
		    l->m->g->path, hp->n_layer, hp->n_embd, hp->n_head,
		    hp->n_head_kv);
	hp->head_dim_k = hp->n_embd / hp->n_head;
	if ((rc = hp_int(l, "attention.key_length", &hp->head_dim_k, 0)) != 0)
		return rc;
	hp->head_dim_v = hp->head_dim_k;
	if ((rc = hp_int(l, "attention.value_length", &hp->head_dim_v, 0))
	    != 0)
		return rc;
	hp->n_rot = hp->head_dim_k;
	if ((rc = hp_int(l, "rope.dimension_count", &hp->n_rot, 0)) != 0)
		return rc;
	if (hp->head_dim_k < 1 || hp->head_dim_v < 1 || hp->n_rot < 0 ||
	    hp->n_rot > hp->head_dim_k || hp->n_rot % 2 != 0)
		return err_set(l->e, ERR_FORMAT, "%s: head dims k %d v %d, "
		    "rope dims %d are inconsistent", l->m->g->path,
		    hp->head_dim_k, hp->head_dim_v, hp->n_rot);
	if (hp->n_expert < 0 || hp->n_expert > 4096 ||
	    hp->n_expert_used < 0 || hp->n_expert_used > hp->n_expert ||
	    (hp->n_expert > 0 && hp->n_expert_used == 0))
		return err_set(l->e, ERR_FORMAT, "%s: %d experts with %d used "
		    "per token", l->m->g->path, hp->n_expert,
		    hp->n_expert_used);
	if (gguf_get(l->m->g, k(l, "rope.scaling.type")) != NULL) {
		float f = 1.0f;

		if ((rc = gguf_get_strdup(l->m->g, l->key, &s, l->e)) != 0)
			return rc;
		if (strcmp(s, "none") != 0 && strcmp(s, "linear") != 0 &&
		    strcmp(s, "yarn") != 0) {
			err_set(l->e, ERR_UNSUPPORTED, "%s: rope scaling '%s' "
			    "is not supported", l->m->g->path, s);
			free(s);
			return ERR_UNSUPPORTED;
		}
		hp->rope_yarn = strcmp(s, "yarn") == 0;
		free(s);
		if ((rc = hp_float(l, "rope.scaling.factor", &f, 0)) != 0)
			return rc;
		if (f > 0)
			hp->rope_freq_scale = 1.0f / f;
	}
	hp->n_ctx_orig = hp->n_ctx_train;
	hp->yarn_beta_fast = 32.0f;
	hp->yarn_beta_slow = 1.0f;
	hp->n_expert_groups = 1;
	hp->n_group_used = 1;
	if ((rc = hp_int(l, "rope.scaling.original_context_length",
	    &hp->n_ctx_orig, 0)) != 0 ||
	    (rc = hp_float(l, "rope.scaling.yarn_beta_fast",
	    &hp->yarn_beta_fast, 0)) != 0 ||
	    (rc = hp_float(l, "rope.scaling.yarn_beta_slow",
	    &hp->yarn_beta_slow, 0)) != 0 ||
	    (rc = hp_float(l, "rope.scaling.yarn_log_multiplier",
	    &hp->yarn_log_mul, 0)) != 0 ||
	    (rc = hp_int(l, "attention.sliding_window", &hp->swa_window, 0))
	    != 0 ||
	    (rc = hp_int(l, "attention.q_lora_rank", &hp->q_lora_rank, 0))
	    != 0 ||
	    (rc = hp_int(l, "attention.kv_lora_rank", &hp->kv_lora_rank, 0))
	    != 0 ||
	    (rc = hp_int(l, "attention.key_length_mla", &hp->head_dim_k_mla,
	    0)) != 0 ||
	    (rc = hp_int(l, "attention.value_length_mla", &hp->head_dim_v_mla,
	    0)) != 0 ||
	    (rc = hp_int(l, "expert_group_count", &hp->n_expert_groups, 0))
	    != 0 ||
	    (rc = hp_int(l, "expert_group_used_count", &hp->n_group_used, 0))
	    != 0)
		return rc;
	if (gguf_get(l->m->g, k(l, "expert_gating_func")) != NULL) {
		int gf = 0;

		if ((rc = hp_int(l, "expert_gating_func", &gf, 1)) != 0)
			return rc;
		if (gf == 1)
			hp->gating = ENG_GATING_SOFTMAX;
		else if (gf == 2)
			hp->gating = ENG_GATING_SIGMOID;
		else if (gf == 3)
			hp->gating = ENG_GATING_SOFTMAX_TOPK;
		else
			return err_set(l->e, ERR_UNSUPPORTED, "%s: %s = %d is "
			    "not a gating function we know", l->m->g->path,
			    l->key, gf);
	}
	if (hp->n_expert_groups < 1 || hp->n_group_used < 1 ||
	    hp->n_group_used > hp->n_expert_groups ||
	    (hp->n_expert > 0 && hp->n_expert % hp->n_expert_groups != 0))
		return err_set(l->e, ERR_FORMAT, "%s: %d expert groups, %d "
		    "used, do not divide %d experts", l->m->g->path,
		    hp->n_expert_groups, hp->n_group_used, hp->n_expert);
	derive(hp, l->m->arch);
	return 0;
}

/* Keep a malloc'd buffer with the model. */
static float *
own(struct loader *l, size_t n)
{
	struct eng_model *m = l->m;
	float *p;

	if (util_grow(&m->owned, &m->owned_cap, m->owned_len + 1,
	    sizeof *m->owned) != 0)
		return NULL;
	p = malloc(n * sizeof *p);
	if (p != NULL)
		m->owned[m->owned_len++] = p;
	return p;
}

/*
 * Bind a matrix (or stack) named name. want_n / want_rows / want_mat:
 * required dimensions, 0 = take from the file (the caller checks).
 * Absent and !required: w->data stays NULL.
 */
static int
bind(struct loader *l, const char *name, struct eng_w *w, int64_t want_n,
    int64_t want_rows, int64_t want_mat, int required)
{
	const struct gguf_tensor *t = gguf_find_tensor(l->m->g, name);
	size_t rb;

	memset(w, 0, sizeof *w);
	if (t == NULL) {
		if (required)
			return err_set(l->e, ERR_FORMAT, "%s: tensor '%s' is "
			    "missing", l->m->g->path, name);
		return 0;
	}
	w->name = t->name;
	if (t->ne[3] != 1 || (want_mat == 1 && t->ne[2] != 1) ||
	    (want_n && (int64_t)t->ne[0] != want_n) ||
	    (want_rows && (int64_t)t->ne[1] != want_rows) ||
	    (want_mat > 1 && (int64_t)t->ne[2] != want_mat))
		return err_set(l->e, ERR_FORMAT, "%s: tensor '%s' has shape "
		    "[%llu, %llu, %llu], want [%lld, %lld, %lld] (0 = any)",
		    l->m->g->path, name, (unsigned long long)t->ne[0],
		    (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
		    (long long)want_n, (long long)want_rows,
		    (long long)want_mat);
	if (!quant_supported(t->type))
		return err_set(l->e, ERR_UNSUPPORTED, "%s: tensor '%s' has "
		    "type %s, which the engine cannot compute with",
		    l->m->g->path, name, quant_type_info(t->type)->name);
	if (quant_row_bytes(t->type, (int64_t)t->ne[0], &rb) != 0)
		return err_set(l->e, ERR_FORMAT, "%s: tensor '%s': bad row "
		    "length %llu", l->m->g->path, name,
		    (unsigned long long)t->ne[0]);
	w->type = t->type;
	w->n = (int64_t)t->ne[0];
	w->rows = (int64_t)t->ne[1];
	w->n_mat = (int64_t)t->ne[2];
	w->row_bytes = rb;
	w->mat_bytes = rb * (size_t)w->rows;
	w->data = t->data;
	return 0;
}

/* Bind a vector of n floats (norm weights, biases), converting to F32
 * when stored otherwise. */
static int
bind_floats(struct loader *l, const char *name, int64_t n, int64_t ne0,
    const float **out, int required)
{
	const struct gguf_tensor *t = gguf_find_tensor(l->m->g, name);
	float *buf;

	*out = NULL;
	if (t == NULL) {
		if (required)
			return err_set(l->e, ERR_FORMAT, "%s: tensor '%s' is "
			    "missing", l->m->g->path, name);
		return 0;
	}
	if ((int64_t)gguf_tensor_nelem(t) != n || (int64_t)t->ne[0] != ne0)
		return err_set(l->e, ERR_FORMAT, "%s: tensor '%s' has %llu "
		    "elements, want %lld", l->m->g->path, name,
		    (unsigned long long)gguf_tensor_nelem(t), (long long)n);
	if (t->type == GGML_TYPE_F32) {
		*out = t->data;
		return 0;
	}
	if (!quant_supported(t->type))
		return err_set(l->e, ERR_UNSUPPORTED, "%s: tensor '%s' has "
		    "unsupported type %s", l->m->g->path, name,
		    quant_type_info(t->type)->name);
	if ((buf = own(l, (size_t)n)) == NULL)
		return err_set(l->e, ERR_NOMEM, "out of memory");
	quant_dequant_row(t->type, t->data, buf, n);
	*out = buf;
	return 0;
}

static int
bind_vec(struct loader *l, const char *name, int64_t n, const float **out,
    int required)
{
	return bind_floats(l, name, n, n, out, required);
}

/* Bind a small F32-converted matrix [ne1][ne0] (per-expert biases). */
static int
bind_vec2(struct loader *l, const char *name, int64_t ne0, int64_t ne1,
    const float **out)
{
	const struct gguf_tensor *t = gguf_find_tensor(l->m->g, name);

	*out = NULL;
	if (t == NULL)
		return 0;
	if ((int64_t)t->ne[0] != ne0 || (int64_t)t->ne[1] != ne1 ||
	    t->ne[2] != 1 || t->ne[3] != 1)
		return err_set(l->e, ERR_FORMAT, "%s: tensor '%s' has shape "
		    "[%llu, %llu], want [%lld, %lld]", l->m->g->path, name,
		    (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
		    (long long)ne0, (long long)ne1);
	return bind_floats(l, name, ne0 * ne1, ne0, out, 1);
}

#define TN(...) (snprintf(name, sizeof name, __VA_ARGS__), name)

/* Multi-head latent attention (DeepSeek-V2): q through a low-rank
 * bottleneck (or plain, in V2-Lite), k/v through the compressed latent,
 * per-head k_b / v_b absorption matrices. */
static int
load_mla(struct loader *l, int il)
{
	struct eng_model *m = l->m;
	struct eng_hparams *hp = &m->hp;
	struct eng_layer *L = &m->layers[il];
	int64_t d = hp->n_embd, nh = hp->n_head, hk = hp->head_dim_k_mla;
	int64_t hv = hp->head_dim_v_mla, kvr = hp->kv_lora_rank;
	char name[128];
	int rc;

	if (hk <= hp->n_rot || hv < 1 || kvr < 1 || hp->n_head_kv != 1 ||
	    hp->head_dim_k != kvr + hp->n_rot || hp->head_dim_v != kvr)
		return err_set(l->e, ERR_FORMAT, "%s: MLA dimensions are "
		    "inconsistent (key_length %d, value_length %d, kv_lora "
		    "%lld, rope %d, key_length_mla %lld, kv heads %d)",
		    m->g->path, hp->head_dim_k, hp->head_dim_v, (long long)kvr,
		    hp->n_rot, (long long)hk, hp->n_head_kv);
	L->is_mla = 1;
	if (gguf_find_tensor(m->g, TN("blk.%d.attn_q_a.weight", il)) != NULL) {
		if ((rc = bind(l, name, &L->wq_a, d, hp->q_lora_rank, 1, 1))
		    != 0 ||
		    (rc = bind_vec(l, TN("blk.%d.attn_q_a_norm.weight", il),
		    L->wq_a.rows, &L->q_a_norm, 1)) != 0 ||
		    (rc = bind(l, TN("blk.%d.attn_q_b.weight", il), &L->wq_b,
		    L->wq_a.rows, nh * hk, 1, 1)) != 0)
			return rc;
	} else if ((rc = bind(l, TN("blk.%d.attn_q.weight", il), &L->wq, d,
	    nh * hk, 1, 1)) != 0)
		return rc;
	if ((rc = bind(l, TN("blk.%d.attn_kv_a_mqa.weight", il), &L->wkv_a, d,
	    kvr + hp->n_rot, 1, 1)) != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.attn_kv_a_norm.weight", il), kvr,
	    &L->kv_a_norm, 1)) != 0 ||
	    (rc = bind(l, TN("blk.%d.attn_k_b.weight", il), &L->wk_b,
	    hk - hp->n_rot, kvr, nh, 1)) != 0 ||
	    (rc = bind(l, TN("blk.%d.attn_v_b.weight", il), &L->wv_b, kvr, hv,
	    nh, 1)) != 0 ||
	    (rc = bind(l, TN("blk.%d.attn_output.weight", il), &L->wo,
	    nh * hv, d, 1, 1)) != 0)
		return rc;
	return 0;
}

static int
load_layer(struct loader *l, int il)
{
	struct eng_model *m = l->m;
	struct eng_hparams *hp = &m->hp;
	struct eng_layer *L = &m->layers[il];
	int64_t d = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim_k;
	int64_t kd = (int64_t)hp->n_head_kv * hp->head_dim_k;
	int64_t vd = (int64_t)hp->n_head_kv * hp->head_dim_v;
	int64_t od = (int64_t)hp->n_head * hp->head_dim_v;
	const struct gguf_tensor *t;
	char name[128];
	int rc;

	if ((rc = bind_vec(l, TN("blk.%d.attn_norm.weight", il), d,
	    &L->attn_norm, 1)) != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.%s.weight", il, m->arch->ffn_norm),
	    d, &L->ffn_norm, 1)) != 0)
		return rc;
	if (gguf_find_tensor(m->g, TN("blk.%d.attn_kv_a_mqa.weight", il))
	    != NULL) {
		if ((rc = load_mla(l, il)) != 0)
			return rc;
		goto ffn;
	}
	if ((rc = bind(l, TN("blk.%d.attn_q.weight", il), &L->wq, d, qd, 1,
	    1)) != 0 ||
	    (rc = bind(l, TN("blk.%d.attn_k.weight", il), &L->wk, d, kd, 1,
	    1)) != 0 ||
	    (rc = bind(l, TN("blk.%d.attn_v.weight", il), &L->wv, d, vd, 1,
	    1)) != 0 ||
	    (rc = bind(l, TN("blk.%d.attn_output.weight", il), &L->wo, od, d,
	    1, 1)) != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.attn_q.bias", il), qd, &L->bq, 0))
	    != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.attn_k.bias", il), kd, &L->bk, 0))
	    != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.attn_v.bias", il), vd, &L->bv, 0))
	    != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.attn_output.bias", il), d, &L->bo,
	    0)) != 0 ||
	    (rc = bind_vec(l, TN("blk.%d.attn_sinks.weight", il), hp->n_head,
	    &L->sinks, 0)) != 0)
		return rc;
	L->swa = hp->swa_window > 0 && m->arch->swa_pattern > 0 &&
	    il % m->arch->swa_pattern < m->arch->swa_pattern - 1;
	/* q/k norms: over one head (Qwen3) or the whole projection (OLMoE) */
	if ((t = gguf_find_tensor(m->g, TN("blk.%d.attn_q_norm.weight", il)))
	    != NULL) {
		L->qk_norm_head = (int64_t)t->ne[0] == hp->head_dim_k;
		if ((rc = bind_vec(l, name, L->qk_norm_head ? hp->head_dim_k :
		    qd, &L->q_norm, 1)) != 0 ||
		    (rc = bind_vec(l, TN("blk.%d.attn_k_norm.weight", il),
		    L->qk_norm_head ? hp->head_dim_k : kd, &L->k_norm, 1)) != 0)
			return rc;
	}
ffn:
	/* MoE or dense FFN */
	if (gguf_find_tensor(m->g, TN("blk.%d.ffn_gate_inp.weight", il))
	    != NULL) {
		if (hp->n_expert == 0)
			return err_set(l->e, ERR_FORMAT, "%s: tensor '%s' "
			    "present but %s.expert_count is missing",
			    m->g->path, name, hp->arch);
		L->is_moe = 1;
		if ((rc = bind(l, name, &L->router, d, hp->n_expert, 1, 1))
		    != 0 ||
		    (rc = bind_vec(l, TN("blk.%d.exp_probs_b.bias", il),
		    hp->n_expert, &L->router_bias, 0)) != 0 ||
		    (rc = bind(l, TN("blk.%d.ffn_gate_exps.weight", il),
		    &L->exp_gate, d, hp->n_ff_exp, hp->n_expert, 1)) != 0 ||
		    (rc = bind(l, TN("blk.%d.ffn_up_exps.weight", il),
		    &L->exp_up, d, hp->n_ff_exp, hp->n_expert, 1)) != 0 ||
		    (rc = bind(l, TN("blk.%d.ffn_down_exps.weight", il),
		    &L->exp_down, hp->n_ff_exp, d, hp->n_expert, 1)) != 0 ||
		    (rc = bind_vec(l, TN("blk.%d.ffn_gate_inp.bias", il),
		    hp->n_expert, &L->router_b, 0)) != 0 ||
		    (rc = bind_vec2(l, TN("blk.%d.ffn_gate_exps.bias", il),
		    L->exp_gate.rows, hp->n_expert, &L->exp_gate_b)) != 0 ||
		    (rc = bind_vec2(l, TN("blk.%d.ffn_up_exps.bias", il),
		    L->exp_up.rows, hp->n_expert, &L->exp_up_b)) != 0 ||
		    (rc = bind_vec2(l, TN("blk.%d.ffn_down_exps.bias", il), d,
		    hp->n_expert, &L->exp_down_b)) != 0)
			return rc;
		if (L->exp_up.rows != L->exp_gate.rows ||
		    L->exp_down.n != L->exp_gate.rows)
			return err_set(l->e, ERR_FORMAT, "%s: layer %d: expert "
			    "FFN widths disagree (gate %lld, up %lld, down "
			    "%lld)", m->g->path, il,
			    (long long)L->exp_gate.rows,
			    (long long)L->exp_up.rows, (long long)L->exp_down.n);
		if (hp->n_ff_exp == 0)
			hp->n_ff_exp = (int)L->exp_gate.rows;
		/* shared expert (Qwen2-MoE, DeepSeek) */
		if ((rc = bind(l, TN("blk.%d.ffn_up_shexp.weight", il),
		    &L->sh_up, d, hp->n_ff_shexp, 1, 0)) != 0)
			return rc;
		if (L->sh_up.data != NULL) {
			if ((rc = bind(l, TN("blk.%d.ffn_gate_shexp.weight", il),
			    &L->sh_gate, d, L->sh_up.rows, 1, 1)) != 0 ||
			    (rc = bind(l, TN("blk.%d.ffn_down_shexp.weight",
			    il), &L->sh_down, L->sh_up.rows, d, 1, 1)) != 0)
				return rc;
			t = gguf_find_tensor(m->g,
			    TN("blk.%d.ffn_gate_inp_shexp.weight", il));
			if (t != NULL && (gguf_tensor_nelem(t) != (uint64_t)d ||
			    t->ne[0] != (uint64_t)d))
				return err_set(l->e, ERR_FORMAT, "%s: tensor "
				    "'%s' has %llu elements, want %lld",
				    m->g->path, name,
				    (unsigned long long)gguf_tensor_nelem(t),
				    (long long)d);
			if (t != NULL && (rc = bind(l, name, &L->sh_gate_inp,
			    d, 0, 1, 1)) != 0)
				return rc;
		}
	} else {
		if ((rc = bind(l, TN("blk.%d.ffn_up.weight", il), &L->ffn_up,
		    d, 0, 1, 1)) != 0 ||
		    (rc = bind(l, TN("blk.%d.ffn_gate.weight", il),
		    &L->ffn_gate, d, L->ffn_up.rows, 1, 1)) != 0 ||
		    (rc = bind(l, TN("blk.%d.ffn_down.weight", il),
		    &L->ffn_down, L->ffn_up.rows, d, 1, 1)) != 0)
			return rc;
	}
	return 0;
}

int
eng_model_load(struct eng_model **out, struct gguf *g, struct err *e)
{
	struct eng_model *m;
	struct loader l;
	char *arch = NULL;
	int rc, il;

	*out = NULL;
	if ((rc = gguf_get_strdup(g, "general.architecture", &arch, e)) != 0)
		return rc;
	m = calloc(1, sizeof *m);
	if (m == NULL) {
		free(arch);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	m->g = g;
	l.m = m;
	l.e = e;
	m->arch = eng_arch_find(arch);
	if (m->arch == NULL) {
		err_set(e, ERR_UNSUPPORTED, "%s: architecture '%s' is not "
		    "supported (llama, qwen2moe, qwen3moe, olmoe, deepseek2, "
		    "gpt-oss)", g->path,
		    arch);
		free(arch);
		free(m);
		return ERR_UNSUPPORTED;
	}
	snprintf(m->hp.arch, sizeof m->hp.arch, "%s", arch);
	free(arch);
	if ((rc = read_hparams(&l)) != 0)
		goto fail;
	if ((rc = bind(&l, "token_embd.weight", &m->tok_embd, m->hp.n_embd, 0,
	    1, 1)) != 0)
		goto fail;
	m->hp.n_vocab = (int)m->tok_embd.rows;
	if ((rc = bind_vec(&l, "output_norm.weight", m->hp.n_embd,
	    &m->out_norm, 1)) != 0 ||
	    (rc = bind(&l, "output.weight", &m->output, m->hp.n_embd,
	    m->hp.n_vocab, 1, 0)) != 0)
		goto fail;
	if (m->output.data == NULL)	/* tied embeddings */
		m->output = m->tok_embd;
	m->layers = calloc((size_t)m->hp.n_layer, sizeof *m->layers);
	if (m->layers == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	for (il = 0; il < m->hp.n_layer; il++)
		if ((rc = load_layer(&l, il)) != 0)
			goto fail;
	*out = m;
	return 0;
fail:
	m->g = NULL;
	eng_model_free(m);
	return rc;
}

int
eng_model_open(struct eng_model **out, const char *path, struct err *e)
{
	struct gguf *g;
	int rc;

	*out = NULL;
	if ((rc = gguf_open(&g, path, e)) != 0)
		return rc;
	if ((rc = eng_model_load(out, g, e)) != 0) {
		gguf_close(g);
		return rc;
	}
	(*out)->own_g = 1;
	return 0;
}

void
eng_model_free(struct eng_model *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->owned_len; i++)
		free(m->owned[i]);
	free(m->owned);
	free(m->layers);
	if (m->own_g)
		gguf_close(m->g);
	free(m);
}

const struct eng_hparams *
eng_model_hparams(const struct eng_model *m)
{
	return &m->hp;
}

struct gguf *
eng_model_gguf(const struct eng_model *m)
{
	return m->g;
}

static uint64_t
wbytes(const struct eng_w *w)
{
	return w->data ? (uint64_t)w->mat_bytes * (uint64_t)w->n_mat : 0;
}

uint64_t
eng_model_expert_bytes(const struct eng_model *m)
{
	uint64_t b = 0;
	int il;

	for (il = 0; il < m->hp.n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];

		b += wbytes(&L->exp_gate) + wbytes(&L->exp_up) +
		    wbytes(&L->exp_down);
	}
	return b;
}

uint64_t
eng_model_bytes_per_token(const struct eng_model *m)
{
	const struct eng_hparams *hp = &m->hp;
	uint64_t b = m->tok_embd.row_bytes + wbytes(&m->output);
	int il;

	for (il = 0; il < hp->n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];

		b += wbytes(&L->wq) + wbytes(&L->wk) + wbytes(&L->wv) +
		    wbytes(&L->wo) + wbytes(&L->router) + wbytes(&L->wq_a) +
		    wbytes(&L->wq_b) + wbytes(&L->wkv_a) + wbytes(&L->wk_b) +
		    wbytes(&L->wv_b) +
		    wbytes(&L->ffn_gate) + wbytes(&L->ffn_up) +
		    wbytes(&L->ffn_down) + wbytes(&L->sh_gate) +
		    wbytes(&L->sh_up) + wbytes(&L->sh_down);
		if (L->is_moe)
			b += (uint64_t)hp->n_expert_used *
			    (L->exp_gate.mat_bytes + L->exp_up.mat_bytes +
			    L->exp_down.mat_bytes);
	}
	return b;
}

uint64_t
eng_model_kv_bytes(const struct eng_model *m, int64_t n_ctx, int kv_type)
{
	const struct eng_hparams *hp = &m->hp;
	uint64_t b = 0, row;
	int64_t seen;
	int il;

	for (il = 0; il < hp->n_layer; il++) {
		const struct eng_layer *L = &m->layers[il];

		if (L->is_mla)
			row = (uint64_t)(hp->kv_lora_rank + hp->n_rot);
		else
			row = (uint64_t)hp->n_head_kv *
			    (uint64_t)(hp->head_dim_k + hp->head_dim_v);
		seen = L->swa && hp->swa_window > 0 && hp->swa_window < n_ctx ?
		    hp->swa_window : n_ctx;
		b += row * (uint64_t)seen * (kv_type == ENG_KV_F16 ? 2 : 4);
	}
	return b;
}
