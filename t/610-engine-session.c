/*
 * 610-engine-session.c - the engine thread the TUI drives, without curses.
 *
 * On the mixtral q8_0 fixture: a load announces the model; a greedy
 * generation from token ids streams exactly the tokens a direct
 * engine loop produces, with one ROUTE event per evaluated token whose
 * experts equal the direct run's; a follow-up turn reuses the KV cache
 * (only the new tokens are prefilled); stop ends a long generation early
 * and drops queued ones; reset, a missing file and a generation with no
 * model give the right events. Events are awaited with poll() on the wake
 * pipe, with a deadline.
 */
#include <poll.h>
#include <unistd.h>

#include "tap.h"
#include "engine/engine-session.h"
#include "engine/engine-vocab.h"

static const int32_t prompt[] = { 1, 415, 526, 681, 287, 671, 1447, 285,
	1142, 461, 383, 782, 754, 272, 543, 1498, 1460, 281, 476, 1459 };
#define NP ((int)(sizeof prompt / sizeof prompt[0]))
#define NGEN 12

struct got {
	int	 n_route, n_token, n_done, n_error, n_loaded, n_reset;
	int	 n_piece;		/* ROUTE events with text */
	int	 n_pred;		/* ROUTE events with predictions:
					 * none for layer 0, k for layer 1 */
	int	 n_cache;		/* CACHE snapshots */
	int	 cache_layers_ok;
	char	 text[4096];		/* TOKEN texts, concatenated */
	size_t	 text_len;
	int32_t	 tokens[4096];
	int16_t	 experts[64][64];	/* first layer's experts by pos */
	struct eng_reply_stats	done[16];
	uint32_t done_gen[16];
	char	 errmsg[ERR_MSG_MAX];
	struct eng_session_info info;
};

static void
take(struct eng_session *s, struct got *g)
{
	struct eng_ev *l, *ev;
	int i;

	l = eng_session_poll(s);
	for (ev = l; ev != NULL; ev = ev->next) {
		switch (ev->type) {
		case ENG_EV_ROUTE:
			if (ev->pos < 64)
				for (i = 0; i < ev->k && i < 64; i++)
					g->experts[ev->pos][i] =
					    ev->experts[i];
			g->n_route++;
			g->n_piece += ev->text != NULL && ev->text_len > 0;
			g->n_pred += ev->predicted != NULL && ev->n_layer > 1 &&
			    eng_route_pred_hits(ev->experts, ev->predicted,
			    ev->k, NULL) == -1 && eng_route_pred_hits(
			    ev->experts + ev->k, ev->predicted + ev->k, ev->k,
			    NULL) >= 0;
			break;
		case ENG_EV_TOKEN:
			if (ev->text != NULL && g->text_len + ev->text_len <
			    sizeof g->text) {
				memcpy(g->text + g->text_len, ev->text,
				    ev->text_len);
				g->text_len += ev->text_len;
			}
			if (ev->token < 0)	/* a held-back tail */
				break;
			if (g->n_token < 4096)
				g->tokens[g->n_token] = ev->token;
			g->n_token++;
			break;
		case ENG_EV_DONE:
			if (g->n_done < 16) {
				g->done[g->n_done] = ev->stats;
				g->done_gen[g->n_done] = ev->gen;
			}
			g->n_done++;
			break;
		case ENG_EV_ERROR:
			snprintf(g->errmsg, sizeof g->errmsg, "%s",
			    ev->err.msg);
			g->n_error++;
			break;
		case ENG_EV_LOADED:
			g->info = ev->info;
			g->n_loaded++;
			break;
		case ENG_EV_RESET:
			g->n_reset++;
			break;
		case ENG_EV_CACHE:
			g->n_cache++;
			g->cache_layers_ok = ev->n_layer > 0 &&
			    ev->cache_layers != NULL && ev->resident != NULL &&
			    ev->cache_layers[0].capacity > 0;
			break;
		}
	}
	eng_session_ev_free(l);
}

/* Wait (at most 60 s) until *counter reaches want. */
static int
wait_for(struct eng_session *s, int fd, struct got *g, const int *counter,
    int want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t t0 = util_now_ns();
	char buf[64];

	take(s, g);
	while (*counter < want) {
		if (util_now_ns() - t0 > 60ull * 1000000000ull)
			return -1;
		if (poll(&p, 1, 1000) > 0)
			while (read(fd, buf, sizeof buf) > 0)
				;
		take(s, g);
	}
	return 0;
}

