/*
 * 302-tokenizer-hostile.c - what users and files can throw at the
 * tokenizer: invalid UTF-8 (handled as llama.cpp does: U+FFFD for
 * byte-level BPE, <0xNN> byte fallback for SentencePiece), random bytes,
 * huge inputs, and broken vocabularies, which must be rejected at load
 * with a message naming the GGUF field - never a crash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine-vocab.h"
#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

static struct tok *
load(const char *fx, const char *name, struct gguf **g)
{
	struct tok *t = NULL;
	struct err e;

	err_clear(&e);
	if (gguf_open(g, tap_path("%s/tokenizer/ggml-vocab-%s.gguf", fx, name),
	    &e) != 0 || engine_vocab_load(&t, *g, &e) != 0) {
		diag("%s: %s", name, e.msg);
		return NULL;
	}
	return t;
}

static int
encode(struct tok *t, const char *s, size_t n, struct tok_ids *ids)
{
	struct err e;

	ids->n = 0;
	return tokenizer_vocab_encode(t, s, n, 0, ids, &e);
}

static int
all_in_range(const struct tok *t, const struct tok_ids *ids)
{
	size_t i, n = tokenizer_vocab_info(t)->n_tokens;

	for (i = 0; i < ids->n; i++)
		if (ids->v[i] < 0 || (size_t)ids->v[i] >= n)
			return 0;
	return 1;
}

static int
same_ids(const struct tok_ids *a, const struct tok_ids *b)
{
	return a->n == b->n && (a->n == 0 ||
	    memcmp(a->v, b->v, a->n * sizeof(int32_t)) == 0);
}

static int
round_trip(const struct tok *t, const struct tok_ids *ids, const char *s,
    size_t n)
{
	struct err e;
	char *d;
	size_t dl;
	int r;

	if (tokenizer_vocab_decode(t, ids->v, ids->n, 0, &d, &dl, &e) != 0)
		return 0;
	r = dl == n && memcmp(d, s, n) == 0;
	free(d);
	return r;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Random valid UTF-8 of about n bytes: ASCII, Latin, CJK, emoji, marks,
 * whitespace of all kinds. */
static size_t
random_utf8(char *o, size_t n)
{
	static const uint32_t pool[] = { ' ', ' ', '\n', '\t', '\r', 'a', 'Z',
	    '7', '\'', '.', 0xa0, 0x85, 0x3000, 0x2009, 0x200b, 0x301, 0xe9,
	    0x4e2d, 0x6587, 0xac00, 0x1f999, 0x1f600, 0x200d, 0xfe0f, 0x378,
	    0xe000, 0xfffd, 0x661, 0x2167, 0x1f, 0x7f };
	size_t k = 0;

	while (k + 4 < n) {
		uint32_t c = rnd() % 4 == 0 ? 0x20 + rnd() % 0x5f :
		    rnd() % 8 == 0 ? 0xa0 + rnd() % 0x2f00 :
		    pool[rnd() % (sizeof pool / sizeof pool[0])];
		char *p = o + k;

		if (c < 0x80) {
			p[0] = (char)c;
			k += 1;
		} else if (c < 0x800) {
			p[0] = (char)(0xc0 | c >> 6);
			p[1] = (char)(0x80 | (c & 63));
			k += 2;
		} else if (c < 0x10000) {
			if (c >= 0xd800 && c < 0xe000)
				continue;
			p[0] = (char)(0xe0 | c >> 12);
			p[1] = (char)(0x80 | (c >> 6 & 63));
			p[2] = (char)(0x80 | (c & 63));
			k += 3;
		} else {
			p[0] = (char)(0xf0 | c >> 18);
			p[1] = (char)(0x80 | (c >> 12 & 63));
			p[2] = (char)(0x80 | (c >> 6 & 63));
			p[3] = (char)(0x80 | (c & 63));
			k += 4;
		}
	}
	return k;
}

/*
 * 300 strings of random bytes (up to max - 1 long) encode with every id
 * in range; 300 random UTF-8 texts round-trip.
 */
static void
random_texts(struct tok *t, const char *name, size_t max,
    struct tok_ids *a)
{
	char buf[2000];
	size_t i, k, fails = 0;

