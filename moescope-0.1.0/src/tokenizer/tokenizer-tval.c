/*
 * tokenizer-tval.c - the chat-template interpreter's values.
 *
 * Values (none, bool, int, float, UTF-8 string, list/tuple, dict with
 * insertion order, namespace, callables) are allocated from an arena and
 * never freed one by one: a render frees its arena at the end, and a
 * tokenizer_tvars owns the input values it built. Lists and dicts are
 * plain arrays; dicts are searched linearly (templates hold small ones).
 *
 * This file also prints values the way Python does: str() and repr()
 * (floats in the shortest form that reads back exactly, "1.0" for whole
 * floats), and json.dumps() with the arguments transformers' tojson
 * filter passes on (ensure_ascii, indent, separators, sort_keys).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

#define TCHUNK_MIN	(64u * 1024u)
#define JSON_DEPTH_MAX	200

struct tchunk {
	struct tchunk	*next;
	size_t		 size, used;
	max_align_t	 data[];
};

void
tarena_init(struct tarena *a, size_t limit)
{
	memset(a, 0, sizeof *a);
	a->limit = limit;
}

void
tarena_fini(struct tarena *a)
{
	struct tchunk *c, *n;

	for (c = a->head; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	a->head = NULL;
	a->total = 0;
}

void *
tarena_alloc(struct tarena *a, size_t n)
{
	struct tchunk *c = a->head;
	size_t sz;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (c == NULL || c->size - c->used < n) {
		sz = n > TCHUNK_MIN ? n : TCHUNK_MIN;
		if (a->limit != 0 && (a->total + sz > a->limit ||
		    sz > a->limit)) {
			a->failed = 1;
			return NULL;
		}
		c = malloc(sizeof *c + sz);
		if (c == NULL) {
			a->failed = 1;
			return NULL;
		}
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		/* Keep a partly used chunk in front for small requests. */
		if (a->head != NULL && n == sz && a->head->size -
		    a->head->used >= 256) {
			c->next = a->head->next;
			a->head->next = c;
		} else
			a->head = c;
		a->total += sz;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void *
tarena_grow(struct tarena *a, void *p, size_t old, size_t n)
{
	void *q;

	if (n <= old)
		return p;
	q = tarena_alloc(a, n);
	if (q != NULL && old > 0)
		memcpy(q, p, old);
	return q;
}

char *
tarena_strndup(struct tarena *a, const char *s, size_t n)
{
	char *p = tarena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

struct tval *
tv_new(struct tarena *a, enum tv_kind k)
{
	struct tval *v = tarena_alloc(a, sizeof *v);

	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof *v);
	v->kind = k;
	return v;
}

struct tval *
tv_str(struct tarena *a, const char *s, size_t len)
{
	struct tval *v = tv_new(a, TV_STR);

	if (v == NULL)
		return NULL;
	v->u.s.p = tarena_strndup(a, s, len);
	if (v->u.s.p == NULL)
		return NULL;
	v->u.s.len = len;
	return v;
}

struct tval *
tv_int(struct tarena *a, int64_t i)
{
	struct tval *v = tv_new(a, TV_INT);

	if (v != NULL)
		v->u.i = i;
	return v;
}

struct tval *
tv_float(struct tarena *a, double f)
{
	struct tval *v = tv_new(a, TV_FLOAT);

	if (v != NULL)
		v->u.f = f;
	return v;
}

/* Booleans are shared, never modified: no allocation. */
static struct tval tv_false = { .kind = TV_BOOL, .u.b = 0 };
static struct tval tv_true = { .kind = TV_BOOL, .u.b = 1 };

struct tval *
tv_bool(struct tarena *a, int b)
{
	(void)a;
	return b ? &tv_true : &tv_false;
}

int
tv_list_push(struct tarena *a, struct tval *l, struct tval *x)
{
	struct tval **nv;
	size_t ncap;

	if (l->u.l.n == l->u.l.cap) {
		ncap = l->u.l.cap ? l->u.l.cap * 2 : 8;
		nv = tarena_grow(a, l->u.l.v, l->u.l.cap * sizeof *nv,
		    ncap * sizeof *nv);
		if (nv == NULL)
			return ERR_NOMEM;
		l->u.l.v = nv;
		l->u.l.cap = ncap;
	}
	l->u.l.v[l->u.l.n++] = x;
	return 0;
}

