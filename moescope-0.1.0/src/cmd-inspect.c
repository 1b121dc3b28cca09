/*
 * cmd-inspect.c - `moescope inspect MODEL [--json]`: what a model file
 * holds, without loading it.
 *
 * A GGUF (by its magic) gives its architecture, the hyper-parameters
 * under its "<arch>." keys, a tokenizer summary, every tensor (type,
 * shape in GGUF order ne0,ne1,..., bytes) and totals: parameters, expert
 * parameters (tensors named *_exps*), and the bytes one decoded token
 * reads: every weight once, except that the token embedding is one row
 * (unless it doubles as the output matrix) and an expert tensor counts
 * experts_used / experts of its bytes. A .safetensors file, an index
 * .json or a Hugging Face folder gives its tensors (dtype, shape in HF
 * order) and config.json's key hyper-parameters.
 *
 * Everything is first gathered into one JSON object (jansson); --json
 * prints it, the default prints the same content as text. Exit: 0, 1 on
 * a bad model file (message naming the file), 2 on bad usage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cmd.h"
#include "formats/formats.h"
#include "quant/quant-common.h"
#include "util/util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: moescope inspect MODEL [--json]\n"
	    "\n"
	    "Show a model's architecture, hyper-parameters, tokenizer,\n"
	    "tensors and sizes: parameters, expert parameters, and the bytes\n"
	    "one decoded token reads. MODEL is a .gguf file, a .safetensors\n"
	    "file, a Hugging Face folder (config.json + safetensors shards)\n"
	    "or a name in the local store ($MOESCOPE_HOME/models).\n"
	    "\n"
	    "  --json     print one JSON object instead of text\n"
	    "  -h, --help this help\n");
}

/* Set key to an integer, or nothing when v < 0. */
static void
set_int(json_t *o, const char *key, int64_t v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_integer(v));
}

static void
set_real(json_t *o, const char *key, double v)
{
	if (!isnan(v))
		json_object_set_new(o, key, json_real(v));
}

static void
set_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		json_object_set_new(o, key, json_string(s));
}

/* A string value as a JSON string (lossy-safe: invalid UTF-8 bytes
 * become '?'). */
static json_t *
json_strn_safe(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	json_t *j;
	size_t i;

	if (c == NULL)
		return json_null();
	memcpy(c, s, n);
	c[n] = '\0';
	if (!util_utf8_valid(c, n) || memchr(c, '\0', n) != NULL)
		for (i = 0; i < n; i++)
			if ((unsigned char)c[i] >= 0x80 || c[i] == '\0')
				c[i] = '?';
	j = json_stringn(c, n);
	free(c);
	return j != NULL ? j : json_null();
}

/* ---- GGUF ---- */

/* A numeric key, or a per-layer array's maximum; NAN when absent. */
static double
g_num(const struct gguf *g, const char *arch, const char *suffix)
{
	const struct gguf_value *v;
	char key[256];
	double m = NAN, x;
	uint64_t i;

	if (arch != NULL)
		snprintf(key, sizeof key, "%s.%s", arch, suffix);
	else
		snprintf(key, sizeof key, "%s", suffix);
	if ((v = gguf_get(g, key)) == NULL)
		return NAN;
	switch (v->type) {
	case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64:
		return v->num.f;
	case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32:
	case GGUF_TYPE_INT64:
		return (double)v->num.i;
	case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32:
	case GGUF_TYPE_UINT64: case GGUF_TYPE_BOOL:
		return (double)v->num.u;
	case GGUF_TYPE_ARRAY:
		if (gguf_type_size(v->elem_type) == 0)
			return NAN;
		for (i = 0; i < v->n; i++) {
			x = gguf_arr_f64(v, i);
			if (isnan(m) || x > m)
				m = x;
		}
		return m;
	}
	return NAN;
}

static int64_t
g_int(const struct gguf *g, const char *arch, const char *suffix)
{
	double d = g_num(g, arch, suffix);

	return isnan(d) || d < 0 || d > 9e18 ? -1 : (int64_t)d;
}

