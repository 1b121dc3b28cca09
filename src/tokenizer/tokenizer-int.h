/*
 * tokenizer-int.h - private to the tokenizer room: the layout of struct
 * tok and the functions the vocabulary files share; the chat-template
 * interpreter's value model and the arena its values live in.
 */
#ifndef MOESCOPE_TOKENIZER_INT_H
#define MOESCOPE_TOKENIZER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* Open-addressing map from byte strings (held elsewhere) to ids. */
struct tok_map {
	int32_t		*slot;		/* [mask + 1], -1 = empty */
	size_t		 mask;
	const char	*blob;
	const uint32_t	*off;		/* [n] start of id's key in blob */
	const uint32_t	*len;		/* [n] key length; UINT32_MAX = none */
};

/* A BPE merge: (left id, right id) -> rank (the result id is
 * merge_result[rank]). */
struct tok_merge {
	int32_t		 l, r;		/* l = -1: empty slot */
	int32_t		 rank;
};

/* A symbol while merging: a run of bytes of the word being encoded. */
struct tok_sym {
	int32_t		 prev, next;
	int32_t		 id;		/* token of the run, or -1 */
	uint32_t	 off, len;	/* bytes of the run; len 0 = merged
					 * away */
};

/* A candidate merge in the priority queue. */
struct tok_cand {
	uint64_t	 key;		/* ordering key: smaller first */
	uint32_t	 size;		/* left.len + right.len when queued */
	int32_t		 left;
};

/*
 * The merge queue of both families: a binary min-heap of h[0..*n) on
 * key. Inline, as it runs for every candidate pair of every word.
 */
static inline void
tokenizer_heap_push(struct tok_cand *h, size_t *n, struct tok_cand c)
{
	size_t i = (*n)++;

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (c.key >= h[p].key)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = c;
}

/* Remove and return the smallest (*n > 0). */
static inline struct tok_cand
tokenizer_heap_pop(struct tok_cand *h, size_t *n)
{
	struct tok_cand top = h[0], last = h[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= *n)
			break;
		m = l + 1 < *n && h[l + 1].key < h[l].key ? l + 1 : l;
		if (h[m].key >= last.key)
			break;
		h[i] = h[m];
		i = m;
	}
	if (*n > 0)
		h[i] = last;
	return top;
}

/* Reusable buffers of one encode call. */
struct tok_scratch {
	struct tok_sym	*sym;
	size_t		 sym_cap;
	struct tok_cand	*heap;
	size_t		 heap_cap;
	char		*norm;		/* text as llama.cpp re-encodes it */
	char		*subj;		/* the regex subject */
	char		*subj_p;	/* the same for regexes using \p{..} */
	uint32_t	*map;		/* subj offset -> norm offset */
	size_t		 text_cap;
	uint32_t	*cut[2];	/* piece boundaries, pairs */
	size_t		 cut_cap[2];
	char		*buf;		/* SPM escaped text */
	size_t		 buf_cap;
};

struct tok_pre;
struct tok_cache;

struct tok {
	struct tok_info	 info;
	char		*pre_name;
	int		 ignore_merges;
	size_t		 n;

	char		*text;		/* vocab strings, concatenated */
	uint32_t	*text_off, *text_len;
	float		*score;
	uint16_t	*attr;		/* enum tok_attr */
	uint8_t		*eog;
	struct tok_map	 by_text;

	char		*bytes;		/* BPE: strings byte-decoded */
	uint32_t	*bytes_off, *bytes_len;
	struct tok_map	 by_bytes;
	int32_t		 byte_tok[256];	/* token standing for one byte */
	uint8_t		 spm_glue[256];	/* SPM: a token has this byte just
					 * before U+2581 */

