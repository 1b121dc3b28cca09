/*
 * 103-formats-gguf-write.c - the GGUF writer: every value type (arrays
 * of strings and of arrays included) and streamed tensors round-trip
 * through the reader; a custom alignment is honoured; misuse is refused
 * and leaves no file behind; every fixture GGUF copied through the
 * writer comes out byte for byte identical.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "formats/formats.h"
#include "quant/quant-common.h"

static char dir[] = "/tmp/moescope-t103-XXXXXX";

/* Number of entries in dir other than . and .. */
static int
dir_count(void)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

static int
same_file(const char *a, const char *b)
{
	struct util_map ma, mb;
	struct err e;
	int same;

	if (util_map_open(&ma, a, &e) != 0)
		return 0;
	if (util_map_open(&mb, b, &e) != 0) {
		util_map_close(&ma);
		return 0;
	}
	same = ma.size == mb.size && (ma.size == 0 ||
	    memcmp(ma.data, mb.data, ma.size) == 0);
	if (!same) {
		size_t i = 0;

		while (i < ma.size && i < mb.size &&
		    ((char *)ma.data)[i] == ((char *)mb.data)[i])
			i++;
		diag("sizes %zu vs %zu, first difference at %zu", ma.size,
		    mb.size, i);
	}
	util_map_close(&ma);
	util_map_close(&mb);
	return same;
}