static json_t *
g_str(const struct gguf *g, const char *key)
{
	const struct gguf_value *v = gguf_get(g, key);

	if (v == NULL || v->type != GGUF_TYPE_STRING)
		return NULL;
	return json_strn_safe(v->str.s, (size_t)v->str.len);
}

static const char *
ftype_name(int64_t t)
{
	static const char *names[] = {
		[0] = "ALL_F32", [1] = "MOSTLY_F16", [2] = "MOSTLY_Q4_0",
		[3] = "MOSTLY_Q4_1", [7] = "MOSTLY_Q8_0", [8] = "MOSTLY_Q5_0",
		[9] = "MOSTLY_Q5_1", [10] = "MOSTLY_Q2_K",
		[11] = "MOSTLY_Q3_K_S", [12] = "MOSTLY_Q3_K_M",
		[13] = "MOSTLY_Q3_K_L", [14] = "MOSTLY_Q4_K_S",
		[15] = "MOSTLY_Q4_K_M", [16] = "MOSTLY_Q5_K_S",
		[17] = "MOSTLY_Q5_K_M", [18] = "MOSTLY_Q6_K",
		[19] = "MOSTLY_IQ2_XXS", [20] = "MOSTLY_IQ2_XS",
		[21] = "MOSTLY_Q2_K_S", [22] = "MOSTLY_IQ3_XS",
		[23] = "MOSTLY_IQ3_XXS", [24] = "MOSTLY_IQ1_S",
		[25] = "MOSTLY_IQ4_NL", [26] = "MOSTLY_IQ3_S",
		[27] = "MOSTLY_IQ3_M", [28] = "MOSTLY_IQ2_S",
		[29] = "MOSTLY_IQ2_M", [30] = "MOSTLY_IQ4_XS",
		[31] = "MOSTLY_IQ1_M", [32] = "MOSTLY_BF16",
		[36] = "MOSTLY_TQ1_0", [37] = "MOSTLY_TQ2_0",
		[38] = "MOSTLY_MXFP4_MOE",
	};

	if (t < 0 || t >= (int64_t)(sizeof names / sizeof names[0]) ||
	    names[t] == NULL)
		return NULL;
	return names[t];
}

static json_t *
gguf_hparams(const struct gguf *g, const char *arch, int64_t *n_exp,
    int64_t *n_used)
{
	json_t *h = json_object();
	int64_t d = g_int(g, arch, "embedding_length");
	int64_t heads = g_int(g, arch, "attention.head_count");
	int64_t hd = g_int(g, arch, "attention.key_length");
	int64_t eff = g_int(g, arch, "expert_feed_forward_length");
	int64_t nsh = g_int(g, arch, "expert_shared_count"), sff;
	const struct gguf_value *v;
	char key[256];

	set_int(h, "layers", g_int(g, arch, "block_count"));
	set_int(h, "d_model", d);
	set_int(h, "heads", heads);
	set_int(h, "kv_heads", g_int(g, arch, "attention.head_count_kv"));
	if (hd < 0 && d > 0 && heads > 0)
		hd = d / heads;
	set_int(h, "head_dim", hd);
	set_int(h, "value_head_dim", g_int(g, arch, "attention.value_length"));
	set_int(h, "ff", g_int(g, arch, "feed_forward_length"));
	*n_exp = g_int(g, arch, "expert_count");
	*n_used = g_int(g, arch, "expert_used_count");
	set_int(h, "experts", *n_exp);
	set_int(h, "experts_used", *n_used);
	set_int(h, "expert_ff", eff);
	set_int(h, "shared_experts", nsh);
	sff = g_int(g, arch, "expert_shared_feed_forward_length");
	if (sff < 0 && nsh > 0 && eff > 0)
		sff = nsh * eff;	/* deepseek2: n shared of expert ff */
	set_int(h, "shared_expert_ff", sff);
	set_int(h, "leading_dense_layers",
	    g_int(g, arch, "leading_dense_block_count"));
	set_int(h, "q_lora_rank", g_int(g, arch, "attention.q_lora_rank"));
	set_int(h, "kv_lora_rank", g_int(g, arch, "attention.kv_lora_rank"));
	set_int(h, "sliding_window", g_int(g, arch,
	    "attention.sliding_window"));
	set_int(h, "context", g_int(g, arch, "context_length"));
	set_int(h, "vocab_size", g_int(g, arch, "vocab_size"));
	set_real(h, "rope_base", g_num(g, arch, "rope.freq_base"));
	set_int(h, "rope_dims", g_int(g, arch, "rope.dimension_count"));
	snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
	if ((v = gguf_get(g, key)) != NULL && v->type == GGUF_TYPE_STRING)
		json_object_set_new(h, "rope_scaling",
		    json_strn_safe(v->str.s, (size_t)v->str.len));
	set_real(h, "rope_scaling_factor", g_num(g, arch,
	    "rope.scaling.factor"));
	set_int(h, "rope_original_context", g_int(g, arch,
	    "rope.scaling.original_context_length"));
	set_real(h, "rms_norm_eps", g_num(g, arch,
	    "attention.layer_norm_rms_epsilon"));
	return h;
}

