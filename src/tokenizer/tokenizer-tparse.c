/*
 * tokenizer-tparse.c - lexer and parser of the chat-template language,
 * the subset of Jinja2 that Hugging Face chat templates use.
 *
 * The lexer splits the source into text and tags the way jinja2's does
 * with trim_blocks and lstrip_blocks on: "{%-"/"-%}" (and the same for
 * "{{" and "{#") strip all whitespace on that side, "{%+" keeps it, a
 * block or comment tag alone on its line loses the indentation before
 * it, and the first newline after a block or comment tag is dropped.
 * "{% raw %}" passes text through. Inside tags it yields names,
 * numbers, strings (with Python escapes) and operators.
 *
 * The parser is recursive descent and follows jinja2's grammar and
 * precedence: conditional expressions, or, and, not, comparisons (with
 * in / not in, chained), + -, ~, * / // %, **, unary minus, then
 * filters and tests bound to the primary with its attribute, item,
 * slice and call postfixes. Statements: if/elif/else, for (tuple
 * targets, "if" filter, else), set (plain, tuple, ns.attr, block),
 * macro, call (caller()), break/continue, filter blocks, generation and
 * with blocks. Anything else (include, extends, import, block, recursive
 * loops, ...) is rejected with its name and line. Nesting depth, flat
 * operator and filter chains included, is bounded so hostile input
 * cannot exhaust the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer-int.h"

#define PARSE_DEPTH_MAX	256

/* ASCII classes, independent of the C locale (as jinja2's lexer). */
static inline int
a_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int
a_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
a_isalnum(int c)
{
	return a_isalpha(c) || a_isdigit(c);
}

