/*
 * convert-arch.c - the architectures convert knows: how each Hugging Face
 * tensor becomes GGUF tensors, and the hyper-parameter metadata, both in
 * the order and form llama.cpp's convert_hf_to_gguf.py writes them.
 *
 * Tensors are visited in the order llama.cpp visits them: shard by shard
 * (shards sorted by file name), names sorted within a shard. Per-expert
 * tensors are held back until a layer's last expert tensor arrives, then
 * the stacked [n_expert][rows][cols] tensors are emitted in the
 * architecture's kind order. gpt-oss's MXFP4 expert blocks are emitted
 * first, in a pass of their own, as llama.cpp's generate_extra_tensors()
 * does. Nothing is read here: the plan says where each row comes from.
 *
 * Metadata: general.*, then the base hyper-parameters (block count,
 * context, widths, heads, rope scaling, rope base, norm epsilon, expert
 * counts and gating, head dims, file type), then each architecture's
 * tail, then general.quantization_version.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert-int.h"
#include "quant/quant-common.h"

/* ---- per-layer name maps: HF suffix -> GGUF suffix ---- */

#define END { NULL, NULL }

static const char *const map_llama[][2] = {
	{ "input_layernorm.weight", "attn_norm.weight" },
	{ "post_attention_layernorm.weight", "ffn_norm.weight" },
	{ "self_attn.q_proj.weight", "attn_q.weight" },
	{ "self_attn.k_proj.weight", "attn_k.weight" },
	{ "self_attn.v_proj.weight", "attn_v.weight" },
	{ "self_attn.o_proj.weight", "attn_output.weight" },
	{ "block_sparse_moe.gate.weight", "ffn_gate_inp.weight" },
	END
};

static const char *const map_qwen[][2] = {
	{ "input_layernorm.weight", "attn_norm.weight" },
	{ "post_attention_layernorm.weight", "ffn_norm.weight" },
	{ "self_attn.q_proj.weight", "attn_q.weight" },
	{ "self_attn.k_proj.weight", "attn_k.weight" },
	{ "self_attn.v_proj.weight", "attn_v.weight" },
	{ "self_attn.o_proj.weight", "attn_output.weight" },
	{ "self_attn.q_proj.bias", "attn_q.bias" },
	{ "self_attn.k_proj.bias", "attn_k.bias" },
	{ "self_attn.v_proj.bias", "attn_v.bias" },
	{ "self_attn.q_norm.weight", "attn_q_norm.weight" },
	{ "self_attn.k_norm.weight", "attn_k_norm.weight" },
	{ "mlp.gate.weight", "ffn_gate_inp.weight" },
	{ "mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight" },
	{ "mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight" },
	{ "mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight" },
	{ "mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight" },
	END
};

static const char *const map_deepseek2[][2] = {
	{ "input_layernorm.weight", "attn_norm.weight" },
	{ "post_attention_layernorm.weight", "ffn_norm.weight" },
	{ "self_attn.q_proj.weight", "attn_q.weight" },
	{ "self_attn.q_a_proj.weight", "attn_q_a.weight" },
	{ "self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight" },
	{ "self_attn.q_b_proj.weight", "attn_q_b.weight" },
	{ "self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight" },
	{ "self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight" },
	{ "self_attn.o_proj.weight", "attn_output.weight" },
	{ "mlp.gate.weight", "ffn_gate_inp.weight" },
	{ "mlp.gate_proj.weight", "ffn_gate.weight" },
	{ "mlp.up_proj.weight", "ffn_up.weight" },
	{ "mlp.down_proj.weight", "ffn_down.weight" },
	{ "mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight" },
	{ "mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight" },
	{ "mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight" },
	END
};

static const char *const map_gptoss[][2] = {
	{ "input_layernorm.weight", "attn_norm.weight" },
	{ "post_attention_layernorm.weight", "post_attention_norm.weight" },
	{ "self_attn.q_proj.weight", "attn_q.weight" },
	{ "self_attn.k_proj.weight", "attn_k.weight" },
	{ "self_attn.v_proj.weight", "attn_v.weight" },
	{ "self_attn.o_proj.weight", "attn_output.weight" },
	{ "self_attn.q_proj.bias", "attn_q.bias" },
	{ "self_attn.k_proj.bias", "attn_k.bias" },
	{ "self_attn.v_proj.bias", "attn_v.bias" },
	{ "self_attn.o_proj.bias", "attn_output.bias" },
	{ "self_attn.sinks", "attn_sinks.weight" },
	{ "mlp.router.weight", "ffn_gate_inp.weight" },
	{ "mlp.router.bias", "ffn_gate_inp.bias" },
	{ "mlp.experts.down_proj_bias", "ffn_down_exps.bias" },
	END
};

/* Per-layer tensors every layer must have (HF suffixes), per family. */
static const char *const need_llama[] = {
	"input_layernorm.weight", "post_attention_layernorm.weight",
	"self_attn.q_proj.weight", "self_attn.k_proj.weight",
	"self_attn.v_proj.weight", "self_attn.o_proj.weight", NULL
};
static const char *const need_deepseek2[] = {
	"input_layernorm.weight", "post_attention_layernorm.weight",
	"self_attn.kv_a_proj_with_mqa.weight",
	"self_attn.kv_a_layernorm.weight", "self_attn.kv_b_proj.weight",
	"self_attn.o_proj.weight", NULL
};
static const char *const need_gptoss[] = {
	"input_layernorm.weight", "post_attention_layernorm.weight",
	"self_attn.q_proj.weight", "self_attn.k_proj.weight",
	"self_attn.v_proj.weight", "self_attn.o_proj.weight",
	"self_attn.sinks", "mlp.router.weight",
	"mlp.experts.gate_up_proj_blocks", "mlp.experts.gate_up_proj_scales",
	"mlp.experts.down_proj_blocks", "mlp.experts.down_proj_scales", NULL
};