static json_t *
gguf_tokenizer(const struct gguf *g)
{
	static const struct { const char *json, *key; } ids[] = {
		{ "bos_id", "tokenizer.ggml.bos_token_id" },
		{ "eos_id", "tokenizer.ggml.eos_token_id" },
		{ "pad_id", "tokenizer.ggml.padding_token_id" },
		{ "unk_id", "tokenizer.ggml.unknown_token_id" },
		{ "eot_id", "tokenizer.ggml.eot_token_id" },
	};
	const struct gguf_value *v;
	json_t *t = json_object(), *s;
	size_t i;

	if ((s = g_str(g, "tokenizer.ggml.model")) != NULL)
		json_object_set_new(t, "model", s);
	if ((s = g_str(g, "tokenizer.ggml.pre")) != NULL)
		json_object_set_new(t, "pre", s);
	v = gguf_get(g, "tokenizer.ggml.tokens");
	if (v != NULL && v->type == GGUF_TYPE_ARRAY)
		json_object_set_new(t, "vocab_size",
		    json_integer((json_int_t)v->n));
	v = gguf_get(g, "tokenizer.ggml.merges");
	if (v != NULL && v->type == GGUF_TYPE_ARRAY)
		set_int(t, "merges", (int64_t)v->n);
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++)
		set_int(t, ids[i].json, g_int(g, NULL, ids[i].key));
	v = gguf_get(g, "tokenizer.ggml.add_bos_token");
	if (v != NULL && v->type == GGUF_TYPE_BOOL)
		json_object_set_new(t, "add_bos", json_boolean(v->num.u));
	v = gguf_get(g, "tokenizer.ggml.add_eos_token");
	if (v != NULL && v->type == GGUF_TYPE_BOOL)
		json_object_set_new(t, "add_eos", json_boolean(v->num.u));
	v = gguf_get(g, "tokenizer.chat_template");
	json_object_set_new(t, "chat_template", json_boolean(v != NULL &&
	    v->type == GGUF_TYPE_STRING && v->str.len > 0));
	if (v != NULL && v->type == GGUF_TYPE_STRING)
		json_object_set_new(t, "chat_template_bytes",
		    json_integer((json_int_t)v->str.len));
	return t;
}

static json_t *
shape_json(const uint64_t *d, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)d[i]));
	return a;
}