static inline int
a_isxdigit(int c)
{
	return a_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int
a_tolower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

enum {
	TK_TEXT, TK_VBEGIN, TK_VEND, TK_BBEGIN, TK_BEND, TK_NAME, TK_STR,
	TK_INT, TK_FLOAT, TK_OP, TK_EOF
};

/* Multi-character operators. */
enum {
	TO_FDIV = 256, TO_POW, TO_EQ, TO_NE, TO_LE, TO_GE
};

struct ttok {
	int		 type, line, op;
	const char	*s;
	size_t		 len;
	int64_t		 i;
	double		 f;
};

struct parser {
	struct tarena	*a;
	struct err	*e;
	const char	*src;
	size_t		 len;
	struct ttok	*t;
	size_t		 nt, cap, pos;
	int		 depth;
	int		 failed;
	char		 desc[80];	/* tok_desc() */
};

static int
nomem(struct parser *p)
{
	p->failed = 1;
	return err_set(p->e, ERR_NOMEM, "template: out of memory");
}

static int perr(struct parser *p, int line, const char *fmt, ...)
    UTIL_PRINTF(3, 4);

static int
perr(struct parser *p, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return ERR_TEMPLATE;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(p->e, ERR_TEMPLATE, "template line %d: %s", line, msg);
}

static struct ttok *
push_tok(struct parser *p, int type, int line)
{
	struct ttok *nt;
	size_t ncap;

	if (p->nt == p->cap) {
		ncap = p->cap ? p->cap * 2 : 256;
		nt = tarena_grow(p->a, p->t, p->cap * sizeof *nt,
		    ncap * sizeof *nt);
		if (nt == NULL) {
			nomem(p);
			return NULL;
		}
		p->t = nt;
		p->cap = ncap;
	}
	nt = &p->t[p->nt++];
	memset(nt, 0, sizeof *nt);
	nt->type = type;
	nt->line = line;
	return nt;
}

static int
count_nl(const char *s, size_t n)
{
	int c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += s[i] == '\n';
	return c;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

static int
emit_text(struct parser *p, const char *s, size_t n, int line)
{
	struct ttok *t;

	if (n == 0)
		return 0;
	t = push_tok(p, TK_TEXT, line);
	if (t == NULL)
		return ERR_NOMEM;
	t->s = s;
	t->len = n;
	return 0;
}

/* Decode a string literal body (Python unicode-escape rules). */
static int
lex_string(struct parser *p, struct ttok *t, const char *s, size_t n)
{
	struct tbuf b = { 0 };
	size_t i, k;
	uint32_t cp;
	int r = 0, dig;
	char c;

	for (i = 0; i < n && r == 0; i++) {
		c = s[i];
		if (c != '\\' || i + 1 == n) {
			r = tbuf_addc(&b, c);
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'n': r = tbuf_addc(&b, '\n'); break;
		case 't': r = tbuf_addc(&b, '\t'); break;
		case 'r': r = tbuf_addc(&b, '\r'); break;
		case 'a': r = tbuf_addc(&b, '\a'); break;
		case 'b': r = tbuf_addc(&b, '\b'); break;
		case 'f': r = tbuf_addc(&b, '\f'); break;
		case 'v': r = tbuf_addc(&b, '\v'); break;
		case '\\': r = tbuf_addc(&b, '\\'); break;
		case '\'': r = tbuf_addc(&b, '\''); break;
		case '"': r = tbuf_addc(&b, '"'); break;
		case '\n': break;
		case 'x': case 'u': case 'U':
			dig = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			cp = 0;
			for (k = 1; k <= (size_t)dig; k++) {
				if (i + k >= n ||
				    !a_isxdigit((unsigned char)s[i + k])) {
					tbuf_free(&b);
					return perr(p, t->line, "%s",
					    "truncated \\x/\\u escape in "
					    "string");
				}
				c = s[i + k];
				cp = cp * 16 + (uint32_t)(a_isdigit(
				    (unsigned char)c) ? c - '0' :
				    (a_tolower((unsigned char)c) - 'a' + 10));
			}
			i += (size_t)dig;
			if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
				tbuf_free(&b);
				return perr(p, t->line, "%s",
				    "escape is not a valid code point");
			}
			r = tv_utf8_put(&b, cp);
			break;
		default:
			if (c >= '0' && c <= '7') {
				cp = 0;
				for (k = 0; k < 3 && i + k < n &&
				    s[i + k] >= '0' && s[i + k] <= '7'; k++)
					cp = cp * 8 +
					    (uint32_t)(s[i + k] - '0');
				i += k - 1;
				r = tv_utf8_put(&b, cp);
			} else {
				r = tbuf_addc(&b, '\\');
				if (r == 0)
					r = tbuf_addc(&b, c);
			}
		}
	}
	if (r != 0) {
		tbuf_free(&b);
		return nomem(p);
	}
	t->s = tarena_strndup(p->a, b.p ? b.p : "", b.len);
	t->len = b.len;
	tbuf_free(&b);
	return t->s == NULL ? nomem(p) : 0;
}

/*
 * Lex the inside of a tag starting at *pos, up to and including its end
 * ("}}" or "%}"); *line is kept current. Sets *ended_nl when the
 * consumed end ends in a newline.
 */
static int
lex_tag(struct parser *p, size_t *posp, int *line, int block, int *ended_nl)
{
	const char *s = p->src;
	size_t n = p->len, i = *posp, st;
	char close = block ? '%' : '}';
	struct ttok *t;
	char *end;
	int startline = *line, depth = 0;
	char stack[PARSE_DEPTH_MAX];

	for (;;) {
		while (i < n && is_ws(s[i])) {
			if (s[i] == '\n')
				(*line)++;
			i++;
		}
		if (i >= n)
			return perr(p, startline, "%s", block ?
			    "unterminated '{%' tag" : "unterminated '{{' tag");
		/* end of tag, unless inside brackets: {{ {'a': {}} }} */
		if (depth == 0 && s[i] == '-' && n - i >= 3 &&
		    s[i + 1] == close && s[i + 2] == '}') {
			i += 3;
			while (i < n && is_ws(s[i])) {
				if (s[i] == '\n')
					(*line)++;
				i++;
			}
			*ended_nl = s[i - 1] == '\n';
			goto done;
		}
		if (depth == 0 && block && s[i] == '+' && n - i >= 3 &&
		    s[i + 1] == '%' &&
		    s[i + 2] == '}') {
			i += 3;
			*ended_nl = 0;
			goto done;
		}
		if (depth == 0 && n - i >= 2 && s[i] == close &&
		    s[i + 1] == '}') {
			i += 2;
			*ended_nl = 0;
			if (block && i < n && s[i] == '\n') {
				i++;
				(*line)++;
				*ended_nl = 1;
			}
			goto done;
		}
		st = i;
		if (a_isalpha((unsigned char)s[i]) || s[i] == '_') {
			while (i < n && (a_isalnum((unsigned char)s[i]) ||
			    s[i] == '_'))
				i++;
			if ((t = push_tok(p, TK_NAME, *line)) == NULL)
				return ERR_NOMEM;
			t->s = s + st;
			t->len = i - st;
		} else if (a_isdigit((unsigned char)s[i])) {
			char num[64];
			size_t k = 0;
			int isf = 0;

			while (i < n && (a_isdigit((unsigned char)s[i]) ||
			    s[i] == '_'))
				i++;
			if (i + 1 < n && s[i] == '.' &&
			    a_isdigit((unsigned char)s[i + 1]) &&
			    !(st > 0 && s[st - 1] == '.')) {
				isf = 1;
				i++;
				while (i < n && (a_isdigit(s[i]) ||
				    s[i] == '_'))
					i++;
			}
			if (i < n && (s[i] == 'e' || s[i] == 'E') &&
			    !(st > 0 && s[st - 1] == '.')) {
				size_t j = i + 1;

				if (j < n && (s[j] == '+' || s[j] == '-'))
					j++;
				if (j < n && a_isdigit((unsigned char)s[j])) {
					isf = 1;
					i = j;
					while (i < n &&
					    a_isdigit((unsigned char)s[i]))
						i++;
				}
			}
			for (; st < i && k < sizeof num - 1; st++)
				if (s[st] != '_')
					num[k++] = s[st];
			num[k] = '\0';
			if ((t = push_tok(p, isf ? TK_FLOAT : TK_INT,
			    *line)) == NULL)
				return ERR_NOMEM;
			errno = 0;
			if (isf)
				t->f = strtod(num, &end);
			else
				t->i = strtoll(num, &end, 10);
			if (errno != 0)
				return perr(p, *line,
				    "number '%s' is out of range", num);
		} else if (s[i] == '\'' || s[i] == '"') {
			char q = s[i++];

			st = i;
			while (i < n && s[i] != q) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				i++;
			}
			if (i >= n)
				return perr(p, *line, "%s",
				    "unterminated string literal");
			if ((t = push_tok(p, TK_STR, *line)) == NULL)
				return ERR_NOMEM;
			if (lex_string(p, t, s + st, i - st) != 0)
				return ERR_TEMPLATE;
			*line += count_nl(s + st, i - st);
			i++;
		} else {
			int op = (unsigned char)s[i];

			if (n - i >= 2) {
				if (s[i] == '/' && s[i + 1] == '/')
					op = TO_FDIV;
				else if (s[i] == '*' && s[i + 1] == '*')
					op = TO_POW;
				else if (s[i] == '=' && s[i + 1] == '=')
					op = TO_EQ;
				else if (s[i] == '!' && s[i + 1] == '=')
					op = TO_NE;
				else if (s[i] == '<' && s[i + 1] == '=')
					op = TO_LE;
				else if (s[i] == '>' && s[i + 1] == '=')
					op = TO_GE;
			}
			if (op < 256 &&
			    strchr("+-*/%~=<>()[]{},.:|", op) == NULL) {
				char bad[8];

				snprintf(bad, sizeof bad, "%c", op);
				return perr(p, *line,
				    "unexpected character '%s' in tag", bad);
			}
			if (op == '(' || op == '[' || op == '{') {
				if (depth == PARSE_DEPTH_MAX)
					return perr(p, *line, "%s", "brackets "
					    "nested too deeply");
				stack[depth++] = op == '(' ? ')' :
				    op == '[' ? ']' : '}';
			} else if (op == ')' || op == ']' || op == '}') {
				char bad[2] = { (char)op, '\0' };

				if (depth == 0 || stack[depth - 1] != op)
					return perr(p, *line, "unexpected '%s'",
					    bad);
				depth--;
			}
			i += op >= 256 ? 2 : 1;
			if ((t = push_tok(p, TK_OP, *line)) == NULL)
				return ERR_NOMEM;
			t->op = op;
		}
	}
done:
	if (push_tok(p, block ? TK_BEND : TK_VEND, *line) == NULL)
		return ERR_NOMEM;
	*posp = i;
	return 0;
}

/* At s[i] (just after "{%" and its sign), is this "raw %}"? */
static int
raw_begin(const char *s, size_t n, size_t i, size_t *after, int *trim)
{
	while (i < n && is_ws(s[i]))
		i++;
	if (n - i < 3 || memcmp(s + i, "raw", 3) != 0)
		return 0;
	i += 3;
	if (i < n && (a_isalnum((unsigned char)s[i]) || s[i] == '_'))
		return 0;
	while (i < n && is_ws(s[i]))
		i++;
	*trim = 0;
	if (i < n && (s[i] == '-' || s[i] == '+')) {
		*trim = s[i] == '-' ? 2 : 0;
		i++;
	} else
		*trim = 1;
	if (n - i < 2 || s[i] != '%' || s[i + 1] != '}')
		return 0;
	i += 2;
	/* "-%}" strips what follows; trim_blocks does not apply here */
	if (*trim == 2)
		while (i < n && is_ws(s[i]))
			i++;
	*after = i;
	return 1;
}

