/*
 * 104-formats-safetensors.c - safetensors and config.json: every fixture
 * checkpoint's tensors have the names, shapes and dtypes its config.json
 * implies; a generated 2-shard checkpoint opens as one set through its
 * index (and broken indexes are refused); hostile headers (every
 * truncation, lengths near 2^64, bad JSON and UTF-8, duplicates, unknown
 * dtypes, overflowing shapes, offsets that disagree, overlap or leave
 * the data section) are rejected with a message naming the file.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "formats/formats.h"

static const char *archs[] = {
	"mixtral", "qwen2moe", "qwen3moe", "olmoe", "deepseek2", "gpt-oss"
};

/* Tensor name -> expected shape; returns mismatch count (diag'd). */
static int
want(const struct safetensors *st, const char *name, int dtype, int n_dims,
    int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
	const struct st_tensor *t = safetensors_find(st, name);
	int64_t d[4] = { d0, d1, d2, d3 };
	int i;

	if (t == NULL) {
		diag("missing %s", name);
		return 1;
	}
	if (t->dtype != dtype || t->n_dims != n_dims)
		goto bad;
	for (i = 0; i < n_dims; i++)
		if ((int64_t)t->shape[i] != d[i])
			goto bad;
	return 0;
bad:
	diag("%s: %s %d dims [%llu, %llu, ...], want %s %d dims [%lld, %lld, "
	    "...]", name, safetensors_dtype_name(t->dtype), t->n_dims,
	    (unsigned long long)t->shape[0], (unsigned long long)t->shape[1],
	    safetensors_dtype_name(dtype), n_dims, (long long)d0,
	    (long long)d1);
	return 1;
}

