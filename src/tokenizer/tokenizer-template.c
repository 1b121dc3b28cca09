/*
 * tokenizer-template.c - render chat templates: the tree-walking
 * interpreter over tokenizer-tparse.c's syntax tree, and the public API.
 *
 * Semantics follow jinja2 as transformers configures it: Python truth
 * values, arithmetic and comparisons; jinja2's default Undefined (prints
 * as "", iterates as empty, is false, equals only another Undefined, and
 * raises when an attribute, item, call or arithmetic needs its value);
 * the sandbox's attribute lookup (obj.name tries attributes/methods then
 * items, obj[key] the reverse; mutating methods are refused). Scopes:
 * the template's top level, a fresh scope per loop iteration (so a set
 * inside a loop does not leak out; namespace() objects carry state
 * out), and per macro call (a macro sees its arguments, varargs and
 * kwargs when it uses them, and the top-level variables at call time;
 * the body of a {% call %} block, called as caller(), sees the scope it
 * is written in). Filters that return generators in jinja2 (select,
 * map, ...) return lists flagged as generators: always true, no len().
 *
 * Limits keep hostile templates in check: all values live in one arena
 * with a byte cap, output is capped, loop iterations and calls are
 * counted, and macro recursion is bounded. Errors name the line.
 */
#include "config.h"	/* _GNU_SOURCE: memmem */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

#define ARENA_LIMIT	(256u * 1024u * 1024u)
#define OUTPUT_DEFAULT	(16u * 1024u * 1024u)
#define STEPS_MAX	2000000L
#define CALL_DEPTH_MAX	100
#define NEST_MAX	3000
#define MACRO_VARARGS	1	/* tnode.op of a macro */
#define MACRO_KWARGS	2

enum { CTL_NONE, CTL_BREAK, CTL_CONTINUE };

struct tval *
terr(struct tinterp *I, int line, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	if (I->failed)
		return NULL;
	I->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(I->e, ERR_TEMPLATE, "template line %d: %s", line, msg);
	return NULL;
}

struct tval *
tnomem(struct tinterp *I)
{
	if (I->failed)
		return NULL;
	I->failed = 1;
	err_set(I->e, ERR_TEMPLATE, "template: out of memory (the "
	    "template needs more than %u MiB)", ARENA_LIMIT >> 20);
	return NULL;
}

struct tval *
tbuf_fail(struct tinterp *I, const struct tbuf *b)
{
	if (b->failed != 2)
		return tnomem(I);
	return terr(I, I->line, "output is larger than the limit of %zu "
	    "bytes", I->max_out);
}

struct tval *
tundef(struct tinterp *I, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	struct tval *v;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	v = tv_new(&I->a, TV_UNDEF);
	if (v == NULL)
		return tnomem(I);
	v->u.s.p = tarena_strndup(&I->a, msg, strlen(msg));
	if (v->u.s.p == NULL)
		return tnomem(I);
	v->u.s.len = strlen(msg);
	return v;
}

struct tval *
tundef_fail(struct tinterp *I, const struct tval *u)
{
	return terr(I, I->line, "%s", u->u.s.p != NULL ? u->u.s.p :
	    "undefined value");
}

struct tval *
tstr(struct tinterp *I, const char *s, size_t n)
{
	struct tval *v = tv_str(&I->a, s, n);

	return v != NULL ? v : tnomem(I);
}

struct tval *
tv_to_str(struct tinterp *I, const struct tval *v)
{
	struct tbuf b = { 0 };
	struct tval *r;

	if (v->kind == TV_STR)
		return (struct tval *)v;
	b.limit = I->max_out;
	if (tv_str_into(&b, v) != 0) {
		tbuf_free(&b);
		return tnomem(I);
	}
	r = tstr(I, b.p ? b.p : "", b.len);
	tbuf_free(&b);
	return r;
}

struct tval *
titems(struct tinterp *I, struct tval *v, int line)
{
	struct tval *l, *c;
	size_t i, st;

	switch (v->kind) {
	case TV_LIST:
		return v;
	case TV_UNDEF:
		l = tv_new(&I->a, TV_LIST);
		return l != NULL ? l : tnomem(I);
	case TV_DICT:
	case TV_NS:
		if ((l = tv_new(&I->a, TV_LIST)) == NULL)
			return tnomem(I);
		for (i = 0; i < v->u.d.n; i++)
			if (tv_list_push(&I->a, l, v->u.d.k[i]) != 0)
				return tnomem(I);
		return l;
	case TV_STR:
		if ((l = tv_new(&I->a, TV_LIST)) == NULL)
			return tnomem(I);
		for (i = 0; i < v->u.s.len;) {
			st = i;
			(void)tv_utf8_next(v->u.s.p, v->u.s.len, &i);
			if ((c = tstr(I, v->u.s.p + st, i - st)) == NULL ||
			    tv_list_push(&I->a, l, c) != 0)
				return tnomem(I);
		}
		return l;
	default:
		return terr(I, line, "'%s' object is not iterable",
		    tv_type_name(v));
	}
}

/* ---- lookup ---- */

static struct tval *
unsafe_fn(struct tinterp *I, struct tval *self, struct tval **args,
    size_t nargs, const char **kwn, struct tval **kwv, size_t nkw)
{
	return terr(I, I->line, "access to attribute '%s' of '%s' object is "
	    "unsafe", self->u.s.p, "builtin");
}

struct tval *
tgetattr(struct tinterp *I, struct tval *obj, const char *name, size_t nlen,
    int line)
{
	struct tval *v, *f, *nm;
	int unsafe = 0;

	I->line = line;
	switch (obj->kind) {
	case TV_UNDEF:
		return tundef_fail(I, obj);
	case TV_NS:
		v = tv_dict_gets(obj, name);
		if (v != NULL)
			return v;
		return tundef(I, "'Namespace' object has no attribute '%s'",
		    name);
	case TV_DICT:
	case TV_STR:
	case TV_LIST:
		v = tbuiltin_method(I, obj, name, &unsafe);
		if (I->failed)
			return NULL;
		if (v != NULL)
			return v;
		if (unsafe) {
			if ((f = tv_new(&I->a, TV_FUNC)) == NULL ||
			    (nm = tstr(I, name, nlen)) == NULL)
				return tnomem(I);
			f->u.fn.fn = unsafe_fn;
			f->u.fn.self = nm;
			f->u.fn.name = nm->u.s.p;
			return f;
		}
		if (obj->kind == TV_DICT) {
			v = tv_dict_gets(obj, name);
			if (v != NULL)
				return v;
			return tundef(I, "'dict object' has no attribute '%s'",
			    name);
		}
		return tundef(I, "'%s object' has no attribute '%s'",
		    tv_type_name(obj), name);
	default:
		return tundef(I, "'%s object' has no attribute '%s'",
		    tv_type_name(obj), name);
	}
}

