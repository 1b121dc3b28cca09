/*
 * 150-convert-fixtures.c - the converter against llama.cpp's files for
 * every fixture model: `--type f32` must give llama.cpp's
 * <arch>-f32.gguf byte for byte; q8_0 and q4_k_m must give the same
 * tensors (by name: type, shape and bytes) and metadata as
 * llama-quantize's <arch>-q8_0.gguf / -q4_k_m.gguf, and in fact the
 * same bytes (the content check says what differs when not). Also:
 * f16 / bf16 / q6_k / q5_k_m / q4_0 outputs open and have the expected
 * tensor types; 1, 3 or 5 worker threads give the same bytes; a failed
 * conversion leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "convert/convert.h"
#include "formats/formats.h"
#include "quant/quant-common.h"
#include "util/util.h"

static const char *archs[] = {
	"mixtral", "qwen2moe", "qwen3moe", "olmoe", "deepseek2", "gpt-oss"
};

static int
same_file(const char *a, const char *b)
{
	struct util_map x, y;
	int same;

	if (util_map_open(&x, a, NULL) != 0)
		return 0;
	if (util_map_open(&y, b, NULL) != 0) {
		util_map_close(&x);
		return 0;
	}
	same = x.size == y.size && memcmp(x.data, y.data, x.size) == 0;
	util_map_close(&x);
	util_map_close(&y);
	return same;
}

static int
same_value(const struct gguf_value *a, const struct gguf_value *b)
{
	uint64_t i;

	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case GGUF_TYPE_STRING:
		return a->str.len == b->str.len &&
		    memcmp(a->str.s, b->str.s, a->str.len) == 0;
	case GGUF_TYPE_ARRAY:
		if (a->elem_type != b->elem_type || a->n != b->n)
			return 0;
		if (a->elem_type == GGUF_TYPE_STRING) {
			for (i = 0; i < a->n; i++)
				if (a->strs[i].len != b->strs[i].len ||
				    memcmp(a->strs[i].s, b->strs[i].s,
				    a->strs[i].len) != 0)
					return 0;
			return 1;
		}
		return a->elem_type != GGUF_TYPE_ARRAY && memcmp(a->raw,
		    b->raw, a->n * gguf_type_size(a->elem_type)) == 0;
	case GGUF_TYPE_FLOAT32:
	case GGUF_TYPE_FLOAT64:
		return a->num.f == b->num.f;
	default:
		return a->num.u == b->num.u;
	}
}

/* Metadata and tensors of got equal want's (tensor order free). */
static int
same_content(const char *got_path, const char *want_path, const char *what)
{
	struct gguf *g = NULL, *w = NULL;
	struct err e;
	uint64_t i;
	int good = 1;

	if (gguf_open(&g, got_path, &e) != 0 ||
	    gguf_open(&w, want_path, &e) != 0) {
		diag("%s", e.msg);
		gguf_close(g);
		return 0;
	}
	if (g->n_kv != w->n_kv || g->n_tensors != w->n_tensors) {
		diag("%s: %llu keys / %llu tensors, want %llu / %llu", what,
		    (unsigned long long)g->n_kv,
		    (unsigned long long)g->n_tensors,
		    (unsigned long long)w->n_kv,
		    (unsigned long long)w->n_tensors);
		good = 0;
	}
	for (i = 0; i < w->n_kv; i++) {
		const struct gguf_value *v = gguf_get(g, w->kv[i].key);

		if (v == NULL || !same_value(v, &w->kv[i].v)) {
			diag("%s: key %s differs", what, w->kv[i].key);
			good = 0;
		}
	}
	for (i = 0; i < w->n_tensors; i++) {
		const struct gguf_tensor *a = &w->tensors[i];
		const struct gguf_tensor *b = gguf_find_tensor(g, a->name);

		if (b == NULL) {
			diag("%s: tensor %s missing", what, a->name);
			good = 0;
			continue;
		}
		if (a->type != b->type || a->n_dims != b->n_dims ||
		    memcmp(a->ne, b->ne, sizeof a->ne) != 0 ||
		    a->nbytes != b->nbytes ||
		    memcmp(a->data, b->data, a->nbytes) != 0) {
			diag("%s: tensor %s differs (type %s, want %s)", what,
			    a->name, quant_type_info(b->type)->name,
			    quant_type_info(a->type)->name);
			good = 0;
		}
	}
	gguf_close(g);
	gguf_close(w);
	return good;
}

static int threads;	/* 0: one per CPU */

static int
convert(const char *dir, const char *out, int type, struct err *e)
{
	struct convert_opts o;

	convert_opts_init(&o);
	o.hf_dir = dir;
	o.out = out;
	o.type = type;
	o.threads = threads;
	return convert_run(&o, e);
}

