/*
 * 102-formats-gguf-hostile.c - hostile GGUF images built byte by byte:
 * every truncation of a small valid file, counts and lengths near 2^64,
 * unknown value and tensor types, bad UTF-8, zero and overflowing
 * shapes, misaligned, overlapping and out-of-file tensors, bad
 * alignment values, duplicates, deep nesting. Each must be rejected with
 * a message naming the file and the problem; none may crash or read out
 * of bounds (run under valgrind or ASan to check the latter).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "formats/formats.h"
#include "quant/quant-common.h"

#define NAME "hostile.gguf"

struct b {
	uint8_t	p[8192];
	size_t	n;
};

static void
b_raw(struct b *b, const void *p, size_t n)
{
	if (b->n + n <= sizeof b->p) {
		memcpy(b->p + b->n, p, n);
		b->n += n;
	}
}

static void
b_le(struct b *b, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));

		b_raw(b, &c, 1);
	}
}

static void
b_str(struct b *b, const char *s)
{
	b_le(b, strlen(s), 8);
	b_raw(b, s, strlen(s));
}

static void
b_hdr(struct b *b, uint64_t n_tensors, uint64_t n_kv)
{
	b->n = 0;
	b_raw(b, "GGUF", 4);
	b_le(b, 3, 4);
	b_le(b, n_tensors, 8);
	b_le(b, n_kv, 8);
}

static void
kv_u32(struct b *b, const char *key, uint32_t v)
{
	b_str(b, key);
	b_le(b, GGUF_TYPE_UINT32, 4);
	b_le(b, v, 4);
}

static void
kv_str(struct b *b, const char *key, const char *v)
{
	b_str(b, key);
	b_le(b, GGUF_TYPE_STRING, 4);
	b_str(b, v);
}

/* A tensor info with up to 4 dims. */
static void
ti(struct b *b, const char *name, int n_dims, const uint64_t *ne,
    uint32_t type, uint64_t off)
{
	int d;

	b_str(b, name);
	b_le(b, (uint64_t)n_dims, 4);
	for (d = 0; d < n_dims; d++)
		b_le(b, ne[d], 8);
	b_le(b, type, 4);
	b_le(b, off, 8);
}

static void
b_pad(struct b *b, size_t a)
{
	while (b->n % a != 0)
		b_le(b, 0, 1);
}

static void
b_zeros(struct b *b, size_t n)
{
	while (n-- > 0)
		b_le(b, 0, 1);
}

/* Expect rejection with a message naming the file and containing want. */
static void
reject(const struct b *b, const char *want, const char *what)
{
	struct gguf *g = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = gguf_open_mem(&g, b->p, b->n, NAME, &e);
	if (!ok(rc < 0 && g == NULL && strstr(e.msg, NAME) != NULL &&
	    strstr(e.msg, want) != NULL, "%s: rejected", what))
		diag("rc %d, message: %s (want '%s')", rc, e.msg, want);
	gguf_close(g);
}

/* The small valid file every case starts from. */
static void
valid(struct b *b)
{
	uint64_t ne2[2] = { 8, 2 }, ne1[1] = { 4 };

	b_hdr(b, 2, 3);
	kv_str(b, "general.architecture", "llama");
	kv_u32(b, "llama.block_count", 2);
	b_str(b, "tokenizer.ggml.tokens");
	b_le(b, GGUF_TYPE_ARRAY, 4);
	b_le(b, GGUF_TYPE_STRING, 4);
	b_le(b, 2, 8);
	b_str(b, "a");
	b_str(b, "bc");
	ti(b, "w", 2, ne2, GGML_TYPE_F32, 0);
	ti(b, "n", 1, ne1, GGML_TYPE_F32, 64);
	b_pad(b, 32);
	b_zeros(b, 64 + 16);
}

static void
truncations(void)
{
	struct b b;
	struct gguf *g;
	struct err e;
	size_t len, bad = 0;

	valid(&b);
	ok(gguf_open_mem(&g, b.p, b.n, NAME, &e) == 0 && g->n_tensors == 2,
	    "the base file is valid");
	gguf_close(g);
	for (len = 0; len < b.n; len++) {
		/* a copy of exactly len bytes, so reads past it are caught */
		uint8_t *p = malloc(len ? len : 1);

		memcpy(p, b.p, len);
		err_clear(&e);
		if (gguf_open_mem(&g, p, len, NAME, &e) == 0) {
			gguf_close(g);
			bad++;
			diag("prefix of %zu bytes accepted", len);
		} else if (strstr(e.msg, NAME) == NULL) {
			bad++;
			diag("prefix %zu: message '%s'", len, e.msg);
		}
		free(p);
	}
	is_int(bad, 0, "all %zu truncations rejected with a message", b.n);
}