/* The reference: the same greedy loop run directly on the engine. */
static int
direct(const char *path, int32_t *out, int16_t first_layer[64][64],
    int *k)
{
	struct eng_model *m = NULL;
	struct eng_ctx *c = NULL;
	struct eng_sampler *sm = NULL;
	struct eng_sampler_params sp;
	struct eng_params ep = { 0 };
	struct eng_route r;
	struct err e = { 0 };
	int i, j;
	int32_t tok;

	eng_sampler_defaults(&sp);
	sp.temp = 0;
	ep.n_threads = 2;
	if (eng_model_open(&m, path, &e) != 0 ||
	    eng_ctx_new(&c, m, &ep, &e) != 0 ||
	    eng_sampler_new(&sm, eng_model_hparams(m)->n_vocab, &sp, &e) != 0)
		return -1;
	for (i = 0; i < NP; i++)
		eng_sampler_accept(sm, prompt[i]);
	if (eng_eval(c, prompt, NP, 0, NULL, NULL, &e) != 0)
		return -1;
	for (i = 0; i < NGEN; i++) {
		tok = eng_sampler_sample(sm, eng_last_logits(c));
		eng_sampler_accept(sm, tok);
		out[i] = tok;
		if (i + 1 < NGEN && eng_eval(c, &tok, 1, 0, NULL, NULL, &e))
			return -1;
	}
	for (i = 0; i < NP + NGEN - 1 && i < 64; i++) {
		if (eng_route_get(c, i, &r) != 0)
			return -1;
		*k = r.k;
		for (j = 0; j < r.k; j++)
			first_layer[i][j] = r.experts[j];
	}
	eng_sampler_free(sm);
	eng_ctx_free(c);
	eng_model_free(m);
	return 0;
}