static int tail_llama(struct cv_model *, struct gguf_writer *, struct err *);
static int tail_qwen2moe(struct cv_model *, struct gguf_writer *,
    struct err *);
static int tail_qwen3moe(struct cv_model *, struct gguf_writer *,
    struct err *);
static int tail_none(struct cv_model *, struct gguf_writer *, struct err *);
static int tail_deepseek2(struct cv_model *, struct gguf_writer *,
    struct err *);
static int tail_gptoss(struct cv_model *, struct gguf_writer *,
    struct err *);

static const struct cv_arch arches[] = {
	{ "MixtralForCausalLM", "llama", { "w1", "w2", "w3" },
	    { "ffn_gate_exps", "ffn_down_exps", "ffn_up_exps" },
	    ".block_sparse_moe.experts.", 1, tail_llama, map_llama },
	{ "Qwen2MoeForCausalLM", "qwen2moe",
	    { "down_proj", "gate_proj", "up_proj" },
	    { "ffn_down_exps", "ffn_gate_exps", "ffn_up_exps" },
	    ".mlp.experts.", 0, tail_qwen2moe, map_qwen },
	{ "Qwen3MoeForCausalLM", "qwen3moe",
	    { "down_proj", "gate_proj", "up_proj" },
	    { "ffn_down_exps", "ffn_gate_exps", "ffn_up_exps" },
	    ".mlp.experts.", 0, tail_qwen3moe, map_qwen },
	{ "OlmoeForCausalLM", "olmoe",
	    { "down_proj", "gate_proj", "up_proj" },
	    { "ffn_down_exps", "ffn_gate_exps", "ffn_up_exps" },
	    ".mlp.experts.", 0, tail_none, map_qwen },
	{ "DeepseekV2ForCausalLM", "deepseek2",
	    { "down_proj", "gate_proj", "up_proj" },
	    { "ffn_down_exps", "ffn_gate_exps", "ffn_up_exps" },
	    ".mlp.experts.", 0, tail_deepseek2, map_deepseek2 },
	{ "GptOssForCausalLM", "gpt-oss", { NULL, NULL, NULL },
	    { NULL, NULL, NULL }, ".mlp.experts.", 0, tail_gptoss,
	    map_gptoss },
};

const struct cv_arch *
cv_arch_find(const char *hf_arch)
{
	size_t i;

	for (i = 0; i < sizeof arches / sizeof arches[0]; i++)
		if (strcmp(arches[i].hf_arch, hf_arch) == 0)
			return &arches[i];
	return NULL;
}

int
convert_arch_supported(const char *hf_arch)
{
	return cv_arch_find(hf_arch) != NULL;
}

static int
is_gptoss(const struct cv_model *m)
{
	return strcmp(m->arch->gguf_arch, "gpt-oss") == 0;
}

static int
is_deepseek2(const struct cv_model *m)
{
	return strcmp(m->arch->gguf_arch, "deepseek2") == 0;
}

/* ---- the plan ---- */

