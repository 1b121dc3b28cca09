/*
 * tui-panels.c - layout and the panels.
 *
 *   +- title: model, shape ------------------- ctx | threads | mem | tok/s -+
 *   | chat (wrapped, scrollable)       | experts: layer x expert heatmap   |
 *   |                                  +-----------------------------------+
 *   |                                  | balance | throughput | cache      |
 *   +-----------------------------------+-----------------------------------+
 *   | downloads (while a /pull runs, and a while after)                     |
 *   +-----------------------------------------------------------------------+
 *   | > input (multi-line)                                                  |
 *   +- key hints ------------------------------------------ status message -+
 *
 * tui_layout() turns the terminal size, hidden/zoomed panels and inspect
 * mode into rectangles; it degrades in steps: bottom panels side by side,
 * then stacked, then one at a time (Tab picks), then no right column
 * (narrow terminals), then a "too small" notice. The downloads panel
 * takes full-width rows above the input, up to two fifths of the middle,
 * and shrinks to one unboxed line when the middle is short. Each
 * tui_draw_*() paints
 * one rectangle from the state in struct tui; tui_draw() repaints only
 * the panels marked dirty.
 */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui-int.h"

#define MIN_W 40
#define MIN_H 12
#define INPUT_MAX 6

/* ---- layout ---- */

/* A line of the downloads panel (drawn below). */
enum { PL_HEAD, PL_TOTAL, PL_FILE, PL_CONV, PL_MSG };

struct pline {
	int	 job;		/* index in t->pulls.jobs */
	int	 kind;		/* PL_* */
	int	 arg;		/* file index, or message line */
};

static int pull_lines(const struct tui *t, int iw, int detail,
    struct pline *out, int max);

/* Input lines at width w (the prompt takes 2 columns). */
struct lines {
	size_t	 off[256];
	size_t	 len[256];
	int	 n;
};

static void
lines_emit(void *arg, size_t off, size_t len)
{
	struct lines *l = arg;

	if (l->n < 256) {
		l->off[l->n] = off;
		l->len[l->n] = len;
	}
	l->n++;
}

static void
input_lines(const struct tui *t, int w, struct lines *l)
{
	l->n = 0;
	tui_wrap(t->in != NULL ? t->in : "", t->in_len, w - 2 > 1 ? w - 2 : 1,
	    lines_emit, l);
	if (l->n > 256)
		l->n = 256;
}

static int
bottom_visible(const struct tui *t, int *which)
{
	static const int b[3] = { PANEL_BALANCE, PANEL_TPUT, PANEL_CACHE };
	int i, n = 0;

	for (i = 0; i < 3; i++)
		if (!t->hidden[b[i]])
			which[n++] = b[i];
	return n;
}

void
tui_layout(struct tui *t)
{
	struct lines l;
	int H = LINES, W = COLS, in_h, mid_y, mid_h, rw, cw, i, n, which[3];
	int heat_need, heat_h, bot_h, y, each;

	memset(t->r, 0, sizeof t->r);
	t->too_small = W < MIN_W || H < MIN_H;
	if (t->too_small)
		return;
	t->r[PANEL_TITLE] = (struct rect){ 0, 0, 1, W };
	t->r[PANEL_STATUS] = (struct rect){ H - 1, 0, 1, W };
	input_lines(t, W, &l);
	in_h = l.n < 1 ? 1 : l.n > INPUT_MAX ? INPUT_MAX : l.n;
	/* a separator line above the input */
	t->r[PANEL_INPUT] = (struct rect){ H - 1 - in_h - 1, 0, in_h + 1, W };
	mid_y = 1;
	mid_h = t->r[PANEL_INPUT].y - mid_y;
	t->pulls.visible = tui_pull_visible(t, util_now_ns());
	if (!t->pulls.visible) {
		/* hidden (F5) or over: neither zoomed nor focused */
		if (t->zoom == PANEL_PULL)
			t->zoom = -1;
		if (t->focus == PANEL_PULL)
			t->focus = PANEL_INPUT;
	}

	if (t->zoom >= 0 && t->zoom != PANEL_CHAT && t->zoom != PANEL_INPUT) {
		t->r[t->zoom] = (struct rect){ mid_y, 0, mid_h, W };
		return;
	}
	if (t->pulls.visible) {
		int ph = pull_lines(t, W - 2, 1, NULL, 0) + 2;

		if (mid_h >= 14) {
			i = mid_h * 2 / 5;
			ph = ph > i ? i : ph;
		} else
			ph = 1;		/* one line, no box */
		t->r[PANEL_PULL] = (struct rect){ t->r[PANEL_INPUT].y - ph, 0,
		    ph, W };
		mid_h -= ph;
	}
	n = bottom_visible(t, which);
	rw = W >= 160 ? W * 45 / 100 : W >= 120 ? W / 2 : W - 44;
	if (t->zoom == PANEL_CHAT || t->zoom == PANEL_INPUT || W < 72 ||
	    (t->hidden[PANEL_HEAT] && n == 0 && !t->inspect) || rw < 28) {
		t->r[PANEL_CHAT] = (struct rect){ mid_y, 0, mid_h, W };
		return;
	}
	cw = W - rw;
	t->r[PANEL_CHAT] = (struct rect){ mid_y, 0, mid_h, cw };
	heat_need = (t->have_stats ? t->st.n_layer : 4) + 4;
	if (t->hidden[PANEL_HEAT])
		heat_h = 0;
	else if (n == 0 && !t->inspect)
		heat_h = mid_h;
	else {
		heat_h = heat_need;
		if (heat_h > mid_h * 55 / 100)
			heat_h = mid_h * 55 / 100;
		if (heat_h < 5)
			heat_h = mid_h >= 10 ? 5 : 0;
	}
	if (heat_h > 0)
		t->r[PANEL_HEAT] = (struct rect){ mid_y, cw, heat_h, rw };
	bot_h = mid_h - heat_h;
	y = mid_y + heat_h;
	if (bot_h < 3)
		return;
	if (t->inspect) {
		t->r[PANEL_INSPECT] = (struct rect){ y, cw, bot_h, rw };
		return;
	}
	if (n == 0)
		return;
	if (rw >= n * 24) {
		each = rw / n;
		for (i = 0; i < n; i++)
			t->r[which[i]] = (struct rect){ y, cw + i * each, bot_h,
			    i == n - 1 ? rw - i * each : each };
	} else if (bot_h >= n * 6) {
		each = bot_h / n;
		for (i = 0; i < n; i++)
			t->r[which[i]] = (struct rect){ y + i * each, cw,
			    i == n - 1 ? bot_h - i * each : each, rw };
	} else {
		/* one at a time: the selected one */
		i = t->bottom_sel % n;
		t->r[which[i]] = (struct rect){ y, cw, bot_h, rw };
	}
}

/* ---- title and status ---- */

