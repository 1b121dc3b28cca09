/*
 * tokenizer.h - the tokenizer room: text <-> token ids exactly as
 * llama.cpp does it (byte-level BPE and SentencePiece vocabularies), and
 * the chat templates that turn a conversation into the text a model
 * expects (a Jinja2-subset interpreter).
 *
 * The room uses util and PCRE2 only.
 */
#ifndef MOESCOPE_TOKENIZER_H
#define MOESCOPE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ==================================================================== */
/* vocabulary (tokenizer-vocab.c, -bpe.c, -spm.c, -pre.c, -stream.c)     */
/* ==================================================================== */

struct tok;

/* Tokenizer families (GGUF tokenizer.ggml.model). */
enum tok_model {
	TOK_MODEL_SPM = 1,	/* "llama": SentencePiece-style, scores */
	TOK_MODEL_BPE = 2	/* "gpt2": byte-level BPE, merges */
};

/* Token types (GGUF tokenizer.ggml.token_type values). */
enum tok_type {
	TOK_TYPE_UNDEFINED = 0,
	TOK_TYPE_NORMAL = 1,
	TOK_TYPE_UNKNOWN = 2,
	TOK_TYPE_CONTROL = 3,
	TOK_TYPE_USER_DEFINED = 4,
	TOK_TYPE_UNUSED = 5,
	TOK_TYPE_BYTE = 6
};

/* Token attributes as llama.cpp derives them (bit set). */
enum tok_attr {
	TOK_ATTR_UNDEFINED = 1 << 0,
	TOK_ATTR_UNKNOWN = 1 << 1,
	TOK_ATTR_UNUSED = 1 << 2,
	TOK_ATTR_NORMAL = 1 << 3,
	TOK_ATTR_CONTROL = 1 << 4,
	TOK_ATTR_USER_DEFINED = 1 << 5,
	TOK_ATTR_BYTE = 1 << 6,
	TOK_ATTR_LSTRIP = 1 << 7,
	TOK_ATTR_RSTRIP = 1 << 8
};

#define TOK_ID_NONE	(-1)	/* no such token / key absent */
#define TOK_FLAG_ABSENT	(-1)	/* boolean key absent: llama.cpp default */

/* A byte string that need not be NUL-terminated. */
struct tok_str {
	const char	*s;
	size_t		 len;
};

/*
 * What a vocabulary is made of. Arrays are read during
 * tokenizer_vocab_new() only (everything is copied).
 */
struct tok_desc {
	int			 model;		/* enum tok_model */
	const char		*pre;		/* tokenizer.ggml.pre or NULL */
	const char		*name;		/* general.name, or NULL */
	size_t			 n_tokens;
	const struct tok_str	*tokens;	/* [n_tokens] */
	const float		*scores;	/* [n_tokens] or NULL */
	const int32_t		*types;		/* [n_tokens] enum tok_type,
						 * or NULL (all NORMAL) */
	size_t			 n_merges;
	const struct tok_str	*merges;	/* [n_merges] "a b" (BPE) */
	/* special ids from the file; TOK_ID_NONE when the key is absent
	 * (llama.cpp's per-model defaults apply); an id >= n_tokens is an
	 * error */
	int64_t			 bos, eos, unk, sep, pad, eot, eom;
	/* booleans from the file, or TOK_FLAG_ABSENT */
	int			 add_bos, add_eos, add_space_prefix;
};

/* What a loaded vocabulary says about itself. */
struct tok_info {
	int		 model;		/* enum tok_model */
	const char	*pre;		/* pre-tokenizer name in use */
	size_t		 n_tokens;
	size_t		 n_merges;
	int32_t		 bos, eos, eot, eom, unk, sep, pad, nl;
	int		 add_bos, add_eos, add_space_prefix;
	int		 clean_spaces;	/* llama.cpp's clean_up_tokenization */
};

/*
 * Build a vocabulary. Rejects, with a message naming the GGUF field:
 * an unknown model or pre-tokenizer, duplicate tokens, a special id out
 * of range, add_bos/add_eos without the token, and (BPE) a merge that is
 * not "A B" with A, B and AB all tokens of the vocabulary.
 */
int tokenizer_vocab_new(struct tok **out, const struct tok_desc *d,
    struct err *e);
void tokenizer_vocab_free(struct tok *t);

const struct tok_info *tokenizer_vocab_info(const struct tok *t);

/* A growable id array; encode appends to it. Free v with free(). */
struct tok_ids {
	int32_t	*v;
	size_t	 n, cap;
};