struct tval *
tgetitem(struct tinterp *I, struct tval *obj, struct tval *key, int line)
{
	struct tval *v;
	int64_t i, n;
	size_t a, b;

	I->line = line;
	if (obj->kind == TV_UNDEF)
		return tundef_fail(I, obj);
	if (obj->kind == TV_DICT || obj->kind == TV_NS) {
		v = tv_dict_get(obj, key);
		if (v != NULL)
			return v;
		if (key->kind == TV_STR)
			return tgetattr(I, obj, key->u.s.p, key->u.s.len, line);
		return tundef(I, "'dict object' has no item");
	}
	if (obj->kind == TV_LIST && (obj->flags & TVF_GEN))
		return tundef(I, "'generator' object is not subscriptable");
	if ((obj->kind == TV_LIST || obj->kind == TV_STR) &&
	    (key->kind == TV_INT || key->kind == TV_BOOL)) {
		i = key->kind == TV_BOOL ? key->u.b : key->u.i;
		n = obj->kind == TV_LIST ? (int64_t)obj->u.l.n :
		    (int64_t)tv_utf8_len(obj->u.s.p, obj->u.s.len);
		if (i < 0)
			i += n;
		if (i < 0 || i >= n)
			return tundef(I, "%s object has no element %lld",
			    tv_type_name(obj), (long long)(key->kind ==
			    TV_BOOL ? key->u.b : key->u.i));
		if (obj->kind == TV_LIST)
			return obj->u.l.v[i];
		a = tv_utf8_off(obj->u.s.p, obj->u.s.len, (size_t)i);
		b = a;
		(void)tv_utf8_next(obj->u.s.p, obj->u.s.len, &b);
		return tstr(I, obj->u.s.p + a, b - a);
	}
	if (key->kind == TV_STR && (obj->kind == TV_LIST ||
	    obj->kind == TV_STR))
		return tgetattr(I, obj, key->u.s.p, key->u.s.len, line);
	return tundef(I, "'%s object' has no item", tv_type_name(obj));
}

/* ---- evaluation ---- */

static struct tval *eval(struct tinterp *I, const struct tnode *n);

static struct tval *
lookup_in(struct tinterp *I, struct tscope *sc, const char *name, int line)
{
	struct tval *v;

	for (; sc != NULL; sc = sc->parent)
		if ((v = tv_dict_gets(sc->vars, name)) != NULL)
			return v;
	if (I->inputs != NULL && (v = tv_dict_gets(I->inputs, name)) != NULL)
		return v;
	if ((v = tbuiltin_global(I, name)) != NULL)
		return v;
	if (I->failed)
		return NULL;
	(void)line;
	return tundef(I, "'%s' is undefined", name);
}

static int
bind(struct tinterp *I, struct tscope *sc, const char *name, struct tval *v)
{
	struct tval *d = sc->vars, *k = NULL, *old;
	size_t n = strlen(name);

	/*
	 * A loop scope is emptied and refilled in the same order each
	 * iteration: reuse the key left in the next free slot.
	 */
	if (d->u.d.n < d->u.d.cap && (old = d->u.d.k[d->u.d.n]) != NULL &&
	    old->kind == TV_STR && old->u.s.len == n &&
	    memcmp(old->u.s.p, name, n) == 0 &&
	    tv_dict_gets(d, name) == NULL)
		k = old;
	if (k == NULL)
		k = tstr(I, name, n);

	if (k == NULL || tv_dict_put(&I->a, sc->vars, k, v) != 0) {
		tnomem(I);
		return -1;
	}
	return 0;
}

static struct tscope *
new_scope(struct tinterp *I, struct tscope *parent)
{
	struct tscope *s = tarena_alloc(&I->a, sizeof *s);

	if (s == NULL || (s->vars = tv_new(&I->a, TV_DICT)) == NULL) {
		tnomem(I);
		return NULL;
	}
	s->parent = parent;
	return s;
}

static int
step(struct tinterp *I, int line)
{
	if (++I->steps > STEPS_MAX) {
		terr(I, line, "template ran too long (more than %ld loop "
		    "iterations and calls)", STEPS_MAX);
		return -1;
	}
	return 0;
}

/* Assign v to target (name, tuple of names, ns.attr) in sc. */
static int
assign(struct tinterp *I, struct tscope *sc, const struct tnode *t,
    struct tval *v)
{
	struct tval *ns, *items, *k;
	size_t i;

	if (t->kind == N_NAME)
		return bind(I, sc, t->name, v);
	if (t->kind == N_ATTR) {
		ns = lookup_in(I, sc, t->a->name, t->line);
		if (ns == NULL)
			return -1;
		if (ns->kind != TV_NS) {
			terr(I, t->line, "can only assign attributes of a "
			    "namespace(), '%s' is a %s", t->a->name,
			    tv_type_name(ns));
			return -1;
		}
		if ((k = tstr(I, t->name, t->nlen)) == NULL ||
		    tv_dict_put(&I->a, ns, k, v) != 0) {
			tnomem(I);
			return -1;
		}
		return 0;
	}
	/* tuple unpacking */
	if (v->kind == TV_UNDEF) {
		tundef_fail(I, v);
		return -1;
	}
	if ((items = titems(I, v, t->line)) == NULL)
		return -1;
	if (items->u.l.n != t->args.n) {
		terr(I, t->line, "%s values to unpack (expected %zu, got %zu)",
		    items->u.l.n > t->args.n ? "too many" : "not enough",
		    t->args.n, items->u.l.n);
		return -1;
	}
	for (i = 0; i < t->args.n; i++)
		if (assign(I, sc, t->args.v[i], items->u.l.v[i]) != 0)
			return -1;
	return 0;
}

static int exec_body(struct tinterp *I, const struct tnlist *body);

/* Run body with output captured into a new string value. */
static struct tval *
capture(struct tinterp *I, const struct tnlist *body)
{
	struct tbuf b = { 0 }, *saved = I->out;
	struct tval *r = NULL;
	size_t live = I->live;
	int rc;

	/* all the buffers being filled at once stay within max_out */
	I->live += saved->len;
	b.limit = I->live < I->max_out ? I->max_out - I->live : 1;
	I->out = &b;
	rc = exec_body(I, body);
	I->out = saved;
	I->live = live;
	if (rc == 0) {
		if (b.failed)
			r = tbuf_fail(I, &b);
		else
			r = tstr(I, b.p ? b.p : "", b.len);
	}
	tbuf_free(&b);
	return r;
}

