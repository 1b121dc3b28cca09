/*
 * formats-hfconfig.c - Hugging Face config.json access.
 *
 * The file is parsed once with jansson (duplicate keys rejected) and
 * kept as a tree; getters walk dotted keys ("rope_scaling.factor"), and
 * a key missing at the top level is looked up again under "text_config",
 * where multimodal checkpoints keep their language model's settings.
 * hf_config_hparams() gathers the hyper-parameters an MoE loader or
 * converter needs, trying each one's aliases across model families
 * (num_local_experts / num_experts / n_routed_experts, ...).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "formats/formats.h"

struct hf_config {
	char	*path;
	json_t	*root;
};

#define HF_MAX_CONFIG (64u << 20)

int
hf_config_open_mem(struct hf_config **out, const char *buf, size_t len,
    const char *name, struct err *e)
{
	struct hf_config *c;
	json_error_t jerr;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->path = strdup(name)) == NULL) {
		free(c);
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	}
	c->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (c->root == NULL) {
		err_set(e, ERR_FORMAT, "%s: JSON at line %d column %d: %s",
		    name, jerr.line, jerr.column, jerr.text);
		hf_config_close(c);
		return ERR_FORMAT;
	}
	if (!json_is_object(c->root)) {
		err_set(e, ERR_FORMAT, "%s: not a JSON object", name);
		hf_config_close(c);
		return ERR_FORMAT;
	}
	*out = c;
	return 0;
}

int
hf_config_open(struct hf_config **out, const char *path, struct err *e)
{
	struct stat sb;
	char *p = NULL, *text;
	size_t len, n;
	int rc;

	*out = NULL;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		n = strlen(path) + 16;
		if ((p = malloc(n)) == NULL)
			return err_set(e, ERR_NOMEM, "%s: out of memory", path);
		snprintf(p, n, "%s/config.json", path);
		path = p;
	}
	if (stat(path, &sb) == 0 && (uint64_t)sb.st_size > HF_MAX_CONFIG) {
		rc = err_set(e, ERR_FORMAT, "%s: %llu bytes is too large for "
		    "a config", path, (unsigned long long)sb.st_size);
		free(p);
		return rc;
	}
	if ((rc = util_read_file(path, &text, &len, e)) == 0) {
		rc = hf_config_open_mem(out, text, len, path, e);
		free(text);
	}
	free(p);
	return rc;
}

void
hf_config_close(struct hf_config *c)
{
	if (c == NULL)
		return;
	json_decref(c->root);
	free(c->path);
	free(c);
}

const char *
hf_config_path(const struct hf_config *c)
{
	return c->path;
}

/* Walk a dotted key from obj; NULL when any part is missing. */
static json_t *
walk(json_t *obj, const char *key)
{
	char part[256];
	const char *dot;
	size_t n;

	while (obj != NULL && (dot = strchr(key, '.')) != NULL) {
		n = (size_t)(dot - key);
		if (n >= sizeof part)
			return NULL;
		memcpy(part, key, n);
		part[n] = '\0';
		obj = json_object_get(obj, part);
		key = dot + 1;
	}
	return obj == NULL ? NULL : json_object_get(obj, key);
}

static json_t *
lookup(const struct hf_config *c, const char *key)
{
	json_t *v = walk(c->root, key);

	if (v == NULL || json_is_null(v))
		v = walk(json_object_get(c->root, "text_config"), key);
	return json_is_null(v) ? NULL : v;
}

int
hf_config_has(const struct hf_config *c, const char *key)
{
	return lookup(c, key) != NULL;
}

static int
missing(const struct hf_config *c, const char *key, struct err *e)
{
	return err_set(e, ERR_NOTFOUND, "%s: key '%s' is missing", c->path,
	    key);
}

static int
wrong(const struct hf_config *c, const char *key, const char *want,
    struct err *e)
{
	return err_set(e, ERR_FORMAT, "%s: key '%s' is not %s", c->path, key,
	    want);
}

int
hf_config_get_int(const struct hf_config *c, const char *key, int64_t *out,
    struct err *e)
{
	json_t *v = lookup(c, key);
	double d;

	if (v == NULL)
		return missing(c, key, e);
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	/* 4096.0 is an integer too (some configs write them so) */
	d = json_is_real(v) ? json_real_value(v) : 0.5;
	if (d == floor(d) && fabs(d) < 9.0e18) {
		*out = (int64_t)d;
		return 0;
	}
	return wrong(c, key, "an integer", e);
}

int
hf_config_get_float(const struct hf_config *c, const char *key, double *out,
    struct err *e)
{
	json_t *v = lookup(c, key);

	if (v == NULL)
		return missing(c, key, e);
	if (!json_is_number(v))
		return wrong(c, key, "a number", e);
	*out = json_number_value(v);
	return 0;
}

int
hf_config_get_bool(const struct hf_config *c, const char *key, int *out,
    struct err *e)
{
	json_t *v = lookup(c, key);

	if (v == NULL)
		return missing(c, key, e);
	if (!json_is_boolean(v))
		return wrong(c, key, "true or false", e);
	*out = json_is_true(v);
	return 0;
}

int
hf_config_get_str(const struct hf_config *c, const char *key,
    const char **out, struct err *e)
{
	json_t *v = lookup(c, key);

	if (v == NULL)
		return missing(c, key, e);
	if (json_is_array(v) && json_array_size(v) > 0)
		v = json_array_get(v, 0);
	if (!json_is_string(v))
		return wrong(c, key, "a string", e);
	*out = json_string_value(v);
	return 0;
}

