/*
 * tokenizer-bpe.c - byte-level BPE (tokenizer.ggml.model = "gpt2") as
 * llama.cpp's llm_tokenizer_bpe_session does it.
 *
 * A fragment of raw text is first decoded the way llama.cpp decodes it
 * (each invalid byte becomes U+FFFD, overlong forms are accepted and
 * re-encoded), split into words by the pre-tokenizer's regexes
 * (tokenizer-pre.c), and each word is merged byte by byte: every
 * adjacent pair of symbols that a merge rule names goes into a binary
 * heap keyed by (rank, position); the lowest is applied, stale entries
 * are recognised by the pair's byte length, and the neighbours' new
 * pairs are queued - n log n per word. Tokens are looked up by their
 * byte-decoded strings, so the GPT-2 byte <-> code point mapping is
 * applied once, at load time, never per word. Words seen before come
 * from a cache.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

#define CACHE_SLOTS	(1u << 17)
#define CACHE_MAX_ENT	(1u << 16)
#define CACHE_MAX_WORD	256
#define CACHE_MAX_BYTES	(8u << 20)

struct cache_ent {
	uint64_t	 h;
	uint32_t	 koff, klen, voff, vlen;
};

struct tok_cache {
	uint32_t	*slot;		/* [CACHE_SLOTS] entry + 1; 0 empty */
	struct cache_ent *ent;
	size_t		 n_ent, ent_cap;
	char		*kbuf;
	size_t		 kn, kcap;
	int32_t		*vbuf;
	size_t		 vn, vcap;
};

/* Bytes that GPT-2 maps to themselves: '!'..'~', 0xa1..0xac, 0xae.. */
static int
byte_printable(unsigned b)
{
	return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) ||
	    b >= 0xae;
}

uint32_t
tokenizer_bpe_byte_cpt(uint8_t b)
{
	if (byte_printable(b))
		return b;
	if (b <= 0x20)
		return 256 + b;
	if (b >= 0x7f && b <= 0xa0)
		return 256 + 33 + (b - 0x7f);
	return 256 + 67;	/* 0xad */
}

int
tokenizer_bpe_cpt_byte(uint32_t c)
{
	if (c < 256)
		return byte_printable(c) ? (int)c : -1;
	if (c < 256 + 33)
		return (int)(c - 256);
	if (c < 256 + 67)
		return (int)(0x7f + c - 256 - 33);
	if (c == 256 + 67)
		return 0xad;
	return -1;
}

static size_t
merge_slot(const struct tok *t, int32_t l, int32_t r)
{
	uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;

	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 24) & t->merge_mask;
}

static void
merge_put(struct tok *t, int32_t l, int32_t r, int32_t rank)
{
	size_t i = merge_slot(t, l, r);

	while (t->merge[i].l >= 0) {
		if (t->merge[i].l == l && t->merge[i].r == r)
			return;		/* the first rank wins */
		i = (i + 1) & t->merge_mask;
	}
	t->merge[i].l = l;
	t->merge[i].r = r;
	t->merge[i].rank = rank;
}

#define FILTER_BITS 22

static uint64_t
filter_bit(int32_t l, int32_t r)
{
	uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;

	return (key * 0xc2b2ae3d27d4eb4full) >> (64 - FILTER_BITS);
}

/* Rank of the merge (l, r), or -1. Most pairs are no merge: a bit set
 * small enough to stay in cache answers those without touching the
 * table. */
static int32_t
merge_find(const struct tok *t, int32_t l, int32_t r)
{
	uint64_t b = filter_bit(l, r);
	size_t i;

	if (!(t->merge_filter[b >> 6] >> (b & 63) & 1))
		return -1;
	i = merge_slot(t, l, r);

	for (;;) {
		const struct tok_merge *m = &t->merge[i];

		if (m->l == l && m->r == r)
			return m->rank;
		if (m->l < 0)
			return -1;
		i = (i + 1) & t->merge_mask;
	}
}

int
tokenizer_bpe_merges_load(struct tok *t, const struct tok_desc *d,
    struct err *e)
{
	size_t cap = 16, i, j, pos;
	char *tmp = NULL;
	size_t tmp_cap = 0;

