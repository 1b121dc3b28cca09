/*
 * tokenizer.h - the tokenizer room: text <-> token ids, and the chat
 * templates that turn a conversation into the text a model expects.
 *
 * The room uses util (and PCRE2) only.
 */
#ifndef MOESCOPE_TOKENIZER_H
#define MOESCOPE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/util.h"

/* ------------------------------------------------------------------ */
/* Chat templates                                                      */
/* ------------------------------------------------------------------ */

/*
 * A Jinja2-subset interpreter that renders a model's
 * tokenizer.chat_template the way Hugging Face transformers does:
 * trim_blocks and lstrip_blocks on, loopcontrols on, an immutable
 * sandbox, tojson with ensure_ascii=False, raise_exception() and
 * strftime_now() as globals.
 *
 * Values handed to a render are built in a struct tokenizer_tvars, an
 * arena that owns every value made from it; free it when done.
 */

struct tokenizer_template;	/* a compiled template */
struct tokenizer_tvars;		/* variables and the values they hold */
struct tokenizer_tval;		/* none/bool/int/float/str/list/dict */

/* One plain chat message. */
struct tokenizer_chat_msg {
	const char	*role;
	const char	*content;
};

/* Render options; a zeroed struct is valid (empty bos/eos, no prompt). */
struct tokenizer_template_opts {
	const char	*bos_token;	/* NULL: "" */
	const char	*eos_token;	/* NULL: "" */
	int		 add_generation_prompt;
	time_t		 now;		/* strftime_now(); 0: the clock */
	size_t		 max_output;	/* 0: 16 MiB */
};

/*
 * Parse src (len bytes, UTF-8) into *out. On a syntax error or a
 * construct the interpreter does not support, returns ERR_TEMPLATE with
 * a message naming the construct and the line; ERR_NOMEM when out of
 * memory. Free the result with tokenizer_template_free().
 */
int tokenizer_template_compile(const char *src, size_t len,
    struct tokenizer_template **out, struct err *e);

/* Free a compiled template (NULL is fine). */
void tokenizer_template_free(struct tokenizer_template *t);

/*
 * Render t with the variables in vars (which may be NULL) plus
 * bos_token, eos_token and add_generation_prompt from opts (these are
 * set only when vars does not already define them). On success *out is
 * a malloc'd NUL-terminated string of *len bytes, freed by the caller.
 * A template error (raise_exception(), an undefined value used where
 * jinja2 raises, a type error, a limit reached) returns ERR_TEMPLATE; a
 * raise_exception(msg) leaves exactly msg in e->msg.
 */
int tokenizer_template_render_vars(const struct tokenizer_template *t,
    struct tokenizer_tvars *vars, const struct tokenizer_template_opts *opts,
    char **out, size_t *len, struct err *e);

/*
 * Compile tmpl and render the conversation msgs[0..n) (bound to the
 * variable `messages`) with opts. Same results as above.
 */
int tokenizer_template_render(const char *tmpl,
    const struct tokenizer_chat_msg *msgs, size_t n,
    const struct tokenizer_template_opts *opts, char **out, size_t *len,
    struct err *e);

/*
 * A built-in template by name ("chatml"), or NULL. Used for models that
 * ship no chat template.
 */
const char *tokenizer_template_builtin(const char *name);

/* The names of the built-in templates, NULL-terminated. */
extern const char *const tokenizer_template_builtin_names[];

/*
 * Variables for a render. tokenizer_tvars_new() returns NULL when out of
 * memory. The value constructors return NULL when out of memory (or on
 * invalid UTF-8 for strings); a NULL argument to the list/dict/set calls
 * makes them return ERR_NOMEM, so a chain of calls needs one check.
 */
struct tokenizer_tvars *tokenizer_tvars_new(void);
void tokenizer_tvars_free(struct tokenizer_tvars *v);

struct tokenizer_tval *tokenizer_tvars_none(struct tokenizer_tvars *v);
struct tokenizer_tval *tokenizer_tvars_bool(struct tokenizer_tvars *v,
    int b);
struct tokenizer_tval *tokenizer_tvars_int(struct tokenizer_tvars *v,
    int64_t i);
struct tokenizer_tval *tokenizer_tvars_float(struct tokenizer_tvars *v,
    double f);
struct tokenizer_tval *tokenizer_tvars_str(struct tokenizer_tvars *v,
    const char *s, size_t len);
struct tokenizer_tval *tokenizer_tvars_list(struct tokenizer_tvars *v);
struct tokenizer_tval *tokenizer_tvars_dict(struct tokenizer_tvars *v);

/* Append item to list; 0 or ERR_NOMEM / ERR_USAGE (not a list). */
int tokenizer_tvars_append(struct tokenizer_tvars *v,
    struct tokenizer_tval *list, struct tokenizer_tval *item);

/* Set dict[key] = val (insertion order kept; a second put replaces). */
int tokenizer_tvars_put(struct tokenizer_tvars *v,
    struct tokenizer_tval *dict, const char *key,
    struct tokenizer_tval *val);

/* Bind a template variable (messages, tools, enable_thinking, ...). */
int tokenizer_tvars_set(struct tokenizer_tvars *v, const char *name,
    struct tokenizer_tval *val);

#endif