int
cv_plan_add(struct cv_model *m, const char *name, int op, int n_dims,
    const uint64_t *ne, int layer, struct cv_tensor **out, struct err *e)
{
	struct cv_tensor *t;
	size_t i;
	int d;

	for (i = 0; i < m->n_t; i++)
		if (strcmp(m->t[i].name, name) == 0)
			return err_set(e, ERR_FORMAT, "%s: two tensors map "
			    "to %s", m->dir, name);
	if (m->n_t == m->cap_t) {
		size_t cap = m->cap_t ? m->cap_t * 2 : 64;

		t = realloc(m->t, cap * sizeof *t);
		if (t == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		m->t = t;
		m->cap_t = cap;
	}
	t = &m->t[m->n_t++];
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->op = op;
	t->n_dims = n_dims;
	for (d = 0; d < 4; d++)
		t->ne[d] = d < n_dims ? ne[d] : 1;
	t->layer = layer;
	t->src_type = GGML_TYPE_F32;
	t->type = GGML_TYPE_F32;
	*out = t;
	return 0;
}

static int
set_src(struct cv_tensor *t, int n, struct err *e)
{
	t->src = calloc((size_t)n, sizeof *t->src);
	if (t->src == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	t->n_src = n;
	return 0;
}

static int
is_float(int dtype)
{
	return dtype == ST_BF16 || dtype == ST_F16 || dtype == ST_F32 ||
	    dtype == ST_F64;
}

/* A plain tensor: HF shape reversed; op COPY or PERMUTE. */
static int
add_plain(struct cv_model *m, const struct st_tensor *s, const char *name,
    int layer, int op, int n_head, struct err *e)
{
	struct cv_tensor *t;
	uint64_t ne[4];
	int d, rc;

	if (!is_float(s->dtype))
		return err_set(e, ERR_UNSUPPORTED, "%s: tensor %s has dtype "
		    "%s (want a float type)", m->dir, s->name,
		    safetensors_dtype_name(s->dtype));
	if (s->n_dims < 1 || s->n_dims > 4)
		return err_set(e, ERR_FORMAT, "%s: tensor %s has %d "
		    "dimensions", m->dir, s->name, s->n_dims);
	for (d = 0; d < s->n_dims; d++)
		ne[d] = s->shape[s->n_dims - 1 - d];
	if ((rc = cv_plan_add(m, name, op, s->n_dims, ne, layer, &t, e)) != 0)
		return rc;
	if ((rc = set_src(t, 1, e)) != 0)
		return rc;
	t->src[0] = s;
	t->n_head = n_head;
	t->in_bytes = s->nbytes;
	if (op == CV_PERMUTE && (s->n_dims != 2 || n_head <= 0 ||
	    ne[1] % (uint64_t)(2 * n_head) != 0))
		return err_set(e, ERR_FORMAT, "%s: tensor %s: %llu rows do "
		    "not split into %d heads", m->dir, s->name,
		    (unsigned long long)ne[1], n_head);
	return 0;
}

/* deepseek2's kv_b_proj [n_head * (nope + v)][kv_lora] -> k_b, v_b. */
static int
add_kv_b(struct cv_model *m, const struct st_tensor *s, int layer,
    struct err *e)
{
	struct cv_tensor *t;
	int64_t nope, vdim, nh = m->hp.n_heads;
	uint64_t ne[3], kvl;
	char name[96];
	int rc;

	if ((rc = hf_config_get_int(m->cfg, "qk_nope_head_dim", &nope,
	    e)) != 0 || (rc = hf_config_get_int(m->cfg, "v_head_dim", &vdim,
	    e)) != 0)
		return rc;
	if (!is_float(s->dtype) || s->n_dims != 2 || nope <= 0 ||
	    vdim <= 0 || nh <= 0 ||
	    s->shape[0] != (uint64_t)(nh * (nope + vdim)))
		return err_set(e, ERR_FORMAT, "%s: tensor %s: want shape "
		    "[%lld][kv_lora_rank]", m->dir, s->name,
		    (long long)(nh * (nope + vdim)));
	kvl = s->shape[1];
	ne[0] = (uint64_t)nope;
	ne[1] = kvl;
	ne[2] = (uint64_t)nh;
	snprintf(name, sizeof name, "blk.%d.attn_k_b.weight", layer);
	if ((rc = cv_plan_add(m, name, CV_KB, 3, ne, layer, &t, e)) != 0 ||
	    (rc = set_src(t, 1, e)) != 0)
		return rc;
	t->src[0] = s;
	t->n_head = (int)nh;
	t->nope = nope;
	t->vdim = vdim;
	t->in_bytes = s->nbytes / (uint64_t)(nope + vdim) * (uint64_t)nope;
	ne[0] = kvl;
	ne[1] = (uint64_t)vdim;
	snprintf(name, sizeof name, "blk.%d.attn_v_b.weight", layer);
	if ((rc = cv_plan_add(m, name, CV_VB, 3, ne, layer, &t, e)) != 0 ||
	    (rc = set_src(t, 1, e)) != 0)
		return rc;
	t->src[0] = s;
	t->n_head = (int)nh;
	t->nope = nope;
	t->vdim = vdim;
	t->in_bytes = s->nbytes - s->nbytes / (uint64_t)(nope + vdim) *
	    (uint64_t)nope;
	return 0;
}

/* gpt-oss gate_up_proj_bias [n_exp][2 ff] -> gate (even), up (odd). */
static int
add_gate_up_bias(struct cv_model *m, const struct st_tensor *s, int layer,
    struct err *e)
{
	static const char *const nm[2] = { "ffn_gate_exps", "ffn_up_exps" };
	struct cv_tensor *t;
	uint64_t ne[2];
	char name[96];
	int i, rc;

	if (!is_float(s->dtype) || s->n_dims != 2 || s->shape[1] % 2 != 0)
		return err_set(e, ERR_FORMAT, "%s: tensor %s: want shape "
		    "[n_expert][2 * ff]", m->dir, s->name);
	ne[0] = s->shape[1] / 2;
	ne[1] = s->shape[0];
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "blk.%d.%s.bias", layer, nm[i]);
		if ((rc = cv_plan_add(m, name, i ? CV_ODD : CV_EVEN, 2, ne,
		    layer, &t, e)) != 0 || (rc = set_src(t, 1, e)) != 0)
			return rc;
		t->src[0] = s;
		t->in_bytes = s->nbytes / 2;
	}
	return 0;
}

/* gpt-oss MXFP4 blocks [n_exp][rows][nb][16] + scales [n_exp][rows][nb]
 * -> ggml MXFP4 [n_exp][rows'][nb * 32]. sel: 0 all rows, 1 even, 2 odd. */
static int
add_mxfp4(struct cv_model *m, const struct st_tensor *b,
    const struct st_tensor *s, int layer, const char *what, int sel,
    struct err *e)
{
	struct cv_tensor *t;
	uint64_t ne[3];
	char name[96];
	int rc;

	if (b->dtype != ST_U8 || s->dtype != ST_U8 || b->n_dims != 4 ||
	    s->n_dims != 3 || b->shape[3] != 16 || b->shape[0] != s->shape[0]
	    || b->shape[1] != s->shape[1] || b->shape[2] != s->shape[2] ||
	    (sel != 0 && b->shape[1] % 2 != 0))
		return err_set(e, ERR_FORMAT, "%s: tensors %s / %s: want U8 "
		    "MXFP4 blocks [n][rows][nb][16] and scales [n][rows][nb]",
		    m->dir, b->name, s->name);
	ne[0] = b->shape[2] * 32;
	ne[1] = sel ? b->shape[1] / 2 : b->shape[1];
	ne[2] = b->shape[0];
	snprintf(name, sizeof name, "blk.%d.%s.weight", layer, what);
	if ((rc = cv_plan_add(m, name, CV_MXFP4, 3, ne, layer, &t, e)) != 0
	    || (rc = set_src(t, 2, e)) != 0)
		return rc;
	t->src[0] = b;
	t->src[1] = s;
	t->sel = sel;
	t->src_type = GGML_TYPE_MXFP4;
	t->type = GGML_TYPE_MXFP4;
	t->in_bytes = (b->nbytes + s->nbytes) / (sel ? 2 : 1);
	return 0;
}

/* Parse "model.layers.N." -> N and the rest; -1 when not a layer name. */
static int
layer_of(const char *name, const char **rest)
{
	const char *p = "model.layers.";
	char *end;
	long n;

	if (strncmp(name, p, strlen(p)) != 0)
		return -1;
	name += strlen(p);
	if (*name < '0' || *name > '9')
		return -1;
	n = strtol(name, &end, 10);
	if (*end != '.' || n > 100000)
		return -1;
	*rest = end + 1;
	return (int)n;
}

