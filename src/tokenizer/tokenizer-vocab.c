/*
 * tokenizer-vocab.c - a vocabulary: built from a struct tok_desc, with
 * llama.cpp's defaults and token attributes, and the parts of encoding
 * and decoding that do not depend on the tokenizer family.
 *
 * Loading copies the token strings into one blob and indexes them in an
 * open-addressing hash table; BPE vocabularies get a second table keyed
 * by the byte-decoded strings and a merge table (tokenizer-bpe.c). The
 * attribute rules (end-of-generation tokens, "control-looking" tokens,
 * per-model strip flags) and the special-token defaults follow
 * llama.cpp's llama_vocab::impl::load.
 *
 * Encoding first cuts special tokens out of the text - longest token
 * first, every occurrence, as llama.cpp's tokenizer_st_partition does:
 * user-defined tokens always, control tokens only when the caller parses
 * special tokens - then hands each text fragment to the family's encoder.
 * A two-byte index over the special tokens finds which of them occur at
 * all, so a long text with no markup costs one pass.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

static const char *const type_key = "tokenizer.ggml.token_type";

uint64_t
tokenizer_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xff51afd7ed558ccdull);
	uint64_t v;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&v, s + i, 8);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 32;
	}
	if (i < len) {
		v = 0;
		memcpy(&v, s + i, len - i);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 32;
	}
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29) ^ 1;	/* never 0 */
}

int32_t
tokenizer_map_find(const struct tok_map *m, const char *s, size_t len)
{
	size_t i = (size_t)tokenizer_hash(s, len) & m->mask;
	int32_t id;

	while ((id = m->slot[i]) >= 0) {
		if (m->len[id] == len &&
		    memcmp(m->blob + m->off[id], s, len) == 0)
			return id;
		i = (i + 1) & m->mask;
	}
	return -1;
}

/* Index ids [0, n) whose len is not UINT32_MAX; *dup gets a duplicate's
 * id pair. */
static int
map_build(struct tok_map *m, size_t n, int32_t dup[2])
{
	size_t cap = 16, i, j;

	while (cap < 2 * n)
		cap <<= 1;
	m->slot = malloc(cap * sizeof *m->slot);
	if (m->slot == NULL)
		return ERR_NOMEM;
	memset(m->slot, 0xff, cap * sizeof *m->slot);
	m->mask = cap - 1;
	for (i = 0; i < n; i++) {
		if (m->len[i] == UINT32_MAX)
			continue;
		j = (size_t)tokenizer_hash(m->blob + m->off[i], m->len[i]) &
		    m->mask;
		while (m->slot[j] >= 0) {
			int32_t o = m->slot[j];

			if (m->len[o] == m->len[i] &&
			    memcmp(m->blob + m->off[o], m->blob + m->off[i],
			    m->len[i]) == 0) {
				if (dup != NULL) {
					dup[0] = o;
					dup[1] = (int32_t)i;
					return ERR_FORMAT;
				}
				break;
			}
			j = (j + 1) & m->mask;
		}
		if (m->slot[j] < 0)
			m->slot[j] = (int32_t)i;
	}
	return 0;
}

int
tokenizer_ids_push(struct tok_ids *o, int32_t id)
{
	if (o->n == o->cap &&
	    util_grow(&o->v, &o->cap, o->n + 1, sizeof *o->v) != 0)
		return ERR_NOMEM;
	o->v[o->n++] = id;
	return 0;
}

static int32_t
find_text(const struct tok *t, const char *s)
{
	return tokenizer_map_find(&t->by_text, s, strlen(s));
}

/* ---- pieces (llama.cpp's token_to_piece with special = true) ---- */

