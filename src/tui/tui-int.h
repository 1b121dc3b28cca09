/*
 * tui-int.h - the TUI's private state, shared by its files.
 *
 *   tui-main.c    the loop: poll stdin + wake pipe, events, keys, frames
 *   tui-text.c    UTF-8 decoding, display widths, word wrap (no curses)
 *   tui-stats.c   sampling: routing records -> panel state (no curses)
 *   tui-conv.c    the conversation, its JSON form, input history
 *   tui-cmd.c     slash commands and their completion
 *   tui-pull.c    downloads and conversions on their own threads (no
 *                 curses): jobs, their events, their state
 *   tui-draw.c    colours by role, glyph sets, boxes, bars, sparklines
 *   tui-panels.c  layout and the panels: chat, input, heatmap, balance,
 *                 throughput, cache, inspector, downloads, help
 */
#ifndef MOESCOPE_TUI_INT_H
#define MOESCOPE_TUI_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine-session.h"
#include "tui/tui.h"

/* ---- text (tui-text.c) ---- */

/* Decode one UTF-8 character of s[0..n) (n > 0): returns the bytes it
 * takes (1 for an invalid byte, which decodes to U+FFFD). */
int tui_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Columns a code point takes: 0 for combining marks, 2 for wide ones;
 * control characters count 1 (they are drawn as '?'). */
int tui_cp_width(uint32_t cp);
/* A malloc'd copy of s[0..n) with each invalid byte replaced by U+FFFD
 * (chat templates take valid UTF-8 only), or NULL. */
char *tui_utf8_clean(const char *s, size_t n);
/* Columns of s[0..n). */
int tui_str_width(const char *s, size_t n);

/*
 * Wrap s[0..n) to lines of at most width columns (width >= 1): breaks
 * after spaces where possible, splits words longer than a line, ends a
 * line at each '\n' (which no line includes). Calls emit once per line
 * with its byte range; an empty text is one empty line. Returns the
 * number of lines.
 */
typedef void (*tui_wrap_fn)(void *arg, size_t off, size_t len);
int tui_wrap(const char *s, size_t n, int width, tui_wrap_fn emit,
    void *arg);

/* ---- statistics (tui-stats.c) ---- */

#define TUI_RING 512

struct tui_ring {
	float	 v[TUI_RING];
	int	 n;		/* values held (<= TUI_RING) */
	int	 head;		/* next write */
};

void tui_ring_push(struct tui_ring *r, float v);
/* The i-th newest value (0 = newest); i < r->n. */
float tui_ring_get(const struct tui_ring *r, int i);

/* One token's routing, kept for the inspector. */
struct tui_rec {
	int	 valid;
	int32_t	 token;
	int	 generated;
	char	 piece[32];	/* the token's text, for display */
	int16_t	*experts;	/* [n_layer][k] */
	float	*weights;	/* [n_layer][k] */
	int16_t	*predicted;	/* [n_layer][k] as struct eng_route's, or
				 * NULL */
};

enum { HEAT_TOKEN, HEAT_DECAY, HEAT_TOTAL, HEAT_NMODES };

struct tui_stats {
	int		 n_layer, n_expert, k, n_ctx;
	float		*cur;		/* [n_layer][n_expert] last token */
	float		*decay;		/* decayed counts */
	uint64_t	*count;		/* counts since the last clear */
	float		 decay_keep;	/* per token, e.g. 0.9 */
	uint64_t	 n_tokens;	/* routed since the last clear */
	float		*maxmean;	/* [n_layer] from count */
	float		*cv;
	float		*entropy;	/* normalized to 0..1 */
	struct tui_ring	 imbalance;	/* mean max/mean of decay, per token */
	struct tui_ring	 decode_tps;	/* per sample period */
	struct tui_ring	 prefill_tps;
	double		 tps_now;	/* last decode rate seen */
	double		 prefill_now;
	struct eng_reply_stats last;	/* the last reply's figures */
	uint64_t	 win_t0;	/* sample window start, ns */
	int		 win_decode, win_prefill;
	uint64_t	 win_first, win_last;	/* decode token times */
	uint64_t	 rss;		/* bytes */
	struct tui_rec	*recs;		/* [n_ctx] by position */
	int		 n_recs;	/* positions seen: 0..n_recs-1 */
	int		 last_pos;	/* newest routed position, -1 */
};