/* Emit the stacked expert tensors of a complete layer. */
static int
emit_experts(struct cv_model *m, int layer, struct err *e)
{
	const struct st_tensor **x;
	struct cv_tensor *t;
	uint64_t ne[3];
	char name[96];
	int64_t k, j;
	int rc;

	for (k = 0; k < 3; k++) {
		x = m->exp + ((size_t)layer * 3 + (size_t)k) *
		    (size_t)m->n_expert;
		for (j = 0; j < m->n_expert; j++)
			if (!is_float(x[j]->dtype) || x[j]->n_dims != 2 ||
			    x[j]->shape[0] != x[0]->shape[0] ||
			    x[j]->shape[1] != x[0]->shape[1] ||
			    x[j]->dtype != x[0]->dtype)
				return err_set(e, ERR_FORMAT, "%s: expert "
				    "tensor %s: dtype or shape differs from "
				    "%s", m->dir, x[j]->name, x[0]->name);
		ne[0] = x[0]->shape[1];
		ne[1] = x[0]->shape[0];
		ne[2] = (uint64_t)m->n_expert;
		snprintf(name, sizeof name, "blk.%d.%s.weight", layer,
		    m->arch->exp_gguf[k]);
		if ((rc = cv_plan_add(m, name, CV_STACK, 3, ne, layer, &t,
		    e)) != 0 || (rc = set_src(t, (int)m->n_expert, e)) != 0)
			return rc;
		for (j = 0; j < m->n_expert; j++) {
			t->src[j] = x[j];
			t->in_bytes += x[j]->nbytes;
		}
	}
	return 0;
}

/* An expert tensor "E.<kind>.weight" (after the arch's infix). */
static int
take_expert(struct cv_model *m, const struct st_tensor *s, int layer,
    const char *p, struct err *e)
{
	char *end;
	long ex;
	int k;

	ex = strtol(p, &end, 10);
	if (end == p || *end != '.' || ex < 0 || ex >= m->n_expert)
		return err_set(e, ERR_FORMAT, "%s: tensor %s: expert index "
		    "out of range (%lld experts)", m->dir, s->name,
		    (long long)m->n_expert);
	for (k = 0; k < 3; k++) {
		size_t n = strlen(m->arch->exp_hf[k]);

		if (strncmp(end + 1, m->arch->exp_hf[k], n) == 0 &&
		    strcmp(end + 1 + n, ".weight") == 0)
			break;
	}
	if (k == 3)
		return err_set(e, ERR_UNSUPPORTED, "%s: cannot map tensor "
		    "%s", m->dir, s->name);
	if (m->exp[((size_t)layer * 3 + (size_t)k) * (size_t)m->n_expert +
	    (size_t)ex] != NULL)
		return err_set(e, ERR_FORMAT, "%s: tensor %s twice", m->dir,
		    s->name);
	m->exp[((size_t)layer * 3 + (size_t)k) * (size_t)m->n_expert +
	    (size_t)ex] = s;
	if (++m->exp_count[layer] == 3 * m->n_expert)
		return emit_experts(m, layer, e);
	return 0;
}

struct ranked {
	int			 rank;	/* shard position by path */
	const struct st_tensor	*t;
};

static int
by_rank_name(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->t->name, y->t->name);
}

/* Source tensors in llama.cpp's visiting order. */
static int
source_order(struct cv_model *m, const struct st_tensor ***out,
    struct err *e)
{
	const struct st_tensor **v;
	struct ranked *r;
	int *rank, i, j;
	uint64_t k;

	v = malloc((m->st->n_tensors + 1) * sizeof *v);
	r = malloc((m->st->n_tensors + 1) * sizeof *r);
	rank = malloc(((size_t)m->st->n_files + 1) * sizeof *rank);
	if (v == NULL || r == NULL || rank == NULL) {
		free(v);
		free(r);
		free(rank);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < m->st->n_files; i++) {
		rank[i] = 0;
		for (j = 0; j < m->st->n_files; j++)
			if (strcmp(m->st->files[j].path,
			    m->st->files[i].path) < 0)
				rank[i]++;
	}
	for (k = 0; k < m->st->n_tensors; k++) {
		r[k].t = &m->st->tensors[k];
		r[k].rank = rank[r[k].t->file];
	}
	qsort(r, m->st->n_tensors, sizeof *r, by_rank_name);
	for (k = 0; k < m->st->n_tensors; k++)
		v[k] = r[k].t;
	free(r);
	free(rank);
	*out = v;
	return 0;
}

/* The required per-layer tensors, by HF name. */
static int
check_layers(struct cv_model *m, struct err *e)
{
	const char *const *need = need_llama;
	char name[256];
	int64_t l, first_dense = 0;
	int k;

	if (is_deepseek2(m)) {
		need = need_deepseek2;
		first_dense = m->hp.first_dense_layers > 0 ?
		    m->hp.first_dense_layers : 0;
	} else if (is_gptoss(m))
		need = need_gptoss;
	for (l = 0; l < m->n_layer; l++) {
		for (k = 0; need[k] != NULL; k++) {
			snprintf(name, sizeof name, "model.layers.%lld.%s",
			    (long long)l, need[k]);
			if (safetensors_find(m->st, name) == NULL)
				return err_set(e, ERR_NOTFOUND, "%s: tensor "
				    "%s is missing", m->dir, name);
		}
		if (is_gptoss(m) || l < first_dense)
			continue;
		if (m->exp_count[l] != 3 * m->n_expert) {
			int64_t j;

			for (k = 0; k < 3; k++)
				for (j = 0; j < m->n_expert; j++)
					if (m->exp[((size_t)l * 3 + (size_t)k)
					    * (size_t)m->n_expert + (size_t)j]
					    == NULL)
						return err_set(e,
						    ERR_NOTFOUND, "%s: tensor "
						    "model.layers.%lld%s%lld."
						    "%s.weight is missing",
						    m->dir, (long long)l,
						    m->arch->exp_infix,
						    (long long)j,
						    m->arch->exp_hf[k]);
		}
	}
	if (safetensors_find(m->st, "model.embed_tokens.weight") == NULL)
		return err_set(e, ERR_NOTFOUND, "%s: tensor "
		    "model.embed_tokens.weight is missing", m->dir);
	if (safetensors_find(m->st, "model.norm.weight") == NULL)
		return err_set(e, ERR_NOTFOUND, "%s: tensor model.norm.weight "
		    "is missing", m->dir);
	return 0;
}

