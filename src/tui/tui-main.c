/*
 * tui-main.c - the TUI's loop: terminal set-up and restore, the poll on
 * stdin and the engine's wake pipe, engine events, keys, and frames.
 *
 * One thread (this one) owns curses. Each turn of the loop:
 *
 *   poll(stdin, wake pipes, timeout)  timeout: time to the next frame
 *                                     when something is dirty, else 250 ms
 *   drain the pipes, take the events  ROUTE -> stats, TOKEN -> chat, ...;
 *                                     downloads' progress -> their panel
 *   read every pending key            (nodelay), edit / command / scroll
 *   tick the samplers                 rates per window, memory
 *   draw the dirty panels             at most one frame per 33 ms
 *
 * Nothing here waits for the engine: requests are queued and return at
 * once, so typing, scrolling and resizing stay live while a reply
 * streams; downloads and conversions (tui-pull.c) run on their own
 * threads and report through a second wake pipe. The terminal is put
 * back (bracketed paste off, endwin) on every way out, including
 * SIGTERM/SIGHUP.
 */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

#include "tui/tui-int.h"

#define FRAME_NS	(33ull * 1000000ull)	/* ~30 fps at most */
#define TICK_NS		(250ull * 1000000ull)
#define WINDOW_NS	(500ull * 1000000ull)	/* rate sample window */
#define STATUS_NS	(5000ull * 1000000ull)

/* custom key codes (define_key) */
enum {
	K_PASTE_BEGIN = KEY_MAX + 1,
	K_PASTE_END,
	K_SHIFT_ENTER
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

void
tui_dirty_all(struct tui *t)
{
	int i;

	for (i = 0; i < PANEL_N; i++)
		t->dirty[i] = 1;
}

/* The layout changed: recompute, then clear and repaint everything at
 * the next frame. (Not erase() here: the next get_wch() would flush the
 * blank screen to the terminal before the frame repaints it.) */
static void
relayout(struct tui *t)
{
	tui_layout(t);
	t->erase = 1;
	tui_dirty_all(t);
}

/* The downloads changed: a new layout only when the panel's size or
 * presence changed, else just its repaint. */
static void
pulls_changed(struct tui *t)
{
	struct rect old[PANEL_N];

	memcpy(old, t->r, sizeof old);
	tui_layout(t);
	if (memcmp(old, t->r, sizeof old) != 0) {
		t->erase = 1;
		tui_dirty_all(t);
	} else
		t->dirty[PANEL_PULL] = t->dirty[PANEL_TITLE] = 1;
}

void
tui_note(struct tui *t, int role, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	tui_conv_add(&t->conv, role, buf, (size_t)n);
	t->chat_scroll = 0;
	t->dirty[PANEL_CHAT] = 1;
}

void
tui_status(struct tui *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof t->status, fmt, ap);
	va_end(ap);
	t->status_err = err;
	t->status_t = util_now_ns();
	t->dirty[PANEL_STATUS] = 1;
}

/* ---- talking to the engine ---- */

int
tui_token_mode(const struct tui *t)
{
	int i;

	if (!t->info.has_vocab)
		return 1;
	for (i = 0; i < t->conv.n; i++)
		if (t->conv.m[i].role == ROLE_USER)
			return t->conv.m[i].n_ids > 0;
	return 0;
}