static int
piece_append(char **buf, size_t *cap, size_t *n, const void *p, size_t k)
{
	if (util_grow(buf, cap, *n + k + 1, 1) != 0)
		return ERR_NOMEM;
	memcpy(*buf + *n, p, k);
	*n += k;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte of a <0xNN> token (strtol semantics: stops at non-hex). */
static unsigned char
byte_of(const char *s, size_t n)
{
	int v = 0, k, i;

	for (i = 3; i < 5 && (size_t)i < n; i++) {
		if ((k = hexval(s[i])) < 0)
			break;
		v = v * 16 + k;
	}
	return (unsigned char)v;
}

static int
build_pieces(struct tok *t)
{
	size_t cap = 0, n = 0, i;
	char *buf = NULL;
	static const char hex[] = "0123456789abcdef";

	t->piece_off = malloc(t->n * sizeof(uint32_t));
	t->piece_len = malloc(t->n * sizeof(uint32_t));
	if (t->piece_off == NULL || t->piece_len == NULL)
		return ERR_NOMEM;
	for (i = 0; i < t->n; i++) {
		const char *s = t->text + t->text_off[i];
		size_t k = t->text_len[i], start = n, j, adv;
		unsigned a = t->attr[i];
		int rc = 0;

		if (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL |
		    TOK_ATTR_USER_DEFINED)) {
			rc = piece_append(&buf, &cap, &n, s, k);
		} else if (a & TOK_ATTR_NORMAL) {
			if (t->info.model == TOK_MODEL_SPM) {
				for (j = 0; j < k && rc == 0; ) {
					if (k - j >= 3 && memcmp(s + j,
					    "\xe2\x96\x81", 3) == 0) {
						rc = piece_append(&buf, &cap,
						    &n, " ", 1);
						j += 3;
					} else {
						rc = piece_append(&buf, &cap,
						    &n, s + j++, 1);
					}
				}
			} else {
				for (j = 0; j < k && rc == 0; j += adv) {
					int64_t c = tokenizer_cpt_decode(
					    (const unsigned char *)s + j, k - j,
					    &adv);
					int b = c < 0 ? -1 :
					    tokenizer_bpe_cpt_byte((uint32_t)c);
					unsigned char ch = (unsigned char)b;
					char u[4];
					size_t m, q;

					if (b >= 0) {
						rc = piece_append(&buf, &cap,
						    &n, &ch, 1);
						continue;
					}
					m = tokenizer_cpt_encode(c < 0 ?
					    0xfffd : (uint32_t)c, u);
					rc = piece_append(&buf, &cap, &n,
					    "[UNK_BYTE_0x", 12);
					for (q = 0; q < m && rc == 0; q++) {
						unsigned char b8 =
						    (unsigned char)u[q];
						char hx[2] = { hex[b8 >> 4],
						    hex[b8 & 15] };

						rc = piece_append(&buf, &cap,
						    &n, hx, 2);
					}
					if (rc == 0)
						rc = piece_append(&buf, &cap,
						    &n, s, k);
					if (rc == 0)
						rc = piece_append(&buf, &cap,
						    &n, "]", 1);
				}
			}
		} else if (a & TOK_ATTR_BYTE) {
			unsigned char ch = byte_of(s, k);

			rc = piece_append(&buf, &cap, &n, &ch, 1);
		}
		if (rc != 0 || n > UINT32_MAX) {
			free(buf);
			return ERR_NOMEM;
		}
		t->piece_off[i] = (uint32_t)start;
		t->piece_len[i] = (uint32_t)(n - start);
	}
	t->piece = buf != NULL ? buf : calloc(1, 1);
	return t->piece != NULL ? 0 : ERR_NOMEM;
}

/* ---- attributes ---- */

static unsigned
attr_of_type(int32_t ty)
{
	switch (ty) {
	case TOK_TYPE_UNKNOWN:		return TOK_ATTR_UNKNOWN;
	case TOK_TYPE_UNUSED:		return TOK_ATTR_UNUSED;
	case TOK_TYPE_NORMAL:		return TOK_ATTR_NORMAL;
	case TOK_TYPE_CONTROL:		return TOK_ATTR_CONTROL;
	case TOK_TYPE_USER_DEFINED:	return TOK_ATTR_USER_DEFINED;
	case TOK_TYPE_BYTE:		return TOK_ATTR_BYTE;
	default:			return TOK_ATTR_UNDEFINED;
	}
}

