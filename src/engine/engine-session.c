/*
 * engine-session.c - the engine thread behind the TUI (engine-session.h).
 *
 * One thread per session runs a loop: take the oldest request from the
 * command queue (mutex + condvar), carry it out, push events. The model,
 * context and sampler are touched only here. Events are built as heap
 * copies and appended to the event queue under its own mutex; the first
 * event into an empty queue writes one byte to the wake pipe (the UI
 * reads the pipe empty, then takes the whole list), so a fast decoder
 * does not flood the pipe.
 *
 * A generation: the prompt (token ids, or messages rendered by the chat
 * template and tokenized) is compared with the tokens already in the KV
 * cache; the common prefix is kept, the rest evaluated (ROUTE events for
 * each token come from the engine's route hook), then tokens are sampled
 * one at a time until an end-of-generation token, max_tokens, a full
 * context or a stop. The cancel flag is an atomic_int the forward pass
 * reads between layers; a cancelled eval leaves only the completed
 * tokens in the cache, which the session re-reads via eng_ctx_pos().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine-chat.h"
#include "engine/engine-gen.h"
#include "engine/engine-session.h"
#include "formats/formats.h"

enum {
	REQ_LOAD = 1,
	REQ_GENERATE,
	REQ_RESET,
	REQ_SHUTDOWN
};

struct req {
	int				 type;
	uint32_t			 gen;
	char				*path;		/* LOAD */
	int32_t				*tokens;	/* GENERATE */
	int				 n_tokens;
	char				**roles, **contents;
	int				 n_msgs;
	struct eng_sampler_params	 sp;
	int				 max_tokens;
	struct req			*next;
};

struct eng_session {
	pthread_t			 thread;
	int				 started;
	int				 pipe[2];	/* [0] UI reads */

	pthread_mutex_t			 qlock;		/* requests */
	pthread_cond_t			 qcond;
	struct req			*qhead, *qtail;
	int				 running;	/* a request in hand */
	uint32_t			 next_gen;

	pthread_mutex_t			 elock;		/* events */
	struct eng_ev			*ehead, *etail;

	atomic_int			 cancel;

	struct eng_sampler_params	 sp;		/* under qlock */
	int				 max_tokens;	/* under qlock */

	/* engine thread only */
	struct eng_params		 ep;
	struct eng_model		*model;
	struct eng_ctx			*ctx;
	struct eng_sampler		*smp;
	struct eng_chat			 chat;	/* tokenizer, template */
	int				 has_chat;
	int32_t				*cache;		/* tokens in the KV */
	int				 n_cache;
	int				 n_ctx;
	uint32_t			 eos;
	int				 has_eos;
	uint32_t			 cur_gen;
	uint64_t			 cache_t;	/* last CACHE event */
	double				 ram_share;	/* under qlock */
	int				 cur_prompt_end; /* first sampled pos */
};

void
eng_session_ev_free(struct eng_ev *ev)
{
	struct eng_ev *n;

	for (; ev != NULL; ev = n) {
		n = ev->next;
		free(ev->text);
		free(ev->experts);
		free(ev->weights);
		free(ev->predicted);
		free(ev->cache_layers);
		free(ev->resident);
		free(ev);
	}
}

static void
req_free(struct req *r)
{
	int i;

	if (r == NULL)
		return;
	free(r->path);
	free(r->tokens);
	for (i = 0; i < r->n_msgs; i++) {
		free(r->roles[i]);
		free(r->contents[i]);
	}
	free(r->roles);
	free(r->contents);
	free(r);
}

/* ---- events ---- */