static json_t *
inspect_gguf(const char *path, struct err *e)
{
	const struct gguf_tensor *t;
	struct gguf *g;
	json_t *o, *tl, *tot, *s;
	char *arch = NULL;
	uint64_t i, params = 0, eparams = 0, bytes = 0, dec = 0, n, rows;
	int64_t n_exp = -1, n_used = -1, ft;
	int tied;

	if (gguf_open(&g, path, e) != 0)
		return NULL;
	o = json_object();
	json_object_set_new(o, "path", json_strn_safe(path, strlen(path)));
	json_object_set_new(o, "format", json_string("gguf"));
	json_object_set_new(o, "version", json_integer(g->version));
	json_object_set_new(o, "n_kv", json_integer((json_int_t)g->n_kv));
	json_object_set_new(o, "n_tensors",
	    json_integer((json_int_t)g->n_tensors));
	json_object_set_new(o, "alignment", json_integer(g->alignment));
	json_object_set_new(o, "file_bytes",
	    json_integer((json_int_t)g->map.size));
	if (gguf_get_strdup(g, "general.architecture", &arch, NULL) == 0 &&
	    util_utf8_valid(arch, strlen(arch)))
		json_object_set_new(o, "architecture", json_string(arch));
	if ((s = g_str(g, "general.name")) != NULL)
		json_object_set_new(o, "name", s);
	if ((s = g_str(g, "general.size_label")) != NULL)
		json_object_set_new(o, "size_label", s);
	if ((ft = g_int(g, NULL, "general.file_type")) >= 0) {
		json_object_set_new(o, "file_type", json_integer(ft));
		set_str(o, "file_type_name", ftype_name(ft));
	}
	json_object_set_new(o, "hparams", gguf_hparams(g,
	    arch != NULL ? arch : "?", &n_exp, &n_used));
	json_object_set_new(o, "tokenizer", gguf_tokenizer(g));

	tied = gguf_find_tensor(g, "output.weight") == NULL;
	tl = json_array();
	for (i = 0; i < g->n_tensors; i++) {
		json_t *j = json_object();
		const struct quant_type_info *ti;

		t = &g->tensors[i];
		ti = quant_type_info(t->type);
		n = gguf_tensor_nelem(t);
		json_object_set_new(j, "name", json_string(t->name));
		json_object_set_new(j, "type", json_string(ti->name));
		json_object_set_new(j, "shape", shape_json(t->ne, t->n_dims));
		json_object_set_new(j, "bytes",
		    json_integer((json_int_t)t->nbytes));
		json_object_set_new(j, "offset",
		    json_integer((json_int_t)t->offset));
		json_array_append_new(tl, j);
		params += n;
		bytes += t->nbytes;
		if (strstr(t->name, "_exps") != NULL) {
			eparams += n;
			if (n_exp > 0 && n_used >= 0)
				dec += t->nbytes / (uint64_t)n_exp *
				    (uint64_t)n_used;
			else
				dec += t->nbytes;
		} else if (strncmp(t->name, "token_embd.", 11) == 0 && !tied) {
			rows = n / t->ne[0];
			dec += t->nbytes / rows;
		} else
			dec += t->nbytes;
	}
	json_object_set_new(o, "tensors", tl);
	tot = json_object();
	set_int(tot, "parameters", (int64_t)params);
	json_object_set_new(tot, "expert_parameters",
	    json_integer((json_int_t)eparams));
	set_int(tot, "tensor_bytes", (int64_t)bytes);
	json_object_set_new(tot, "decode_bytes_per_token",
	    json_integer((json_int_t)dec));
	json_object_set_new(o, "totals", tot);
	free(arch);
	gguf_close(g);
	return o;
}

/* ---- safetensors / Hugging Face folder ---- */

