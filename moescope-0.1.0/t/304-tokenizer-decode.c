/*
 * 304-tokenizer-decode.c - decoding as llama.cpp's llama_detokenize does
 * it (values checked against llama.cpp v0.5.0), special-token parsing
 * and BOS handling, end-of-generation tokens, characters newer than
 * PCRE2's Unicode tables (Unicode 15.0/15.1, which llama.cpp's tables
 * know), and the streaming decoder:
 * it never emits part of a UTF-8 character and, flushed, gives exactly
 * what decoding all the ids at once gives.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine-vocab.h"
#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

static struct gguf *gg[16];
static int ng;

static struct tok *
load(const char *fx, const char *name)
{
	struct tok *t = NULL;
	struct gguf *g = NULL;
	struct err e;

	err_clear(&e);
	if (gguf_open(&g, tap_path("%s/tokenizer/ggml-vocab-%s.gguf", fx, name),
	    &e) != 0 || engine_vocab_load(&t, g, &e) != 0) {
		diag("%s: %s", name, e.msg);
		gguf_close(g);
		return NULL;
	}
	gg[ng++] = g;
	return t;
}

static int
dec_is(const struct tok *t, const int32_t *ids, size_t n, unsigned flags,
    const char *want)
{
	struct err e;
	char *d = NULL;
	size_t dl;
	int r;

	if (tokenizer_vocab_decode(t, ids, n, flags, &d, &dl, &e) != 0) {
		diag("  decode: %s", e.msg);
		return 0;
	}
	r = dl == strlen(want) && memcmp(d, want, dl) == 0;
	if (!r)
		diag("  got \"%s\", want \"%s\"", d, want);
	free(d);
	return r;
}

static int
enc_is(struct tok *t, const char *s, unsigned flags, const int32_t *want,
    size_t nw)
{
	struct tok_ids ids = { NULL, 0, 0 };
	struct err e;
	int r;

	r = tokenizer_vocab_encode(t, s, strlen(s), flags, &ids, &e) == 0 &&
	    ids.n == nw && memcmp(ids.v, want, nw * sizeof(int32_t)) == 0;
	free(ids.v);
	return r;
}

/* Stream ids through the decoder: every chunk must be valid UTF-8 (when
 * the whole is), the concatenation must equal the one-shot decode.
 * *held counts pushes that kept bytes back. */
static int
stream_check(const struct tok *t, const int32_t *ids, size_t n,
    unsigned flags, size_t *held)
{
	struct tok_stream st;
	struct err e;
	char *all, *cat;
	size_t al, cl = 0, i, k;
	const char *p;
	int r = 1, valid;

	if (tokenizer_vocab_decode(t, ids, n, flags, &all, &al, &e) != 0)
		return 0;
	valid = util_utf8_valid(all, al);
	cat = malloc(al + 1);
	tokenizer_stream_init(&st, t, flags);
	for (i = 0; i < n; i++) {
		if (tokenizer_stream_push(&st, ids[i], &p, &k) != 0) {
			r = 0;
			break;
		}
		if (st.n_held > 0)
			(*held)++;
		if (valid && !util_utf8_valid(p, k))
			r = 0;
		if (cl + k > al) {
			r = 0;
			break;
		}
		memcpy(cat + cl, p, k);
		cl += k;
	}
	if (r && tokenizer_stream_flush(&st, &p, &k) == 0 && cl + k <= al) {
		memcpy(cat + cl, p, k);
		cl += k;
	} else {
		r = 0;
	}
	r = r && cl == al && memcmp(cat, all, al) == 0;
	tokenizer_stream_fini(&st);
	free(cat);
	free(all);
	return r;
}

