/*
 * tokenizer-int.h - private to the tokenizer room: the chat-template
 * interpreter's value model and the arena its values live in.
 */
#ifndef MOESCOPE_TOKENIZER_INT_H
#define MOESCOPE_TOKENIZER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tokenizer/tokenizer.h"

/*
 * An arena: values are bump-allocated and freed all at once. A limit on
 * the bytes it may hold bounds what a hostile template can take.
 */
struct tarena {
	struct tchunk	*head;
	size_t		 total;		/* bytes in all chunks */
	size_t		 limit;		/* 0: none */
	int		 failed;	/* an allocation was refused */
};

void tarena_init(struct tarena *a, size_t limit);
void tarena_fini(struct tarena *a);
void *tarena_alloc(struct tarena *a, size_t n);
void *tarena_grow(struct tarena *a, void *p, size_t old, size_t n);
char *tarena_strndup(struct tarena *a, const char *s, size_t n);

enum tv_kind {
	TV_UNDEF,	/* jinja2 Undefined; u.s holds its name/message */
	TV_NONE,
	TV_BOOL,
	TV_INT,
	TV_FLOAT,
	TV_STR,
	TV_LIST,	/* also tuples (TVF_TUPLE) */
	TV_DICT,
	TV_NS,		/* namespace(): a dict whose items are attributes */
	TV_FUNC,	/* a built-in function or bound method */
	TV_MACRO	/* a {% macro %} */
};

#define TVF_SAFE	1u	/* a Markup string (|safe) */
#define TVF_TUPLE	2u	/* a list that is a tuple */

struct tinterp;
struct tval;
struct tnode;

/* A built-in callable: positional args, keyword args (names, values). */
typedef struct tval *(*tv_fn)(struct tinterp *I, struct tval *self,
    struct tval **args, size_t nargs, const char **kwn, struct tval **kwv,
    size_t nkw);

struct tval {
	enum tv_kind	 kind;
	unsigned	 flags;
	union {
		int		 b;
		int64_t		 i;
		double		 f;
		struct {
			const char	*p;
			size_t		 len;
		} s;
		struct {
			struct tval	**v;
			size_t		  n, cap;
		} l;
		struct {
			struct tval	**k, **v;
			size_t		  n, cap;
		} d;
		struct {
			tv_fn		  fn;
			struct tval	 *self;
			const char	 *name;
		} fn;
		struct {
			const struct tnode *node;
		} m;
	} u;
};

struct tval *tv_new(struct tarena *a, enum tv_kind k);
struct tval *tv_str(struct tarena *a, const char *s, size_t len);
struct tval *tv_int(struct tarena *a, int64_t i);
struct tval *tv_float(struct tarena *a, double f);
struct tval *tv_bool(struct tarena *a, int b);
int tv_list_push(struct tarena *a, struct tval *l, struct tval *x);
int tv_dict_put(struct tarena *a, struct tval *d, struct tval *k,
    struct tval *v);
struct tval *tv_dict_get(const struct tval *d, const struct tval *k);
struct tval *tv_dict_gets(const struct tval *d, const char *k);

/* Python semantics. */
int tv_truthy(const struct tval *v);
int tv_equal(const struct tval *a, const struct tval *b);
const char *tv_type_name(const struct tval *v);

/* A growable byte buffer (malloc'd, capped). */
struct tbuf {
	char	*p;
	size_t	 len, cap, limit;
	int	 failed;	/* 1: out of memory, 2: over the limit */
};

int tbuf_add(struct tbuf *b, const char *s, size_t n);
int tbuf_addc(struct tbuf *b, char c);
void tbuf_free(struct tbuf *b);

/* str(v) / repr(v) appended to b, as Python prints them. */
int tv_str_into(struct tbuf *b, const struct tval *v);
int tv_repr_into(struct tbuf *b, const struct tval *v);
/* Python's repr(float). */
int tv_float_fmt(char *out, size_t n, double f);

/*
 * json.dumps(v, ensure_ascii, indent, separators, sort_keys) into b.
 * indent: NULL for none; item_sep/key_sep: NULL for the defaults. 0 or
 * -1 with the reason in why (not serializable, too deep).
 */
int tv_json_into(struct tbuf *b, const struct tval *v, int ensure_ascii,
    const char *indent, const char *item_sep, const char *key_sep,
    int sort_keys, char *why, size_t whylen);

/* The public variables object: an arena and a dict of names. */
struct tokenizer_tvars {
	struct tarena	 arena;
	struct tval	*vars;		/* TV_DICT */
};

/* UTF-8 helpers. */
size_t tv_utf8_len(const char *s, size_t n);
/* Byte offset of code point index ci in s (ci <= length). */
size_t tv_utf8_off(const char *s, size_t n, size_t ci);
/* Decode one code point at s[*i], advancing *i; invalid bytes yield
 * themselves. */
uint32_t tv_utf8_next(const char *s, size_t n, size_t *i);
int tv_utf8_put(struct tbuf *b, uint32_t cp);

/* ---- the parsed template ---- */