static int
lex(struct parser *p)
{
	const char *s = p->src, *q;
	size_t n = p->len, pos = 0, tag, tlen, after, l_pos, k;
	int line = 1, line_starting = 1, kind, sign, ended_nl, trim;

	while (pos < n) {
		/* find the next tag start */
		tag = n;
		for (q = s + pos; (q = memchr(q, '{', n - (size_t)(q - s)))
		    != NULL; q++) {
			if ((size_t)(q - s) + 1 < n && (q[1] == '{' ||
			    q[1] == '%' || q[1] == '#')) {
				tag = (size_t)(q - s);
				break;
			}
		}
		if (tag == n) {
			if (emit_text(p, s + pos, n - pos, line) != 0)
				return ERR_NOMEM;
			break;
		}
		kind = s[tag + 1];
		after = tag + 2;
		sign = after < n && (s[after] == '-' || s[after] == '+') ?
		    s[after] : 0;
		tlen = tag - pos;
		if (sign == '-') {
			while (tlen > 0 && is_ws(s[pos + tlen - 1]))
				tlen--;
		} else if (sign != '+' && kind != '{') {
			l_pos = tlen;
			while (l_pos > 0 && s[pos + l_pos - 1] != '\n')
				l_pos--;
			if (l_pos > 0 || line_starting) {
				for (k = l_pos; k < tlen; k++)
					if (s[pos + k] != ' ' &&
					    s[pos + k] != '\t')
						break;
				if (k == tlen)
					tlen = l_pos;
			}
		}
		if (emit_text(p, s + pos, tlen, line) != 0)
			return ERR_NOMEM;
		line += count_nl(s + pos, tag - pos);
		if (sign)
			after++;
		if (kind == '#') {
			const char *ce = NULL;
			size_t c;

			for (c = after; c + 1 < n; c++)
				if (s[c] == '#' && s[c + 1] == '}') {
					ce = s + c;
					break;
				}
			if (ce == NULL)
				return perr(p, line, "%s",
				    "unterminated comment");
			c = (size_t)(ce - s);
			line += count_nl(s + after, c - after);
			pos = c + 2;
			ended_nl = 0;
			if (c > after && s[c - 1] == '-') {
				while (pos < n && is_ws(s[pos])) {
					line += s[pos] == '\n';
					pos++;
				}
				ended_nl = s[pos - 1] == '\n';
			} else if (!(c > after && s[c - 1] == '+') && pos < n &&
			    s[pos] == '\n') {
				pos++;
				line++;
				ended_nl = 1;
			}
			line_starting = ended_nl;
			continue;
		}
		if (kind == '%' && raw_begin(s, n, after, &k, &trim)) {
			size_t c, body = k, e2, bend = 0;
			int found = 0;

			for (c = body; c + 1 < n && !found; c++) {
				size_t j;
				int rsign = 0;

				if (s[c] != '{' || s[c + 1] != '%')
					continue;
				j = c + 2;
				if (j < n && (s[j] == '-' || s[j] == '+'))
					rsign = s[j++];
				while (j < n && is_ws(s[j]))
					j++;
				if (n - j < 6 ||
				    memcmp(s + j, "endraw", 6) != 0)
					continue;
				j += 6;
				while (j < n && is_ws(s[j]))
					j++;
				trim = 1;
				if (j < n && (s[j] == '-' || s[j] == '+')) {
					trim = s[j] == '-' ? 2 : 0;
					j++;
				}
				if (n - j < 2 || s[j] != '%' || s[j + 1] != '}')
					continue;
				j += 2;
				if (trim == 2)
					while (j < n && is_ws(s[j]))
						j++;
				else if (trim == 1 && j < n && s[j] == '\n')
					j++;
				e2 = c;
				if (rsign == '-')
					while (e2 > body && is_ws(s[e2 - 1]))
						e2--;
				else if (rsign != '+') {
					/* lstrip_blocks before {% endraw */
					size_t lp = e2, q2;

					while (lp > body && s[lp - 1] != '\n')
						lp--;
					for (q2 = lp; q2 < e2 &&
					    (s[q2] == ' ' || s[q2] == '\t');
					    q2++)
						;
					if (q2 == e2 && (lp > body ||
					    (body > 0 && s[body - 1] == '\n')))
						e2 = lp;
				}
				if (emit_text(p, s + body, e2 - body,
				    line) != 0)
					return ERR_NOMEM;
				bend = j;
				found = 1;
			}
			if (!found)
				return perr(p, line, "%s",
				    "'{% raw %}' without '{% endraw %}'");
			line += count_nl(s + tag, bend - tag);
			pos = bend;
			line_starting = s[pos - 1] == '\n';
			continue;
		}
		if (push_tok(p, kind == '%' ? TK_BBEGIN : TK_VBEGIN, line) ==
		    NULL)
			return ERR_NOMEM;
		pos = after;
		ended_nl = 0;
		if (lex_tag(p, &pos, &line, kind == '%', &ended_nl) != 0)
			return ERR_TEMPLATE;
		line_starting = ended_nl;
	}
	return push_tok(p, TK_EOF, line) == NULL ? ERR_NOMEM : 0;
}

/* ---- parser ---- */

static struct ttok *
cur(struct parser *p)
{
	return &p->t[p->pos];
}

static int
is_name(struct parser *p, const char *name)
{
	struct ttok *t = cur(p);

	return t->type == TK_NAME && t->len == strlen(name) &&
	    memcmp(t->s, name, t->len) == 0;
}

static int
is_op(struct parser *p, int op)
{
	return cur(p)->type == TK_OP && cur(p)->op == op;
}

static const char *
tok_desc(struct parser *p, struct ttok *t)
{
	char *buf = p->desc;

	switch (t->type) {
	case TK_TEXT:	return "text";
	case TK_VBEGIN:	return "'{{'";
	case TK_VEND:	return "'}}'";
	case TK_BBEGIN:	return "'{%'";
	case TK_BEND:	return "end of statement '%}'";
	case TK_STR:	return "a string";
	case TK_INT:
	case TK_FLOAT:	return "a number";
	case TK_EOF:	return "end of template";
	case TK_NAME:
		snprintf(buf, sizeof p->desc, "'%.*s'",
		    (int)(t->len > 60 ? 60 : t->len), t->s);
		return buf;
	default:
		if (t->op >= 256)
			return "an operator";
		snprintf(buf, sizeof p->desc, "'%c'", t->op);
		return buf;
	}
}

static int
expect_op(struct parser *p, int op)
{
	char what[8];

	if (is_op(p, op)) {
		p->pos++;
		return 0;
	}
	snprintf(what, sizeof what, "'%c'", op);
	if (p->failed)
		return ERR_TEMPLATE;
	p->failed = 1;
	return err_set(p->e, ERR_TEMPLATE,
	    "template line %d: expected %s, got %s", cur(p)->line, what,
	    tok_desc(p, cur(p)));
}

static int
unexpected(struct parser *p, const char *wanted)
{
	if (p->failed)
		return ERR_TEMPLATE;
	p->failed = 1;
	return err_set(p->e, ERR_TEMPLATE,
	    "template line %d: expected %s, got %s", cur(p)->line, wanted,
	    tok_desc(p, cur(p)));
}

static struct tnode *
mk(struct parser *p, enum tnode_kind k, int line)
{
	struct tnode *n = tarena_alloc(p->a, sizeof *n);

	if (n == NULL) {
		nomem(p);
		return NULL;
	}
	memset(n, 0, sizeof *n);
	n->kind = k;
	n->line = line;
	return n;
}