/* gpt-oss: the MXFP4 experts, first, in visiting order. */
static int
plan_mxfp4(struct cv_model *m, const struct st_tensor **v, struct err *e)
{
	const struct st_tensor *s, *b;
	const char *rest;
	char name[256];
	uint64_t k;
	int layer, rc;

	for (k = 0; k < m->st->n_tensors; k++) {
		s = v[k];
		if ((layer = layer_of(s->name, &rest)) < 0)
			continue;
		if (strcmp(rest, "mlp.experts.down_proj_scales") == 0) {
			snprintf(name, sizeof name, "model.layers.%d.mlp."
			    "experts.down_proj_blocks", layer);
			if ((b = safetensors_find(m->st, name)) == NULL)
				return err_set(e, ERR_NOTFOUND, "%s: tensor "
				    "%s is missing", m->dir, name);
			if ((rc = add_mxfp4(m, b, s, layer, "ffn_down_exps",
			    0, e)) != 0)
				return rc;
		} else if (strcmp(rest, "mlp.experts.gate_up_proj_scales") ==
		    0) {
			snprintf(name, sizeof name, "model.layers.%d.mlp."
			    "experts.gate_up_proj_blocks", layer);
			if ((b = safetensors_find(m->st, name)) == NULL)
				return err_set(e, ERR_NOTFOUND, "%s: tensor "
				    "%s is missing", m->dir, name);
			if ((rc = add_mxfp4(m, b, s, layer, "ffn_gate_exps",
			    1, e)) != 0 || (rc = add_mxfp4(m, b, s, layer,
			    "ffn_up_exps", 2, e)) != 0)
				return rc;
		}
	}
	return 0;
}