int
tui_generate(struct tui *t)
{
	struct eng_gen_req rq = { 0 };
	struct eng_msg *msgs = NULL;
	char **clean = NULL;
	int32_t *toks = NULL;
	struct tui_msg *m;
	int i, n = 0, cap = 0, rc, nclean = 0;

	if (!t->loaded) {
		tui_note(t, ROLE_ERROR, "no model loaded: /model PATH.gguf");
		return ERR_USAGE;
	}
	if (!tui_token_mode(t)) {
		msgs = calloc((size_t)t->conv.n + 1, sizeof *msgs);
		clean = calloc((size_t)t->conv.n + 1, sizeof *clean);
		if (msgs == NULL || clean == NULL) {
			free(msgs);
			free(clean);
			return ERR_NOMEM;
		}
		if (t->conv.system != NULL)
			msgs[n++] = (struct eng_msg){ "system",
			    t->conv.system };
		for (i = 0; i < t->conv.n; i++) {
			m = &t->conv.m[i];
			if (m->role != ROLE_USER && m->role != ROLE_ASSISTANT)
				continue;
			/* model output may hold invalid UTF-8 */
			if ((clean[nclean] = tui_utf8_clean(m->text,
			    m->len)) == NULL)
				break;
			msgs[n++] = (struct eng_msg){ m->role == ROLE_USER ?
			    "user" : "assistant", clean[nclean++] };
		}
		rq.msgs = msgs;
		rq.n_msgs = n;
	} else {
		/* token mode: the ids of every turn, in order */
		for (i = 0; i < t->conv.n; i++) {
			m = &t->conv.m[i];
			if (m->role != ROLE_USER && m->role != ROLE_ASSISTANT)
				continue;
			if (n + m->n_ids > cap) {
				int32_t *nt;

				cap = (n + m->n_ids) * 2 + 16;
				if ((nt = realloc(toks, (size_t)cap *
				    sizeof *nt)) == NULL) {
					free(toks);
					return ERR_NOMEM;
				}
				toks = nt;
			}
			memcpy(toks + n, m->ids, (size_t)m->n_ids *
			    sizeof *toks);
			n += m->n_ids;
		}
		rq.tokens = toks;
		rq.n_tokens = n;
	}
	rq.sp = &t->sp;
	rq.max_tokens = t->max_tokens;
	if ((m = tui_conv_add(&t->conv, ROLE_ASSISTANT, "", 0)) == NULL)
		rc = ERR_NOMEM;
	else {
		t->reply_idx = t->conv.n - 1;
		rc = eng_session_generate(t->sess, &rq, &t->gen);
	}
	for (i = 0; i < nclean; i++)
		free(clean[i]);
	free(clean);
	free(msgs);
	free(toks);
	if (rc != 0) {
		if (m != NULL)
			tui_conv_del(&t->conv, t->reply_idx);
		t->reply_idx = -1;
		return rc;
	}
	t->generating = 1;
	t->stopping = 0;
	t->chat_scroll = 0;
	t->dirty[PANEL_CHAT] = t->dirty[PANEL_TITLE] =
	    t->dirty[PANEL_STATUS] = 1;
	return 0;
}

static struct tui_msg *
reply_msg(struct tui *t)
{
	if (t->reply_idx < 0 || t->reply_idx >= t->conv.n ||
	    t->conv.m[t->reply_idx].role != ROLE_ASSISTANT)
		return NULL;
	return &t->conv.m[t->reply_idx];
}

static const char *
finish_name(int f)
{
	switch (f) {
	case ENG_FINISH_STOP:
		return "end of turn";
	case ENG_FINISH_LENGTH:
		return "max tokens";
	case ENG_FINISH_CANCEL:
		return "stopped";
	case ENG_FINISH_CTX:
		return "context full";
	}
	return "error";
}

static void
on_loaded(struct tui *t, const struct eng_ev *ev)
{
	char b[32];
	const struct eng_hparams *hp = &ev->info.hp;

	t->info = ev->info;
	tui_cache_free(&t->cache);
	t->loaded = 1;
	t->loading = 0;
	if (t->have_stats)
		tui_stats_fini(&t->st);
	t->have_stats = hp->n_expert > 0 && tui_stats_init(&t->st,
	    hp->n_layer, hp->n_expert, hp->n_expert_used, ev->info.n_ctx) == 0;
	t->insp_pos = 0;
	tui_note(t, ROLE_NOTE, "loaded %s: %s, %d layers, %d experts (top-%d), "
	    "vocab %d, context %d, %d threads, experts %s", ev->info.path,
	    hp->arch, hp->n_layer, hp->n_expert, hp->n_expert_used,
	    hp->n_vocab, ev->info.n_ctx, ev->info.n_threads,
	    util_fmt_bytes(ev->info.expert_bytes, b, sizeof b));
	if (!ev->info.has_vocab)
		tui_note(t, ROLE_NOTE, "no usable tokenizer: /tokens 1,2,3 "
		    "sends token ids; replies show ids");
	relayout(t);
}