static long
dict_find(const struct tval *d, const struct tval *k)
{
	size_t i;

	for (i = 0; i < d->u.d.n; i++)
		if (tv_equal(d->u.d.k[i], k))
			return (long)i;
	return -1;
}

int
tv_dict_put(struct tarena *a, struct tval *d, struct tval *k,
    struct tval *v)
{
	struct tval **nk, **nv;
	long at = dict_find(d, k);
	size_t ncap;

	if (at >= 0) {
		d->u.d.v[at] = v;
		return 0;
	}
	if (d->u.d.n == d->u.d.cap) {
		ncap = d->u.d.cap ? d->u.d.cap * 2 : 8;
		nk = tarena_grow(a, d->u.d.k, d->u.d.cap * sizeof *nk,
		    ncap * sizeof *nk);
		nv = tarena_grow(a, d->u.d.v, d->u.d.cap * sizeof *nv,
		    ncap * sizeof *nv);
		if (nk == NULL || nv == NULL)
			return ERR_NOMEM;
		memset(nk + d->u.d.cap, 0, (ncap - d->u.d.cap) * sizeof *nk);
		d->u.d.k = nk;
		d->u.d.v = nv;
		d->u.d.cap = ncap;
	}
	d->u.d.k[d->u.d.n] = k;
	d->u.d.v[d->u.d.n++] = v;
	return 0;
}

struct tval *
tv_dict_get(const struct tval *d, const struct tval *k)
{
	long at = dict_find(d, k);

	return at < 0 ? NULL : d->u.d.v[at];
}

struct tval *
tv_dict_gets(const struct tval *d, const char *k)
{
	size_t i, n = strlen(k);
	const struct tval *key;

	for (i = 0; i < d->u.d.n; i++) {
		key = d->u.d.k[i];
		if (key->kind == TV_STR && key->u.s.len == n &&
		    memcmp(key->u.s.p, k, n) == 0)
			return d->u.d.v[i];
	}
	return NULL;
}

int
tv_truthy(const struct tval *v)
{
	switch (v->kind) {
	case TV_UNDEF:
	case TV_NONE:
		return 0;
	case TV_BOOL:
		return v->u.b;
	case TV_INT:
		return v->u.i != 0;
	case TV_FLOAT:
		return v->u.f != 0.0;
	case TV_STR:
		return v->u.s.len != 0;
	case TV_LIST:
		return v->u.l.n != 0 || (v->flags & TVF_GEN);
	case TV_DICT:
		return v->u.d.n != 0;
	default:
		return 1;
	}
}

static int
is_num(const struct tval *v)
{
	return v->kind == TV_INT || v->kind == TV_FLOAT || v->kind == TV_BOOL;
}

static double
num_f(const struct tval *v)
{
	if (v->kind == TV_FLOAT)
		return v->u.f;
	if (v->kind == TV_BOOL)
		return v->u.b;
	return (double)v->u.i;
}

int
tv_equal(const struct tval *a, const struct tval *b)
{
	size_t i;
	struct tval *o;

	if (a == b)
		return 1;
	if (is_num(a) && is_num(b)) {
		if (a->kind != TV_FLOAT && b->kind != TV_FLOAT)
			return (a->kind == TV_BOOL ? a->u.b : a->u.i) ==
			    (b->kind == TV_BOOL ? b->u.b : b->u.i);
		return num_f(a) == num_f(b);
	}
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case TV_UNDEF:
	case TV_NONE:
		return 1;
	case TV_STR:
		return a->u.s.len == b->u.s.len &&
		    memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
	case TV_LIST:
		if ((a->flags & TVF_TUPLE) != (b->flags & TVF_TUPLE) ||
		    ((a->flags | b->flags) & TVF_GEN) || a->u.l.n != b->u.l.n)
			return 0;
		for (i = 0; i < a->u.l.n; i++)
			if (!tv_equal(a->u.l.v[i], b->u.l.v[i]))
				return 0;
		return 1;
	case TV_DICT:
		if (a->u.d.n != b->u.d.n)
			return 0;
		for (i = 0; i < a->u.d.n; i++) {
			o = tv_dict_get(b, a->u.d.k[i]);
			if (o == NULL || !tv_equal(a->u.d.v[i], o))
				return 0;
		}
		return 1;
	case TV_FUNC:
		return a->u.fn.fn == b->u.fn.fn && a->u.fn.self == b->u.fn.self;
	case TV_MACRO:
		return a->u.m.node == b->u.m.node;
	default:
		return 0;
	}
}

