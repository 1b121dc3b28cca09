/*
 * engine-gen.c - the generation loop: prefill, then sample / decode /
 * feed back one token at a time.
 *
 * Text comes from the tokenizer's streaming decoder (whole UTF-8
 * characters only) into one growing buffer. Stop strings are searched in
 * that buffer, only in the part a new piece can complete; until it is
 * certain that the tail of the buffer is not the beginning of a stop
 * string, that tail is held back, so what the callback has been given
 * never contains (a part of) a stop string and always concatenates to
 * the final text.
 *
 * Per token: one sampling, one eng_eval of a single token, no allocation
 * except when the id or text buffers double.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine-gen.h"

const char *
eng_gen_finish_name(int finish)
{
	switch (finish) {
	case ENG_GEN_STOP:
		return "stop";
	case ENG_GEN_LENGTH:
	case ENG_GEN_CONTEXT:
		return "length";
	case ENG_GEN_CANCELLED:
		return "cancelled";
	}
	return "error";
}

void
eng_gen_result_fini(struct eng_gen_result *r)
{
	free(r->ids);
	free(r->text);
	memset(r, 0, sizeof *r);
}

/* The generation in progress. */
struct gen {
	const struct eng_gen_params	*p;
	struct eng_gen_result		*r;
	size_t				 cap_ids, cap_text;
	size_t				 released;	/* text given out */
	size_t				 max_stop;	/* longest stop */
};

static int
push_id(struct gen *g, int32_t tok)
{
	struct eng_gen_result *r = g->r;

	if (util_grow(&r->ids, &g->cap_ids, (size_t)r->n_gen + 1,
	    sizeof *r->ids) != 0)
		return ERR_NOMEM;
	r->ids[r->n_gen++] = tok;
	return 0;
}

static int
push_text(struct gen *g, const char *s, size_t len)
{
	struct eng_gen_result *r = g->r;

	if (util_grow(&r->text, &g->cap_text, r->len + len + 1, 1) != 0)
		return ERR_NOMEM;
	memcpy(r->text + r->len, s, len);
	r->len += len;
	r->text[r->len] = '\0';
	return 0;
}

/*
 * The earliest stop string that ends in text[from..]; its start or -1.
 * Only a match that overlaps the new bytes (from old_len on) can be new.
 */
static long
find_stop(const struct gen *g, size_t old_len)
{
	const struct eng_gen_result *r = g->r;
	long best = -1;
	size_t from, i, sl;
	int k;

	for (k = 0; k < g->p->n_stop; k++) {
		sl = strlen(g->p->stop[k]);
		if (sl > r->len)
			continue;
		from = old_len + 1 > sl ? old_len + 1 - sl : 0;
		for (i = from; i + sl <= r->len; i++)
			if (memcmp(r->text + i, g->p->stop[k], sl) == 0) {
				if (best < 0 || (long)i < best)
					best = (long)i;
				break;
			}
	}
	return best;
}

/* Bytes at the end of the unreleased text that begin some stop string. */
static size_t
held_tail(const struct gen *g)
{
	const struct eng_gen_result *r = g->r;
	size_t avail = r->len - g->released, hold = 0, sl, k;
	int i;

	for (i = 0; i < g->p->n_stop; i++) {
		sl = strlen(g->p->stop[i]);
		for (k = sl - 1 < avail ? sl - 1 : avail; k > hold; k--)
			if (memcmp(r->text + r->len - k, g->p->stop[i], k) ==
			    0) {
				hold = k;
				break;
			}
	}
	return hold;
}

/* Give the callback text[released..upto). */
static int
release(struct gen *g, int32_t tok, size_t upto, const struct tok *t)
{
	const char *s = g->r->text ? g->r->text + g->released : "";
	size_t n = upto - g->released;
	int rc = 0;

	g->released = upto;
	if (g->p->on_token != NULL)
		rc = g->p->on_token(g->p->arg, tok, t ? s : NULL, n);
	return rc;
}

int
eng_gen_run(struct eng_ctx *c, struct eng_sampler *s, const struct tok *t,
    const int32_t *prompt, int n, int n_past, const struct eng_gen_params *p,
    struct eng_gen_result *r, struct err *e)
{
	struct tok_stream ts;
	struct gen g;
	const char *piece;
	size_t plen, old;
	uint64_t t0;
	int32_t tok;
	long at;
	int i, rc = 0, done = 0;	/* done: a stop string matched */