static void
spm(const char *fx)
{
	struct tok *t = load(fx, "llama-spm");
	int32_t bh[] = { 1, 15043 }, h[] = { 15043 };
	int32_t hs[] = { 15043, 29871, 2, 15043 };
	int32_t bad[] = { 15043, 32000 };
	struct tok_ids ids = { NULL, 0, 0 };
	static const char emoji[] = "I \xf0\x9f\xa6\x99 llamas \xe2\x9c\x85 "
	    "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\xb6\xe2\x80\x8d\xf0\x9f\x8c"
	    "\xab\xef\xb8\x8f";
	struct tok_stream st;
	const char *p;
	size_t k, held = 0;
	struct err e;
	int r;

	if (t == NULL) {
		ok(0, "llama-spm: load");
		return;
	}
	ok(dec_is(t, bh, 2, 0, " Hello"), "spm: BOS hidden, space kept");
	ok(dec_is(t, bh, 2, TOK_DEC_SPECIAL, "<s> Hello"),
	    "spm: BOS rendered with TOK_DEC_SPECIAL");
	ok(dec_is(t, bh, 2, TOK_DEC_REMOVE_SPECIAL, " Hello"),
	    "spm: REMOVE_SPECIAL drops BOS and keeps the space");
	ok(dec_is(t, h, 1, 0, "Hello"), "spm: leading space stripped");
	ok(dec_is(t, h, 1, TOK_DEC_KEEP_SPACE, " Hello"),
	    "spm: TOK_DEC_KEEP_SPACE keeps it");
	ok(dec_is(t, hs, 4, 0, "Hello  Hello"), "spm: EOS hidden mid-text");
	ok(dec_is(t, hs, 4, TOK_DEC_SPECIAL, "Hello </s> Hello"),
	    "spm: EOS rendered");
	{
		char *d = NULL;

		ok(tokenizer_vocab_decode(t, bad, 2, 0, &d, &k, &e) ==
		    ERR_RANGE && d == NULL,
		    "spm: id out of range -> ERR_RANGE");
	}
	{
		const int32_t want[] = { 1, 15043 };

		ok(enc_is(t, "Hello", TOK_ENC_ADD_SPECIAL, want, 2),
		    "spm: ADD_SPECIAL adds BOS");
	}
	/* emoji go through <0xNN> byte tokens: the stream must hold back */
	tokenizer_vocab_encode(t, emoji, strlen(emoji), 0, &ids, &e);
	r = stream_check(t, ids.v, ids.n, 0, &held);
	ok(r && held > 0, "spm: stream of byte tokens = one-shot decode, %zu "
	    "holds", held);
	/* bytes that can never be valid pass straight through */
	ids.n = 0;
	tokenizer_vocab_encode(t, "\xff" "A", 2, 0, &ids, &e);
	tokenizer_stream_init(&st, t, 0);
	k = 99;
	tokenizer_stream_push(&st, ids.v[1], &p, &k);	/* <0xFF> */
	ok(k == 1 && (unsigned char)p[0] == 0xff, "stream: invalid byte "
	    "passes through");
	tokenizer_stream_fini(&st);
	ids.n = 0;
	tokenizer_vocab_encode(t, "\xe2" "A", 2, 0, &ids, &e);
	tokenizer_stream_init(&st, t, 0);
	tokenizer_stream_push(&st, ids.v[1], &p, &k);	/* <0xE2> */
	ok(k == 0 && st.n_held == 1, "stream: lead byte held back");
	tokenizer_stream_push(&st, ids.v[2], &p, &k);	/* A */
	ok(k == 2 && memcmp(p, "\xe2" "A", 2) == 0,
	    "stream: broken sequence released as it is");
	ok(tokenizer_stream_push(&st, 99999, &p, &k) == ERR_RANGE,
	    "stream: id out of range -> ERR_RANGE");
	tokenizer_stream_push(&st, ids.v[1], &p, &k);
	tokenizer_stream_flush(&st, &p, &k);
	ok(k == 1 && (unsigned char)p[0] == 0xe2,
	    "stream: flush returns the held bytes");
	tokenizer_stream_fini(&st);
	free(ids.v);
	tokenizer_vocab_free(t);
}

