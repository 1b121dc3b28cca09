/*
 * 603-engine-errors.c - bad models and bad requests get errors naming
 * what is wrong, never a crash: an unsupported architecture, a missing
 * tensor, a tensor whose shape disagrees with the metadata, a missing
 * hyper-parameter; a token outside the vocabulary and a context
 * overflow at evaluation; an unknown weight type in a tensor the engine
 * must compute with.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "engine/engine.h"
#include "formats/formats.h"

enum { KEEP, DROP_TENSOR, BAD_SHAPE, SET_ARCH, DROP_KEY, IQ_TYPE };

/*
 * Copy src to dst through the writer, changing one thing: drop or
 * reshape tensor `name`, set general.architecture to `name`, or drop
 * metadata key `name`.
 */
static int
variant(const struct gguf *g, const char *dst, int what, const char *name)
{
	struct gguf_writer *w;
	struct err e;
	uint64_t i, idx;
	int rc = 0;

	if (gguf_writer_new(&w, &e) != 0)
		return -1;
	for (i = 0; i < g->n_kv && rc == 0; i++) {
		if (what == DROP_KEY && strcmp(g->kv[i].key, name) == 0)
			continue;
		if (what == SET_ARCH &&
		    strcmp(g->kv[i].key, "general.architecture") == 0)
			rc = gguf_writer_set_str(w, g->kv[i].key, name, &e);
		else
			rc = gguf_writer_set_value(w, g->kv[i].key,
			    &g->kv[i].v, &e);
	}
	for (i = 0; i < g->n_tensors && rc == 0; i++) {
		const struct gguf_tensor *t = &g->tensors[i];
		uint64_t ne[4];
		int type = t->type;

		memcpy(ne, t->ne, sizeof ne);
		if (strcmp(t->name, name) == 0) {
			if (what == DROP_TENSOR)
				continue;
			if (what == BAD_SHAPE) {
				ne[1] = ne[1] / 2;
				ne[0] = ne[0] * 2;
			}
			if (what == IQ_TYPE && ne[0] % 256 == 0)
				type = 16;	/* IQ2_XXS: not computed */
		}
		rc = gguf_writer_add_tensor(w, t->name, type, t->n_dims, ne,
		    &idx, &e);
	}
	if (rc == 0)
		rc = gguf_writer_begin(w, dst, &e);
	for (i = 0, idx = 0; i < g->n_tensors && rc == 0; i++) {
		const struct gguf_tensor *t = &g->tensors[i];
		uint64_t nb;
		uint8_t *z;

		if (what == DROP_TENSOR && strcmp(t->name, name) == 0)
			continue;
		nb = gguf_writer_tensor_nbytes(w, idx);
		z = calloc(1, nb ? nb : 1);
		memcpy(z, t->data, nb < t->nbytes ? nb : t->nbytes);
		rc = gguf_writer_write_data(w, idx, z, nb, &e);
		free(z);
		idx++;
	}
	if (rc == 0)
		rc = gguf_writer_finish(w, &e);
	if (rc != 0)
		diag("writer: %s", e.msg);
	gguf_writer_free(w);
	return rc;
}

static void
expect_load_error(const struct gguf *g, int what, const char *name,
    const char *needle, const char *desc)
{
	char path[] = "/tmp/moescope-t603-XXXXXX";
	struct eng_model *m = NULL;
	struct err e = { 0 };
	int fd = mkstemp(path), rc;

	close(fd);
	if (variant(g, path, what, name) != 0) {
		ok(0, "%s: variant written", desc);
		unlink(path);
		return;
	}
	rc = eng_model_open(&m, path, &e);
	ok(rc != 0 && m == NULL && strstr(e.msg, needle) != NULL,
	    "%s: %s", desc, e.msg);
	eng_model_free(m);
	unlink(path);
}

int
main(void)
{
	const char *fx = tap_fixtures();
	struct eng_params ep = { 0 };
	struct eng_model *m;
	struct eng_ctx *c;
	struct gguf *g;
	struct err e = { 0 };
	int32_t toks[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	if (fx == NULL)
		tap_skip_all("no fixtures ($FIXTURES)");
	if (gguf_open(&g, tap_path("%s/models/qwen3moe/qwen3moe-q8_0.gguf",
	    fx), &e) != 0) {
		ok(0, "open fixture: %s", e.msg);
		return tap_done();
	}
	expect_load_error(g, SET_ARCH, "mamba", "mamba",
	    "unsupported architecture named");
	expect_load_error(g, DROP_TENSOR, "blk.1.ffn_up_exps.weight",
	    "blk.1.ffn_up_exps.weight", "missing expert tensor named");
	expect_load_error(g, DROP_TENSOR, "blk.0.attn_k_norm.weight",
	    "blk.0.attn_k_norm.weight", "missing k norm named");
	expect_load_error(g, BAD_SHAPE, "blk.0.attn_q.weight",
	    "blk.0.attn_q.weight", "shape disagreeing with metadata named");
	expect_load_error(g, DROP_KEY, "qwen3moe.block_count",
	    "qwen3moe.block_count", "missing hyper-parameter named");
	expect_load_error(g, IQ_TYPE, "blk.0.ffn_gate_exps.weight",
	    "blk.0.ffn_gate_exps.weight", "uncomputable type named");
	gguf_close(g);

	if (eng_model_open(&m, tap_path("%s/models/qwen3moe/"
	    "qwen3moe-q8_0.gguf", fx), &e) != 0) {
		ok(0, "load: %s", e.msg);
		return tap_done();
	}
	ep.n_ctx = 6;
	ep.n_threads = 1;
	ok(eng_ctx_new(&c, m, &ep, &e) == 0, "context of 6 tokens");
	toks[2] = 999999;
	ok(eng_eval(c, toks, 3, 0, NULL, NULL, &e) == ERR_RANGE &&
	    strstr(e.msg, "999999") != NULL, "token outside the vocabulary: "
	    "%s", e.msg);
	toks[2] = 3;
	ok(eng_eval(c, toks, 8, 0, NULL, NULL, &e) == ERR_RANGE &&
	    strstr(e.msg, "context") != NULL, "context overflow: %s", e.msg);
	is_int(eng_ctx_pos(c), 0, "nothing was evaluated by failed calls");
	ok(eng_eval(c, toks, 6, 0, NULL, NULL, &e) == 0, "a fitting batch "
	    "still works");
	ok(eng_eval(c, toks, 1, 0, NULL, NULL, &e) == ERR_RANGE,
	    "the full context refuses one more token");
	eng_ctx_free(c);
	eng_model_free(m);
	return tap_done();
}
