/*
 * tokenizer-stream.c - decode generated tokens one at a time without
 * ever splitting a UTF-8 character: a token may end in the middle of a
 * character (byte-level BPE, <0xNN> byte tokens), so the incomplete tail
 * is held back until the next token completes it. A tail that can never
 * become valid is passed through as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

void
tokenizer_stream_init(struct tok_stream *s, const struct tok *t,
    unsigned flags)
{
	memset(s, 0, sizeof *s);
	s->t = t;
	s->flags = flags;
	s->first = 1;
}

void
tokenizer_stream_fini(struct tok_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

/* Expected length of a sequence with lead byte c; 0 if c cannot lead. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Length of the incomplete (but still completable) character at the end
 * of b[0..n), or 0. */
static size_t
incomplete_tail(const char *b, size_t n)
{
	size_t i, k, need;

	for (k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = (unsigned char)b[n - k];

		if ((c & 0xc0) == 0x80)
			continue;	/* continuation: look further back */
		need = seq_len(c);
		if (need > k) {
			for (i = n - k + 1; i < n; i++)
				if (((unsigned char)b[i] & 0xc0) != 0x80)
					return 0;
			return k;
		}
		return 0;
	}
	return 0;
}

int
tokenizer_stream_push(struct tok_stream *s, int32_t id, const char **out,
    size_t *len)
{
	const struct tok *t = s->t;
	const char *p;
	size_t k, n, tail;

	*out = "";
	*len = 0;
	if (id < 0 || (size_t)id >= t->n)
		return ERR_RANGE;
	p = t->piece + t->piece_off[id];
	k = t->piece_len[id];
	if (!(s->flags & TOK_DEC_SPECIAL) &&
	    (t->attr[id] & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL)))
		k = 0;
	if (s->first && t->info.add_space_prefix &&
	    !(s->flags & TOK_DEC_KEEP_SPACE) && k > 0 && p[0] == ' ') {
		p++;
		k--;
	}
	s->first = 0;
	if (util_grow(&s->buf, &s->cap, s->n_held + k + 1, 1) != 0)
		return ERR_NOMEM;
	memcpy(s->buf, s->held, s->n_held);
	memcpy(s->buf + s->n_held, p, k);
	n = s->n_held + k;
	tail = incomplete_tail(s->buf, n);
	memcpy(s->held, s->buf + n - tail, tail);
	s->n_held = tail;
	*out = s->buf;
	*len = n - tail;
	return 0;
}

int
tokenizer_stream_flush(struct tok_stream *s, const char **out,
    size_t *len)
{
	if (util_grow(&s->buf, &s->cap, s->n_held + 1, 1) != 0)
		return ERR_NOMEM;
	memcpy(s->buf, s->held, s->n_held);
	*out = s->buf;
	*len = s->n_held;
	s->n_held = 0;
	return 0;
}