static void
on_event(struct tui *t, struct eng_ev *ev)
{
	struct tui_msg *m;
	char buf[64];
	const struct eng_reply_stats *s;

	switch (ev->type) {
	case ENG_EV_LOADED:
		on_loaded(t, ev);
		break;
	case ENG_EV_ERROR:
		if (t->loading) {
			t->loading = 0;
			t->dirty[PANEL_TITLE] = 1;
		}
		tui_note(t, ROLE_ERROR, "%s", ev->err.msg);
		break;
	case ENG_EV_ROUTE:
		if (!t->have_stats)
			break;
		if (t->inspect && !t->insp_pinned &&
		    t->insp_pos == t->st.last_pos)
			t->insp_pos = ev->pos;
		tui_stats_route(&t->st, ev);
		t->dirty[PANEL_HEAT] = t->dirty[PANEL_INSPECT] =
		    t->dirty[PANEL_TITLE] = 1;
		break;
	case ENG_EV_TOKEN:
		if (t->have_stats && ev->token >= 0)
			tui_stats_token(&t->st, ev->t_ns);
		if (ev->gen != t->gen || (m = reply_msg(t)) == NULL)
			break;
		if (ev->token < 0)		/* the held-back tail */
			tui_msg_append(m, ev->text ? ev->text : "",
			    ev->text_len);
		else if (t->info.has_vocab)
			tui_msg_add_token(m, ev->token, ev->pos,
			    ev->text ? ev->text : "", ev->text_len);
		else {
			snprintf(buf, sizeof buf, "%d ", ev->token);
			tui_msg_add_token(m, ev->token, ev->pos, buf,
			    strlen(buf));
		}
		t->dirty[PANEL_CHAT] = 1;
		break;
	case ENG_EV_DONE:
		if (ev->gen != t->gen)
			break;
		s = &ev->stats;
		t->generating = 0;
		if ((m = reply_msg(t)) != NULL) {
			m->done = 1;
			if (m->n_ids == 0 && s->finish != ENG_FINISH_LENGTH &&
			    s->finish != ENG_FINISH_STOP)
				tui_conv_del(&t->conv, t->reply_idx);
		}
		t->reply_idx = -1;
		if (s->finish != ENG_FINISH_ERROR)
			tui_note(t, ROLE_STATS, "[%d prompt tok (%d new) | "
			    "prefill %.0f tok/s | decode %.0f tok/s | ttft "
			    "%.0f ms | %d tok | %s]", s->prompt_tokens,
			    s->prefill_tokens, s->prefill_tps, s->decode_tps,
			    s->ttft_ms, s->gen_tokens, finish_name(s->finish));
		if (t->have_stats) {
			tui_stats_reply(&t->st, s->prefill_tps, s->decode_tps);
			t->st.last = *s;
		}
		if (t->have_stats)
			tui_stats_balance(&t->st);
		t->dirty[PANEL_BALANCE] = t->dirty[PANEL_TITLE] =
		    t->dirty[PANEL_STATUS] = t->dirty[PANEL_TPUT] = 1;
		if (t->pending_model[0] != '\0') {
			/* a pull finished during the reply: load it now */
			t->loading = 1;
			t->loaded = 0;
			eng_session_load(t->sess, t->pending_model);
			tui_note(t, ROLE_NOTE, "loading %s", t->pending_model);
			t->pending_model[0] = '\0';
		}
		break;
	case ENG_EV_RESET:
		break;
	case ENG_EV_CACHE:
		if (!t->loaded || ev->n_layer != t->info.hp.n_layer)
			break;
		tui_cache_take(&t->cache, ev, t->info.hp.n_expert);
		t->dirty[PANEL_CACHE] = 1;
		break;
	}
}

static void
drain_events(struct tui *t)
{
	struct eng_ev *l, *ev;
	char buf[256];

	while (read(t->wake_fd, buf, sizeof buf) > 0)
		;
	l = eng_session_poll(t->sess);
	for (ev = l; ev != NULL; ev = ev->next)
		on_event(t, ev);
	eng_session_ev_free(l);
}