static int
nl_push(struct parser *p, struct tnlist *l, struct tnode *x)
{
	struct tnode **nv;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 4;
		nv = tarena_grow(p->a, l->v, l->cap * sizeof *nv,
		    ncap * sizeof *nv);
		if (nv == NULL)
			return nomem(p);
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = x;
	return 0;
}

static char *
tok_name(struct parser *p, struct ttok *t)
{
	char *s = tarena_strndup(p->a, t->s, t->len);

	if (s == NULL)
		nomem(p);
	return s;
}

static struct tnode *parse_expr(struct parser *p, int condexpr);
static struct tnode *parse_unary(struct parser *p, int with_filter);
static struct tnode *parse_binary(struct parser *p, int level);

static int
enter(struct parser *p)
{
	if (++p->depth > PARSE_DEPTH_MAX) {
		perr(p, cur(p)->line, "%s", "expression or blocks nested "
		    "too deeply");
		return -1;
	}
	return 0;
}

/* Call arguments after '(' (already consumed), up to ')'. */
static int
parse_args(struct parser *p, struct tnode *n)
{
	struct tnode *v;
	const char **nk;
	size_t cap = 0;

	while (!is_op(p, ')')) {
		if (n->args.n + n->kwv.n > 0 && expect_op(p, ',') != 0)
			return ERR_TEMPLATE;
		if (is_op(p, ')'))
			break;
		if (is_op(p, '*'))
			return perr(p, cur(p)->line, "%s",
			    "unsupported construct: *args/**kwargs in a call");
		if (cur(p)->type == TK_NAME && p->t[p->pos + 1].type == TK_OP &&
		    p->t[p->pos + 1].op == '=') {
			char *name = tok_name(p, cur(p));

			if (name == NULL)
				return ERR_NOMEM;
			p->pos += 2;
			if ((v = parse_expr(p, 1)) == NULL)
				return ERR_TEMPLATE;
			if (n->kwv.n == cap) {
				cap = cap ? cap * 2 : 4;
				nk = tarena_grow(p->a, n->kwn, n->kwv.n *
				    sizeof *nk, cap * sizeof *nk);
				if (nk == NULL)
					return nomem(p);
				n->kwn = nk;
			}
			n->kwn[n->kwv.n] = name;
			if (nl_push(p, &n->kwv, v) != 0)
				return ERR_NOMEM;
		} else {
			if (n->kwv.n > 0)
				return perr(p, cur(p)->line, "%s",
				    "positional argument after keyword "
				    "argument");
			if ((v = parse_expr(p, 1)) == NULL ||
			    nl_push(p, &n->args, v) != 0)
				return ERR_TEMPLATE;
		}
	}
	p->pos++;
	return 0;
}

/* Parse "[a:b:c]" or "[x]" after '['. */
static struct tnode *
parse_subscript(struct parser *p, struct tnode *obj)
{
	struct tnode *n, *parts[3] = { NULL, NULL, NULL };
	int line = cur(p)->line, k = 0, slice = 0;

	for (;;) {
		if (is_op(p, ':')) {
			slice = 1;
			p->pos++;
			if (++k > 2)
				return perr(p, line, "%s", "bad slice"), NULL;
			continue;
		}
		if (is_op(p, ']'))
			break;
		if (parts[k] != NULL)
			return unexpected(p, "']'"), NULL;
		if ((parts[k] = parse_expr(p, 1)) == NULL)
			return NULL;
		if (!slice && is_op(p, ',')) {
			return perr(p, line, "%s",
			    "unsupported construct: tuple subscript"), NULL;
		}
	}
	p->pos++;
	if (!slice && parts[0] == NULL)
		return unexpected(p, "an expression"), NULL;
	if ((n = mk(p, slice ? N_SLICE : N_ITEM, line)) == NULL)
		return NULL;
	n->a = obj;
	n->b = parts[0];
	n->c = parts[1];
	n->d = parts[2];
	return n;
}

static struct tnode *
parse_postfix(struct parser *p, struct tnode *node)
{
	struct tnode *n;
	struct ttok *t;
	int k = 0;

	for (;; k++) {
		if (enter(p) != 0)
			return NULL;
		t = cur(p);
		if (is_op(p, '.')) {
			p->pos++;
			t = cur(p);
			if (t->type == TK_NAME) {
				if ((n = mk(p, N_ATTR, t->line)) == NULL)
					return NULL;
				n->a = node;
				if ((n->name = tok_name(p, t)) == NULL)
					return NULL;
				n->nlen = t->len;
				p->pos++;
			} else if (t->type == TK_INT) {
				if ((n = mk(p, N_ITEM, t->line)) == NULL)
					return NULL;
				n->a = node;
				if ((n->b = mk(p, N_CONST, t->line)) == NULL ||
				    (n->b->val = tv_int(p->a, t->i)) == NULL)
					return nomem(p), NULL;
				p->pos++;
			} else
				return unexpected(p, "an attribute name"), NULL;
			node = n;
		} else if (is_op(p, '[')) {
			p->pos++;
			if ((node = parse_subscript(p, node)) == NULL)
				return NULL;
		} else if (is_op(p, '(')) {
			p->pos++;
			if ((n = mk(p, N_CALL, t->line)) == NULL)
				return NULL;
			n->a = node;
			if (parse_args(p, n) != 0)
				return NULL;
			node = n;
		} else {
			p->depth -= k + 1;
			return node;
		}
	}
}

/* A dotted name after '|' or 'is'. */
static int
parse_dotted(struct parser *p, struct tnode *n)
{
	struct ttok *t = cur(p);

	if (t->type != TK_NAME)
		return unexpected(p, "a filter or test name");
	if ((n->name = tok_name(p, t)) == NULL)
		return ERR_NOMEM;
	n->nlen = t->len;
	p->pos++;
	if (is_op(p, '.'))
		return perr(p, t->line, "%s",
		    "unsupported construct: dotted filter or test name");
	return 0;
}

static struct tnode *
parse_filter_expr(struct parser *p, struct tnode *node)
{
	struct tnode *n;
	struct ttok *t;
	int k = 0;

	for (;; k++) {
		if (enter(p) != 0)
			return NULL;
		t = cur(p);
		if (is_op(p, '|')) {
			p->pos++;
			if ((n = mk(p, N_FILTER, t->line)) == NULL ||
			    parse_dotted(p, n) != 0)
				return NULL;
			n->a = node;
			if (is_op(p, '(')) {
				p->pos++;
				if (parse_args(p, n) != 0)
					return NULL;
			}
			node = n;
		} else if (is_name(p, "is")) {
			p->pos++;
			if ((n = mk(p, N_TEST, t->line)) == NULL)
				return NULL;
			if (is_name(p, "not")) {
				n->op = 1;
				p->pos++;
			}
			if (parse_dotted(p, n) != 0)
				return NULL;
			n->a = node;
			t = cur(p);
			if (is_op(p, '(')) {
				p->pos++;
				if (parse_args(p, n) != 0)
					return NULL;
			} else if ((t->type == TK_NAME && !is_name(p, "else") &&
			    !is_name(p, "or") && !is_name(p, "and") &&
			    !is_name(p, "if") && !is_name(p, "is") &&
			    !is_name(p, "in") && !is_name(p, "not")) ||
			    t->type == TK_STR || t->type == TK_INT ||
			    t->type == TK_FLOAT || is_op(p, '[') ||
			    is_op(p, '{')) {
				struct tnode *arg = parse_unary(p, 0);

				if (arg == NULL ||
				    nl_push(p, &n->args, arg) != 0)
					return NULL;
			}
			node = n;
		} else if (is_op(p, '(')) {
			p->pos++;
			if ((n = mk(p, N_CALL, t->line)) == NULL)
				return NULL;
			n->a = node;
			if (parse_args(p, n) != 0)
				return NULL;
			node = n;
		} else {
			p->depth -= k + 1;
			return node;
		}
	}
}