static void
draw_title(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_TITLE];
	char left[512], right[256], mem[32];
	int a = tui_attr(t, CP_TITLE), lw, rwid;

	attron(a);
	mvhline(r->y, 0, ' ', r->w);
	if (t->loaded)
		snprintf(left, sizeof left, " moescope - %s%s%s - %d layers, "
		    "%d experts, top-%d", t->info.hp.arch,
		    t->info.name[0] ? " " : "", t->info.name,
		    t->info.hp.n_layer, t->info.hp.n_expert,
		    t->info.hp.n_expert_used);
	else {
		const char *what = t->loading ? "loading model..." :
		    "no model", *pre = "";
		int i;

		/* no model yet: the one being pulled to load */
		for (i = 0; i < t->pulls.n && !t->loading; i++)
			if (t->pulls.jobs[i].load &&
			    t->pulls.jobs[i].phase < PULL_DONE) {
				what = t->pulls.jobs[i].repo;
				pre = "pulling ";
			}
		snprintf(left, sizeof left, " moescope - %s%s", pre, what);
	}
	util_fmt_bytes(t->st.rss ? t->st.rss : tui_rss_bytes(), mem,
	    sizeof mem);
	if (t->loaded)
		snprintf(right, sizeof right, "%s%s ctx %d/%d | cpu %dt | "
		    "mem %s ", t->generating ? (t->utf8 ? "\xe2\x97\x8f " :
		    "* ") : "", t->generating ? "generating |" : "",
		    t->have_stats ? t->st.n_recs : 0, t->info.n_ctx,
		    t->info.n_threads, mem);
	else
		snprintf(right, sizeof right, "mem %s ", mem);
	if (tui_pull_running(&t->pulls) > 0 && t->r[PANEL_PULL].w == 0) {
		/* the downloads panel is not on screen: their progress here */
		const struct tui_pull_job *j = NULL;
		char pre[64];
		int i;

		for (i = 0; i < t->pulls.n; i++)
			if (t->pulls.jobs[i].phase < PULL_DONE)
				j = &t->pulls.jobs[i];
		snprintf(pre, sizeof pre, "%s %d%% | ", j->phase ==
		    PULL_CONVERTING ? "convert" : "pull",
		    (int)(tui_pull_frac(j) * 100));
		memmove(right + strlen(pre), right, strlen(right) + 1 <
		    sizeof right - strlen(pre) ? strlen(right) + 1 :
		    sizeof right - strlen(pre));
		memcpy(right, pre, strlen(pre));
		right[sizeof right - 1] = '\0';
	}
	rwid = tui_str_width(right, strlen(right));
	lw = tui_put(t, r->y, 0, r->w, left, strlen(left));
	if (lw + rwid + 1 <= r->w)
		tui_put(t, r->y, r->w - rwid, rwid, right, strlen(right));
	attroff(a);
}

static void
draw_status(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_STATUS];
	const char *hints;
	int a = tui_attr(t, CP_STATUS), hw, sw;

	if (t->inspect)
		hints = " Left/Right token  Up/Down 10  Home/End  Enter pin  "
		    "PgUp/PgDn layers  Esc leave";
	else if (t->generating)
		hints = " ^C stop  F1 help  Tab focus  F2 heat  F3 inspect";
	else
		hints = " F1 help  Tab focus  F2 heat  F3 inspect  F4 zoom  "
		    "F5 hide  ^C^C quit  /help";
	attron(a);
	mvhline(r->y, 0, ' ', r->w);
	hw = tui_put(t, r->y, 0, r->w, hints, strlen(hints));
	attroff(a);
	if (t->status[0] != '\0') {
		sw = tui_str_width(t->status, strlen(t->status)) + 2;
		if (sw > r->w)
			sw = r->w;
		if (hw + sw > r->w) {
			attron(a);
			mvhline(r->y, 0, ' ', r->w);
			attroff(a);
			hw = 0;
		}
		a = tui_attr(t, t->status_err ? CP_ERROR : CP_FOCUS);
		attron(a | A_BOLD);
		tui_putf(t, r->y, r->w - sw, sw, " %s ", t->status);
		attroff(a | A_BOLD);
	}
}

/* ---- chat ---- */

struct cline {
	int	 msg;
	size_t	 off, len;
	int	 first;
};

struct chat_build {
	struct cline	*v;
	int		 n, cap;
	int		 msg;
	int		 first;
	size_t		 base;
};

static void
chat_emit(void *arg, size_t off, size_t len)
{
	struct chat_build *b = arg;
	struct cline *nv;
	int ncap;

	if (b->n == b->cap) {
		ncap = b->cap ? b->cap * 2 : 256;
		if ((nv = realloc(b->v, (size_t)ncap * sizeof *nv)) == NULL)
			return;
		b->v = nv;
		b->cap = ncap;
	}
	b->v[b->n].msg = b->msg;
	b->v[b->n].off = b->base + off;
	b->v[b->n].len = len;
	b->v[b->n].first = b->first;
	b->first = 0;
	b->n++;
}

static int
role_cp(int role)
{
	switch (role) {
	case ROLE_SYSTEM:
		return CP_SYSTEM;
	case ROLE_USER:
		return CP_USER;
	case ROLE_ASSISTANT:
		return CP_ASSIST;
	case ROLE_ERROR:
		return CP_ERROR;
	case ROLE_STATS:
		return CP_STATS;
	}
	return CP_NOTE;
}

static const char *
role_prefix(const struct tui *t, int role)
{
	switch (role) {
	case ROLE_SYSTEM:
		return "# ";
	case ROLE_USER:
		return t->utf8 ? "\xe2\x9d\xaf " : "> ";
	case ROLE_ERROR:
		return "! ";
	case ROLE_NOTE:
		return t->utf8 ? "\xc2\xb7 " : "- ";
	}
	return "  ";
}

/* The byte range of the inspected token inside message m, if any. */
static int
token_span(const struct tui *t, const struct tui_msg *m, size_t *a,
    size_t *b)
{
	int j;

	if (!t->inspect || m->tok_pos == NULL)
		return 0;
	for (j = 0; j < m->n_ids; j++)
		if (m->tok_pos[j] == t->insp_pos) {
			*a = m->tok_off[j];
			*b = j + 1 < m->n_ids ? m->tok_off[j + 1] : m->len;
			return *b > *a;
		}
	return 0;
}