/* ---- the input line ---- */

static int
in_reserve(struct tui *t, size_t more)
{
	size_t ncap;
	char *ni;

	if (t->in_len + more + 1 <= t->in_cap)
		return 0;
	ncap = t->in_cap ? t->in_cap : 128;
	while (ncap < t->in_len + more + 1)
		ncap *= 2;
	if ((ni = realloc(t->in, ncap)) == NULL)
		return ERR_NOMEM;
	t->in = ni;
	t->in_cap = ncap;
	return 0;
}

static void
in_insert(struct tui *t, const char *s, size_t n)
{
	if (in_reserve(t, n) != 0)
		return;
	memmove(t->in + t->in_cur + n, t->in + t->in_cur,
	    t->in_len - t->in_cur);
	memcpy(t->in + t->in_cur, s, n);
	t->in_len += n;
	t->in_cur += n;
	t->in[t->in_len] = '\0';
}

static void
in_insert_cp(struct tui *t, uint32_t c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	in_insert(t, b, n);
}

static size_t
prev_char(const struct tui *t, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)t->in[i] & 0xc0) == 0x80)
		i--;
	return i;
}

static size_t
next_char(const struct tui *t, size_t i)
{
	uint32_t cp;

	if (i >= t->in_len)
		return t->in_len;
	return i + (size_t)tui_utf8_next(t->in + i, t->in_len - i, &cp);
}

static void
in_delete(struct tui *t, size_t a, size_t b)
{
	if (b <= a)
		return;
	memmove(t->in + a, t->in + b, t->in_len - b);
	t->in_len -= b - a;
	t->in[t->in_len] = '\0';
	if (t->in_cur > b)
		t->in_cur -= b - a;
	else if (t->in_cur > a)
		t->in_cur = a;
}

static void
in_set(struct tui *t, const char *s)
{
	t->in_len = t->in_cur = 0;
	if (s != NULL)
		in_insert(t, s, strlen(s));
}

static void
submit(struct tui *t)
{
	char *line;
	struct tui_msg *m;

	if (t->in_len == 0)
		return;
	t->in[t->in_len] = '\0';
	if ((line = strdup(t->in)) == NULL)
		return;
	tui_hist_add(&t->hist, line);
	if (line[0] == '/' && line[1] != '/') {
		in_set(t, NULL);
		tui_cmd_run(t, line);
		free(line);
		relayout(t);
		return;
	}
	if (!t->loaded)
		tui_note(t, ROLE_ERROR, t->loading ? "the model is still "
		    "loading" : "no model loaded: /model PATH.gguf");
	else if (t->generating)
		tui_status(t, 1, "a reply is streaming: Ctrl-C stops it");
	else if (!t->info.has_vocab)
		tui_note(t, ROLE_ERROR, "this model has no usable tokenizer: "
		    "send token ids with /tokens 1,2,3");
	else if (tui_token_mode(t))
		tui_note(t, ROLE_ERROR, "this conversation is raw token ids "
		    "(/tokens); /clear starts a text chat");
	else {
		m = tui_conv_add(&t->conv, ROLE_USER, line[0] == '/' ?
		    line + 1 : line, strlen(line[0] == '/' ? line + 1 : line));
		if (m != NULL) {
			m->done = 1;
			in_set(t, NULL);
			tui_generate(t);
		}
	}
	free(line);
	relayout(t);
}

/* ---- keys ---- */