	struct tok_merge *merge;	/* BPE merges, open addressing */
	size_t		 merge_mask;
	int32_t		*merge_result;	/* [n_merges] by rank */
	uint64_t	*merge_filter;	/* bit set of hashed (l, r) pairs */
	struct {
		int32_t	 rank, result;
	}		*byte_pair;	/* [65536] merges of two bytes */

	char		*piece;		/* decoded pieces (special = true) */
	uint32_t	*piece_off, *piece_len;

	int32_t		*special;	/* matched before splitting, longest
					 * first */
	size_t		 n_special;
	uint32_t	*sx2_start;	/* [65537] by first two bytes: range
					 * of sx_ent */
	uint32_t	*sx1_start;	/* [257] one-byte tokens (after
					 * sx1_base) */
	uint32_t	*sx_ent;	/* ranks in special[] */
	uint32_t	 sx1_base;

	struct tok_pre	*pre;		/* BPE pre-tokenizer */
	struct tok_cache *cache;	/* BPE word cache */
	struct tok_scratch sc;
};

/* Hash of a byte string. */
uint64_t tokenizer_hash(const char *s, size_t len);

/* Id whose key is s[0..len), or -1. */
int32_t tokenizer_map_find(const struct tok_map *m, const char *s,
    size_t len);



/* llama.cpp's lenient UTF-8 decoder: the code point at s[0..n), n > 0,
 * *adv bytes consumed; -1 for an invalid sequence (then *adv = 1). */
int64_t tokenizer_cpt_decode(const unsigned char *s, size_t n,
    size_t *adv);
/* UTF-8 of c (c <= 0x10ffff) into o[0..4); returns the length. */
size_t tokenizer_cpt_encode(uint32_t c, char *o);

/* Byte-level BPE: the GPT-2 byte <-> code point table. */
uint32_t tokenizer_bpe_byte_cpt(uint8_t b);
/* The byte a code point stands for, or -1. */
int tokenizer_bpe_cpt_byte(uint32_t cpt);

/* Merge table set-up and lookup. */
int tokenizer_bpe_merges_load(struct tok *t, const struct tok_desc *d,
    struct err *e);
/* Encode one raw-text fragment (no special tokens in it). */
int tokenizer_bpe_encode(struct tok *t, const char *s, size_t len,
    struct tok_ids *out, struct err *e);
void tokenizer_bpe_free(struct tok *t);

/* The word cache (both families): 1 and the ids appended on a hit, 0 on
 * a miss (*h is then the key to store under, 0 = do not store). */
int tokenizer_cache_new(struct tok *t);
int tokenizer_cache_get(struct tok *t, const char *w, size_t n,
    uint64_t *h, struct tok_ids *out);
void tokenizer_cache_put(struct tok *t, uint64_t h, const char *w,
    size_t n, const int32_t *ids, size_t k);

/* SentencePiece-style merges over one fragment (already escaped). */
int tokenizer_spm_encode(struct tok *t, const char *s, size_t len,
    struct tok_ids *out);

/* Pre-tokenizer: compile the regex set named pre (NULL = default). */
int tokenizer_pre_new(struct tok_pre **out, const char *pre,
    struct err *e);
void tokenizer_pre_free(struct tok_pre *p);
/*
 * Split subj[0..len) into pieces with the regex set: on return
 * sc->cut[*which] holds *n boundary pairs (start, end), in order. subj_p
 * is the same text as the regexes that use \p{..} must see it (same
 * length, same character boundaries).
 */
int tokenizer_pre_split(struct tok_pre *p, struct tok_scratch *sc,
    const char *subj, const char *subj_p, size_t len, int *which,
    size_t *n, struct err *e);

/* Per-name flags of the pre-tokenizer (llama.cpp's table). */
struct tok_pre_flags {
	int	 clean_spaces;
	int	 ignore_merges;
	int	 add_bos;
};
/* 0, or ERR_UNSUPPORTED for a name llama.cpp does not know / we lack. */
int tokenizer_pre_flags(const char *pre, struct tok_pre_flags *f,
    const char **canon);