	memset(r, 0, sizeof *r);
	memset(&g, 0, sizeof g);
	g.p = p;
	g.r = r;
	if (n < 1 || n_past < 0 || n_past >= n || p->max_tokens < 0 ||
	    p->n_stop < 0 || p->n_stop > ENG_GEN_MAX_STOP ||
	    eng_ctx_pos(c) != n_past)
		return err_set(e, ERR_USAGE, "generation: bad arguments "
		    "(%d prompt tokens, %d cached, %d in the context)", n,
		    n_past, eng_ctx_pos(c));
	for (i = 0; i < p->n_stop; i++)
		if (p->stop[i] == NULL || p->stop[i][0] == '\0')
			return err_set(e, ERR_USAGE, "generation: stop string "
			    "%d is empty", i + 1);
	if (push_text(&g, "", 0) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++)
		eng_sampler_accept(s, prompt[i]);
	t0 = util_now_ns();
	rc = eng_eval(c, prompt + n_past, n - n_past, 0, NULL, p->cancel, e);
	r->prefill_ns = util_now_ns() - t0;
	r->n_eval = eng_ctx_pos(c) - n_past;
	if (rc == ERR_CANCELLED) {
		r->finish = ENG_GEN_CANCELLED;
		err_clear(e);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (t != NULL)
		tokenizer_stream_init(&ts, t, 0);
	t0 = util_now_ns();
	while (!done) {
		if (r->n_gen >= p->max_tokens) {
			r->finish = ENG_GEN_LENGTH;
			break;
		}
		if (p->cancel != NULL && atomic_load(p->cancel)) {
			r->finish = ENG_GEN_CANCELLED;
			break;
		}
		tok = eng_sampler_sample(s, eng_last_logits(c));
		eng_sampler_accept(s, tok);
		if (push_id(&g, tok) != 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		if (!eng_sampler_get_params(s)->ignore_eos && (t != NULL ?
		    tokenizer_vocab_is_eog(t, tok) : p->has_eos &&
		    tok == p->eos)) {
			r->finish = ENG_GEN_STOP;
			break;
		}
		old = r->len;
		if (t != NULL) {
			if ((rc = tokenizer_stream_push(&ts, tok, &piece,
			    &plen)) != 0) {
				err_set(e, rc, "decoding token %d failed",
				    tok);
				break;
			}
			if (push_text(&g, piece, plen) != 0) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				break;
			}
		}
		at = find_stop(&g, old);
		if (at >= 0) {
			r->len = (size_t)at;
			r->text[r->len] = '\0';
			r->finish = ENG_GEN_STOP;
			done = 1;
		}
		if ((rc = release(&g, tok, r->len - (done ? 0 : held_tail(&g)),
		    t)) != 0) {
			if (e != NULL && e->code == 0)
				err_set(e, rc, "generation stopped by its "
				    "consumer");
			break;
		}
		if (done)
			break;
		if (r->n_gen >= p->max_tokens) {
			r->finish = ENG_GEN_LENGTH;
			break;
		}
		if (eng_ctx_pos(c) >= eng_ctx_n_ctx(c)) {
			r->finish = ENG_GEN_CONTEXT;
			break;
		}
		rc = eng_eval(c, &tok, 1, 0, NULL, p->cancel, e);
		if (rc == ERR_CANCELLED) {
			err_clear(e);
			rc = 0;
			r->finish = ENG_GEN_CANCELLED;
			break;
		}
		if (rc != 0)
			break;
	}
	if (rc == 0 && t != NULL && !done) {
		/* an incomplete character at the very end, as it is */
		if (tokenizer_stream_flush(&ts, &piece, &plen) == 0 &&
		    plen > 0 && push_text(&g, piece, plen) != 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	if (rc == 0 && r->len > g.released)
		rc = release(&g, -1, r->len, t);
	if (t != NULL)
		tokenizer_stream_fini(&ts);
	r->decode_ns = util_now_ns() - t0;
	return rc;
}