static void
focus_next(struct tui *t, int dir)
{
	static const int order[] = { PANEL_INPUT, PANEL_HEAT, PANEL_BALANCE,
		PANEL_TPUT, PANEL_CACHE, PANEL_PULL };
	int i, cur = 0, n = 6, j, which[3], nb, b;

	for (i = 0; i < n; i++)
		if (order[i] == t->focus)
			cur = i;
	for (j = 1; j <= n; j++) {
		i = ((cur + dir * j) % n + n) % n;
		if (order[i] == PANEL_PULL) {
			if (!tui_pull_visible(t, util_now_ns()))
				continue;
		} else if (order[i] != PANEL_INPUT && (t->hidden[order[i]] ||
		    (t->r[PANEL_CHAT].w == COLS && t->zoom < 0)))
			continue;
		t->focus = order[i];
		break;
	}
	nb = 0;
	{
		static const int bp[3] = { PANEL_BALANCE, PANEL_TPUT,
			PANEL_CACHE };

		for (b = 0; b < 3; b++)
			if (!t->hidden[bp[b]])
				which[nb++] = bp[b];
		for (b = 0; b < nb; b++)
			if (which[b] == t->focus)
				t->bottom_sel = b;
	}
	if (t->zoom >= 0 && t->zoom != PANEL_CHAT)
		t->zoom = t->focus == PANEL_INPUT ? PANEL_CHAT : t->focus;
	relayout(t);
}

static void
inspect_key(struct tui *t, int key)
{
	int last = t->have_stats ? t->st.n_recs - 1 : -1;

	switch (key) {
	case KEY_LEFT:
		t->insp_pos--;
		break;
	case KEY_RIGHT:
		t->insp_pos++;
		break;
	case KEY_UP:
		t->insp_pos -= 10;
		break;
	case KEY_DOWN:
		t->insp_pos += 10;
		break;
	case KEY_HOME:
		t->insp_pos = 0;
		break;
	case KEY_END:
		t->insp_pos = last;
		break;
	case KEY_PPAGE:
		t->insp_scroll -= 5;
		if (t->insp_scroll < 0)
			t->insp_scroll = 0;
		break;
	case KEY_NPAGE:
		t->insp_scroll += 5;
		break;
	case '\r':
	case '\n':
	case KEY_ENTER:
		t->insp_pinned = !t->insp_pinned;
		tui_status(t, 0, t->insp_pinned ? "pinned at %d" :
		    "unpinned (%d)", t->insp_pos);
		break;
	default:
		return;
	}
	if (t->insp_pos > last)
		t->insp_pos = last;
	if (t->insp_pos < 0)
		t->insp_pos = 0;
	t->dirty[PANEL_INSPECT] = t->dirty[PANEL_HEAT] =
	    t->dirty[PANEL_CHAT] = 1;
}

static void
toggle_inspect(struct tui *t)
{
	t->inspect = !t->inspect;
	if (t->inspect) {
		t->insp_pos = t->have_stats && t->st.last_pos >= 0 ?
		    t->st.last_pos : 0;
		t->insp_pinned = 0;
		t->insp_scroll = 0;
	}
	relayout(t);
}