static json_t *
hf_hparams_json(const struct hf_hparams *hp)
{
	json_t *h = json_object();

	set_str(h, "model_type", hp->model_type);
	set_str(h, "architecture", hp->architecture);
	set_int(h, "layers", hp->n_layers);
	set_int(h, "d_model", hp->hidden_size);
	set_int(h, "heads", hp->n_heads);
	set_int(h, "kv_heads", hp->n_kv_heads);
	set_int(h, "head_dim", hp->head_dim);
	set_int(h, "ff", hp->ff);
	set_int(h, "experts", hp->n_experts);
	set_int(h, "experts_used", hp->n_experts_used);
	set_int(h, "expert_ff", hp->expert_ff);
	set_int(h, "shared_experts", hp->n_shared_experts);
	set_int(h, "shared_expert_ff", hp->shared_expert_ff);
	set_int(h, "leading_dense_layers", hp->first_dense_layers);
	set_int(h, "q_lora_rank", hp->q_lora_rank);
	set_int(h, "kv_lora_rank", hp->kv_lora_rank);
	set_int(h, "sliding_window", hp->sliding_window);
	set_int(h, "context", hp->max_position);
	set_int(h, "vocab_size", hp->vocab_size);
	set_real(h, "rope_base", hp->rope_theta);
	set_str(h, "rope_scaling", hp->rope_scaling);
	set_real(h, "rope_scaling_factor", hp->rope_factor);
	set_real(h, "rms_norm_eps", hp->rms_norm_eps);
	return h;
}

/* config.json beside path (path a file) or in it (a folder); NULL when
 * there is none. */