static const char *const eot_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
	"<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
	"<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
	"<end_of_utterance>", NULL
};
static const char *const eom_texts[] = { "<|eom_id|>", NULL };
static const char *const fim_texts[6][10] = {
	{ "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
	  "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>",
	  "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL },
	{ "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
	  "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>",
	  "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL },
	{ "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
	  "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>",
	  "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL },
	{ "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL },
	{ "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
	  "<reponame>", NULL },
	{ "<|file_sep|>", NULL },
};
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
	"<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
	"<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
	"<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
	"<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
	"[e~[", NULL
};

/*
 * The token of list that llama.cpp picks: it takes the first match of a
 * walk over its hash map, which in practice meets later-inserted (higher)
 * ids first - <|eot_id|> rather than <|end_of_text|> for Llama 3. So: the
 * highest id whose text is in list, or -1.
 */
static int32_t
first_of(const struct tok *t, const char *const *list)
{
	int32_t best = -1, id;

	for (; *list != NULL; list++) {
		id = find_text(t, *list);
		if (id > best)
			best = id;
	}
	return best;
}

static void
detect_special(struct tok *t)
{
	int32_t id, fim[6];
	size_t i, k;

	if (t->info.eot < 0 && (id = first_of(t, eot_texts)) >= 0) {
		t->info.eot = id;
		t->attr[id] |= TOK_ATTR_CONTROL;
	}
	if (t->info.eom < 0 && (id = first_of(t, eom_texts)) >= 0) {
		t->info.eom = id;
		t->attr[id] |= TOK_ATTR_CONTROL;
	}
	for (k = 0; k < 6; k++) {
		fim[k] = first_of(t, fim_texts[k]);
		if (fim[k] >= 0)
			t->attr[fim[k]] |= TOK_ATTR_CONTROL;
	}
	for (i = 0; i < t->n; i++)
		if ((t->attr[i] & TOK_ATTR_CONTROL) &&
		    memmem(t->text + t->text_off[i], t->text_len[i], "unused",
		    6) != NULL)
			t->attr[i] |= TOK_ATTR_UNUSED;
	/* fim pad, repo and file separator end generation too */
	for (k = 3; k < 6; k++)
		if (fim[k] >= 0)
			t->eog[fim[k]] = 1;
	for (k = 0; eog_texts[k] != NULL; k++) {
		id = find_text(t, eog_texts[k]);
		if (id >= 0) {
			t->eog[id] = 1;
			t->attr[id] |= TOK_ATTR_CONTROL;
		}
	}
	/* gpt-oss: harmony markup is always rendered */
	{
		static const char *const harmony[] = { "<|channel|>",
		    "<|message|>", "<|start|>", "<|constrain|>", NULL };

		for (k = 0; harmony[k] != NULL; k++)
			if ((id = find_text(t, harmony[k])) >= 0)
				t->attr[id] = TOK_ATTR_USER_DEFINED;
	}
	if (t->info.eos >= 0)
		t->eog[t->info.eos] = 1;
	if (t->info.eot >= 0)
		t->eog[t->info.eot] = 1;
	if (t->info.eom >= 0)
		t->eog[t->info.eom] = 1;
	{
		int32_t ret = find_text(t, "<|return|>");
		int32_t call = find_text(t, "<|call|>");
		int32_t calls = find_text(t, "<|calls|>");
		int32_t flush = find_text(t, "<|flush|>");
		int32_t end = find_text(t, "<|end|>");
		int32_t tr = find_text(t, "<|tool_response>");
		int32_t s = find_text(t, "</s>");
		int has_ret = ret >= 0 && t->eog[ret];
		int has_call = (call >= 0 && t->eog[call]) ||
		    (calls >= 0 && t->eog[calls]);
		int has_flush = flush >= 0 && t->eog[flush];

		if (end >= 0 && t->eog[end] && ((has_ret && has_call) ||
		    (has_call && has_flush))) {
			t->eog[end] = 0;
			t->attr[end] = TOK_ATTR_USER_DEFINED;
		}
		if (tr >= 0 && t->eog[tr] && s >= 0 && t->eog[s]) {
			t->eog[s] = 0;
			t->attr[s] = TOK_ATTR_NORMAL;
		}
	}
}

/* Per-model strip flags (llama.cpp sets them by general.name). */
static void
name_attrs(struct tok *t, const char *name)
{
	char low[256];
	size_t i;
	int32_t id;

	if (name == NULL)
		return;
	for (i = 0; name[i] != '\0' && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	if (strstr(low, "phi-3") != NULL || strstr(low, "phi3") != NULL) {
		static const char *const off[] = { "<unk>", "<s>",
		    "<|endoftext|>", NULL };

		for (i = 0; i < t->n_special; i++)
			t->attr[t->special[i]] |= TOK_ATTR_RSTRIP;
		if ((id = find_text(t, "</s>")) >= 0)
			t->attr[id] |= TOK_ATTR_RSTRIP;
		for (i = 0; off[i] != NULL; i++)
			if ((id = find_text(t, off[i])) >= 0)
				t->attr[id] &= ~TOK_ATTR_RSTRIP;
	} else if (strstr(low, "modern-bert") != NULL) {
		if ((id = find_text(t, "[MASK]")) >= 0)
			t->attr[id] |= TOK_ATTR_LSTRIP;
	}
}

static const struct tok *sort_tok;

static int
special_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	uint32_t lx = sort_tok->text_len[x], ly = sort_tok->text_len[y];

	if (lx != ly)
		return lx > ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* ---- loading ---- */

static int build_special_index(struct tok *t);

static int
check_id(const struct tok_desc *d, int64_t v, const char *key,
    int32_t *out, struct err *e)
{
	if (v == TOK_ID_NONE)
		return 0;
	if (v < 0 || (uint64_t)v >= d->n_tokens)
		return err_set(e, ERR_RANGE,
		    "%s = %lld is out of range (the vocabulary has %zu "
		    "tokens)", key, (long long)v, d->n_tokens);
	*out = (int32_t)v;
	return 0;
}

/* Default special ids that do not exist are disabled, as in llama.cpp. */
static int32_t
in_range(const struct tok *t, int32_t id)
{
	return id >= 0 && (size_t)id < t->n ? id : TOK_ID_NONE;
}

static int
load_texts(struct tok *t, const struct tok_desc *d, struct err *e)
{
	size_t total = 0, i, o = 0;
	char tmp[32];

	for (i = 0; i < d->n_tokens; i++) {
		size_t k = d->tokens[i].len;

		if (d->tokens[i].s == NULL && k != 0)
			return err_set(e, ERR_FORMAT,
			    "tokenizer.ggml.tokens[%zu]: no string", i);
		if (k == 0)
			k = (size_t)snprintf(tmp, sizeof tmp, "[EMPTY_%zu]", i);
		if (k >= UINT32_MAX || util_add(total, k, &total) != 0 ||
		    total >= UINT32_MAX)
			return err_set(e, ERR_RANGE,
			    "tokenizer.ggml.tokens: strings too long");
	}
	t->text = malloc(total + 1);
	t->text_off = malloc(d->n_tokens * sizeof(uint32_t));
	t->text_len = malloc(d->n_tokens * sizeof(uint32_t));
	t->score = calloc(d->n_tokens, sizeof(float));
	t->attr = calloc(d->n_tokens, sizeof(uint16_t));
	t->eog = calloc(d->n_tokens, 1);
	if (t->text == NULL || t->text_off == NULL || t->text_len == NULL ||
	    t->score == NULL || t->attr == NULL || t->eog == NULL)
		return err_set(e, ERR_NOMEM, "out of memory (vocabulary)");
	for (i = 0; i < d->n_tokens; i++) {
		const char *s = d->tokens[i].s;
		size_t k = d->tokens[i].len;

		if (k == 0) {
			k = (size_t)snprintf(tmp, sizeof tmp, "[EMPTY_%zu]", i);
			s = tmp;
		}
		memcpy(t->text + o, s, k);
		t->text_off[i] = (uint32_t)o;
		t->text_len[i] = (uint32_t)k;
		o += k;
		t->score[i] = d->scores != NULL ? d->scores[i] : 0.0f;
		t->attr[i] = (uint16_t)(d->types != NULL ?
		    attr_of_type(d->types[i]) : TOK_ATTR_NORMAL);
	}
	t->by_text.blob = t->text;
	t->by_text.off = t->text_off;
	t->by_text.len = t->text_len;
	{
		int32_t dup[2];
		int rc = map_build(&t->by_text, t->n, dup);

		if (rc == ERR_FORMAT)
			return err_set(e, ERR_FORMAT,
			    "tokenizer.ggml.tokens: duplicate token '%.*s' has "
			    "ids %d and %d", (int)(t->text_len[dup[0]] > 64 ?
			    64 : t->text_len[dup[0]]),
			    t->text + t->text_off[dup[0]], dup[0], dup[1]);
		if (rc != 0)
			return err_set(e, rc, "out of memory (vocabulary)");
	}
	return 0;
}

/* BPE: byte-decode every token string (GPT-2 mapping) and index it. */
static int
load_bytes(struct tok *t, struct err *e)
{
	size_t i, j, adv, o = 0;

	t->bytes = malloc(t->by_text.off[t->n - 1] + t->text_len[t->n - 1] +
	    1);
	t->bytes_off = malloc(t->n * sizeof(uint32_t));
	t->bytes_len = malloc(t->n * sizeof(uint32_t));
	if (t->bytes == NULL || t->bytes_off == NULL || t->bytes_len == NULL)
		return err_set(e, ERR_NOMEM, "out of memory (vocabulary)");
	for (i = 0; i < t->n; i++) {
		const unsigned char *s =
		    (const unsigned char *)t->text + t->text_off[i];
		size_t k = t->text_len[i], start = o;

		t->bytes_off[i] = (uint32_t)o;
		for (j = 0; j < k; j += adv) {
			int64_t c = tokenizer_cpt_decode(s + j, k - j, &adv);
			int b = c < 0 ? -1 :
			    tokenizer_bpe_cpt_byte((uint32_t)c);

			if (b < 0)
				break;
			t->bytes[o++] = (char)b;
		}
		if (j < k) {
			o = start;
			t->bytes_len[i] = UINT32_MAX;
		} else {
			t->bytes_len[i] = (uint32_t)(o - start);
		}
	}
	t->by_bytes.blob = t->bytes;
	t->by_bytes.off = t->bytes_off;
	t->by_bytes.len = t->bytes_len;
	if (map_build(&t->by_bytes, t->n, NULL) != 0)
		return err_set(e, ERR_NOMEM, "out of memory (vocabulary)");
	for (i = 0; i < 256; i++) {
		char c = (char)i;

		t->byte_tok[i] = tokenizer_map_find(&t->by_bytes, &c, 1);
	}
	return 0;
}

/*
 * SPM: which bytes some token has right before a U+2581. The text can be
 * cut before any U+2581 not preceded by one of them: no token spans such
 * a cut, so merging each side alone gives the same tokens.
 */
static void
load_spm_glue(struct tok *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		const char *s = t->text + t->text_off[i];
		size_t k = t->text_len[i];

		for (j = 1; j + 3 <= k; j++)
			if (memcmp(s + j, "\xe2\x96\x81", 3) == 0)
				t->spm_glue[(unsigned char)s[j - 1]] = 1;
	}
}

static void
load_spm_bytes(struct tok *t)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[7] = "<0x00>";
	size_t i;

	for (i = 0; i < 256; i++) {
		char c = (char)i;

		buf[3] = hex[i >> 4];
		buf[4] = hex[i & 15];
		t->byte_tok[i] = tokenizer_map_find(&t->by_text, buf, 6);
		if (t->byte_tok[i] < 0)
			t->byte_tok[i] = tokenizer_map_find(&t->by_text, &c, 1);
	}
}

int
tokenizer_vocab_new(struct tok **out, const struct tok_desc *d,
    struct err *e)
{
	struct tok *t;
	struct tok_pre_flags pf = { 0, 0, 0 };
	const char *canon = "default";
	int rc;
	size_t i;

	*out = NULL;
	if (d->model != TOK_MODEL_SPM && d->model != TOK_MODEL_BPE)
		return err_set(e, ERR_UNSUPPORTED,
		    "tokenizer.ggml.model: unsupported tokenizer");
	if (d->n_tokens == 0 || d->tokens == NULL)
		return err_set(e, ERR_FORMAT,
		    "tokenizer.ggml.tokens: empty vocabulary");
	if (d->n_tokens >= INT32_MAX)
		return err_set(e, ERR_RANGE,
		    "tokenizer.ggml.tokens: %zu tokens", d->n_tokens);
	if (d->types != NULL)
		for (i = 0; i < d->n_tokens; i++)
			if (d->types[i] < 0 || d->types[i] > TOK_TYPE_BYTE)
				return err_set(e, ERR_FORMAT,
				    "%s[%zu] = %d: not a token type", type_key,
				    i, (int)d->types[i]);
	if (d->model == TOK_MODEL_BPE &&
	    tokenizer_pre_flags(d->pre, &pf, &canon) != 0)
		return err_set(e, ERR_UNSUPPORTED,
		    "tokenizer.ggml.pre: unknown pre-tokenizer type '%s'",
		    d->pre);
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	t->n = d->n_tokens;
	t->info.model = d->model;
	t->info.n_tokens = d->n_tokens;
	if ((rc = load_texts(t, d, e)) != 0)
		goto fail;

	/* llama.cpp's defaults per family */
	t->info.eot = t->info.eom = t->info.sep = t->info.pad = TOK_ID_NONE;
	if (d->model == TOK_MODEL_SPM) {
		t->info.bos = in_range(t, 1);
		t->info.eos = in_range(t, 2);
		t->info.unk = in_range(t, 0);
		t->info.add_space_prefix = 1;
		t->info.add_bos = 1;
		t->info.clean_spaces = 0;
		canon = "default";
	} else {
		t->info.bos = in_range(t, 11);
		t->info.eos = in_range(t, 11);
		t->info.unk = TOK_ID_NONE;
		if (strcmp(canon, "glm4") == 0 ||
		    strcmp(canon, "chatglm-bpe") == 0)
			t->info.bos = TOK_ID_NONE;
		t->info.add_space_prefix = 0;
		t->info.add_bos = pf.add_bos;
		t->info.clean_spaces = pf.clean_spaces;
		t->ignore_merges = pf.ignore_merges;
	}
	t->pre_name = strdup(canon);
	if (t->pre_name == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	t->info.pre = t->pre_name;
	if (d->add_space_prefix != TOK_FLAG_ABSENT)
		t->info.add_space_prefix = d->add_space_prefix != 0;
	if ((rc = check_id(d, d->bos, "tokenizer.ggml.bos_token_id",
	    &t->info.bos, e)) != 0 ||
	    (rc = check_id(d, d->eos, "tokenizer.ggml.eos_token_id",
	    &t->info.eos, e)) != 0 ||
	    (rc = check_id(d, d->eot, "tokenizer.ggml.eot_token_id",
	    &t->info.eot, e)) != 0 ||
	    (rc = check_id(d, d->eom, "tokenizer.ggml.eom_token_id",
	    &t->info.eom, e)) != 0 ||
	    (rc = check_id(d, d->unk, "tokenizer.ggml.unknown_token_id",
	    &t->info.unk, e)) != 0 ||
	    (rc = check_id(d, d->sep, "tokenizer.ggml.seperator_token_id",
	    &t->info.sep, e)) != 0 ||
	    (rc = check_id(d, d->pad, "tokenizer.ggml.padding_token_id",
	    &t->info.pad, e)) != 0)
		goto fail;
	if (d->add_bos != TOK_FLAG_ABSENT)
		t->info.add_bos = d->add_bos != 0;
	if (d->add_eos != TOK_FLAG_ABSENT)
		t->info.add_eos = d->add_eos != 0;
	if (t->info.add_bos && t->info.bos < 0) {
		rc = err_set(e, ERR_FORMAT, "tokenizer.ggml.add_bos_token is "
		    "true, but tokenizer.ggml.bos_token_id is not set");
		goto fail;
	}
	if (t->info.add_eos && t->info.eos < 0) {
		rc = err_set(e, ERR_FORMAT, "tokenizer.ggml.add_eos_token is "
		    "true, but tokenizer.ggml.eos_token_id is not set");
		goto fail;
	}

	if (tokenizer_cache_new(t) != 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory (vocabulary)");
		goto fail;
	}
	if (d->model == TOK_MODEL_BPE) {
		if ((rc = load_bytes(t, e)) != 0 ||
		    (rc = tokenizer_bpe_merges_load(t, d, e)) != 0 ||
		    (rc = tokenizer_pre_new(&t->pre, canon, e)) != 0)
			goto fail;
	} else {
		load_spm_bytes(t);
		load_spm_glue(t);
	}

	detect_special(t);
	for (i = 0; i < t->n; i++)
		if (t->attr[i] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED |
		    TOK_ATTR_UNKNOWN))
			t->n_special++;
	t->special = malloc((t->n_special + 1) * sizeof(int32_t));
	if (t->special == NULL || build_pieces(t) != 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory (vocabulary)");
		goto fail;
	}
	t->n_special = 0;
	for (i = 0; i < t->n; i++)
		if (t->attr[i] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED |
		    TOK_ATTR_UNKNOWN))
			t->special[t->n_special++] = (int32_t)i;
	sort_tok = t;
	qsort(t->special, t->n_special, sizeof(int32_t), special_cmp);
	name_attrs(t, d->name);
	if (build_special_index(t) != 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory (vocabulary)");
		goto fail;
	}

	/* the newline token */
	t->info.nl = t->info.pad;
	if (d->model == TOK_MODEL_SPM) {
		if (t->byte_tok['\n'] >= 0)
			t->info.nl = t->byte_tok['\n'];
	} else {
		struct tok_ids ids = { NULL, 0, 0 };

		if (tokenizer_vocab_encode(t, "\n", 1, 0, &ids, NULL) == 0 &&
		    ids.n > 0)
			t->info.nl = ids.v[0];
		free(ids.v);
	}
	*out = t;
	return 0;
fail:
	tokenizer_vocab_free(t);
	return rc;
}

void
tokenizer_vocab_free(struct tok *t)
{
	struct tok_scratch *sc;

	if (t == NULL)
		return;
	sc = &t->sc;
	tokenizer_bpe_free(t);
	tokenizer_pre_free(t->pre);
	free(t->pre_name);
	free(t->text);
	free(t->text_off);
	free(t->text_len);
	free(t->score);
	free(t->attr);
	free(t->eog);
	free(t->by_text.slot);
	free(t->bytes);
	free(t->bytes_off);
	free(t->bytes_len);
	free(t->by_bytes.slot);
	free(t->piece);
	free(t->piece_off);
	free(t->piece_len);
	free(t->special);
	free(t->sx2_start);
	free(t->sx1_start);
	free(t->sx_ent);
	free(sc->sym);
	free(sc->heap);
	free(sc->norm);
	free(sc->subj);
	free(sc->subj_p);
	free(sc->map);
	free(sc->cut[0]);
	free(sc->cut[1]);
	free(sc->buf);
	free(t);
}

const struct tok_info *
tokenizer_vocab_info(const struct tok *t)
{
	return &t->info;
}

const char *
tokenizer_vocab_piece(const struct tok *t, int32_t id, size_t *len)
{
	if (id < 0 || (size_t)id >= t->n)
		return NULL;
	*len = t->piece_len[id];
	return t->piece + t->piece_off[id];
}

const char *
tokenizer_vocab_text(const struct tok *t, int32_t id, size_t *len)
{
	if (id < 0 || (size_t)id >= t->n)
		return NULL;
	*len = t->text_len[id];
	return t->text + t->text_off[id];
}

unsigned
tokenizer_vocab_attr(const struct tok *t, int32_t id)
{
	if (id < 0 || (size_t)id >= t->n)
		return 0;
	return t->attr[id];
}

int
tokenizer_vocab_is_eog(const struct tok *t, int32_t id)
{
	return id >= 0 && (size_t)id < t->n && t->eog[id];
}

/* ---- encoding ---- */

/*
 * Special tokens are found with an index by their first two bytes (one
 * byte for one-byte tokens): a single pass over the text lists every
 * occurrence of every special token. llama.cpp's partition - for each
 * token, longest first, take its occurrences left to right wherever they
 * lie wholly in text not yet taken (stripping whitespace next to tokens
 * marked LSTRIP/RSTRIP) - is then replayed on a byte mask.
 */
static int
build_special_index(struct tok *t)
{
	size_t k, n2 = 0;
	uint32_t *pos2, *pos1;

	t->sx2_start = calloc(65536 + 1, sizeof(uint32_t));
	t->sx1_start = calloc(256 + 1, sizeof(uint32_t));
	t->sx_ent = malloc((t->n_special + 1) * sizeof(uint32_t));
	if (t->sx2_start == NULL || t->sx1_start == NULL || t->sx_ent == NULL)
		return ERR_NOMEM;
	for (k = 0; k < t->n_special; k++) {
		const unsigned char *s = (const unsigned char *)t->text +
		    t->text_off[t->special[k]];

		if (t->text_len[t->special[k]] >= 2) {
			t->sx2_start[(s[0] << 8 | s[1]) + 1]++;
			n2++;
		} else {
			t->sx1_start[s[0] + 1]++;
		}
	}
	for (k = 0; k < 65536; k++)
		t->sx2_start[k + 1] += t->sx2_start[k];
	for (k = 0; k < 256; k++)
		t->sx1_start[k + 1] += t->sx1_start[k];
	pos2 = malloc(65536 * sizeof(uint32_t));
	pos1 = malloc(256 * sizeof(uint32_t));
	if (pos2 == NULL || pos1 == NULL) {
		free(pos2);
		free(pos1);
		return ERR_NOMEM;
	}
	memcpy(pos2, t->sx2_start, 65536 * sizeof(uint32_t));
	memcpy(pos1, t->sx1_start, 256 * sizeof(uint32_t));
	for (k = 0; k < t->n_special; k++) {
		const unsigned char *s = (const unsigned char *)t->text +
		    t->text_off[t->special[k]];

		if (t->text_len[t->special[k]] >= 2)
			t->sx_ent[pos2[s[0] << 8 | s[1]]++] = (uint32_t)k;
		else
			t->sx_ent[n2 + pos1[s[0]]++] = (uint32_t)k;
	}
	t->sx1_base = (uint32_t)n2;
	free(pos2);
	free(pos1);
	return 0;
}

struct frag {
	int32_t		 id;		/* token, or -1 for text */
	uint32_t	 off, len;
};

struct occ {
	uint32_t	 k;		/* rank in t->special */
	uint32_t	 pos;
};

static int
occ_cmp(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int
c_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

static int
allowed(const struct tok *t, uint32_t k, unsigned flags)
{
	return (flags & TOK_ENC_PARSE_SPECIAL) ||
	    !(t->attr[t->special[k]] & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN));
}

/*
 * Cut special tokens out of text: *frags gets the text fragments and
 * tokens in order (*nf of them). Without any special token in the text
 * that is the whole text as one fragment.
 */
static int
partition(const struct tok *t, const char *text, size_t len,
    unsigned flags, struct frag **frags, size_t *nf)
{
	const unsigned char *u = (const unsigned char *)text;
	struct occ *occ = NULL;
	size_t n_occ = 0, cap_occ = 0, i, j, n = 0, cap = 0;
	uint8_t *mask = NULL;
	int32_t *tok_at = NULL;
	struct frag *f = NULL;
	int rc = ERR_NOMEM;

	*frags = NULL;
	*nf = 0;
	for (i = 0; i < len && t->n_special > 0; i++) {
		uint32_t a, b;

		if (i + 1 < len) {
			a = t->sx2_start[u[i] << 8 | u[i + 1]];
			b = t->sx2_start[(u[i] << 8 | u[i + 1]) + 1];
		} else {
			a = b = 0;
		}
		for (; a < b; a++) {
			uint32_t k = t->sx_ent[a];
			int32_t id = t->special[k];
			size_t l = t->text_len[id];

			if (l <= len - i && allowed(t, k, flags) &&
			    memcmp(text + i, t->text + t->text_off[id],
			    l) == 0) {
				if (util_grow(&occ, &cap_occ, n_occ + 1,
				    sizeof *occ) != 0)
					goto done;
				occ[n_occ].k = k;
				occ[n_occ++].pos = (uint32_t)i;
			}
		}
		a = t->sx1_base + t->sx1_start[u[i]];
		b = t->sx1_base + t->sx1_start[u[i] + 1];
		for (; a < b; a++) {
			uint32_t k = t->sx_ent[a];

			if (!allowed(t, k, flags))
				continue;
			if (util_grow(&occ, &cap_occ, n_occ + 1,
			    sizeof *occ) != 0)
				goto done;
			occ[n_occ].k = k;
			occ[n_occ++].pos = (uint32_t)i;
		}
	}
	if (n_occ > 0) {
		/* 0 free text, 1 taken by a token, 2 stripped */
		mask = calloc(len, 1);
		tok_at = malloc(len * sizeof *tok_at);
		if (mask == NULL || tok_at == NULL)
			goto done;
		qsort(occ, n_occ, sizeof *occ, occ_cmp);
		for (j = 0; j < n_occ; j++) {
			int32_t id = t->special[occ[j].k];
			size_t p = occ[j].pos, l = t->text_len[id], q;
			unsigned at = t->attr[id];

			for (q = p; q < p + l && mask[q] == 0; q++)
				;
			if (q < p + l)
				continue;
			memset(mask + p, 1, l);
			tok_at[p] = id;
			if (at & TOK_ATTR_LSTRIP)
				for (q = p; q > 0 && mask[q - 1] == 0 &&
				    c_space(text[q - 1]); q--)
					mask[q - 1] = 2;
			if (at & TOK_ATTR_RSTRIP)
				for (q = p + l; q < len && mask[q] == 0 &&
				    c_space(text[q]); q++)
					mask[q] = 2;
		}
	}
	for (i = 0; i < len; ) {
		if (util_grow(&f, &cap, n + 1, sizeof *f) != 0)
			goto done;
		if (mask != NULL && mask[i] == 2) {
			i++;
			continue;
		}
		if (mask != NULL && mask[i] == 1) {
			f[n].id = tok_at[i];
			f[n].off = (uint32_t)i;
			f[n].len = t->text_len[tok_at[i]];
			i += f[n++].len;
			continue;
		}
		for (j = i; j < len && (mask == NULL || mask[j] == 0); j++)
			;
		f[n].id = -1;
		f[n].off = (uint32_t)i;
		f[n++].len = (uint32_t)(j - i);
		i = j;
	}
	*frags = f;
	*nf = n;
	f = NULL;
	rc = 0;
done:
	free(f);
	free(occ);
	free(mask);
	free(tok_at);
	return rc;
}

static int
encode_text(struct tok *t, const char *s, size_t len, int prefix,
    struct tok_ids *out, struct err *e)
{
	struct tok_scratch *sc = &t->sc;
	size_t i, o = 0, spaces = 0;
	int rc;

	if (t->info.model == TOK_MODEL_BPE)
		return tokenizer_bpe_encode(t, s, len, out, e);
	for (i = 0; i < len; i++)
		spaces += s[i] == ' ';
	if (util_grow(&sc->buf, &sc->buf_cap, len + 2 * spaces + 4, 1)
	    != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (prefix) {
		memcpy(sc->buf, "\xe2\x96\x81", 3);
		o = 3;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			memcpy(sc->buf + o, "\xe2\x96\x81", 3);
			o += 3;
		} else {
			sc->buf[o++] = s[i];
		}
	}
	rc = tokenizer_spm_encode(t, sc->buf, o, out);
	if (rc != 0)
		return err_set(e, rc, "out of memory (%zu-byte text)", len);
	return 0;
}

int
tokenizer_vocab_encode(struct tok *t, const char *text, size_t len,
    unsigned flags, struct tok_ids *out, struct err *e)
{
	struct frag *f = NULL;
	size_t nf = 0, k;
	int rc = 0, prev_special = 1;

	if (len >= UINT32_MAX)
		return err_set(e, ERR_RANGE, "text too long (%zu bytes)", len);
	if (partition(t, text, len, flags, &f, &nf) != 0)
		goto nomem;
	if ((flags & TOK_ENC_ADD_SPECIAL) && t->info.add_bos &&
	    tokenizer_ids_push(out, t->info.bos) != 0)
		goto nomem;
	for (k = 0; k < nf; k++) {
		if (f[k].id >= 0) {
			if (tokenizer_ids_push(out, f[k].id) != 0)
				goto nomem;
			prev_special = 1;
			continue;
		}
		rc = encode_text(t, text + f[k].off, f[k].len,
		    t->info.add_space_prefix && prev_special, out, e);
		if (rc != 0)
			goto done;
		prev_special = 0;
	}
	if ((flags & TOK_ENC_ADD_SPECIAL) && t->info.add_eos &&
	    tokenizer_ids_push(out, t->info.eos) != 0)
		goto nomem;
	goto done;
nomem:
	rc = err_set(e, ERR_NOMEM, "out of memory (%zu-byte text)", len);
done:
	free(f);
	return rc;
}

/* ---- decoding ---- */

/* llama.cpp's clean_up_tokenization_spaces, in place; returns length. */
static size_t
clean_spaces(char *x, size_t total)
{
	size_t i, n1, n2, n3;

	n1 = total;
	total = total ? 1 : 0;
	for (i = 1; i < n1; i++) {
		char c = x[i];

		if (x[i - 1] == ' ' &&
		    (c == '?' || c == '!' || c == '.' || c == ','))
			total--;
		x[total++] = c;
	}
	n2 = total;
	total = total ? 1 : 0;
	for (i = 1; i < n2; i++) {
		char c = x[i];

		if (c == '\'' && i + 1 < n2 && x[i - 1] == ' ' &&
		    x[i + 1] == ' ') {
			total--;
			x[++i] = '\0';
		}
		x[total++] = c;
	}
	n3 = total;
	total = total ? 1 : 0;
	for (i = 1; i < n3; i++) {
		char c = x[i];

		if (x[i - 1] == ' ' && c == '\'' && i + 1 < n3) {
			char c1 = x[i + 1];

			if (c1 == 's' || c1 == 'm')
				total--;
			else if (i + 2 < n3 && ((c1 == 'r' && x[i + 2] == 'e')
			    || (c1 == 'v' && x[i + 2] == 'e')))
				total--;
		}
		x[total++] = c;
	}
	return total;
}

int
tokenizer_vocab_decode(const struct tok *t, const int32_t *ids,
    size_t n, unsigned flags, char **out, size_t *len, struct err *e)
{
	int remove_space = t->info.add_space_prefix &&
	    !(flags & TOK_DEC_KEEP_SPACE);
	size_t i, total = 0, o = 0;
	char *buf;

	*out = NULL;
	*len = 0;
	for (i = 0; i < n; i++)
		if (ids[i] < 0 || (size_t)ids[i] >= t->n)
			return err_set(e, ERR_RANGE,
			    "token id %d at position %zu is out of range "
			    "(vocabulary of %zu)", (int)ids[i], i, t->n);
	if ((flags & TOK_DEC_REMOVE_SPECIAL) && t->info.add_bos && n > 0 &&
	    ids[0] == t->info.bos) {
		remove_space = 0;
		ids++;
		n--;
	}
	if ((flags & TOK_DEC_REMOVE_SPECIAL) && t->info.add_eos && n > 0 &&
	    ids[n - 1] == t->info.eos)
		n--;
	for (i = 0; i < n; i++)
		total += t->piece_len[ids[i]];
	buf = malloc(total + 1);
	if (buf == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const char *p = t->piece + t->piece_off[ids[i]];
		size_t k = t->piece_len[ids[i]];

		if (!(flags & TOK_DEC_SPECIAL) &&
		    (t->attr[ids[i]] & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL)))
			k = 0;
		if (remove_space && k > 0 && p[0] == ' ') {
			p++;
			k--;
		}
		remove_space = 0;
		memcpy(buf + o, p, k);
		o += k;
	}
	if ((flags & TOK_DEC_CLEAN_SPACES) && t->info.clean_spaces)
		o = clean_spaces(buf, o);
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}