static struct eng_ev *
ev_new(struct eng_session *s, int type)
{
	struct eng_ev *ev;

	if ((ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	ev->type = type;
	ev->gen = s->cur_gen;
	ev->t_ns = util_now_ns();
	return ev;
}

static void
ev_push(struct eng_session *s, struct eng_ev *ev)
{
	int was_empty;
	char b = 1;

	if (ev == NULL)
		return;
	pthread_mutex_lock(&s->elock);
	was_empty = s->ehead == NULL;
	if (s->etail != NULL)
		s->etail->next = ev;
	else
		s->ehead = ev;
	s->etail = ev;
	pthread_mutex_unlock(&s->elock);
	/* A full pipe already wakes the reader; EAGAIN is fine. */
	if (was_empty && write(s->pipe[1], &b, 1) < 0 && errno != EAGAIN)
		return;
}

static void
ev_error(struct eng_session *s, const struct err *e)
{
	struct eng_ev *ev = ev_new(s, ENG_EV_ERROR);

	if (ev == NULL)
		return;
	ev->err = *e;
	if (ev->err.msg[0] == '\0')
		snprintf(ev->err.msg, sizeof ev->err.msg, "%s",
		    err_name(e->code));
	ev_push(s, ev);
}

static void
ev_done(struct eng_session *s, uint32_t gen, const struct eng_reply_stats *st)
{
	struct eng_ev *ev = ev_new(s, ENG_EV_DONE);

	if (ev == NULL)
		return;
	ev->gen = gen;
	ev->stats = *st;
	ev_push(s, ev);
}

/* A snapshot of the expert cache: counters and residency per layer. */
static void
ev_cache(struct eng_session *s)
{
	const struct eng_hparams *hp = eng_model_hparams(s->model);
	struct eng_ev *ev;
	size_t nl = (size_t)hp->n_layer, ne = (size_t)hp->n_expert;
	int il;

	s->cache_t = util_now_ns();
	if (ne == 0 || (ev = ev_new(s, ENG_EV_CACHE)) == NULL)
		return;
	ev->n_layer = hp->n_layer;
	ev->cache_layers = calloc(nl, sizeof *ev->cache_layers);
	ev->resident = calloc(nl * ne, 1);
	if (ev->cache_layers == NULL || ev->resident == NULL) {
		eng_session_ev_free(ev);
		return;
	}
	eng_cache_info(s->ctx, &ev->cache);
	for (il = 0; il < hp->n_layer; il++)
		eng_cache_layer(s->ctx, il, &ev->cache_layers[il],
		    ev->resident + (size_t)il * ne);
	ev_push(s, ev);
}

/* The engine's route hook: copy the record into a ROUTE event. */
static void
route_hook(void *arg, const struct eng_route *r)
{
	struct eng_session *s = arg;
	struct eng_ev *ev;
	size_t n = (size_t)r->n_layer * (size_t)r->k, plen = 0;
	const char *piece;

	if ((ev = ev_new(s, ENG_EV_ROUTE)) == NULL)
		return;
	ev->pos = r->pos;
	ev->token = r->token;
	ev->generated = r->pos >= s->cur_prompt_end;
	ev->n_layer = r->n_layer;
	ev->k = r->k;
	ev->experts = malloc((n ? n : 1) * sizeof *ev->experts);
	ev->weights = malloc((n ? n : 1) * sizeof *ev->weights);
	if (ev->experts == NULL || ev->weights == NULL) {
		eng_session_ev_free(ev);
		return;
	}
	memcpy(ev->experts, r->experts, n * sizeof *ev->experts);
	memcpy(ev->weights, r->weights, n * sizeof *ev->weights);
	if (r->predicted != NULL) {
		if ((ev->predicted = malloc((n ? n : 1) *
		    sizeof *ev->predicted)) == NULL) {
			eng_session_ev_free(ev);
			return;
		}
		memcpy(ev->predicted, r->predicted, n * sizeof *ev->predicted);
	}
	if (s->has_chat && (piece = tokenizer_vocab_piece(s->chat.tok,
	    r->token, &plen)) != NULL && (ev->text = malloc(plen + 1)) !=
	    NULL) {
		memcpy(ev->text, piece, plen);
		ev->text[plen] = '\0';
		ev->text_len = plen;
	}
	ev_push(s, ev);
}

/* ---- requests ---- */

static int
req_push(struct eng_session *s, struct req *r, int front)
{
	pthread_mutex_lock(&s->qlock);
	if (r->type == REQ_GENERATE)
		r->gen = ++s->next_gen;
	if (front && s->qhead != NULL) {
		r->next = s->qhead;
		s->qhead = r;
	} else {
		if (s->qtail != NULL)
			s->qtail->next = r;
		else
			s->qhead = r;
		s->qtail = r;
	}
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

static struct req *
req_take(struct eng_session *s)
{
	struct req *r;

	pthread_mutex_lock(&s->qlock);
	while (s->qhead == NULL)
		pthread_cond_wait(&s->qcond, &s->qlock);
	r = s->qhead;
	s->qhead = r->next;
	if (s->qhead == NULL)
		s->qtail = NULL;
	r->next = NULL;
	s->running = 1;
	/* A stop issued before this generation started must not leak
	 * into it; one issued from now on does. */
	if (r->type == REQ_GENERATE)
		atomic_store(&s->cancel, 0);
	pthread_mutex_unlock(&s->qlock);
	return r;
}

/* ---- the model ---- */

static void
unload(struct eng_session *s)
{
	if (s->has_chat)
		eng_chat_fini(&s->chat);
	s->has_chat = 0;
	eng_sampler_free(s->smp);
	eng_ctx_free(s->ctx);
	eng_model_free(s->model);
	free(s->cache);
	s->smp = NULL;
	s->ctx = NULL;
	s->model = NULL;
	s->cache = NULL;
	s->n_cache = 0;
}

static void
do_load(struct eng_session *s, const char *path)
{
	struct err e = { 0 };
	struct eng_ev *ev;
	const struct eng_hparams *hp;
	struct gguf *g;
	char *name = NULL;
	struct eng_sampler_params sp;
	struct eng_params ep = s->ep;
	double share;

	unload(s);
	pthread_mutex_lock(&s->qlock);
	sp = s->sp;
	share = s->ram_share;
	pthread_mutex_unlock(&s->qlock);
	if (eng_model_open(&s->model, path, &e) != 0)
		goto fail;
	if (share > 0) {
		ep.ram_budget = (uint64_t)(share *
		    (double)eng_model_expert_bytes(s->model));
		if (ep.ram_budget == 0)
			ep.ram_budget = 1;
	}
	if (eng_ctx_new(&s->ctx, s->model, &ep, &e) != 0 ||
	    eng_sampler_new(&s->smp, eng_model_hparams(s->model)->n_vocab,
	    &sp, &e) != 0)
		goto fail;
	hp = eng_model_hparams(s->model);
	s->n_ctx = eng_ctx_n_ctx(s->ctx);
	if ((s->cache = malloc((size_t)s->n_ctx * sizeof *s->cache)) == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	g = eng_model_gguf(s->model);
	s->has_eos = gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &s->eos,
	    NULL) == 0;
	eng_set_route_hook(s->ctx, route_hook, s);
	/* Text needs the tokenizer and the template; without them the
	 * model still runs on token ids. */
	err_clear(&e);
	if (eng_chat_load(&s->chat, g, NULL, &e) == 0)
		s->has_chat = 1;
	else {
		err_prefix(&e, "%s: text disabled (token ids only)", path);
		ev_error(s, &e);
	}
	if ((ev = ev_new(s, ENG_EV_LOADED)) == NULL)
		return;
	snprintf(ev->info.path, sizeof ev->info.path, "%s", path);
	if (gguf_get_strdup(g, "general.name", &name, NULL) == 0) {
		snprintf(ev->info.name, sizeof ev->info.name, "%s", name);
		free(name);
	}
	ev->info.hp = *hp;
	ev->info.n_ctx = s->n_ctx;
	ev->info.n_threads = eng_ctx_n_threads(s->ctx);
	ev->info.has_vocab = s->has_chat;
	ev->info.expert_bytes = eng_model_expert_bytes(s->model);
	ev->info.bytes_per_token = eng_model_bytes_per_token(s->model);
	ev_push(s, ev);
	ev_cache(s);
	return;
fail:
	unload(s);
	err_prefix(&e, "cannot load model");
	ev_error(s, &e);
}

/* ---- generation ---- */

/*
 * The prompt of r as token ids (malloc'd). Text prompts need the
 * model's vocabulary and chat template.
 */
static int
prompt_tokens(struct eng_session *s, const struct req *r, int32_t **out,
    int *n, struct err *e)
{
	struct tokenizer_chat_msg *msgs;
	struct tok_ids ids = { 0 };
	int i, rc;

	if (r->tokens != NULL) {
		*out = malloc((size_t)(r->n_tokens ? r->n_tokens : 1) *
		    sizeof **out);
		if (*out == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		memcpy(*out, r->tokens, (size_t)r->n_tokens * sizeof **out);
		*n = r->n_tokens;
		return 0;
	}
	if (!s->has_chat)
		return err_set(e, ERR_UNSUPPORTED, "this model has no usable "
		    "tokenizer or chat template; send token ids (/tokens "
		    "1,2,3)");
	if ((msgs = calloc((size_t)r->n_msgs + 1, sizeof *msgs)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < r->n_msgs; i++) {
		msgs[i].role = r->roles[i];
		msgs[i].content = r->contents[i];
	}
	rc = eng_chat_encode(&s->chat, msgs, (size_t)r->n_msgs, 1, &ids, NULL,
	    e);
	free(msgs);
	if (rc != 0) {
		free(ids.v);
		return rc;
	}
	if (ids.n > INT32_MAX) {
		free(ids.v);
		return err_set(e, ERR_RANGE, "the prompt is too long");
	}
	*out = ids.v;
	*n = (int)ids.n;
	return 0;
}

/* What the generation loop (eng_gen_run) reports to: each piece of text
 * it releases becomes a TOKEN event. */
struct gen_cb {
	struct eng_session	*s;
	struct eng_reply_stats	*st;
	uint64_t		 t0;
	int			 pos;		/* the next token's position */
};

static int
on_token(void *arg, int32_t tok, const char *text, size_t len)
{
	struct gen_cb *g = arg;
	struct eng_session *s = g->s;
	struct eng_ev *ev;

	if (tok >= 0 && g->st->gen_tokens++ == 0)
		g->st->ttft_ms = (double)(util_now_ns() - g->t0) / 1e6;
	if ((ev = ev_new(s, ENG_EV_TOKEN)) != NULL) {
		ev->pos = tok >= 0 ? g->pos : -1;
		ev->token = tok;
		if (text == NULL)
			len = 0;
		if ((ev->text = malloc(len + 1)) != NULL) {
			if (len > 0)
				memcpy(ev->text, text, len);
			ev->text[len] = '\0';
			ev->text_len = len;
		}
		ev_push(s, ev);
	}
	if (tok >= 0)
		g->pos++;
	if (util_now_ns() - s->cache_t >= 100000000ull)
		ev_cache(s);
	return 0;
}

static void
do_generate(struct eng_session *s, struct req *r)
{
	struct eng_reply_stats st = { 0 };
	struct eng_gen_params gp = { 0 };
	struct eng_gen_result gr = { 0 };
	struct gen_cb cb = { 0 };
	struct err e = { 0 };
	int32_t *toks = NULL;
	int n = 0, keep, i, rc;
	uint64_t dec_tok0, dec_ns0;
	const struct eng_timing *tm;

	s->cur_gen = r->gen;
	st.finish = ENG_FINISH_ERROR;
	cb.t0 = util_now_ns();
	if (s->model == NULL) {
		err_set(&e, ERR_USAGE, "no model loaded (use /model PATH)");
		goto fail;
	}
	if (prompt_tokens(s, r, &toks, &n, &e) != 0)
		goto fail;
	st.prompt_tokens = n;
	if (n == 0) {
		err_set(&e, ERR_USAGE, "empty prompt");
		goto fail;
	}
	if (n >= s->n_ctx) {
		err_set(&e, ERR_RANGE, "the conversation (%d tokens) does "
		    "not fit the context (%d); /clear starts afresh", n,
		    s->n_ctx);
		goto fail;
	}
	/* Keep the cached common prefix; at least one token must be
	 * evaluated to have logits. */
	for (keep = 0; keep < s->n_cache && keep < n - 1; keep++)
		if (s->cache[keep] != toks[keep])
			break;
	if (keep < s->n_cache) {
		eng_ctx_rewind(s->ctx, keep);
		s->n_cache = keep;
	}
	eng_sampler_free(s->smp);
	s->smp = NULL;
	if (eng_sampler_new(&s->smp, eng_model_hparams(s->model)->n_vocab,
	    &r->sp, &e) != 0)
		goto fail;
	st.prefill_tokens = n - keep;
	s->cur_prompt_end = n;
	dec_tok0 = eng_timing(s->ctx)->decode_tokens;
	dec_ns0 = eng_timing(s->ctx)->decode_ns;
	cb.s = s;
	cb.st = &st;
	cb.pos = n;
	gp.max_tokens = r->max_tokens;
	gp.cancel = &s->cancel;
	gp.on_token = on_token;
	gp.arg = &cb;
	gp.has_eos = !s->has_chat && s->has_eos;
	gp.eos = (int32_t)s->eos;
	rc = eng_gen_run(s->ctx, s->smp, s->has_chat ? s->chat.tok : NULL,
	    toks, n, keep, &gp, &gr, &e);
	/* the KV cache holds the prompt and the sampled tokens but the
	 * last: mirror it */
	s->n_cache = eng_ctx_pos(s->ctx);
	for (i = keep; i < s->n_cache; i++)
		s->cache[i] = i < n ? toks[i] : gr.ids[i - n];
	if (rc != 0)
		goto fail;
	if (gr.prefill_ns > 0)
		st.prefill_tps = (double)gr.n_eval * 1e9 /
		    (double)gr.prefill_ns;
	/* Decode speed counts the tokens after the first: the first one's
	 * time is the prefill's. */
	if (st.gen_tokens > 1 && gr.decode_ns > 0)
		st.decode_tps = (double)(st.gen_tokens - 1) * 1e9 /
		    (double)gr.decode_ns;
	tm = eng_timing(s->ctx);
	if (tm->decode_ns > dec_ns0)
		st.eval_decode_tps = (double)(tm->decode_tokens - dec_tok0) *
		    1e9 / (double)(tm->decode_ns - dec_ns0);
	switch (gr.finish) {
	case ENG_GEN_STOP:
		st.finish = ENG_FINISH_STOP;
		break;
	case ENG_GEN_CANCELLED:
		st.finish = ENG_FINISH_CANCEL;
		break;
	case ENG_GEN_CONTEXT:
		st.finish = ENG_FINISH_CTX;
		break;
	default:
		st.finish = ENG_FINISH_LENGTH;
	}
	goto out;
fail:
	st.finish = ENG_FINISH_ERROR;
	ev_error(s, &e);
out:
	if (s->model != NULL && s->ctx != NULL)
		ev_cache(s);
	st.ctx_used = s->n_cache;
	eng_gen_result_fini(&gr);
	free(toks);
	ev_done(s, r->gen, &st);
}

static void *
session_main(void *arg)
{
	struct eng_session *s = arg;
	struct req *r;
	struct eng_ev *ev;
	int done = 0;

	while (!done) {
		r = req_take(s);
		switch (r->type) {
		case REQ_LOAD:
			do_load(s, r->path);
			break;
		case REQ_GENERATE:
			do_generate(s, r);
			break;
		case REQ_RESET:
			if (s->ctx != NULL)
				eng_ctx_reset(s->ctx, 1);
			s->n_cache = 0;
			if (s->smp != NULL)
				eng_sampler_reset(s->smp);
			if ((ev = ev_new(s, ENG_EV_RESET)) != NULL)
				ev_push(s, ev);
			break;
		case REQ_SHUTDOWN:
			done = 1;
			break;
		}
		req_free(r);
		pthread_mutex_lock(&s->qlock);
		s->running = 0;
		pthread_mutex_unlock(&s->qlock);
	}
	unload(s);
	return NULL;
}

/* ---- the front end's side ---- */

int
eng_session_new(struct eng_session **out, const struct eng_params *p,
    const struct eng_sampler_params *sp, int max_tokens, int *wake_fd,
    struct err *e)
{
	struct eng_session *s;
	sigset_t all, old;
	int i, rc;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (pipe(s->pipe) != 0) {
		free(s);
		return err_set(e, ERR_IO, "pipe: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		fcntl(s->pipe[i], F_SETFL, fcntl(s->pipe[i], F_GETFL) |
		    O_NONBLOCK);
		fcntl(s->pipe[i], F_SETFD, FD_CLOEXEC);
	}
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	pthread_mutex_init(&s->elock, NULL);
	atomic_init(&s->cancel, 0);
	if (p != NULL)
		s->ep = *p;
	/* the routing inspector shows each layer's prediction */
	s->ep.predict = 1;
	if (sp != NULL)
		s->sp = *sp;
	else
		eng_sampler_defaults(&s->sp);
	s->max_tokens = max_tokens >= 0 ? max_tokens : 256;
	/* The session thread and the workers it starts inherit a mask
	 * that blocks the signals, so SIGWINCH, SIGTERM and SIGHUP reach
	 * the front end's thread and interrupt its poll(). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&s->thread, NULL, session_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		eng_session_free(s);
		return err_set(e, ERR_NOMEM, "cannot start the engine thread");
	}
	s->started = 1;
	*wake_fd = s->pipe[0];
	*out = s;
	return 0;
}

void
eng_session_free(struct eng_session *s)
{
	struct req *r, *n;

	if (s == NULL)
		return;
	if (s->started) {
		eng_session_stop(s);
		if ((r = calloc(1, sizeof *r)) != NULL) {
			r->type = REQ_SHUTDOWN;
			req_push(s, r, 0);
			pthread_join(s->thread, NULL);
		} else
			pthread_detach(s->thread);
	}
	for (r = s->qhead; r != NULL; r = n) {
		n = r->next;
		req_free(r);
	}
	eng_session_ev_free(s->ehead);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->elock);
	close(s->pipe[0]);
	close(s->pipe[1]);
	free(s);
}

int
eng_session_load(struct eng_session *s, const char *path)
{
	struct req *r;

	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->path = strdup(path)) == NULL) {
		free(r);
		return ERR_NOMEM;
	}
	r->type = REQ_LOAD;
	return req_push(s, r, 0);
}

int
eng_session_generate(struct eng_session *s, const struct eng_gen_req *g,
    uint32_t *gen)
{
	struct req *r;
	int i;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return ERR_NOMEM;
	r->type = REQ_GENERATE;
	if (g->tokens != NULL) {
		r->tokens = malloc((size_t)(g->n_tokens > 0 ? g->n_tokens : 1) *
		    sizeof *r->tokens);
		if (r->tokens == NULL)
			goto nomem;
		memcpy(r->tokens, g->tokens, (size_t)g->n_tokens *
		    sizeof *r->tokens);
		r->n_tokens = g->n_tokens;
	} else if (g->n_msgs > 0) {
		r->roles = calloc((size_t)g->n_msgs, sizeof *r->roles);
		r->contents = calloc((size_t)g->n_msgs, sizeof *r->contents);
		if (r->roles == NULL || r->contents == NULL)
			goto nomem;
		r->n_msgs = g->n_msgs;
		for (i = 0; i < g->n_msgs; i++)
			if ((r->roles[i] = strdup(g->msgs[i].role)) == NULL ||
			    (r->contents[i] = strdup(g->msgs[i].content)) ==
			    NULL)
				goto nomem;
	}
	pthread_mutex_lock(&s->qlock);
	r->sp = g->sp != NULL ? *g->sp : s->sp;
	r->max_tokens = g->max_tokens >= 0 ? g->max_tokens : s->max_tokens;
	pthread_mutex_unlock(&s->qlock);
	req_push(s, r, 0);
	if (gen != NULL)
		*gen = r->gen;
	return 0;
nomem:
	req_free(r);
	return ERR_NOMEM;
}

void
eng_session_stop(struct eng_session *s)
{
	struct req **pp, *r, *dropped = NULL;
	struct eng_reply_stats st = { 0 };

	pthread_mutex_lock(&s->qlock);
	atomic_store(&s->cancel, 1);
	for (pp = &s->qhead; (r = *pp) != NULL; ) {
		if (r->type == REQ_GENERATE) {
			*pp = r->next;
			r->next = dropped;
			dropped = r;
		} else
			pp = &r->next;
	}
	s->qtail = NULL;
	for (r = s->qhead; r != NULL; r = r->next)
		s->qtail = r;
	pthread_mutex_unlock(&s->qlock);
	st.finish = ENG_FINISH_CANCEL;
	while ((r = dropped) != NULL) {
		dropped = r->next;
		ev_done(s, r->gen, &st);
		req_free(r);
	}
}

int
eng_session_reset(struct eng_session *s)
{
	struct req *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return ERR_NOMEM;
	r->type = REQ_RESET;
	return req_push(s, r, 0);
}

void
eng_session_ram_share(struct eng_session *s, double share)
{
	pthread_mutex_lock(&s->qlock);
	s->ram_share = share > 1 ? 1 : share < 0 ? 0 : share;
	pthread_mutex_unlock(&s->qlock);
}

int
eng_session_set_params(struct eng_session *s,
    const struct eng_sampler_params *sp, int max_tokens)
{
	/* Generate requests copy these when they are queued, so the order
	 * of calls is the order of effect. */
	pthread_mutex_lock(&s->qlock);
	s->sp = *sp;
	s->max_tokens = max_tokens;
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

struct eng_ev *
eng_session_poll(struct eng_session *s)
{
	struct eng_ev *l;

	pthread_mutex_lock(&s->elock);
	l = s->ehead;
	s->ehead = s->etail = NULL;
	pthread_mutex_unlock(&s->elock);
	return l;
}

int
eng_session_busy(struct eng_session *s)
{
	int b;

	pthread_mutex_lock(&s->qlock);
	b = s->running || s->qhead != NULL;
	pthread_mutex_unlock(&s->qlock);
	return b;
}
