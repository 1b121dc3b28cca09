/*
 * tokenizer-tbuiltin.c - the chat-template interpreter's built-ins:
 * jinja2 filters and tests, the Python str/dict/list methods templates
 * call, and the globals transformers provides (range, namespace, dict,
 * raise_exception, strftime_now) and jinja2's joiner and cycler.
 *
 * Each filter takes the value and its call arguments (positional, then
 * keyword names and values) and returns a new value or NULL after
 * setting the render error. Arguments are matched by position or name
 * the way the Python signatures do. Case mapping covers ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic; whitespace is Python's
 * (str.isspace) set.
 */
#include "config.h"	/* _GNU_SOURCE: memmem */

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer/tokenizer-int.h"

#define RANGE_MAX	1000000

#define ARGS	struct tval **args, size_t nargs, const char **kwn, \
		struct tval **kwv, size_t nkw
#define PASS	args, nargs, kwn, kwv, nkw

/* Argument pos (positional) or name (keyword), or NULL. */
static struct tval *
arg(ARGS, size_t pos, const char *name)
{
	size_t i;

	if (pos < nargs)
		return args[pos];
	for (i = 0; i < nkw; i++)
		if (name != NULL && strcmp(kwn[i], name) == 0)
			return kwv[i];
	return NULL;
}

static int
arg_true(ARGS, size_t pos, const char *name)
{
	struct tval *v = arg(PASS, pos, name);

	return v != NULL && tv_truthy(v);
}

static struct tval *
new_list(struct tinterp *I)
{
	struct tval *l = tv_new(&I->a, TV_LIST);

	return l != NULL ? l : tnomem(I);
}

static int
push(struct tinterp *I, struct tval *l, struct tval *x)
{
	if (x == NULL)
		return -1;
	if (tv_list_push(&I->a, l, x) != 0) {
		tnomem(I);
		return -1;
	}
	return 0;
}

static struct tval *
from_buf(struct tinterp *I, struct tbuf *b)
{
	struct tval *r;

	r = b->failed ? tbuf_fail(I, b) : tstr(I, b->p ? b->p : "", b->len);
	tbuf_free(b);
	return r;
}

static struct tval *
need_str(struct tinterp *I, struct tval *v, const char *what)
{
	if (v == NULL || v->kind != TV_STR)
		return terr(I, I->line, "%s must be a string, not %s", what,
		    v ? tv_type_name(v) : "nothing");
	return v;
}

static int
need_int(struct tinterp *I, struct tval *v, const char *what, int64_t *out)
{
	if (v->kind == TV_INT || v->kind == TV_BOOL) {
		*out = v->kind == TV_BOOL ? v->u.b : v->u.i;
		return 0;
	}
	terr(I, I->line, "%s must be an integer, not %s", what,
	    tv_type_name(v));
	return -1;
}

/* ---- characters ---- */

static int
py_space(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c &&
	    c <= 0x1f) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

static uint32_t
cp_lower(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0x80)
		return c;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7))
		return c + 32;
	if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 &&
	    c != 0x138 && c != 0x149 && c != 0x17f) {
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c + 1 : c;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

static uint32_t
cp_upper(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c < 0x80)
		return c;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return c - 32;
	if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 &&
	    c != 0x138 && c != 0x149 && c != 0x17f) {
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c : c - 1;
		return (c & 1) ? c - 1 : c;
	}
	if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
		return c - 32;
	if (c == 0x3c2)
		return 0x3a3;
	if (c >= 0x430 && c <= 0x44f)
		return c - 32;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	return c;
}

static int
cp_cased(uint32_t c)
{
	return cp_lower(c) != c || cp_upper(c) != c;
}

static int
cp_alpha(uint32_t c)
{
	return (c < 0x80) ? isalpha((int)c) : (cp_cased(c) || c >= 0x4e00);
}

/* mode: 0 lower, 1 upper, 2 title, 3 capitalize, 4 swapcase */
static struct tval *
str_case(struct tinterp *I, const struct tval *s, int mode)
{
	struct tbuf b = { 0 };
	size_t i = 0;
	uint32_t c;
	int prev_cased = 0, first = 1;

	b.limit = I->max_out;
	while (i < s->u.s.len) {
		c = tv_utf8_next(s->u.s.p, s->u.s.len, &i);
		switch (mode) {
		case 0: c = cp_lower(c); break;
		case 1:
			if (c == 0xdf) {	/* sharp s */
				tbuf_add(&b, "SS", 2);
				continue;
			}
			c = cp_upper(c);
			break;
		case 2:
			if (cp_cased(c)) {
				c = prev_cased ? cp_lower(c) : cp_upper(c);
				prev_cased = 1;
			} else
				prev_cased = cp_alpha(c);
			break;
		case 3: c = first ? cp_upper(c) : cp_lower(c); break;
		case 4:
			c = cp_lower(c) != c ? cp_lower(c) : cp_upper(c);
			break;
		}
		first = 0;
		tv_utf8_put(&b, c);
	}
	return from_buf(I, &b);
}

/* Is cp in the set of code points of chars (NULL: whitespace)? */
static int
in_set(uint32_t cp, const struct tval *chars)
{
	size_t i = 0;

	if (chars == NULL)
		return py_space(cp);
	while (i < chars->u.s.len)
		if (tv_utf8_next(chars->u.s.p, chars->u.s.len, &i) == cp)
			return 1;
	return 0;
}

/* where: 1 left, 2 right, 3 both */
static struct tval *
str_strip(struct tinterp *I, struct tval *s, struct tval *chars, int where)
{
	size_t a = 0, b = s->u.s.len, i, st;

	if (chars != NULL && chars->kind == TV_NONE)
		chars = NULL;
	if (chars != NULL && need_str(I, chars, "strip argument") == NULL)
		return NULL;
	if (where & 1) {
		while (a < b) {
			i = a;
			if (!in_set(tv_utf8_next(s->u.s.p, b, &i), chars))
				break;
			a = i;
		}
	}
	if (where & 2) {
		while (b > a) {
			st = b - 1;
			while (st > a && ((unsigned char)s->u.s.p[st] & 0xc0) ==
			    0x80)
				st--;
			i = st;
			if (!in_set(tv_utf8_next(s->u.s.p, b, &i), chars))
				break;
			b = st;
		}
	}
	if (a == 0 && b == s->u.s.len)
		return s;
	return tstr(I, s->u.s.p + a, b - a);
}

/* Linear-time substring search (glibc's two-way memmem). */
static const char *
memfind(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return h;
	return memmem(h, hn, n, nn);
}

static const char *
memrfind(const char *h, size_t hn, const char *n, size_t nn)
{
	size_t i;

	if (nn > hn)
		return NULL;
	for (i = hn - nn + 1; i-- > 0;)
		if (memcmp(h + i, n, nn) == 0)
			return h + i;
	return NULL;
}

static struct tval *
str_split(struct tinterp *I, struct tval *s, struct tval *sep,
    struct tval *maxv, int right)
{
	struct tval *l = new_list(I), *rev;
	int64_t max = -1;
	const char *p = s->u.s.p, *q, *end = p + s->u.s.len;
	size_t i, st, n;

	if (l == NULL)
		return NULL;
	if (maxv != NULL && need_int(I, maxv, "maxsplit", &max) != 0)
		return NULL;
	if (sep != NULL && sep->kind == TV_NONE)
		sep = NULL;
	if (sep != NULL) {
		if (need_str(I, sep, "separator") == NULL)
			return NULL;
		if (sep->u.s.len == 0)
			return terr(I, I->line, "empty separator");
		if (!right) {
			while (max != 0 && (q = memfind(p, (size_t)(end - p),
			    sep->u.s.p, sep->u.s.len)) != NULL) {
				if (push(I, l, tstr(I, p,
				    (size_t)(q - p))) != 0)
					return NULL;
				p = q + sep->u.s.len;
				if (max > 0)
					max--;
			}
			if (push(I, l, tstr(I, p, (size_t)(end - p))) != 0)
				return NULL;
			return l;
		}
		while (max != 0 && (q = memrfind(p, (size_t)(end - p),
		    sep->u.s.p, sep->u.s.len)) != NULL) {
			if (push(I, l, tstr(I, q + sep->u.s.len,
			    (size_t)(end - q - sep->u.s.len))) != 0)
				return NULL;
			end = q;
			if (max > 0)
				max--;
		}
		if (push(I, l, tstr(I, p, (size_t)(end - p))) != 0)
			return NULL;
	} else if (!right) {
		n = s->u.s.len;
		i = 0;
		for (;;) {
			while (i < n) {	/* skip whitespace */
				st = i;
				if (!py_space(tv_utf8_next(s->u.s.p, n, &i))) {
					i = st;
					break;
				}
			}
			if (i >= n)
				break;
			st = i;
			if (max == 0) {	/* the rest, as it is */
				if (push(I, l, tstr(I, p + st, n - st)) != 0)
					return NULL;
				break;
			}
			while (i < n) {
				size_t k = i;

				if (py_space(tv_utf8_next(s->u.s.p, n, &i))) {
					i = k;
					break;
				}
			}
			if (push(I, l, tstr(I, p + st, i - st)) != 0)
				return NULL;
			if (max > 0)
				max--;
		}
		return l;
	} else {
		/* rsplit on whitespace: split fully, then rejoin the head */
		struct tval *all = str_split(I, s, NULL, NULL, 0);

		if (all == NULL)
			return NULL;
		if (max < 0 || (size_t)max >= all->u.l.n || all->u.l.n == 0)
			return all;
		{
			size_t keep = all->u.l.n - (size_t)max;
			const char *head_end = all->u.l.v[keep - 1]->u.s.p;

			(void)head_end;
			/* find the end of word keep-1 in s */
			i = 0;
			n = s->u.s.len;
			for (st = 0; st < keep; st++) {
				while (i < n && py_space((unsigned char)p[i]))
					i++;
				while (i < n && !py_space((unsigned char)p[i]))
					i++;
			}
			q = p;	/* the head keeps its leading space */
			if (push(I, l, tstr(I, q, (size_t)(p + i - q))) != 0)
				return NULL;
			for (st = keep; st < all->u.l.n; st++)
				if (push(I, l, all->u.l.v[st]) != 0)
					return NULL;
			return l;
		}
	}
	/* reverse (rsplit collected from the right) */
	if ((rev = new_list(I)) == NULL)
		return NULL;
	for (i = l->u.l.n; i-- > 0;)
		if (push(I, rev, l->u.l.v[i]) != 0)
			return NULL;
	return rev;
}