static void
draw_chat(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_CHAT];
	struct chat_build b = { 0 };
	const struct tui_msg *m;
	int i, h, first, y, a, w, x, sep;
	size_t ha = 0, hb = 0, lo, hi;
	const char *pre;

	if (r->w <= 0)
		return;
	sep = r->x + r->w < COLS;	/* a right column follows */
	w = r->w - sep - 1;
	for (y = 0; y < r->h; y++)
		mvhline(r->y + y, r->x, ' ', r->w);
	if (sep) {
		a = tui_attr(t, CP_BORDER);
		attron(a);
		if (t->utf8)
			mvvline(r->y, r->x + r->w - 1, ACS_VLINE, r->h);
		else
			mvvline(r->y, r->x + r->w - 1, '|', r->h);
		attroff(a);
	}
	if (w < 4)
		return;
	for (i = 0; i < t->conv.n; i++) {
		m = &t->conv.m[i];
		b.msg = i;
		b.first = 1;
		b.base = 0;
		if (i > 0 && (m->role == ROLE_USER || m->role == ROLE_SYSTEM))
			chat_emit(&b, 0, 0), b.v[b.n - 1].msg = -1;
		b.first = 1;
		tui_wrap(m->text, m->len, w - 3, chat_emit, &b);
	}
	if (t->conv.n == 0) {
		a = tui_attr(t, CP_DIM);
		attron(a);
		tui_putf(t, r->y + 1, r->x + 2, w - 2, "%s",
		    t->loaded ? "Type a message and press Enter." :
		    "No model: /model PATH.gguf loads one.");
		tui_putf(t, r->y + 2, r->x + 2, w - 2, "%s",
		    "F1 shows the keys, /help the commands.");
		attroff(a);
	}
	h = r->h;
	t->chat_lines = b.n;
	if (t->chat_scroll > b.n - h)
		t->chat_scroll = b.n - h > 0 ? b.n - h : 0;
	first = b.n - h - t->chat_scroll;
	if (first < 0)
		first = 0;
	for (y = 0; y < h && first + y < b.n; y++) {
		const struct cline *c = &b.v[first + y];

		if (c->msg < 0)
			continue;
		m = &t->conv.m[c->msg];
		a = tui_attr(t, role_cp(m->role));
		x = r->x + 1;
		if (c->first) {
			pre = role_prefix(t, m->role);
			attron(a | A_BOLD);
			tui_put(t, r->y + y, x, 2, pre, strlen(pre));
			attroff(a | A_BOLD);
		}
		x += 2;
		attron(a);
		if (token_span(t, m, &ha, &hb) && ha < c->off + c->len &&
		    hb > c->off) {
			lo = ha > c->off ? ha : c->off;
			hi = hb < c->off + c->len ? hb : c->off + c->len;
			x += tui_put(t, r->y + y, x, w - 3, m->text + c->off,
			    lo - c->off);
			attroff(a);
			attron(tui_attr(t, CP_CURSOR));
			x += tui_put(t, r->y + y, x, r->x + w - x,
			    m->text + lo, hi - lo);
			attroff(tui_attr(t, CP_CURSOR));
			attron(a);
			tui_put(t, r->y + y, x, r->x + w - x, m->text + hi,
			    c->off + c->len - hi);
		} else
			tui_put(t, r->y + y, x, w - 3, m->text + c->off,
			    c->len);
		attroff(a);
	}
	if (t->chat_scroll > 0) {
		a = tui_attr(t, CP_FOCUS);
		attron(a);
		tui_putf(t, r->y, r->x + w - 16, 16, " %d lines below ",
		    t->chat_scroll);
		attroff(a);
	}
	free(b.v);
}

/* ---- input ---- */

static void
draw_input(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_INPUT];
	struct lines l;
	int a, i, top, cl = 0, cx, y;
	const char *ph;

	a = tui_attr(t, t->focus == PANEL_INPUT ? CP_PTITLE : CP_BORDER);
	attron(a);
	if (t->utf8)
		mvhline(r->y, 0, ACS_HLINE, r->w);
	else
		mvhline(r->y, 0, '-', r->w);
	attroff(a);
	for (y = 1; y < r->h; y++)
		mvhline(r->y + y, 0, ' ', r->w);
	input_lines(t, r->w, &l);
	for (i = 0; i < l.n; i++)
		if (t->in_cur >= l.off[i] &&
		    (t->in_cur < l.off[i] + l.len[i] ||
		    (t->in_cur == l.off[i] + l.len[i] && (i + 1 == l.n ||
		    l.off[i + 1] > t->in_cur))))
			cl = i;
	top = cl - (r->h - 2);
	if (top < 0)
		top = 0;
	a = tui_attr(t, CP_USER);
	attron(a | A_BOLD);
	mvaddstr(r->y + 1, 0, top == 0 ? "> " : "< ");
	attroff(a | A_BOLD);
	if (t->in_len == 0) {
		ph = t->loaded && !t->info.has_vocab ?
		    "no tokenizer: /tokens 1,2,3 sends ids" :
		    "message, or /help";
		a = tui_attr(t, CP_DIM);
		attron(a);
		tui_put(t, r->y + 1, 2, r->w - 2, ph, strlen(ph));
		attroff(a);
	}
	for (i = top; i < l.n && i - top < r->h - 1; i++)
		tui_put(t, r->y + 1 + i - top, 2, r->w - 2, t->in + l.off[i],
		    l.len[i]);
	cx = 2 + (l.n > 0 ? tui_str_width(t->in + l.off[cl],
	    t->in_cur - l.off[cl]) : 0);
	if (cx >= r->w)
		cx = r->w - 1;
	move(r->y + 1 + cl - top, cx);
}

/* ---- heatmap ---- */

static int
level_of(double v)
{
	int l;

	if (v <= 0 || v != v)
		return 0;
	l = (int)ceil(v * (HEAT_LEVELS - 1));
	return l < 1 ? 1 : l > HEAT_LEVELS - 1 ? HEAT_LEVELS - 1 : l;
}

static const char *const heat_names[HEAT_NMODES] = {
	"gate weight, this token", "decayed load", "load, whole chat"
};
static const char *const heat_short[HEAT_NMODES] = {
	"token", "decayed", "chat"
};

/* One cell's value: the inspected token's gate weight (rec), else by
 * mode the current token's weight, the decayed or the total count. */
static double
heat_value(const struct tui_stats *st, const struct tui_rec *rec, int mode,
    int il, int ex)
{
	size_t i = (size_t)il * (size_t)st->n_expert + (size_t)ex;
	int s;

	if (rec != NULL) {
		for (s = 0; s < st->k; s++)
			if (rec->experts[il * st->k + s] == ex)
				return rec->weights[il * st->k + s];
		return 0;
	}
	if (mode == HEAT_TOKEN)
		return st->cur[i];
	if (mode == HEAT_DECAY)
		return st->decay[i];
	return (double)st->count[i];
}