/* Count tensors of a type in a GGUF. */
static int
count_type(const char *path, int type)
{
	struct gguf *g;
	uint64_t i;
	int n = 0;

	if (gguf_open(&g, path, NULL) != 0)
		return -1;
	for (i = 0; i < g->n_tensors; i++)
		n += g->tensors[i].type == type;
	gguf_close(g);
	return n;
}

int
main(void)
{
	const char *fx = getenv("FIXTURES");
	char dir[1024], out[1024], want[1024], tmpl[] =
	    "/tmp/moescope-t150-XXXXXX";
	static const struct { int type; const char *name; } q[] = {
		{ CONVERT_Q8_0, "q8_0" }, { CONVERT_Q4_K_M, "q4_k_m" }
	};
	struct err e;
	size_t a, k;
	int rc;

	if (fx == NULL || access(fx, R_OK) != 0)
		tap_skip_all("no fixtures");
	if (mkdtemp(tmpl) == NULL)
		tap_skip_all("no temporary directory");
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++) {
		snprintf(dir, sizeof dir, "%s/models/%s/hf", fx, archs[a]);
		snprintf(out, sizeof out, "%s/%s-f32.gguf", tmpl, archs[a]);
		snprintf(want, sizeof want, "%s/models/%s/%s-f32.gguf", fx,
		    archs[a], archs[a]);
		rc = convert(dir, out, CONVERT_F32, &e);
		if (!ok(rc == 0, "%s: convert --type f32", archs[a]))
			diag("%s", e.msg);
		ok(same_file(out, want), "%s: f32 is byte-identical to "
		    "llama.cpp's", archs[a]);
		unlink(out);
		for (k = 0; k < sizeof q / sizeof q[0]; k++) {
			snprintf(out, sizeof out, "%s/%s-%s.gguf", tmpl,
			    archs[a], q[k].name);
			snprintf(want, sizeof want, "%s/models/%s/%s-%s.gguf",
			    fx, archs[a], archs[a], q[k].name);
			rc = convert(dir, out, q[k].type, &e);
			if (!ok(rc == 0, "%s: convert --type %s", archs[a],
			    q[k].name))
				diag("%s", e.msg);
			ok(same_content(out, want, q[k].name), "%s: %s "
			    "tensors and metadata equal llama-quantize's",
			    archs[a], q[k].name);
			ok(same_file(out, want), "%s: %s is byte-identical "
			    "to llama-quantize's", archs[a], q[k].name);
			unlink(out);
		}
	}
	/* the bytes do not depend on the number of threads */
	snprintf(dir, sizeof dir, "%s/models/deepseek2/hf", fx);
	snprintf(want, sizeof want, "%s/models/deepseek2/deepseek2-q4_k_m.gguf",
	    fx);
	snprintf(out, sizeof out, "%s/x.gguf", tmpl);
	for (k = 1; k <= 5; k += 2) {
		threads = (int)k;
		ok(convert(dir, out, CONVERT_Q4_K_M, &e) == 0 &&
		    same_file(out, want), "deepseek2 q4_k_m with %zu threads: "
		    "byte-identical", k);
	}
	threads = 0;
	unlink(out);
	/* other types: they open, with the types expected */
	snprintf(dir, sizeof dir, "%s/models/qwen3moe/hf", fx);
	snprintf(out, sizeof out, "%s/x.gguf", tmpl);
	ok(convert(dir, out, CONVERT_F16, &e) == 0 &&
	    count_type(out, GGML_TYPE_F16) == 16 &&
	    count_type(out, GGML_TYPE_F32) == 11, "qwen3moe f16: matrices "
	    "F16, norms and routers F32");
	ok(convert(dir, out, CONVERT_BF16, &e) == 0 &&
	    count_type(out, GGML_TYPE_BF16) == 16, "qwen3moe bf16");
	ok(convert(dir, out, CONVERT_Q6_K, &e) == 0 &&
	    count_type(out, GGML_TYPE_Q6_K) > 0, "qwen3moe q6_k");
	ok(convert(dir, out, CONVERT_Q5_K_M, &e) == 0 &&
	    count_type(out, GGML_TYPE_Q5_K) > 0, "qwen3moe q5_k_m");
	ok(convert(dir, out, CONVERT_Q4_0, &e) == 0 &&
	    count_type(out, GGML_TYPE_Q4_0) > 0, "qwen3moe q4_0");
	unlink(out);
	/* errors: no output left behind */
	snprintf(dir, sizeof dir, "%s/models", fx);
	rc = convert(dir, out, CONVERT_F32, &e);
	ok(rc != 0 && access(out, F_OK) != 0 && strstr(e.msg,
	    "config.json") != NULL, "folder without config.json: error "
	    "naming it, no output");
	rmdir(tmpl);
	return tap_done();
}