const char *
tv_type_name(const struct tval *v)
{
	switch (v->kind) {
	case TV_UNDEF:	return "Undefined";
	case TV_NONE:	return "NoneType";
	case TV_BOOL:	return "bool";
	case TV_INT:	return "int";
	case TV_FLOAT:	return "float";
	case TV_STR:	return "str";
	case TV_LIST:	return v->flags & TVF_TUPLE ? "tuple" :
			    v->flags & TVF_GEN ? "generator" : "list";
	case TV_DICT:	return "dict";
	case TV_NS:	return "Namespace";
	case TV_FUNC:	return "builtin_function_or_method";
	case TV_MACRO:	return "Macro";
	}
	return "object";
}

/* ---- buffers ---- */

int
tbuf_add(struct tbuf *b, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return ERR_NOMEM;
	if (b->limit != 0 && (n > b->limit || b->len > b->limit - n)) {
		b->failed = 2;
		return ERR_RANGE;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL) {
			b->failed = 1;
			return ERR_NOMEM;
		}
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
tbuf_addc(struct tbuf *b, char c)
{
	return tbuf_add(b, &c, 1);
}

void
tbuf_free(struct tbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- UTF-8 ---- */

uint32_t
tv_utf8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = *i, need, j;
	uint32_t cp;

	cp = u[k];
	if (cp < 0x80) {
		*i = k + 1;
		return cp;
	}
	if ((cp & 0xe0) == 0xc0) {
		need = 1;
		cp &= 0x1f;
	} else if ((cp & 0xf0) == 0xe0) {
		need = 2;
		cp &= 0x0f;
	} else if ((cp & 0xf8) == 0xf0) {
		need = 3;
		cp &= 0x07;
	} else {
		*i = k + 1;
		return u[k];
	}
	for (j = 1; j <= need; j++) {
		if (k + j >= n || (u[k + j] & 0xc0) != 0x80) {
			*i = k + 1;
			return u[k];
		}
		cp = (cp << 6) | (u[k + j] & 0x3f);
	}
	*i = k + need + 1;
	return cp;
}

size_t
tv_utf8_len(const char *s, size_t n)
{
	size_t i = 0, c = 0;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80)
			i++;
		else
			(void)tv_utf8_next(s, n, &i);
		c++;
	}
	return c;
}

size_t
tv_utf8_off(const char *s, size_t n, size_t ci)
{
	size_t i = 0, c = 0;

	while (i < n && c < ci) {
		if ((unsigned char)s[i] < 0x80)
			i++;
		else
			(void)tv_utf8_next(s, n, &i);
		c++;
	}
	return i;
}

int
tv_utf8_put(struct tbuf *b, uint32_t cp)
{
	char t[4];

	if (cp < 0x80) {
		t[0] = (char)cp;
		return tbuf_add(b, t, 1);
	}
	if (cp < 0x800) {
		t[0] = (char)(0xc0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3f));
		return tbuf_add(b, t, 2);
	}
	if (cp < 0x10000) {
		t[0] = (char)(0xe0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f));
		return tbuf_add(b, t, 3);
	}
	t[0] = (char)(0xf0 | (cp >> 18));
	t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	t[3] = (char)(0x80 | (cp & 0x3f));
	return tbuf_add(b, t, 4);
}

/* ---- printing ---- */