static void
fixture_arch(const char *fx, const char *arch)
{
	struct safetensors *st;
	struct hf_config *c;
	struct hf_hparams hp;
	struct err e;
	char n[256];
	int64_t l, x, bad = 0, q = 0, rope = 0, hd, eff, H;
	uint64_t i, sum = 0, norms = 0, normbad = 0;
	const char *ex;
	int mla = strcmp(arch, "deepseek2") == 0;
	int oss = strcmp(arch, "gpt-oss") == 0;
	int mix = strcmp(arch, "mixtral") == 0;

	if (!ok(hf_config_open(&c, tap_path("%s/models/%s/hf", fx, arch), &e)
	    == 0, "%s: config.json opens", arch)) {
		diag("%s", e.msg);
		return;
	}
	if (!ok(safetensors_open(&st, tap_path("%s/models/%s/hf", fx, arch),
	    &e) == 0, "%s: model.safetensors opens", arch)) {
		diag("%s", e.msg);
		hf_config_close(c);
		return;
	}
	ok(hf_config_hparams(c, &hp, &e) == 0, "%s: hparams", arch);
	H = hp.hidden_size;
	hd = hp.head_dim;
	eff = hp.expert_ff;
	is_int(H, 256, "%s: hidden 256", arch);
	is_int(hp.n_experts, 8, "%s: 8 experts", arch);
	is_int(eff, 32, "%s: expert ff 32", arch);
	is_str(safetensors_meta(st, "format"), "pt", "%s: __metadata__",
	    arch);

	bad += want(st, "model.embed_tokens.weight", ST_BF16, 2,
	    hp.vocab_size, H, 0, 0);
	bad += want(st, "lm_head.weight", ST_BF16, 2, hp.vocab_size, H, 0, 0);
	bad += want(st, "model.norm.weight", ST_BF16, 1, H, 0, 0, 0);
	if (mla) {
		hf_config_get_int(c, "qk_rope_head_dim", &rope, &e);
		hf_config_get_int(c, "qk_nope_head_dim", &q, &e);
	}
	for (l = 0; l < hp.n_layers; l++) {
		const char *p = tap_path("model.layers.%lld", (long long)l);
		char pre[64];

		snprintf(pre, sizeof pre, "%s", p);
#define N(...) (snprintf(n, sizeof n, __VA_ARGS__), n)
		bad += want(st, N("%s.input_layernorm.weight", pre), ST_BF16,
		    1, H, 0, 0, 0);
		if (mla) {
			bad += want(st, N("%s.self_attn.q_a_proj.weight", pre),
			    ST_BF16, 2, hp.q_lora_rank, H, 0, 0);
			bad += want(st, N("%s.self_attn.q_b_proj.weight", pre),
			    ST_BF16, 2, hp.n_heads * (q + rope),
			    hp.q_lora_rank, 0, 0);
			bad += want(st,
			    N("%s.self_attn.kv_a_proj_with_mqa.weight", pre),
			    ST_BF16, 2, hp.kv_lora_rank + rope, H, 0, 0);
		} else {
			bad += want(st, N("%s.self_attn.q_proj.weight", pre),
			    ST_BF16, 2, hp.n_heads * hd, H, 0, 0);
			bad += want(st, N("%s.self_attn.k_proj.weight", pre),
			    ST_BF16, 2, hp.n_kv_heads * hd, H, 0, 0);
			bad += want(st, N("%s.self_attn.v_proj.weight", pre),
			    ST_BF16, 2, hp.n_kv_heads * hd, H, 0, 0);
			bad += want(st, N("%s.self_attn.o_proj.weight", pre),
			    ST_BF16, 2, H, hp.n_heads * hd, 0, 0);
		}
		if (l < hp.first_dense_layers) {
			bad += want(st, N("%s.mlp.gate_proj.weight", pre),
			    ST_BF16, 2, hp.ff, H, 0, 0);
			continue;
		}
		if (oss) {
			bad += want(st, N("%s.mlp.router.weight", pre), ST_BF16,
			    2, hp.n_experts, H, 0, 0);
			bad += want(st,
			    N("%s.mlp.experts.gate_up_proj_blocks", pre),
			    ST_U8, 4, hp.n_experts, 2 * eff, H / 32, 16);
			bad += want(st,
			    N("%s.mlp.experts.gate_up_proj_scales", pre),
			    ST_U8, 3, hp.n_experts, 2 * eff, H / 32, 0);
			bad += want(st,
			    N("%s.mlp.experts.down_proj_blocks", pre),
			    ST_U8, 4, hp.n_experts, H, eff / 32, 16);
			continue;
		}
		ex = mix ? "block_sparse_moe" : "mlp";
		bad += want(st, N("%s.%s.gate.weight", pre, ex), ST_BF16, 2,
		    hp.n_experts, H, 0, 0);
		for (x = 0; x < hp.n_experts; x++) {
			bad += want(st, N("%s.%s.experts.%lld.%s.weight", pre,
			    ex, (long long)x, mix ? "w1" : "gate_proj"),
			    ST_BF16, 2, eff, H, 0, 0);
			bad += want(st, N("%s.%s.experts.%lld.%s.weight", pre,
			    ex, (long long)x, mix ? "w3" : "up_proj"),
			    ST_BF16, 2, eff, H, 0, 0);
			bad += want(st, N("%s.%s.experts.%lld.%s.weight", pre,
			    ex, (long long)x, mix ? "w2" : "down_proj"),
			    ST_BF16, 2, H, eff, 0, 0);
		}
		if (hp.shared_expert_ff > 0)
			bad += want(st, N("%s.mlp.%s.gate_proj.weight", pre,
			    mla ? "shared_experts" : "shared_expert"), ST_BF16,
			    2, hp.shared_expert_ff, H, 0, 0);
#undef N
	}
	is_int(bad, 0, "%s: %llu tensors: names, shapes, dtypes as config.json "
	    "implies", arch, (unsigned long long)st->n_tensors);
	/* all of the data section is used, and the views hold the data:
	 * RMSNorm weights are 1 + N(0, 0.1^2) */
	for (i = 0; i < st->n_tensors; i++) {
		const struct st_tensor *t = &st->tensors[i];

		sum += t->nbytes;
		if (strstr(t->name, "layernorm.weight") != NULL &&
		    t->dtype == ST_BF16) {
			const uint16_t *v = t->data;
			uint64_t k;

			for (k = 0; k < safetensors_nelem(t); k++, norms++)
				if (fabsf(util_bf16_to_f32(v[k]) - 1.0f) > 0.6f)
					normbad++;
		}
		if (t->dtype != ST_BF16 && !(oss && t->dtype == ST_U8))
			bad++;
	}
	ok(sum + st->files[0].data_offset == st->files[0].map.size,
	    "%s: tensors fill the data section", arch);
	ok(norms > 0 && normbad == 0, "%s: %llu norm weights read near 1",
	    arch, (unsigned long long)norms);
	is_int(bad, 0, "%s: BF16 everywhere (U8 MXFP4 blocks for gpt-oss)",
	    arch);
	safetensors_close(st);
	hf_config_close(c);
}

