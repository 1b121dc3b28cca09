/*
 * fuzz-gguf.c - libFuzzer target for the GGUF reader (scripts/fuzz).
 *
 * Parses the input with gguf_open_mem(); when it is accepted, every typed
 * getter runs on every key, every array element is read, and the first
 * and last byte of every tensor is touched, so that AddressSanitizer
 * catches any view the reader let point outside the input. Accepted
 * inputs are also written back through the GGUF writer (into a buffer
 * file in /dev/shm) and must parse again with the same counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void
touch_value(const struct gguf_value *v)
{
	uint64_t i;

	if (v->type != GGUF_TYPE_ARRAY) {
		if (v->type == GGUF_TYPE_STRING && v->str.len > 0)
			sink += (uint8_t)v->str.s[v->str.len - 1];
		return;
	}
	for (i = 0; i < v->n; i++) {
		if (v->elem_type == GGUF_TYPE_STRING) {
			if (v->strs[i].len > 0)
				sink += (uint8_t)v->strs[i].s[0] +
				    (uint8_t)v->strs[i].s[v->strs[i].len - 1];
		} else if (v->elem_type == GGUF_TYPE_ARRAY)
			touch_value(&v->elems[i]);
		else
			sink += (uint64_t)gguf_arr_i64(v, i) +
			    (gguf_arr_f64(v, i) > 0);
	}
}

static void
roundtrip(const struct gguf *g)
{
	static char path[64];
	struct gguf *h;
	struct err e;

	if (path[0] == '\0')
		snprintf(path, sizeof path, "/dev/shm/fuzz-gguf-%ld.gguf",
		    (long)getpid());
	if (gguf_copy(g, path, &e) != 0)
		return;
	if (gguf_open(&h, path, &e) != 0 || h->n_kv != g->n_kv ||
	    h->n_tensors != g->n_tensors)
		__builtin_trap();
	gguf_close(h);
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gguf_str *ss;
	const void *raw;
	struct gguf *g;
	struct err e;
	uint64_t i, n, u64;
	int64_t i64;
	uint32_t u32;
	float f;
	int b, et;
	char *s;

	if (gguf_open_mem(&g, data, size, "fuzz", &e) != 0) {
		if (strncmp(e.msg, "fuzz", 4) != 0)
			__builtin_trap();	/* messages name the file */
		return 0;
	}
	for (i = 0; i < g->n_kv; i++) {
		const char *k = g->kv[i].key;

		gguf_get_u32(g, k, &u32, &e);
		gguf_get_u64(g, k, &u64, &e);
		gguf_get_i64(g, k, &i64, &e);
		gguf_get_f32(g, k, &f, &e);
		gguf_get_bool(g, k, &b, &e);
		if (gguf_get_strdup(g, k, &s, &e) == 0)
			free(s);
		gguf_get_str_arr(g, k, &ss, &n, &e);
		gguf_get_arr(g, k, &et, &raw, &n, &e);
		touch_value(&g->kv[i].v);
		if (gguf_find_key(g, k) < 0)
			__builtin_trap();
	}
	for (i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];

		if (gguf_find_tensor(g, t->name) == NULL)
			__builtin_trap();
		sink += ((const uint8_t *)t->data)[0] +
		    ((const uint8_t *)t->data)[t->nbytes - 1];
	}
	if (size < 65536)
		roundtrip(g);
	gguf_close(g);
	return 0;
}
