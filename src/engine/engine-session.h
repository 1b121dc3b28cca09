/*
 * engine-session.h - the engine thread a front end (the TUI) drives.
 *
 * A session owns one model, its context and a sampler, all used only on
 * the session's own thread. The front end talks to it through two
 * queues: requests in (load a model, generate, stop, reset, set
 * parameters, shut down) and events out (model loaded, a token's routing,
 * a generated token, a reply's end with its statistics, errors). Every
 * event is a heap copy the receiver frees; nothing in it points into the
 * engine. When the event queue goes from empty to non-empty the session
 * writes a byte to a pipe whose read end the front end polls, so a UI
 * never blocks on the engine: it polls, then drains.
 *
 * A session's contexts record next-layer predictions (eng_params.predict)
 * so that ROUTE events can show which chosen experts were foreseen.
 *
 * Stop is an atomic flag, checked by the forward pass between layers and
 * by the session between tokens; it also drops generations still queued.
 *
 * The KV cache is reused across turns: a generation's prompt is the
 * whole conversation, and only the part after the longest prefix already
 * in the cache is evaluated (the cache is cut back to that prefix).
 */
#ifndef MOESCOPE_ENGINE_SESSION_H
#define MOESCOPE_ENGINE_SESSION_H

#include <stdint.h>

#include "engine/engine.h"

struct eng_session;

/* Event types. */
enum eng_ev_type {
	ENG_EV_LOADED = 1,	/* a model is ready: info */
	ENG_EV_ROUTE,		/* one token's routing: route_* fields */
	ENG_EV_TOKEN,		/* one generated token: token, text; at
				 * the end of a reply, a token -1 / pos -1
				 * event may carry the held-back tail */
	ENG_EV_DONE,		/* a generation ended: stats */
	ENG_EV_ERROR,		/* a request failed: err */
	ENG_EV_RESET,		/* the conversation was reset */
	ENG_EV_CACHE		/* expert cache snapshot: cache_* fields */
};

/* Why a generation ended. */
enum eng_finish {
	ENG_FINISH_STOP = 1,	/* end-of-generation token */
	ENG_FINISH_LENGTH,	/* max_tokens reached */
	ENG_FINISH_CANCEL,	/* stopped by the user */
	ENG_FINISH_CTX,		/* context full */
	ENG_FINISH_ERROR	/* an error (an ERROR event came first) */
};

/* What a loaded model is (ENG_EV_LOADED). */
struct eng_session_info {
	char			 path[1024];
	char			 name[128];	/* general.name, or "" */
	struct eng_hparams	 hp;
	int			 n_ctx;
	int			 n_threads;
	int			 has_vocab;	/* text in and out works */
	uint64_t		 expert_bytes;
	uint64_t		 bytes_per_token;
};

/* One reply's numbers (ENG_EV_DONE). */
struct eng_reply_stats {
	int	 finish;		/* enum eng_finish */
	int	 prompt_tokens;		/* tokens of the whole prompt */
	int	 prefill_tokens;	/* of those, evaluated (not cached) */
	int	 gen_tokens;
	double	 prefill_tps;		/* 0 when nothing was evaluated */
	double	 decode_tps;		/* wall clock, sampling included */
	double	 eval_decode_tps;	/* the forward passes alone
					 * (eng_timing), as `run --stats` */
	double	 ttft_ms;		/* request start to first token */
	int	 ctx_used;		/* tokens in the KV cache after */
};

/* An event: a heap copy; free with eng_session_ev_free(). */
struct eng_ev {
	int			 type;		/* enum eng_ev_type */
	uint32_t		 gen;		/* generate request serial */
	uint64_t		 t_ns;		/* util_now_ns() when made */
	/* ROUTE and TOKEN */
	int32_t			 pos;
	int32_t			 token;
	int			 generated;	/* ROUTE: a sampled token */
	char			*text;		/* TOKEN: complete UTF-8 bytes
						 * (may be "" while a character
						 * is incomplete); ROUTE: the
						 * token's piece, for display */
	size_t			 text_len;
	/* ROUTE */
	int			 n_layer;
	int			 k;
	int16_t			*experts;	/* [n_layer][k], -1: dense */
	float			*weights;	/* [n_layer][k] */
	int16_t			*predicted;	/* [n_layer][k] as in struct
						 * eng_route, or NULL */
	/* DONE */
	struct eng_reply_stats	 stats;
	/* LOADED */
	struct eng_session_info	 info;
	/* CACHE (at most every 100 ms while generating, and at the end
	 * of a reply) */
	struct eng_cache_info	 cache;
	struct eng_cache_layer	*cache_layers;	/* [n_layer] */
	uint8_t			*resident;	/* [n_layer][n_expert]: 1 =
						 * in RAM */
	/* ERROR */
	struct err		 err;
	struct eng_ev		*next;
};

void eng_session_ev_free(struct eng_ev *ev);

/* A chat message for a generation. */
struct eng_msg {
	const char	*role;		/* "system", "user", "assistant" */
	const char	*content;
};

/* A generation. Everything is copied by eng_session_generate(). */
struct eng_gen_req {
	/* the prompt: either token ids (the whole conversation so far) */
	const int32_t			*tokens;
	int				 n_tokens;
	/* or messages, rendered with the model's chat template (needs a
	 * vocabulary; ignored when tokens is set) */
	const struct eng_msg		*msgs;
	int				 n_msgs;
	const struct eng_sampler_params	*sp;	/* NULL: the session's */
	int				 max_tokens;	/* < 0: the session's */
};

/*
 * Start a session thread. Events are announced on *wake_fd (the read end
 * of a non-blocking pipe the session owns: read and discard its bytes,
 * then drain with eng_session_poll). p and sp are the defaults for
 * contexts and generations (copied).
 */
int eng_session_new(struct eng_session **out,
    const struct eng_params *p, const struct eng_sampler_params *sp,
    int max_tokens, int *wake_fd, struct err *e);

/* Stop any generation, end the thread, free everything (NULL is fine). */
void eng_session_free(struct eng_session *s);

/*
 * Requests; each returns at once (0, or ERR_NOMEM). Their outcomes come
 * back as events. Loading replaces the current model; a failure leaves
 * no model (ERROR event, message naming the file).
 */
int eng_session_load(struct eng_session *s, const char *path);
/* Queue a generation; *gen (may be NULL) gets its serial. */
int eng_session_generate(struct eng_session *s, const struct eng_gen_req *r,
    uint32_t *gen);
/* Stop the running generation and drop queued ones (each still ends with
 * a DONE event, finish ENG_FINISH_CANCEL). */
void eng_session_stop(struct eng_session *s);
/* Forget the conversation (KV cache, sampler history). */
int eng_session_reset(struct eng_session *s);
/* The RAM budget for expert weights as a share (0..1] of the model's
 * expert bytes, applied by later loads (0: eng_params.ram_budget). */
void eng_session_ram_share(struct eng_session *s, double share);
/* New defaults for later generations. */
int eng_session_set_params(struct eng_session *s,
    const struct eng_sampler_params *sp, int max_tokens);

/* Take all pending events, oldest first (a list linked by next), or
 * NULL. Never blocks. */
struct eng_ev *eng_session_poll(struct eng_session *s);

/* True while a request is queued or running. */
int eng_session_busy(struct eng_session *s);

#endif