int tui_stats_init(struct tui_stats *st, int n_layer, int n_expert, int k,
    int n_ctx);
void tui_stats_fini(struct tui_stats *st);
/* Forget the conversation's routing (counts, records). */
void tui_stats_clear(struct tui_stats *st);
/* Take a ROUTE event. */
void tui_stats_route(struct tui_stats *st, const struct eng_ev *ev);
/* Count a generated token (TOKEN event made at t_ns). */
void tui_stats_token(struct tui_stats *st, uint64_t t_ns);
/* A reply ended: its prefill and decode rates. */
void tui_stats_reply(struct tui_stats *st, double prefill_tps,
    double decode_tps);
/* Close the sampling window if period_ns has passed (busy: the engine
 * is working, so a zero rate is real); 1 if the panels changed. */
int tui_stats_tick(struct tui_stats *st, uint64_t now, uint64_t period_ns,
    int busy);
/* Recompute the per-layer balance figures from count. */
void tui_stats_balance(struct tui_stats *st);
/* Resident memory of this process in bytes (0 if unknown). */
uint64_t tui_rss_bytes(void);

/* ---- the conversation (tui-conv.c) ---- */

enum {
	ROLE_SYSTEM = 1,
	ROLE_USER,
	ROLE_ASSISTANT,
	ROLE_NOTE,		/* UI messages: not sent to the model */
	ROLE_ERROR,
	ROLE_STATS
};

struct tui_msg {
	int	 role;
	char	*text;
	size_t	 len, cap;
	int32_t	*ids;		/* token ids: user turns in token mode,
				 * assistant replies always */
	int	 n_ids, cap_ids;
	/* assistant: where each generated token's text starts */
	int32_t	*tok_pos;	/* [n_ids] KV position */
	size_t	*tok_off;	/* [n_ids] byte offset in text */
	int	 done;		/* reply complete */
};

struct tui_conv {
	struct tui_msg	*m;
	int		 n, cap;
	char		*system;	/* system prompt or NULL */
};

struct tui_msg *tui_conv_add(struct tui_conv *c, int role, const char *text,
    size_t len);
int tui_msg_append(struct tui_msg *m, const char *s, size_t n);
int tui_msg_add_token(struct tui_msg *m, int32_t id, int32_t pos,
    const char *text, size_t n);
void tui_conv_del(struct tui_conv *c, int i);
void tui_conv_clear(struct tui_conv *c);	/* keeps the system prompt */
void tui_conv_free(struct tui_conv *c);
/* Save / load the conversation as JSON (atomic write; a broken file
 * leaves c unchanged and e names the file and the problem). */
int tui_conv_save(const struct tui_conv *c, const char *path,
    const char *model, struct err *e);
int tui_conv_load(struct tui_conv *c, const char *path, struct err *e);

struct tui_hist {
	char	**v;
	int	 n, cap;
	int	 at;		/* browsing position, n = the new line */
	char	*path;
};

int tui_hist_open(struct tui_hist *h, const char *home);
void tui_hist_add(struct tui_hist *h, const char *line);
void tui_hist_free(struct tui_hist *h);

/* ---- the UI (tui-main.c, tui-cmd.c, tui-draw.c, tui-panels.c) ---- */

enum {
	PANEL_CHAT,
	PANEL_HEAT,
	PANEL_BALANCE,
	PANEL_TPUT,
	PANEL_CACHE,
	PANEL_INSPECT,
	PANEL_PULL,
	PANEL_INPUT,
	PANEL_TITLE,
	PANEL_STATUS,
	PANEL_N
};

struct rect {
	int	 y, x, h, w;
};

/* The expert cache as the last CACHE event showed it. */
struct tui_cache {
	int			 have;
	struct eng_cache_info	 info;
	struct eng_cache_layer	*layers;	/* [n_layer] */
	uint8_t			*resident;	/* [n_layer][n_expert] */
	int			 n_layer, n_expert;
	uint64_t		 prev_bytes, prev_t;
	double			 bytes_per_s;
};

void tui_cache_take(struct tui_cache *c, struct eng_ev *ev, int n_expert);
void tui_cache_free(struct tui_cache *c);