static void
on_key(struct tui *t, int is_key, wint_t c)
{
	struct tui_hist *h = &t->hist;
	MEVENT me;
	int k = (int)c;

	if (!is_key && c == 3) {		/* Ctrl-C */
		if (t->generating) {
			eng_session_stop(t->sess);
			t->stopping = 1;
			tui_status(t, 0, "stopping");
		} else if (t->in_len > 0) {
			in_set(t, NULL);
			relayout(t);
		} else if (t->ctrl_c_armed) {
			t->quit = 1;
		} else {
			t->ctrl_c_armed = 1;
			tui_status(t, 0, "Ctrl-C again quits");
		}
		return;
	}
	t->ctrl_c_armed = 0;
	if (t->pasting && !(is_key && k == K_PASTE_END)) {
		if (!is_key) {
			if (c == '\r')
				c = '\n';
			if (c == '\t')
				c = ' ';
			if (c >= 0x20 || c == '\n')
				in_insert_cp(t, (uint32_t)c);
		}
		t->dirty[PANEL_INPUT] = 1;
		return;
	}
	if (is_key) {
		switch (k) {
		case KEY_RESIZE:
			relayout(t);
			return;
		case K_PASTE_BEGIN:
			t->pasting = 1;
			return;
		case K_PASTE_END:
			t->pasting = 0;
			relayout(t);
			return;
		case K_SHIFT_ENTER:
			in_insert(t, "\n", 1);
			relayout(t);
			return;
		case KEY_F(1):
			t->help = !t->help;
			relayout(t);
			return;
		case KEY_F(2):
			t->heat_mode = (t->heat_mode + 1) % HEAT_NMODES;
			t->dirty[PANEL_HEAT] = 1;
			return;
		case KEY_F(3):
			toggle_inspect(t);
			return;
		case KEY_F(4):
			t->zoom = t->zoom >= 0 ? -1 : t->focus == PANEL_INPUT ?
			    PANEL_CHAT : t->focus;
			relayout(t);
			return;
		case KEY_F(5):
			if (t->focus == PANEL_INPUT)
				memset(t->hidden, 0, sizeof t->hidden);
			else {
				t->hidden[t->focus] = !t->hidden[t->focus];
				t->focus = PANEL_INPUT;
			}
			relayout(t);
			return;
		case KEY_BTAB:
			focus_next(t, -1);
			return;
		case KEY_MOUSE:
			if (getmouse(&me) == OK) {
				if (me.bstate & BUTTON4_PRESSED)
					t->chat_scroll += 3;
#ifdef BUTTON5_PRESSED
				else if (me.bstate & BUTTON5_PRESSED)
					t->chat_scroll = t->chat_scroll > 3 ?
					    t->chat_scroll - 3 : 0;
#endif
				t->dirty[PANEL_CHAT] = 1;
			}
			return;
		case KEY_PPAGE:
			if (!t->inspect) {
				t->chat_scroll += t->r[PANEL_CHAT].h > 2 ?
				    t->r[PANEL_CHAT].h - 2 : 1;
				t->dirty[PANEL_CHAT] = 1;
				return;
			}
			break;
		case KEY_NPAGE:
			if (!t->inspect) {
				t->chat_scroll -= t->r[PANEL_CHAT].h > 2 ?
				    t->r[PANEL_CHAT].h - 2 : 1;
				if (t->chat_scroll < 0)
					t->chat_scroll = 0;
				t->dirty[PANEL_CHAT] = 1;
				return;
			}
			break;
		}
	}
	if (t->help) {
		if ((!is_key && (c == 27 || c == 'q' || c == '?')) ||
		    (is_key && k == KEY_F(1))) {
			t->help = 0;
			relayout(t);
		}
		return;
	}
	if (!is_key && c == 27) {		/* Esc */
		if (t->inspect)
			toggle_inspect(t);
		else if (t->zoom >= 0) {
			t->zoom = -1;
			relayout(t);
		} else if (t->focus != PANEL_INPUT) {
			t->focus = PANEL_INPUT;
			relayout(t);
		}
		return;
	}
	if (t->inspect && is_key) {
		inspect_key(t, k);
		return;
	}
	if (t->inspect && !is_key && (c == '\r' || c == '\n')) {
		inspect_key(t, '\r');
		return;
	}
	if (is_key) {
		switch (k) {
		case KEY_LEFT:
			t->in_cur = prev_char(t, t->in_cur);
			break;
		case KEY_RIGHT:
			t->in_cur = next_char(t, t->in_cur);
			break;
		case KEY_HOME:
			t->in_cur = 0;
			break;
		case KEY_END:
			t->in_cur = t->in_len;
			break;
		case KEY_BACKSPACE:
			in_delete(t, prev_char(t, t->in_cur), t->in_cur);
			break;
		case KEY_DC:
			in_delete(t, t->in_cur, next_char(t, t->in_cur));
			break;
		case KEY_UP:
			if (h->at > 0) {
				h->at--;
				in_set(t, h->v[h->at]);
			}
			break;
		case KEY_DOWN:
			if (h->at < h->n) {
				h->at++;
				in_set(t, h->at < h->n ? h->v[h->at] : NULL);
			}
			break;
		case KEY_ENTER:
			submit(t);
			return;
		default:
			return;
		}
		relayout(t);
		return;
	}
	switch (c) {
	case '\r':
	case '\n':
		submit(t);
		return;
	case '\t':
		if (t->in_len > 0 && t->in[0] == '/')
			tui_cmd_complete(t);
		else
			focus_next(t, 1);
		break;
	case 4:					/* Ctrl-D */
		if (t->in_len == 0)
			t->quit = 1;
		else
			in_delete(t, t->in_cur, next_char(t, t->in_cur));
		break;
	case 1:					/* Ctrl-A */
		t->in_cur = 0;
		break;
	case 5:					/* Ctrl-E */
		t->in_cur = t->in_len;
		break;
	case 11:				/* Ctrl-K */
		in_delete(t, t->in_cur, t->in_len);
		break;
	case 21:				/* Ctrl-U */
		in_delete(t, 0, t->in_cur);
		break;
	case 23: {				/* Ctrl-W */
		size_t a = t->in_cur;

		while (a > 0 && t->in[a - 1] == ' ')
			a--;
		while (a > 0 && t->in[a - 1] != ' ')
			a--;
		in_delete(t, a, t->in_cur);
		break;
	}
	case 12:				/* Ctrl-L */
		clearok(curscr, TRUE);
		break;
	case 8:
	case 127:
		in_delete(t, prev_char(t, t->in_cur), t->in_cur);
		break;
	default:
		if (c == '?' && t->in_len == 0) {
			t->help = 1;
			break;
		}
		if (c < 0x20)
			return;
		if (t->focus != PANEL_INPUT)
			t->focus = PANEL_INPUT;
		in_insert_cp(t, (uint32_t)c);
	}
	relayout(t);
}