static void
counts(void)
{
	struct b b;
	uint64_t ne[2] = { 8, 2 };

	b_hdr(&b, 0, UINT64_MAX);
	reject(&b, "metadata count", "n_kv 2^64-1");
	b_hdr(&b, 1ull << 62, 0);
	reject(&b, "tensor count", "n_tensors 2^62");
	b_hdr(&b, 0, 1);
	b_le(&b, UINT64_MAX - 3, 8);	/* key length */
	b_raw(&b, "abc", 3);
	b_zeros(&b, 16);
	reject(&b, "truncated", "key length 2^64-4");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_STRING, 4);
	b_le(&b, UINT64_MAX, 8);
	reject(&b, "truncated", "string length 2^64-1");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, GGUF_TYPE_UINT32, 4);
	b_le(&b, 1ull << 62, 8);	/* 2^62 * 4 overflows */
	reject(&b, "'k'", "u32 array length 2^62");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, GGUF_TYPE_UINT64, 4);
	b_le(&b, UINT64_MAX / 8, 8);
	reject(&b, "truncated: k needs", "u64 array length 2^61");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, GGUF_TYPE_STRING, 4);
	b_le(&b, UINT64_MAX, 8);
	reject(&b, "strings exceeds", "string array length 2^64-1");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, UINT64_MAX, 8);
	reject(&b, "arrays exceeds", "array-of-arrays length 2^64-1");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, GGUF_TYPE_STRING, 4);
	b_le(&b, 2, 8);
	b_str(&b, "x");
	b_le(&b, UINT64_MAX - 1, 8);
	reject(&b, "truncated", "second string of an array 2^64-2 long");
	b_hdr(&b, 1, 0);
	b_str(&b, "w");
	b_le(&b, 0, 4);			/* n_dims */
	b_zeros(&b, 64);
	reject(&b, "dimensions", "n_dims 0");
	(void)ne;
}

static void
types(void)
{
	struct b b;
	uint64_t ne[1] = { 32 };
	int d;

	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, 13, 4);
	b_le(&b, 0, 8);
	reject(&b, "unknown value type", "value type 13");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, 0xffffffffu, 4);
	b_le(&b, 0, 8);
	reject(&b, "unknown value type", "value type 2^32-1");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_ARRAY, 4);
	b_le(&b, 99, 4);
	b_le(&b, 0, 8);
	reject(&b, "element type", "array element type 99");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	b_le(&b, GGUF_TYPE_BOOL, 4);
	b_le(&b, 2, 1);
	reject(&b, "bool", "bool value 2");
	b_hdr(&b, 0, 1);
	b_str(&b, "k");
	for (d = 0; d < 12; d++) {
		b_le(&b, GGUF_TYPE_ARRAY, 4);
		if (d > 0)
			b_le(&b, 1, 8);
	}
	b_le(&b, GGUF_TYPE_UINT8, 4);
	b_le(&b, 0, 8);
	reject(&b, "nested", "arrays nested 12 deep");
	b_hdr(&b, 1, 0);
	ti(&b, "w", 1, ne, 4, 0);	/* removed Q4_2 */
	b_pad(&b, 32);
	b_zeros(&b, 128);
	reject(&b, "unknown type", "tensor type 4 (removed)");
	b_hdr(&b, 1, 0);
	ti(&b, "w", 1, ne, 1000, 0);
	b_pad(&b, 32);
	b_zeros(&b, 128);
	reject(&b, "unknown type", "tensor type 1000");
	b_hdr(&b, 1, 0);
	ne[0] = 33;
	ti(&b, "w", 1, ne, GGML_TYPE_Q8_0, 0);
	b_pad(&b, 32);
	b_zeros(&b, 128);
	reject(&b, "block size", "row not a multiple of the block");
}

static void
names(void)
{
	struct b b;
	uint64_t ne[1] = { 4 };

	b_hdr(&b, 0, 1);
	kv_u32(&b, "bad\xc3(", 1);
	reject(&b, "UTF-8", "non-UTF-8 key");
	b_hdr(&b, 0, 1);
	b_le(&b, 3, 8);
	b_raw(&b, "a\0b", 3);
	b_le(&b, GGUF_TYPE_UINT8, 4);
	b_le(&b, 1, 1);
	reject(&b, "UTF-8", "key with a NUL byte");
	b_hdr(&b, 0, 1);
	kv_u32(&b, "", 1);
	reject(&b, "length 0", "empty key");
	b_hdr(&b, 0, 2);
	kv_u32(&b, "same", 1);
	kv_str(&b, "same", "x");
	reject(&b, "duplicate metadata key 'same'", "duplicate key");
	b_hdr(&b, 1, 0);
	ti(&b, "\xff\xfe", 1, ne, GGML_TYPE_F32, 0);
	b_pad(&b, 32);
	b_zeros(&b, 32);
	reject(&b, "UTF-8", "non-UTF-8 tensor name");
	b_hdr(&b, 2, 0);
	ti(&b, "t", 1, ne, GGML_TYPE_F32, 0);
	ti(&b, "t", 1, ne, GGML_TYPE_F32, 32);
	b_pad(&b, 32);
	b_zeros(&b, 64);
	reject(&b, "duplicate tensor 't'", "duplicate tensor");
}