static struct tval *
str_replace(struct tinterp *I, struct tval *s, struct tval *old,
    struct tval *new, struct tval *countv)
{
	struct tbuf b = { 0 };
	const char *p = s->u.s.p, *end = p + s->u.s.len, *q;
	int64_t count = -1;

	if (need_str(I, old, "replace() argument 1") == NULL ||
	    need_str(I, new, "replace() argument 2") == NULL)
		return NULL;
	if (countv != NULL && countv->kind != TV_NONE &&
	    need_int(I, countv, "count", &count) != 0)
		return NULL;
	b.limit = I->max_out;
	if (old->u.s.len == 0) {
		size_t i = 0, st;

		while (count != 0) {
			tbuf_add(&b, new->u.s.p, new->u.s.len);
			if (count > 0)
				count--;
			if (i >= s->u.s.len)
				break;
			st = i;
			(void)tv_utf8_next(s->u.s.p, s->u.s.len, &i);
			tbuf_add(&b, s->u.s.p + st, i - st);
		}
		tbuf_add(&b, s->u.s.p + i, s->u.s.len - i);
		return from_buf(I, &b);
	}
	while (count != 0 && (q = memfind(p, (size_t)(end - p), old->u.s.p,
	    old->u.s.len)) != NULL) {
		tbuf_add(&b, p, (size_t)(q - p));
		tbuf_add(&b, new->u.s.p, new->u.s.len);
		p = q + old->u.s.len;
		if (count > 0)
			count--;
	}
	tbuf_add(&b, p, (size_t)(end - p));
	return from_buf(I, &b);
}

static int
affix_one(struct tval *s, struct tval *x, int end)
{
	if (x->u.s.len > s->u.s.len)
		return 0;
	return memcmp(s->u.s.p + (end ? s->u.s.len - x->u.s.len : 0),
	    x->u.s.p, x->u.s.len) == 0;
}

static struct tval *
str_affix(struct tinterp *I, struct tval *s, struct tval *x, int end)
{
	size_t i;
	int r = 0;

	if (x == NULL)
		return terr(I, I->line, "%s() takes at least 1 argument",
		    end ? "endswith" : "startswith");
	if (x->kind == TV_LIST && (x->flags & TVF_TUPLE)) {
		for (i = 0; i < x->u.l.n && !r; i++) {
			if (need_str(I, x->u.l.v[i], "tuple item") == NULL)
				return NULL;
			r = affix_one(s, x->u.l.v[i], end);
		}
	} else if (x->kind == TV_STR)
		r = affix_one(s, x, end);
	else
		return terr(I, I->line, "%s first arg must be str or a tuple "
		    "of str, not %s", end ? "endswith" : "startswith",
		    tv_type_name(x));
	return tv_bool(&I->a, r) ?: tnomem(I);
}

/* find/rfind/count/index in code points */
static struct tval *
str_find(struct tinterp *I, struct tval *s, struct tval *x, int mode)
{
	const char *q;
	int64_t n = 0;
	const char *p = s->u.s.p, *end = p + s->u.s.len;

	if (need_str(I, x, "substring") == NULL)
		return NULL;
	if (mode == 2) {	/* count */
		if (x->u.s.len == 0)
			return tv_int(&I->a, (int64_t)tv_utf8_len(p,
			    s->u.s.len) + 1) ?: tnomem(I);
		while ((q = memfind(p, (size_t)(end - p), x->u.s.p,
		    x->u.s.len)) != NULL) {
			n++;
			p = q + x->u.s.len;
		}
		return tv_int(&I->a, n) ?: tnomem(I);
	}
	q = mode == 0 ? memfind(p, s->u.s.len, x->u.s.p, x->u.s.len) :
	    memrfind(p, s->u.s.len, x->u.s.p, x->u.s.len);
	if (q == NULL)
		return tv_int(&I->a, -1) ?: tnomem(I);
	return tv_int(&I->a, (int64_t)tv_utf8_len(p, (size_t)(q - p))) ?:
	    tnomem(I);
}

static struct tval *
str_pad(struct tinterp *I, struct tval *s, struct tval *wv, struct tval *fv,
    int mode)
{
	struct tbuf b = { 0 };
	int64_t w, n, left, right, k;
	const char *fill = " ";
	size_t flen = 1;

	if (wv == NULL || need_int(I, wv, "width", &w) != 0)
		return wv == NULL ? terr(I, I->line, "missing width") : NULL;
	if (fv != NULL) {
		if (need_str(I, fv, "fill character") == NULL)
			return NULL;
		fill = fv->u.s.p;
		flen = fv->u.s.len;
	}
	n = (int64_t)tv_utf8_len(s->u.s.p, s->u.s.len);
	if (w <= n)
		return s;
	if (w > (int64_t)I->max_out)
		return tnomem(I);
	if (mode == 0) {	/* center, as CPython pads */
		int64_t marg = w - n;

		left = marg / 2 + (marg & w & 1);
		right = marg - left;
	} else if (mode == 1) {	/* ljust */
		left = 0;
		right = w - n;
	} else {		/* rjust */
		left = w - n;
		right = 0;
	}
	b.limit = I->max_out;
	for (k = 0; k < left; k++)
		tbuf_add(&b, fill, flen);
	tbuf_add(&b, s->u.s.p, s->u.s.len);
	for (k = 0; k < right; k++)
		tbuf_add(&b, fill, flen);
	return from_buf(I, &b);
}

static struct tval *
str_join(struct tinterp *I, struct tval *sep, struct tval *seq)
{
	struct tbuf b = { 0 };
	struct tval *items, *x;
	size_t i;

	if ((items = titems(I, seq, I->line)) == NULL)
		return NULL;
	b.limit = I->max_out;
	for (i = 0; i < items->u.l.n; i++) {
		if (i > 0)
			tbuf_add(&b, sep->u.s.p, sep->u.s.len);
		if ((x = tv_to_str(I, items->u.l.v[i])) == NULL) {
			tbuf_free(&b);
			return NULL;
		}
		tbuf_add(&b, x->u.s.p, x->u.s.len);
	}
	return from_buf(I, &b);
}

static struct tval *
str_splitlines(struct tinterp *I, struct tval *s, int keep)
{
	struct tval *l = new_list(I);
	size_t i = 0, st = 0, k, n = s->u.s.len;
	uint32_t c;

	if (l == NULL)
		return NULL;
	while (i < n) {
		k = i;
		c = tv_utf8_next(s->u.s.p, n, &i);
		if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c ||
		    c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85 ||
		    c == 0x2028 || c == 0x2029) {
			if (c == '\r' && i < n && s->u.s.p[i] == '\n')
				i++;
			if (push(I, l, tstr(I, s->u.s.p + st,
			    (keep ? i : k) - st)) != 0)
				return NULL;
			st = i;
		}
	}
	if (st < n && push(I, l, tstr(I, s->u.s.p + st, n - st)) != 0)
		return NULL;
	return l;
}

/* str.format with {}, {0}, {name} and {{ }}; no format specs. */
static struct tval *
str_format(struct tinterp *I, struct tval *s, ARGS)
{
	struct tbuf b = { 0 };
	const char *p = s->u.s.p, *end = p + s->u.s.len, *q;
	size_t auto_i = 0, i, fl;
	struct tval *v, *sv;
	char field[64];

	b.limit = I->max_out;
	while (p < end) {
		if (*p == '{' && p + 1 < end && p[1] == '{') {
			tbuf_addc(&b, '{');
			p += 2;
			continue;
		}
		if (*p == '}' && p + 1 < end && p[1] == '}') {
			tbuf_addc(&b, '}');
			p += 2;
			continue;
		}
		if (*p != '{') {
			tbuf_addc(&b, *p++);
			continue;
		}
		q = memchr(p, '}', (size_t)(end - p));
		fl = q ? (size_t)(q - p - 1) : 0;
		if (q == NULL || fl >= sizeof field || memchr(p + 1, ':', fl) ||
		    memchr(p + 1, '!', fl)) {
			tbuf_free(&b);
			return terr(I, I->line, "unsupported construct: "
			    "str.format() field with a format spec");
		}
		memcpy(field, p + 1, fl);
		field[fl] = '\0';
		v = NULL;
		if (fl == 0)
			v = auto_i < nargs ? args[auto_i++] : NULL;
		else if (isdigit((unsigned char)field[0])) {
			i = (size_t)strtoul(field, NULL, 10);
			v = i < nargs ? args[i] : NULL;
		} else
			for (i = 0; i < nkw && v == NULL; i++)
				if (strcmp(kwn[i], field) == 0)
					v = kwv[i];
		if (v == NULL) {
			tbuf_free(&b);
			return terr(I, I->line, "str.format(): no argument "
			    "for field '{%s}'", field);
		}
		if ((sv = tv_to_str(I, v)) == NULL) {
			tbuf_free(&b);
			return NULL;
		}
		tbuf_add(&b, sv->u.s.p, sv->u.s.len);
		p = q + 1;
	}
	return from_buf(I, &b);
}

static struct tval *
str_pred(struct tinterp *I, struct tval *s, int mode)
{
	size_t i = 0;
	uint32_t c;
	int r = s->u.s.len > 0, cased = 0;

	while (i < s->u.s.len && r) {
		c = tv_utf8_next(s->u.s.p, s->u.s.len, &i);
		switch (mode) {
		case 0: r = c < 0x80 ? isdigit((int)c) != 0 : 0; break;
		case 1: r = cp_alpha(c); break;
		case 2: r = cp_alpha(c) || (c < 0x80 && isdigit((int)c)); break;
		case 3: r = py_space(c); break;
		case 4:
			if (cp_upper(c) != c)
				r = 0;
			else if (cp_cased(c))
				cased = 1;
			break;
		case 5:
			if (cp_lower(c) != c)
				r = 0;
			else if (cp_cased(c))
				cased = 1;
			break;
		}
	}
	if (mode >= 4)
		r = r && cased;
	return tv_bool(&I->a, r) ?: tnomem(I);
}

/*
 * Python's printf-style "fmt % args": args a tuple (positional), a dict
 * (for %(name)s) or one value. Conversions s r d i u f F e E g G x X o
 * c and %%, with flags, width and precision.
 */