int
tv_float_fmt(char *out, size_t n, double f)
{
	char tmp[64], digits[32];
	int prec, exp, nd, i, pos;
	char *e, *p;

	if (isnan(f))
		return snprintf(out, n, "nan");
	if (isinf(f))
		return snprintf(out, n, f < 0 ? "-inf" : "inf");
	if (f == 0.0)
		return snprintf(out, n, signbit(f) ? "-0.0" : "0.0");
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	/* tmp: [-]d[.ddd]e[+-]XX */
	nd = 0;
	p = tmp;
	if (*p == '-')
		p++;
	for (; *p != 'e' && *p != '\0'; p++)
		if (*p >= '0' && *p <= '9' && nd < 31)
			digits[nd++] = *p;
	digits[nd] = '\0';
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	e = strchr(tmp, 'e');
	exp = e != NULL ? atoi(e + 1) : 0;
	pos = 0;
	if (f < 0)
		pos += snprintf(out + pos, n - pos, "-");
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			pos += snprintf(out + pos, n - pos, "0.");
			for (i = 0; i < -exp - 1; i++)
				pos += snprintf(out + pos, n - pos, "0");
			pos += snprintf(out + pos, n - pos, "%s", digits);
		} else {
			for (i = 0; i <= exp; i++)
				pos += snprintf(out + pos, n - pos, "%c",
				    i < nd ? digits[i] : '0');
			pos += snprintf(out + pos, n - pos, ".");
			if (nd > exp + 1)
				pos += snprintf(out + pos, n - pos, "%s",
				    digits + exp + 1);
			else
				pos += snprintf(out + pos, n - pos, "0");
		}
	} else {
		pos += snprintf(out + pos, n - pos, "%c", digits[0]);
		if (nd > 1)
			pos += snprintf(out + pos, n - pos, ".%s", digits + 1);
		pos += snprintf(out + pos, n - pos, "e%c%02d",
		    exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	return pos;
}

/* Not str.isprintable() (Cc, Cf, Co, Zl, Zp, Zs but space): repr
 * escapes these. Unassigned code points are not tracked. */
static int
py_unprintable(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad ||
	    (c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd ||
	    c == 0x70f || c == 0x1680 || c == 0x180e ||
	    (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x2064) || (c >= 0x2066 && c <= 0x206f) ||
	    c == 0x3000 || (c >= 0xd800 && c <= 0xf8ff) || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f) ||
	    c >= 0xf0000;
}

static int
repr_str(struct tbuf *b, const char *s, size_t n)
{
	char q = '\'', t[16];
	size_t i;
	unsigned char c;
	int r = 0;

	if (memchr(s, '\'', n) != NULL && memchr(s, '"', n) == NULL)
		q = '"';
	r |= tbuf_addc(b, q);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\\' || c == (unsigned char)q) {
			r |= tbuf_addc(b, '\\');
			r |= tbuf_addc(b, (char)c);
		} else if (c == '\n')
			r |= tbuf_add(b, "\\n", 2);
		else if (c == '\r')
			r |= tbuf_add(b, "\\r", 2);
		else if (c == '\t')
			r |= tbuf_add(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f) {
			snprintf(t, sizeof t, "\\x%02x", c);
			r |= tbuf_add(b, t, 4);
		} else if (c >= 0x80) {
			size_t st = i;
			uint32_t cp = tv_utf8_next(s, n, &i);

			if (py_unprintable(cp)) {
				snprintf(t, sizeof t, cp < 0x100 ? "\\x%02x" :
				    cp < 0x10000 ? "\\u%04x" : "\\U%08x",
				    (unsigned)cp);
				r |= tbuf_add(b, t, strlen(t));
			} else
				r |= tbuf_add(b, s + st, i - st);
			i--;	/* the loop adds one */
		} else
			r |= tbuf_addc(b, (char)c);
	}
	r |= tbuf_addc(b, q);
	return r ? ERR_NOMEM : 0;
}

