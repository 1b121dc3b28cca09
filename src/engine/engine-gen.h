/*
 * engine-gen.h - one generation, the loop that run, batch and chat share:
 * evaluate a prompt, then sample a token, decode it to text and feed it
 * back, until an end-of-generation token, a stop string, the token limit,
 * a full context or a cancel request.
 */
#ifndef MOESCOPE_ENGINE_GEN_H
#define MOESCOPE_ENGINE_GEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

/* Why a generation ended. */
enum eng_gen_finish {
	ENG_GEN_STOP = 1,	/* an end-of-generation token or a stop
				 * string */
	ENG_GEN_LENGTH = 2,	/* max_tokens reached */
	ENG_GEN_CANCELLED = 3, /* *cancel became non-zero */
	ENG_GEN_CONTEXT = 4	/* the context is full (named "length") */
};

/* The name batch mode shows: "stop", "length", "cancelled". */
const char *eng_gen_finish_name(int finish);

/*
 * Called once per generated token (not for the end-of-generation token)
 * with the text that token releases: whole UTF-8 characters, minus any
 * tail that could still become a stop string, so the released pieces
 * concatenate to the final text exactly. len may be 0. A last call with
 * tok == -1 releases what was held back when generation ends without a
 * stop string. text is NULL when there is no tokenizer. Return 0 to go
 * on, or a negative ERR_* to stop (eng_gen_run then returns it).
 */
typedef int (*eng_gen_token_fn)(void *arg, int32_t tok, const char *text,
    size_t len);

#define ENG_GEN_MAX_STOP	16	/* stop strings per generation */

struct eng_gen_params {
	int			 max_tokens;	/* tokens to sample, >= 0 */
	const char *const	*stop;		/* [n_stop] non-empty strings */
	int			 n_stop;	/* <= ENG_GEN_MAX_STOP */
	const atomic_int	*cancel;	/* may be NULL */
	eng_gen_token_fn	 on_token;	/* may be NULL */
	void			*arg;
	/* without a tokenizer (t NULL): a token that ends generation, as
	 * the vocabulary's end-of-generation tokens do */
	int			 has_eos;
	int32_t			 eos;
};

struct eng_gen_result {
	int		 finish;	/* enum eng_gen_finish */
	int		 n_eval;	/* prompt tokens evaluated (n - n_past,
					 * fewer when cancelled) */
	int		 n_gen;		/* tokens sampled, the end-of-generation
					 * token included */
	int32_t		*ids;		/* [n_gen] sampled ids, malloc'd */
	char		*text;		/* the released text, NUL-terminated,
					 * stop string excluded; malloc'd ("" with
					 * no tokenizer) */
	size_t		 len;
	uint64_t	 prefill_ns;	/* evaluating the prompt */
	uint64_t	 decode_ns;	/* sampling + evaluating the rest */
};

/*
 * Generate after prompt[0..n). The first n_past tokens must already be in
 * c's KV cache at positions 0..n_past-1 and c must hold nothing after
 * them (eng_ctx_pos(c) == n_past, 0 <= n_past < n); the rest is
 * evaluated, then up to p->max_tokens tokens are sampled with s (every
 * prompt token is first accepted into s for the repetition penalty; s is
 * used as it is, so reset it first for a fresh start). The last sampled
 * token is not evaluated: afterwards the cache holds prompt + ids[0 ..
 * n_gen-2] (fewer when cancelled). t decodes text and knows the
 * end-of-generation tokens; with t NULL only p->eos (when set),
 * max_tokens, the context and cancel end a generation, and stop strings
 * are ignored.
 *
 * Returns 0 and fills *r (free it with eng_gen_result_fini, also after an
 * error) when the generation ended for one of the enum eng_gen_finish
 * reasons; a negative ERR_* for an evaluation error, an invalid argument,
 * out of memory, or the callback's own error.
 */
int eng_gen_run(struct eng_ctx *c, struct eng_sampler *s, const struct tok *t,
    const int32_t *prompt, int n, int n_past, const struct eng_gen_params *p,
    struct eng_gen_result *r, struct err *e);

void eng_gen_result_fini(struct eng_gen_result *r);

#endif