/* Read every pending key; Alt-Enter arrives as ESC then CR. */
static void
read_keys(struct tui *t)
{
	wint_t c, c2;
	int r, r2;

	while ((r = get_wch(&c)) != ERR) {
		if (r == OK && c == 27 && !t->pasting) {
			r2 = get_wch(&c2);
			if (r2 == OK && (c2 == '\r' || c2 == '\n')) {
				in_insert(t, "\n", 1);
				relayout(t);
				continue;
			}
			on_key(t, 0, 27);
			if (r2 != ERR)
				on_key(t, r2 == KEY_CODE_YES, c2);
			continue;
		}
		on_key(t, r == KEY_CODE_YES, c);
		if (t->quit)
			return;
	}
}

/* ---- set-up ---- */

static int
term_ok(struct err *e)
{
	const char *term = getenv("TERM");
	int erret = 0;
	char *cup;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return err_set(e, ERR_UNSUPPORTED, "the chat needs a terminal "
		    "(for scripts use moescope batch or run)");
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return err_set(e, ERR_UNSUPPORTED, "TERM=%s cannot show the "
		    "chat; use a terminal with cursor addressing (or "
		    "moescope run / batch)", term ? term : "");
	if (setupterm(NULL, STDOUT_FILENO, &erret) != OK)
		return err_set(e, ERR_UNSUPPORTED, "TERM=%s: no terminfo "
		    "entry; set TERM to your terminal (e.g. xterm-256color)",
		    term);
	cup = tigetstr("cup");
	if (cup == NULL || cup == (char *)-1)
		return err_set(e, ERR_UNSUPPORTED, "TERM=%s has no cursor "
		    "addressing; the chat cannot run there", term);
	return 0;
}

static void
home_dir(struct tui *t)
{
	const char *h = t->o.home, *hh;

	if (h == NULL || *h == '\0')
		h = getenv("MOESCOPE_HOME");
	if (h != NULL && *h != '\0')
		snprintf(t->home, sizeof t->home, "%s", h);
	else if ((hh = getenv("HOME")) != NULL && *hh != '\0')
		snprintf(t->home, sizeof t->home, "%s/.local/share/moescope",
		    hh);
	else
		t->home[0] = '\0';
}