static void
config_values(const char *fx)
{
	/* arch, layers, kv heads, head_dim, used, shared ff, vocab, theta */
	static const struct {
		const char *arch, *model_type;
		int64_t layers, kv, hd, used, sff, vocab;
		double theta;
	} w[] = {
		{ "mixtral", "mixtral", 2, 2, 64, 2, -1, 1536, 1e6 },
		{ "qwen2moe", "qwen2_moe", 2, 2, 64, 4, 128, 1536, 1e6 },
		{ "qwen3moe", "qwen3_moe", 2, 1, 128, 4, -1, 1536, 1e6 },
		{ "olmoe", "olmoe", 2, 4, 64, 2, -1, 1600, 1e4 },
		{ "deepseek2", "deepseek_v2", 3, 4, 64, 2, 64, 1536, 1e4 },
		{ "gpt-oss", "gpt_oss", 2, 2, 64, 2, -1, 1536, 150000 },
	};
	struct hf_config *c;
	struct hf_hparams hp;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof w / sizeof w[0]; i++) {
		if (hf_config_open(&c, tap_path("%s/models/%s/hf/config.json",
		    fx, w[i].arch), &e) != 0) {
			ok(0, "%s: %s", w[i].arch, e.msg);
			continue;
		}
		hf_config_hparams(c, &hp, &e);
		ok(strcmp(hp.model_type, w[i].model_type) == 0 &&
		    hp.n_layers == w[i].layers && hp.n_heads == 4 &&
		    hp.n_kv_heads == w[i].kv && hp.head_dim == w[i].hd &&
		    hp.n_experts_used == w[i].used &&
		    hp.shared_expert_ff == w[i].sff &&
		    hp.vocab_size == w[i].vocab &&
		    hp.rope_theta == w[i].theta &&
		    hp.rms_norm_eps > 0 && hp.max_position > 0,
		    "%s: hyper-parameters (%s, %lld layers, kv %lld, hd %lld, "
		    "top-%lld, shared ff %lld, vocab %lld, theta %g)",
		    w[i].arch, hp.model_type, (long long)hp.n_layers,
		    (long long)hp.n_kv_heads, (long long)hp.head_dim,
		    (long long)hp.n_experts_used,
		    (long long)hp.shared_expert_ff, (long long)hp.vocab_size,
		    hp.rope_theta);
		hf_config_close(c);
	}
	if (hf_config_open(&c, tap_path("%s/models/gpt-oss/hf", fx), &e) ==
	    0) {
		double f;
		const char *s;

		hf_config_hparams(c, &hp, &e);
		ok(strcmp(hp.rope_scaling, "yarn") == 0 && hp.rope_factor == 32
		    && hp.sliding_window == 8, "gpt-oss: yarn x32, window 8");
		ok(hf_config_get_float(c, "rope_scaling.beta_fast", &f, &e) ==
		    0 && f == 32, "dotted key");
		ok(hf_config_get_str(c, "quantization_config.quant_method", &s,
		    &e) == 0 && strcmp(s, "mxfp4") == 0, "nested string");
		ok(hf_config_get_str(c, "architectures", &s, &e) == 0 &&
		    strcmp(s, "GptOssForCausalLM") == 0, "architectures[0]");
		ok(hf_config_get_int(c, "model_type", &hp.n_layers, &e) ==
		    ERR_FORMAT && strstr(e.msg, "model_type") &&
		    strstr(e.msg, "config.json"), "wrong type names file and "
		    "key: %s", e.msg);
		ok(hf_config_get_int(c, "no.such", &hp.n_layers, &e) ==
		    ERR_NOTFOUND, "missing key");
		hf_config_close(c);
	}
}