static int
print_val(struct tbuf *b, const struct tval *v, int repr, int depth)
{
	char t[64];
	size_t i;
	int r = 0;

	if (depth > JSON_DEPTH_MAX)
		return tbuf_add(b, "[...]", 5);
	switch (v->kind) {
	case TV_UNDEF:
		return 0;
	case TV_NONE:
		return tbuf_add(b, "None", 4);
	case TV_BOOL:
		return v->u.b ? tbuf_add(b, "True", 4) :
		    tbuf_add(b, "False", 5);
	case TV_INT:
		snprintf(t, sizeof t, "%lld", (long long)v->u.i);
		return tbuf_add(b, t, strlen(t));
	case TV_FLOAT:
		tv_float_fmt(t, sizeof t, v->u.f);
		return tbuf_add(b, t, strlen(t));
	case TV_STR:
		if (repr)
			return repr_str(b, v->u.s.p, v->u.s.len);
		return tbuf_add(b, v->u.s.p, v->u.s.len);
	case TV_LIST:
		if (v->flags & TVF_GEN)
			return tbuf_add(b, "<generator object>", 18);
		r |= tbuf_addc(b, v->flags & TVF_TUPLE ? '(' : '[');
		for (i = 0; i < v->u.l.n; i++) {
			if (i > 0)
				r |= tbuf_add(b, ", ", 2);
			r |= print_val(b, v->u.l.v[i], 1, depth + 1);
		}
		if ((v->flags & TVF_TUPLE) && v->u.l.n == 1)
			r |= tbuf_addc(b, ',');
		r |= tbuf_addc(b, v->flags & TVF_TUPLE ? ')' : ']');
		return r ? ERR_NOMEM : 0;
	case TV_DICT:
	case TV_NS:
		if (v->kind == TV_NS)
			r |= tbuf_add(b, "<Namespace ", 11);
		r |= tbuf_addc(b, '{');
		for (i = 0; i < v->u.d.n; i++) {
			if (i > 0)
				r |= tbuf_add(b, ", ", 2);
			r |= print_val(b, v->u.d.k[i], 1, depth + 1);
			r |= tbuf_add(b, ": ", 2);
			r |= print_val(b, v->u.d.v[i], 1, depth + 1);
		}
		r |= tbuf_addc(b, '}');
		if (v->kind == TV_NS)
			r |= tbuf_addc(b, '>');
		return r ? ERR_NOMEM : 0;
	case TV_FUNC:
		snprintf(t, sizeof t, "<built-in method %s>",
		    v->u.fn.name ? v->u.fn.name : "?");
		return tbuf_add(b, t, strlen(t));
	case TV_MACRO:
		return tbuf_add(b, "<Macro>", 7);
	}
	return 0;
}

int
tv_str_into(struct tbuf *b, const struct tval *v)
{
	return print_val(b, v, 0, 0);
}

int
tv_repr_into(struct tbuf *b, const struct tval *v)
{
	return print_val(b, v, 1, 0);
}

/* ---- JSON ---- */

static int
json_str(struct tbuf *b, const char *s, size_t n, int ascii)
{
	char t[16];
	size_t i = 0;
	uint32_t cp, hi, lo;
	int r = 0;

	r |= tbuf_addc(b, '"');
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			size_t st = i;

			cp = tv_utf8_next(s, n, &i);
			if (!ascii) {
				r |= tbuf_add(b, s + st, i - st);
				continue;
			}
			if (cp >= 0x10000) {
				hi = 0xd800 + ((cp - 0x10000) >> 10);
				lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
				snprintf(t, sizeof t, "\\u%04x\\u%04x",
				    (unsigned)hi, (unsigned)lo);
			} else
				snprintf(t, sizeof t, "\\u%04x", (unsigned)cp);
			r |= tbuf_add(b, t, strlen(t));
			continue;
		}
		i++;
		switch (c) {
		case '"':	r |= tbuf_add(b, "\\\"", 2); break;
		case '\\':	r |= tbuf_add(b, "\\\\", 2); break;
		case '\n':	r |= tbuf_add(b, "\\n", 2); break;
		case '\r':	r |= tbuf_add(b, "\\r", 2); break;
		case '\t':	r |= tbuf_add(b, "\\t", 2); break;
		case '\b':	r |= tbuf_add(b, "\\b", 2); break;
		case '\f':	r |= tbuf_add(b, "\\f", 2); break;
		default:
			if (c < 0x20 || (c == 0x7f && ascii)) {
				snprintf(t, sizeof t, "\\u%04x", c);
				r |= tbuf_add(b, t, 6);
			} else
				r |= tbuf_addc(b, (char)c);
		}
	}
	r |= tbuf_addc(b, '"');
	return r ? ERR_NOMEM : 0;
}

struct jopts {
	int		 ascii, sort;
	const char	*indent, *isep, *ksep;
	const char	*why;
	char		 whybuf[96];
};

static int
json_nl(struct tbuf *b, const struct jopts *o, int depth)
{
	int r = tbuf_addc(b, '\n'), i;

	for (i = 0; i < depth && r == 0; i++)
		r = tbuf_add(b, o->indent, strlen(o->indent));
	return r;
}