	if (d->n_merges > INT32_MAX / 2)
		return err_set(e, ERR_RANGE,
		    "tokenizer.ggml.merges: %zu merges", d->n_merges);
	/* load factor at most 2/3: 12-byte slots keep the table small */
	while (cap < d->n_merges + d->n_merges / 2 + 16)
		cap <<= 1;
	t->merge = malloc(cap * sizeof *t->merge);
	t->merge_result = malloc((d->n_merges + 1) * sizeof(int32_t));
	t->merge_filter = calloc((1u << FILTER_BITS) / 64, sizeof(uint64_t));
	if (t->merge == NULL || t->merge_result == NULL ||
	    t->merge_filter == NULL)
		return err_set(e, ERR_NOMEM, "out of memory (merges)");
	for (i = 0; i < cap; i++)
		t->merge[i].l = -1;
	t->merge_mask = cap - 1;
	for (i = 0; i < d->n_merges; i++) {
		const char *s = d->merges[i].s;
		size_t n = d->merges[i].len;
		int32_t l, r, res;

		pos = n;
		for (j = 1; j < n; j++)
			if (s[j] == ' ') {
				pos = j;
				break;
			}
		if (s == NULL || pos >= n) {
			free(tmp);
			return err_set(e, ERR_FORMAT,
			    "tokenizer.ggml.merges[%zu] = '%.*s': not two "
			    "tokens separated by a space", i,
			    (int)(n > 64 ? 64 : n), s ? s : "");
		}
		l = tokenizer_map_find(&t->by_text, s, pos);
		r = tokenizer_map_find(&t->by_text, s + pos + 1, n - pos - 1);
		if (util_grow(&tmp, &tmp_cap, n, 1) != 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		memcpy(tmp, s, pos);
		memcpy(tmp + pos, s + pos + 1, n - pos - 1);
		res = tokenizer_map_find(&t->by_text, tmp, n - 1);
		if (l < 0 || r < 0 || res < 0) {
			const char *what = l < 0 ? s :
			    r < 0 ? s + pos + 1 : tmp;
			size_t wl = l < 0 ? pos : r < 0 ? n - pos - 1 : n - 1;

			err_set(e, ERR_FORMAT,
			    "tokenizer.ggml.merges[%zu] = '%.*s': '%.*s' is "
			    "not in tokenizer.ggml.tokens", i,
			    (int)(n > 64 ? 64 : n), s,
			    (int)(wl > 64 ? 64 : wl), what);
			free(tmp);
			return ERR_FORMAT;
		}
		t->merge_result[i] = res;
		merge_put(t, l, r, (int32_t)i);
		{
			uint64_t b = filter_bit(l, r);

			t->merge_filter[b >> 6] |= 1ull << (b & 63);
		}
	}
	free(tmp);
	t->info.n_merges = d->n_merges;
	t->byte_pair = malloc(65536 * sizeof *t->byte_pair);
	if (t->byte_pair == NULL)
		return err_set(e, ERR_NOMEM, "out of memory (merges)");
	for (i = 0; i < 65536; i++) {
		int32_t l = t->byte_tok[i >> 8], r = t->byte_tok[i & 255];
		int32_t rank = l >= 0 && r >= 0 ? merge_find(t, l, r) : -1;

		t->byte_pair[i].rank = rank;
		t->byte_pair[i].result = rank >= 0 ? t->merge_result[rank] : -1;
	}
	return 0;
}

void
tokenizer_bpe_free(struct tok *t)
{
	if (t->cache != NULL) {
		free(t->cache->slot);
		free(t->cache->ent);
		free(t->cache->kbuf);
		free(t->cache->vbuf);
		free(t->cache);
	}
	free(t->merge);
	free(t->merge_result);
	free(t->merge_filter);
	free(t->byte_pair);
}

/* ---- word cache ---- */

int
tokenizer_cache_new(struct tok *t)
{
	t->cache = calloc(1, sizeof *t->cache);
	if (t->cache == NULL)
		return ERR_NOMEM;
	t->cache->slot = calloc(CACHE_SLOTS, sizeof(uint32_t));
	return t->cache->slot != NULL ? 0 : ERR_NOMEM;
}

static void
cache_reset(struct tok_cache *c)
{
	memset(c->slot, 0, CACHE_SLOTS * sizeof(uint32_t));
	c->n_ent = c->kn = c->vn = 0;
}

static const struct cache_ent *
cache_find(const struct tok_cache *c, uint64_t h, const char *w, size_t n)
{
	size_t i = (size_t)h & (CACHE_SLOTS - 1);

	while (c->slot[i] != 0) {
		const struct cache_ent *ce = &c->ent[c->slot[i] - 1];

		if (ce->h == h && ce->klen == n &&
		    memcmp(c->kbuf + ce->koff, w, n) == 0)
			return ce;
		i = (i + 1) & (CACHE_SLOTS - 1);
	}
	return NULL;
}

static void
cache_put(struct tok_cache *c, uint64_t h, const char *w, size_t n,
    const int32_t *ids, size_t k)
{
	struct cache_ent *ce;
	size_t i;

	if (c->n_ent >= CACHE_MAX_ENT || c->kn + n > CACHE_MAX_BYTES)
		cache_reset(c);
	if (util_grow(&c->ent, &c->ent_cap, c->n_ent + 1,
	    sizeof *c->ent) != 0 ||
	    util_grow(&c->kbuf, &c->kcap, c->kn + n, 1) != 0 ||
	    util_grow(&c->vbuf, &c->vcap, c->vn + k, sizeof(int32_t)) != 0)
		return;		/* a cache miss later, nothing worse */
	ce = &c->ent[c->n_ent];
	ce->h = h;
	ce->koff = (uint32_t)c->kn;
	ce->klen = (uint32_t)n;
	ce->voff = (uint32_t)c->vn;
	ce->vlen = (uint32_t)k;
	memcpy(c->kbuf + c->kn, w, n);
	memcpy(c->vbuf + c->vn, ids, k * sizeof(int32_t));
	c->kn += n;
	c->vn += k;
	i = (size_t)h & (CACHE_SLOTS - 1);
	while (c->slot[i] != 0)
		i = (i + 1) & (CACHE_SLOTS - 1);
	c->slot[i] = (uint32_t)++c->n_ent;
}

int
tokenizer_cache_get(struct tok *t, const char *w, size_t n, uint64_t *h,
    struct tok_ids *out)
{
	const struct cache_ent *ce;
	size_t i;