/* Append one id (0, or ERR_NOMEM). */
int tokenizer_ids_push(struct tok_ids *o, int32_t id);

/* Encode flags. */
#define TOK_ENC_ADD_SPECIAL	0x1	/* BOS/EOS as the vocab says */
#define TOK_ENC_PARSE_SPECIAL	0x2	/* control tokens in the text are
					 * tokens (chat markup); user-defined
					 * tokens always are, as in llama.cpp */

/*
 * Tokenize len bytes of text, appending ids to out; identical to
 * llama.cpp's llama_tokenize(text, add_special, parse_special). Any byte
 * string is accepted (invalid UTF-8 is handled as llama.cpp does). Not
 * thread-safe: calls on one struct tok must not overlap (it keeps a word
 * cache). ERR_NOMEM, or ERR_RANGE when the regex engine gives up.
 */
int tokenizer_vocab_encode(struct tok *t, const char *text, size_t len,
    unsigned flags, struct tok_ids *out, struct err *e);

/* Decode flags. */
#define TOK_DEC_SPECIAL		0x1	/* render control/unknown tokens */
#define TOK_DEC_REMOVE_SPECIAL	0x2	/* drop leading BOS / trailing EOS
					 * when the vocab adds them */
#define TOK_DEC_CLEAN_SPACES	0x4	/* llama.cpp's " ," -> "," clean-up
					 * for vocabs that ask for it */
#define TOK_DEC_KEEP_SPACE	0x8	/* keep the leading space that SPM
					 * vocabs otherwise strip */

/*
 * Ids -> bytes, as llama.cpp's llama_detokenize(remove_special =
 * REMOVE_SPECIAL, unparse_special = SPECIAL) with clean-up only when
 * TOK_DEC_CLEAN_SPACES. *out is malloc'd and NUL-terminated (*len bytes
 * before the NUL). Ids out of range: ERR_RANGE.
 */
int tokenizer_vocab_decode(const struct tok *t, const int32_t *ids,
    size_t n, unsigned flags, char **out, size_t *len, struct err *e);

/* The bytes one token stands for (control tokens rendered); NULL for an
 * id out of range. */
const char *tokenizer_vocab_piece(const struct tok *t, int32_t id,
    size_t *len);

/* The token's string as stored in the vocabulary (e.g. "Ġthe"). */
const char *tokenizer_vocab_text(const struct tok *t, int32_t id,
    size_t *len);

/* enum tok_attr bits of a token (0 for an id out of range). */
unsigned tokenizer_vocab_attr(const struct tok *t, int32_t id);

/* True for the tokens that end generation (EOS, EOT, <|im_end|>, ...). */
int tokenizer_vocab_is_eog(const struct tok *t, int32_t id);

/*
 * Streaming decoder: feed generated ids one by one and get back only
 * whole UTF-8 characters, so a UI never prints half a character. Bytes
 * that cannot start or continue a valid sequence are passed through.
 */
struct tok_stream {
	const struct tok	*t;
	unsigned		 flags;		/* TOK_DEC_* */
	int			 first;		/* no token seen yet */
	char			 held[4];	/* incomplete character */
	size_t			 n_held;
	char			*buf;
	size_t			 cap;
};

void tokenizer_stream_init(struct tok_stream *s, const struct tok *t,
    unsigned flags);

/* Append id's text; *out and *len give the bytes now complete (valid until
 * the next call). ERR_RANGE for an id out of range, ERR_NOMEM. */
int tokenizer_stream_push(struct tok_stream *s, int32_t id,
    const char **out, size_t *len);

/* Whatever is still held back (an incomplete character at the end). */
int tokenizer_stream_flush(struct tok_stream *s, const char **out,
    size_t *len);

void tokenizer_stream_fini(struct tok_stream *s);

/* ==================================================================== */
/* chat templates (tokenizer-template.c and friends)                     */
/* ==================================================================== */

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
 *
 * A compiled template is read-only while rendering: one template may be
 * rendered by several threads at once (each with its own tvars).
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
 * Render the conversation msgs[0..n) (bound to the variable `messages`,
 * each message a {"role", "content"} dict) with t and opts. Same results
 * as above; ERR_USAGE when a message is not valid UTF-8.
 */
int tokenizer_template_render_msgs(const struct tokenizer_template *t,
    const struct tokenizer_chat_msg *msgs, size_t n,
    const struct tokenizer_template_opts *opts, char **out, size_t *len,
    struct err *e);

/* Compile tmpl, then tokenizer_template_render_msgs(). */
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