int
cv_arch_plan(struct cv_model *m, struct err *e)
{
	const struct st_tensor **v = NULL, *s;
	const char *rest, *infix = m->arch->exp_infix + 1;
	char name[128];
	uint64_t k;
	int layer, i, rc, op, n_head;
	int64_t n_kv = m->hp.n_kv_heads;

	m->exp = calloc((size_t)m->n_layer * 3 * (size_t)m->n_expert + 1,
	    sizeof *m->exp);
	m->exp_count = calloc((size_t)m->n_layer + 1, sizeof *m->exp_count);
	if (m->exp == NULL || m->exp_count == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((rc = source_order(m, &v, e)) != 0)
		return rc;
	if (is_gptoss(m) && (rc = plan_mxfp4(m, v, e)) != 0)
		goto done;
	for (k = 0; k < m->st->n_tensors; k++) {
		s = v[k];
		if (strcmp(s->name, "lm_head.weight") == 0) {
			rc = add_plain(m, s, "output.weight", -1, CV_COPY, 0,
			    e);
		} else if (strcmp(s->name, "model.embed_tokens.weight") ==
		    0) {
			rc = add_plain(m, s, "token_embd.weight", -1, CV_COPY,
			    0, e);
		} else if (strcmp(s->name, "model.norm.weight") == 0) {
			rc = add_plain(m, s, "output_norm.weight", -1,
			    CV_COPY, 0, e);
		} else if ((layer = layer_of(s->name, &rest)) >= 0) {
			if (layer >= m->n_layer) {
				rc = err_set(e, ERR_FORMAT, "%s: tensor %s: "
				    "layer %d, but num_hidden_layers is %lld",
				    m->dir, s->name, layer,
				    (long long)m->n_layer);
				goto done;
			}
			if (strstr(rest, "rotary_emb.inv_freq") != NULL)
				continue;
			if (m->arch->exp_hf[0] != NULL &&
			    strncmp(rest, infix, strlen(infix)) == 0) {
				rc = take_expert(m, s, layer,
				    rest + strlen(infix), e);
				goto next;
			}
			if (is_gptoss(m) && (strstr(rest, "_blocks") != NULL
			    || strstr(rest, "_scales") != NULL))
				continue;
			if (is_gptoss(m) && strcmp(rest,
			    "mlp.experts.gate_up_proj_bias") == 0) {
				rc = add_gate_up_bias(m, s, layer, e);
				goto next;
			}
			if (is_deepseek2(m) && strcmp(rest,
			    "self_attn.kv_b_proj.weight") == 0) {
				rc = add_kv_b(m, s, layer, e);
				goto next;
			}
			for (i = 0; m->arch->map[i][0] != NULL; i++)
				if (strcmp(m->arch->map[i][0], rest) == 0)
					break;
			if (m->arch->map[i][0] == NULL) {
				rc = err_set(e, ERR_UNSUPPORTED, "%s: cannot "
				    "map tensor %s (%s)", m->dir, s->name,
				    m->arch->hf_arch);
				goto done;
			}
			snprintf(name, sizeof name, "blk.%d.%s", layer,
			    m->arch->map[i][1]);
			op = CV_COPY;
			n_head = 0;
			if (m->arch->permute_qk && strcmp(rest,
			    "self_attn.q_proj.weight") == 0) {
				op = CV_PERMUTE;
				n_head = (int)m->hp.n_heads;
			} else if (m->arch->permute_qk && strcmp(rest,
			    "self_attn.k_proj.weight") == 0) {
				op = CV_PERMUTE;
				n_head = (int)n_kv;
			}
			rc = add_plain(m, s, name, layer, op, n_head, e);
		} else {
			rc = err_set(e, ERR_UNSUPPORTED, "%s: cannot map "
			    "tensor %s (%s)", m->dir, s->name,
			    m->arch->hf_arch);
		}
next:
		if (rc != 0)
			goto done;
	}
	rc = check_layers(m, e);
done:
	free(v);
	return rc;
}

/* ---- metadata ---- */

/* llama.cpp's LlamaFileType for our types. */
uint32_t
cv_file_type(const struct cv_model *m)
{
	if (is_gptoss(m) && (m->type == CONVERT_F32 ||
	    m->type == CONVERT_F16 || m->type == CONVERT_BF16))
		return 38;	/* MOSTLY_MXFP4_MOE */
	switch (m->type) {
	case CONVERT_F16:
		return 1;
	case CONVERT_BF16:
		return 32;
	case CONVERT_Q8_0:
		return 7;
	case CONVERT_Q4_0:
		return 2;
	case CONVERT_Q4_K_M:
		return 15;
	case CONVERT_Q5_K_M:
		return 17;
	case CONVERT_Q6_K:
		return 18;
	default:
		return 0;
	}
}

/* gguf-py's model_weight_count_rounded_notation(n, min_digits 2). */
static void
rounded_notation(uint64_t n, char *buf, size_t len)
{
	double x;
	const char *suf;
	char tmp[64];
	int digits, fix;

	if ((double)n > 1e12) {
		x = (double)n * 1e-12;
		suf = "T";
	} else if ((double)n > 1e9) {
		x = (double)n * 1e-9;
		suf = "B";
	} else if ((double)n > 1e6) {
		x = (double)n * 1e-6;
		suf = "M";
	} else {
		x = (double)n * 1e-3;
		suf = "K";
	}
	/* len(str(round(x)).lstrip('0')) */
	snprintf(tmp, sizeof tmp, "%.0f", nearbyint(x));
	digits = (int)strlen(tmp);
	if (strcmp(tmp, "0") == 0)
		digits = 0;
	fix = 2 - digits > 0 ? 2 - digits : 0;
	snprintf(buf, len, "%.*f%s", fix, x, suf);
}

/* general.size_label from the plan, as gguf-py counts parameters. */
static void
size_label(const struct cv_model *m, char *buf, size_t len)
{
	uint64_t total = 0, shared = 0, expert = 0, sum = 0, n_exp_t = 0;
	uint64_t size, cnt;
	size_t i;
	int d;

	for (i = 0; i < m->n_t; i++) {
		const struct cv_tensor *t = &m->t[i];

		size = 1;
		for (d = 0; d < t->n_dims; d++)
			size *= t->ne[d];
		if (strstr(t->name, "_exps.") != NULL) {
			cnt = strstr(t->name, ".bias") != NULL ?
			    t->ne[t->n_dims >= 2 ? 1 : 0] :
			    t->ne[t->n_dims >= 3 ? 2 : 0];
			if (cnt == 0)
				cnt = 1;
			expert += size / cnt;
			sum += cnt;
			n_exp_t++;
		} else
			shared += size;
		total += size;
	}
	if (n_exp_t > 0) {
		char p[32];

		rounded_notation(shared + expert, p, sizeof p);
		snprintf(buf, len, "%llux%s",
		    (unsigned long long)(sum / n_exp_t), p);
	} else
		rounded_notation(total, buf, len);
}

/* gguf-py's Metadata.id_to_title() of the folder name. */
static void
folder_title(const char *dir, char *buf, size_t len)
{
	const char *b, *end;
	char word[256];
	size_t o = 0, n, j;
	int lower, versionish;

	end = dir + strlen(dir);
	while (end > dir && end[-1] == '/')
		end--;
	b = end;
	while (b > dir && b[-1] != '/')
		b--;
	buf[0] = '\0';
	while (b < end) {
		while (b < end && (*b == '-' || *b == ' '))
			b++;
		n = 0;
		while (b < end && *b != '-' && *b != ' ' && n + 1 < sizeof word)
			word[n++] = *b++;
		word[n] = '\0';
		if (n == 0)
			break;
		lower = 0;
		for (j = 0; j < n; j++) {
			if (word[j] >= 'A' && word[j] <= 'Z') {
				lower = 0;
				break;
			}
			if (word[j] >= 'a' && word[j] <= 'z')
				lower = 1;
		}
		versionish = (word[0] >= '0' && word[0] <= '9') ||
		    (word[0] == 'v' && word[1] >= '0' && word[1] <= '9');
		if (lower && !versionish) {
			int start = 1;

			for (j = 0; j < n; j++) {
				char c = word[j];
				int alpha = (c >= 'a' && c <= 'z') ||
				    (c >= 'A' && c <= 'Z');

				if (alpha && start && c >= 'a' && c <= 'z')
					word[j] = (char)(c - 'a' + 'A');
				start = !alpha;
			}
		}
		if (o > 0 && o + 1 < len)
			buf[o++] = ' ';
		for (j = 0; j < n && o + 1 < len; j++)
			buf[o++] = word[j];
		buf[o] = '\0';
	}
}

#define K(suffix) (snprintf(key, sizeof key, "%s." suffix, arch), key)

static int
cfg_int(const struct cv_model *m, const char *const *keys, int64_t *out)
{
	for (; *keys != NULL; keys++)
		if (hf_config_get_int(m->cfg, *keys, out, NULL) == 0)
			return 1;
	return 0;
}

static int
cfg_float(const struct cv_model *m, const char *const *keys, double *out)
{
	for (; *keys != NULL; keys++)
		if (hf_config_get_float(m->cfg, *keys, out, NULL) == 0)
			return 1;
	return 0;
}

static int
put_u32(struct gguf_writer *w, const char *key, int64_t v, struct err *e)
{
	if (v < 0 || v > UINT32_MAX)
		return err_set(e, ERR_RANGE, "%s = %lld: out of range", key,
		    (long long)v);
	return gguf_writer_set_u32(w, key, (uint32_t)v, e);
}

/* The integer cfg_key of the config, if there, as "<arch>.<suffix>". */
static int
copy_u32(struct cv_model *m, struct gguf_writer *w, const char *cfg_key,
    const char *suffix, struct err *e)
{
	char key[128];
	int64_t n;

	if (hf_config_get_int(m->cfg, cfg_key, &n, NULL) != 0)
		return 0;
	snprintf(key, sizeof key, "%s.%s", m->arch->gguf_arch, suffix);
	return put_u32(w, key, n, e);
}

/* The number cfg_key of the config, if there, times scale, as the F32
 * "<arch>.<suffix>". */
static int
copy_f32(struct cv_model *m, struct gguf_writer *w, const char *cfg_key,
    const char *suffix, double scale, struct err *e)
{
	char key[128];
	double f;

	if (hf_config_get_float(m->cfg, cfg_key, &f, NULL) != 0)
		return 0;
	snprintf(key, sizeof key, "%s.%s", m->arch->gguf_arch, suffix);
	return gguf_writer_set_f32(w, key, (float)(scale * f), e);
}

/* rope_scaling.{rope_type,type} and friends, as the base class writes. */
static int
meta_rope_scaling(struct cv_model *m, struct gguf_writer *w,
    const char *arch, struct err *e)
{
	const char *type = NULL;
	char key[128];
	double f;
	int rc;

	if (hf_config_get_str(m->cfg, "rope_scaling.rope_type", &type,
	    NULL) != 0 && hf_config_get_str(m->cfg, "rope_scaling.type",
	    &type, NULL) != 0)
		return 0;
	if (strcmp(type, "yarn") == 0) {
		if ((rc = gguf_writer_set_str(w, K("rope.scaling.type"),
		    "yarn", e)) != 0 || (rc = copy_f32(m, w,
		    "rope_scaling.factor", "rope.scaling.factor", 1, e)) != 0 ||
		    (rc = copy_u32(m, w,
		    "rope_scaling.original_max_position_embeddings",
		    "rope.scaling.original_context_length", e)) != 0 ||
		    (rc = copy_f32(m, w, "rope_scaling.extrapolation_factor",
		    "rope.scaling.yarn_ext_factor", 1, e)) != 0)
			return rc;
		if ((hf_config_get_float(m->cfg,
		    "rope_scaling.attention_factor", &f, NULL) == 0 ||
		    hf_config_get_float(m->cfg, "rope_scaling.attn_factor",
		    &f, NULL) == 0) && (rc = gguf_writer_set_f32(w,
		    K("rope.scaling.yarn_attn_factor"), (float)f, e)) != 0)
			return rc;
		if ((rc = copy_f32(m, w, "rope_scaling.beta_fast",
		    "rope.scaling.yarn_beta_fast", 1, e)) != 0 ||
		    (rc = copy_f32(m, w, "rope_scaling.beta_slow",
		    "rope.scaling.yarn_beta_slow", 1, e)) != 0)
			return rc;
	} else if (strcmp(type, "linear") == 0) {
		if ((rc = gguf_writer_set_str(w, K("rope.scaling.type"),
		    "linear", e)) != 0 || (rc = copy_f32(m, w,
		    "rope_scaling.factor", "rope.scaling.factor", 1, e)) != 0)
			return rc;
	}
	return 0;
}

int
cv_arch_meta(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	static const char *const k_ctx[] = { "max_position_embeddings",
	    "n_ctx", "n_positions", "max_length", "max_sequence_length",
	    "model_max_length", NULL };
	static const char *const k_embd[] = { "hidden_size", "n_embd", "dim",
	    NULL };
	static const char *const k_ff[] = { "intermediate_size", "n_inner",
	    "hidden_dim", NULL };
	static const char *const k_head[] = { "num_attention_heads",
	    "n_head", "n_heads", NULL };
	static const char *const k_kv[] = { "num_key_value_heads",
	    "n_kv_heads", NULL };
	static const char *const k_rms[] = { "rms_norm_eps", "norm_eps",
	    NULL };
	static const char *const k_ln[] = { "layer_norm_eps",
	    "layer_norm_epsilon", "norm_epsilon", NULL };
	static const char *const k_exp[] = { "num_local_experts",
	    "num_experts", "n_routed_experts", NULL };
	static const char *const k_used[] = { "num_experts_per_tok",
	    "num_experts_per_token", "top_k_experts", NULL };
	const char *arch = m->arch->gguf_arch, *s;
	char key[128], buf[256];
	int64_t n;
	double f;
	int rc;

	if ((rc = gguf_writer_set_str(w, "general.architecture", arch,
	    e)) != 0 || (rc = gguf_writer_set_str(w, "general.type", "model",
	    e)) != 0)
		return rc;
	folder_title(m->dir, buf, sizeof buf);
	if (buf[0] != '\0' && (rc = gguf_writer_set_str(w, "general.name",
	    buf, e)) != 0)
		return rc;
	size_label(m, buf, sizeof buf);
	if ((rc = gguf_writer_set_str(w, "general.size_label", buf, e)) != 0)
		return rc;
	if ((rc = put_u32(w, K("block_count"), m->n_layer, e)) != 0)
		return rc;
	if (cfg_int(m, k_ctx, &n) && (rc = put_u32(w, K("context_length"), n,
	    e)) != 0)
		return rc;
	if (cfg_int(m, k_embd, &n) && (rc = put_u32(w,
	    K("embedding_length"), n, e)) != 0)
		return rc;
	if (cfg_int(m, k_ff, &n) && (rc = put_u32(w,
	    K("feed_forward_length"), n, e)) != 0)
		return rc;
	if (cfg_int(m, k_head, &n) && (rc = put_u32(w,
	    K("attention.head_count"), n, e)) != 0)
		return rc;
	if (is_deepseek2(m)) {
		/* MLA is written as MQA */
		if ((rc = put_u32(w, K("attention.head_count_kv"), 1, e)) != 0)
			return rc;
	} else if (cfg_int(m, k_kv, &n) && (rc = put_u32(w,
	    K("attention.head_count_kv"), n, e)) != 0)
		return rc;
	if ((rc = meta_rope_scaling(m, w, arch, e)) != 0)
		return rc;
	if ((rc = copy_f32(m, w, "rope_theta", "rope.freq_base", 1, e)) != 0)
		return rc;
	if (cfg_float(m, k_rms, &f) && (rc = gguf_writer_set_f32(w,
	    K("attention.layer_norm_rms_epsilon"), (float)f, e)) != 0)
		return rc;
	if (cfg_float(m, k_ln, &f) && (rc = gguf_writer_set_f32(w,
	    K("attention.layer_norm_epsilon"), (float)f, e)) != 0)
		return rc;
	if (cfg_int(m, k_exp, &n) && (rc = put_u32(w, K("expert_count"), n,
	    e)) != 0)
		return rc;
	if (cfg_int(m, k_used, &n) && (rc = put_u32(w,
	    K("expert_used_count"), n, e)) != 0)
		return rc;
	if ((rc = copy_u32(m, w, "n_group", "expert_group_count", e)) != 0 ||
	    (rc = copy_u32(m, w, "topk_group", "expert_group_used_count",
	    e)) != 0)
		return rc;
	if (hf_config_get_str(m->cfg, "scoring_func", &s, NULL) == 0 ||
	    hf_config_get_str(m->cfg, "score_function", &s, NULL) == 0) {
		if (strcmp(s, "softmax") == 0)
			n = 1;
		else if (strcmp(s, "sigmoid") == 0)
			n = 2;
		else
			return err_set(e, ERR_UNSUPPORTED, "%s: scoring_func "
			    "'%s' is not supported", hf_config_path(m->cfg), s);
		if ((rc = put_u32(w, K("expert_gating_func"), n, e)) != 0)
			return rc;
	}
	if (hf_config_get_int(m->cfg, "head_dim", &n, NULL) == 0 &&
	    ((rc = put_u32(w, K("attention.key_length"), n, e)) != 0 ||
	    (rc = put_u32(w, K("attention.value_length"), n, e)) != 0))
		return rc;
	if ((rc = gguf_writer_set_u32(w, "general.file_type", cv_file_type(m),
	    e)) != 0)
		return rc;
	if ((rc = m->arch->meta_tail(m, w, e)) != 0)
		return rc;
	return gguf_writer_set_u32(w, "general.quantization_version", 2, e);
}

static int
tail_none(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	return 0;
}

static int
tail_llama(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	const char *arch = m->arch->gguf_arch;
	char key[128];
	int64_t n;
	int rc;

	if ((rc = copy_u32(m, w, "vocab_size", "vocab_size", e)) != 0)
		return rc;
	if (hf_config_get_int(m->cfg, "head_dim", &n, NULL) != 0)
		n = m->hp.hidden_size / m->hp.n_heads;
	return put_u32(w, K("rope.dimension_count"), n, e);
}

static int
tail_qwen2moe(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	int rc;

	if ((rc = copy_u32(m, w, "moe_intermediate_size",
	    "expert_feed_forward_length", e)) != 0)
		return rc;
	return copy_u32(m, w, "shared_expert_intermediate_size",
	    "expert_shared_feed_forward_length", e);
}

static int
tail_qwen3moe(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	return copy_u32(m, w, "moe_intermediate_size",
	    "expert_feed_forward_length", e);
}

static int
tail_deepseek2(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	const char *arch = m->arch->gguf_arch;
	char key[128];
	int64_t kvl, rope, nope, vdim;
	int b, rc;

	if ((rc = copy_u32(m, w, "first_k_dense_replace",
	    "leading_dense_block_count", e)) != 0 || (rc = copy_u32(m, w,
	    "vocab_size", "vocab_size", e)) != 0 || (rc = copy_u32(m, w,
	    "q_lora_rank", "attention.q_lora_rank", e)) != 0)
		return rc;
	if ((rc = hf_config_get_int(m->cfg, "kv_lora_rank", &kvl, e)) != 0 ||
	    (rc = hf_config_get_int(m->cfg, "qk_rope_head_dim", &rope,
	    e)) != 0 || (rc = hf_config_get_int(m->cfg, "qk_nope_head_dim",
	    &nope, e)) != 0 || (rc = hf_config_get_int(m->cfg, "v_head_dim",
	    &vdim, e)) != 0)
		return rc;
	if ((rc = put_u32(w, K("attention.kv_lora_rank"), kvl, e)) != 0 ||
	    (rc = put_u32(w, K("attention.key_length"), kvl + rope, e)) != 0
	    || (rc = put_u32(w, K("attention.value_length"), kvl, e)) != 0 ||
	    (rc = put_u32(w, K("attention.key_length_mla"), nope + rope,
	    e)) != 0 || (rc = put_u32(w, K("attention.value_length_mla"),
	    vdim, e)) != 0)
		return rc;
	if ((rc = copy_u32(m, w, "moe_intermediate_size",
	    "expert_feed_forward_length", e)) != 0 || (rc = copy_u32(m, w,
	    "n_shared_experts", "expert_shared_count", e)) != 0 ||
	    (rc = copy_f32(m, w, "routed_scaling_factor",
	    "expert_weights_scale", 1, e)) != 0)
		return rc;
	if (hf_config_get_bool(m->cfg, "norm_topk_prob", &b, NULL) == 0 &&
	    b && (rc = gguf_writer_set_bool(w, K("expert_weights_norm"), 1,
	    e)) != 0)
		return rc;
	if ((rc = put_u32(w, K("rope.dimension_count"), rope, e)) != 0)
		return rc;
	return copy_f32(m, w, "rope_scaling.mscale_all_dim",
	    "rope.scaling.yarn_log_multiplier", 0.1, e);
}

static int
tail_gptoss(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	int rc;

	if ((rc = copy_u32(m, w, "sliding_window", "attention.sliding_window",
	    e)) != 0)
		return rc;
	return copy_u32(m, w, "intermediate_size",
	    "expert_feed_forward_length", e);
}