static struct tnode *
mk_const(struct parser *p, int line, struct tval *v)
{
	struct tnode *n;

	if (v == NULL)
		return nomem(p), NULL;
	if ((n = mk(p, N_CONST, line)) == NULL)
		return NULL;
	n->val = v;
	return n;
}

static struct tnode *
parse_primary(struct parser *p)
{
	struct ttok *t = cur(p);
	struct tnode *n, *x;
	struct tbuf b = { 0 };

	switch (t->type) {
	case TK_NAME:
		p->pos++;
		if ((t->len == 4 && (memcmp(t->s, "true", 4) == 0 ||
		    memcmp(t->s, "True", 4) == 0)))
			return mk_const(p, t->line, tv_bool(p->a, 1));
		if ((t->len == 5 && (memcmp(t->s, "false", 5) == 0 ||
		    memcmp(t->s, "False", 5) == 0)))
			return mk_const(p, t->line, tv_bool(p->a, 0));
		if ((t->len == 4 && (memcmp(t->s, "none", 4) == 0 ||
		    memcmp(t->s, "None", 4) == 0)))
			return mk_const(p, t->line, tv_new(p->a, TV_NONE));
		if ((n = mk(p, N_NAME, t->line)) == NULL ||
		    (n->name = tok_name(p, t)) == NULL)
			return NULL;
		n->nlen = t->len;
		return n;
	case TK_STR:
		while (cur(p)->type == TK_STR) {	/* "a" "b" */
			if (tbuf_add(&b, cur(p)->s, cur(p)->len) != 0) {
				tbuf_free(&b);
				return nomem(p), NULL;
			}
			p->pos++;
		}
		n = mk_const(p, t->line, tv_str(p->a, b.p ? b.p : "", b.len));
		tbuf_free(&b);
		return n;
	case TK_INT:
		p->pos++;
		return mk_const(p, t->line, tv_int(p->a, t->i));
	case TK_FLOAT:
		p->pos++;
		return mk_const(p, t->line, tv_float(p->a, t->f));
	case TK_OP:
		break;
	default:
		return unexpected(p, "an expression"), NULL;
	}
	if (t->op == '(') {
		p->pos++;
		if (is_op(p, ')')) {
			p->pos++;
			return mk(p, N_TUPLE, t->line);
		}
		if ((x = parse_expr(p, 1)) == NULL)
			return NULL;
		if (is_op(p, ',')) {
			if ((n = mk(p, N_TUPLE, t->line)) == NULL ||
			    nl_push(p, &n->args, x) != 0)
				return NULL;
			while (is_op(p, ',')) {
				p->pos++;
				if (is_op(p, ')'))
					break;
				if ((x = parse_expr(p, 1)) == NULL ||
				    nl_push(p, &n->args, x) != 0)
					return NULL;
			}
			x = n;
		}
		if (expect_op(p, ')') != 0)
			return NULL;
		return x;
	}
	if (t->op == '[') {
		p->pos++;
		if ((n = mk(p, N_LIST, t->line)) == NULL)
			return NULL;
		while (!is_op(p, ']')) {
			if (n->args.n > 0 && expect_op(p, ',') != 0)
				return NULL;
			if (is_op(p, ']'))
				break;
			if ((x = parse_expr(p, 1)) == NULL ||
			    nl_push(p, &n->args, x) != 0)
				return NULL;
		}
		p->pos++;
		return n;
	}
	if (t->op == '{') {
		p->pos++;
		if ((n = mk(p, N_DICT, t->line)) == NULL)
			return NULL;
		while (!is_op(p, '}')) {
			if (n->args.n > 0 && expect_op(p, ',') != 0)
				return NULL;
			if (is_op(p, '}'))
				break;
			if ((x = parse_expr(p, 1)) == NULL ||
			    nl_push(p, &n->args, x) != 0)
				return NULL;
			if (expect_op(p, ':') != 0)
				return NULL;
			if ((x = parse_expr(p, 1)) == NULL ||
			    nl_push(p, &n->args, x) != 0)
				return NULL;
		}
		p->pos++;
		return n;
	}
	return unexpected(p, "an expression"), NULL;
}

static struct tnode *
parse_unary(struct parser *p, int with_filter)
{
	struct tnode *n, *x;
	int line = cur(p)->line;

	if (enter(p) != 0)
		return NULL;
	if (is_op(p, '-') || is_op(p, '+')) {
		int neg = is_op(p, '-');

		p->pos++;
		if ((x = parse_unary(p, 0)) == NULL ||
		    (n = mk(p, neg ? N_NEG : N_POS, line)) == NULL)
			return NULL;
		n->a = x;
	} else {
		if ((n = parse_primary(p)) == NULL)
			return NULL;
		if ((n = parse_postfix(p, n)) == NULL)
			return NULL;
	}
	if (with_filter)
		n = parse_filter_expr(p, n);
	p->depth--;
	return n;
}

static struct tnode *
binop(struct parser *p, int op, struct tnode *l, struct tnode *r, int line)
{
	struct tnode *n;

	if (r == NULL || (n = mk(p, N_BINOP, line)) == NULL)
		return NULL;
	n->op = op;
	n->a = l;
	n->b = r;
	return n;
}

/*
 * The left-associative binary operators, loosest level first: each
 * level's operands are the level after it (and's are parse_not(), pow's
 * parse_unary()).
 */
enum { L_OR, L_AND, L_ADD, L_CAT, L_MUL, L_POW };

static const struct {
	int		 level;
	int		 tok;		/* an operator token, or 0 */
	const char	*word;		/* else this name */
	int		 op;		/* N_BINOP's */
	enum tnode_kind	 kind;
} binops[] = {
	{ L_OR, 0, "or", 0, N_OR }, { L_AND, 0, "and", 0, N_AND },
	{ L_ADD, '+', NULL, OP_ADD, N_BINOP },
	{ L_ADD, '-', NULL, OP_SUB, N_BINOP },
	{ L_CAT, '~', NULL, OP_CAT, N_BINOP },
	{ L_MUL, '*', NULL, OP_MUL, N_BINOP },
	{ L_MUL, '/', NULL, OP_DIV, N_BINOP },
	{ L_MUL, TO_FDIV, NULL, OP_FDIV, N_BINOP },
	{ L_MUL, '%', NULL, OP_MOD, N_BINOP },
	{ L_POW, TO_POW, NULL, OP_POW, N_BINOP }
};