/* ---- chat templates ---- */
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

/* An empty arena that may hold up to limit bytes (0: no limit). */
void tarena_init(struct tarena *a, size_t limit);
/* Free everything allocated from a. */
void tarena_fini(struct tarena *a);
/* n bytes, 16-aligned, uninitialized; NULL (and a->failed set) past the
 * limit or when out of memory. */
void *tarena_alloc(struct tarena *a, size_t n);
/* A copy of p's old bytes in a block of n (p itself when n <= old). */
void *tarena_grow(struct tarena *a, void *p, size_t old, size_t n);
/* A NUL-terminated copy of s[0..n). */
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
#define TVF_GEN		4u	/* a list standing for a Python generator
				 * (what select, map, ... return): always
				 * true, no len(), not a sequence */

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
			struct tscope	   *closure;	/* caller() */
		} m;
	} u;
};

/*
 * Constructors: a zeroed value of kind k; a string copying s[0..len);
 * numbers. NULL when the arena refuses. Booleans are two shared
 * constants (never modify a value you did not make).
 */
struct tval *tv_new(struct tarena *a, enum tv_kind k);
struct tval *tv_str(struct tarena *a, const char *s, size_t len);
struct tval *tv_int(struct tarena *a, int64_t i);
struct tval *tv_float(struct tarena *a, double f);
struct tval *tv_bool(struct tarena *a, int b);
/* Append x to list l; 0 or ERR_NOMEM. */
int tv_list_push(struct tarena *a, struct tval *l, struct tval *x);
/* d[k] = v, keeping insertion order (keys compared with ==); 0 or
 * ERR_NOMEM. */
int tv_dict_put(struct tarena *a, struct tval *d, struct tval *k,
    struct tval *v);
/* d[k] / d["k"], or NULL when absent. */
struct tval *tv_dict_get(const struct tval *d, const struct tval *k);
struct tval *tv_dict_gets(const struct tval *d, const char *k);

/* Python semantics: bool(v), a == b, type(v).__name__. */
int tv_truthy(const struct tval *v);
int tv_equal(const struct tval *a, const struct tval *b);
const char *tv_type_name(const struct tval *v);

/* A growable byte buffer (malloc'd, capped). */
struct tbuf {
	char	*p;
	size_t	 len, cap, limit;
	int	 failed;	/* 1: out of memory, 2: over the limit */
};

/* Append (0, or ERR_NOMEM / ERR_RANGE past b->limit, then failed set and
 * every later call refused); free the buffer. */
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

/* UTF-8 helpers. The number of code points in s[0..n). */
size_t tv_utf8_len(const char *s, size_t n);
/* Byte offset of code point index ci in s (ci <= length). */
size_t tv_utf8_off(const char *s, size_t n, size_t ci);
/* Decode one code point at s[*i], advancing *i; invalid bytes yield
 * themselves. */
uint32_t tv_utf8_next(const char *s, size_t n, size_t *i);
/* Append cp encoded as UTF-8. */
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
	N_BODY,		/* plain body (generation, with) */
	N_CALLBLK	/* call(args=defaults) a: body, as caller() */
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
	size_t		 live;		/* bytes in suspended output buffers */
	long		 steps;		/* loop iterations, calls: bounded */
	int		 depth;		/* macro call depth */
	int		 nest;		/* eval/exec recursion depth */
	struct tval	*caller;	/* for the next macro call */
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
/* 1 true, 0 false, -1 error; arg is the test's own (struct ttest). */
typedef int (*ttest_fn)(struct tinterp *I, struct tval *v,
    struct tval **args, size_t nargs, int line, int arg);

/* A test: name, the function and the argument it is called with. */
struct ttest {
	const char	*name;
	ttest_fn	 fn;
	int		 arg;
};

tfilter_fn tbuiltin_filter(const char *name);
const struct ttest *tbuiltin_test(const char *name);
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