static void
config_mem(void)
{
	static const char text[] = "{\"model_type\": \"llava\", "
	    "\"text_config\": {\"hidden_size\": 4096, \"num_hidden_layers\": "
	    "32.0, \"num_attention_heads\": 32, \"num_experts\": null}}";
	static const char dup[] = "{\"a\": 1, \"a\": 2}";
	static const char broken[] = "{\"a\":\n 1,,}";
	struct hf_config *c;
	struct hf_hparams hp;
	struct err e;

	ok(hf_config_open_mem(&c, text, strlen(text), "mm.json", &e) == 0 &&
	    hf_config_hparams(c, &hp, &e) == 0 && hp.hidden_size == 4096 &&
	    hp.n_layers == 32 && hp.head_dim == 128 && hp.n_kv_heads == 32 &&
	    hp.n_experts == -1, "text_config fallback, 32.0 as integer, "
	    "null as absent");
	hf_config_close(c);
	ok(hf_config_open_mem(&c, dup, strlen(dup), "dup.json", &e) ==
	    ERR_FORMAT && strstr(e.msg, "dup.json") &&
	    strstr(e.msg, "duplicate"), "duplicate key: %s", e.msg);
	ok(hf_config_open_mem(&c, broken, strlen(broken), "bad.json", &e) ==
	    ERR_FORMAT && strstr(e.msg, "bad.json") && strstr(e.msg,
	    "line 2"), "bad JSON names file and line: %s", e.msg);
	ok(hf_config_open_mem(&c, "[1]", 3, "arr.json", &e) == ERR_FORMAT,
	    "a config that is not an object");
	ok(hf_config_open(&c, "/nonexistent/config.json", &e) < 0 &&
	    strstr(e.msg, "/nonexistent/config.json"), "missing file: %s",
	    e.msg);
}

/* A safetensors image: header text (padded to 8) + data. */
struct img {
	uint8_t	*p;
	size_t	 n;
};

static void
img_make(struct img *m, const char *hdr, size_t data_len)
{
	size_t h = strlen(hdr), hp = (h + 7) / 8 * 8, i;

	m->n = 8 + hp + data_len;
	m->p = malloc(m->n);
	for (i = 0; i < 8; i++)
		m->p[i] = (uint8_t)((uint64_t)hp >> (8 * i));
	memcpy(m->p + 8, hdr, h);
	memset(m->p + 8 + h, ' ', hp - h);
	for (i = 0; i < data_len; i++)
		m->p[8 + hp + i] = (uint8_t)i;
}

static void
st_reject(const char *hdr, size_t data_len, const char *want_msg,
    const char *what)
{
	struct safetensors *st = NULL;
	struct img m;
	struct err e;
	int rc;

	img_make(&m, hdr, data_len);
	err_clear(&e);
	rc = safetensors_open_mem(&st, m.p, m.n, "h.safetensors", &e);
	if (!ok(rc < 0 && st == NULL && strstr(e.msg, "h.safetensors") &&
	    strstr(e.msg, want_msg), "%s: rejected", what))
		diag("rc %d: %s (want '%s')", rc, e.msg, want_msg);
	safetensors_close(st);
	free(m.p);
}

