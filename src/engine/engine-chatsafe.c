/*
 * engine-chatsafe.c - a conversation to token ids with the messages'
 * contents treated as data: special-token text that a user typed (an
 * "<|im_start|>" inside a message) stays text, while the markup the
 * template writes is parsed into special tokens.
 *
 * How: tokenize each content with special parsing and collect the texts
 * of the control (and unknown) tokens that come out; if there are none,
 * the conversation is encoded exactly as eng_chat_encode does. Otherwise
 * each such text in a content is replaced by a placeholder, U+FDD0, the
 * decimal index of the text, U+FDD1 (noncharacters no tokenizer or
 * template treats specially; contents holding those characters get them
 * replaced too). The conversation is rendered, the rendering is cut at
 * the placeholders, the pieces between them are tokenized as markup and
 * the replaced texts as plain text. Templates that copy, drop or reorder
 * contents carry the placeholders along, so this holds for any template.
 *
 * The pieces are tokenized one by one, as llama.cpp tokenizes the text
 * between special tokens: with a SentencePiece vocabulary that adds a
 * space prefix, text right after a protected string gets that prefix too.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine-chat.h"

#define PH_OPEN		"\xef\xb7\x90"	/* U+FDD0 */
#define PH_CLOSE	"\xef\xb7\x91"	/* U+FDD1 */
#define PH_LEN		3
#define MAX_PROTECT	4096		/* distinct protected strings */

struct protect {
	const char	**s;		/* [n] */
	size_t		 *len;
	size_t		  n, cap_s, cap_len;
};

static int
protect_add(struct protect *p, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->len[i] == len && memcmp(p->s[i], s, len) == 0)
			return 0;
	if (p->n == MAX_PROTECT)
		return ERR_RANGE;
	if (util_grow(&p->s, &p->cap_s, p->n + 1, sizeof *p->s) != 0 ||
	    util_grow(&p->len, &p->cap_len, p->n + 1, sizeof *p->len) != 0)
		return ERR_NOMEM;
	p->s[p->n] = s;
	p->len[p->n++] = len;
	return 0;
}

/* Collect the special-token texts that s would turn into tokens. */
static int
protect_scan(struct protect *p, struct tok *t, const char *s, struct err *e)
{
	struct tok_ids ids = { 0 };
	const char *txt;
	size_t i, len;
	int rc;

	if (strstr(s, PH_OPEN) != NULL &&
	    (rc = protect_add(p, PH_OPEN, PH_LEN)) != 0)
		return rc;
	if (strstr(s, PH_CLOSE) != NULL &&
	    (rc = protect_add(p, PH_CLOSE, PH_LEN)) != 0)
		return rc;
	if ((rc = tokenizer_vocab_encode(t, s, strlen(s),
	    TOK_ENC_PARSE_SPECIAL, &ids, e)) != 0)
		return rc;
	for (i = 0; i < ids.n && rc == 0; i++) {
		if (!(tokenizer_vocab_attr(t, ids.v[i]) &
		    (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN)))
			continue;
		txt = tokenizer_vocab_text(t, ids.v[i], &len);
		if (txt != NULL && len > 0)
			rc = protect_add(p, txt, len);
	}
	free(ids.v);
	return rc;
}

/* s with every protected string replaced by its placeholder (malloc'd). */
static char *
substitute(const struct protect *p, const char *s)
{
	struct util_buf out = { 0 };
	size_t k, best, bl;
	char ph[2 * PH_LEN + 24];
	int n;

	util_buf_put(&out, "", 0);
	while (*s) {
		best = p->n;
		bl = 0;
		for (k = 0; k < p->n; k++)
			if (p->len[k] > bl &&
			    strncmp(s, p->s[k], p->len[k]) == 0) {
				best = k;
				bl = p->len[k];
			}
		if (best == p->n) {
			util_buf_put(&out, s++, 1);
			continue;
		}
		n = snprintf(ph, sizeof ph, "%s%zu%s", PH_OPEN, best,
		    PH_CLOSE);
		util_buf_put(&out, ph, (size_t)n);
		s += bl;
	}
	if (out.fail) {
		free(out.s);
		return NULL;
	}
	return out.s;
}

static int
encode_piece(struct tok *t, const char *s, size_t len, unsigned flags,
    struct tok_ids *out, struct err *e)
{
	if (len == 0)
		return 0;
	return tokenizer_vocab_encode(t, s, len, flags, out, e);
}