static struct tval *
call_macro(struct tinterp *I, struct tval *m, struct tval **args,
    size_t nargs, const char **kwn, struct tval **kwv, size_t nkw, int line)
{
	const struct tnode *mn = m->u.m.node;
	struct tscope *sc, *saved;
	struct tval *v, *r, *caller = I->caller;
	size_t i, k;
	int ctl;

	I->caller = NULL;	/* only for this call */

	if (nargs > mn->args.n && !(mn->op & MACRO_VARARGS))
		return terr(I, line, "macro '%s' takes not more than %zu "
		    "argument(s)", mn->name, mn->args.n);
	if (I->depth >= CALL_DEPTH_MAX)
		return terr(I, line, "macro calls nested too deeply (more "
		    "than %d)", CALL_DEPTH_MAX);
	if ((sc = new_scope(I, m->u.m.closure ? m->u.m.closure :
	    I->root)) == NULL)
		return NULL;
	if (caller != NULL && bind(I, sc, "caller", caller) != 0)
		return NULL;
	for (k = 0; k < nkw; k++) {
		for (i = 0; i < mn->args.n; i++)
			if (strcmp(mn->args.v[i]->name, kwn[k]) == 0)
				break;
		if (i == mn->args.n && !(mn->op & MACRO_KWARGS))
			return terr(I, line, "macro '%s' has no argument "
			    "named '%s'", mn->name, kwn[k]);
		if (i < mn->args.n && i < nargs)
			return terr(I, line, "macro '%s' got multiple values "
			    "for argument '%s'", mn->name, kwn[k]);
	}
	saved = I->scope;
	I->scope = sc;
	for (i = 0; i < mn->args.n; i++) {
		v = NULL;
		if (i < nargs)
			v = args[i];
		for (k = 0; v == NULL && k < nkw; k++)
			if (strcmp(mn->args.v[i]->name, kwn[k]) == 0)
				v = kwv[k];
		if (v == NULL && mn->kwv.v[i] != NULL) {
			v = eval(I, mn->kwv.v[i]);
			if (v == NULL) {
				I->scope = saved;
				return NULL;
			}
		}
		if (v == NULL && (v = tundef(I, "parameter '%s' was not "
		    "provided", mn->args.v[i]->name)) == NULL)
			break;
		if (bind(I, sc, mn->args.v[i]->name, v) != 0)
			break;
	}
	/* jinja2's varargs (extra positional) and kwargs (extra keyword) */
	if (!I->failed && (mn->op & MACRO_VARARGS)) {
		if ((v = tv_new(&I->a, TV_LIST)) == NULL)
			tnomem(I);
		else {
			v->flags = TVF_TUPLE;
			for (i = mn->args.n; i < nargs; i++)
				if (tv_list_push(&I->a, v, args[i]) != 0)
					tnomem(I);
			bind(I, sc, "varargs", v);
		}
	}
	if (!I->failed && (mn->op & MACRO_KWARGS)) {
		if ((v = tv_new(&I->a, TV_DICT)) == NULL)
			tnomem(I);
		for (k = 0; v != NULL && k < nkw; k++) {
			for (i = 0; i < mn->args.n; i++)
				if (strcmp(mn->args.v[i]->name, kwn[k]) == 0)
					break;
			if (i == mn->args.n && bind(I, &(struct tscope){ v,
			    NULL }, kwn[k], kwv[k]) != 0)
				break;
		}
		if (v != NULL)
			bind(I, sc, "kwargs", v);
	}
	if (I->failed) {
		I->scope = saved;
		return NULL;
	}
	I->depth++;
	ctl = I->ctl;
	I->ctl = CTL_NONE;
	r = capture(I, &mn->body);
	I->ctl = ctl;
	I->depth--;
	I->scope = saved;
	return r;
}

struct tval *
tcall(struct tinterp *I, struct tval *f, struct tval **args, size_t nargs,
    const char **kwn, struct tval **kwv, size_t nkw, int line)
{
	I->line = line;
	if (step(I, line) != 0)
		return NULL;
	switch (f->kind) {
	case TV_FUNC:
		return f->u.fn.fn(I, f->u.fn.self, args, nargs, kwn, kwv, nkw);
	case TV_MACRO:
		return call_macro(I, f, args, nargs, kwn, kwv, nkw, line);
	case TV_UNDEF:
		return tundef_fail(I, f);
	default:
		return terr(I, line, "'%s' object is not callable",
		    tv_type_name(f));
	}
}

int
tcompare(struct tinterp *I, const struct tval *a, const struct tval *b,
    const char *op, int line, int *bad)
{
	size_t i, n;
	int c;

	*bad = 0;
	if ((a->kind == TV_INT || a->kind == TV_BOOL) &&
	    (b->kind == TV_INT || b->kind == TV_BOOL)) {
		int64_t x = a->kind == TV_BOOL ? a->u.b : a->u.i;
		int64_t y = b->kind == TV_BOOL ? b->u.b : b->u.i;

		return x < y ? -1 : x > y;
	}
	if ((a->kind == TV_INT || a->kind == TV_BOOL || a->kind == TV_FLOAT) &&
	    (b->kind == TV_INT || b->kind == TV_BOOL || b->kind == TV_FLOAT)) {
		double x = a->kind == TV_FLOAT ? a->u.f : a->kind == TV_BOOL ?
		    a->u.b : (double)a->u.i;
		double y = b->kind == TV_FLOAT ? b->u.f : b->kind == TV_BOOL ?
		    b->u.b : (double)b->u.i;

		return x < y ? -1 : x > y;
	}
	if (a->kind == TV_STR && b->kind == TV_STR) {
		n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
		c = memcmp(a->u.s.p, b->u.s.p, n);
		if (c != 0)
			return c < 0 ? -1 : 1;
		return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
	}
	if (a->kind == TV_LIST && b->kind == TV_LIST) {
		for (i = 0; i < a->u.l.n && i < b->u.l.n; i++) {
			if (tv_equal(a->u.l.v[i], b->u.l.v[i]))
				continue;
			return tcompare(I, a->u.l.v[i], b->u.l.v[i], op, line,
			    bad);
		}
		return a->u.l.n < b->u.l.n ? -1 : a->u.l.n > b->u.l.n;
	}
	*bad = 1;
	I->line = line;
	if (a->kind == TV_UNDEF)
		tundef_fail(I, a);
	else if (b->kind == TV_UNDEF)
		tundef_fail(I, b);
	else
		terr(I, line, "'%s' not supported between instances of '%s' "
		    "and '%s'", op, tv_type_name(a), tv_type_name(b));
	return ERR_TEMPLATE;
}

/* Python's "x in container". -1 on error. */
static int
contains(struct tinterp *I, struct tval *x, struct tval *c, int line)
{
	size_t i;

	switch (c->kind) {
	case TV_UNDEF:
		return 0;
	case TV_STR:
		if (x->kind != TV_STR) {
			terr(I, line, "'in <string>' requires string as left "
			    "operand, not %s", tv_type_name(x));
			return -1;
		}
		if (x->u.s.len == 0)
			return 1;
		return memmem(c->u.s.p, c->u.s.len, x->u.s.p,
		    x->u.s.len) != NULL;
	case TV_LIST:
		for (i = 0; i < c->u.l.n; i++)
			if (tv_equal(x, c->u.l.v[i]))
				return 1;
		return 0;
	case TV_DICT:
	case TV_NS:
		return tv_dict_get(c, x) != NULL;
	default:
		terr(I, line, "argument of type '%s' is not iterable",
		    tv_type_name(c));
		return -1;
	}
}

static int
is_int_like(const struct tval *v)
{
	return v->kind == TV_INT || v->kind == TV_BOOL;
}

static int64_t
ival(const struct tval *v)
{
	return v->kind == TV_BOOL ? v->u.b : v->u.i;
}

static double
fval(const struct tval *v)
{
	return v->kind == TV_FLOAT ? v->u.f : (double)ival(v);
}

static int
is_number(const struct tval *v)
{
	return is_int_like(v) || v->kind == TV_FLOAT;
}

/* Markup's escape, for Markup + str. */
static struct tval *
html_escape(struct tinterp *I, const struct tval *s)
{
	struct tbuf b = { 0 };
	struct tval *r;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->u.s.len && rc == 0; i++) {
		switch (s->u.s.p[i]) {
		case '&': rc = tbuf_add(&b, "&amp;", 5); break;
		case '<': rc = tbuf_add(&b, "&lt;", 4); break;
		case '>': rc = tbuf_add(&b, "&gt;", 4); break;
		case '\'': rc = tbuf_add(&b, "&#39;", 5); break;
		case '"': rc = tbuf_add(&b, "&#34;", 5); break;
		default: rc = tbuf_addc(&b, s->u.s.p[i]);
		}
	}
	r = rc == 0 ? tstr(I, b.p ? b.p : "", b.len) : tnomem(I);
	tbuf_free(&b);
	return r;
}