static char *
config_path(const char *path)
{
	struct stat sb;
	const char *slash;
	size_t n = strlen(path) + 16;
	char *p = malloc(n);

	if (p == NULL)
		return NULL;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		snprintf(p, n, "%s/config.json", path);
	else if ((slash = strrchr(path, '/')) != NULL)
		snprintf(p, n, "%.*s/config.json", (int)(slash - path), path);
	else
		snprintf(p, n, "config.json");
	if (stat(p, &sb) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static json_t *
inspect_safetensors(const char *path, struct err *e)
{
	struct safetensors *st;
	struct hf_config *c = NULL;
	struct hf_hparams hp;
	json_t *o, *tl, *tot, *files;
	char *cp;
	uint64_t i, params = 0, eparams = 0, bytes = 0, n;
	int f;

	if (safetensors_open(&st, path, e) != 0)
		return NULL;
	if ((cp = config_path(path)) != NULL) {
		if (hf_config_open(&c, cp, e) != 0 ||
		    hf_config_hparams(c, &hp, e) != 0) {
			hf_config_close(c);
			safetensors_close(st);
			free(cp);
			return NULL;
		}
	}
	o = json_object();
	json_object_set_new(o, "path", json_strn_safe(path, strlen(path)));
	json_object_set_new(o, "format", json_string("safetensors"));
	files = json_array();
	for (f = 0; f < st->n_files; f++)
		json_array_append_new(files,
		    json_strn_safe(st->files[f].path,
		    strlen(st->files[f].path)));
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "n_tensors",
	    json_integer((json_int_t)st->n_tensors));
	if (c != NULL) {
		json_object_set_new(o, "config",
		    json_strn_safe(cp, strlen(cp)));
		set_str(o, "architecture", hp.model_type);
		json_object_set_new(o, "hparams", hf_hparams_json(&hp));
	}
	tl = json_array();
	for (i = 0; i < st->n_tensors; i++) {
		const struct st_tensor *t = &st->tensors[i];
		json_t *j = json_object();

		n = safetensors_nelem(t);
		json_object_set_new(j, "name", json_string(t->name));
		json_object_set_new(j, "type",
		    json_string(safetensors_dtype_name(t->dtype)));
		json_object_set_new(j, "shape", shape_json(t->shape,
		    t->n_dims));
		json_object_set_new(j, "bytes",
		    json_integer((json_int_t)t->nbytes));
		json_object_set_new(j, "file", json_integer(t->file));
		json_array_append_new(tl, j);
		params += n;
		bytes += t->nbytes;
		if (strstr(t->name, ".experts.") != NULL)
			eparams += n;
	}
	json_object_set_new(o, "tensors", tl);
	tot = json_object();
	set_int(tot, "parameters", (int64_t)params);
	json_object_set_new(tot, "expert_parameters",
	    json_integer((json_int_t)eparams));
	set_int(tot, "tensor_bytes", (int64_t)bytes);
	json_object_set_new(o, "totals", tot);
	hf_config_close(c);
	free(cp);
	safetensors_close(st);
	return o;
}

/* ---- text output ---- */

static void
print_kv(const char *label, json_t *v)
{
	if (v == NULL)
		return;
	printf("  %-22s ", label);
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld\n", (long long)json_integer_value(v));
	else if (json_is_real(v))
		printf("%g\n", json_real_value(v));
	else if (json_is_boolean(v))
		printf("%s\n", json_is_true(v) ? "yes" : "no");
	else
		printf("?\n");
}

static void
print_section(json_t *o, const char *title, const char *const *keys)
{
	size_t i;

	if (!json_is_object(o) || json_object_size(o) == 0)
		return;
	printf("%s\n", title);
	for (i = 0; keys[i] != NULL; i += 2)
		print_kv(keys[i + 1], json_object_get(o, keys[i]));
}

static void
print_count(const char *label, json_t *v, int is_bytes)
{
	char b[32];
	uint64_t n;

	if (!json_is_integer(v))
		return;
	n = (uint64_t)json_integer_value(v);
	if (is_bytes)
		printf("  %-22s %llu (%s)\n", label, (unsigned long long)n,
		    util_fmt_bytes(n, b, sizeof b));
	else
		printf("  %-22s %llu (%.2fM)\n", label, (unsigned long long)n,
		    (double)n / 1e6);
}

static void
print_text(json_t *o)
{
	static const char *const hkeys[] = {
		"model_type", "model type", "architecture", "HF class",
		"layers", "layers", "d_model", "d_model", "heads", "heads",
		"kv_heads", "kv heads", "head_dim", "head dim",
		"value_head_dim", "value head dim", "ff", "ff (dense)",
		"experts", "experts", "experts_used", "experts used",
		"expert_ff", "expert ff", "shared_experts", "shared experts",
		"shared_expert_ff", "shared expert ff",
		"leading_dense_layers", "leading dense layers",
		"q_lora_rank", "q LoRA rank", "kv_lora_rank", "kv LoRA rank",
		"sliding_window", "sliding window", "context", "context",
		"vocab_size", "vocab size", "rope_base", "rope base",
		"rope_dims", "rope dims", "rope_scaling", "rope scaling",
		"rope_scaling_factor", "rope scaling factor",
		"rope_original_context", "rope original context",
		"rms_norm_eps", "rms norm eps", NULL
	};
	static const char *const tkeys[] = {
		"model", "model", "pre", "pre-tokenizer", "vocab_size",
		"vocab size", "merges", "merges", "bos_id", "bos id",
		"eos_id", "eos id", "eot_id", "eot id", "pad_id", "pad id",
		"unk_id", "unk id", "add_bos", "add bos", "add_eos", "add eos",
		"chat_template", "chat template",
		"chat_template_bytes", "chat template bytes", NULL
	};
	json_t *tl = json_object_get(o, "tensors"), *t, *tot, *sh, *x;
	const char *fmt = json_string_value(json_object_get(o, "format"));
	int gguf = fmt != NULL && strcmp(fmt, "gguf") == 0;
	size_t i, k, w = 4;
	char shape[128], b[32];

	printf("%s\n", json_string_value(json_object_get(o, "path")));
	if (gguf) {
		printf("  %-22s GGUF v%lld, %lld keys, %lld tensors, "
		    "alignment %lld\n", "format",
		    (long long)json_integer_value(json_object_get(o,
		    "version")),
		    (long long)json_integer_value(json_object_get(o, "n_kv")),
		    (long long)json_integer_value(json_object_get(o,
		    "n_tensors")),
		    (long long)json_integer_value(json_object_get(o,
		    "alignment")));
		print_kv("architecture", json_object_get(o, "architecture"));
		print_kv("name", json_object_get(o, "name"));
		print_kv("size label", json_object_get(o, "size_label"));
		print_kv("file type", json_object_get(o, "file_type_name"));
	} else {
		printf("  %-22s safetensors, %zu file(s), %lld tensors\n",
		    "format", json_array_size(json_object_get(o, "files")),
		    (long long)json_integer_value(json_object_get(o,
		    "n_tensors")));
		print_kv("config", json_object_get(o, "config"));
	}
	print_section(json_object_get(o, "hparams"), "hyper-parameters",
	    hkeys);
	print_section(json_object_get(o, "tokenizer"), "tokenizer", tkeys);
	json_array_foreach(tl, i, t) {
		k = strlen(json_string_value(json_object_get(t, "name")));
		if (k > w)
			w = k;
	}
	printf("tensors (shape %s)\n", gguf ? "ne0,ne1,... as in GGUF" :
	    "as in PyTorch, last fastest");
	printf("  %-*s %-8s %-22s %s\n", (int)w, "name", "type", "shape",
	    "bytes");
	json_array_foreach(tl, i, t) {
		char *p = shape;

		shape[0] = '\0';
		sh = json_object_get(t, "shape");
		json_array_foreach(sh, k, x)
			p += snprintf(p, sizeof shape - (size_t)(p - shape),
			    "%s%lld", k ? "," : "",
			    (long long)json_integer_value(x));
		if (json_array_size(sh) == 0)
			snprintf(shape, sizeof shape, "scalar");
		printf("  %-*s %-8s %-22s %s\n", (int)w,
		    json_string_value(json_object_get(t, "name")),
		    json_string_value(json_object_get(t, "type")), shape,
		    util_fmt_bytes((uint64_t)json_integer_value(
		    json_object_get(t, "bytes")), b, sizeof b));
	}
	tot = json_object_get(o, "totals");
	printf("totals\n");
	print_count("parameters", json_object_get(tot, "parameters"), 0);
	print_count("expert parameters", json_object_get(tot,
	    "expert_parameters"), 0);
	print_count("tensor bytes", json_object_get(tot, "tensor_bytes"), 1);
	print_count("decode bytes / token", json_object_get(tot,
	    "decode_bytes_per_token"), 1);
}

static int
is_gguf(const char *path)
{
	char magic[4];
	FILE *fp;
	struct stat sb;
	int yes;

	if (stat(path, &sb) != 0 || S_ISDIR(sb.st_mode))
		return 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return 1;	/* let the reader report why */
	yes = fread(magic, 1, 4, fp) == 4 && memcmp(magic, "GGUF", 4) == 0;
	fclose(fp);
	if (!yes && strlen(path) > 5 &&
	    strcmp(path + strlen(path) - 5, ".gguf") == 0)
		yes = 1;	/* so the message says "not a GGUF file" */
	return yes;
}

int
cmd_inspect_main(int argc, char **argv)
{
	const char *model = NULL;
	char *path = NULL;
	struct err e;
	json_t *o;
	int i, json = 0, rc;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc &&
		    model == NULL && i + 2 == argc)
			model = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "moescope inspect: unknown option "
			    "'%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (model == NULL)
			model = argv[i];
		else {
			fprintf(stderr, "moescope inspect: one MODEL only "
			    "('%s' and '%s')\n", model, argv[i]);
			return 2;
		}
	}
	if (model == NULL) {
		usage(stderr);
		return 2;
	}
	err_clear(&e);
	if ((rc = cmd_resolve_model(model, &path, &e)) != 0) {
		fprintf(stderr, "moescope inspect: %s\n", e.msg);
		return rc == ERR_USAGE ? 2 : 1;
	}
	o = is_gguf(path) ? inspect_gguf(path, &e) :
	    inspect_safetensors(path, &e);
	free(path);
	if (o == NULL) {
		fprintf(stderr, "moescope inspect: %s\n", e.msg[0] ? e.msg :
		    "cannot read the model");
		return 1;
	}
	if (json) {
		rc = json_dumpf(o, stdout, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		print_text(o);
		rc = 0;
	}
	json_decref(o);
	if (fflush(stdout) != 0 || rc != 0) {
		fprintf(stderr, "moescope inspect: cannot write the output\n");
		return 1;
	}
	return 0;
}