static int
json_key(struct tbuf *b, const struct tval *k, struct jopts *o)
{
	char t[64];

	switch (k->kind) {
	case TV_STR:
		return json_str(b, k->u.s.p, k->u.s.len, o->ascii);
	case TV_INT:
		snprintf(t, sizeof t, "\"%lld\"", (long long)k->u.i);
		return tbuf_add(b, t, strlen(t));
	case TV_FLOAT:
		t[0] = '"';
		tv_float_fmt(t + 1, sizeof t - 2, k->u.f);
		strcat(t, "\"");
		return tbuf_add(b, t, strlen(t));
	case TV_BOOL:
		return k->u.b ? tbuf_add(b, "\"true\"", 6) :
		    tbuf_add(b, "\"false\"", 7);
	case TV_NONE:
		return tbuf_add(b, "\"null\"", 6);
	default:
		o->why = "keys must be str, int, float, bool or None";
		return -1;
	}
}

static int
key_cmp(const struct tval *a, const struct tval *b)
{
	size_t n;
	int c;

	if (a->kind != TV_STR || b->kind != TV_STR)
		return 0;
	n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
	c = memcmp(a->u.s.p, b->u.s.p, n);
	if (c != 0)
		return c;
	return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
}

static int
json_val(struct tbuf *b, const struct tval *v, struct jopts *o, int depth)
{
	char t[64];
	size_t i, j, n, *ord;
	int r = 0;

	if (depth > JSON_DEPTH_MAX) {
		o->why = "nesting too deep";
		return -1;
	}
	switch (v->kind) {
	case TV_NONE:
		return tbuf_add(b, "null", 4);
	case TV_BOOL:
		return v->u.b ? tbuf_add(b, "true", 4) :
		    tbuf_add(b, "false", 5);
	case TV_INT:
		snprintf(t, sizeof t, "%lld", (long long)v->u.i);
		return tbuf_add(b, t, strlen(t));
	case TV_FLOAT:
		if (isnan(v->u.f))
			return tbuf_add(b, "NaN", 3);
		if (isinf(v->u.f))
			return v->u.f < 0 ? tbuf_add(b, "-Infinity", 9) :
			    tbuf_add(b, "Infinity", 8);
		tv_float_fmt(t, sizeof t, v->u.f);
		return tbuf_add(b, t, strlen(t));
	case TV_STR:
		return json_str(b, v->u.s.p, v->u.s.len, o->ascii);
	case TV_LIST:
		if (v->flags & TVF_GEN) {
			o->why = "Object of type generator is not JSON "
			    "serializable";
			return -1;
		}
		if (v->u.l.n == 0)
			return tbuf_add(b, "[]", 2);
		r |= tbuf_addc(b, '[');
		for (i = 0; i < v->u.l.n; i++) {
			if (i > 0)
				r |= tbuf_add(b, o->isep, strlen(o->isep));
			if (o->indent != NULL)
				r |= json_nl(b, o, depth + 1);
			if (r == 0 && json_val(b, v->u.l.v[i], o,
			    depth + 1) != 0)
				return -1;
		}
		if (o->indent != NULL)
			r |= json_nl(b, o, depth);
		r |= tbuf_addc(b, ']');
		return r ? ERR_NOMEM : 0;
	case TV_DICT:
		if (v->u.d.n == 0)
			return tbuf_add(b, "{}", 2);
		n = v->u.d.n;
		ord = malloc(n * sizeof *ord);
		if (ord == NULL)
			return ERR_NOMEM;
		for (i = 0; i < n; i++)
			ord[i] = i;
		if (o->sort) {
			for (i = 1; i < n; i++) {	/* stable insertion */
				size_t x = ord[i];

				for (j = i; j > 0 &&
				    key_cmp(v->u.d.k[ord[j - 1]],
				    v->u.d.k[x]) > 0; j--)
					ord[j] = ord[j - 1];
				ord[j] = x;
			}
		}
		r |= tbuf_addc(b, '{');
		for (i = 0; i < n && r == 0; i++) {
			if (i > 0)
				r |= tbuf_add(b, o->isep, strlen(o->isep));
			if (o->indent != NULL)
				r |= json_nl(b, o, depth + 1);
			if (r == 0 && (json_key(b, v->u.d.k[ord[i]], o) != 0 ||
			    tbuf_add(b, o->ksep, strlen(o->ksep)) != 0 ||
			    json_val(b, v->u.d.v[ord[i]], o, depth + 1) != 0)) {
				free(ord);
				return -1;
			}
		}
		free(ord);
		if (o->indent != NULL)
			r |= json_nl(b, o, depth);
		r |= tbuf_addc(b, '}');
		return r ? ERR_NOMEM : 0;
	default:
		snprintf(o->whybuf, sizeof o->whybuf, "Object of type %s is "
		    "not JSON serializable", tv_type_name(v));
		o->why = o->whybuf;
		return -1;
	}
}