	*h = 0;
	if (n > CACHE_MAX_WORD)
		return 0;
	*h = tokenizer_hash(w, n);
	ce = cache_find(t->cache, *h, w, n);
	if (ce == NULL)
		return 0;
	for (i = 0; i < ce->vlen; i++)
		if (tokenizer_ids_push(out, t->cache->vbuf[ce->voff + i]) != 0)
			return ERR_NOMEM;
	return 1;
}

void
tokenizer_cache_put(struct tok *t, uint64_t h, const char *w, size_t n,
    const int32_t *ids, size_t k)
{
	if (h != 0)
		cache_put(t->cache, h, w, n, ids, k);
}

/* ---- merging ---- */

static void
try_pair(struct tok *t, const char *w, size_t *nh, int32_t l)
{
	struct tok_sym *s = t->sc.sym;
	struct tok_cand c;
	int32_t r, rank;

	if (l < 0 || (r = s[l].next) < 0 || s[l].id < 0 || s[r].id < 0)
		return;
	if (s[l].len == 1 && s[r].len == 1) {
		/* two single bytes: the dense table, no hashing */
		rank = t->byte_pair[(unsigned char)w[s[l].off] << 8 |
		    (unsigned char)w[s[r].off]].rank;
	} else {
		rank = merge_find(t, s[l].id, s[r].id);
	}
	if (rank < 0)
		return;
	c.key = (uint64_t)(uint32_t)rank << 32 | (uint32_t)l;
	c.size = s[l].len + s[r].len;
	c.left = l;
	tokenizer_heap_push(t->sc.heap, nh, c);
}

/* Merge one word w[0..n) (raw bytes) and append its ids. */
static int
word_encode(struct tok *t, const char *w, size_t n, struct tok_ids *out)
{
	struct tok_scratch *sc = &t->sc;
	struct tok_sym *s;
	size_t i, nh = 0, first_out = out->n;
	uint64_t h = 0;
	int32_t id;
	int rc;

	if (n == 0)
		return 0;
	if (t->ignore_merges) {
		id = tokenizer_map_find(&t->by_bytes, w, n);
		if (id >= 0)
			return tokenizer_ids_push(out, id);
	}
	if (n == 1) {
		id = t->byte_tok[(unsigned char)w[0]];
		return id >= 0 ? tokenizer_ids_push(out, id) : 0;
	}
	if ((rc = tokenizer_cache_get(t, w, n, &h, out)) != 0)
		return rc < 0 ? rc : 0;
	if (n > INT32_MAX)
		return ERR_RANGE;
	/* each merge pops one candidate and queues at most two: the queue
	 * never holds more than 2n */
	if (util_grow(&sc->sym, &sc->sym_cap, n, sizeof *sc->sym) != 0 ||
	    util_grow(&sc->heap, &sc->heap_cap, 2 * n + 2,
	    sizeof *sc->heap) != 0)
		return ERR_NOMEM;
	s = sc->sym;
	for (i = 0; i < n; i++) {
		s[i].prev = (int32_t)i - 1;
		s[i].next = i + 1 < n ? (int32_t)i + 1 : -1;
		s[i].id = t->byte_tok[(unsigned char)w[i]];
		s[i].off = (uint32_t)i;
		s[i].len = 1;
	}
	for (i = 0; i + 1 < n; i++)
		try_pair(t, w, &nh, (int32_t)i);
	while (nh > 0) {
		struct tok_cand c = tokenizer_heap_pop(sc->heap, &nh);
		int32_t l = c.left, r = s[l].next;
		if (s[l].len == 0 || r < 0 || s[l].len + s[r].len != c.size)
			continue;	/* stale */
		if (s[l].len == 1 && s[r].len == 1)
			s[l].id = t->byte_pair[(unsigned char)w[s[l].off] << 8 |
			    (unsigned char)w[s[r].off]].result;
		else
			s[l].id = t->merge_result[merge_find(t, s[l].id,
			    s[r].id)];
		s[l].len += s[r].len;
		s[r].len = 0;
		s[l].next = s[r].next;
		if (s[r].next >= 0)
			s[s[r].next].prev = l;
		try_pair(t, w, &nh, s[l].prev);
		try_pair(t, w, &nh, l);
	}
	for (i = 0; i < n; i = s[i].next < 0 ? n : (size_t)s[i].next) {
		/* a symbol without a token is one byte missing from the
		 * vocab: llama.cpp drops it */
		if (s[i].id >= 0 && tokenizer_ids_push(out, s[i].id) != 0)
			return ERR_NOMEM;
	}
	tokenizer_cache_put(t, h, w, n, out->v + first_out, out->n - first_out);
	return 0;
}

/* ---- text normalisation ---- */

int64_t
tokenizer_cpt_decode(const unsigned char *s, size_t n, size_t *adv)
{
	unsigned c = s[0];

	*adv = 1;
	if (c < 0x80)
		return c;
	if (!(c & 0x40))
		return -1;
	if (!(c & 0x20)) {
		if (n < 2 || (s[1] & 0xc0) != 0x80)
			return -1;
		*adv = 2;
		return (c & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (!(c & 0x10)) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return -1;
		*adv = 3;
		return (c & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	if (!(c & 0x08)) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return -1;
		*adv = 4;
		return (int64_t)(c & 0x07) << 18 | (s[1] & 0x3f) << 12 |
		    (s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	}
	return -1;
}

size_t
tokenizer_cpt_encode(uint32_t c, char *o)
{
	if (c <= 0x7f) {
		o[0] = (char)c;
		return 1;
	}
	if (c <= 0x7ff) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c <= 0xffff) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Code points whose general category PCRE2 (Unicode 14 in the 10.42
 * tables) does not know but llama.cpp's Unicode 15.1 tables do: all were
 * assigned in Unicode 15.0/15.1. For the regexes that use \p{..}, such a
 * character is replaced in the subject by an old one of the same class
 * and UTF-8 length, as llama.cpp's own regex path replaces every code
 * point by one of its class.
 */
static const struct {
	uint32_t	 lo, hi;
	char		 cls;		/* L, N, P, M, S */
} newer[] = {
	{ 0xcf3, 0xcf3, 'M' }, { 0xece, 0xece, 'M' },
	{ 0x2ffc, 0x2fff, 'S' }, { 0x31ef, 0x31ef, 'S' },
	{ 0x10efd, 0x10eff, 'M' }, { 0x1123f, 0x11240, 'L' },
	{ 0x11241, 0x11241, 'M' }, { 0x11b00, 0x11b09, 'P' },
	{ 0x11f00, 0x11f01, 'M' }, { 0x11f02, 0x11f02, 'L' },
	{ 0x11f03, 0x11f03, 'M' }, { 0x11f04, 0x11f10, 'L' },
	{ 0x11f12, 0x11f33, 'L' }, { 0x11f34, 0x11f3a, 'M' },
	{ 0x11f3e, 0x11f42, 'M' }, { 0x11f43, 0x11f4f, 'P' },
	{ 0x11f50, 0x11f59, 'N' }, { 0x1342f, 0x1342f, 'L' },
	{ 0x13440, 0x13440, 'M' }, { 0x13441, 0x13446, 'L' },
	{ 0x13447, 0x13455, 'M' }, { 0x1b132, 0x1b132, 'L' },
	{ 0x1b155, 0x1b155, 'L' }, { 0x1d2c0, 0x1d2d3, 'N' },
	{ 0x1df25, 0x1df2a, 'L' }, { 0x1e030, 0x1e06d, 'L' },
	{ 0x1e08f, 0x1e08f, 'M' }, { 0x1e4d0, 0x1e4eb, 'L' },
	{ 0x1e4ec, 0x1e4ef, 'M' }, { 0x1e4f0, 0x1e4f9, 'N' },
	{ 0x1f6dc, 0x1f6dc, 'S' }, { 0x1f774, 0x1f776, 'S' },
	{ 0x1f77b, 0x1f77f, 'S' }, { 0x1f7d9, 0x1f7d9, 'S' },
	{ 0x1fa75, 0x1fa77, 'S' }, { 0x1fa87, 0x1fa88, 'S' },
	{ 0x1faad, 0x1faaf, 'S' }, { 0x1fabb, 0x1fabd, 'S' },
	{ 0x1fabf, 0x1fabf, 'S' }, { 0x1face, 0x1facf, 'S' },
	{ 0x1fada, 0x1fadb, 'S' }, { 0x1fae8, 0x1fae8, 'S' },
	{ 0x1faf7, 0x1faf8, 'S' }, { 0x2b739, 0x2b739, 'L' },
	{ 0x2ebf0, 0x2ee5d, 'L' }, { 0x31350, 0x323af, 'L' },

};

static int
newer_class(uint32_t c)
{
	size_t lo = 0, hi = sizeof newer / sizeof newer[0];

	if (c < newer[0].lo)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c > newer[mid].hi)
			lo = mid + 1;
		else if (c < newer[mid].lo)
			hi = mid;
		else
			return newer[mid].cls;
	}
	return 0;
}

/* A long-assigned code point of class cls whose UTF-8 is k bytes. */
static const char *
stand_in(int cls, size_t k)
{
	static const char *const rep[5][3] = {
		{ "\xc2\xaa", "\xe0\xa0\x80", "\xf0\x90\x80\x80" },	/* L */
		{ "\xc2\xb2", "\xe2\x91\xa0", "\xf0\x90\x84\x87" },	/* N */
		{ "\xc2\xa1", "\xe2\x80\x90", "\xf0\x90\x84\x80" },	/* P */
		{ "\xcc\x80", "\xe0\xa4\x80", "\xf0\x90\x87\xbd" },	/* M */
		{ "\xc2\xa6", "\xe2\x86\x90", "\xf0\x9d\x80\x80" },	/* S */
	};
	const char *p = strchr("LNPMS", cls);

	return rep[p - "LNPMS"][k - 2];
}

/* Unicode White_Space outside ASCII (llama.cpp's whitespace table). */
static int
cpt_wide_space(uint32_t c)
{
	return c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/*
 * Decode s as llama.cpp does. Returns 1 when the text needs no change
 * (valid UTF-8, no surrogates, no non-ASCII whitespace, nothing newer
 * than PCRE2's tables): then norm == subj == s. Otherwise fills sc->norm
 * (llama.cpp's re-encoding, the bytes BPE sees), sc->subj (the regex
 * subject: non-ASCII whitespace as U+000B, surrogates as U+E000),
 * sc->subj_p (the same with stand-ins for code points newer than PCRE2's
 * tables, for the regexes using \p{..}) and sc->map (subj offset -> norm
 * offset) and returns 0; *nn / *ns are their lengths.
 */
static int
normalise(struct tok_scratch *sc, const char *s, size_t n, size_t *nn,
    size_t *ns)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, adv, on = 0, os = 0;
	int64_t c;
	char enc[4];
	int cls;

	for (i = 0; i < n; i += adv) {
		if (u[i] < 0x80) {
			adv = 1;
			continue;
		}
		c = tokenizer_cpt_decode(u + i, n - i, &adv);
		if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    cpt_wide_space((uint32_t)c) || newer_class((uint32_t)c) ||
		    tokenizer_cpt_encode((uint32_t)c, enc) != adv)
			break;
	}
	if (i >= n)
		return 1;
	/* each input byte gives at most 3 bytes (U+FFFD) */
	if (n > (UINT32_MAX - 8) / 3 ||
	    util_grow(&sc->norm, &sc->text_cap, 3 * n + 8, 1) != 0)
		return ERR_NOMEM;
	free(sc->subj);
	free(sc->subj_p);
	free(sc->map);
	sc->subj = malloc(3 * n + 8);
	sc->subj_p = malloc(3 * n + 8);
	sc->map = malloc((3 * n + 8) * sizeof(uint32_t));
	if (sc->subj == NULL || sc->subj_p == NULL || sc->map == NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i += adv) {
		size_t k;

		c = tokenizer_cpt_decode(u + i, n - i, &adv);
		if (c < 0 || c > 0x10ffff)
			c = 0xfffd;
		k = tokenizer_cpt_encode((uint32_t)c, sc->norm + on);
		sc->map[os] = (uint32_t)on;
		cls = newer_class((uint32_t)c);
		if (cpt_wide_space((uint32_t)c)) {
			sc->subj[os] = sc->subj_p[os] = 0x0b;
			os++;
		} else if (c >= 0xd800 && c <= 0xdfff) {
			tokenizer_cpt_encode(0xe000, sc->subj + os);
			tokenizer_cpt_encode(0xe000, sc->subj_p + os);
			os += 3;
		} else {
			memcpy(sc->subj + os, sc->norm + on, k);
			memcpy(sc->subj_p + os, cls ? stand_in(cls, k) :
			    sc->norm + on, k);
			os += k;
		}
		on += k;
	}
	sc->map[os] = (uint32_t)on;
	*nn = on;
	*ns = os;
	return 0;
}

int
tokenizer_bpe_encode(struct tok *t, const char *s, size_t len,
    struct tok_ids *out, struct err *e)
{
	struct tok_scratch *sc = &t->sc;
	const char *norm = s, *subj = s, *subj_p = s;
	const uint32_t *map = NULL;
	size_t nn = len, ns = len, n_pieces, j;
	int which, rc;

	rc = normalise(sc, s, len, &nn, &ns);
	if (rc < 0)
		return err_set(e, rc, "out of memory (%zu-byte text)", len);
	if (rc == 0) {
		norm = sc->norm;
		subj = sc->subj;
		subj_p = sc->subj_p;
		map = sc->map;
	}
	rc = tokenizer_pre_split(t->pre, sc, subj, subj_p, ns, &which,
	    &n_pieces, e);
	if (rc != 0)
		return rc;
	for (j = 0; j < n_pieces; j++) {
		uint32_t a = sc->cut[which][2 * j];
		uint32_t b = sc->cut[which][2 * j + 1];

		if (map != NULL) {
			a = map[a];
			b = map[b];
		}
		rc = word_encode(t, norm + a, b - a, out);
		if (rc != 0)
			return err_set(e, rc, "out of memory (%u-byte word)",
			    b - a);
	}
	return 0;
}