int
tui_run(const struct tui_opts *o, struct err *e)
{
	struct tui *t;
	SCREEN *scr;
	struct pollfd pf[3];
	struct sigaction sa, old_term, old_hup;
	uint64_t now, last_draw = 0, last_tick = 0;
	int rc, timeout, i;
	const char *cs;

	if ((rc = term_ok(e)) != 0)
		return rc;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	t->o = *o;
	t->sp = o->sp;
	t->max_tokens = o->max_tokens;
	t->zoom = -1;
	t->focus = PANEL_INPUT;
	t->reply_idx = -1;
	t->heat_mode = HEAT_DECAY;
	home_dir(t);
	tui_hist_open(&t->hist, t->home);
	cs = nl_langinfo(CODESET);
	t->utf8 = cs != NULL && (strcmp(cs, "UTF-8") == 0 ||
	    strcmp(cs, "utf8") == 0);
	if ((rc = eng_session_new(&t->sess, &o->ep, &o->sp, o->max_tokens,
	    &t->wake_fd, e)) != 0) {
		tui_hist_free(&t->hist);
		free(t);
		return rc;
	}
	if (o->ram_share > 0)
		eng_session_ram_share(t->sess, o->ram_share);
	{
		struct err pe = { 0 };

		if (tui_pull_init(&t->pulls, &pe) != 0)
			tui_note(t, ROLE_ERROR, "downloads are off: %s",
			    pe.msg);
	}
	if (o->model != NULL)
		tui_cmd_model(t, o->model, 1);

	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		eng_session_free(t->sess);
		tui_hist_free(&t->hist);
		free(t);
		return err_set(e, ERR_UNSUPPORTED, "cannot initialize the "
		    "terminal (TERM=%s)", getenv("TERM"));
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	mousemask(BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
	    | BUTTON5_PRESSED
#endif
	    , NULL);
	mouseinterval(0);
	define_key("\033[200~", K_PASTE_BEGIN);
	define_key("\033[201~", K_PASTE_END);
	define_key("\033[13;2u", K_SHIFT_ENTER);
	define_key("\033[27;2;13~", K_SHIFT_ENTER);
	tui_draw_init(t);
	printf("\033[?2004h");
	fflush(stdout);
	if (!t->utf8)
		tui_note(t, ROLE_NOTE, "the locale is not UTF-8: ASCII "
		    "drawing, non-ASCII text shows as '?'");
	if (o->model == NULL)
		tui_note(t, ROLE_ERROR, "no model: start with moescope chat "
		    "MODEL.gguf, or /model PATH.gguf");
	relayout(t);

	pf[0].fd = STDIN_FILENO;
	pf[0].events = POLLIN;
	pf[1].fd = t->wake_fd;
	pf[1].events = POLLIN;
	pf[2].fd = t->pulls.wake_fd;	/* -1 when downloads are off */
	pf[2].events = POLLIN;
	while (!t->quit && !got_signal) {
		now = util_now_ns();
		timeout = 250;
		for (i = 0; i < PANEL_N; i++)
			if (t->dirty[i]) {
				timeout = now - last_draw >= FRAME_NS ? 0 :
				    (int)((FRAME_NS - (now - last_draw)) /
				    1000000) + 1;
				break;
			}
		if (poll(pf, 3, timeout) < 0 && errno != EINTR)
			break;
		drain_events(t);
		if (tui_pull_drain(t))
			pulls_changed(t);
		read_keys(t);
		now = util_now_ns();
		if (now - last_tick >= TICK_NS) {
			last_tick = now;
			if (t->have_stats && tui_stats_tick(&t->st, now,
			    WINDOW_NS, t->generating))
				t->dirty[PANEL_TPUT] = t->dirty[PANEL_TITLE] =
				    t->dirty[PANEL_CACHE] = 1;
			if (t->status[0] && now - t->status_t > STATUS_NS) {
				t->status[0] = '\0';
				t->dirty[PANEL_STATUS] = 1;
			}
			/* the panel's linger ran out */
			if (tui_pull_visible(t, now) != t->pulls.visible)
				pulls_changed(t);
		}
		if (now - last_draw >= FRAME_NS) {
			tui_draw(t);
			last_draw = now;
		}
	}

	endwin();
	printf("\033[?2004l");
	fflush(stdout);
	delscreen(scr);
	if ((i = tui_pull_running(&t->pulls)) > 0)
		fprintf(stderr, "moescope: stopping %d download%s; partial "
		    "files are kept, the next pull resumes them\n", i,
		    i > 1 ? "s" : "");
	tui_pull_fini(&t->pulls);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	eng_session_free(t->sess);
	if (t->have_stats)
		tui_stats_fini(&t->st);
	tui_conv_free(&t->conv);
	tui_hist_free(&t->hist);
	tui_cache_free(&t->cache);
	free(t->in);
	free(t);
	return 0;
}