struct tval *
tbuiltin_percent(struct tinterp *I, struct tval *fmt, struct tval *av,
    int line)
{
	struct tbuf b = { 0 };
	const char *p = fmt->u.s.p, *end = p + fmt->u.s.len;
	size_t next = 0, nargs = 1;
	struct tval **args = &av, *x, *sv;
	char spec[64], out[512], conv;
	size_t k;

	if (av->kind == TV_LIST && (av->flags & TVF_TUPLE)) {
		args = av->u.l.v;
		nargs = av->u.l.n;
	}
	b.limit = I->max_out;
	while (p < end) {
		if (*p != '%') {
			tbuf_addc(&b, *p++);
			continue;
		}
		p++;
		if (p < end && *p == '%') {
			tbuf_addc(&b, '%');
			p++;
			continue;
		}
		x = NULL;
		if (p < end && *p == '(') {
			const char *q = memchr(p, ')', (size_t)(end - p));

			if (q == NULL || av->kind != TV_DICT)
				goto bad;
			{
				struct tval *key = tstr(I, p + 1,
				    (size_t)(q - p - 1));

				if (key == NULL)
					goto fail;
				x = tv_dict_get(av, key);
			}
			if (x == NULL) {
				tbuf_free(&b);
				return terr(I, line, "format key '%.*s' not "
				    "found", (int)(q - p - 1), p + 1);
			}
			p = q + 1;
		}
		k = 0;
		spec[k++] = '%';
		while (p < end && strchr("-+ #0", *p) && k < 20)
			spec[k++] = *p++;
		while (p < end && isdigit((unsigned char)*p) && k < 40)
			spec[k++] = *p++;
		if (p < end && *p == '.') {
			spec[k++] = *p++;
			while (p < end && isdigit((unsigned char)*p) && k < 60)
				spec[k++] = *p++;
		}
		if (p >= end)
			goto bad;
		conv = *p++;
		if (x == NULL) {
			if (next >= nargs) {
				tbuf_free(&b);
				return terr(I, line, "not enough arguments for "
				    "format string");
			}
			x = args[next++];
		}
		switch (conv) {
		case 's':
		case 'r':
			if (conv == 's')
				sv = tv_to_str(I, x);
			else {
				struct tbuf rb = { 0 };

				tv_repr_into(&rb, x);
				sv = from_buf(I, &rb);
			}
			if (sv == NULL)
				goto fail;
			spec[k++] = 's';
			spec[k] = '\0';
			if (k == 2)
				tbuf_add(&b, sv->u.s.p, sv->u.s.len);
			else {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				snprintf(out, sizeof out, spec, sv->u.s.p);
#pragma GCC diagnostic pop
				tbuf_add(&b, out, strlen(out));
			}
			break;
		case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
		case 'c':
			if (x->kind == TV_FLOAT && conv != 'c') {
				x = tv_int(&I->a, (int64_t)x->u.f);
				if (x == NULL)
					goto fail;
			}
			if (x->kind != TV_INT && x->kind != TV_BOOL) {
				tbuf_free(&b);
				return terr(I, line, "%%%c format: a number is "
				    "required, not %s", conv, tv_type_name(x));
			}
			if (conv == 'c') {
				tv_utf8_put(&b, (uint32_t)(x->kind == TV_INT ?
				    x->u.i : x->u.b));
				break;
			}
			spec[k++] = 'l';
			spec[k++] = 'l';
			spec[k++] = conv == 'i' || conv == 'u' ? 'd' : conv;
			spec[k] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(out, sizeof out, spec, (long long)(x->kind ==
			    TV_INT ? x->u.i : x->u.b));
#pragma GCC diagnostic pop
			tbuf_add(&b, out, strlen(out));
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
			if (x->kind != TV_INT && x->kind != TV_BOOL &&
			    x->kind != TV_FLOAT) {
				tbuf_free(&b);
				return terr(I, line, "must be real number, not "
				    "%s", tv_type_name(x));
			}
			spec[k++] = conv;
			spec[k] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(out, sizeof out, spec, x->kind == TV_FLOAT ?
			    x->u.f : x->kind == TV_INT ? (double)x->u.i :
			    (double)x->u.b);
#pragma GCC diagnostic pop
			tbuf_add(&b, out, strlen(out));
			break;
		default:
			goto bad;
		}
	}
	if (next < nargs && av->kind != TV_DICT) {
		tbuf_free(&b);
		return terr(I, line, "not all arguments converted during "
		    "string formatting");
	}
	return from_buf(I, &b);
bad:
	tbuf_free(&b);
	return terr(I, line, "unsupported format character in '%.*s'",
	    (int)(fmt->u.s.len > 60 ? 60 : fmt->u.s.len), fmt->u.s.p);
fail:
	tbuf_free(&b);
	return NULL;
}

/* ---- methods ---- */

static struct tval *
m_str(struct tinterp *I, struct tval *self, ARGS)
{
	/* self is a 2-list: [string, method name] */
	struct tval *s = self->u.l.v[0];
	const char *m = self->u.l.v[1]->u.s.p;
	struct tval *a0 = arg(PASS, 0, NULL), *a1 = arg(PASS, 1, NULL);

	if (!strcmp(m, "strip"))
		return str_strip(I, s, arg(PASS, 0, "chars"), 3);
	if (!strcmp(m, "lstrip"))
		return str_strip(I, s, arg(PASS, 0, "chars"), 1);
	if (!strcmp(m, "rstrip"))
		return str_strip(I, s, arg(PASS, 0, "chars"), 2);
	if (!strcmp(m, "split") || !strcmp(m, "rsplit"))
		return str_split(I, s, arg(PASS, 0, "sep"),
		    arg(PASS, 1, "maxsplit"), m[0] == 'r');
	if (!strcmp(m, "startswith") || !strcmp(m, "endswith"))
		return str_affix(I, s, a0, m[0] == 'e');
	if (!strcmp(m, "replace"))
		return a0 && a1 ? str_replace(I, s, a0, a1,
		    arg(PASS, 2, "count")) :
		    terr(I, I->line, "replace() takes at least 2 arguments");
	if (!strcmp(m, "upper"))
		return str_case(I, s, 1);
	if (!strcmp(m, "lower") || !strcmp(m, "casefold"))
		return str_case(I, s, 0);
	if (!strcmp(m, "title"))
		return str_case(I, s, 2);
	if (!strcmp(m, "capitalize"))
		return str_case(I, s, 3);
	if (!strcmp(m, "swapcase"))
		return str_case(I, s, 4);
	if (!strcmp(m, "find") || !strcmp(m, "index"))
		return str_find(I, s, a0, 0);
	if (!strcmp(m, "rfind") || !strcmp(m, "rindex"))
		return str_find(I, s, a0, 1);
	if (!strcmp(m, "count"))
		return str_find(I, s, a0, 2);
	if (!strcmp(m, "join"))
		return a0 ? str_join(I, s, a0) :
		    terr(I, I->line, "join() takes exactly one argument");
	if (!strcmp(m, "isdigit") || !strcmp(m, "isnumeric") ||
	    !strcmp(m, "isdecimal"))
		return str_pred(I, s, 0);
	if (!strcmp(m, "isalpha"))
		return str_pred(I, s, 1);
	if (!strcmp(m, "isalnum"))
		return str_pred(I, s, 2);
	if (!strcmp(m, "isspace"))
		return str_pred(I, s, 3);
	if (!strcmp(m, "isupper"))
		return str_pred(I, s, 4);
	if (!strcmp(m, "islower"))
		return str_pred(I, s, 5);
	if (!strcmp(m, "splitlines"))
		return str_splitlines(I, s, arg_true(PASS, 0, "keepends"));
	if (!strcmp(m, "format"))
		return str_format(I, s, PASS);
	if (!strcmp(m, "center"))
		return str_pad(I, s, a0, a1, 0);
	if (!strcmp(m, "ljust"))
		return str_pad(I, s, a0, a1, 1);
	if (!strcmp(m, "rjust"))
		return str_pad(I, s, a0, a1, 2);
	if (!strcmp(m, "removeprefix") || !strcmp(m, "removesuffix")) {
		int end = m[6] == 's';

		if (need_str(I, a0, "argument") == NULL)
			return NULL;
		if (!affix_one(s, a0, end))
			return s;
		return tstr(I, s->u.s.p + (end ? 0 : a0->u.s.len),
		    s->u.s.len - a0->u.s.len);
	}
	return terr(I, I->line, "unsupported str method '%s'", m);
}

static struct tval *
pair(struct tinterp *I, struct tval *k, struct tval *v)
{
	struct tval *t = new_list(I);

	if (t == NULL || push(I, t, k) != 0 || push(I, t, v) != 0)
		return NULL;
	t->flags = TVF_TUPLE;
	return t;
}

static struct tval *
dict_items(struct tinterp *I, struct tval *d, int what)
{
	struct tval *l = new_list(I);
	size_t i;

	if (l == NULL)
		return NULL;
	for (i = 0; i < d->u.d.n; i++) {
		struct tval *x = what == 0 ? pair(I, d->u.d.k[i], d->u.d.v[i]) :
		    what == 1 ? d->u.d.k[i] : d->u.d.v[i];

		if (push(I, l, x) != 0)
			return NULL;
	}
	return l;
}

static struct tval *
m_dict(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *d = self->u.l.v[0], *v, *c;
	const char *m = self->u.l.v[1]->u.s.p;
	size_t i;

	if (!strcmp(m, "get")) {
		struct tval *k = arg(PASS, 0, NULL), *def = arg(PASS, 1, NULL);

		if (k == NULL)
			return terr(I, I->line, "get expected at least 1 "
			    "argument, got 0");
		v = tv_dict_get(d, k);
		if (v != NULL)
			return v;
		return def != NULL ? def : tv_new(&I->a, TV_NONE) ?: tnomem(I);
	}
	if (!strcmp(m, "items"))
		return dict_items(I, d, 0);
	if (!strcmp(m, "keys"))
		return dict_items(I, d, 1);
	if (!strcmp(m, "values"))
		return dict_items(I, d, 2);
	if (!strcmp(m, "copy")) {
		if ((c = tv_new(&I->a, TV_DICT)) == NULL)
			return tnomem(I);
		for (i = 0; i < d->u.d.n; i++)
			if (tv_dict_put(&I->a, c, d->u.d.k[i],
			    d->u.d.v[i]) != 0)
				return tnomem(I);
		return c;
	}
	return terr(I, I->line, "unsupported dict method '%s'", m);
}

static struct tval *
m_list(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *l = self->u.l.v[0], *x = arg(PASS, 0, NULL), *c;
	const char *m = self->u.l.v[1]->u.s.p;
	size_t i;
	int64_t n = 0;

	if (!strcmp(m, "copy")) {
		if ((c = new_list(I)) == NULL)
			return NULL;
		for (i = 0; i < l->u.l.n; i++)
			if (push(I, c, l->u.l.v[i]) != 0)
				return NULL;
		return c;
	}
	if (x == NULL)
		return terr(I, I->line, "%s() takes exactly one argument", m);
	for (i = 0; i < l->u.l.n; i++) {
		if (!tv_equal(l->u.l.v[i], x))
			continue;
		if (!strcmp(m, "index"))
			return tv_int(&I->a, (int64_t)i) ?: tnomem(I);
		n++;
	}
	if (!strcmp(m, "index"))
		return terr(I, I->line, "list.index(x): x not in list");
	return tv_int(&I->a, n) ?: tnomem(I);
}