static void
draw_heat(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_HEAT];
	const struct tui_stats *st = &t->st;
	const struct tui_rec *rec = NULL;
	char title[160], bin[64] = "";
	int iw, ih, lw, cols, bin_e, cell, lbin, rows, il, ex, c, row, x, y;
	int e0, e1, l0, l1, a, step, mode = t->heat_mode;
	double v, maxv = 0, cellv;

	if (r->w <= 0)
		return;
	if (!t->have_stats) {
		tui_box(t, r, "experts", t->focus == PANEL_HEAT);
		tui_putf(t, r->y + 1, r->x + 2, r->w - 4, "%s",
		    t->loaded ? "dense model: no experts" : "no model");
		return;
	}
	iw = r->w - 2;
	ih = r->h - 2;
	lw = st->n_layer > 100 ? 5 : 4;
	cols = iw - lw;
	if (cols < 1 || ih < 2) {
		tui_box(t, r, "experts", t->focus == PANEL_HEAT);
		return;
	}
	bin_e = (st->n_expert + cols - 1) / cols;
	if (bin_e < 1)
		bin_e = 1;
	cell = bin_e == 1 ? cols / st->n_expert : 1;
	if (cell > 6)
		cell = 6;
	if (cell < 1)
		cell = 1;
	rows = ih - 2;	/* a header row and a legend row */
	if (rows < 1)
		rows = ih - 1;
	if (rows < 1)
		rows = 1;
	lbin = (st->n_layer + rows - 1) / rows;
	if (lbin < 1)
		lbin = 1;
	/* binning is said in the legend row: the title stays short */
	if (bin_e > 1 || lbin > 1)
		snprintf(bin, sizeof bin, "  %dx%d/cell", bin_e, lbin);
	if (t->inspect && t->insp_pos >= 0 && t->insp_pos < st->n_recs &&
	    st->recs[t->insp_pos].valid) {
		rec = &st->recs[t->insp_pos];
		mode = HEAT_TOKEN;
		snprintf(title, sizeof title, "experts - pos %d", t->insp_pos);
	} else
		snprintf(title, sizeof title, "experts - %s",
		    r->w >= 40 ? heat_names[mode] : heat_short[mode]);
	tui_box(t, r, title, t->focus == PANEL_HEAT);
	/* the scale: the largest cell */
	if (mode == HEAT_DECAY)
		for (c = 0; c < st->n_layer * st->n_expert; c++)
			maxv = st->decay[c] > maxv ? st->decay[c] : maxv;
	else if (mode == HEAT_TOTAL)
		for (c = 0; c < st->n_layer * st->n_expert; c++)
			maxv = (double)st->count[c] > maxv ?
			    (double)st->count[c] : maxv;
	else
		maxv = 1;
	/* header: expert numbers */
	a = tui_attr(t, CP_DIM);
	attron(a);
	step = cell >= 5 ? 1 : cell >= 3 ? 2 : cell == 2 ? 4 : 8;
	for (c = 0, x = r->x + 1 + lw; c * bin_e < st->n_expert; c++,
	    x += cell)
		if (c % step == 0 && x + 3 < r->x + r->w - 1)
			tui_putf(t, r->y + 1, x, r->x + r->w - 1 - x, "%d",
			    c * bin_e);
	attroff(a);
	for (row = 0, y = r->y + 2; row * lbin < st->n_layer && row < rows;
	    row++, y++) {
		l0 = row * lbin;
		l1 = l0 + lbin < st->n_layer ? l0 + lbin : st->n_layer;
		attron(a);
		tui_putf(t, y, r->x + 1, lw, "%*d", lw - 1, l0);
		attroff(a);
		for (c = 0, x = r->x + 1 + lw; c * bin_e < st->n_expert; c++,
		    x += cell) {
			e0 = c * bin_e;
			e1 = e0 + bin_e < st->n_expert ? e0 + bin_e :
			    st->n_expert;
			cellv = 0;
			for (il = l0; il < l1; il++)
				for (ex = e0; ex < e1; ex++) {
					v = heat_value(st, rec, mode, il, ex);
					if (v > cellv)
						cellv = v;
				}
			if (x + cell > r->x + r->w - 1)
				break;
			/* wide cells keep a gap so neighbours read apart */
			tui_heat_cell(t, y, x, cell >= 3 ? cell - 1 : cell,
			    level_of(maxv > 0 ? cellv / maxv : 0));
		}
	}
	if (ih >= 3) {
		y = r->y + r->h - 2;
		x = r->x + 1 + lw;
		for (c = 0; c < HEAT_LEVELS; c++)
			tui_heat_cell(t, y, x + c, 1, c);
		attron(a);
		tui_putf(t, y, x + HEAT_LEVELS + 1, r->x + r->w - 2 -
		    (x + HEAT_LEVELS), "0..%.3g%s  F2 mode", maxv, bin);
		attroff(a);
	}
}

/* ---- balance ---- */

static void
draw_balance(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_BALANCE];
	const struct tui_stats *st = &t->st;
	int iw, ih, il, y, bw, shown = 0, a, moe = 0;
	double top, mx = 0;
	char title[64];

	if (r->w <= 0)
		return;
	if (!t->have_stats) {
		tui_box(t, r, "balance", t->focus == PANEL_BALANCE);
		return;
	}
	for (il = 0; il < st->n_layer; il++)
		moe += st->maxmean[il] > 0;
	iw = r->w - 2;
	ih = r->h - 2;
	snprintf(title, sizeof title, "balance%s", ih - 3 < moe ?
	    " (worst first)" : "");
	tui_box(t, r, title, t->focus == PANEL_BALANCE);
	if (ih < 2 || iw < 16)
		return;
	a = tui_attr(t, CP_DIM);
	attron(a);
	tui_putf(t, r->y + 1, r->x + 1, iw, "%s", " L  max/mean     "
	    "    cv    H");
	attroff(a);
	top = st->k > 0 ? (double)st->n_expert / st->k : st->n_expert;
	bw = iw - 4 - 17;
	if (bw < 3)
		bw = 3;
	/* rows: worst layers first when they do not all fit */
	{
		int order[1024], n = 0, i, j, tmp;

		for (il = 0; il < st->n_layer && n < 1024; il++)
			if (st->maxmean[il] > 0)
				order[n++] = il;
		if (n > ih - 3)
			for (i = 1; i < n; i++)
				for (j = i; j > 0 && st->maxmean[order[j]] >
				    st->maxmean[order[j - 1]]; j--) {
					tmp = order[j];
					order[j] = order[j - 1];
					order[j - 1] = tmp;
				}
		for (i = 0, y = r->y + 2; i < n && y < r->y + r->h - 2; i++,
		    y++) {
			il = order[i];
			tui_putf(t, y, r->x + 1, 4, "%3d", il);
			tui_bar(t, y, r->x + 5, bw, top > 1 ?
			    (st->maxmean[il] - 1) / (top - 1) : 0,
			    st->maxmean[il] > 2 ? CP_BAR_HI : CP_BAR);
			tui_putf(t, y, r->x + 5 + bw, iw - 4 - bw,
			    " %4.2f %4.2f %3.0f%%", st->maxmean[il],
			    st->cv[il], st->entropy[il] * 100);
			shown++;
		}
		if (n == 0)
			tui_put(t, r->y + 2, r->x + 1, iw,
			    " (no tokens routed yet)", 23);
	}
	for (il = 0; il < st->imbalance.n && il < iw; il++)
		if (tui_ring_get(&st->imbalance, il) > mx)
			mx = tui_ring_get(&st->imbalance, il);
	y = r->y + r->h - 2;
	attron(a);
	tui_putf(t, y, r->x + 1, 11, "imbalance ");
	attroff(a);
	tui_spark(t, &st->imbalance, y, r->x + 11, iw - 10, mx);
}

/* ---- throughput ---- */