static struct tval *
concat_str(struct tinterp *I, const struct tval *a, const struct tval *b)
{
	struct tval *r;
	char *p;

	if (a->u.s.len + b->u.s.len > I->max_out)
		return terr(I, I->line, "string is larger than the limit "
		    "of %zu bytes", I->max_out);
	if ((r = tv_new(&I->a, TV_STR)) == NULL ||
	    (p = tarena_alloc(&I->a, a->u.s.len + b->u.s.len + 1)) == NULL)
		return tnomem(I);
	memcpy(p, a->u.s.p, a->u.s.len);
	memcpy(p + a->u.s.len, b->u.s.p, b->u.s.len);
	p[a->u.s.len + b->u.s.len] = '\0';
	r->u.s.p = p;
	r->u.s.len = a->u.s.len + b->u.s.len;
	return r;
}

static struct tval *
repeat(struct tinterp *I, struct tval *seq, int64_t k)
{
	struct tval *r;
	size_t i, n;
	int64_t j;

	if (k < 0)
		k = 0;
	n = seq->kind == TV_STR ? seq->u.s.len : seq->u.l.n;
	if (n != 0 && (uint64_t)k > I->max_out / n)
		return terr(I, I->line, "repetition is larger than the limit "
		    "of %zu bytes", I->max_out);
	if (seq->kind == TV_STR) {
		struct tbuf b = { 0 };

		for (j = 0; j < k; j++)
			if (tbuf_add(&b, seq->u.s.p, n) != 0)
				break;
		r = b.failed ? tbuf_fail(I, &b) :
		    tstr(I, b.p ? b.p : "", b.len);
		tbuf_free(&b);
		return r;
	}
	if ((r = tv_new(&I->a, TV_LIST)) == NULL)
		return tnomem(I);
	r->flags = seq->flags & TVF_TUPLE;
	for (j = 0; j < k; j++)
		for (i = 0; i < n; i++)
			if (tv_list_push(&I->a, r, seq->u.l.v[i]) != 0)
				return tnomem(I);
	return r;
}

static const char *const op_sym[] = {
	"", "+", "-", "*", "/", "//", "%", "**", "~",
	"==", "!=", "<", "<=", ">", ">=", "in", "not in"
};

static struct tval *
binop(struct tinterp *I, int op, struct tval *a, struct tval *b, int line)
{
	struct tval *r, *sa, *sb;
	int64_t x, y, z;
	double f, g;
	size_t i;

	I->line = line;
	if (op == OP_CAT) {
		if ((sa = tv_to_str(I, a)) == NULL ||
		    (sb = tv_to_str(I, b)) == NULL)
			return NULL;
		return concat_str(I, sa, sb);
	}
	if (a->kind == TV_UNDEF)
		return tundef_fail(I, a);
	if (b->kind == TV_UNDEF)
		return tundef_fail(I, b);
	if (is_int_like(a) && is_int_like(b)) {
		x = ival(a);
		y = ival(b);
		switch (op) {
		case OP_ADD:
			if (__builtin_add_overflow(x, y, &z))
				goto overflow;
			return tv_int(&I->a, z) ?: tnomem(I);
		case OP_SUB:
			if (__builtin_sub_overflow(x, y, &z))
				goto overflow;
			return tv_int(&I->a, z) ?: tnomem(I);
		case OP_MUL:
			if (__builtin_mul_overflow(x, y, &z))
				goto overflow;
			return tv_int(&I->a, z) ?: tnomem(I);
		case OP_DIV:
			if (y == 0)
				return terr(I, line, "division by zero");
			return tv_float(&I->a, (double)x / (double)y) ?:
			    tnomem(I);
		case OP_FDIV:
		case OP_MOD:
			if (y == 0)
				return terr(I, line, "integer division or "
				    "modulo by zero");
			if (x == INT64_MIN && y == -1)
				goto overflow;
			z = x / y;
			if ((x % y != 0) && ((x < 0) != (y < 0)))
				z--;
			if (op == OP_FDIV)
				return tv_int(&I->a, z) ?: tnomem(I);
			return tv_int(&I->a, x - z * y) ?: tnomem(I);
		case OP_POW:
			if (y < 0)
				return tv_float(&I->a, pow((double)x,
				    (double)y)) ?: tnomem(I);
			z = 1;
			while (y-- > 0)
				if (__builtin_mul_overflow(z, x, &z))
					goto overflow;
			return tv_int(&I->a, z) ?: tnomem(I);
		}
	}
	if (is_number(a) && is_number(b)) {
		f = fval(a);
		g = fval(b);
		switch (op) {
		case OP_ADD: return tv_float(&I->a, f + g) ?: tnomem(I);
		case OP_SUB: return tv_float(&I->a, f - g) ?: tnomem(I);
		case OP_MUL: return tv_float(&I->a, f * g) ?: tnomem(I);
		case OP_DIV:
			if (g == 0)
				return terr(I, line, "float division by zero");
			return tv_float(&I->a, f / g) ?: tnomem(I);
		case OP_FDIV:
		case OP_MOD:
			if (g == 0)
				return terr(I, line, "float modulo");
			if (op == OP_FDIV)
				return tv_float(&I->a, floor(f / g)) ?:
				    tnomem(I);
			f = fmod(f, g);
			if (f != 0 && ((f < 0) != (g < 0)))
				f += g;
			return tv_float(&I->a, f) ?: tnomem(I);
		case OP_POW:
			return tv_float(&I->a, pow(f, g)) ?: tnomem(I);
		}
	}
	if (op == OP_ADD && a->kind == TV_STR && b->kind == TV_STR) {
		if ((a->flags ^ b->flags) & TVF_SAFE) {
			if (!(a->flags & TVF_SAFE))
				a = html_escape(I, a);
			else
				b = html_escape(I, b);
			if (a == NULL || b == NULL)
				return NULL;
		}
		r = concat_str(I, a, b);
		if (r != NULL && ((a->flags | b->flags) & TVF_SAFE))
			r->flags |= TVF_SAFE;
		return r;
	}
	if (op == OP_ADD && a->kind == TV_LIST && b->kind == TV_LIST &&
	    (a->flags & TVF_TUPLE) == (b->flags & TVF_TUPLE) &&
	    !((a->flags | b->flags) & TVF_GEN)) {
		if ((r = tv_new(&I->a, TV_LIST)) == NULL)
			return tnomem(I);
		r->flags = a->flags & TVF_TUPLE;
		for (i = 0; i < a->u.l.n; i++)
			if (tv_list_push(&I->a, r, a->u.l.v[i]) != 0)
				return tnomem(I);
		for (i = 0; i < b->u.l.n; i++)
			if (tv_list_push(&I->a, r, b->u.l.v[i]) != 0)
				return tnomem(I);
		return r;
	}
	if (op == OP_MUL && (a->kind == TV_STR || (a->kind == TV_LIST &&
	    !(a->flags & TVF_GEN))) && is_int_like(b))
		return repeat(I, a, ival(b));
	if (op == OP_MUL && (b->kind == TV_STR || (b->kind == TV_LIST &&
	    !(b->flags & TVF_GEN))) && is_int_like(a))
		return repeat(I, b, ival(a));
	if (op == OP_MOD && a->kind == TV_STR)
		return tbuiltin_percent(I, a, b, line);
	if (op == OP_ADD && a->kind == TV_STR)
		return terr(I, line, "can only concatenate str (not \"%s\") "
		    "to str", tv_type_name(b));
	return terr(I, line, "unsupported operand type(s) for %s: '%s' and "
	    "'%s'", op_sym[op], tv_type_name(a), tv_type_name(b));
overflow:
	return terr(I, line, "integer overflow in '%s'", op_sym[op]);
}