static void
shapes(void)
{
	struct b b;
	uint64_t z[2] = { 4, 0 }, big[4] = { 1ull << 32, 1ull << 32, 4, 1 };
	uint64_t neg[1] = { 1ull << 63 }, ne[1] = { 8 };

	b_hdr(&b, 1, 0);
	ti(&b, "z", 2, z, GGML_TYPE_F32, 0);
	b_pad(&b, 32);
	reject(&b, "dimension 1 is 0", "zero dimension");
	b_hdr(&b, 1, 0);
	ti(&b, "big", 4, big, GGML_TYPE_F32, 0);
	b_pad(&b, 32);
	reject(&b, "overflows", "shape product overflows");
	b_hdr(&b, 1, 0);
	ti(&b, "neg", 1, neg, GGML_TYPE_F32, 0);
	b_pad(&b, 32);
	reject(&b, "dimension 0", "dimension 2^63 (negative as int64)");
	b_hdr(&b, 1, 0);
	b_str(&b, "five");
	b_le(&b, 5, 4);
	b_zeros(&b, 64);
	reject(&b, "dimensions", "5 dimensions");
	b_hdr(&b, 1, 0);
	ti(&b, "w", 1, ne, GGML_TYPE_F32, 0);
	b_pad(&b, 32);
	b_zeros(&b, 31);
	reject(&b, "past the end", "tensor data past the end of the file");
	b_hdr(&b, 1, 0);
	ti(&b, "w", 1, ne, GGML_TYPE_F32, UINT64_MAX - 31);
	b_pad(&b, 32);
	b_zeros(&b, 32);
	reject(&b, "'w'", "offset near 2^64");
	b_hdr(&b, 1, 0);
	ti(&b, "w", 1, ne, GGML_TYPE_F32, 8);
	b_pad(&b, 32);
	b_zeros(&b, 64);
	reject(&b, "not a multiple of the alignment", "misaligned offset");
	b_hdr(&b, 2, 0);
	ne[0] = 16;
	ti(&b, "a", 1, ne, GGML_TYPE_F32, 0);
	ti(&b, "b", 1, ne, GGML_TYPE_F32, 32);	/* a covers 0..64 */
	b_pad(&b, 32);
	b_zeros(&b, 128);
	reject(&b, "overlap", "overlapping tensors");
}

static void
alignment(void)
{
	struct b b;
	uint64_t ne[1] = { 8 };

	b_hdr(&b, 0, 1);
	kv_u32(&b, "general.alignment", 0);
	reject(&b, "general.alignment", "alignment 0");
	b_hdr(&b, 0, 1);
	kv_u32(&b, "general.alignment", 48);
	reject(&b, "power of two", "alignment 48");
	b_hdr(&b, 0, 1);
	kv_str(&b, "general.alignment", "32");
	reject(&b, "general.alignment", "alignment as a string");
	b_hdr(&b, 1, 1);
	kv_u32(&b, "general.alignment", 0x80000000u);
	ti(&b, "w", 1, ne, GGML_TYPE_F32, 0);
	b_zeros(&b, 64);
	reject(&b, "'w'", "alignment 2^31 puts data past the end");
	/* and a good custom alignment is accepted */
	{
		struct gguf *g;
		struct err e;

		b_hdr(&b, 1, 1);
		kv_u32(&b, "general.alignment", 16);
		ti(&b, "w", 1, ne, GGML_TYPE_F32, 0);
		b_pad(&b, 16);
		b_zeros(&b, 32);
		ok(gguf_open_mem(&g, b.p, b.n, NAME, &e) == 0 &&
		    g->alignment == 16 && g->data_offset % 16 == 0,
		    "alignment 16 accepted");
		gguf_close(g);
	}
}

static void
header(void)
{
	struct b b;

	b_hdr(&b, 0, 0);
	memcpy(b.p, "GGUG", 4);
	reject(&b, "not a GGUF file", "bad magic");
	b_hdr(&b, 0, 0);
	b.p[4] = 1;
	reject(&b, "version 1", "version 1");
	b_hdr(&b, 0, 0);
	b.p[4] = 4;
	reject(&b, "version 4", "version 4");
	b.n = 0;
	reject(&b, "truncated", "empty file");
}

static void
on_disk(void)
{
	char path[] = "/tmp/moescope-t102-XXXXXX";
	struct gguf *g = NULL;
	struct err e;
	struct b b;
	int fd;

	if ((fd = mkstemp(path)) < 0) {
		ok(0, "mkstemp");
		return;
	}
	b_hdr(&b, 1ull << 40, 0);
	if (write(fd, b.p, b.n) != (ssize_t)b.n)
		diag("short write");
	close(fd);
	ok(gguf_open(&g, path, &e) == ERR_FORMAT && g == NULL &&
	    strstr(e.msg, path) != NULL && strstr(e.msg, "tensor count"),
	    "gguf_open names the path: %s", e.msg);
	unlink(path);
	ok(gguf_open(&g, path, &e) < 0 && strstr(e.msg, path) != NULL,
	    "missing file names the path: %s", e.msg);
}

int
main(void)
{
	truncations();
	counts();
	types();
	names();
	shapes();
	alignment();
	header();
	on_disk();
	return tap_done();
}