#define NBINOPS	(sizeof binops / sizeof binops[0])

static struct tnode *parse_not(struct parser *p);

/* An operand of level's operators. */
static struct tnode *
parse_operand(struct parser *p, int level)
{
	if (level == L_AND)
		return parse_not(p);
	if (level == L_POW)
		return parse_unary(p, 1);
	return parse_binary(p, level + 1);
}

static struct tnode *
parse_binary(struct parser *p, int level)
{
	struct tnode *n = parse_operand(p, level);
	size_t i;
	int line, k = 0;

	while (n != NULL) {
		for (i = 0; i < NBINOPS; i++)
			if (binops[i].level == level &&
			    (binops[i].word != NULL ?
			    is_name(p, binops[i].word) :
			    is_op(p, binops[i].tok)))
				break;
		if (i == NBINOPS)
			break;
		line = cur(p)->line;
		p->pos++;
		if (k++, enter(p) != 0)
			return NULL;
		n = binop(p, binops[i].op, n, parse_operand(p, level), line);
		if (n != NULL)
			n->kind = binops[i].kind;
	}
	p->depth -= k;
	return n;
}

static struct tnode *
parse_compare(struct parser *p)
{
	struct tnode *first = parse_binary(p, L_ADD), *n = NULL, *x;
	int line = cur(p)->line, op, *nops;
	size_t cap = 0;

	if (first == NULL)
		return NULL;
	for (;;) {
		struct ttok *t = cur(p);

		op = 0;
		if (t->type == TK_OP) {
			switch (t->op) {
			case TO_EQ: op = OP_EQ; break;
			case TO_NE: op = OP_NE; break;
			case '<': op = OP_LT; break;
			case TO_LE: op = OP_LE; break;
			case '>': op = OP_GT; break;
			case TO_GE: op = OP_GE; break;
			}
			if (op)
				p->pos++;
		} else if (is_name(p, "in")) {
			op = OP_IN;
			p->pos++;
		} else if (is_name(p, "not") && p->t[p->pos + 1].type ==
		    TK_NAME && p->t[p->pos + 1].len == 2 &&
		    memcmp(p->t[p->pos + 1].s, "in", 2) == 0) {
			op = OP_NOTIN;
			p->pos += 2;
		}
		if (!op)
			break;
		if (n == NULL) {
			if ((n = mk(p, N_CMP, line)) == NULL)
				return NULL;
			n->a = first;
		}
		if ((x = parse_binary(p, L_ADD)) == NULL)
			return NULL;
		if (n->args.n == cap) {
			cap = cap ? cap * 2 : 2;
			nops = tarena_grow(p->a, n->ops,
			    n->args.n * sizeof *nops, cap * sizeof *nops);
			if (nops == NULL)
				return nomem(p), NULL;
			n->ops = nops;
		}
		n->ops[n->args.n] = op;
		if (nl_push(p, &n->args, x) != 0)
			return NULL;
	}
	return n != NULL ? n : first;
}

static struct tnode *
parse_not(struct parser *p)
{
	struct tnode *n, *x;
	int line = cur(p)->line;

	if (is_name(p, "not")) {
		p->pos++;
		if (enter(p) != 0)
			return NULL;
		x = parse_not(p);
		p->depth--;
		if (x == NULL || (n = mk(p, N_NOT, line)) == NULL)
			return NULL;
		n->a = x;
		return n;
	}
	return parse_compare(p);
}

static struct tnode *
parse_expr(struct parser *p, int condexpr)
{
	struct tnode *n, *c;
	int line;

	if (enter(p) != 0)
		return NULL;
	n = parse_binary(p, L_OR);
	while (condexpr && n != NULL && is_name(p, "if")) {
		line = cur(p)->line;
		p->pos++;
		if ((c = mk(p, N_COND, line)) == NULL)
			return NULL;
		c->b = n;
		if ((c->a = parse_binary(p, L_OR)) == NULL)
			return NULL;
		if (is_name(p, "else")) {
			p->pos++;
			if ((c->c = parse_expr(p, 1)) == NULL)
				return NULL;
		}
		n = c;
	}
	p->depth--;
	return n;
}

/* expr[, expr...] as a tuple when there is a comma (no parens). */
static struct tnode *
parse_tuple(struct parser *p, int condexpr)
{
	struct tnode *x = parse_expr(p, condexpr), *n;

	if (x == NULL || !is_op(p, ','))
		return x;
	if ((n = mk(p, N_TUPLE, x->line)) == NULL ||
	    nl_push(p, &n->args, x) != 0)
		return NULL;
	while (is_op(p, ',')) {
		p->pos++;
		if (cur(p)->type == TK_BEND || cur(p)->type == TK_VEND ||
		    is_op(p, ')'))
			break;
		if ((x = parse_expr(p, condexpr)) == NULL ||
		    nl_push(p, &n->args, x) != 0)
			return NULL;
	}
	return n;
}

/* An assignment target: name, name.attr, or names separated by commas. */
static struct tnode *
parse_target(struct parser *p, int allow_attr)
{
	struct tnode *n = NULL, *x;
	struct ttok *t;
	int paren = 0;

	if (is_op(p, '(')) {
		paren = 1;
		p->pos++;
	}
	for (;;) {
		t = cur(p);
		if (t->type != TK_NAME)
			return unexpected(p, "a variable name"), NULL;
		if ((x = mk(p, N_NAME, t->line)) == NULL ||
		    (x->name = tok_name(p, t)) == NULL)
			return NULL;
		x->nlen = t->len;
		p->pos++;
		if (allow_attr && !paren && n == NULL && is_op(p, '.')) {
			struct tnode *at;

			p->pos++;
			t = cur(p);
			if (t->type != TK_NAME)
				return unexpected(p, "an attribute name"), NULL;
			if ((at = mk(p, N_ATTR, t->line)) == NULL ||
			    (at->name = tok_name(p, t)) == NULL)
				return NULL;
			at->nlen = t->len;
			at->a = x;
			p->pos++;
			return at;
		}
		if (n == NULL && !is_op(p, ',')) {
			n = x;
			break;
		}
		if (n == NULL && (n = mk(p, N_TUPLE, x->line)) == NULL)
			return NULL;
		if (nl_push(p, &n->args, x) != 0)
			return NULL;
		if (!is_op(p, ','))
			break;
		p->pos++;
		if (cur(p)->type != TK_NAME)
			break;
	}
	if (paren && expect_op(p, ')') != 0)
		return NULL;
	return n;
}

static int parse_body(struct parser *p, struct tnlist *body,
    const char *const *ends);

static int
end_block(struct parser *p)
{
	if (cur(p)->type != TK_BEND)
		return unexpected(p, "end of statement '%}'");
	p->pos++;
	return 0;
}