static void
draw_tput(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_TPUT];
	const struct tui_stats *st = &t->st;
	char mem[32];
	int iw, ih, i, a;
	double mx = 0;

	if (r->w <= 0)
		return;
	tui_box(t, r, "tokens/s", t->focus == PANEL_TPUT);
	iw = r->w - 2;
	ih = r->h - 2;
	if (ih < 1 || iw < 8)
		return;
	for (i = 0; i < st->decode_tps.n && i < iw * 2; i++)
		if (tui_ring_get(&st->decode_tps, i) > mx)
			mx = tui_ring_get(&st->decode_tps, i);
	tui_putf(t, r->y + 1, r->x + 1, iw, "decode %.1f  prefill %.0f",
	    st->tps_now, st->prefill_now);
	if (ih >= 2) {
		a = tui_attr(t, CP_DIM);
		attron(a);
		tui_putf(t, r->y + 2, r->x + 1, iw, "mem %s  peak %.0f tok/s",
		    util_fmt_bytes(st->rss, mem, sizeof mem), mx);
		attroff(a);
	}
	if (ih >= 3)
		tui_graph(t, &st->decode_tps, r->y + 3, r->x + 1, ih - 2, iw,
		    mx);
}

/* ---- cache ---- */

static const char *const policy_names[] = { "lru", "lfu", "gate" };

static void
draw_cache(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_CACHE];
	const struct tui_cache *c = &t->cache;
	const struct eng_cache_layer *l;
	char b[32], b2[32];
	uint64_t hits = 0, miss = 0, stall = 0, pred = 0, phit = 0;
	int iw, a, il, y, x, col, cols, bin, e0, e1, ex, in, lw;
	double f;

	if (r->w <= 0)
		return;
	tui_box(t, r, "cache", t->focus == PANEL_CACHE);
	iw = r->w - 2;
	if (r->h < 3 || iw < 8)
		return;
	if (!t->loaded) {
		tui_putf(t, r->y + 1, r->x + 1, iw, "no model");
		return;
	}
	if (!c->have || !c->info.enabled) {
		tui_putf(t, r->y + 1, r->x + 1, iw, "all resident (mmap)");
		if (r->h >= 4)
			tui_putf(t, r->y + 2, r->x + 1, iw, "experts %s",
			    util_fmt_bytes(t->info.expert_bytes, b, sizeof b));
		if (r->h >= 5)
			tui_putf(t, r->y + 3, r->x + 1, iw, "hit rate 100%%  "
			    "stall 0");
		if (r->h >= 6) {
			a = tui_attr(t, CP_DIM);
			attron(a);
			tui_putf(t, r->y + 4, r->x + 1, iw, "%s/token read; "
			    "--ram-budget", util_fmt_bytes(
			    t->info.bytes_per_token, b, sizeof b));
			attroff(a);
		}
		return;
	}
	for (il = 0; il < c->n_layer; il++) {
		l = &c->layers[il];
		hits += l->hits;
		miss += l->misses;
		stall += l->stall_ns;
		pred += l->pred;
		phit += l->pred_hit;
	}
	tui_putf(t, r->y + 1, r->x + 1, iw, "%s %s  ram %s/%s",
	    c->info.policy >= 0 && c->info.policy < 3 ?
	    policy_names[c->info.policy] : "?",
	    c->info.prefetch ? "+prefetch" : "", util_fmt_bytes(
	    c->info.ram_budget, b, sizeof b), util_fmt_bytes(
	    c->info.expert_bytes, b2, sizeof b2));
	if (r->h >= 4)
		tui_putf(t, r->y + 2, r->x + 1, iw, "hit %.1f%% %s/s stall "
		    "%.0fms", hits + miss ? 100.0 * (double)hits /
		    (double)(hits + miss) : 100.0, util_fmt_bytes(
		    (uint64_t)c->bytes_per_s, b, sizeof b), (double)stall / 1e6);
	if (r->h >= 5 && pred > 0)
		tui_putf(t, r->y + 3, r->x + 1, iw, "prefetch guess %.0f%% "
		    "right", 100.0 * (double)phit / (double)pred);
	/* per layer: hit rate, then which experts are in RAM (binned) */
	y = r->y + (pred > 0 ? 4 : 3);
	lw = 10;
	cols = iw - lw;
	if (cols < 1 || c->n_expert < 1)
		return;
	bin = (c->n_expert + cols - 1) / cols;
	a = tui_attr(t, CP_DIM);
	for (il = 0; il < c->n_layer && y < r->y + r->h - 1; il++) {
		l = &c->layers[il];
		if (l->capacity == 0)
			continue;
		attron(a);
		tui_putf(t, y, r->x + 1, lw, "%3d %4.0f%%", il,
		    l->hits + l->misses ? 100.0 * (double)l->hits /
		    (double)(l->hits + l->misses) : 100.0);
		attroff(a);
		for (col = 0, x = r->x + 1 + lw; col * bin < c->n_expert &&
		    x < r->x + r->w - 1; col++, x++) {
			e0 = col * bin;
			e1 = e0 + bin < c->n_expert ? e0 + bin : c->n_expert;
			for (ex = e0, in = 0; ex < e1; ex++)
				in += c->resident[(size_t)il *
				    (size_t)c->n_expert + (size_t)ex] != 0;
			f = (double)in / (double)(e1 - e0);
			tui_heat_cell(t, y, x, 1, f >= 1 ? HEAT_LEVELS - 1 :
			    f > 0 ? 2 : 1);
		}
		y++;
	}
}

/* ---- inspector ---- */

/*
 * One chosen expert's prediction mark: hit (the engine's next-layer
 * guess included it) or miss, as a glyph that reads without colour too;
 * blank where the layer has no prediction.
 */
static void
pred_mark(struct tui *t, int y, int x, int have, int hit)
{
	int a;

	if (!have) {
		mvaddch(y, x, ' ');
		return;
	}
	a = tui_attr(t, hit ? CP_BAR : CP_ERROR);
	attron(a);
	if (t->utf8)
		tui_put(t, y, x, 1, hit ? "\xe2\x9c\x93" : "\xe2\x9c\x97", 3);
	else
		mvaddch(y, x, hit ? '+' : '-');
	attroff(a);
}