/* Resolve a Python slice over n items into start/step/count. */
static int
slice_bounds(struct tinterp *I, const struct tnode *n, int64_t len,
    int64_t *start, int64_t *stepp, int64_t *count)
{
	struct tval *v[3] = { NULL, NULL, NULL };
	const struct tnode *parts[3] = { n->b, n->c, n->d };
	int64_t st, sp, lo, hi, k;
	int i;

	for (i = 0; i < 3; i++) {
		if (parts[i] == NULL)
			continue;
		if ((v[i] = eval(I, parts[i])) == NULL)
			return -1;
		if (v[i]->kind == TV_NONE) {
			v[i] = NULL;
			continue;
		}
		if (!is_int_like(v[i])) {
			terr(I, n->line, "slice indices must be integers or "
			    "None, not %s", tv_type_name(v[i]));
			return -1;
		}
	}
	sp = v[2] ? ival(v[2]) : 1;
	if (sp == 0) {
		terr(I, n->line, "slice step cannot be zero");
		return -1;
	}
	if (sp > 0) {
		lo = v[0] ? ival(v[0]) : 0;
		hi = v[1] ? ival(v[1]) : len;
		if (lo < 0 && (lo += len) < 0)
			lo = 0;
		if (lo > len)
			lo = len;
		if (hi < 0 && (hi += len) < 0)
			hi = 0;
		if (hi > len)
			hi = len;
		k = hi > lo ? (hi - lo + sp - 1) / sp : 0;
		st = lo;
	} else {
		lo = v[0] ? ival(v[0]) : len - 1;
		hi = v[1] ? ival(v[1]) : -1 - len;
		if (lo < 0 && (lo += len) < 0)
			lo = -1;
		if (lo >= len)
			lo = len - 1;
		if (hi < 0 && (hi += len) < 0)
			hi = -1;
		if (hi >= len)
			hi = len - 1;
		k = lo > hi ? (lo - hi + (-sp) - 1) / (-sp) : 0;
		st = lo;
	}
	*start = st;
	*stepp = sp;
	*count = k;
	return 0;
}

static struct tval *
eval_slice(struct tinterp *I, const struct tnode *n)
{
	struct tval *obj, *r;
	int64_t len, st, sp, k, j;
	size_t *offs = NULL, i, m;
	struct tbuf b = { 0 };

	if ((obj = eval(I, n->a)) == NULL)
		return NULL;
	I->line = n->line;
	if (obj->kind == TV_UNDEF)
		return tundef_fail(I, obj);
	if (obj->kind == TV_LIST && (obj->flags & TVF_GEN))
		return terr(I, n->line, "'generator' object is not "
		    "subscriptable");
	if (obj->kind == TV_LIST) {
		if (slice_bounds(I, n, (int64_t)obj->u.l.n, &st, &sp, &k) != 0)
			return NULL;
		if ((r = tv_new(&I->a, TV_LIST)) == NULL)
			return tnomem(I);
		r->flags = obj->flags & TVF_TUPLE;
		for (j = 0; j < k; j++)
			if (tv_list_push(&I->a, r,
			    obj->u.l.v[st + j * sp]) != 0)
				return tnomem(I);
		return r;
	}
	if (obj->kind != TV_STR)	/* jinja2 slices with Python's [] */
		return terr(I, n->line, "'%s' object is not subscriptable",
		    tv_type_name(obj));
	/* code point offsets */
	m = tv_utf8_len(obj->u.s.p, obj->u.s.len);
	len = (int64_t)m;
	if (slice_bounds(I, n, len, &st, &sp, &k) != 0)
		return NULL;
	if (m == obj->u.s.len && sp == 1)
		return tstr(I, obj->u.s.p + st, (size_t)k);
	offs = malloc((m + 1) * sizeof *offs);
	if (offs == NULL)
		return tnomem(I);
	for (i = 0, m = 0; i < obj->u.s.len; m++) {
		offs[m] = i;
		(void)tv_utf8_next(obj->u.s.p, obj->u.s.len, &i);
	}
	offs[m] = obj->u.s.len;
	for (j = 0; j < k; j++) {
		int64_t c = st + j * sp;

		if (tbuf_add(&b, obj->u.s.p + offs[c], offs[c + 1] -
		    offs[c]) != 0)
			break;
	}
	free(offs);
	r = b.failed ? tbuf_fail(I, &b) : tstr(I, b.p ? b.p : "", b.len);
	tbuf_free(&b);
	return r;
}

/* Evaluate a call's arguments into arena arrays. */
static int
eval_args(struct tinterp *I, const struct tnode *n, struct tval ***args,
    struct tval ***kwv)
{
	size_t i;

	*args = tarena_alloc(&I->a, (n->args.n + 1) * sizeof **args);
	*kwv = tarena_alloc(&I->a, (n->kwv.n + 1) * sizeof **kwv);
	if (*args == NULL || *kwv == NULL) {
		tnomem(I);
		return -1;
	}
	for (i = 0; i < n->args.n; i++)
		if (((*args)[i] = eval(I, n->args.v[i])) == NULL)
			return -1;
	for (i = 0; i < n->kwv.n; i++)
		if (((*kwv)[i] = eval(I, n->kwv.v[i])) == NULL)
			return -1;
	return 0;
}

static struct tval *
apply_filter(struct tinterp *I, const struct tnode *n, struct tval *v)
{
	struct tval **args, **kwv;
	tfilter_fn f = tbuiltin_filter(n->name);

	if (f == NULL)
		return terr(I, n->line, "no filter named '%s'", n->name);
	if (eval_args(I, n, &args, &kwv) != 0)
		return NULL;
	I->line = n->line;
	return f(I, v, args, n->args.n, n->kwn, kwv, n->kwv.n, n->line);
}

/* Apply a chain of filter nodes whose innermost input is NULL. */
static struct tval *
apply_chain(struct tinterp *I, const struct tnode *n, struct tval *v)
{
	if (n == NULL)
		return v;
	if ((v = apply_chain(I, n->a, v)) == NULL)
		return NULL;
	return apply_filter(I, n, v);
}