static void
bpe(const char *fx)
{
	struct tok *t;
	struct tok_ids ids = { NULL, 0, 0 };
	struct err e;
	size_t held = 0, k;
	const char *p;
	int r;

	if ((t = load(fx, "gpt-2")) != NULL) {
		static const char s[] =
		    "Hello , world ! I 'm here . It ' s ok ?";
		static const int32_t want[] = { 15496, 837, 995, 5145, 314,
		    705, 76, 994, 764, 632, 705, 264, 12876, 5633 };

		ok(enc_is(t, s, 0, want, 14), "gpt-2: encode");
		ok(dec_is(t, want, 14, TOK_DEC_CLEAN_SPACES,
		    "Hello, world! I'm here. It's ok?"),
		    "gpt-2: llama.cpp's space clean-up");
		ok(dec_is(t, want, 14, 0, s), "gpt-2: no clean-up by default");
		p = tokenizer_vocab_piece(t, 995, &k);
		ok(p != NULL && k == 6 && memcmp(p, " world", 6) == 0,
		    "gpt-2: piece of \xc4\xa0world is \" world\"");
		p = tokenizer_vocab_text(t, 995, &k);
		ok(p != NULL && k == 7 && memcmp(p, "\xc4\xa0world", 7) == 0,
		    "gpt-2: text of 995");
		static const char mix[] = "caf\xc3\xa9 \xf0\x9f\xa6\x99"
		    "\xf0\x9f\xa6\x99 \xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97 "
		    "\xf0\x9f\x98\xb6\xe2\x80\x8d\xf0\x9f\x8c\xab\xef\xb8\x8f";

		tokenizer_vocab_encode(t, mix, strlen(mix), 0, &ids, &e);
		r = stream_check(t, ids.v, ids.n, 0, &held);
		ok(r && held > 0, "gpt-2: stream of partial characters = "
		    "one-shot decode, %zu holds", held);
		tokenizer_vocab_free(t);
	} else {
		ok(0, "gpt-2: load");
	}
	if ((t = load(fx, "qwen2")) != NULL) {
		static const char chat[] =
		    "<|im_start|>user\nhi there<|im_end|>\n";
		static const int32_t sp[] = { 151644, 872, 198, 6023, 1052,
		    151645, 198 };
		static const int32_t tx[] = { 27, 91, 318, 4906, 91, 29, 872,
		    198, 6023, 1052, 27, 91, 318, 6213, 91, 397 };

		ok(enc_is(t, chat, TOK_ENC_PARSE_SPECIAL, sp, 7),
		    "qwen2: chat markup with PARSE_SPECIAL");
		ok(enc_is(t, chat, 0, tx, 16),
		    "qwen2: the same text without it");
		ok(tokenizer_vocab_is_eog(t, 151645) &&
		    tokenizer_vocab_is_eog(t, 151643) &&
		    !tokenizer_vocab_is_eog(t, 872) &&
		    !tokenizer_vocab_is_eog(t, -1), "qwen2: end-of-generation "
		    "tokens");
		ok(dec_is(t, sp, 7, 0, "user\nhi there\n") &&
		    dec_is(t, sp, 7, TOK_DEC_SPECIAL, chat),
		    "qwen2: control tokens hidden unless TOK_DEC_SPECIAL");
		tokenizer_vocab_free(t);
	} else {
		ok(0, "qwen2: load");
	}
	if ((t = load(fx, "llama-bpe")) != NULL) {
		static const int32_t want[] = { 128000, 9906 };

		ok(enc_is(t, "Hello", TOK_ENC_ADD_SPECIAL, want, 2),
		    "llama-bpe: add_bos by pre-tokenizer default");
		ok(dec_is(t, want, 2, 0, "Hello") &&
		    dec_is(t, want, 2, TOK_DEC_SPECIAL,
		    "<|begin_of_text|>Hello"), "llama-bpe: decode");
		ok(tokenizer_vocab_info(t)->eot == 128009 &&
		    tokenizer_vocab_is_eog(t, 128009),
		    "llama-bpe: <|eot_id|> found by its text");
		tokenizer_vocab_free(t);
	} else {
		ok(0, "llama-bpe: load");
	}
	if ((t = load(fx, "phi-3")) != NULL) {
		static const int32_t want[] = { 32010, 6324, 2, 727, 32007,
		    32001 };

		ok(enc_is(t, "<|user|>\nHi</s> there<|end|>\n<|assistant|>",
		    TOK_ENC_PARSE_SPECIAL, want, 6),
		    "phi-3: special tokens strip whitespace on the right");
		tokenizer_vocab_free(t);
	} else {
		ok(0, "phi-3: load");
	}
	free(ids.v);
}

/* Characters assigned in Unicode 15.0/15.1 (Kawi, CJK Ext. H and I,
 * Kaktovik numerals, ideographic description characters): ids from
 * llama.cpp v0.5.0. */
static void
newer_unicode(const char *fx)
{
	static const struct {
		const char	*vocab, *text;
		int32_t		 ids[16];
		size_t		 n;
	} c[] = {
		{ "deepseek-coder", "'ll                \xf0\x91\xbc\x93I",
		    { 6, 642, 1044, 207, 170, 226, 120, 228, 40 }, 9 },
		{ "qwen2", "a\xf0\xb1\x8d\x90" "b \xf0\xb1\x8d\x90",
		    { 64, 172, 109, 235, 238, 65, 220, 172, 109, 235, 238 },
		    11 },
		{ "llama-bpe", "x \xf0\x9d\x8b\x80\xf0\x9d\x8b\x81 1"
		    "\xf0\xae\xaf\xb0", { 87, 220, 57352, 233, 222, 57352,
		    233, 223, 220, 16, 172, 106, 107, 108 }, 14 },
		{ "gpt-2", "\xf0\x91\xbc\x93" "abc \xe2\xbf\xbc!", { 172, 239,
		    120, 241, 39305, 2343, 123, 120, 0 }, 9 },
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct tok *t = load(fx, c[i].vocab);

		ok(t != NULL && enc_is(t, c[i].text, 0, c[i].ids, c[i].n),
		    "%s: Unicode 15 characters as llama.cpp", c[i].vocab);
		tokenizer_vocab_free(t);
	}
}

int
main(void)
{
	const char *fx = tap_fixtures();
	int i;

	if (fx == NULL)
		tap_skip_all("no fixtures ($FIXTURES)");
	spm(fx);
	bpe(fx);
	newer_unicode(fx);
	for (i = 0; i < ng; i++)
		gguf_close(gg[i]);
	return tap_done();
}