static void
draw_inspect(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_INSPECT];
	const struct tui_stats *st = &t->st;
	const struct tui_rec *rec;
	char title[96], buf[64], tot[64];
	uint8_t hit[64];
	int iw, ih, y, x, il, s, ex, a, ew, p, bars, rows, h, nh, nk, kk;

	if (r->w <= 0)
		return;
	snprintf(title, sizeof title, "inspect - pos %d of %d%s",
	    t->insp_pos, st->n_recs, t->insp_pinned ? " - pinned" : "");
	tui_box(t, r, title, 1);
	iw = r->w - 2;
	ih = r->h - 2;
	if (ih < 2 || iw < 12 || !t->have_stats)
		return;
	/* the token strip: neighbours around the cursor */
	x = r->x + 1;
	y = r->y + 1;
	for (p = t->insp_pos - 3; p < st->n_recs && x < r->x + r->w - 2;
	    p++) {
		if (p < 0 || !st->recs[p].valid)
			continue;
		rec = &st->recs[p];
		if (rec->piece[0])
			snprintf(buf, sizeof buf, "%s", rec->piece);
		else
			snprintf(buf, sizeof buf, "%d", rec->token);
		a = p == t->insp_pos ? tui_attr(t, CP_CURSOR) :
		    tui_attr(t, rec->generated ? CP_ASSIST : CP_USER);
		attron(a);
		x += tui_put(t, y, x, r->x + r->w - 1 - x, buf, strlen(buf));
		attroff(a);
		x++;
	}
	if (t->insp_pos < 0 || t->insp_pos >= st->n_recs ||
	    !st->recs[t->insp_pos].valid) {
		tui_put(t, r->y + 2, r->x + 1, iw, "(no routing here)", 17);
		return;
	}
	rec = &st->recs[t->insp_pos];
	kk = st->k < (int)sizeof hit ? st->k : (int)sizeof hit;
	/* the token's total: chosen experts of predicted layers that the
	 * previous layer's state foresaw */
	for (il = 0, nh = 0, nk = 0; rec->predicted != NULL &&
	    il < st->n_layer; il++)
		if ((h = eng_route_pred_hits(rec->experts + il * st->k,
		    rec->predicted + il * st->k, kk, NULL)) >= 0) {
			nh += h;
			nk += kk;
		}
	tot[0] = '\0';
	if (nk > 0)
		snprintf(tot, sizeof tot, "  %s predicted %d/%d",
		    t->utf8 ? "\xe2\x9c\x93" : "+", nh, nk);
	a = tui_attr(t, CP_DIM);
	attron(a);
	tui_putf(t, r->y + 2, r->x + 1, iw, "token %d  %s  experts:weight%s",
	    rec->token, rec->generated ? "generated" : "prompt", tot);
	attroff(a);
	rows = ih - 2;
	if (t->insp_scroll > st->n_layer - rows)
		t->insp_scroll = st->n_layer - rows > 0 ? st->n_layer - rows :
		    0;
	bars = iw - 4 >= kk * 15 + 5;
	ew = bars ? 15 : 10;
	for (il = t->insp_scroll, y = r->y + 3; il < st->n_layer &&
	    y < r->y + r->h - 1; il++, y++) {
		attron(a);
		tui_putf(t, y, r->x + 1, 4, "%3d", il);
		attroff(a);
		h = rec->predicted == NULL ? -1 : eng_route_pred_hits(
		    rec->experts + il * st->k, rec->predicted + il * st->k, kk,
		    hit);
		for (s = 0, x = r->x + 5; s < kk; s++, x += ew) {
			if (x + ew > r->x + r->w - 1)
				break;
			ex = rec->experts[il * st->k + s];
			if (ex < 0) {
				if (s == 0)
					tui_put(t, y, x + 1, 6, "dense", 5);
				break;
			}
			pred_mark(t, y, x, h >= 0, h >= 0 && hit[s]);
			tui_putf(t, y, x + 1, 9, "%3d:%.2f", ex,
			    rec->weights[il * st->k + s]);
			if (bars)
				tui_bar(t, y, x + 9, 4, rec->weights[il *
				    st->k + s], CP_BAR);
		}
		/* the layer's hits, or why there are none */
		if (s < kk || rec->predicted == NULL || ++x >= r->x + r->w - 1)
			continue;
		attron(a);
		if (h >= 0)
			tui_putf(t, y, x, r->x + r->w - 1 - x, "%d/%d", h, kk);
		else if (il == 0)
			tui_put(t, y, x, r->x + r->w - 1 - x,
			    "no prediction", 13);
		attroff(a);
	}
}

/* ---- downloads ---- */

/* The text under a finished job. */
static void
pull_msg(const struct tui_pull_job *j, char *buf, size_t len)
{
	char name[256];
	const char *at = strchr(j->repo, '@');

	snprintf(name, sizeof name, "%.*s", at != NULL ?
	    (int)(at - j->repo) : (int)strlen(j->repo), j->repo);
	if (j->phase == PULL_DONE)
		snprintf(buf, len, "-> %s  %s", j->path, j->load ?
		    "(loading it)" : "");
	else
		snprintf(buf, len, "%s", j->msg);
	if (j->phase == PULL_DONE && !j->load) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "/model %s switches to it", name);
	}
}

static void
count_emit(void *arg, size_t off, size_t len)
{
	(void)off;
	(void)len;
	(*(int *)arg)++;
}

/* The order jobs are listed: running ones as started, then the finished
 * ones, newest first. */
static int
pull_order(const struct tui *t, int *order)
{
	const struct tui_pulls *p = &t->pulls;
	int i, n = 0;

	for (i = 0; i < p->n; i++)
		if (p->jobs[i].phase < PULL_DONE)
			order[n++] = i;
	for (i = p->n - 1; i >= 0; i--)
		if (p->jobs[i].phase >= PULL_DONE)
			order[n++] = i;
	return n;
}

/*
 * The panel's lines at inner width iw: with detail, a line per running
 * transfer and finished jobs' messages wrapped over up to three lines.
 * Fills out (up to max) and returns how many there are.
 */
static int
pull_lines(const struct tui *t, int iw, int detail, struct pline *out,
    int max)
{
	const struct tui_pull_job *j;
	int order[TUI_PULL_JOBS + 8], no, k, i, n = 0, ml;
	char msg[2048];

#define PL(kd, a) do {							\
		if (out != NULL && n < max)				\
			out[n] = (struct pline){ order[k], (kd), (a) };	\
		n++;							\
	} while (0)
	no = pull_order(t, order);
	for (k = 0; k < no; k++) {
		j = &t->pulls.jobs[order[k]];
		PL(PL_HEAD, 0);
		if ((j->phase == PULL_DOWNLOADING ||
		    j->phase == PULL_CONVERTING) && j->n_files > 0)
			PL(PL_TOTAL, 0);
		if (detail && j->phase == PULL_DOWNLOADING)
			for (i = 0; i < j->n_files; i++)
				if (j->files[i].state == PF_ACTIVE ||
				    j->files[i].state == PF_RETRY)
					PL(PL_FILE, i);
		if (j->phase == PULL_CONVERTING)
			PL(PL_CONV, 0);
		if (j->phase >= PULL_DONE) {
			pull_msg(j, msg, sizeof msg);
			ml = 0;
			tui_wrap(msg, strlen(msg), iw > 8 ? iw - 4 : 4,
			    count_emit, &ml);
			if (ml > (detail ? 3 : 1))
				ml = detail ? 3 : 1;
			for (i = 0; i < ml; i++)
				PL(PL_MSG, i);
		}
	}
#undef PL
	return n;
}

struct nth_line {
	int	 want, at;
	size_t	 off, len;
};