static struct tval *
eval_node(struct tinterp *I, const struct tnode *n)
{
	struct tval *a, *b, *r, **args, **kwv;
	size_t i;
	int t, bad, c;

	if (I->failed)
		return NULL;
	switch (n->kind) {
	case N_CONST:
		return n->val;
	case N_NAME:
		return lookup_in(I, I->scope, n->name, n->line);
	case N_ATTR:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		return tgetattr(I, a, n->name, n->nlen, n->line);
	case N_ITEM:
		if ((a = eval(I, n->a)) == NULL || (b = eval(I, n->b)) == NULL)
			return NULL;
		return tgetitem(I, a, b, n->line);
	case N_SLICE:
		return eval_slice(I, n);
	case N_CALL:
		if ((a = eval(I, n->a)) == NULL ||
		    eval_args(I, n, &args, &kwv) != 0)
			return NULL;
		return tcall(I, a, args, n->args.n, n->kwn, kwv, n->kwv.n,
		    n->line);
	case N_FILTER:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		return apply_filter(I, n, a);
	case N_TEST: {
		const struct ttest *f = tbuiltin_test(n->name);

		if (f == NULL)
			return terr(I, n->line, "no test named '%s'", n->name);
		if ((a = eval(I, n->a)) == NULL ||
		    eval_args(I, n, &args, &kwv) != 0)
			return NULL;
		I->line = n->line;
		t = f->fn(I, a, args, n->args.n, n->line, f->arg);
		if (t < 0)
			return NULL;
		return tv_bool(&I->a, n->op ? !t : t) ?: tnomem(I);
	}
	case N_BINOP:
		if ((a = eval(I, n->a)) == NULL || (b = eval(I, n->b)) == NULL)
			return NULL;
		return binop(I, n->op, a, b, n->line);
	case N_NEG:
	case N_POS:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		I->line = n->line;
		if (a->kind == TV_UNDEF)
			return tundef_fail(I, a);
		if (is_int_like(a)) {
			if (n->kind == N_POS)
				return tv_int(&I->a, ival(a)) ?: tnomem(I);
			if (ival(a) == INT64_MIN)
				return terr(I, n->line, "integer overflow");
			return tv_int(&I->a, -ival(a)) ?: tnomem(I);
		}
		if (a->kind == TV_FLOAT)
			return tv_float(&I->a, n->kind == N_NEG ? -a->u.f :
			    a->u.f) ?: tnomem(I);
		return terr(I, n->line, "bad operand type for unary %s: '%s'",
		    n->kind == N_NEG ? "-" : "+", tv_type_name(a));
	case N_NOT:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		return tv_bool(&I->a, !tv_truthy(a)) ?: tnomem(I);
	case N_AND:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		return !tv_truthy(a) ? a : eval(I, n->b);
	case N_OR:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		return tv_truthy(a) ? a : eval(I, n->b);
	case N_CMP:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		for (i = 0; i < n->args.n; i++) {
			if ((b = eval(I, n->args.v[i])) == NULL)
				return NULL;
			switch (n->ops[i]) {
			case OP_EQ: t = tv_equal(a, b); break;
			case OP_NE: t = !tv_equal(a, b); break;
			case OP_IN:
			case OP_NOTIN:
				if ((t = contains(I, a, b, n->line)) < 0)
					return NULL;
				if (n->ops[i] == OP_NOTIN)
					t = !t;
				break;
			default:
				c = tcompare(I, a, b, op_sym[n->ops[i]],
				    n->line, &bad);
				if (bad)
					return NULL;
				t = n->ops[i] == OP_LT ? c < 0 :
				    n->ops[i] == OP_LE ? c <= 0 :
				    n->ops[i] == OP_GT ? c > 0 : c >= 0;
			}
			if (!t)
				return tv_bool(&I->a, 0) ?: tnomem(I);
			a = b;
		}
		return tv_bool(&I->a, 1) ?: tnomem(I);
	case N_COND:
		if ((a = eval(I, n->a)) == NULL)
			return NULL;
		if (tv_truthy(a))
			return eval(I, n->b);
		if (n->c != NULL)
			return eval(I, n->c);
		return tundef(I, "the inline if-expression evaluated to "
		    "false and no else section was defined.");
	case N_LIST:
	case N_TUPLE:
		if ((r = tv_new(&I->a, TV_LIST)) == NULL)
			return tnomem(I);
		if (n->kind == N_TUPLE)
			r->flags = TVF_TUPLE;
		for (i = 0; i < n->args.n; i++) {
			if ((a = eval(I, n->args.v[i])) == NULL)
				return NULL;
			if (tv_list_push(&I->a, r, a) != 0)
				return tnomem(I);
		}
		return r;
	case N_DICT:
		if ((r = tv_new(&I->a, TV_DICT)) == NULL)
			return tnomem(I);
		for (i = 0; i + 1 < n->args.n; i += 2) {
			if ((a = eval(I, n->args.v[i])) == NULL ||
			    (b = eval(I, n->args.v[i + 1])) == NULL)
				return NULL;
			if (a->kind == TV_LIST || a->kind == TV_DICT ||
			    a->kind == TV_NS || a->kind == TV_UNDEF)
				return terr(I, n->line, "unhashable type: '%s'",
				    tv_type_name(a));
			if (tv_dict_put(&I->a, r, a, b) != 0)
				return tnomem(I);
		}
		return r;
	default:
		return terr(I, n->line, "statement used as an expression");
	}
}

/*
 * Evaluation and execution recurse over the tree and through macro
 * calls; the total depth is bounded so no template can exhaust the
 * C stack.
 */
static int
deeper(struct tinterp *I, int line)
{
	if (++I->nest > NEST_MAX) {
		I->nest--;
		terr(I, line, "template nested too deeply (expressions, "
		    "blocks and macro calls more than %d deep)", NEST_MAX);
		return -1;
	}
	return 0;
}

static struct tval *
eval(struct tinterp *I, const struct tnode *n)
{
	struct tval *v;

	if (deeper(I, n->line) != 0)
		return NULL;
	v = eval_node(I, n);
	I->nest--;
	return v;
}

/* ---- statements ---- */

static int exec_node(struct tinterp *I, const struct tnode *n);

static int
exec_body(struct tinterp *I, const struct tnlist *body)
{
	size_t i;

	for (i = 0; i < body->n; i++) {
		if (exec_node(I, body->v[i]) != 0)
			return -1;
		if (I->ctl != CTL_NONE)
			return 0;
	}
	return 0;
}

static int
out_val(struct tinterp *I, const struct tval *v)
{
	if (tv_str_into(I->out, v) != 0) {
		tbuf_fail(I, I->out);
		return -1;
	}
	return 0;
}

static int
loop_fn_cycle_check(struct tinterp *I, size_t nargs, int line)
{
	if (nargs == 0) {
		terr(I, line, "no items for cycling given");
		return -1;
	}
	return 0;
}

static struct tval *
loop_cycle(struct tinterp *I, struct tval *self, struct tval **args,
    size_t nargs, const char **kwn, struct tval **kwv, size_t nkw)
{
	struct tval *i0 = tv_dict_gets(self, "index0");

	if (loop_fn_cycle_check(I, nargs, I->line) != 0)
		return NULL;
	return args[(size_t)i0->u.i % nargs];
}