	for (k = 0; k < 300; k++) {
		size_t n = rnd() % max;

		for (i = 0; i < n; i++)
			buf[i] = (char)rnd();
		if (encode(t, buf, n, a) != 0 || !all_in_range(t, a))
			fails++;
	}
	ok(fails == 0, "%s: 300 random byte strings encode", name);
	fails = 0;
	for (k = 0; k < 300; k++) {
		size_t n = random_utf8(buf, rnd() % max);

		if (encode(t, buf, n, a) != 0 || !round_trip(t, a, buf, n))
			fails++;
	}
	ok(fails == 0, "%s: 300 random UTF-8 texts round-trip (%zu failed)",
	    name, fails);
}

static const struct {
	const char	*s;
	size_t		 n;
} bad[] = {
	{ "\xff", 1 }, { "\xc3", 1 }, { "\xe2\x82", 2 },
	{ "\xf0\x9f\x98", 3 }, { "\xed\xa0\x80", 3 }, { "\xc0\x80", 2 },
	{ "\xf4\x90\x80\x80", 4 }, { "\xf8\x88\x80\x80\x80", 5 },
	{ "a\x80" "b\xbf", 4 }, { "\xe4\xb8", 2 }, { "x\0y", 3 },
	{ "\xef\xbb\xbf" "BOM", 6 },
};

static void
invalid_utf8(const char *fx)
{
	static const char *bpe[] = { "qwen2", "llama-bpe", "gpt-2",
	    "deepseek-llm", "falcon", "starcoder" };
	struct tok_ids a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct gguf *g = NULL;
	struct tok *t;
	size_t i, k, fails;

	for (k = 0; k < sizeof bpe / sizeof bpe[0]; k++) {
		if ((t = load(fx, bpe[k], &g)) == NULL) {
			ok(0, "%s: load", bpe[k]);
			continue;
		}
		fails = 0;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
			if (encode(t, bad[i].s, bad[i].n, &a) != 0 ||
			    !all_in_range(t, &a))
				fails++;
		ok(fails == 0, "%s: invalid UTF-8 encodes, ids in range",
		    bpe[k]);
		/* llama.cpp turns each invalid byte into U+FFFD */
		encode(t, "a\xff" "b", 3, &a);
		encode(t, "a\xef\xbf\xbd" "b", 5, &b);
		ok(same_ids(&a, &b), "%s: invalid byte = U+FFFD", bpe[k]);
		encode(t, "\xe2\x82", 2, &a);
		encode(t, "\xef\xbf\xbd\xef\xbf\xbd", 6, &b);
		ok(same_ids(&a, &b), "%s: truncated sequence = 2 x U+FFFD",
		    bpe[k]);
		tokenizer_vocab_free(t);
		gguf_close(g);
		g = NULL;
	}
	/* SPM: raw bytes go through byte fallback and come back intact */
	if ((t = load(fx, "llama-spm", &g)) != NULL) {
		fails = 0;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
			if (encode(t, bad[i].s, bad[i].n, &a) != 0 ||
			    !all_in_range(t, &a) ||
			    !round_trip(t, &a, bad[i].s, bad[i].n))
				fails++;
		ok(fails == 0, "llama-spm: invalid UTF-8 round-trips through "
		    "byte tokens");
		encode(t, "\xff", 1, &a);
		ok(a.n == 2 && a.v[0] == 29871 && a.v[1] == 3 + 0xff,
		    "llama-spm: \\xff -> [\xe2\x96\x81, <0xFF>]");
		/* random bytes: no crash, ids in range (an invalid lead byte
		 * swallows what follows, as in llama.cpp, so bytes need not
		 * round-trip) */
		random_texts(t, "llama-spm", 600, &a);
		tokenizer_vocab_free(t);
		gguf_close(g);
		g = NULL;
	} else {
		ok(0, "llama-spm: load");
	}
	/* BPE: random bytes never crash; random valid UTF-8 round-trips */
	if ((t = load(fx, "qwen2", &g)) != NULL) {
		random_texts(t, "qwen2", 2000, &a);
		tokenizer_vocab_free(t);
		gguf_close(g);
	} else {
		ok(0, "qwen2: load");
	}
	free(a.v);
	free(b.v);
}