/* The first alias present as an integer; -1 when none is. A present key
 * of the wrong type is an error. */
static int
first_int(const struct hf_config *c, const char *const *keys, int64_t *out,
    struct err *e)
{
	int rc;

	*out = -1;
	for (; *keys != NULL; keys++) {
		rc = hf_config_get_int(c, *keys, out, e);
		if (rc != ERR_NOTFOUND)
			return rc;
		*out = -1;
	}
	return 0;
}

static int
first_float(const struct hf_config *c, const char *const *keys, double *out,
    struct err *e)
{
	int rc;

	*out = NAN;
	for (; *keys != NULL; keys++) {
		rc = hf_config_get_float(c, *keys, out, e);
		if (rc != ERR_NOTFOUND)
			return rc;
		*out = NAN;
	}
	return 0;
}

static void
copy_str(const struct hf_config *c, const char *key, char *dst, size_t n)
{
	const char *s;

	dst[0] = '\0';
	if (hf_config_get_str(c, key, &s, NULL) == 0)
		snprintf(dst, n, "%s", s);
}

int
hf_config_hparams(const struct hf_config *c, struct hf_hparams *hp,
    struct err *e)
{
#define K(...) ((const char *const []){ __VA_ARGS__, NULL })
	int rc = 0;

	memset(hp, 0, sizeof *hp);
	copy_str(c, "model_type", hp->model_type, sizeof hp->model_type);
	copy_str(c, "architectures", hp->architecture,
	    sizeof hp->architecture);
	rc = first_int(c, K("hidden_size", "n_embd", "d_model"),
	    &hp->hidden_size, e);
	if (rc == 0)
		rc = first_int(c, K("num_hidden_layers", "n_layer",
		    "num_layers", "n_layers"), &hp->n_layers, e);
	if (rc == 0)
		rc = first_int(c, K("num_attention_heads", "n_head",
		    "num_heads"), &hp->n_heads, e);
	if (rc == 0)
		rc = first_int(c, K("num_key_value_heads", "n_head_kv",
		    "num_kv_heads"), &hp->n_kv_heads, e);
	if (rc == 0)
		rc = first_int(c, K("head_dim", "attention_head_dim"),
		    &hp->head_dim, e);
	if (rc == 0)
		rc = first_int(c, K("intermediate_size", "ffn_hidden_size",
		    "n_inner"), &hp->ff, e);
	if (rc == 0)
		rc = first_int(c, K("num_local_experts", "num_experts",
		    "n_routed_experts", "moe_num_experts"), &hp->n_experts, e);
	if (rc == 0)
		rc = first_int(c, K("num_experts_per_tok", "experts_per_token",
		    "num_experts_per_token", "moe_top_k", "top_k"),
		    &hp->n_experts_used, e);
	if (rc == 0)
		rc = first_int(c, K("moe_intermediate_size",
		    "expert_intermediate_size"), &hp->expert_ff, e);
	if (rc == 0)
		rc = first_int(c, K("n_shared_experts", "num_shared_experts"),
		    &hp->n_shared_experts, e);
	if (rc == 0)
		rc = first_int(c, K("shared_expert_intermediate_size",
		    "shared_intermediate_size"), &hp->shared_expert_ff, e);
	if (rc == 0)
		rc = first_int(c, K("first_k_dense_replace"),
		    &hp->first_dense_layers, e);
	if (rc == 0)
		rc = first_int(c, K("vocab_size", "padded_vocab_size"),
		    &hp->vocab_size, e);
	if (rc == 0)
		rc = first_int(c, K("max_position_embeddings", "n_positions",
		    "max_sequence_length", "seq_length"), &hp->max_position, e);
	if (rc == 0)
		rc = first_int(c, K("sliding_window"), &hp->sliding_window, e);
	if (rc == 0)
		rc = first_int(c, K("q_lora_rank"), &hp->q_lora_rank, e);
	if (rc == 0)
		rc = first_int(c, K("kv_lora_rank"), &hp->kv_lora_rank, e);
	if (rc == 0)
		rc = first_float(c, K("rope_theta", "rotary_emb_base"),
		    &hp->rope_theta, e);
	if (rc == 0)
		rc = first_float(c, K("rms_norm_eps", "layer_norm_eps",
		    "layer_norm_epsilon"), &hp->rms_norm_eps, e);
	if (rc == 0)
		rc = first_float(c, K("rope_scaling.factor"),
		    &hp->rope_factor, e);
	if (rc != 0)
		return rc;
	copy_str(c, "rope_scaling.rope_type", hp->rope_scaling,
	    sizeof hp->rope_scaling);
	if (hp->rope_scaling[0] == '\0')
		copy_str(c, "rope_scaling.type", hp->rope_scaling,
		    sizeof hp->rope_scaling);
	if (hf_config_get_bool(c, "tie_word_embeddings", &hp->tie_embeddings,
	    NULL) != 0)
		hp->tie_embeddings = -1;
	/* derived defaults */
	if (hp->n_kv_heads < 0)
		hp->n_kv_heads = hp->n_heads;
	if (hp->head_dim < 0 && hp->hidden_size > 0 && hp->n_heads > 0)
		hp->head_dim = hp->hidden_size / hp->n_heads;
	if (hp->expert_ff < 0 && hp->n_experts > 0)
		hp->expert_ff = hp->ff;
	if (hp->shared_expert_ff < 0 && hp->n_shared_experts > 0 &&
	    hp->expert_ff > 0)
		hp->shared_expert_ff = hp->n_shared_experts * hp->expert_ff;
	return 0;
#undef K
}