static int
exec_for(struct tinterp *I, const struct tnode *n)
{
	struct tscope *outer = I->scope, *sc;
	struct tval *it, *items, *loop, *f, *x;
	struct tval *keys[12];
	static const char *const kn[12] = {
		"index", "index0", "revindex", "revindex0", "first", "last",
		"length", "previtem", "nextitem", "depth", "depth0", "cycle"
	};
	size_t i, len;
	int rc = 0, k;

	if ((it = eval(I, n->a)) == NULL)
		return -1;
	I->line = n->line;
	if (it->kind == TV_NONE)
		return terr(I, n->line, "'NoneType' object is not iterable"),
		    -1;
	if ((items = titems(I, it, n->line)) == NULL)
		return -1;
	if ((sc = new_scope(I, outer)) == NULL)
		return -1;
	if (n->b != NULL) {	/* for x in y if cond */
		struct tval *flt = tv_new(&I->a, TV_LIST);

		if (flt == NULL)
			return tnomem(I), -1;
		for (i = 0; i < items->u.l.n; i++) {
			sc->vars->u.d.n = 0;
			if (step(I, n->line) != 0 ||
			    assign(I, sc, n->c, items->u.l.v[i]) != 0)
				return -1;
			I->scope = sc;
			x = eval(I, n->b);
			I->scope = outer;
			if (x == NULL)
				return -1;
			if (tv_truthy(x) &&
			    tv_list_push(&I->a, flt, items->u.l.v[i]) != 0)
				return tnomem(I), -1;
		}
		items = flt;
	}
	len = items->u.l.n;
	if (len == 0) {
		if (n->ebody.n == 0)
			return 0;
		sc->vars->u.d.n = 0;
		I->scope = sc;
		rc = exec_body(I, &n->ebody);
		I->scope = outer;
		return rc;
	}
	if (n->op)	/* the body uses loop */
		for (k = 0; k < 12; k++)
			if ((keys[k] = tstr(I, kn[k], strlen(kn[k]))) == NULL)
				return -1;
	/*
	 * One scope serves every iteration: emptied each time (nothing
	 * else can hold a scope, so this is the same as a fresh one).
	 */
	for (i = 0; i < len && rc == 0; i++) {
		struct tval *vals[12];

		if (step(I, n->line) != 0)
			return -1;
		sc->vars->u.d.n = 0;
		if (assign(I, sc, n->c, items->u.l.v[i]) != 0)
			return -1;
		if (n->op) {
			if ((loop = tv_new(&I->a, TV_DICT)) == NULL ||
			    (f = tv_new(&I->a, TV_FUNC)) == NULL)
				return tnomem(I), -1;
			vals[0] = tv_int(&I->a, (int64_t)i + 1);
			vals[1] = tv_int(&I->a, (int64_t)i);
			vals[2] = tv_int(&I->a, (int64_t)(len - i));
			vals[3] = tv_int(&I->a, (int64_t)(len - i - 1));
			vals[4] = tv_bool(&I->a, i == 0);
			vals[5] = tv_bool(&I->a, i + 1 == len);
			vals[6] = tv_int(&I->a, (int64_t)len);
			vals[7] = i > 0 ? items->u.l.v[i - 1] :
			    tundef(I, "there is no previous item");
			vals[8] = i + 1 < len ? items->u.l.v[i + 1] :
			    tundef(I, "there is no next item");
			vals[9] = tv_int(&I->a, 1);
			vals[10] = tv_int(&I->a, 0);
			f->u.fn.fn = loop_cycle;
			f->u.fn.self = loop;
			f->u.fn.name = "cycle";
			vals[11] = f;
			for (k = 0; k < 12; k++)
				if (vals[k] == NULL || tv_dict_put(&I->a, loop,
				    keys[k], vals[k]) != 0)
					return tnomem(I), -1;
			if (bind(I, sc, "loop", loop) != 0)
				return -1;
		}
		I->scope = sc;
		rc = exec_body(I, &n->body);
		I->scope = outer;
		if (I->ctl == CTL_BREAK) {
			I->ctl = CTL_NONE;
			break;
		}
		I->ctl = CTL_NONE;
	}
	return rc;
}

static int exec_node_(struct tinterp *I, const struct tnode *n);

static int
exec_node(struct tinterp *I, const struct tnode *n)
{
	int rc;

	if (deeper(I, n->line) != 0)
		return -1;
	rc = exec_node_(I, n);
	I->nest--;
	return rc;
}

static int
exec_node_(struct tinterp *I, const struct tnode *n)
{
	struct tval *v, *m;
	struct tscope *outer, *sc;
	int rc;

	if (I->failed)
		return -1;
	switch (n->kind) {
	case N_TEXT:
		if (tbuf_add(I->out, n->name, n->nlen) != 0)
			return tbuf_fail(I, I->out), -1;
		return 0;
	case N_OUT:
		if ((v = eval(I, n->a)) == NULL)
			return -1;
		return out_val(I, v);
	case N_IF:
		if ((v = eval(I, n->a)) == NULL)
			return -1;
		return exec_body(I, tv_truthy(v) ? &n->body : &n->ebody);
	case N_FOR:
		return exec_for(I, n);
	case N_SET:
		if ((v = eval(I, n->a)) == NULL)
			return -1;
		return assign(I, I->scope, n->c, v);
	case N_SETBLOCK:
		if ((v = capture(I, &n->body)) == NULL ||
		    (v = apply_chain(I, n->a, v)) == NULL)
			return -1;
		return assign(I, I->scope, n->c, v);
	case N_MACRO:
		if ((m = tv_new(&I->a, TV_MACRO)) == NULL)
			return tnomem(I), -1;
		m->u.m.node = n;
		return bind(I, I->scope, n->name, m);
	case N_CALLBLK: {
		/* the body is caller(), seeing the scope it is written in */
		struct tval *f, **args, **kwv;

		if ((m = tv_new(&I->a, TV_MACRO)) == NULL)
			return tnomem(I), -1;
		m->u.m.node = n;
		m->u.m.closure = I->scope;
		if ((f = eval(I, n->a->a)) == NULL ||
		    eval_args(I, n->a, &args, &kwv) != 0)
			return -1;
		if (f->kind != TV_MACRO)
			return terr(I, n->line, "{%% call %%} needs a macro, "
			    "not %s", tv_type_name(f)), -1;
		I->caller = m;
		v = tcall(I, f, args, n->a->args.n, n->a->kwn, kwv,
		    n->a->kwv.n, n->line);
		I->caller = NULL;
		if (v == NULL)
			return -1;
		return out_val(I, v);
	}
	case N_BREAK:
		I->ctl = CTL_BREAK;
		return 0;
	case N_CONTINUE:
		I->ctl = CTL_CONTINUE;
		return 0;
	case N_FILTERBLK:
		if ((v = capture(I, &n->body)) == NULL ||
		    (v = apply_chain(I, n->a, v)) == NULL)
			return -1;
		return out_val(I, v);
	case N_BODY:
		if (!n->op)
			return exec_body(I, &n->body);
		outer = I->scope;
		if ((sc = new_scope(I, outer)) == NULL)
			return -1;
		for (size_t i = 0; i < n->args.n; i++) {
			I->scope = outer;
			if ((v = eval(I, n->args.v[i]->a)) == NULL)
				return -1;
			if (assign(I, sc, n->args.v[i]->c, v) != 0)
				return -1;
		}
		I->scope = sc;
		rc = exec_body(I, &n->body);
		I->scope = outer;
		return rc;
	default:
		terr(I, n->line, "expression used as a statement");
		return -1;
	}
}

/* ---- compile-time checks ---- */

static int check_list(const struct tnlist *l, int in_loop, struct err *e);

static int mentions_list(const struct tnlist *l, const char *name);

/* Does the subtree read the variable name (not counting macros)? */
static int
mentions(const struct tnode *n, const char *name)
{
	if (n == NULL)
		return 0;
	if (n->kind == N_NAME && strcmp(n->name, name) == 0)
		return 1;
	if (n->kind == N_MACRO)
		return 0;
	return mentions(n->a, name) || mentions(n->b, name) ||
	    mentions(n->c, name) || mentions(n->d, name) ||
	    mentions_list(&n->args, name) || mentions_list(&n->kwv, name) ||
	    mentions_list(&n->body, name) || mentions_list(&n->ebody, name);
}

static int
mentions_list(const struct tnlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (mentions(l->v[i], name))
			return 1;
	return 0;
}