static void
roundtrip(void)
{
	static const uint8_t u8s[] = { 0, 1, 255 };
	static const int16_t i16s[] = { -32768, 0, 32767 };
	static const uint32_t u32s[] = { 1, 0xdeadbeef };
	static const int64_t i64s[] = { INT64_MIN, -1, INT64_MAX };
	static const float f32s[] = { 1.5f, -0.0f, 3.25e-5f };
	static const double f64s[] = { 1e300, -2.5 };
	static const uint8_t bools[] = { 1, 0, 1 };
	const float fbig[] = { NAN, 1e30f, -1e30f };
	static const char *strs[] = { "", "hello", "\xc3\xa9t\xc3\xa9" };
	const char *path = tap_path("%s/rt.gguf", dir);
	struct gguf_writer *w;
	struct gguf_value inner[2], outer, deep[2];
	struct gguf_str istrs[2] = { { "a", 1 }, { "bc", 2 } };
	const struct gguf_value *v;
	const struct gguf_tensor *t;
	struct gguf *g;
	struct err e;
	uint64_t ne3[3] = { 32, 3, 2 }, ne1[1] = { 5 }, ne2[2] = { 64, 2 };
	uint64_t idx, u64;
	float data3[32 * 3 * 2], data1[5];
	uint8_t q8[2 * 2 * 34];
	int64_t i64;
	uint32_t u32;
	float f;
	int b, rc, i;
	char *s;

	for (i = 0; i < 192; i++)
		data3[i] = (float)i * 0.5f;
	for (i = 0; i < 5; i++)
		data1[i] = -(float)i;
	for (i = 0; i < (int)sizeof q8; i++)
		q8[i] = (uint8_t)(i * 7);

	memset(inner, 0, sizeof inner);
	inner[0].type = inner[1].type = GGUF_TYPE_ARRAY;
	inner[0].elem_type = GGUF_TYPE_UINT32;
	inner[0].n = 2;
	inner[0].raw = "\x01\x00\x00\x00\x02\x00\x00\x00";
	inner[1].elem_type = GGUF_TYPE_STRING;
	inner[1].n = 2;
	inner[1].strs = istrs;
	memset(&outer, 0, sizeof outer);
	outer.type = GGUF_TYPE_ARRAY;
	outer.elem_type = GGUF_TYPE_ARRAY;
	outer.n = 2;
	outer.elems = inner;

	rc = gguf_writer_new(&w, &e);
	ok(rc == 0, "writer_new");
	rc = 0;
	rc |= gguf_writer_set_str(w, "general.architecture", "test", &e);
	rc |= gguf_writer_set_u32(w, "general.alignment", 64, &e);
	rc |= gguf_writer_set_u8(w, "t.u8", 200, &e);
	rc |= gguf_writer_set_i8(w, "t.i8", -100, &e);
	rc |= gguf_writer_set_u16(w, "t.u16", 65535, &e);
	rc |= gguf_writer_set_i16(w, "t.i16", -30000, &e);
	rc |= gguf_writer_set_u32(w, "t.u32", 4000000000u, &e);
	rc |= gguf_writer_set_i32(w, "t.i32", -2000000000, &e);
	rc |= gguf_writer_set_u64(w, "t.u64", UINT64_MAX, &e);
	rc |= gguf_writer_set_i64(w, "t.i64", INT64_MIN, &e);
	rc |= gguf_writer_set_f32(w, "t.f32", 0.1f, &e);
	rc |= gguf_writer_set_f64(w, "t.f64", 0.1, &e);
	rc |= gguf_writer_set_bool(w, "t.bool", 1, &e);
	rc |= gguf_writer_set_strn(w, "t.str", "a\0b", 3, &e);
	rc |= gguf_writer_set_str(w, "t.empty", "", &e);
	rc |= gguf_writer_set_arr(w, "t.a.u8", GGUF_TYPE_UINT8, u8s, 3, &e);
	rc |= gguf_writer_set_arr(w, "t.a.i16", GGUF_TYPE_INT16, i16s, 3, &e);
	rc |= gguf_writer_set_arr(w, "t.a.u32", GGUF_TYPE_UINT32, u32s, 2, &e);
	rc |= gguf_writer_set_arr(w, "t.a.i64", GGUF_TYPE_INT64, i64s, 3, &e);
	rc |= gguf_writer_set_arr(w, "t.a.f32", GGUF_TYPE_FLOAT32, f32s, 3, &e);
	rc |= gguf_writer_set_arr(w, "t.a.f64", GGUF_TYPE_FLOAT64, f64s, 2, &e);
	rc |= gguf_writer_set_arr(w, "t.a.bool", GGUF_TYPE_BOOL, bools, 3, &e);
	rc |= gguf_writer_set_arr(w, "t.a.none", GGUF_TYPE_UINT32, NULL, 0, &e);
	rc |= gguf_writer_set_arr(w, "t.a.fbig", GGUF_TYPE_FLOAT32, fbig, 3,
	    &e);
	rc |= gguf_writer_set_str_arr(w, "t.a.str", strs, 3, &e);
	rc |= gguf_writer_set_value(w, "t.a.nested", &outer, &e);
	rc |= gguf_writer_set_u32(w, "t.replaced", 1, &e);
	rc |= gguf_writer_set_str(w, "t.replaced", "two", &e);
	rc |= gguf_writer_set_u32(w, "t.removed", 1, &e);
	gguf_writer_remove(w, "t.removed");
	ok(rc == 0, "set every value type");
	if (rc != 0)
		diag("%s", e.msg);

	/* refused settings */
	ok(gguf_writer_set_u32(w, "general.alignment", 48, &e) == ERR_USAGE &&
	    strstr(e.msg, "alignment"), "alignment 48 refused");
	ok(gguf_writer_set_u64(w, "general.alignment", 64, &e) == ERR_USAGE,
	    "u64 alignment refused");
	ok(gguf_writer_set_u32(w, "bad\xff", 1, &e) == ERR_USAGE &&
	    strstr(e.msg, "UTF-8"), "non-UTF-8 key refused");
	ok(gguf_writer_set_u32(w, "", 1, &e) == ERR_USAGE, "empty key refused");
	memset(deep, 0, sizeof deep);
	deep[0].type = GGUF_TYPE_BOOL;
	deep[0].num.u = 2;
	ok(gguf_writer_set_value(w, "t.badbool", &deep[0], &e) == ERR_USAGE,
	    "bool 2 refused");
	deep[0].type = 13;
	ok(gguf_writer_set_value(w, "t.badtype", &deep[0], &e) == ERR_USAGE,
	    "value type 13 refused");

	rc = 0;
	rc |= gguf_writer_add_tensor(w, "t3", GGML_TYPE_F32, 3, ne3, &idx, &e);
	rc |= gguf_writer_add_tensor(w, "t1", GGML_TYPE_F32, 1, ne1, NULL, &e);
	rc |= gguf_writer_add_tensor(w, "tq", GGML_TYPE_Q8_0, 2, ne2, &idx,
	    &e);
	ok(rc == 0 && idx == 2, "add 3 tensors");
	is_int(gguf_writer_tensor_nbytes(w, 2), 2 * 2 * 34, "Q8_0 nbytes");
	ok(gguf_writer_add_tensor(w, "t1", GGML_TYPE_F32, 1, ne1, NULL, &e)
	    == ERR_USAGE && strstr(e.msg, "duplicate"), "duplicate refused");
	ne1[0] = 0;
	ok(gguf_writer_add_tensor(w, "z", GGML_TYPE_F32, 1, ne1, NULL, &e)
	    == ERR_USAGE, "zero dimension refused");
	ne1[0] = 33;
	ok(gguf_writer_add_tensor(w, "q", GGML_TYPE_Q8_0, 1, ne1, NULL, &e)
	    == ERR_USAGE && strstr(e.msg, "block"), "partial block refused");
	ne1[0] = 5;
	ok(gguf_writer_add_tensor(w, "u", 9999, 1, ne1, NULL, &e) ==
	    ERR_USAGE, "unknown type refused");
	{
		uint64_t big[4] = { 1ull << 40, 1ull << 40, 1, 1 };

		ok(gguf_writer_add_tensor(w, "big", GGML_TYPE_F32, 2, big,
		    NULL, &e) == ERR_RANGE, "size overflow refused");
	}
	ok(gguf_writer_write_data(w, 0, data3, 4, &e) == ERR_USAGE,
	    "write before begin refused");

	ok(gguf_writer_begin(w, path, &e) == 0, "begin");
	ok(gguf_writer_set_u32(w, "late", 1, &e) == ERR_USAGE,
	    "set after begin refused");
	ok(gguf_writer_write_data(w, 1, data1, 4, &e) == ERR_USAGE,
	    "out-of-order write refused");
	rc = 0;
	/* tensor 0 in three pieces */
	rc |= gguf_writer_write_data(w, 0, data3, 100, &e);
	rc |= gguf_writer_write_data(w, 0, (char *)data3 + 100, 0, &e);
	rc |= gguf_writer_write_data(w, 0, (char *)data3 + 100,
	    sizeof data3 - 100, &e);
	ok(gguf_writer_write_data(w, 0, data3, 1, &e) == ERR_USAGE,
	    "write past a tensor's size refused");
	rc |= gguf_writer_write_data(w, 1, data1, sizeof data1, &e);
	rc |= gguf_writer_write_data(w, 2, q8, sizeof q8, &e);
	ok(rc == 0, "stream tensor data");
	ok(access(path, F_OK) != 0, "nothing at the target before finish");
	ok(gguf_writer_finish(w, &e) == 0, "finish");
	gguf_writer_free(w);

	if (!ok(gguf_open(&g, path, &e) == 0, "read back")) {
		diag("%s", e.msg);
		return;
	}
	is_int(g->alignment, 64, "alignment read back");
	is_int(g->data_offset % 64, 0, "data section aligned to 64");
	is_int(g->n_kv, 27, "27 keys");
	ok(strcmp(g->kv[0].key, "general.architecture") == 0 &&
	    strcmp(g->kv[g->n_kv - 1].key, "t.replaced") == 0,
	    "keys in insertion order");
	ok(gguf_get_u32(g, "t.u8", &u32, &e) == 0 && u32 == 200, "u8");
	ok(gguf_get_i64(g, "t.i8", &i64, &e) == 0 && i64 == -100, "i8");
	ok(gguf_get_u32(g, "t.u16", &u32, &e) == 0 && u32 == 65535, "u16");
	ok(gguf_get_i64(g, "t.i16", &i64, &e) == 0 && i64 == -30000, "i16");
	ok(gguf_get_u32(g, "t.u32", &u32, &e) == 0 && u32 == 4000000000u,
	    "u32");
	ok(gguf_get_i64(g, "t.i32", &i64, &e) == 0 && i64 == -2000000000,
	    "i32");
	ok(gguf_get_u64(g, "t.u64", &u64, &e) == 0 && u64 == UINT64_MAX,
	    "u64");
	ok(gguf_get_i64(g, "t.i64", &i64, &e) == 0 && i64 == INT64_MIN,
	    "i64");
	ok(gguf_get_f32(g, "t.f32", &f, &e) == 0 && f == 0.1f, "f32");
	v = gguf_get(g, "t.f64");
	ok(v != NULL && v->type == GGUF_TYPE_FLOAT64 && v->num.f == 0.1,
	    "f64");
	ok(gguf_get_bool(g, "t.bool", &b, &e) == 0 && b == 1, "bool");
	v = gguf_get(g, "t.str");
	ok(v != NULL && v->str.len == 3 && memcmp(v->str.s, "a\0b", 3) == 0,
	    "string with a NUL byte");
	ok(gguf_get_strdup(g, "t.empty", &s, &e) == 0 && s[0] == '\0',
	    "empty string");
	free(s);
	ok(gguf_get_strdup(g, "t.replaced", &s, &e) == 0 &&
	    strcmp(s, "two") == 0, "replaced value");
	free(s);
	ok(gguf_get(g, "t.removed") == NULL, "removed key absent");
	v = gguf_get(g, "t.a.u8");
	ok(v && v->elem_type == GGUF_TYPE_UINT8 && v->n == 3 &&
	    gguf_arr_i64(v, 2) == 255, "u8 array");
	v = gguf_get(g, "t.a.i16");
	ok(v && v->n == 3 && gguf_arr_i64(v, 0) == -32768 &&
	    gguf_arr_i64(v, 2) == 32767, "i16 array");
	v = gguf_get(g, "t.a.u32");
	ok(v && v->n == 2 && gguf_arr_i64(v, 1) == 0xdeadbeef, "u32 array");
	v = gguf_get(g, "t.a.i64");
	ok(v && v->n == 3 && gguf_arr_i64(v, 0) == INT64_MIN &&
	    gguf_arr_i64(v, 2) == INT64_MAX, "i64 array");
	v = gguf_get(g, "t.a.f32");
	ok(v && v->n == 3 && gguf_arr_f64(v, 2) == (double)3.25e-5f,
	    "f32 array");
	v = gguf_get(g, "t.a.f64");
	ok(v && v->n == 2 && gguf_arr_f64(v, 0) == 1e300, "f64 array");
	v = gguf_get(g, "t.a.bool");
	ok(v && v->elem_type == GGUF_TYPE_BOOL && v->n == 3 &&
	    memcmp(v->raw, bools, 3) == 0, "bool array");
	v = gguf_get(g, "t.a.fbig");
	ok(v && isnan(gguf_arr_f64(v, 0)) && gguf_arr_i64(v, 0) == 0 &&
	    gguf_arr_i64(v, 1) == INT64_MAX &&
	    gguf_arr_i64(v, 2) == INT64_MIN &&
	    gguf_arr_i64(v, 3) == 0, "float array as int64 saturates; index "
	    "past the end is 0");
	v = gguf_get(g, "t.a.none");
	ok(v && v->type == GGUF_TYPE_ARRAY && v->n == 0, "empty array");
	{
		const struct gguf_str *ss;
		uint64_t n;

		ok(gguf_get_str_arr(g, "t.a.str", &ss, &n, &e) == 0 && n == 3 &&
		    ss[0].len == 0 && ss[1].len == 5 &&
		    memcmp(ss[2].s, strs[2], strlen(strs[2])) == 0,
		    "string array");
	}
	v = gguf_get(g, "t.a.nested");
	ok(v && v->elem_type == GGUF_TYPE_ARRAY && v->n == 2 &&
	    v->elems[0].elem_type == GGUF_TYPE_UINT32 &&
	    gguf_arr_i64(&v->elems[0], 1) == 2 &&
	    v->elems[1].elem_type == GGUF_TYPE_STRING &&
	    v->elems[1].n == 2 && v->elems[1].strs[1].len == 2 &&
	    memcmp(v->elems[1].strs[1].s, "bc", 2) == 0,
	    "array of arrays (u32, strings)");

	is_int(g->n_tensors, 3, "3 tensors");
	t = gguf_find_tensor(g, "t3");
	ok(t && t->n_dims == 3 && t->ne[0] == 32 && t->ne[1] == 3 &&
	    t->ne[2] == 2 && t->type == GGML_TYPE_F32 &&
	    memcmp(t->data, data3, sizeof data3) == 0, "t3 shape and data");
	t = gguf_find_tensor(g, "t1");
	ok(t && t->n_dims == 1 && t->ne[0] == 5 && t->offset % 64 == 0 &&
	    memcmp(t->data, data1, sizeof data1) == 0, "t1 aligned, data");
	t = gguf_find_tensor(g, "tq");
	ok(t && t->type == GGML_TYPE_Q8_0 && t->nbytes == sizeof q8 &&
	    t->offset % 64 == 0 && memcmp(t->data, q8, sizeof q8) == 0,
	    "tq Q8_0 aligned, data");
	ok(g->map.size % 64 == 0, "last tensor padded too");
	gguf_close(g);
	unlink(path);
}