int
tv_json_into(struct tbuf *b, const struct tval *v, int ensure_ascii,
    const char *indent, const char *item_sep, const char *key_sep,
    int sort_keys, char *why, size_t whylen)
{
	struct jopts o;
	int r;

	o.ascii = ensure_ascii;
	o.sort = sort_keys;
	o.indent = indent;
	o.isep = item_sep != NULL ? item_sep : indent != NULL ? "," : ", ";
	o.ksep = key_sep != NULL ? key_sep : ": ";
	o.why = NULL;
	r = json_val(b, v, &o, 0);
	if (r != 0) {
		snprintf(why, whylen, "%s", o.why != NULL ? o.why :
		    b->failed == 2 ? "output too large" : "out of memory");
		return -1;
	}
	return 0;
}

/* ---- the public variables object ---- */

struct tokenizer_tvars *
tokenizer_tvars_new(void)
{
	struct tokenizer_tvars *v = calloc(1, sizeof *v);

	if (v == NULL)
		return NULL;
	tarena_init(&v->arena, 0);
	v->vars = tv_new(&v->arena, TV_DICT);
	if (v->vars == NULL) {
		tarena_fini(&v->arena);
		free(v);
		return NULL;
	}
	return v;
}

void
tokenizer_tvars_free(struct tokenizer_tvars *v)
{
	if (v == NULL)
		return;
	tarena_fini(&v->arena);
	free(v);
}

struct tokenizer_tval *
tokenizer_tvars_none(struct tokenizer_tvars *v)
{
	return (struct tokenizer_tval *)tv_new(&v->arena, TV_NONE);
}

struct tokenizer_tval *
tokenizer_tvars_bool(struct tokenizer_tvars *v, int b)
{
	return (struct tokenizer_tval *)tv_bool(&v->arena, b);
}

struct tokenizer_tval *
tokenizer_tvars_int(struct tokenizer_tvars *v, int64_t i)
{
	return (struct tokenizer_tval *)tv_int(&v->arena, i);
}

struct tokenizer_tval *
tokenizer_tvars_float(struct tokenizer_tvars *v, double f)
{
	return (struct tokenizer_tval *)tv_float(&v->arena, f);
}

struct tokenizer_tval *
tokenizer_tvars_str(struct tokenizer_tvars *v, const char *s, size_t len)
{
	if (!util_utf8_valid(s, len))
		return NULL;
	return (struct tokenizer_tval *)tv_str(&v->arena, s, len);
}

struct tokenizer_tval *
tokenizer_tvars_list(struct tokenizer_tvars *v)
{
	return (struct tokenizer_tval *)tv_new(&v->arena, TV_LIST);
}

struct tokenizer_tval *
tokenizer_tvars_dict(struct tokenizer_tvars *v)
{
	return (struct tokenizer_tval *)tv_new(&v->arena, TV_DICT);
}

int
tokenizer_tvars_append(struct tokenizer_tvars *v,
    struct tokenizer_tval *list, struct tokenizer_tval *item)
{
	struct tval *l = (struct tval *)list;

	if (list == NULL || item == NULL)
		return ERR_NOMEM;
	if (l->kind != TV_LIST)
		return ERR_USAGE;
	return tv_list_push(&v->arena, l, (struct tval *)item);
}

int
tokenizer_tvars_put(struct tokenizer_tvars *v, struct tokenizer_tval *dict,
    const char *key, struct tokenizer_tval *val)
{
	struct tval *d = (struct tval *)dict, *k;

	if (dict == NULL || val == NULL || key == NULL)
		return ERR_NOMEM;
	if (d->kind != TV_DICT)
		return ERR_USAGE;
	k = tv_str(&v->arena, key, strlen(key));
	if (k == NULL)
		return ERR_NOMEM;
	return tv_dict_put(&v->arena, d, k, (struct tval *)val);
}

int
tokenizer_tvars_set(struct tokenizer_tvars *v, const char *name,
    struct tokenizer_tval *val)
{
	return tokenizer_tvars_put(v, (struct tokenizer_tval *)v->vars, name,
	    val);
}