static int
check_node(const struct tnode *n, int in_loop, struct err *e)
{
	if (n == NULL)
		return 0;
	if (n->kind == N_FILTER && tbuiltin_filter(n->name) == NULL)
		return err_set(e, ERR_TEMPLATE, "template line %d: no filter "
		    "named '%s'", n->line, n->name);
	if (n->kind == N_TEST && tbuiltin_test(n->name) == NULL)
		return err_set(e, ERR_TEMPLATE, "template line %d: no test "
		    "named '%s'", n->line, n->name);
	if ((n->kind == N_BREAK || n->kind == N_CONTINUE) && !in_loop)
		return err_set(e, ERR_TEMPLATE, "template line %d: '%s' "
		    "outside of a loop", n->line, n->kind == N_BREAK ?
		    "break" : "continue");
	if (n->kind == N_MACRO || n->kind == N_CALLBLK)
		in_loop = 0;
	if (n->kind == N_FOR)
		((struct tnode *)n)->op = mentions_list(&n->body, "loop") ||
		    mentions_list(&n->ebody, "loop");
	if (n->kind == N_MACRO || n->kind == N_CALLBLK)	/* *args, **kw */
		((struct tnode *)n)->op =
		    (mentions_list(&n->body, "varargs") ? MACRO_VARARGS : 0) |
		    (mentions_list(&n->body, "kwargs") ? MACRO_KWARGS : 0);
	if (check_node(n->a, in_loop, e) != 0 ||
	    check_node(n->b, in_loop, e) != 0 ||
	    check_node(n->c, in_loop, e) != 0 ||
	    check_node(n->d, in_loop, e) != 0 ||
	    check_list(&n->args, in_loop, e) != 0 ||
	    check_list(&n->kwv, in_loop, e) != 0 ||
	    check_list(&n->body, in_loop || n->kind == N_FOR, e) != 0 ||
	    check_list(&n->ebody, in_loop, e) != 0)
		return ERR_TEMPLATE;
	return 0;
}

static int
check_list(const struct tnlist *l, int in_loop, struct err *e)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (check_node(l->v[i], in_loop, e) != 0)
			return ERR_TEMPLATE;
	return 0;
}

/* ---- public API ---- */

int
tokenizer_template_compile(const char *src, size_t len,
    struct tokenizer_template **out, struct err *e)
{
	struct tokenizer_template *t;
	int rc;

	*out = NULL;
	if (!util_utf8_valid(src, len))
		return err_set(e, ERR_TEMPLATE, "template: not valid UTF-8");
	if ((t = calloc(1, sizeof *t)) == NULL)
		return err_set(e, ERR_NOMEM, "template: out of memory");
	tarena_init(&t->arena, ARENA_LIMIT);
	if ((rc = tparse_template(t, src, len, e)) != 0 ||
	    (rc = check_list(&t->body, 0, e)) != 0) {
		tokenizer_template_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void
tokenizer_template_free(struct tokenizer_template *t)
{
	if (t == NULL)
		return;
	tarena_fini(&t->arena);
	free(t);
}

int
tokenizer_template_render_vars(const struct tokenizer_template *t,
    struct tokenizer_tvars *vars, const struct tokenizer_template_opts *opts,
    char **out, size_t *len, struct err *e)
{
	static const struct tokenizer_template_opts zero;
	struct tinterp I;
	struct tbuf b = { 0 };
	struct tscope root;
	struct tval *v;
	const char *s;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (opts == NULL)
		opts = &zero;
	memset(&I, 0, sizeof I);
	tarena_init(&I.a, ARENA_LIMIT);
	I.e = e;
	I.max_out = opts->max_output ? opts->max_output : OUTPUT_DEFAULT;
	I.now = opts->now ? opts->now : time(NULL);
	I.inputs = vars != NULL ? vars->vars : NULL;
	b.limit = I.max_out;
	I.out = &b;
	root.parent = NULL;
	root.vars = tv_new(&I.a, TV_DICT);
	if (root.vars == NULL) {
		tarena_fini(&I.a);
		return err_set(e, ERR_NOMEM, "template: out of memory");
	}
	I.root = &root;
	I.scope = &root;
	/* bos_token, eos_token, add_generation_prompt unless given */
	s = opts->bos_token ? opts->bos_token : "";
	if ((I.inputs == NULL || !tv_dict_gets(I.inputs, "bos_token")) &&
	    ((v = tstr(&I, s, strlen(s))) == NULL ||
	    bind(&I, &root, "bos_token", v) != 0))
		rc = -1;
	s = opts->eos_token ? opts->eos_token : "";
	if (rc == 0 && (I.inputs == NULL ||
	    !tv_dict_gets(I.inputs, "eos_token")) &&
	    ((v = tstr(&I, s, strlen(s))) == NULL ||
	    bind(&I, &root, "eos_token", v) != 0))
		rc = -1;
	if (rc == 0 && (I.inputs == NULL ||
	    !tv_dict_gets(I.inputs, "add_generation_prompt")) &&
	    ((v = tv_bool(&I.a, opts->add_generation_prompt)) == NULL ||
	    bind(&I, &root, "add_generation_prompt", v) != 0))
		rc = -1;
	if (rc == 0)
		rc = exec_body(&I, &t->body);
	if (rc == 0 && b.failed) {
		tbuf_fail(&I, &b);
		rc = -1;
	}
	tarena_fini(&I.a);
	if (rc != 0) {
		tbuf_free(&b);
		if (e != NULL && e->code == 0)
			err_set(e, ERR_TEMPLATE, "template: render failed");
		return e != NULL ? e->code : ERR_TEMPLATE;
	}
	if (b.p == NULL && tbuf_add(&b, "", 0) != 0)
		return err_set(e, ERR_NOMEM, "template: out of memory");
	*out = b.p;
	*len = b.len;
	return 0;
}

int
tokenizer_template_render_msgs(const struct tokenizer_template *t,
    const struct tokenizer_chat_msg *msgs, size_t n,
    const struct tokenizer_template_opts *opts, char **out, size_t *len,
    struct err *e)
{
	struct tokenizer_tvars *v;
	struct tokenizer_tval *list, *m;
	size_t i;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if ((v = tokenizer_tvars_new()) == NULL)
		return err_set(e, ERR_NOMEM, "template: out of memory");
	list = tokenizer_tvars_list(v);
	for (i = 0; i < n && rc == 0; i++) {
		const char *c = msgs[i].content ? msgs[i].content : "";
		const char *r = msgs[i].role ? msgs[i].role : "";

		m = tokenizer_tvars_dict(v);
		rc = tokenizer_tvars_put(v, m, "role",
		    tokenizer_tvars_str(v, r, strlen(r)));
		if (rc == 0)
			rc = tokenizer_tvars_put(v, m, "content",
			    tokenizer_tvars_str(v, c, strlen(c)));
		if (rc == 0)
			rc = tokenizer_tvars_append(v, list, m);
	}
	if (rc == 0)
		rc = tokenizer_tvars_set(v, "messages", list);
	if (rc != 0)
		rc = err_set(e, ERR_USAGE, "template: message %zu is not "
		    "valid UTF-8 (or out of memory)", i);
	else
		rc = tokenizer_template_render_vars(t, v, opts, out, len, e);
	tokenizer_tvars_free(v);
	return rc;
}

int
tokenizer_template_render(const char *tmpl,
    const struct tokenizer_chat_msg *msgs, size_t n,
    const struct tokenizer_template_opts *opts, char **out, size_t *len,
    struct err *e)
{
	struct tokenizer_template *t;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = tokenizer_template_compile(tmpl, strlen(tmpl), &t, e)) != 0)
		return rc;
	rc = tokenizer_template_render_msgs(t, msgs, n, opts, out, len, e);
	tokenizer_template_free(t);
	return rc;
}

static const char chatml[] =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}";

const char *const tokenizer_template_builtin_names[] = { "chatml", NULL };

const char *
tokenizer_template_builtin(const char *name)
{
	if (strcmp(name, "chatml") == 0)
		return chatml;
	return NULL;
}