static void
hostile(void)
{
	static const char good[] = "{\"__metadata__\":{\"format\":\"pt\"},"
	    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
	    "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
	    "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[32,40]},"
	    "\"z\":{\"dtype\":\"U8\",\"shape\":[0,5],"
	    "\"data_offsets\":[40,40]}}";
	struct safetensors *st;
	struct img m;
	struct err e;
	size_t len, badn = 0;
	uint8_t *p;

	img_make(&m, good, 40);
	ok(safetensors_open_mem(&st, m.p, m.n, "h.safetensors", &e) == 0 &&
	    st->n_tensors == 4 && safetensors_find(st, "s")->n_dims == 0 &&
	    safetensors_nelem(safetensors_find(st, "s")) == 1 &&
	    ((const uint8_t *)safetensors_find(st, "b")->data)[0] == 24 &&
	    safetensors_find(st, "z")->nbytes == 0,
	    "valid image: scalar, empty tensor, data views");
	safetensors_close(st);
	for (len = 0; len < m.n; len++) {
		p = malloc(len ? len : 1);
		memcpy(p, m.p, len);
		err_clear(&e);
		if (safetensors_open_mem(&st, p, len, "h.safetensors", &e) ==
		    0) {
			safetensors_close(st);
			badn++;
			diag("prefix %zu accepted", len);
		} else if (strstr(e.msg, "h.safetensors") == NULL)
			badn++;
		free(p);
	}
	is_int(badn, 0, "all %zu truncations rejected with a message", m.n);
	/* header length near 2^64 and over the limit */
	memset(m.p, 0xff, 8);
	ok(safetensors_open_mem(&st, m.p, m.n, "h.safetensors", &e) ==
	    ERR_FORMAT && strstr(e.msg, "exceeds the file"),
	    "header length 2^64-1: %s", e.msg);
	free(m.p);

	st_reject("[1,2]", 0, "not a safetensors", "header not an object");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[0,4]},}", 4, "JSON", "bad JSON");
	st_reject("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]}}", 4, "JSON", "non-UTF-8 name");
	st_reject("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]}}", 4, "JSON", "NUL in a name");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[4,8]}}", 8, "duplicate", "duplicate name");
	st_reject("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[0,4]}}", 4, "empty name", "empty name");
	st_reject("{\"a\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":"
	    "[0,1]}}", 1, "unknown dtype 'F4'", "unknown dtype");
	st_reject("{\"a\":{\"shape\":[2],\"data_offsets\":[0,1]}}", 1,
	    "dtype missing", "no dtype");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,"
	    "4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
	    "overflows", "shape overflow");
	st_reject("{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],"
	    "\"data_offsets\":[0,4]}}", 4, "overflows",
	    "dtype x shape overflow");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":"
	    "[0,4]}}", 4, "shape element 0", "negative dimension");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],"
	    "\"data_offsets\":[0,4]}}", 4, "shape element 0",
	    "fractional dimension");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
	    "\"data_offsets\":[0,4]}}", 4, "9 dimensions", "9 dimensions");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[0,4,8]}}", 8, "[begin, end]", "three offsets");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[8,4]}}", 8, "end before", "end before begin");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
	    "[0,8]}}", 4, "past the data section", "data past the end");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[0,18446744073709551615]}}", 4, "JSON",
	    "offset 2^64-1 (too big for JSON integers)");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
	    "[9223372036854775804,9223372036854775807]}}", 4,
	    "past the data section", "offset near 2^63");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":"
	    "[0,8]}}", 12, "needs 12", "offsets disagree with dtype x shape");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
	    "[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
	    "[4,12]}}", 12, "overlap", "overlapping tensors");
	st_reject("{\"__metadata__\":{\"format\":1}}", 0, "not a string",
	    "metadata value not a string");
	st_reject("{\"__metadata__\":[]}", 0, "not an object",
	    "metadata not an object");
	st_reject("{\"a\":[1]}", 0, "not an object", "entry not an object");
	{
		/* 100000 nested arrays: refused, no stack overflow */
		size_t k, depth = 100000;
		char *deep = malloc(2 * depth + 16);

		strcpy(deep, "{\"a\":");
		for (k = 0; k < depth; k++)
			deep[5 + k] = '[';
		for (k = 0; k < depth; k++)
			deep[5 + depth + k] = ']';
		strcpy(deep + 5 + 2 * depth, "}");
		st_reject(deep, 0, "depth", "JSON nested 100000 deep");
		free(deep);
	}
	{
		/* header length 100 MB + 8 in a small buffer */
		uint8_t h[16] = { 0 };
		uint64_t big = 100000008;
		int i;

		for (i = 0; i < 8; i++)
			h[i] = (uint8_t)(big >> (8 * i));
		ok(safetensors_open_mem(&st, h, sizeof h, "h.safetensors", &e)
		    == ERR_FORMAT && strstr(e.msg, "exceeds"),
		    "header length past the file: %s", e.msg);
	}
}

/* Write a safetensors file holding tensors named names[i] (F32, n[i]
 * values each, value v = base + index). */
static int
write_st(const char *path, const char *const *names, const int *n, int k,
    float base)
{
	char hdr[4096];
	size_t off = 0, h, hp, len, i;
	struct img m;
	float *d;
	int j, rc;

	len = (size_t)snprintf(hdr, sizeof hdr, "{");
	for (j = 0; j < k; j++) {
		len += (size_t)snprintf(hdr + len, sizeof hdr - len,
		    "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],"
		    "\"data_offsets\":[%zu,%zu]}", j ? "," : "", names[j],
		    n[j], off, off + (size_t)n[j] * 4);
		off += (size_t)n[j] * 4;
	}
	snprintf(hdr + len, sizeof hdr - len, "}");
	img_make(&m, hdr, off);
	h = strlen(hdr);
	hp = (h + 7) / 8 * 8;
	d = (float *)(void *)(m.p + 8 + hp);
	for (i = 0; i < off / 4; i++) {
		float v = base + (float)i;

		memcpy(&d[i], &v, 4);
	}
	rc = util_write_file(path, m.p, m.n, NULL);
	free(m.p);
	return rc;
}