int
main(void)
{
	static struct got g;
	static int16_t ref_ex[64][64];
	const char *fx = tap_fixtures(), *path;
	struct eng_session *s;
	struct eng_sampler_params sp;
	struct eng_params ep = { 0 };
	struct eng_gen_req rq = { 0 };
	struct err e = { 0 };
	int32_t ref[NGEN], conv[NP + NGEN + 4];
	uint32_t gen;
	int fd, i, k = 0, same, nconv, first_tok = 0;

	if (fx == NULL)
		tap_skip_all("no fixtures");
	path = tap_path("%s/models/mixtral/mixtral-q8_0.gguf", fx);
	ok(direct(path, ref, ref_ex, &k) == 0, "direct engine run");

	eng_sampler_defaults(&sp);
	sp.temp = 0;
	ep.n_threads = 2;
	ep.n_ctx = 256;
	ok(eng_session_new(&s, &ep, &sp, NGEN, &fd, &e) == 0,
	    "session started");

	/* no model yet */
	rq.tokens = prompt;
	rq.n_tokens = NP;
	rq.max_tokens = -1;
	eng_session_generate(s, &rq, NULL);
	ok(wait_for(s, fd, &g, &g.n_done, 1) == 0, "generate with no model");
	ok(g.n_error == 1 && g.done[0].finish == ENG_FINISH_ERROR,
	    "... an error and a done");
	ok(strstr(g.errmsg, "no model") != NULL, "message: %s", g.errmsg);

	/* a missing file */
	eng_session_load(s, "/nonexistent/model.gguf");
	ok(wait_for(s, fd, &g, &g.n_error, 2) == 0, "load failure reported");
	ok(strstr(g.errmsg, "/nonexistent/model.gguf") != NULL,
	    "load failure names the file: %s", g.errmsg);

	/* the fixture */
	eng_session_load(s, path);
	ok(wait_for(s, fd, &g, &g.n_loaded, 1) == 0, "loaded");
	is_str(g.info.hp.arch, "llama", "info: arch");
	is_int(g.info.n_ctx, 256, "info: n_ctx");
	is_int(g.info.has_vocab, 1, "info: the tokenizer and template load");
	ok(g.info.hp.n_expert > 0 && g.info.hp.n_expert_used > 0,
	    "info: %d experts, %d used", g.info.hp.n_expert,
	    g.info.hp.n_expert_used);

	memset(&g.experts, 0, sizeof g.experts);
	eng_session_generate(s, &rq, &gen);
	ok(wait_for(s, fd, &g, &g.n_done, 2) == 0, "generation done");
	is_int(g.done_gen[1], gen, "done carries the request serial");
	is_int(g.done[1].finish, ENG_FINISH_LENGTH, "finish: length");
	is_int(g.n_token, NGEN, "%d TOKEN events", NGEN);
	for (i = 0, same = 1; i < NGEN; i++)
		same &= g.tokens[i] == ref[i];
	ok(same, "tokens equal the direct engine loop's");
	is_int(g.n_route, NP + NGEN - 1, "one ROUTE per evaluated token");
	for (i = 0, same = 1; i < NP + NGEN - 1; i++)
		same &= memcmp(g.experts[i], ref_ex[i],
		    (size_t)k * sizeof ref_ex[0][0]) == 0;
	ok(same, "ROUTE experts equal eng_route_get's (layer 0, %d "
	    "positions)", NP + NGEN - 1);
	is_int(g.n_pred, NP + NGEN - 1, "every ROUTE carries the next-layer "
	    "predictions (none for layer 0)");
	ok(g.n_cache >= 2 && g.cache_layers_ok, "CACHE snapshots after the "
	    "load and the reply (%d), per layer", g.n_cache);
	is_int(g.done[1].prompt_tokens, NP, "stats: prompt tokens");
	is_int(g.done[1].gen_tokens, NGEN, "stats: generated tokens");
	ok(g.done[1].prefill_tps > 0 && g.done[1].decode_tps > 0 &&
	    g.done[1].ttft_ms > 0, "stats: prefill %.0f tok/s, decode %.0f "
	    "tok/s, ttft %.1f ms", g.done[1].prefill_tps,
	    g.done[1].decode_tps, g.done[1].ttft_ms);

	/* next turn: the conversation grows; only the new part is run */
	nconv = 0;
	for (i = 0; i < NP; i++)
		conv[nconv++] = prompt[i];
	for (i = 0; i < NGEN; i++)
		conv[nconv++] = ref[i];
	conv[nconv++] = 415;
	conv[nconv++] = 526;
	rq.tokens = conv;
	rq.n_tokens = nconv;
	rq.max_tokens = 2;
	eng_session_generate(s, &rq, NULL);
	ok(wait_for(s, fd, &g, &g.n_done, 3) == 0, "second turn done");
	is_int(g.done[2].prefill_tokens, 3,
	    "KV reuse: 3 tokens prefilled (last generated + 2 new)");

	/* a diverging prompt keeps the common prefix: the prompt again
	 * (the cache holds prompt + reply), so only its last token runs */
	rq.tokens = prompt;
	rq.n_tokens = NP;
	rq.max_tokens = 2;
	memset(&g.experts, 0, sizeof g.experts);
	eng_session_generate(s, &rq, NULL);
	ok(wait_for(s, fd, &g, &g.n_done, 4) == 0, "regenerate done");
	is_int(g.done[3].prefill_tokens, 1, "cache cut back to the common "
	    "prefix: 1 token prefilled");
	ok(memcmp(g.experts[NP - 1], ref_ex[NP - 1],
	    (size_t)k * sizeof ref_ex[0][0]) == 0 &&
	    memcmp(g.experts[NP], ref_ex[NP], (size_t)k *
	    sizeof ref_ex[0][0]) == 0, "routing after the cut equals the "
	    "uncut run's");

	/* stop: a long generation, and one queued behind it */
	rq.tokens = prompt;
	rq.n_tokens = NP;
	rq.max_tokens = 100000;
	i = g.n_token;
	eng_session_generate(s, &rq, NULL);
	eng_session_generate(s, &rq, NULL);
	ok(wait_for(s, fd, &g, &g.n_token, i + 3) == 0, "streaming");
	eng_session_stop(s);
	ok(wait_for(s, fd, &g, &g.n_done, 6) == 0, "both ended");
	/* the dropped one's DONE comes first (from stop itself) */
	ok(g.done[4].finish == ENG_FINISH_CANCEL &&
	    g.done[5].finish == ENG_FINISH_CANCEL,
	    "running one cancelled, queued one dropped");
	ok(g.n_token - i < 200, "stopped early (%d tokens)", g.n_token - i);

	/* a later generation is not affected by the earlier stop */
	rq.max_tokens = 3;
	eng_session_generate(s, &rq, NULL);
	ok(wait_for(s, fd, &g, &g.n_done, 7) == 0, "generation after a stop");
	ok(g.done[6].finish == ENG_FINISH_LENGTH &&
	    g.done[6].gen_tokens == 3, "... runs to its length");

	eng_session_reset(s);
	ok(wait_for(s, fd, &g, &g.n_reset, 1) == 0, "reset acknowledged");
	eng_session_generate(s, &rq, NULL);
	ok(wait_for(s, fd, &g, &g.n_done, 8) == 0, "generation after reset");
	is_int(g.done[7].prefill_tokens, NP, "after reset the whole prompt "
	    "is prefilled");

	/* text without a vocabulary, or a too-long prompt, is an error */
	rq.tokens = NULL;
	rq.n_tokens = 0;
	{
		struct eng_msg m = { "user", "hello" };

		rq.msgs = &m;
		rq.n_msgs = 1;
		g.text_len = 0;
		first_tok = g.n_token;
		eng_session_generate(s, &rq, NULL);
	}
	ok(wait_for(s, fd, &g, &g.n_done, 9) == 0, "message prompt done");
	is_int(g.done[8].finish, ENG_FINISH_LENGTH, "message prompt "
	    "rendered by the chat template and generated");
	ok(g.done[8].prompt_tokens > 2, "templated prompt: %d tokens",
	    g.done[8].prompt_tokens);
	ok(g.n_piece == g.n_route, "every ROUTE carries its piece (%d/%d)",
	    g.n_piece, g.n_route);
	{
		struct gguf *gg;
		struct tok *tk;
		char *dec = NULL;
		size_t dlen = 0;

		ok(gguf_open(&gg, path, &e) == 0 &&
		    engine_vocab_load(&tk, gg, &e) == 0 &&
		    tokenizer_vocab_decode(tk, g.tokens + first_tok,
		    (size_t)(g.n_token - first_tok), 0, &dec, &dlen, &e) == 0,
		    "decode the reply's ids");
		ok(dec != NULL && dlen == g.text_len &&
		    memcmp(dec, g.text, dlen) == 0, "streamed text equals the "
		    "decoded ids (%zu bytes)", dlen);
		free(dec);
		tokenizer_vocab_free(tk);
		gguf_close(gg);
	}

	eng_session_free(s);
	ok(1, "session freed");
	return tap_done();
}