static int
name_in(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(name, *set) == 0)
			return 1;
	return 0;
}

struct tval *
tbuiltin_method(struct tinterp *I, struct tval *obj, const char *name,
    int *unsafe)
{
	static const char *const str_m[] = {
		"strip", "lstrip", "rstrip", "split", "rsplit", "startswith",
		"endswith", "replace", "upper", "lower", "casefold", "title",
		"capitalize", "swapcase", "find", "index", "rfind", "rindex",
		"count", "join", "isdigit", "isnumeric", "isdecimal",
		"isalpha", "isalnum", "isspace", "isupper", "islower",
		"splitlines", "format", "center", "ljust", "rjust",
		"removeprefix", "removesuffix", NULL
	};
	static const char *const dict_m[] = {
		"get", "items", "keys", "values", "copy", NULL
	};
	static const char *const dict_bad[] = {
		"pop", "popitem", "setdefault", "update", "clear", NULL
	};
	static const char *const list_m[] = { "index", "count", "copy", NULL };
	static const char *const list_bad[] = {
		"append", "extend", "insert", "pop", "remove", "reverse",
		"sort", "clear", NULL
	};
	struct tval *f, *self, *nm;
	tv_fn fn;

	*unsafe = 0;
	if (obj->kind == TV_STR && name_in(name, str_m))
		fn = m_str;
	else if (obj->kind == TV_DICT && name_in(name, dict_m))
		fn = m_dict;
	else if (obj->kind == TV_LIST && name_in(name, list_m))
		fn = m_list;
	else {
		*unsafe = (obj->kind == TV_DICT && name_in(name, dict_bad)) ||
		    (obj->kind == TV_LIST && name_in(name, list_bad));
		return NULL;
	}
	if ((f = tv_new(&I->a, TV_FUNC)) == NULL ||
	    (self = new_list(I)) == NULL ||
	    (nm = tstr(I, name, strlen(name))) == NULL ||
	    push(I, self, obj) != 0 || push(I, self, nm) != 0)
		return tnomem(I);
	f->u.fn.fn = fn;
	f->u.fn.self = self;
	f->u.fn.name = nm->u.s.p;
	return f;
}

/* ---- globals ---- */

static struct tval *
g_range(struct tinterp *I, struct tval *self, ARGS)
{
	int64_t a = 0, b, s = 1, x, n;
	struct tval *l;

	if (nargs < 1 || nargs > 3)
		return terr(I, I->line, "range expected 1 to 3 arguments");
	if (nargs == 1) {
		if (need_int(I, args[0], "range()", &b) != 0)
			return NULL;
	} else {
		if (need_int(I, args[0], "range()", &a) != 0 ||
		    need_int(I, args[1], "range()", &b) != 0)
			return NULL;
		if (nargs == 3 && need_int(I, args[2], "range()", &s) != 0)
			return NULL;
	}
	if (s == 0)
		return terr(I, I->line, "range() arg 3 must not be zero");
	if (s > 0)
		n = b > a ? (b - a + s - 1) / s : 0;
	else
		n = a > b ? (a - b - s - 1) / -s : 0;
	if (n > RANGE_MAX)
		return terr(I, I->line, "range() too large (more than %d "
		    "items)", RANGE_MAX);
	if ((l = new_list(I)) == NULL)
		return NULL;
	for (x = 0; x < n; x++)
		if (push(I, l, tv_int(&I->a, a + x * s)) != 0)
			return tnomem(I);
	return l;
}

static struct tval *
g_dictlike(struct tinterp *I, enum tv_kind kind, ARGS)
{
	struct tval *d = tv_new(&I->a, kind), *k;
	size_t i;

	if (d == NULL)
		return tnomem(I);
	if (nargs > 1)
		return terr(I, I->line, "%s expected at most 1 positional "
		    "argument", kind == TV_NS ? "namespace()" : "dict()");
	if (nargs == 1) {
		if (args[0]->kind != TV_DICT)
			return terr(I, I->line, "unsupported construct: "
			    "%s from a %s", kind == TV_NS ? "namespace()" :
			    "dict()", tv_type_name(args[0]));
		for (i = 0; i < args[0]->u.d.n; i++)
			if (tv_dict_put(&I->a, d, args[0]->u.d.k[i],
			    args[0]->u.d.v[i]) != 0)
				return tnomem(I);
	}
	for (i = 0; i < nkw; i++) {
		if ((k = tstr(I, kwn[i], strlen(kwn[i]))) == NULL ||
		    tv_dict_put(&I->a, d, k, kwv[i]) != 0)
			return tnomem(I);
	}
	return d;
}

static struct tval *
g_namespace(struct tinterp *I, struct tval *self, ARGS)
{
	return g_dictlike(I, TV_NS, PASS);
}

static struct tval *
g_dict(struct tinterp *I, struct tval *self, ARGS)
{
	return g_dictlike(I, TV_DICT, PASS);
}

static struct tval *
g_raise(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *m = arg(PASS, 0, "message");

	if (m == NULL)
		return terr(I, I->line, "raise_exception() missing its "
		    "message");
	if ((m = tv_to_str(I, m)) == NULL)
		return NULL;
	I->failed = 1;
	err_set(I->e, ERR_TEMPLATE, "%.*s", (int)(m->u.s.len <
	    ERR_MSG_MAX ? m->u.s.len : ERR_MSG_MAX - 1), m->u.s.p);
	return NULL;
}

static struct tval *
g_strftime(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *f = arg(PASS, 0, "format");
	char buf[512];
	struct tm tm;
	locale_t cloc;
	size_t n;

	if (need_str(I, f, "strftime_now() format") == NULL)
		return NULL;
	if (localtime_r(&I->now, &tm) == NULL)
		return terr(I, I->line, "strftime_now(): bad clock");
	if (f->u.s.len == 0)
		return f;
	/* month and day names as Python prints them: the C locale's */
	if ((cloc = newlocale(LC_TIME_MASK, "C", (locale_t)0)) == (locale_t)0)
		return terr(I, I->line, "strftime_now(): no C locale");
	/* the template chooses the format, as Python's strftime allows */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime_l(buf, sizeof buf, f->u.s.p, &tm, cloc);
#pragma GCC diagnostic pop
	freelocale(cloc);
	if (n == 0)
		return terr(I, I->line, "strftime_now(): format too long");
	return tstr(I, buf, n);
}

static int
ns_set(struct tinterp *I, struct tval *ns, const char *k, struct tval *v)
{
	struct tval *key = tstr(I, k, strlen(k));

	if (key == NULL || v == NULL || tv_dict_put(&I->a, ns, key, v) != 0) {
		tnomem(I);
		return -1;
	}
	return 0;
}

static struct tval *
fn_value(struct tinterp *I, tv_fn fn, struct tval *self, const char *name)
{
	struct tval *f = tv_new(&I->a, TV_FUNC);

	if (f == NULL)
		return tnomem(I);
	f->u.fn.fn = fn;
	f->u.fn.self = self;
	f->u.fn.name = name;
	return f;
}

/* joiner(sep=", "): "" on the first call, sep after. */
static struct tval *
joiner_call(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *used = tv_dict_gets(self, "used");

	if (used != NULL && tv_truthy(used))
		return tv_dict_gets(self, "sep");
	if (ns_set(I, self, "used", tv_bool(&I->a, 1)) != 0)
		return NULL;
	return tstr(I, "", 0);
}

static struct tval *
g_joiner(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *sep = arg(PASS, 0, "sep"), *st = tv_new(&I->a, TV_NS);

	if (st == NULL)
		return tnomem(I);
	if (sep == NULL && (sep = tstr(I, ", ", 2)) == NULL)
		return NULL;
	if (ns_set(I, st, "sep", sep) != 0 ||
	    ns_set(I, st, "used", tv_bool(&I->a, 0)) != 0)
		return NULL;
	return fn_value(I, joiner_call, st, "joiner");
}

/* cycler(*items): .next(), .reset(), .current */
static struct tval *
cycler_step(struct tinterp *I, struct tval *self, int64_t pos)
{
	struct tval *items = tv_dict_gets(self, "items");

	if (ns_set(I, self, "pos", tv_int(&I->a, pos)) != 0 ||
	    ns_set(I, self, "current", items->u.l.v[pos]) != 0)
		return NULL;
	return items->u.l.v[pos];
}

static struct tval *
cycler_next(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *items = tv_dict_gets(self, "items");
	struct tval *cur = tv_dict_gets(self, "current");
	int64_t pos = tv_dict_gets(self, "pos")->u.i;

	if (cycler_step(I, self, (pos + 1) % (int64_t)items->u.l.n) == NULL)
		return NULL;
	return cur;
}

static struct tval *
cycler_reset(struct tinterp *I, struct tval *self, ARGS)
{
	if (cycler_step(I, self, 0) == NULL)
		return NULL;
	return tv_new(&I->a, TV_NONE) ?: tnomem(I);
}

static struct tval *
g_cycler(struct tinterp *I, struct tval *self, ARGS)
{
	struct tval *st = tv_new(&I->a, TV_NS), *items = new_list(I);
	size_t i;

	if (st == NULL || items == NULL)
		return tnomem(I);
	if (nargs == 0)
		return terr(I, I->line, "at least one item has to be provided");
	for (i = 0; i < nargs; i++)
		if (push(I, items, args[i]) != 0)
			return NULL;
	if (ns_set(I, st, "items", items) != 0 ||
	    ns_set(I, st, "next", fn_value(I, cycler_next, st, "next")) != 0 ||
	    ns_set(I, st, "reset", fn_value(I, cycler_reset, st,
	    "reset")) != 0 || cycler_step(I, st, 0) == NULL)
		return NULL;
	return st;
}

struct tval *
tbuiltin_global(struct tinterp *I, const char *name)
{
	static const struct {
		const char	*name;
		tv_fn		 fn;
	} g[] = {
		{ "range", g_range },
		{ "namespace", g_namespace },
		{ "dict", g_dict },
		{ "raise_exception", g_raise },
		{ "strftime_now", g_strftime },
		{ "joiner", g_joiner },
		{ "cycler", g_cycler },
		{ NULL, NULL }
	};
	struct tval *f;
	size_t i;

	for (i = 0; g[i].name != NULL; i++) {
		if (strcmp(g[i].name, name) != 0)
			continue;
		if ((f = tv_new(&I->a, TV_FUNC)) == NULL)
			return tnomem(I);
		f->u.fn.fn = g[i].fn;
		f->u.fn.name = g[i].name;
		return f;
	}
	return NULL;
}