static void
misuse(void)
{
	const char *path = tap_path("%s/bad.gguf", dir);
	struct gguf_writer *w;
	struct err e;
	uint64_t ne[1] = { 8 };
	float d[8] = { 0 };

	/* finish with a tensor short: refused, temp file gone */
	gguf_writer_new(&w, &e);
	gguf_writer_add_tensor(w, "a", GGML_TYPE_F32, 1, ne, NULL, &e);
	gguf_writer_add_tensor(w, "b", GGML_TYPE_F32, 1, ne, NULL, &e);
	gguf_writer_begin(w, path, &e);
	gguf_writer_write_data(w, 0, d, sizeof d, &e);
	gguf_writer_write_data(w, 1, d, 4, &e);
	ok(gguf_writer_finish(w, &e) == ERR_USAGE && strstr(e.msg, "'b'") &&
	    strstr(e.msg, "incomplete"), "finish with a short tensor "
	    "refused, names it: %s", e.msg);
	is_int(dir_count(), 0, "no output, no temp file left");
	gguf_writer_free(w);

	/* abort */
	gguf_writer_new(&w, &e);
	gguf_writer_add_tensor(w, "a", GGML_TYPE_F32, 1, ne, NULL, &e);
	gguf_writer_begin(w, path, &e);
	is_int(dir_count(), 1, "temp file exists while writing");
	gguf_writer_abort(w);
	is_int(dir_count(), 0, "abort removes the temp file");
	gguf_writer_free(w);

	/* free without finish */
	gguf_writer_new(&w, &e);
	gguf_writer_begin(w, path, &e);
	gguf_writer_free(w);
	is_int(dir_count(), 0, "free of an unfinished writer removes it");

	/* unwritable target */
	gguf_writer_new(&w, &e);
	ok(gguf_writer_begin(w, "/nonexistent-dir/x.gguf", &e) == ERR_IO &&
	    strstr(e.msg, "/nonexistent-dir/x.gguf"), "unwritable path: %s",
	    e.msg);
	gguf_writer_free(w);

	/* no tensors, no keys: a valid empty GGUF */
	gguf_writer_new(&w, &e);
	gguf_writer_begin(w, path, &e);
	ok(gguf_writer_finish(w, &e) == 0, "empty file finishes");
	gguf_writer_free(w);
	{
		struct gguf *g;

		ok(gguf_open(&g, path, &e) == 0 && g->n_kv == 0 &&
		    g->n_tensors == 0, "empty file reads back");
		gguf_close(g);
	}
	unlink(path);
}