static const char *const ends_if[] = { "elif", "else", "endif", NULL };
static const char *const ends_for[] = { "else", "endfor", NULL };
static const char *const ends_endfor[] = { "endfor", NULL };
static const char *const ends_set[] = { "endset", NULL };
static const char *const ends_macro[] = { "endmacro", NULL };
static const char *const ends_filter[] = { "endfilter", NULL };
static const char *const ends_gen[] = { "endgeneration", NULL };
static const char *const ends_with[] = { "endwith", NULL };
static const char *const ends_call[] = { "endcall", NULL };

static struct tnode *
parse_if(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_IF, line), *el;

	if (n == NULL || (n->a = parse_tuple(p, 1)) == NULL ||
	    end_block(p) != 0 || parse_body(p, &n->body, ends_if) != 0)
		return NULL;
	if (is_name(p, "elif")) {
		int l2 = cur(p)->line;

		p->pos++;
		if (enter(p) != 0 || (el = parse_if(p, l2)) == NULL ||
		    nl_push(p, &n->ebody, el) != 0)
			return NULL;
		p->depth--;
		return n;	/* the nested if consumed endif */
	}
	if (is_name(p, "else")) {
		p->pos++;
		if (end_block(p) != 0 ||
		    parse_body(p, &n->ebody, ends_if + 2) != 0)
			return NULL;
	}
	p->pos++;	/* endif */
	if (end_block(p) != 0)
		return NULL;
	return n;
}

static struct tnode *
parse_for(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_FOR, line);

	if (n == NULL || (n->c = parse_target(p, 0)) == NULL)
		return NULL;
	if (!is_name(p, "in"))
		return unexpected(p, "'in'"), NULL;
	p->pos++;
	if ((n->a = parse_tuple(p, 0)) == NULL)
		return NULL;
	if (is_name(p, "if")) {
		p->pos++;
		if ((n->b = parse_expr(p, 1)) == NULL)
			return NULL;
	}
	if (is_name(p, "recursive"))
		return perr(p, line, "%s",
		    "unsupported construct: recursive for loop"), NULL;
	if (end_block(p) != 0 || parse_body(p, &n->body, ends_for) != 0)
		return NULL;
	if (is_name(p, "else")) {
		p->pos++;
		if (end_block(p) != 0 ||
		    parse_body(p, &n->ebody, ends_endfor) != 0)
			return NULL;
	}
	p->pos++;
	if (end_block(p) != 0)
		return NULL;
	return n;
}

static struct tnode *
parse_set(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_SET, line), *f, *top;

	if (n == NULL || (n->c = parse_target(p, 1)) == NULL)
		return NULL;
	if (is_op(p, '=')) {
		p->pos++;
		if ((n->a = parse_tuple(p, 1)) == NULL || end_block(p) != 0)
			return NULL;
		return n;
	}
	if (n->c->kind != N_NAME)
		return unexpected(p, "'='"), NULL;
	n->kind = N_SETBLOCK;
	top = NULL;
	while (is_op(p, '|')) {	/* {% set x | filter %} */
		int l2 = cur(p)->line;

		p->pos++;
		if ((f = mk(p, N_FILTER, l2)) == NULL ||
		    parse_dotted(p, f) != 0)
			return NULL;
		f->a = top;
		if (is_op(p, '(')) {
			p->pos++;
			if (parse_args(p, f) != 0)
				return NULL;
		}
		top = f;
	}
	n->a = top;
	if (end_block(p) != 0 || parse_body(p, &n->body, ends_set) != 0)
		return NULL;
	p->pos++;
	if (end_block(p) != 0)
		return NULL;
	return n;
}

static int parse_params(struct parser *p, struct tnode *n);
static struct tnode *parse_callblk(struct parser *p, int line);

static struct tnode *
parse_macro(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_MACRO, line);
	struct ttok *t = cur(p);

	if (n == NULL)
		return NULL;
	if (t->type != TK_NAME)
		return unexpected(p, "a macro name"), NULL;
	if ((n->name = tok_name(p, t)) == NULL)
		return NULL;
	n->nlen = t->len;
	p->pos++;
	if (expect_op(p, '(') != 0 || parse_params(p, n) != 0)
		return NULL;
	if (end_block(p) != 0 || parse_body(p, &n->body, ends_macro) != 0)
		return NULL;
	p->pos++;
	if (cur(p)->type == TK_NAME)	/* {% endmacro name %} */
		p->pos++;
	if (end_block(p) != 0)
		return NULL;
	return n;
}

/* Macro parameters "(a, b=default)" after the '(' into n->args/kwv. */
static int
parse_params(struct parser *p, struct tnode *n)
{
	struct tnode *arg, *def;
	struct ttok *t;

	while (!is_op(p, ')')) {
		if (n->args.n > 0 && expect_op(p, ',') != 0)
			return ERR_TEMPLATE;
		t = cur(p);
		if (t->type != TK_NAME)
			return unexpected(p, "an argument name");
		if ((arg = mk(p, N_NAME, t->line)) == NULL ||
		    (arg->name = tok_name(p, t)) == NULL)
			return ERR_TEMPLATE;
		arg->nlen = t->len;
		p->pos++;
		def = NULL;
		if (is_op(p, '=')) {
			p->pos++;
			if ((def = parse_expr(p, 1)) == NULL)
				return ERR_TEMPLATE;
		} else if (n->kwv.n > 0 && n->kwv.v[n->kwv.n - 1] != NULL)
			return perr(p, t->line, "%s", "non-default argument "
			    "follows default argument");
		if (nl_push(p, &n->args, arg) != 0 ||
		    nl_push(p, &n->kwv, def) != 0)
			return ERR_TEMPLATE;
	}
	p->pos++;
	return 0;
}

/* {% call(params) macro(args) %}body{% endcall %} */
static struct tnode *
parse_callblk(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_CALLBLK, line);

	if (n == NULL)
		return NULL;
	n->name = "caller";
	n->nlen = 6;
	if (is_op(p, '(')) {
		p->pos++;
		if (parse_params(p, n) != 0)
			return NULL;
	}
	if ((n->a = parse_expr(p, 1)) == NULL)
		return NULL;
	if (n->a->kind != N_CALL)
		return perr(p, line, "%s", "{% call %} needs a macro call"),
		    NULL;
	if (end_block(p) != 0 || parse_body(p, &n->body, ends_call) != 0)
		return NULL;
	p->pos++;
	if (end_block(p) != 0)
		return NULL;
	return n;
}

static struct tnode *
parse_filterblk(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_FILTERBLK, line), *f, *top = NULL;

	if (n == NULL)
		return NULL;
	do {
		int l2 = cur(p)->line;

		if (top != NULL)
			p->pos++;	/* '|' */
		if ((f = mk(p, N_FILTER, l2)) == NULL ||
		    parse_dotted(p, f) != 0)
			return NULL;
		f->a = top;
		if (is_op(p, '(')) {
			p->pos++;
			if (parse_args(p, f) != 0)
				return NULL;
		}
		top = f;
	} while (is_op(p, '|'));
	n->a = top;
	if (end_block(p) != 0 || parse_body(p, &n->body, ends_filter) != 0)
		return NULL;
	p->pos++;
	if (end_block(p) != 0)
		return NULL;
	return n;
}