static void
sharded(void)
{
	char dir[] = "/tmp/moescope-t104-XXXXXX", p[256], idx[256];
	static const char *n1[] = { "x.a", "x.b" }, *n2[] = { "y.c" };
	static const int s1[] = { 4, 2 }, s2[] = { 3 };
	struct safetensors *st;
	const struct st_tensor *t;
	struct err e;
	float v;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
	write_st(p, n1, s1, 2, 0);
	snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
	write_st(p, n2, s2, 1, 100);
	snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
#define INDEX(s) util_write_file(idx, s, strlen(s), NULL)
	INDEX("{\"metadata\":{\"total_size\":36},\"weight_map\":{"
	    "\"x.a\":\"model-00001-of-00002.safetensors\","
	    "\"x.b\":\"model-00001-of-00002.safetensors\","
	    "\"y.c\":\"model-00002-of-00002.safetensors\"}}");
	if (ok(safetensors_open(&st, dir, &e) == 0, "2-shard folder opens")) {
		t = safetensors_find(st, "y.c");
		ok(st->n_files == 2 && st->n_tensors == 3 && t != NULL &&
		    t->file == 1 && t->shape[0] == 3, "3 tensors from 2 files");
		memcpy(&v, (const char *)t->data + 8, 4);
		is_near(v, 102, 0, "y.c[2] read through the view");
		t = safetensors_find(st, "x.b");
		memcpy(&v, t->data, 4);
		ok(t->file == 0 && v == 4, "x.b[0] in shard 1");
		safetensors_close(st);
	} else
		diag("%s", e.msg);
	ok(safetensors_open(&st, idx, &e) == 0, "index path opens too");
	safetensors_close(st);

	INDEX("{\"weight_map\":{\"x.a\":\"model-00002-of-00002.safetensors\","
	    "\"y.c\":\"model-00002-of-00002.safetensors\"}}");
	ok(safetensors_open(&st, dir, &e) == ERR_FORMAT &&
	    strstr(e.msg, "'x.a'") && strstr(e.msg, "index.json"),
	    "weight_map names the wrong shard: %s", e.msg);
	INDEX("{\"weight_map\":{"
	    "\"x.a\":\"model-00003-of-00002.safetensors\"}}");
	ok(safetensors_open(&st, dir, &e) < 0 &&
	    strstr(e.msg, "model-00003-of-00002.safetensors"),
	    "missing shard: %s", e.msg);
	INDEX("{\"weight_map\":{\"x.a\":\"../etc/passwd\"}}");
	ok(safetensors_open(&st, dir, &e) == ERR_FORMAT &&
	    strstr(e.msg, "plain file name"), "shard outside the folder: %s",
	    e.msg);
	INDEX("{\"metadata\":{}}");
	ok(safetensors_open(&st, dir, &e) == ERR_FORMAT &&
	    strstr(e.msg, "weight_map"), "no weight_map: %s", e.msg);
	INDEX("{\"weight_map\":{\"x.a\":\"model-00001-of-00002.safetensors\","
	    "\"x.a\":\"model-00001-of-00002.safetensors\"}}");
	ok(safetensors_open(&st, dir, &e) == ERR_FORMAT &&
	    strstr(e.msg, "duplicate"), "duplicate weight_map entry: %s",
	    e.msg);
	/* the same tensor name in both shards */
	snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
	write_st(p, n1, s1, 1, 0);
	INDEX("{\"weight_map\":{\"x.a\":\"model-00001-of-00002.safetensors\","
	    "\"x.b\":\"model-00002-of-00002.safetensors\"}}");
	ok(safetensors_open(&st, dir, &e) == ERR_FORMAT &&
	    strstr(e.msg, "'x.a' is in both"), "name in two shards: %s",
	    e.msg);
#undef INDEX
	unlink(idx);
	ok(safetensors_open(&st, dir, &e) == ERR_NOTFOUND &&
	    strstr(e.msg, dir), "folder without a checkpoint: %s", e.msg);
	unlink(p);
	snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
	unlink(p);
	rmdir(dir);
}

int
main(void)
{
	const char *fx = tap_fixtures();
	size_t a;

	hostile();
	config_mem();
	sharded();
	if (fx == NULL) {
		diag("no fixtures: checkpoint tests skipped");
		return tap_done();
	}
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++)
		fixture_arch(fx, archs[a]);
	config_values(fx);
	return tap_done();
}