/* ---- downloads and conversions (tui-pull.c) ---- */

enum {
	PULL_RESOLVING,		/* listing the repo, resolving its files */
	PULL_DOWNLOADING,
	PULL_CONVERTING,
	PULL_DONE,
	PULL_FAILED,
	PULL_CANCELLED
};

enum { PF_WAIT, PF_ACTIVE, PF_RETRY, PF_DONE };

struct tui_pull_file {
	char		 name[256];	/* repo path */
	uint64_t	 done, size;
	int		 state;		/* PF_* */
};

struct pull_worker;

/* One /pull as the UI thread sees it (only that thread touches it). */
struct tui_pull_job {
	int			 id;
	char			 repo[256];	/* ORG/NAME[@REV] as asked */
	char			 what[80];	/* the type, or the --file */
	int			 load;		/* load it when done
						 * (/model ORG/NAME) */
	int			 phase;		/* PULL_* */
	int			 cancelling;
	/* download */
	int			 n_files;	/* to fetch (not cached) */
	int			 files_done, retries;
	struct tui_pull_file	*files;		/* [n_files] */
	uint64_t		 total_done, total_size;
	double			 speed, eta_s;	/* bytes/s; -1 unknown */
	/* conversion: bytes of input consumed */
	char			 tensor[96];
	uint64_t		 conv_done, conv_total, conv_t0;
	double			 conv_speed, conv_eta_s;
	/* the end */
	char			 msg[ERR_MSG_MAX];	/* what failed */
	char			 path[1024];		/* the GGUF */
	int			 up_to_date, linked;
	double			 dl_seconds;
	uint64_t		 dl_bytes;
	uint64_t		 t0, t_end;
	struct pull_worker	*w;		/* its thread, until joined */
};

struct pull_queue;

struct tui_pulls {
	struct tui_pull_job	*jobs;		/* in start order */
	int			 n, cap, next_id;
	int			 wake_fd;	/* readable: events queued */
	uint64_t		 shown_until;	/* the panel lingers */
	int			 visible;	/* as last laid out */
	struct pull_queue	*q;
};

#define TUI_PULL_JOBS	8		/* finished ones dropped past this */

struct tui;

/* The queue and its wake pipe; 0 or ERR_* (e names it). */
int tui_pull_init(struct tui_pulls *p, struct err *e);
/* Cancel every job, wait for its thread, free everything. Returns the
 * number of jobs that were still running. */
int tui_pull_fini(struct tui_pulls *p);
/* Start a job on its own thread: repo ORG/NAME[@REV], type (enum
 * convert_type), file (a GGUF of the repo, or NULL); load: load the
 * result when done. 0, or ERR_* with e saying why (a bad repo id, the
 * same repo already running, no local store). */
int tui_pull_start(struct tui *t, const char *repo, int type,
    const char *file, int load, struct err *e);
/* Ask the running job named by which (its repo or #id; NULL: the
 * newest) to stop; returns how many were asked. */
int tui_pull_cancel(struct tui *t, const char *which);
/* Forget the finished jobs. */
void tui_pull_clear(struct tui *t);
/* Take the queued events (the wake pipe was readable); 1 if the panel
 * changed. Finished jobs are joined, noted in the chat, and loaded
 * when asked. */
int tui_pull_drain(struct tui *t);
/* Jobs still running. */
int tui_pull_running(const struct tui_pulls *p);
/* Whether the panel shows now: a job runs, or one ended less than a
 * while ago, and it is not hidden (F5). */
int tui_pull_visible(const struct tui *t, uint64_t now);
/* The share of the newest running job done (0..1), for the title. */
double tui_pull_frac(const struct tui_pull_job *j);
/* "1:05", "2h03m", "--:--" */
const char *tui_pull_eta(double s, char *buf, size_t len);

struct tui {
	struct tui_opts			 o;
	struct eng_session		*sess;
	int				 wake_fd;
	struct eng_session_info		 info;
	int				 loaded;
	int				 loading;
	struct eng_sampler_params	 sp;
	int				 max_tokens;
	char				 home[1024];

	struct tui_conv			 conv;
	struct tui_hist			 hist;
	struct tui_stats		 st;
	int				 have_stats;
	struct tui_cache		 cache;
	struct tui_pulls		 pulls;
	char				 pending_model[1024];	/* load
							 * when the reply
							 * ends */