enum tnode_kind {
	/* expressions */
	N_CONST,	/* val */
	N_NAME,		/* name */
	N_ATTR,		/* a.name */
	N_ITEM,		/* a[b] */
	N_SLICE,	/* a[b:c:d], any of b c d may be NULL */
	N_CALL,		/* a(args, kw) */
	N_FILTER,	/* a|name(args, kw); a NULL in a filter block */
	N_TEST,		/* a is name(args); op = 1 for "is not" */
	N_BINOP,	/* a op b: + - * / // % ** ~ */
	N_NEG,		/* -a */
	N_POS,		/* +a */
	N_NOT,		/* not a */
	N_AND,
	N_OR,
	N_CMP,		/* a ops[i] args[i] ... (chained) */
	N_COND,		/* b if a else c */
	N_LIST,		/* [args] */
	N_TUPLE,	/* (args) */
	N_DICT,		/* {args[2i]: args[2i+1]} */
	/* statements */
	N_TEXT,		/* literal output: name, nlen */
	N_OUT,		/* {{ a }} */
	N_IF,		/* if a: body else: ebody */
	N_FOR,		/* for c in a [if b]: body else: ebody */
	N_SET,		/* set c = a */
	N_SETBLOCK,	/* set c: body (then filter a) */
	N_MACRO,	/* macro name(args=defaults): body */
	N_BREAK,
	N_CONTINUE,
	N_FILTERBLK,	/* filter a: body */
	N_BODY		/* plain body (generation, with) */
};

/* Operators (N_BINOP, N_CMP). */
enum {
	OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV, OP_FDIV, OP_MOD, OP_POW, OP_CAT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN
};

struct tnlist {
	struct tnode	**v;
	size_t		  n, cap;
};

struct tnode {
	enum tnode_kind	 kind;
	int		 line;
	int		 op;
	const char	*name;		/* names, attributes, text */
	size_t		 nlen;
	struct tnode	*a, *b, *c, *d;
	struct tnlist	 args;		/* positional args, items */
	struct tnlist	 kwv;		/* keyword arg values */
	const char	**kwn;		/* keyword arg names */
	int		*ops;		/* N_CMP operators */
	struct tnlist	 body, ebody;
	struct tval	*val;		/* N_CONST */
};

struct tokenizer_template {
	struct tarena	 arena;
	struct tnlist	 body;
};

/* ---- the interpreter (tokenizer-template.c) ---- */

struct tscope {
	struct tval	*vars;		/* TV_DICT */
	struct tscope	*parent;
};

struct tinterp {
	struct tarena	 a;		/* values made while rendering */
	struct err	*e;
	struct tbuf	*out;		/* where output goes now */
	struct tscope	*root;		/* the template's top-level scope */
	struct tscope	*scope;		/* the current scope */
	int		 line;		/* line being run (messages) */
	struct tval	*inputs;	/* the caller's variables */
	time_t		 now;
	size_t		 max_out;
	long		 steps;		/* loop iterations, calls: bounded */
	int		 depth;		/* macro call depth */
	int		 nest;		/* eval/exec recursion depth */
	int		 ctl;		/* pending break/continue */
	int		 failed;
};

/* Fail the render with "template line N: msg"; returns NULL. */
struct tval *terr(struct tinterp *I, int line, const char *fmt, ...)
    UTIL_PRINTF(3, 4);
/* The out-of-memory failure; returns NULL. */
struct tval *tnomem(struct tinterp *I);
/* The failure of buffer b (output limit or memory); returns NULL. */
struct tval *tbuf_fail(struct tinterp *I, const struct tbuf *b);
/* An Undefined carrying the message used when it is misused. */
struct tval *tundef(struct tinterp *I, const char *fmt, ...)
    UTIL_PRINTF(2, 3);
/* Fail because undefined value u was used; returns NULL. */
struct tval *tundef_fail(struct tinterp *I, const struct tval *u);
struct tval *tstr(struct tinterp *I, const char *s, size_t n);
/* str(v) as a new string value (Undefined -> ""). */
struct tval *tv_to_str(struct tinterp *I, const struct tval *v);
/* Items of an iterable (list, tuple, dict keys, string chars, Undefined:
 * none) as a list value; NULL with an error otherwise. */
struct tval *titems(struct tinterp *I, struct tval *v, int line);
/* obj.name and obj[key] with jinja2's sandboxed lookup rules. */
struct tval *tgetattr(struct tinterp *I, struct tval *obj,
    const char *name, size_t nlen, int line);
struct tval *tgetitem(struct tinterp *I, struct tval *obj,
    struct tval *key, int line);
/* Call a function or macro value. */
struct tval *tcall(struct tinterp *I, struct tval *f, struct tval **args,
    size_t nargs, const char **kwn, struct tval **kwv, size_t nkw,
    int line);
/* Compare for ordering: <0, 0, >0, or ERR_TEMPLATE after setting the
 * error (*bad set). */
int tcompare(struct tinterp *I, const struct tval *a, const struct tval *b,
    const char *op, int line, int *bad);

/* ---- built-ins (tokenizer-tbuiltin.c) ---- */

typedef struct tval *(*tfilter_fn)(struct tinterp *I, struct tval *v,
    struct tval **args, size_t nargs, const char **kwn, struct tval **kwv,
    size_t nkw, int line);
/* 1 true, 0 false, -1 error */
typedef int (*ttest_fn)(struct tinterp *I, struct tval *v,
    struct tval **args, size_t nargs, int line);

tfilter_fn tbuiltin_filter(const char *name);
ttest_fn tbuiltin_test(const char *name);
/* A global function (range, namespace, dict, raise_exception,
 * strftime_now, joiner, cycler), or NULL. */
struct tval *tbuiltin_global(struct tinterp *I, const char *name);
/* Python's "fmt % args". */
struct tval *tbuiltin_percent(struct tinterp *I, struct tval *fmt,
    struct tval *args, int line);
/* A method of a str, list or dict value, or NULL when there is none;
 * *unsafe set for the ones the immutable sandbox forbids. */
struct tval *tbuiltin_method(struct tinterp *I, struct tval *obj,
    const char *name, int *unsafe);

/* Parse src into t (tokenizer-tparse.c). */
int tparse_template(struct tokenizer_template *t, const char *src,
    size_t len, struct err *e);

#endif
