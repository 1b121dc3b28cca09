/*
 * convert-spm.c - a reader for SentencePiece's tokenizer.model: the
 * protobuf ModelProto, of which only the repeated field 1 (pieces) is
 * needed; each piece is a message with piece (1, string), score (2,
 * float) and type (3, enum; NORMAL when absent). Every other field is
 * skipped by wire type. Varints, lengths and nesting are checked against
 * the buffer; a malformed file is an error naming it and the offset.
 */
#include <stdlib.h>
#include <string.h>

#include "convert/convert-int.h"

struct pb {
	const uint8_t	*p, *end;
	const uint8_t	*base;
	const char	*name;
};

static int
pb_fail(const struct pb *b, const char *what, struct err *e)
{
	return err_set(e, ERR_FORMAT, "%s: bad protobuf at byte %zu: %s",
	    b->name, (size_t)(b->p - b->base), what);
}

static int
pb_varint(struct pb *b, uint64_t *v, struct err *e)
{
	uint64_t x = 0;
	int shift = 0;

	while (b->p < b->end) {
		uint8_t c = *b->p++;

		if (shift == 63 && (c & 0x7e) != 0)
			return pb_fail(b, "varint overflows 64 bits", e);
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
		shift += 7;
		if (shift > 63)
			return pb_fail(b, "varint too long", e);
	}
	return pb_fail(b, "truncated varint", e);
}

/* Skip one field's value of wire type wt. */
static int
pb_skip(struct pb *b, int wt, struct err *e)
{
	uint64_t v;
	int rc;

	switch (wt) {
	case 0:
		return pb_varint(b, &v, e);
	case 1:
		if (b->end - b->p < 8)
			return pb_fail(b, "truncated fixed64", e);
		b->p += 8;
		return 0;
	case 2:
		if ((rc = pb_varint(b, &v, e)) != 0)
			return rc;
		if (v > (uint64_t)(b->end - b->p))
			return pb_fail(b, "length past the end", e);
		b->p += v;
		return 0;
	case 5:
		if (b->end - b->p < 4)
			return pb_fail(b, "truncated fixed32", e);
		b->p += 4;
		return 0;
	default:
		return pb_fail(b, "unsupported wire type", e);
	}
}

static int
parse_piece(struct cv_spm *s, struct pb *b, struct err *e)
{
	uint64_t key, v;
	const uint8_t *str = NULL;
	size_t len = 0;
	float score = 0;
	int32_t type = 1;
	int rc, wt;
	char *c;

	while (b->p < b->end) {
		if ((rc = pb_varint(b, &key, e)) != 0)
			return rc;
		wt = (int)(key & 7);
		if (key >> 3 == 1 && wt == 2) {
			if ((rc = pb_varint(b, &v, e)) != 0)
				return rc;
			if (v > (uint64_t)(b->end - b->p))
				return pb_fail(b, "piece past the end", e);
			str = b->p;
			len = (size_t)v;
			b->p += v;
		} else if (key >> 3 == 2 && wt == 5) {
			uint32_t u;

			if (b->end - b->p < 4)
				return pb_fail(b, "truncated score", e);
			u = (uint32_t)b->p[0] | (uint32_t)b->p[1] << 8 |
			    (uint32_t)b->p[2] << 16 | (uint32_t)b->p[3] << 24;
			memcpy(&score, &u, 4);
			b->p += 4;
		} else if (key >> 3 == 3 && wt == 0) {
			if ((rc = pb_varint(b, &v, e)) != 0)
				return rc;
			if (v < 1 || v > 6)
				return pb_fail(b, "piece type out of range", e);
			type = (int32_t)v;
		} else if ((rc = pb_skip(b, wt, e)) != 0)
			return rc;
	}
	if (str == NULL)
		return pb_fail(b, "piece without text", e);
	if (!util_utf8_valid((const char *)str, len) ||
	    memchr(str, 0, len) != NULL)
		return pb_fail(b, "piece is not valid UTF-8", e);
	if ((c = malloc(len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	memcpy(c, str, len);
	c[len] = '\0';
	s->piece[s->n] = c;
	s->score[s->n] = score;
	s->type[s->n] = type;
	s->n++;
	return 0;
}

int
cv_spm_parse(struct cv_spm *s, const void *buf, size_t len,
    const char *name, struct err *e)
{
	struct pb b = { buf, (const uint8_t *)buf + len, buf, name }, sub;
	uint64_t key, v;
	size_t cap = 0, n_max;
	int rc, wt;

	memset(s, 0, sizeof *s);
	/* each piece takes at least 4 bytes: a bound for the arrays */
	n_max = len / 4 + 1;
	while (b.p < b.end) {
		if ((rc = pb_varint(&b, &key, e)) != 0)
			goto fail;
		wt = (int)(key & 7);
		if (key >> 3 != 1 || wt != 2) {
			if ((rc = pb_skip(&b, wt, e)) != 0)
				goto fail;
			continue;
		}
		if ((rc = pb_varint(&b, &v, e)) != 0)
			goto fail;
		if (v > (uint64_t)(b.end - b.p)) {
			rc = pb_fail(&b, "piece message past the end", e);
			goto fail;
		}
		if (s->n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			void *p1, *p2, *p3;

			if (nc > n_max)
				nc = n_max;
			p1 = realloc(s->piece, nc * sizeof *s->piece);
			if (p1 != NULL)
				s->piece = p1;
			p2 = realloc(s->score, nc * sizeof *s->score);
			if (p2 != NULL)
				s->score = p2;
			p3 = realloc(s->type, nc * sizeof *s->type);
			if (p3 != NULL)
				s->type = p3;
			if (p1 == NULL || p2 == NULL || p3 == NULL) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				goto fail;
			}
			cap = nc;
		}
		sub = b;
		sub.end = b.p + v;
		b.p += v;
		if ((rc = parse_piece(s, &sub, e)) != 0)
			goto fail;
	}
	if (s->n == 0) {
		rc = err_set(e, ERR_FORMAT, "%s: no pieces: not a "
		    "SentencePiece model", name);
		goto fail;
	}
	return 0;
fail:
	cv_spm_free(s);
	return rc;
}

int
cv_spm_load(struct cv_spm *s, const char *path, struct err *e)
{
	struct util_map map;
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = util_map_open(&map, path, e)) != 0)
		return rc;
	rc = cv_spm_parse(s, map.data, map.size, path, e);
	util_map_close(&map);
	return rc;
}

void
cv_spm_free(struct cv_spm *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->piece[i]);
	free(s->piece);
	free(s->score);
	free(s->type);
	memset(s, 0, sizeof *s);
}