	/* generation in flight */
	int				 generating;
	uint32_t			 gen;
	struct tui_msg			*reply;	/* index into conv below */
	int				 reply_idx;
	int				 stopping;

	/* input */
	char				*in;
	size_t				 in_len, in_cap, in_cur;
	int				 pasting;
	int				 ctrl_c_armed;

	/* view */
	int				 utf8;
	int				 colors;	/* 0, 8, 256 */
	int				 dirty[PANEL_N];
	int				 focus;		/* PANEL_* */
	int				 hidden[PANEL_N];
	int				 zoom;		/* PANEL_* or -1 */
	int				 heat_mode;	/* HEAT_* */
	int				 help;
	int				 inspect;
	int				 insp_pos;
	int				 insp_pinned;
	int				 insp_scroll;
	int				 chat_scroll;	/* lines up */
	int				 chat_lines;	/* last total */
	int				 bottom_sel;	/* one-at-a-time view */
	char				 status[256];
	int				 status_err;
	uint64_t			 status_t;
	int				 quit;
	struct rect			 r[PANEL_N];
	int				 too_small;
	int				 erase;		/* clear at the
							 * next frame */
};

void tui_dirty_all(struct tui *t);
void tui_note(struct tui *t, int role, const char *fmt, ...)
    UTIL_PRINTF(3, 4);
void tui_status(struct tui *t, int err, const char *fmt, ...)
    UTIL_PRINTF(3, 4);
/* True when the conversation is raw token ids (/tokens turns, or a
 * model without a tokenizer) rather than chat-template text. */
int tui_token_mode(const struct tui *t);
/* Send the conversation to the engine. */
int tui_generate(struct tui *t);

/* Run the slash command in line (which starts with '/'). */
void tui_cmd_run(struct tui *t, const char *line);
/* /model ARG: a file or a name in the store is loaded; a hub id
 * (ORG/NAME[@REV] [--type T]) that is neither is pulled, then loaded.
 * startup: the MODEL of the command line (no "loading" note). */
void tui_cmd_model(struct tui *t, const char *arg, int startup);
/* Complete the command in the input buffer (Tab). */
void tui_cmd_complete(struct tui *t);
/* The command list, for /help and the help overlay. */
struct tui_cmd_help {
	const char	*name;
	const char	*args;
	const char	*help;
};
extern const struct tui_cmd_help tui_cmd_list[];

/* drawing */
enum {
	CP_TITLE = 1, CP_BORDER, CP_PTITLE, CP_FOCUS, CP_USER, CP_ASSIST,
	CP_SYSTEM, CP_NOTE, CP_ERROR, CP_STATS, CP_BAR, CP_BAR_HI, CP_GRAPH,
	CP_CURSOR, CP_STATUS, CP_DIM,
	CP_HEAT0, CP_HEAT1, CP_HEAT2, CP_HEAT3, CP_HEAT4, CP_HEAT5,
	CP_N
};
#define HEAT_LEVELS 6

void tui_draw_init(struct tui *t);
int tui_attr(const struct tui *t, int role);
void tui_box(struct tui *t, const struct rect *r, const char *title,
    int focused);
/* Print UTF-8 s[0..n) at (y, x), at most w columns; returns columns. */
int tui_put(struct tui *t, int y, int x, int w, const char *s, size_t n);
int tui_putf(struct tui *t, int y, int x, int w, const char *fmt, ...)
    UTIL_PRINTF(5, 6);
/* A horizontal bar of frac (0..1) over w cells. */
void tui_bar(struct tui *t, int y, int x, int w, double frac, int role);
/* A heat cell of level 0..HEAT_LEVELS-1, w cells wide. */
void tui_heat_cell(struct tui *t, int y, int x, int w, int level);
/* A graph of the newest values of ring r, h rows x w columns, scaled to
 * max (Braille when UTF-8, else ASCII). */
void tui_graph(struct tui *t, const struct tui_ring *r, int y, int x,
    int h, int w, double max);
/* A one-row sparkline of ring r. */
void tui_spark(struct tui *t, const struct tui_ring *r, int y, int x,
    int w, double max);

void tui_layout(struct tui *t);
void tui_draw(struct tui *t);

#endif