static struct tnode *
parse_with(struct parser *p, int line)
{
	struct tnode *n = mk(p, N_BODY, line), *set;

	if (n == NULL)
		return NULL;
	n->op = 1;	/* new scope */
	while (cur(p)->type != TK_BEND) {
		if (n->args.n > 0 && expect_op(p, ',') != 0)
			return NULL;
		if ((set = mk(p, N_SET, cur(p)->line)) == NULL ||
		    (set->c = parse_target(p, 0)) == NULL)
			return NULL;
		if (expect_op(p, '=') != 0 ||
		    (set->a = parse_expr(p, 1)) == NULL ||
		    nl_push(p, &n->args, set) != 0)
			return NULL;
	}
	if (end_block(p) != 0 || parse_body(p, &n->body, ends_with) != 0)
		return NULL;
	p->pos++;
	if (end_block(p) != 0)
		return NULL;
	return n;
}

static int
is_tok_word(const struct ttok *t, const char *w)
{
	return t->type == TK_NAME && t->len == strlen(w) &&
	    memcmp(t->s, w, t->len) == 0;
}

static struct tnode *
parse_stmt(struct parser *p)
{
	struct ttok *t = cur(p);
	struct tnode *n;
	int line = t->line;

	if (t->type != TK_NAME)
		return unexpected(p, "a statement name"), NULL;
	p->pos++;
	if (is_tok_word(t, "if"))
		return parse_if(p, line);
	if (is_tok_word(t, "for"))
		return parse_for(p, line);
	if (is_tok_word(t, "set"))
		return parse_set(p, line);
	if (is_tok_word(t, "macro"))
		return parse_macro(p, line);
	if (is_tok_word(t, "filter"))
		return parse_filterblk(p, line);
	if (is_tok_word(t, "with"))
		return parse_with(p, line);
	if (is_tok_word(t, "call"))
		return parse_callblk(p, line);
	if (is_tok_word(t, "break") || is_tok_word(t, "continue")) {
		if ((n = mk(p, is_tok_word(t, "break") ? N_BREAK : N_CONTINUE,
		    line)) == NULL || end_block(p) != 0)
			return NULL;
		return n;
	}
	if (is_tok_word(t, "generation")) {
		if ((n = mk(p, N_BODY, line)) == NULL || end_block(p) != 0 ||
		    parse_body(p, &n->body, ends_gen) != 0)
			return NULL;
		p->pos++;
		if (end_block(p) != 0)
			return NULL;
		return n;
	}
	{
		char name[64];

		snprintf(name, sizeof name, "%.*s",
		    (int)(t->len > 40 ? 40 : t->len), t->s);
		if (is_tok_word(t, "include") || is_tok_word(t, "extends") ||
		    is_tok_word(t, "import") || is_tok_word(t, "from") ||
		    is_tok_word(t, "block") ||
		    is_tok_word(t, "autoescape") || is_tok_word(t, "do"))
			return perr(p, line, "unsupported construct: "
			    "'{%% %s %%}'", name), NULL;
		return perr(p, line, "unknown tag '%s'", name), NULL;
	}
}

/* A closing tag that does not belong where it is: an error. */
static int
closing_tag(struct parser *p, const char *const *ends)
{
	struct ttok *t = cur(p);
	const char *want = NULL;
	int len = (int)(t->len > 40 ? 40 : t->len);
	size_t k;

	if (t->type != TK_NAME || !((t->len > 3 &&
	    memcmp(t->s, "end", 3) == 0) || is_name(p, "elif") ||
	    is_name(p, "else")))
		return 0;
	for (k = 0; ends != NULL && ends[k] != NULL; k++)
		want = ends[k];
	if (want == NULL)
		return perr(p, t->line, "unexpected '{%% %.*s %%}' with no "
		    "open block", len, t->s);
	return perr(p, t->line, "unexpected '{%% %.*s %%}', expected "
	    "'{%% %s %%}'", len, t->s, want);
}

static int
parse_body(struct parser *p, struct tnlist *body, const char *const *ends)
{
	struct tnode *n;
	struct ttok *t;
	size_t k;

	if (enter(p) != 0)
		return ERR_TEMPLATE;
	for (;;) {
		t = cur(p);
		switch (t->type) {
		case TK_EOF:
			if (ends != NULL && ends[0] != NULL) {
				for (k = 0; ends[k + 1] != NULL; k++)
					;
				return perr(p, t->line, "unexpected end of "
				    "template, missing '{%% %s %%}'", ends[k]);
			}
			p->depth--;
			return 0;
		case TK_TEXT:
			if ((n = mk(p, N_TEXT, t->line)) == NULL)
				return ERR_NOMEM;
			n->name = t->s;
			n->nlen = t->len;
			p->pos++;
			break;
		case TK_VBEGIN:
			p->pos++;
			if ((n = mk(p, N_OUT, t->line)) == NULL ||
			    (n->a = parse_tuple(p, 1)) == NULL)
				return ERR_TEMPLATE;
			if (cur(p)->type != TK_VEND)
				return unexpected(p, "'}}'");
			p->pos++;
			break;
		case TK_BBEGIN:
			p->pos++;
			for (k = 0; ends != NULL && ends[k] != NULL; k++)
				if (is_name(p, ends[k])) {
					p->depth--;
					return 0;
				}
			if (closing_tag(p, ends) != 0)
				return ERR_TEMPLATE;
			if ((n = parse_stmt(p)) == NULL)
				return ERR_TEMPLATE;
			break;
		default:
			return unexpected(p, "text or a tag");
		}
		if (nl_push(p, body, n) != 0)
			return ERR_NOMEM;
	}
}

int
tparse_template(struct tokenizer_template *tp, const char *src, size_t len,
    struct err *e)
{
	struct parser p;
	int r;

	char *norm;
	size_t i, k;

	/*
	 * As jinja2 does: every newline sequence (\r\n, \r, \n) becomes
	 * "\n", and one trailing newline is dropped (keep_trailing_newline
	 * is off).
	 */
	if ((norm = tarena_alloc(&tp->arena, len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "template: out of memory");
	for (i = 0, k = 0; i < len; i++) {
		if (src[i] == '\r') {
			norm[k++] = '\n';
			if (i + 1 < len && src[i + 1] == '\n')
				i++;
		} else
			norm[k++] = src[i];
	}
	if (k > 0 && norm[k - 1] == '\n')
		k--;
	norm[k] = '\0';
	memset(&p, 0, sizeof p);
	p.a = &tp->arena;
	p.e = e;
	p.src = norm;
	p.len = k;
	if ((r = lex(&p)) != 0)
		return p.failed ? (e ? e->code : ERR_TEMPLATE) : r;
	if (parse_body(&p, &tp->body, NULL) != 0)
		return e ? e->code : ERR_TEMPLATE;
	return 0;
}