static void
huge(const char *fx)
{
	static const char *names[] = { "qwen2", "llama-spm", "gpt-2" };
	struct tok_ids a = { NULL, 0, 0 };
	size_t n = 2u << 20, i, k;
	char *s = malloc(n);
	struct gguf *g = NULL;
	struct tok *t;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		double t0;
		int r;

		if ((t = load(fx, names[k], &g)) == NULL) {
			ok(0, "%s: load", names[k]);
			continue;
		}
		memset(s, 'a', n);
		t0 = util_now_s();
		r = encode(t, s, n, &a) == 0 && a.n > 0 &&
		    round_trip(t, &a, s, n);
		ok(r, "%s: 2 MiB single word (%zu tokens, %.2fs)", names[k],
		    a.n, util_now_s() - t0);
		memset(s, ' ', n);
		r = encode(t, s, n, &a) == 0 && round_trip(t, &a, s, n);
		ok(r, "%s: 2 MiB of spaces (%zu tokens)", names[k], a.n);
		for (i = 0; i + 4 <= n; i += 4)
			memcpy(s + i, "\xf0\x9f\xa6\x99", 4);
		r = encode(t, s, n, &a) == 0 && round_trip(t, &a, s, n);
		ok(r, "%s: 2 MiB of emoji (%zu tokens)", names[k], a.n);
		for (i = 0; i < n; i++)
			s[i] = "\n \t\r"[rnd() % 4];
		r = encode(t, s, n, &a) == 0 && round_trip(t, &a, s, n);
		ok(r, "%s: 2 MiB of mixed whitespace (%zu tokens)", names[k],
		    a.n);
		tokenizer_vocab_free(t);
		gguf_close(g);
		g = NULL;
	}
	free(s);
	free(a.v);
}

/* ---- broken vocabularies ---- */

static struct tok_str toks[] = {
	{ "a", 1 }, { "b", 1 }, { "ab", 2 }, { "c", 1 }, { "abc", 3 },
	{ "<s>", 3 }, { "</s>", 4 },
};
#define NTOK (sizeof toks / sizeof toks[0])

static void
base_desc(struct tok_desc *d, struct tok_str *merges, size_t nm)
{
	memset(d, 0, sizeof *d);
	d->model = TOK_MODEL_BPE;
	d->pre = "gpt-2";
	d->n_tokens = NTOK;
	d->tokens = toks;
	d->merges = merges;
	d->n_merges = nm;
	d->bos = d->eos = d->unk = d->sep = d->pad = d->eot = d->eom =
	    TOK_ID_NONE;
	d->add_bos = d->add_eos = d->add_space_prefix = TOK_FLAG_ABSENT;
}

static void
expect_fail(struct tok_desc *d, const char *field, const char *what)
{
	struct tok *t = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = tokenizer_vocab_new(&t, d, &e);
	if (!ok(rc < 0 && t == NULL && strstr(e.msg, field) != NULL,
	    "rejected: %s", what))
		diag("  rc %d, message \"%s\"", rc, e.msg);
	tokenizer_vocab_free(t);
}