/* ---- tests ---- */

#define TARGS	struct tinterp *I, struct tval *v, struct tval **args, \
		size_t nargs, int line, int arg

/* The tests of a value's kind: arg is a mask of 1 << enum tv_kind. */
#define K(k)	(1 << (k))
#define K_ITER	(K(TV_STR) | K(TV_LIST) | K(TV_DICT) | K(TV_UNDEF))

static int
t_kind(TARGS)
{
	return (arg & K(v->kind)) != 0;
}

static int
t_sequence(TARGS)
{
	return t_kind(I, v, args, nargs, line, K_ITER) &&
	    !(v->kind == TV_LIST && (v->flags & TVF_GEN));
}

/* true/false: arg is the boolean wanted */
static int
t_bool(TARGS)
{
	return v->kind == TV_BOOL && !v->u.b == !arg;
}

static int
need1(struct tinterp *I, size_t nargs, int line, const char *t)
{
	if (nargs < 1) {
		terr(I, line, "test '%s' needs an argument", t);
		return -1;
	}
	return 0;
}

/* eq/ne: arg 1 negates */
static int
t_eq(TARGS)
{
	if (need1(I, nargs, line, arg ? "ne" : "eq") != 0)
		return -1;
	return tv_equal(v, args[0]) != arg;
}

/* lt/le/gt/ge: arg 0 to 3 */
static int
t_order(TARGS)
{
	int c, bad;

	if (need1(I, nargs, line, "comparison") != 0)
		return -1;
	c = tcompare(I, v, args[0], "<", line, &bad);
	if (bad)
		return -1;
	switch (arg) {
	case 0: return c < 0;
	case 1: return c <= 0;
	case 2: return c > 0;
	default: return c >= 0;
	}
}

static int
t_in(TARGS)
{
	struct tval *c;
	size_t i;

	if (need1(I, nargs, line, "in") != 0)
		return -1;
	c = args[0];
	if (c->kind == TV_STR && v->kind == TV_STR)
		return memfind(c->u.s.p, c->u.s.len, v->u.s.p, v->u.s.len) !=
		    NULL;
	if (c->kind == TV_LIST) {
		for (i = 0; i < c->u.l.n; i++)
			if (tv_equal(c->u.l.v[i], v))
				return 1;
		return 0;
	}
	if (c->kind == TV_DICT)
		return tv_dict_get(c, v) != NULL;
	if (c->kind == TV_UNDEF)
		return 0;
	terr(I, line, "argument of type '%s' is not iterable",
	    tv_type_name(c));
	return -1;
}

/* value % m as Python computes it, for ints and floats; -1 on error */
static int
py_mod(struct tinterp *I, struct tval *v, struct tval *m, const char *t,
    int line, double *out)
{
	double a, b, r;

	if (!(v->kind == TV_INT || v->kind == TV_BOOL || v->kind == TV_FLOAT) ||
	    !(m->kind == TV_INT || m->kind == TV_BOOL || m->kind == TV_FLOAT)) {
		terr(I, line, "test '%s': unsupported operand types %s and %s",
		    t, tv_type_name(v), tv_type_name(m));
		return -1;
	}
	if (v->kind != TV_FLOAT && m->kind != TV_FLOAT) {
		int64_t x = v->kind == TV_BOOL ? v->u.b : v->u.i;
		int64_t y = m->kind == TV_BOOL ? m->u.b : m->u.i;

		if (y == 0) {
			terr(I, line, "integer division or modulo by zero");
			return -1;
		}
		if (y == -1) {
			*out = 0;
			return 0;
		}
		x %= y;
		if (x != 0 && ((x < 0) != (y < 0)))
			x += y;
		*out = (double)x;
		return 0;
	}
	a = v->kind == TV_FLOAT ? v->u.f : v->kind == TV_BOOL ? v->u.b :
	    (double)v->u.i;
	b = m->kind == TV_FLOAT ? m->u.f : m->kind == TV_BOOL ? m->u.b :
	    (double)m->u.i;
	if (b == 0) {
		terr(I, line, "float modulo");
		return -1;
	}
	r = fmod(a, b);
	if (r != 0 && ((r < 0) != (b < 0)))
		r += b;
	*out = r;
	return 0;
}

/* odd/even: arg 1 for odd */
static int
t_parity(TARGS)
{
	struct tval two = { .kind = TV_INT, .u.i = 2 };
	double r;

	if (py_mod(I, v, &two, arg ? "odd" : "even", line, &r) != 0)
		return -1;
	return arg ? r == 1 : r == 0;
}

static int
t_divisibleby(TARGS)
{
	double r;

	if (need1(I, nargs, line, "divisibleby") != 0 ||
	    py_mod(I, v, args[0], "divisibleby", line, &r) != 0)
		return -1;
	return r == 0;
}

static int
t_sameas(TARGS)
{
	if (need1(I, nargs, line, "sameas") != 0)
		return -1;
	if (v->kind != args[0]->kind)
		return 0;
	if (v->kind == TV_NONE || v->kind == TV_BOOL || v->kind == TV_INT)
		return tv_equal(v, args[0]);
	return v == args[0];
}

/* lower/upper: str(value).islower() / .isupper(), arg the str_pred()
 * mode */
static int
t_case(TARGS)
{
	struct tval *r, *s = tv_to_str(I, v);

	r = s == NULL ? NULL : str_pred(I, s, arg);
	return r == NULL ? -1 : r->u.b;
}

static int
t_escaped(TARGS)
{
	return v->kind == TV_STR && (v->flags & TVF_SAFE);
}

static const struct ttest tests[] = {
	{ "defined", t_kind, K(TV_NONE) | K(TV_BOOL) | K(TV_INT) |
	    K(TV_FLOAT) | K(TV_STR) | K(TV_LIST) | K(TV_DICT) | K(TV_NS) |
	    K(TV_FUNC) | K(TV_MACRO) },
	{ "undefined", t_kind, K(TV_UNDEF) }, { "none", t_kind, K(TV_NONE) },
	{ "string", t_kind, K(TV_STR) }, { "mapping", t_kind, K(TV_DICT) },
	{ "iterable", t_kind, K_ITER }, { "sequence", t_sequence, 0 },
	{ "number", t_kind, K(TV_INT) | K(TV_FLOAT) | K(TV_BOOL) },
	{ "integer", t_kind, K(TV_INT) }, { "float", t_kind, K(TV_FLOAT) },
	{ "boolean", t_kind, K(TV_BOOL) }, { "true", t_bool, 1 },
	{ "false", t_bool, 0 },
	{ "callable", t_kind, K(TV_FUNC) | K(TV_MACRO) },
	{ "eq", t_eq, 0 }, { "equalto", t_eq, 0 }, { "==", t_eq, 0 },
	{ "ne", t_eq, 1 }, { "!=", t_eq, 1 },
	{ "lt", t_order, 0 }, { "lessthan", t_order, 0 }, { "<", t_order, 0 },
	{ "le", t_order, 1 }, { "<=", t_order, 1 },
	{ "gt", t_order, 2 }, { "greaterthan", t_order, 2 },
	{ ">", t_order, 2 }, { "ge", t_order, 3 }, { ">=", t_order, 3 },
	{ "in", t_in, 0 }, { "odd", t_parity, 1 }, { "even", t_parity, 0 },
	{ "divisibleby", t_divisibleby, 0 }, { "sameas", t_sameas, 0 },
	{ "lower", t_case, 5 }, { "upper", t_case, 4 },
	{ "escaped", t_escaped, 0 },
	{ NULL, NULL, 0 }
};