static void
nth_emit(void *arg, size_t off, size_t len)
{
	struct nth_line *l = arg;

	if (l->at++ == l->want) {
		l->off = off;
		l->len = len;
	}
}

static const char *
pull_icon(const struct tui *t, const struct tui_pull_job *j)
{
	switch (j->phase) {
	case PULL_DONE:
		return t->utf8 ? "\xe2\x9c\x93" : "+";		/* check */
	case PULL_FAILED:
		return t->utf8 ? "\xe2\x9c\x97" : "!";		/* ballot x */
	case PULL_CANCELLED:
		return "-";
	}
	return t->utf8 ? "\xe2\x86\x93" : "v";			/* arrow */
}

static int
pull_icon_role(const struct tui_pull_job *j)
{
	return j->phase == PULL_DONE ? CP_USER : j->phase == PULL_FAILED ?
	    CP_ERROR : j->phase == PULL_CANCELLED ? CP_DIM : CP_PTITLE;
}

/* What a job is doing, in a few words. */
static void
pull_state(const struct tui_pull_job *j, uint64_t now, char *buf,
    size_t len)
{
	char el[16];
	double s = (double)((j->t_end ? j->t_end : now) - j->t0) / 1e9;

	tui_pull_eta(s, el, sizeof el);
	switch (j->phase) {
	case PULL_RESOLVING:
		snprintf(buf, len, "resolving files");
		break;
	case PULL_DOWNLOADING:
		if (j->n_files == 0)
			snprintf(buf, len, "all files in the cache");
		else
			snprintf(buf, len, "downloading %d/%d files%s",
			    j->files_done, j->n_files, j->retries ?
			    ", retrying" : "");
		break;
	case PULL_CONVERTING:
		snprintf(buf, len, "converting to GGUF%s%s", j->tensor[0] ?
		    ": " : "", j->tensor);
		break;
	case PULL_DONE:
		snprintf(buf, len, "%s in %s", j->up_to_date ?
		    "already converted" : j->linked ? "fetched" : "done", el);
		return;
	case PULL_FAILED:
		snprintf(buf, len, "failed after %s", el);
		return;
	default:
		snprintf(buf, len, "cancelled");
		return;
	}
	if (j->cancelling) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " - cancelling");
	}
}

/* "label [bar] 45% 1.2M/3.4M 512K/s ETA 0:04" over w columns (without
 * speed and ETA when speed < 0). */
static void
pull_bar(struct tui *t, int y, int x, int w, const char *label, int lw,
    uint64_t done, uint64_t total, double speed, double eta, int role)
{
	char a[32], b[32], c[32], e[16], tail[128];
	int tw, bw, dim = tui_attr(t, CP_DIM);
	double frac = total ? (double)done / (double)total : 0;

	if (lw > 0) {
		attron(dim);
		tui_putf(t, y, x, lw, "%s", label);
		attroff(dim);
		x += lw + 1;
		w -= lw + 1;
	}
	snprintf(tail, sizeof tail, " %3d%% %s/%s  %s/s  ETA %s",
	    (int)(frac * 100), util_fmt_bytes(done, a, sizeof a),
	    util_fmt_bytes(total, b, sizeof b), util_fmt_bytes(
	    (uint64_t)(speed > 0 ? speed : 0), c, sizeof c),
	    tui_pull_eta(eta, e, sizeof e));
	tw = (int)strlen(tail);
	if (speed < 0 || w - tw < 10) {
		/* a file's line, or narrow: percent and bytes only */
		snprintf(tail, sizeof tail, " %3d%% %s/%s", (int)(frac * 100),
		    a, b);
		tw = (int)strlen(tail);
	}
	bw = w - tw;
	if (bw > 40)
		bw = 40;
	if (bw >= 4) {
		tui_bar(t, y, x, bw, frac, role);
		x += bw;
		w -= bw;
	}
	tui_put(t, y, x, w, tail, strlen(tail));
}

/* One unboxed line: the first listed job, and how many more. */
static void
draw_pull_line(struct tui *t, const struct rect *r)
{
	const struct tui_pull_job *j;
	int order[TUI_PULL_JOBS + 8], no, a, x, w;
	char st[128], head[512];

	mvhline(r->y, r->x, ' ', r->w);
	if ((no = pull_order(t, order)) == 0)
		return;
	j = &t->pulls.jobs[order[0]];
	a = tui_attr(t, pull_icon_role(j));
	attron(a | A_BOLD);
	x = r->x + tui_put(t, r->y, r->x, r->w, pull_icon(t, j),
	    strlen(pull_icon(t, j))) + 1;
	attroff(a | A_BOLD);
	pull_state(j, util_now_ns(), st, sizeof st);
	if (j->phase < PULL_DONE)
		snprintf(head, sizeof head, "%s%s", j->repo, no > 1 ?
		    " (+more)" : "");
	else
		snprintf(head, sizeof head, "%s%s %s:", j->repo, no > 1 ?
		    " (+more)" : "", st);
	w = r->x + r->w - x;
	x += tui_put(t, r->y, x, w > 40 ? 40 : w, head, strlen(head)) + 1;
	w = r->x + r->w - x;
	if (w < 8)
		return;
	if (j->phase == PULL_CONVERTING)
		pull_bar(t, r->y, x, w, "", 0, j->conv_done, j->conv_total,
		    j->conv_speed, j->conv_eta_s, CP_GRAPH);
	else if (j->phase < PULL_DONE)
		pull_bar(t, r->y, x, w, "", 0, j->total_done, j->total_size,
		    j->speed, j->eta_s, CP_BAR);
	else {
		pull_msg(j, head, sizeof head);
		a = tui_attr(t, j->phase == PULL_FAILED ? CP_ERROR : CP_NOTE);
		attron(a);
		tui_put(t, r->y, x, w, head, strlen(head));
		attroff(a);
	}
}