static void
copies(const char *fx)
{
	static const char *archs[] = {
		"mixtral", "qwen2moe", "qwen3moe", "olmoe", "deepseek2",
		"gpt-oss"
	};
	static const char *variants[] = { "f32", "q8_0", "q4_k_m",
		"mxfp4_moe" };
	char out[4096], in[4096];
	struct gguf *g;
	struct err e;
	size_t a, v;

	/* own buffers: tap_path()'s rotate, and out must never alias a
	 * fixture */
	snprintf(out, sizeof out, "%s/copy.gguf", dir);
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++)
		for (v = 0; v < 4; v++) {
			snprintf(in, sizeof in, "%s/models/%s/%s-%s.gguf",
			    fx, archs[a], archs[a], variants[v]);
			if (access(in, R_OK) != 0)
				continue;
			if (gguf_open(&g, in, &e) != 0) {
				ok(0, "open %s: %s", in, e.msg);
				continue;
			}
			ok(gguf_copy(g, out, &e) == 0 && same_file(in, out),
			    "%s-%s copied byte for byte", archs[a],
			    variants[v]);
			gguf_close(g);
			unlink(out);
		}
	snprintf(in, sizeof in, "%s/tokenizer/ggml-vocab-qwen2.gguf", fx);
	if (gguf_open(&g, in, &e) == 0) {
		ok(gguf_copy(g, out, &e) == 0 && same_file(in, out),
		    "vocab-only qwen2 copied byte for byte");
		gguf_close(g);
		unlink(out);
	}
}

int
main(void)
{
	const char *fx = tap_fixtures();

	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot create a temporary directory");
	roundtrip();
	misuse();
	if (fx != NULL)
		copies(fx);
	else
		diag("no fixtures: copy tests skipped");
	rmdir(dir);
	return tap_done();
}