const struct ttest *
tbuiltin_test(const char *name)
{
	size_t i;

	for (i = 0; tests[i].name != NULL; i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

/* ---- filters ---- */

#define FARGS	struct tinterp *I, struct tval *v, struct tval **args, \
		size_t nargs, const char **kwn, struct tval **kwv, size_t nkw, \
		int line

static struct tval *
f_tojson(FARGS)
{
	struct tval *ea = arg(PASS, 0, "ensure_ascii");
	struct tval *ind = arg(PASS, 1, "indent");
	struct tval *sep = arg(PASS, 2, "separators");
	struct tval *sk = arg(PASS, 3, "sort_keys");
	char ibuf[256];
	const char *indent = NULL, *isep = NULL, *ksep = NULL;
	char why[128];
	struct tbuf b = { 0 };
	int64_t n;

	if (ind != NULL && ind->kind != TV_NONE) {
		if (ind->kind == TV_STR)
			indent = ind->u.s.p;
		else if (need_int(I, ind, "indent", &n) != 0)
			return NULL;
		else {
			if (n < 0)
				n = 0;
			if (n >= (int64_t)sizeof ibuf)
				n = sizeof ibuf - 1;
			memset(ibuf, ' ', (size_t)n);
			ibuf[n] = '\0';
			indent = ibuf;
		}
	}
	if (sep != NULL && sep->kind != TV_NONE) {
		if (sep->kind != TV_LIST || sep->u.l.n != 2 ||
		    sep->u.l.v[0]->kind != TV_STR ||
		    sep->u.l.v[1]->kind != TV_STR)
			return terr(I, line, "tojson: separators must be a "
			    "pair of strings");
		isep = sep->u.l.v[0]->u.s.p;
		ksep = sep->u.l.v[1]->u.s.p;
	}
	b.limit = I->max_out;
	if (tv_json_into(&b, v, ea != NULL && tv_truthy(ea), indent, isep, ksep,
	    sk != NULL && tv_truthy(sk), why, sizeof why) != 0) {
		tbuf_free(&b);
		if (v->kind == TV_UNDEF || strstr(why, "Undefined") != NULL)
			return terr(I, line, "%s", why);
		return terr(I, line, "tojson: %s", why);
	}
	return from_buf(I, &b);
}

static struct tval *
f_string(FARGS)
{
	return tv_to_str(I, v);
}

static struct tval *
f_length(FARGS)
{
	int64_t n;

	switch (v->kind) {
	case TV_STR: n = (int64_t)tv_utf8_len(v->u.s.p, v->u.s.len); break;
	case TV_LIST:
		if (v->flags & TVF_GEN)
			return terr(I, line, "object of type 'generator' has "
			    "no len()");
		n = (int64_t)v->u.l.n;
		break;
	case TV_DICT:
	case TV_NS: n = (int64_t)v->u.d.n; break;
	case TV_UNDEF: n = 0; break;
	default:
		return terr(I, line, "object of type '%s' has no len()",
		    tv_type_name(v));
	}
	return tv_int(&I->a, n) ?: tnomem(I);
}

/* Look up a dotted attribute path the way jinja2's attrgetter does. */
static struct tval *
attr_path(struct tinterp *I, struct tval *x, struct tval *path, int line)
{
	const char *p, *dot, *end;
	struct tval *k;
	char *num_end;
	long long iv;

	if (path->kind == TV_INT)
		return tgetitem(I, x, path, line);
	if (path->kind != TV_STR)
		return terr(I, line, "attribute must be a string");
	p = path->u.s.p;
	end = p + path->u.s.len;
	for (;;) {
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == NULL)
			dot = end;
		iv = strtoll(p, &num_end, 10);
		if (num_end == dot && dot > p)
			k = tv_int(&I->a, iv);
		else
			k = tstr(I, p, (size_t)(dot - p));
		if (k == NULL || (x = tgetitem(I, x, k, line)) == NULL)
			return NULL;
		if (dot == end)
			return x;
		p = dot + 1;
	}
}

static struct tval *
f_join(FARGS)
{
	struct tval *d = arg(PASS, 0, "d"), *at = arg(PASS, 1, "attribute");
	struct tval *items, *l, *x;
	size_t i;

	if (at != NULL && at->kind == TV_NONE)
		at = NULL;
	if (d == NULL && (d = tstr(I, "", 0)) == NULL)
		return NULL;
	if ((d = tv_to_str(I, d)) == NULL ||
	    (items = titems(I, v, line)) == NULL)
		return NULL;
	if (at != NULL) {
		if ((l = new_list(I)) == NULL)
			return NULL;
		for (i = 0; i < items->u.l.n; i++)
			if ((x = attr_path(I, items->u.l.v[i], at, line)) ==
			    NULL || push(I, l, x) != 0)
				return NULL;
		items = l;
	}
	return str_join(I, d, items);
}

static struct tval *
f_trim(FARGS)
{
	struct tval *s = tv_to_str(I, v);

	if (s == NULL)
		return NULL;
	return str_strip(I, s, arg(PASS, 0, "chars"), 3);
}

static struct tval *
f_items(FARGS)
{
	struct tval *l;

	if (v->kind == TV_UNDEF)
		l = new_list(I);
	else if (v->kind != TV_DICT)
		return terr(I, line, "Can only get item pairs from a mapping.");
	else
		l = dict_items(I, v, 0);
	if (l != NULL)
		l->flags |= TVF_GEN;
	return l;
}

static struct tval *
f_default(FARGS)
{
	struct tval *d = arg(PASS, 0, "default_value");
	int boolean = arg_true(PASS, 1, "boolean");

	if (v->kind == TV_UNDEF || (boolean && !tv_truthy(v)))
		return d != NULL ? d : tstr(I, "", 0);
	return v;
}

static struct tval *
f_safe(FARGS)
{
	struct tval *s = tv_to_str(I, v), *r;

	if (s == NULL)
		return NULL;
	if ((r = tv_new(&I->a, TV_STR)) == NULL)
		return tnomem(I);
	*r = *s;
	r->flags |= TVF_SAFE;
	return r;
}

/* select/reject/selectattr/rejectattr */
static struct tval *
select_common(FARGS, int attr, int keep)
{
	struct tval *items, *l, *x, *t, *tn;
	size_t i, first = attr ? 1 : 0;
	const struct ttest *test = NULL;
	int r;

	if ((items = titems(I, v, line)) == NULL || (l = new_list(I)) == NULL)
		return NULL;
	if (attr && nargs < 1)
		return terr(I, line, "selectattr/rejectattr need an attribute");
	if (nargs > first) {
		tn = args[first];
		if (need_str(I, tn, "test name") == NULL)
			return NULL;
		if ((test = tbuiltin_test(tn->u.s.p)) == NULL)
			return terr(I, line, "no test named '%s'", tn->u.s.p);
	}
	for (i = 0; i < items->u.l.n; i++) {
		x = items->u.l.v[i];
		t = attr ? attr_path(I, x, args[0], line) : x;
		if (t == NULL)
			return NULL;
		if (test != NULL) {
			r = test->fn(I, t, args + first + 1, nargs - first - 1,
			    line, test->arg);
			if (r < 0)
				return NULL;
		} else
			r = tv_truthy(t);
		if (r == keep && push(I, l, x) != 0)
			return NULL;
	}
	l->flags |= TVF_GEN;
	return l;
}

static struct tval *
f_select(FARGS)
{
	return select_common(I, v, PASS, line, 0, 1);
}

static struct tval *
f_reject(FARGS)
{
	return select_common(I, v, PASS, line, 0, 0);
}

static struct tval *
f_selectattr(FARGS)
{
	return select_common(I, v, PASS, line, 1, 1);
}

static struct tval *
f_rejectattr(FARGS)
{
	return select_common(I, v, PASS, line, 1, 0);
}

static struct tval *
f_map(FARGS)
{
	struct tval *items, *l, *x, *at = arg(PASS, 99, "attribute");
	struct tval *def = arg(PASS, 99, "default");
	tfilter_fn fn = NULL;
	size_t i;

	if (at != NULL && at->kind == TV_NONE)
		at = NULL;
	if ((items = titems(I, v, line)) == NULL || (l = new_list(I)) == NULL)
		return NULL;
	if (at == NULL) {
		if (nargs < 1 || need_str(I, args[0], "filter name") == NULL)
			return terr(I, line, "map needs a filter name or "
			    "attribute=");
		if ((fn = tbuiltin_filter(args[0]->u.s.p)) == NULL)
			return terr(I, line, "no filter named '%s'",
			    args[0]->u.s.p);
	}
	for (i = 0; i < items->u.l.n; i++) {
		if (at != NULL) {
			x = attr_path(I, items->u.l.v[i], at, line);
			if (x != NULL && x->kind == TV_UNDEF && def != NULL)
				x = def;
		} else
			x = fn(I, items->u.l.v[i], args + 1, nargs - 1, kwn,
			    kwv, nkw, line);
		if (x == NULL || push(I, l, x) != 0)
			return NULL;
	}
	l->flags |= TVF_GEN;
	return l;
}

static struct tval *
f_list(FARGS)
{
	struct tval *items = titems(I, v, line), *l;
	size_t i;

	if (items == NULL || (l = new_list(I)) == NULL)
		return NULL;
	for (i = 0; i < items->u.l.n; i++)
		if (push(I, l, items->u.l.v[i]) != 0)
			return NULL;
	return l;
}

static struct tval *
f_first(FARGS)
{
	struct tval *items = titems(I, v, line);

	if (items == NULL)
		return NULL;
	if (items->u.l.n == 0)
		return tundef(I, "No first item, sequence was empty.");
	return items->u.l.v[0];
}

static struct tval *
f_last(FARGS)
{
	struct tval *items;

	if (v->kind == TV_LIST && (v->flags & TVF_GEN))
		return terr(I, line, "'generator' object is not reversible");
	items = titems(I, v, line);

	if (items == NULL)
		return NULL;
	if (items->u.l.n == 0)
		return tundef(I, "No last item, sequence was empty.");
	return items->u.l.v[items->u.l.n - 1];
}

static struct tval *
f_casefn(FARGS, int mode)
{
	struct tval *s = tv_to_str(I, v);

	return s == NULL ? NULL : str_case(I, s, mode);
}

static struct tval *
f_lower(FARGS)
{
	return f_casefn(I, v, PASS, line, 0);
}

static struct tval *
f_upper(FARGS)
{
	return f_casefn(I, v, PASS, line, 1);
}
/* jinja2's title: words start after "-", whitespace, "(", "{", "[", "<". */
static struct tval *
f_title(FARGS)
{
	struct tval *s = tv_to_str(I, v);
	struct tbuf b = { 0 };
	size_t i = 0;
	uint32_t c;
	int start = 1;

	if (s == NULL)
		return NULL;
	b.limit = I->max_out;
	while (i < s->u.s.len) {
		c = tv_utf8_next(s->u.s.p, s->u.s.len, &i);
		if (c == '-' || c == '(' || c == '{' || c == '[' || c == '<' ||
		    py_space(c)) {
			start = 1;
			tv_utf8_put(&b, c);
			continue;
		}
		tv_utf8_put(&b, start ? cp_upper(c) : cp_lower(c));
		start = 0;
	}
	return from_buf(I, &b);
}

static struct tval *
f_capitalize(FARGS)
{
	return f_casefn(I, v, PASS, line, 3);
}

static struct tval *
f_replace(FARGS)
{
	struct tval *s = tv_to_str(I, v), *o = arg(PASS, 0, "old");
	struct tval *n = arg(PASS, 1, "new");

	if (s == NULL)
		return NULL;
	if (o == NULL || n == NULL)
		return terr(I, line, "replace needs old and new strings");
	if ((o = tv_to_str(I, o)) == NULL || (n = tv_to_str(I, n)) == NULL)
		return NULL;
	return str_replace(I, s, o, n, arg(PASS, 2, "count"));
}

static struct tval *
f_int(FARGS)
{
	struct tval *d = arg(PASS, 0, "default"), *bv = arg(PASS, 1, "base");
	int64_t base = 10;
	char buf[128], *end;
	size_t i, k;
	long long x;
	double f;

	if (bv != NULL && need_int(I, bv, "base", &base) != 0)
		return NULL;
	switch (v->kind) {
	case TV_INT:
		return v;
	case TV_BOOL:
		return tv_int(&I->a, v->u.b) ?: tnomem(I);
	case TV_FLOAT:
		if (isfinite(v->u.f) && fabs(v->u.f) < 9.2e18)
			return tv_int(&I->a, (int64_t)v->u.f) ?: tnomem(I);
		break;
	case TV_STR:
		for (i = 0, k = 0; i < v->u.s.len && k < sizeof buf - 1; i++)
			if (v->u.s.p[i] != '_')
				buf[k++] = v->u.s.p[i];
		buf[k] = '\0';
		errno = 0;
		x = strtoll(buf, &end, (int)base);
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		if (errno == 0 && end != buf && *end == '\0')
			return tv_int(&I->a, x) ?: tnomem(I);
		f = strtod(buf, &end);
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		if (end != buf && *end == '\0' && isfinite(f) &&
		    fabs(f) < 9.2e18)
			return tv_int(&I->a, (int64_t)f) ?: tnomem(I);
		break;
	default:
		break;
	}
	return d != NULL ? d : tv_int(&I->a, 0) ?: tnomem(I);
}

static struct tval *
f_float(FARGS)
{
	struct tval *d = arg(PASS, 0, "default");
	char *end;
	double f;

	switch (v->kind) {
	case TV_FLOAT:
		return v;
	case TV_INT:
	case TV_BOOL:
		return tv_float(&I->a, v->kind == TV_INT ? (double)v->u.i :
		    v->u.b) ?: tnomem(I);
	case TV_STR:
		f = strtod(v->u.s.p, &end);
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		if (end != v->u.s.p && *end == '\0')
			return tv_float(&I->a, f) ?: tnomem(I);
		break;
	default:
		break;
	}
	return d != NULL ? d : tv_float(&I->a, 0.0) ?: tnomem(I);
}

static struct tval *
f_abs(FARGS)
{
	if (v->kind == TV_INT) {
		if (v->u.i == INT64_MIN)
			return terr(I, line, "integer overflow");
		return tv_int(&I->a, v->u.i < 0 ? -v->u.i : v->u.i) ?:
		    tnomem(I);
	}
	if (v->kind == TV_BOOL)
		return tv_int(&I->a, v->u.b) ?: tnomem(I);
	if (v->kind == TV_FLOAT)
		return tv_float(&I->a, fabs(v->u.f)) ?: tnomem(I);
	return terr(I, line, "bad operand type for abs(): '%s'",
	    tv_type_name(v));
}

/* Python's round(x, ndigits): correctly rounded, ties to even. */
static double
py_round(double x, int64_t nd)
{
	char buf[512];
	double m;

	if (!isfinite(x))
		return x;
	if (nd >= 0) {
		if (nd > 300)
			return x;
		snprintf(buf, sizeof buf, "%.*f", (int)nd, x);
		return strtod(buf, NULL);
	}
	if (nd < -300)
		return 0.0 * x;
	m = pow(10.0, (double)-nd);
	return rint(x / m) * m;
}

static struct tval *
f_round(FARGS)
{
	struct tval *pv = arg(PASS, 0, "precision"), *mv = arg(PASS, 1,
	    "method");
	int64_t prec = 0;
	double x, m;

	if (pv != NULL && need_int(I, pv, "precision", &prec) != 0)
		return NULL;
	if (v->kind != TV_INT && v->kind != TV_FLOAT && v->kind != TV_BOOL)
		return terr(I, line, "type %s doesn't define __round__ method",
		    tv_type_name(v));
	x = v->kind == TV_FLOAT ? v->u.f : v->kind == TV_INT ?
	    (double)v->u.i : v->u.b;
	if (prec > 300)
		prec = 300;
	if (prec < -300)
		prec = -300;
	if (mv == NULL || (mv->kind == TV_STR && !strcmp(mv->u.s.p,
	    "common"))) {
		if (v->kind != TV_FLOAT && prec >= 0)	/* round(int) is int */
			return v->kind == TV_INT ? v :
			    tv_int(&I->a, v->u.b) ?: tnomem(I);
		return tv_float(&I->a, py_round(x, prec)) ?: tnomem(I);
	}
	m = pow(10.0, (double)prec);
	if (mv->kind == TV_STR && !strcmp(mv->u.s.p, "floor"))
		return tv_float(&I->a, floor(x * m) / m) ?: tnomem(I);
	if (mv->kind == TV_STR && !strcmp(mv->u.s.p, "ceil"))
		return tv_float(&I->a, ceil(x * m) / m) ?: tnomem(I);
	return terr(I, line, "method must be common, ceil or floor");
}

static struct tval *
f_indent(FARGS)
{
	struct tval *wv = arg(PASS, 0, "width"), *s, *lines;
	int first = arg_true(PASS, 1, "first"), blank = arg_true(PASS, 2,
	    "blank");
	struct tbuf b = { 0 };
	char ind[256];
	const char *is = ind;
	size_t il, i;
	int64_t w = 4;

	if (wv != NULL && wv->kind == TV_STR) {
		is = wv->u.s.p;
		il = wv->u.s.len;
	} else {
		if (wv != NULL && need_int(I, wv, "width", &w) != 0)
			return NULL;
		if (w < 0)
			w = 0;
		if (w > 255)
			w = 255;
		memset(ind, ' ', (size_t)w);
		il = (size_t)w;
	}
	if (v->kind == TV_UNDEF)	/* jinja2 adds "\n" to it: fails */
		return tundef_fail(I, v);
	if ((s = tv_to_str(I, v)) == NULL)
		return NULL;
	/* s + "\n", then splitlines */
	{
		struct tval nl = { .kind = TV_STR };

		nl.u.s.p = "\n";
		nl.u.s.len = 1;
		if ((s = tstr(I, s->u.s.p, s->u.s.len)) == NULL)
			return NULL;
		{
			struct tbuf t = { 0 };

			tbuf_add(&t, s->u.s.p, s->u.s.len);
			tbuf_add(&t, nl.u.s.p, 1);
			if ((s = from_buf(I, &t)) == NULL)
				return NULL;
		}
	}
	if ((lines = str_splitlines(I, s, 0)) == NULL)
		return NULL;
	b.limit = I->max_out;
	if (first)
		tbuf_add(&b, is, il);
	for (i = 0; i < lines->u.l.n; i++) {
		struct tval *ln = lines->u.l.v[i];

		if (i > 0) {
			tbuf_addc(&b, '\n');
			if (blank || ln->u.s.len > 0)
				tbuf_add(&b, is, il);
		}
		tbuf_add(&b, ln->u.s.p, ln->u.s.len);
	}
	return from_buf(I, &b);
}

/* Sort key: lowercased strings unless case sensitive. */
static struct tval *
sort_key(struct tinterp *I, struct tval *x, int cs)
{
	if (!cs && x->kind == TV_STR)
		return str_case(I, x, 0);
	return x;
}

static struct tval *
sorted(struct tinterp *I, struct tval *items, struct tval **keys, int rev,
    int line)
{
	size_t n = items->u.l.n, i, j, *ord;
	struct tval *l;
	int c, bad;

	if ((ord = malloc((n + 1) * sizeof *ord)) == NULL)
		return tnomem(I);
	for (i = 0; i < n; i++)
		ord[i] = i;
	for (i = 1; i < n; i++) {	/* stable insertion sort */
		size_t x = ord[i];

		for (j = i; j > 0; j--) {
			c = tcompare(I, keys[ord[j - 1]], keys[x], "<", line,
			    &bad);
			if (bad) {
				free(ord);
				return NULL;
			}
			if (rev ? c >= 0 : c <= 0)
				break;
			ord[j] = ord[j - 1];
		}
		ord[j] = x;
	}
	if ((l = new_list(I)) != NULL)
		for (i = 0; i < n; i++)
			if (push(I, l, items->u.l.v[ord[i]]) != 0) {
				l = NULL;
				break;
			}
	free(ord);
	return l;
}

static struct tval *
f_sort(FARGS)
{
	int rev = arg_true(PASS, 0, "reverse");
	int cs = arg_true(PASS, 1, "case_sensitive");
	struct tval *at = arg(PASS, 2, "attribute"), *items, **keys, *k;
	size_t i;

	if ((items = titems(I, v, line)) == NULL)
		return NULL;
	if (items->u.l.n > 100000)
		return terr(I, line, "sort: too many items");
	if ((keys = tarena_alloc(&I->a, (items->u.l.n + 1) * sizeof *keys)) ==
	    NULL)
		return tnomem(I);
	for (i = 0; i < items->u.l.n; i++) {
		k = items->u.l.v[i];
		if (at != NULL && (k = attr_path(I, k, at, line)) == NULL)
			return NULL;
		if ((keys[i] = sort_key(I, k, cs)) == NULL)
			return NULL;
	}
	return sorted(I, items, keys, rev, line);
}

static struct tval *
f_dictsort(FARGS)
{
	int cs = arg_true(PASS, 0, "case_sensitive");
	struct tval *by = arg(PASS, 1, "by"), *items, **keys;
	int rev = arg_true(PASS, 2, "reverse"), byval = 0;
	size_t i;

	if (v->kind != TV_DICT)
		return terr(I, line, "dictsort: not a mapping");
	if (by != NULL && by->kind == TV_STR && !strcmp(by->u.s.p, "value"))
		byval = 1;
	if ((items = dict_items(I, v, 0)) == NULL)
		return NULL;
	if ((keys = tarena_alloc(&I->a, (items->u.l.n + 1) * sizeof *keys)) ==
	    NULL)
		return tnomem(I);
	for (i = 0; i < items->u.l.n; i++)
		if ((keys[i] = sort_key(I, items->u.l.v[i]->u.l.v[byval],
		    cs)) == NULL)
			return NULL;
	return sorted(I, items, keys, rev, line);
}

static struct tval *
f_unique(FARGS)
{
	int cs = arg_true(PASS, 0, "case_sensitive");
	struct tval *at = arg(PASS, 1, "attribute"), *items, *l, *seen, *k;
	size_t i, j;

	if ((items = titems(I, v, line)) == NULL ||
	    (l = new_list(I)) == NULL || (seen = new_list(I)) == NULL)
		return NULL;
	for (i = 0; i < items->u.l.n; i++) {
		k = items->u.l.v[i];
		if (at != NULL && (k = attr_path(I, k, at, line)) == NULL)
			return NULL;
		if ((k = sort_key(I, k, cs)) == NULL)
			return NULL;
		for (j = 0; j < seen->u.l.n; j++)
			if (tv_equal(seen->u.l.v[j], k))
				break;
		if (j < seen->u.l.n)
			continue;
		if (push(I, seen, k) != 0 || push(I, l, items->u.l.v[i]) != 0)
			return NULL;
	}
	l->flags |= TVF_GEN;
	return l;
}

static struct tval *
f_reverse(FARGS)
{
	struct tval *items, *l;
	size_t i;

	if (v->kind == TV_STR) {
		struct tbuf b = { 0 };
		size_t n = v->u.s.len, st;

		for (i = n; i > 0;) {
			st = i - 1;
			while (st > 0 && ((unsigned char)v->u.s.p[st] & 0xc0) ==
			    0x80)
				st--;
			tbuf_add(&b, v->u.s.p + st, i - st);
			i = st;
		}
		return from_buf(I, &b);
	}
	if ((items = titems(I, v, line)) == NULL || (l = new_list(I)) == NULL)
		return NULL;
	for (i = items->u.l.n; i-- > 0;)
		if (push(I, l, items->u.l.v[i]) != 0)
			return NULL;
	l->flags |= TVF_GEN;	/* a reverse iterator */
	return l;
}

static struct tval *
f_wordcount(FARGS)
{
	struct tval *s = tv_to_str(I, v);
	size_t i = 0, n;
	int64_t c = 0;
	int in = 0;
	uint32_t cp;

	if (s == NULL)
		return NULL;
	n = s->u.s.len;
	while (i < n) {
		cp = tv_utf8_next(s->u.s.p, n, &i);
		if (cp_alpha(cp) || (cp < 0x80 && (isdigit((int)cp) ||
		    cp == '_'))) {
			if (!in)
				c++;
			in = 1;
		} else
			in = 0;
	}
	return tv_int(&I->a, c) ?: tnomem(I);
}

static struct tval *
f_center(FARGS)
{
	struct tval *s = tv_to_str(I, v), *w = arg(PASS, 0, "width");

	if (s == NULL)
		return NULL;
	if (w == NULL && (w = tv_int(&I->a, 80)) == NULL)
		return tnomem(I);
	return str_pad(I, s, w, NULL, 0);
}

static struct tval *
f_batch(FARGS)
{
	struct tval *cv = arg(PASS, 0, "linecount"), *fill = arg(PASS, 1,
	    "fill_with"), *items, *l, *cur = NULL;
	int64_t n;
	size_t i;

	if (cv == NULL || need_int(I, cv, "linecount", &n) != 0)
		return cv == NULL ? terr(I, line, "batch needs a count") : NULL;
	if (n <= 0)
		return terr(I, line, "batch count must be positive");
	if ((items = titems(I, v, line)) == NULL || (l = new_list(I)) == NULL)
		return NULL;
	for (i = 0; i < items->u.l.n; i++) {
		if (cur == NULL || (int64_t)cur->u.l.n == n) {
			if ((cur = new_list(I)) == NULL || push(I, l, cur) != 0)
				return NULL;
		}
		if (push(I, cur, items->u.l.v[i]) != 0)
			return NULL;
	}
	if (fill != NULL && cur != NULL)
		while ((int64_t)cur->u.l.n < n)
			if (push(I, cur, fill) != 0)
				return NULL;
	l->flags |= TVF_GEN;
	return l;
}

static struct tval *
f_sum(FARGS)
{
	struct tval *at = arg(PASS, 0, "attribute"), *acc = arg(PASS, 1,
	    "start"), *items, *x;
	size_t i;
	int64_t is = 0;
	double fs = 0;
	int isf = 0;

	if (acc != NULL && acc->kind == TV_FLOAT) {
		isf = 1;
		fs = acc->u.f;
	} else if (acc != NULL && need_int(I, acc, "start", &is) != 0)
		return NULL;
	if ((items = titems(I, v, line)) == NULL)
		return NULL;
	for (i = 0; i < items->u.l.n; i++) {
		x = items->u.l.v[i];
		if (at != NULL && (x = attr_path(I, x, at, line)) == NULL)
			return NULL;
		if (x->kind == TV_FLOAT) {
			if (!isf) {
				fs = (double)is;
				isf = 1;
			}
			fs += x->u.f;
		} else if (x->kind == TV_INT || x->kind == TV_BOOL) {
			int64_t y = x->kind == TV_INT ? x->u.i : x->u.b;

			if (isf)
				fs += (double)y;
			else if (__builtin_add_overflow(is, y, &is))
				return terr(I, line, "integer overflow in sum");
		} else
			return terr(I, line, "sum: unsupported operand type "
			    "'%s'", tv_type_name(x));
	}
	return isf ? tv_float(&I->a, fs) ?: tnomem(I) :
	    tv_int(&I->a, is) ?: tnomem(I);
}

static struct tval *
minmax(FARGS, int want_max)
{
	int cs = arg_true(PASS, 0, "case_sensitive");
	struct tval *at = arg(PASS, 1, "attribute"), *items, *best = NULL;
	struct tval *bk = NULL, *k;
	size_t i;
	int c, bad;

	if ((items = titems(I, v, line)) == NULL)
		return NULL;
	for (i = 0; i < items->u.l.n; i++) {
		k = items->u.l.v[i];
		if (at != NULL && (k = attr_path(I, k, at, line)) == NULL)
			return NULL;
		if ((k = sort_key(I, k, cs)) == NULL)
			return NULL;
		if (best != NULL) {
			c = tcompare(I, k, bk, "<", line, &bad);
			if (bad)
				return NULL;
			if (want_max ? c <= 0 : c >= 0)
				continue;
		}
		best = items->u.l.v[i];
		bk = k;
	}
	if (best == NULL)
		return tundef(I, "No aggregated item, sequence was empty.");
	return best;
}

static struct tval *
f_min(FARGS)
{
	return minmax(I, v, PASS, line, 0);
}

static struct tval *
f_max(FARGS)
{
	return minmax(I, v, PASS, line, 1);
}

static struct tval *
f_escape(FARGS)
{
	struct tval *s, *r;
	struct tbuf b = { 0 };
	size_t i;

	if (v->kind == TV_STR && (v->flags & TVF_SAFE))
		return v;
	if ((s = tv_to_str(I, v)) == NULL)
		return NULL;
	b.limit = I->max_out;
	for (i = 0; i < s->u.s.len; i++) {
		switch (s->u.s.p[i]) {
		case '&': tbuf_add(&b, "&amp;", 5); break;
		case '<': tbuf_add(&b, "&lt;", 4); break;
		case '>': tbuf_add(&b, "&gt;", 4); break;
		case '\'': tbuf_add(&b, "&#39;", 5); break;
		case '"': tbuf_add(&b, "&#34;", 5); break;
		default: tbuf_addc(&b, s->u.s.p[i]);
		}
	}
	if ((r = from_buf(I, &b)) != NULL)
		r->flags |= TVF_SAFE;
	return r;
}

/* attr(): attributes only, never items (dict keys). */
static struct tval *
f_attr(FARGS)
{
	struct tval *n = arg(PASS, 0, "name"), *m;
	int unsafe;

	if (need_str(I, n, "attr name") == NULL)
		return NULL;
	if (v->kind == TV_DICT) {
		m = tbuiltin_method(I, v, n->u.s.p, &unsafe);
		if (m != NULL || I->failed)
			return m;
		return tundef(I, "'dict object' has no attribute '%s'",
		    n->u.s.p);
	}
	return tgetattr(I, v, n->u.s.p, n->u.s.len, line);
}

static struct tval *
f_truncate(FARGS)
{
	struct tval *s = tv_to_str(I, v), *lv = arg(PASS, 0, "length");
	struct tval *ev = arg(PASS, 2, "end"), *wv = arg(PASS, 3, "leeway");
	int kill = arg_true(PASS, 1, "killwords");
	int64_t len = 255, leeway = 5, n, endn, cut;
	const char *endp = "...";
	size_t endl = 3, off, k;
	struct tbuf b = { 0 };

	if (s == NULL)
		return NULL;
	if (lv != NULL && need_int(I, lv, "length", &len) != 0)
		return NULL;
	if (wv != NULL && wv->kind != TV_NONE &&
	    need_int(I, wv, "leeway", &leeway) != 0)
		return NULL;
	if (ev != NULL) {
		if (need_str(I, ev, "end") == NULL)
			return NULL;
		endp = ev->u.s.p;
		endl = ev->u.s.len;
	}
	endn = (int64_t)tv_utf8_len(endp, endl);
	if (len < endn || leeway < 0)
		return terr(I, line, "truncate: expected length >= %lld",
		    (long long)endn);
	n = (int64_t)tv_utf8_len(s->u.s.p, s->u.s.len);
	if (n <= len + leeway)
		return s;
	cut = len - endn;
	off = tv_utf8_off(s->u.s.p, s->u.s.len, (size_t)cut);
	if (!kill) {	/* s[:cut].rsplit(" ", 1)[0] */
		for (k = off; k > 0; k--)
			if (s->u.s.p[k - 1] == ' ')
				break;
		if (k > 0)
			off = k - 1;
	}
	tbuf_add(&b, s->u.s.p, off);
	tbuf_add(&b, endp, endl);
	return from_buf(I, &b);
}

static struct tval *
f_format(FARGS)
{
	struct tval *s = tv_to_str(I, v), *t;
	size_t i;

	if (s == NULL)
		return NULL;
	if (nkw > 0) {
		if (nargs > 0)
			return terr(I, line, "format: can't mix positional "
			    "and keyword arguments");
		if ((t = tv_new(&I->a, TV_DICT)) == NULL)
			return tnomem(I);
		for (i = 0; i < nkw; i++) {
			struct tval *k = tstr(I, kwn[i], strlen(kwn[i]));

			if (k == NULL || tv_dict_put(&I->a, t, k, kwv[i]) != 0)
				return tnomem(I);
		}
		return tbuiltin_percent(I, s, t, line);
	}
	if ((t = new_list(I)) == NULL)
		return NULL;
	t->flags = TVF_TUPLE;
	for (i = 0; i < nargs; i++)
		if (push(I, t, args[i]) != 0)
			return NULL;
	return tbuiltin_percent(I, s, t, line);
}

static const struct {
	const char	*name;
	tfilter_fn	 fn;
} filters[] = {
	{ "tojson", f_tojson }, { "string", f_string },
	{ "length", f_length }, { "count", f_length },
	{ "join", f_join }, { "trim", f_trim }, { "items", f_items },
	{ "default", f_default }, { "d", f_default }, { "safe", f_safe },
	{ "select", f_select }, { "reject", f_reject },
	{ "selectattr", f_selectattr }, { "rejectattr", f_rejectattr },
	{ "map", f_map }, { "list", f_list }, { "first", f_first },
	{ "last", f_last }, { "lower", f_lower }, { "upper", f_upper },
	{ "title", f_title }, { "capitalize", f_capitalize },
	{ "replace", f_replace }, { "int", f_int }, { "float", f_float },
	{ "abs", f_abs }, { "round", f_round }, { "indent", f_indent },
	{ "unique", f_unique }, { "reverse", f_reverse }, { "sort", f_sort },
	{ "dictsort", f_dictsort }, { "wordcount", f_wordcount },
	{ "center", f_center }, { "batch", f_batch }, { "sum", f_sum },
	{ "min", f_min }, { "max", f_max }, { "escape", f_escape },
	{ "e", f_escape }, { "attr", f_attr }, { "truncate", f_truncate },
	{ "format", f_format },
	{ NULL, NULL }
};

tfilter_fn
tbuiltin_filter(const char *name)
{
	size_t i;

	for (i = 0; filters[i].name != NULL; i++)
		if (strcmp(filters[i].name, name) == 0)
			return filters[i].fn;
	return NULL;
}