/*
 * Tokenize the rendering r cut at the placeholders: the BOS and EOS the
 * vocabulary adds around the whole, markup pieces with special parsing,
 * protected texts without. *text (when not NULL) gets r with the
 * protected texts put back.
 */
static int
encode_cut(struct eng_chat *c, const struct protect *p, const char *r,
    struct tok_ids *out, char **text, struct err *e)
{
	const struct tok_info *ti = tokenizer_vocab_info(c->tok);
	struct util_buf tx = { 0 };
	const char *q = r, *ph, *d;
	size_t start = out->n, idx;
	int rc = 0;

	if (ti->add_bos && ti->bos >= 0 && tokenizer_ids_push(out, ti->bos) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	while ((ph = strstr(q, PH_OPEN)) != NULL) {
		if ((rc = encode_piece(c->tok, q, (size_t)(ph - q),
		    TOK_ENC_PARSE_SPECIAL, out, e)) != 0)
			break;
		util_buf_put(&tx, q, (size_t)(ph - q));
		d = ph + PH_LEN;
		for (idx = 0; *d >= '0' && *d <= '9' && idx <= p->n; d++)
			idx = idx * 10 + (size_t)(*d - '0');
		if (d == ph + PH_LEN || idx >= p->n ||
		    strncmp(d, PH_CLOSE, PH_LEN) != 0) {
			rc = err_set(e, ERR_TEMPLATE, "the chat template "
			    "altered a message so that the special-token "
			    "text in it cannot be kept as text");
			break;
		}
		if ((rc = encode_piece(c->tok, p->s[idx], p->len[idx], 0, out,
		    e)) != 0)
			break;
		util_buf_put(&tx, p->s[idx], p->len[idx]);
		q = d + PH_LEN;
	}
	if (rc == 0)
		rc = encode_piece(c->tok, q, strlen(q), TOK_ENC_PARSE_SPECIAL,
		    out, e);
	util_buf_put(&tx, q, strlen(q));
	if (rc == 0 && ti->add_eos && ti->eos >= 0 &&
	    tokenizer_ids_push(out, ti->eos) != 0)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	/* the template wrote the BOS text itself: drop the added one */
	if (rc == 0 && ti->add_bos && out->n - start >= 2 &&
	    out->v[start] == ti->bos && out->v[start + 1] == ti->bos) {
		memmove(out->v + start, out->v + start + 1,
		    (out->n - start - 1) * sizeof *out->v);
		out->n--;
	}
	if (rc == 0 && tx.fail)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0 && text != NULL) {
		*text = tx.s ? tx.s : strdup("");
		if (*text == NULL)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	} else
		free(tx.s);
	return rc;
}

int
eng_chat_encode_safe(struct eng_chat *c, const struct tokenizer_chat_msg *msgs,
    size_t n, int add_gen, struct tok_ids *out, char **text, struct err *e)
{
	struct protect p = { 0 };
	struct tokenizer_chat_msg *sub = NULL;
	struct tok_ids scratch = { 0 };
	char *r = NULL;
	size_t i, done = 0;
	int rc = 0;

	if (text != NULL)
		*text = NULL;
	for (i = 0; i < n && rc == 0; i++)
		rc = protect_scan(&p, c->tok, msgs[i].content, e);
	if (rc == ERR_RANGE)
		err_set(e, rc, "too many distinct special tokens in the "
		    "messages");
	if (rc == 0 && p.n == 0) {
		free(p.s);
		free(p.len);
		return eng_chat_encode(c, msgs, n, add_gen, out, text, e);
	}
	if (rc == 0 && (sub = calloc(n ? n : 1, sizeof *sub)) == NULL)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < n && rc == 0; i++, done++) {
		sub[i].role = msgs[i].role;
		if ((sub[i].content = substitute(&p, msgs[i].content)) ==
		    NULL)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	if (rc == 0)
		rc = eng_chat_encode(c, sub, n, add_gen, &scratch, &r, e);
	if (rc == 0)
		rc = encode_cut(c, &p, r, out, text, e);
	for (i = 0; i < done; i++)
		free((char *)sub[i].content);
	free(sub);
	free(scratch.v);
	free(r);
	free(p.s);
	free(p.len);
	return rc;
}