static void
draw_pull(struct tui *t)
{
	const struct rect *r = &t->r[PANEL_PULL];
	const struct tui_pull_job *j;
	const struct tui_pull_file *f;
	struct pline pl[64];
	struct nth_line nl;
	char title[64], st[128], el[16], msg[2048], fl[300];
	int iw, ih, n, i, y, x, a, lw, running;
	uint64_t now = util_now_ns();

	if (r->w <= 0)
		return;
	if (r->h < 3) {
		draw_pull_line(t, r);
		return;
	}
	running = tui_pull_running(&t->pulls);
	snprintf(title, sizeof title, "downloads%s", running ?
	    "  /pull cancel stops" : "");
	tui_box(t, r, r->w >= 40 ? title : "downloads",
	    t->focus == PANEL_PULL);
	iw = r->w - 2;
	ih = r->h - 2;
	n = pull_lines(t, iw, 1, pl, 64);
	if (n > ih)
		n = pull_lines(t, iw, 0, pl, 64);
	if (n > 64)
		n = 64;
	lw = iw / 4 < 12 ? 12 : iw / 4 > 28 ? 28 : iw / 4;
	for (i = 0, y = r->y + 1; i < n && y < r->y + r->h - 1; i++, y++) {
		j = &t->pulls.jobs[pl[i].job];
		x = r->x + 1;
		switch (pl[i].kind) {
		case PL_HEAD:
			a = tui_attr(t, pull_icon_role(j));
			attron(a | A_BOLD);
			x += tui_put(t, y, x, 2, pull_icon(t, j),
			    strlen(pull_icon(t, j))) + 1;
			attroff(a | A_BOLD);
			a = tui_attr(t, CP_ASSIST);
			attron(a | A_BOLD);
			x += tui_put(t, y, x, r->x + iw + 1 - x, j->repo,
			    strlen(j->repo)) + 1;
			attroff(a | A_BOLD);
			pull_state(j, now, st, sizeof st);
			a = tui_attr(t, CP_DIM);
			attron(a);
			x += tui_putf(t, y, x, r->x + iw + 1 - x, "%s  ",
			    j->what);
			attroff(a);
			tui_putf(t, y, x, r->x + iw + 1 - x, "%s", st);
			if (j->phase < PULL_DONE && iw > 60) {
				tui_pull_eta((double)(now - j->t0) / 1e9, el,
				    sizeof el);
				attron(a);
				tui_putf(t, y, r->x + iw - 6, 6, "%6s", el);
				attroff(a);
			}
			break;
		case PL_TOTAL:
			/* done: no speed nor ETA to show */
			pull_bar(t, y, x + 2, iw - 2, "download", lw - 2,
			    j->total_done, j->total_size,
			    j->phase == PULL_CONVERTING ? -1 : j->speed,
			    j->eta_s, CP_BAR);
			break;
		case PL_FILE:
			f = &j->files[pl[i].arg];
			/* a long name keeps its end (the shard numbers) */
			n = (int)strlen(f->name);
			if (n > lw - 4 && lw > 8)
				snprintf(fl, sizeof fl, "%s%s", t->utf8 ?
				    "\xe2\x80\xa6" : "~", f->name + n -
				    (lw - 5));
			else
				snprintf(fl, sizeof fl, "%s", f->name);
			pull_bar(t, y, x + 4, iw - 4, fl, lw - 4, f->done,
			    f->size, -1, -1,
			    f->state == PF_RETRY ? CP_BAR_HI : CP_BAR);
			if (f->state == PF_RETRY) {
				a = tui_attr(t, CP_ERROR);
				attron(a);
				tui_put(t, y, r->x + iw - 7, 7, " retry ", 7);
				attroff(a);
			}
			break;
		case PL_CONV:
			pull_bar(t, y, x + 2, iw - 2, "convert", lw - 2,
			    j->conv_done, j->conv_total, j->conv_speed,
			    j->conv_eta_s, CP_GRAPH);
			break;
		case PL_MSG:
			pull_msg(j, msg, sizeof msg);
			nl = (struct nth_line){ pl[i].arg, 0, 0, 0 };
			tui_wrap(msg, strlen(msg), iw > 8 ? iw - 4 : 4,
			    nth_emit, &nl);
			a = tui_attr(t, j->phase == PULL_FAILED ? CP_ERROR :
			    j->phase == PULL_DONE ? CP_NOTE : CP_DIM);
			attron(a);
			tui_put(t, y, x + 2, iw - 2, msg + nl.off, nl.len);
			attroff(a);
			break;
		}
	}
}

/* ---- help ---- */

static void
draw_help(struct tui *t)
{
	static const char *const keys[] = {
		"Enter          send        Alt-Enter / Shift-Enter  newline",
		"Up/Down        history     PgUp/PgDn, wheel  scroll chat",
		"Ctrl-C         stop a reply; twice at an empty prompt: quit",
		"Ctrl-D         quit        Tab  complete /command, else focus",
		"F1 or ?        this help   F2  heatmap: token/decayed/total",
		"F3             inspect: arrows move over tokens, Enter pins",
		"F4             zoom the focused panel   F5  hide/show it",
		"Esc            close help / inspect / zoom",
		NULL
	};
	struct rect r;
	int n = 0, i, y, nc = 0;

	while (keys[n] != NULL)
		n++;
	while (tui_cmd_list[nc].name != NULL)
		nc++;
	r.w = COLS - 4 < 70 ? COLS - 4 : 70;
	r.h = n + nc + 5;
	if (r.h > LINES - 2)
		r.h = LINES - 2;
	r.y = (LINES - r.h) / 2;
	r.x = (COLS - r.w) / 2;
	tui_box(t, &r, "help - Esc closes", 1);
	for (i = 0, y = r.y + 1; keys[i] != NULL && y < r.y + r.h - 1;
	    i++, y++)
		tui_put(t, y, r.x + 2, r.w - 4, keys[i], strlen(keys[i]));
	y++;
	for (i = 0; tui_cmd_list[i].name != NULL && y < r.y + r.h - 1;
	    i++, y++)
		tui_putf(t, y, r.x + 2, r.w - 4, "%-8s %-18s %s",
		    tui_cmd_list[i].name, tui_cmd_list[i].args,
		    tui_cmd_list[i].help);
}

/* ---- the frame ---- */

void
tui_draw(struct tui *t)
{
	static const struct {
		int	 id;
		void	(*fn)(struct tui *);
	} panels[] = {
		{ PANEL_TITLE, draw_title },
		{ PANEL_STATUS, draw_status },
		{ PANEL_CHAT, draw_chat },
		{ PANEL_HEAT, draw_heat },
		{ PANEL_BALANCE, draw_balance },
		{ PANEL_TPUT, draw_tput },
		{ PANEL_CACHE, draw_cache },
		{ PANEL_INSPECT, draw_inspect },
		{ PANEL_PULL, draw_pull },
		{ PANEL_INPUT, draw_input },
	};
	size_t i;
	char msg[128];
	int any = 0;

	for (i = 0; i < PANEL_N; i++)
		any |= t->dirty[i];
	if (!any)
		return;
	if (t->too_small) {
		erase();
		snprintf(msg, sizeof msg, "terminal too small: %dx%d, "
		    "need %dx%d", COLS, LINES, MIN_W, MIN_H);
		tui_put(t, LINES / 2, 0, COLS, msg, strlen(msg));
		memset(t->dirty, 0, sizeof t->dirty);
		refresh();
		return;
	}
	if (t->help)
		for (i = 0; i < PANEL_N; i++)
			t->dirty[i] = 1;
	if (t->erase) {
		erase();
		t->erase = 0;
	}
	curs_set(0);
	for (i = 0; i < sizeof panels / sizeof panels[0]; i++)
		if (t->dirty[panels[i].id] && t->r[panels[i].id].w > 0) {
			/* the input is drawn last: it places the cursor */
			if (panels[i].id != PANEL_INPUT)
				panels[i].fn(t);
		}
	if (t->help)
		draw_help(t);
	draw_input(t);
	curs_set(t->help || t->inspect ? 0 : 1);
	memset(t->dirty, 0, sizeof t->dirty);
	refresh();
}