static void
broken(void)
{
	struct tok_str good[] = { { "a b", 3 }, { "ab c", 4 } };
	struct tok_str m1[] = { { "a b", 3 }, { "a x", 3 } };
	struct tok_str m2[] = { { "b a", 3 } };
	struct tok_str m3[] = { { "ab", 2 } };
	struct tok_str dup[] = { { "a", 1 }, { "a", 1 } };
	int32_t types[NTOK] = { 1, 1, 1, 1, 1, 3, 3 };
	struct tok_ids ids = { NULL, 0, 0 };
	struct tok_desc d;
	struct tok *t = NULL;
	struct err e;

	base_desc(&d, good, 2);
	d.types = types;
	ok(tokenizer_vocab_new(&t, &d, &e) == 0, "a small valid vocabulary "
	    "loads");
	if (t != NULL) {
		ok(tokenizer_vocab_encode(t, "abc cab", 7, 0, &ids, &e) == 0 &&
		    ids.n == 3 && ids.v[0] == 4 && ids.v[1] == 3 &&
		    ids.v[2] == 2, "merges apply by rank; a byte with no token "
		    "is dropped");
		tokenizer_vocab_free(t);
		t = NULL;
	}
	base_desc(&d, m1, 2);
	expect_fail(&d, "tokenizer.ggml.merges[1]", "merge part not in vocab");
	base_desc(&d, m2, 1);
	expect_fail(&d, "tokenizer.ggml.merges[0]", "merge result not in "
	    "vocab");
	base_desc(&d, m3, 1);
	expect_fail(&d, "tokenizer.ggml.merges[0]", "merge without a space");
	base_desc(&d, good, 2);
	d.bos = 7;
	expect_fail(&d, "tokenizer.ggml.bos_token_id", "bos id out of range");
	base_desc(&d, good, 2);
	d.eos = 1000000;
	expect_fail(&d, "tokenizer.ggml.eos_token_id", "eos id out of range");
	base_desc(&d, good, 2);
	d.pad = -5;
	expect_fail(&d, "tokenizer.ggml.padding_token_id", "negative pad id");
	base_desc(&d, good, 2);
	d.add_bos = 1;
	expect_fail(&d, "tokenizer.ggml.add_bos_token", "add_bos without bos");
	base_desc(&d, good, 2);
	d.pre = "no-such-pre";
	expect_fail(&d, "tokenizer.ggml.pre", "unknown pre-tokenizer");
	base_desc(&d, good, 2);
	d.tokens = dup;
	d.n_tokens = 2;
	d.n_merges = 0;
	expect_fail(&d, "duplicate", "duplicate token");
	base_desc(&d, good, 2);
	types[2] = 99;
	d.types = types;
	expect_fail(&d, "tokenizer.ggml.token_type[2]", "bad token type");
	types[2] = 1;
	base_desc(&d, good, 2);
	d.n_tokens = 0;
	expect_fail(&d, "tokenizer.ggml.tokens", "empty vocabulary");
	base_desc(&d, good, 2);
	d.model = 7;
	expect_fail(&d, "tokenizer.ggml.model", "unknown model");
	free(ids.v);
}

/* ---- a hostile GGUF: the glue names the key ---- */

static size_t
put(char *b, size_t o, const void *p, size_t n)
{
	memcpy(b + o, p, n);
	return o + n;
}

static size_t
put_str(char *b, size_t o, const char *s)
{
	uint64_t n = strlen(s);

	o = put(b, o, &n, 8);
	return put(b, o, s, n);
}

static void
hostile_gguf(void)
{
	char buf[512];
	size_t o = 0;
	uint32_t u32;
	uint64_t u64;
	int32_t vals[2] = { 1, 2 };
	struct gguf *g = NULL;
	struct tok *t = NULL;
	struct err e;

	o = put(buf, o, "GGUF", 4);
	u32 = 3;
	o = put(buf, o, &u32, 4);
	u64 = 0;
	o = put(buf, o, &u64, 8);		/* tensors */
	u64 = 2;
	o = put(buf, o, &u64, 8);		/* kv */
	o = put_str(buf, o, "tokenizer.ggml.model");
	u32 = 8;
	o = put(buf, o, &u32, 4);
	o = put_str(buf, o, "gpt2");
	o = put_str(buf, o, "tokenizer.ggml.tokens");
	u32 = 9;
	o = put(buf, o, &u32, 4);
	u32 = 5;				/* INT32 elements */
	o = put(buf, o, &u32, 4);
	u64 = 2;
	o = put(buf, o, &u64, 8);
	o = put(buf, o, vals, sizeof vals);
	err_clear(&e);
	if (gguf_open_mem(&g, buf, o, "hostile.gguf", &e) != 0) {
		ok(0, "hostile gguf parses: %s", e.msg);
		return;
	}
	ok(engine_vocab_load(&t, g, &e) < 0 && t == NULL &&
	    strstr(e.msg, "tokenizer.ggml.tokens") != NULL,
	    "tokens of the wrong type rejected (%s)", e.msg);
	gguf_close(g);
}

int
main(void)
{
	const char *fx = tap_fixtures();

	broken();
	hostile_gguf();
	if (fx == NULL) {
		diag("no fixtures: skipping the real vocabularies");
		return tap_done();
	}
	invalid_utf8(fx);
	huge(fx);
	return tap_done();
}
