/*
 * engine-vocab.c - fill a struct tok_desc from a GGUF file's tokenizer
 * metadata and build the vocabulary from it.
 *
 * The GGUF arrays are views into the mapped file (unaligned, little
 * endian), so token strings are passed as views and scores and types are
 * copied out. Absent optional keys are passed as TOK_ID_NONE /
 * TOK_FLAG_ABSENT so the tokenizer applies llama.cpp's defaults; keys
 * of the wrong type are errors naming the key.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine-vocab.h"

static int
get_id(const struct gguf *g, const char *key, int64_t *out, struct err *e)
{
	uint32_t v;
	int rc;

	*out = TOK_ID_NONE;
	rc = gguf_get_u32(g, key, &v, e);
	if (rc == ERR_NOTFOUND) {
		err_clear(e);
		return 0;
	}
	if (rc != 0)
		return rc;
	*out = v;
	return 0;
}

static int
get_flag(const struct gguf *g, const char *key, int *out, struct err *e)
{
	int rc = gguf_get_bool(g, key, out, e);

	if (rc == ERR_NOTFOUND) {
		err_clear(e);
		*out = TOK_FLAG_ABSENT;
		return 0;
	}
	return rc;
}

/* Copy a GGUF string array into tok_str views. */
static int
str_arr(const struct gguf *g, const char *key, struct tok_str **out,
    size_t *n, int required, struct err *e)
{
	const struct gguf_str *s;
	uint64_t k, i;
	int rc;

	*out = NULL;
	*n = 0;
	rc = gguf_get_str_arr(g, key, &s, &k, e);
	if (rc == ERR_NOTFOUND && !required) {
		err_clear(e);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (k > SIZE_MAX / sizeof **out)
		return err_set(e, ERR_RANGE, "%s: %s: too many entries",
		    g->path, key);
	*out = malloc((k ? k : 1) * sizeof **out);
	if (*out == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < k; i++) {
		(*out)[i].s = s[i].s;
		(*out)[i].len = (size_t)s[i].len;
	}
	*n = (size_t)k;
	return 0;
}

int
engine_vocab_load(struct tok **out, const struct gguf *g, struct err *e)
{
	struct tok_desc d;
	const struct gguf_value *v;
	struct tok_str *tokens = NULL, *merges = NULL;
	float *scores = NULL;
	int32_t *types = NULL;
	char *model = NULL, *pre = NULL, *name = NULL;
	uint64_t i;
	int rc;

	*out = NULL;
	memset(&d, 0, sizeof d);
	rc = gguf_get_strdup(g, "tokenizer.ggml.model", &model, e);
	if (rc != 0)
		goto done;
	if (strcmp(model, "llama") == 0) {
		d.model = TOK_MODEL_SPM;
	} else if (strcmp(model, "gpt2") == 0) {
		d.model = TOK_MODEL_BPE;
	} else {
		rc = err_set(e, ERR_UNSUPPORTED, "%s: tokenizer.ggml.model = "
		    "'%s' is not supported (llama, gpt2)", g->path, model);
		goto done;
	}
	if ((rc = gguf_get_strdup(g, "tokenizer.ggml.pre", &pre, e)) ==
	    ERR_NOTFOUND) {
		err_clear(e);
		rc = 0;
	}
	if (rc != 0)
		goto done;
	if ((rc = gguf_get_strdup(g, "general.name", &name, e)) ==
	    ERR_NOTFOUND) {
		err_clear(e);
		rc = 0;
	}
	if (rc != 0)
		goto done;
	if ((rc = str_arr(g, "tokenizer.ggml.tokens", &tokens, &d.n_tokens, 1,
	    e)) != 0)
		goto done;
	if ((v = gguf_get(g, "tokenizer.ggml.scores")) != NULL) {
		if (v->type != GGUF_TYPE_ARRAY ||
		    (v->elem_type != GGUF_TYPE_FLOAT32 &&
		    v->elem_type != GGUF_TYPE_INT32) || v->n < d.n_tokens) {
			rc = err_set(e, ERR_FORMAT, "%s: "
			    "tokenizer.ggml.scores: want %zu float32 values",
			    g->path, d.n_tokens);
			goto done;
		}
		scores = malloc((d.n_tokens + 1) * sizeof *scores);
		if (scores == NULL)
			goto nomem;
		for (i = 0; i < d.n_tokens; i++)
			scores[i] = (float)gguf_arr_f64(v, i);
	}
	if ((v = gguf_get(g, "tokenizer.ggml.token_type")) != NULL) {
		if (v->type != GGUF_TYPE_ARRAY ||
		    v->elem_type != GGUF_TYPE_INT32 || v->n < d.n_tokens) {
			rc = err_set(e, ERR_FORMAT, "%s: "
			    "tokenizer.ggml.token_type: want %zu int32 values",
			    g->path, d.n_tokens);
			goto done;
		}
		types = malloc((d.n_tokens + 1) * sizeof *types);
		if (types == NULL)
			goto nomem;
		for (i = 0; i < d.n_tokens; i++)
			types[i] = (int32_t)gguf_arr_i64(v, i);
	}
	if ((rc = str_arr(g, "tokenizer.ggml.merges", &merges, &d.n_merges,
	    d.model == TOK_MODEL_BPE, e)) != 0)
		goto done;
	if ((rc = get_id(g, "tokenizer.ggml.bos_token_id", &d.bos, e)) != 0 ||
	    (rc = get_id(g, "tokenizer.ggml.eos_token_id", &d.eos, e)) != 0 ||
	    (rc = get_id(g, "tokenizer.ggml.eot_token_id", &d.eot, e)) != 0 ||
	    (rc = get_id(g, "tokenizer.ggml.eom_token_id", &d.eom, e)) != 0 ||
	    (rc = get_id(g, "tokenizer.ggml.unknown_token_id", &d.unk, e)) != 0
	    || (rc = get_id(g, "tokenizer.ggml.seperator_token_id", &d.sep,
	    e)) != 0 ||
	    (rc = get_id(g, "tokenizer.ggml.padding_token_id", &d.pad, e)) != 0
	    || (rc = get_flag(g, "tokenizer.ggml.add_bos_token", &d.add_bos,
	    e)) != 0 ||
	    (rc = get_flag(g, "tokenizer.ggml.add_eos_token", &d.add_eos,
	    e)) != 0 ||
	    (rc = get_flag(g, "tokenizer.ggml.add_space_prefix",
	    &d.add_space_prefix, e)) != 0)
		goto done;
	d.pre = pre;
	d.name = name;
	d.tokens = tokens;
	d.scores = scores;
	d.types = types;
	d.merges = merges;
	rc = tokenizer_vocab_new(out, &d, e);
	if (rc != 0)
		err_prefix(e, "%s", g->path);
	goto done;
nomem:
	rc = err_set(e, ERR_NOMEM, "out of memory");
done:
	free(model);
	free(pre);
	free(name);
	free(tokens);
	free(merges);
	free(scores);
	free(types);
	return rc;
}
