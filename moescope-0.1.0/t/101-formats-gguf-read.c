/*
 * 101-formats-gguf-read.c - read every fixture GGUF: tensor counts, types
 * and shapes as tensor-types.txt lists them, key metadata; every
 * truncation of a model file is rejected with a message, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "formats/formats.h"
#include "quant/quant-common.h"

static const char *archs[] = {
	"mixtral", "qwen2moe", "qwen3moe", "olmoe", "deepseek2", "gpt-oss"
};
static const char *variants[] = { "f32", "q8_0", "q4_k_m" };

/* Check every tensor line of tensor-types.txt against the file; col is
 * the variant's column. Returns the number of mismatches. */
static int
check_types(const char *fx, const char *arch, int col, struct gguf *g,
    int *nlines)
{
	char line[512], name[256], shape[128], ty[3][32];
	const struct gguf_tensor *t;
	FILE *fp;
	int bad = 0, d;

	*nlines = 0;
	fp = fopen(tap_path("%s/models/%s/tensor-types.txt", fx, arch), "r");
	if (fp == NULL)
		return 1;
	while (fgets(line, sizeof line, fp) != NULL) {
		char got[128] = "", *p = got;

		if (sscanf(line, "%255s %127s %31s %31s %31s", name, shape,
		    ty[0], ty[1], ty[2]) != 5 || strcmp(name, "tensor") == 0)
			continue;
		if (strchr(name, '.') == NULL || name[strlen(name) - 1] == ':')
			continue;
		(*nlines)++;
		t = gguf_find_tensor(g, name);
		if (t == NULL) {
			diag("missing tensor %s", name);
			bad++;
			continue;
		}
		/* llama-quantize drops trailing 1s from shapes: compare
		 * without them */
		while (strlen(shape) > 2 &&
		    strcmp(shape + strlen(shape) - 2, ",1") == 0)
			shape[strlen(shape) - 2] = '\0';
		for (d = 0; d < t->n_dims; d++)
			p += sprintf(p, "%s%llu", d ? "," : "",
			    (unsigned long long)t->ne[d]);
		while (strlen(got) > 2 &&
		    strcmp(got + strlen(got) - 2, ",1") == 0)
			got[strlen(got) - 2] = '\0';
		if (strcmp(got, shape) != 0 ||
		    strcmp(quant_type_info(t->type)->name, ty[col]) != 0) {
			diag("%s: %s %s, want %s %s", name, got,
			    quant_type_info(t->type)->name, shape, ty[col]);
			bad++;
		}
	}
	fclose(fp);
	return bad;
}

int
main(void)
{
	const char *fx = tap_fixtures();
	struct gguf *g;
	struct err e;
	size_t a, v;
	uint32_t u;
	char *s;

	if (fx == NULL)
		tap_skip_all("no fixtures ($FIXTURES)");
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++)
		for (v = 0; v < 3; v++) {
			const char *path = tap_path("%s/models/%s/%s-%s.gguf",
			    fx, archs[a], archs[a], variants[v]);
			int n, bad;

			if (!ok(gguf_open(&g, path, &e) == 0, "open %s-%s",
			    archs[a], variants[v])) {
				diag("%s", e.msg);
				continue;
			}
			bad = check_types(fx, archs[a], (int)v, g, &n);
			ok(bad == 0 && (uint64_t)n == g->n_tensors,
			    "%s-%s: %d tensors as tensor-types.txt says",
			    archs[a], variants[v], n);
			ok(gguf_get_strdup(g, "general.architecture", &s, &e)
			    == 0 && strcmp(s, strcmp(archs[a], "mixtral") == 0 ?
			    "llama" : archs[a]) == 0, "%s: architecture",
			    archs[a]);
			free(s);
			gguf_close(g);
		}

	/* vocabulary-only files: metadata, zero tensors */
	ok(gguf_open(&g, tap_path("%s/tokenizer/ggml-vocab-qwen2.gguf", fx),
	    &e) == 0, "open vocab qwen2");
	if (g != NULL) {
		const struct gguf_str *toks;
		uint64_t n;

		is_int(g->n_tensors, 0, "vocab file has no tensors");
		ok(gguf_get_str_arr(g, "tokenizer.ggml.tokens", &toks, &n, &e)
		    == 0 && n == 151936, "qwen2 vocab has 151936 tokens");
		ok(gguf_get_u32(g, "tokenizer.ggml.tokens", &u, &e) ==
		    ERR_FORMAT && strstr(e.msg, "tokenizer.ggml.tokens"),
		    "wrong-type getter names the key");
		gguf_close(g);
	}

	/* every prefix of a small model file is rejected, not a crash */
	{
		struct util_map m;
		size_t len, step, bad = 0, tried = 0;

		if (util_map_open(&m, tap_path("%s/models/qwen3moe/"
		    "qwen3moe-q4_k_m.gguf", fx), &e) == 0) {
			for (len = 0; len < m.size; len += step) {
				step = len < 70000 ? 1 : 4099;
				tried++;
				if (gguf_open_mem(&g, m.data, len, "trunc", &e)
				    == 0) {
					gguf_close(g);
					bad++;
				} else if (strstr(e.msg, "trunc") == NULL)
					bad++;
			}
			is_int(bad, 0, "%zu truncations rejected with a "
			    "message", tried);
			ok(gguf_open_mem(&g, m.data, m.size, "whole", &e) == 0,
			    "whole file parses from memory");
			gguf_close(g);
			util_map_close(&m);
		}
	}
	return tap_done();
}
