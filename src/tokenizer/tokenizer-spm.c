/*
 * tokenizer-spm.c - SentencePiece-style merging (tokenizer.ggml.model =
 * "llama") as llama.cpp's llm_tokenizer_spm_session does it.
 *
 * The fragment (spaces already escaped to U+2581 by the caller) is cut
 * into UTF-8 characters (by lead byte, so invalid bytes are characters
 * of their own); every adjacent pair whose concatenation is a token goes
 * into a heap ordered by the token's score (highest first, leftmost on
 * ties; the merge heap of BPE, the score folded into an integer key);
 * the best pair is merged and its neighbours re-queued. What is
 * left is looked up; a symbol that is no token is emitted byte by byte
 * as <0xNN> tokens (byte fallback). Only pairs that are tokens are ever
 * merged, so every merged symbol is a token.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

/*
 * The queue key of a pair: higher score first, then smaller left. The
 * score's bits are mapped to an unsigned order (negative floats
 * reversed), -0 taken as +0 and a NaN score queued last.
 */
static uint64_t
spm_key(float score, int32_t left)
{
	uint32_t u;

	score += 0.0f;
	memcpy(&u, &score, sizeof u);
	u = u & 0x80000000u ? ~u : u | 0x80000000u;
	if (score != score)
		u = 0;
	return (uint64_t)~u << 32 | (uint32_t)left;
}

static void
spm_try(struct tok *t, const char *s, size_t *nh, int32_t l)
{
	struct tok_sym *y = t->sc.sym;
	struct tok_cand c;
	int32_t r, id;

	if (l < 0 || (r = y[l].next) < 0)
		return;
	id = tokenizer_map_find(&t->by_text, s + y[l].off,
	    y[l].len + y[r].len);
	if (id < 0)
		return;
	c.key = spm_key(t->score[id], l);
	c.left = l;
	c.size = y[l].len + y[r].len;
	tokenizer_heap_push(t->sc.heap, nh, c);
}

static size_t
lead_len(unsigned char c)
{
	static const unsigned char lookup[16] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4
	};

	return lookup[c >> 4];
}

/* Merge one segment s[0..len) and append its ids. */
static int
spm_segment(struct tok *t, const char *s, size_t len, struct tok_ids *out)
{
	struct tok_scratch *sc = &t->sc;
	struct tok_sym *y;
	size_t off, n = 0, nh = 0, i;

	if (len == 0)
		return 0;
	if (len > INT32_MAX)
		return ERR_RANGE;
	if (util_grow(&sc->sym, &sc->sym_cap, len, sizeof *sc->sym) != 0 ||
	    util_grow(&sc->heap, &sc->heap_cap, 2 * len + 2,
	    sizeof *sc->heap) != 0)
		return ERR_NOMEM;
	y = sc->sym;
	for (off = 0; off < len; n++) {
		size_t k = lead_len((unsigned char)s[off]);

		if (k > len - off)
			k = len - off;
		y[n].off = (uint32_t)off;
		y[n].len = (uint32_t)k;
		y[n].prev = (int32_t)n - 1;
		off += k;
		y[n].next = off == len ? -1 : (int32_t)n + 1;
		y[n].id = -1;
	}
	for (i = 0; i + 1 < n; i++)
		spm_try(t, s, &nh, (int32_t)i);
	while (nh > 0) {
		struct tok_cand c = tokenizer_heap_pop(sc->heap, &nh);
		int32_t l = c.left, r = y[l].next;

		if (y[l].len == 0 || r < 0 || y[r].len == 0 ||
		    y[l].len + y[r].len != c.size)
			continue;
		y[l].len += y[r].len;
		y[r].len = 0;
		y[l].next = y[r].next;
		if (y[r].next >= 0)
			y[y[r].next].prev = l;
		spm_try(t, s, &nh, y[l].prev);
		spm_try(t, s, &nh, l);
	}
	for (i = 0; i < n; i = y[i].next < 0 ? n : (size_t)y[i].next) {
		int32_t id = tokenizer_map_find(&t->by_text, s + y[i].off,
		    y[i].len);
		uint32_t j;

		if (id >= 0) {
			if (tokenizer_ids_push(out, id) != 0)
				return ERR_NOMEM;
			continue;
		}
		for (j = 0; j < y[i].len; j++) {
			id = t->byte_tok[(unsigned char)s[y[i].off + j]];
			if (id < 0)
				id = t->info.unk;
			if (id >= 0 && tokenizer_ids_push(out, id) != 0)
				return ERR_NOMEM;
		}
	}
	return 0;
}

/*
 * Cut the text before each U+2581 that no token glues to the byte before
 * it (t->spm_glue) and that starts a character where the whole-text
 * split would start one; merge the pieces alone, through the cache.
 */
int
tokenizer_spm_encode(struct tok *t, const char *s, size_t len,
    struct tok_ids *out)
{
	size_t pos = 0, start = 0, k, first;
	uint64_t h;
	int rc;

	while (start < len) {
		size_t end = len;

		for (pos = start; pos < len; pos += k) {
			k = lead_len((unsigned char)s[pos]);
			if (k > len - pos)
				k = len - pos;
			if (pos > start && k == 3 &&
			    memcmp(s + pos, "\xe2\x96\x81", 3) == 0 &&
			    !t->spm_glue[(unsigned char)s[pos - 1]]) {
				end = pos;
				break;
			}
		}
		rc = tokenizer_cache_get(t, s + start, end - start, &h, out);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			first = out->n;
			if ((rc = spm_segment(t, s + start, end - start, out))
			    != 0)
				return rc;
			tokenizer_cache_put(t, h, s + start, end - start,
			    out->v + first, out->n - first);
		}
		start = end;
	}
	return 0;
}
