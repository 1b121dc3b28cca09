/*
 * tui-draw.c - drawing primitives: colours named by role, glyph sets
 * (Unicode when the locale is UTF-8, ASCII otherwise), boxes, clipped
 * UTF-8 text, bars, heat cells, Braille graphs and sparklines.
 *
 * Colour depth is chosen once: 256 colours when the terminal has them,
 * else 8, else none; NO_COLOR (any value) forces none. Without colour
 * every role maps to an attribute (bold, reverse, dim, underline) and the
 * heat cells still read by their glyph's density.
 */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/tui-int.h"

/* heat glyphs, light to dense */
static const char *const heat_utf8[HEAT_LEVELS] = {
	" ", "\xc2\xb7", "\xe2\x96\x91", "\xe2\x96\x92", "\xe2\x96\x93",
	"\xe2\x96\x88"
};
static const char heat_ascii[HEAT_LEVELS] = { ' ', '.', ':', '+', '#',
	'@' };

/* 1/8 .. 8/8 horizontal blocks */
static const char *const hblock[8] = {
	"\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
	"\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89", "\xe2\x96\x88"
};
/* 1/8 .. 8/8 vertical blocks, for sparklines */
static const char *const vblock[8] = {
	"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
	"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
};

void
tui_draw_init(struct tui *t)
{
	/* heat ramps: 256-colour blue..red; 8-colour approximations */
	static const short heat256[HEAT_LEVELS] = { 236, 24, 30, 36, 178, 196 };
	static const short heat8[HEAT_LEVELS] = { COLOR_BLACK, COLOR_BLUE,
		COLOR_CYAN, COLOR_GREEN, COLOR_YELLOW, COLOR_RED };
	int i, bg = -1;

	t->colors = 0;
	if (getenv("NO_COLOR") != NULL || !has_colors())
		return;
	if (start_color() != OK)
		return;
	if (use_default_colors() != OK)
		bg = COLOR_BLACK;
	t->colors = COLORS >= 256 ? 256 : 8;
	init_pair(CP_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(CP_BORDER, t->colors == 256 ? 244 : COLOR_BLUE, bg);
	init_pair(CP_PTITLE, COLOR_CYAN, bg);
	init_pair(CP_FOCUS, COLOR_BLACK, COLOR_YELLOW);
	init_pair(CP_USER, COLOR_GREEN, bg);
	init_pair(CP_ASSIST, t->colors == 256 ? 252 : COLOR_WHITE, bg);
	init_pair(CP_SYSTEM, COLOR_MAGENTA, bg);
	init_pair(CP_NOTE, COLOR_CYAN, bg);
	init_pair(CP_ERROR, COLOR_RED, bg);
	init_pair(CP_STATS, t->colors == 256 ? 245 : COLOR_YELLOW, bg);
	init_pair(CP_BAR, COLOR_GREEN, bg);
	init_pair(CP_BAR_HI, COLOR_RED, bg);
	init_pair(CP_GRAPH, t->colors == 256 ? 75 : COLOR_CYAN, bg);
	init_pair(CP_CURSOR, COLOR_BLACK, COLOR_YELLOW);
	init_pair(CP_STATUS, COLOR_BLACK, COLOR_WHITE);
	init_pair(CP_DIM, t->colors == 256 ? 242 : COLOR_WHITE, bg);
	for (i = 0; i < HEAT_LEVELS; i++)
		init_pair(CP_HEAT0 + i, t->colors == 256 ? heat256[i] :
		    heat8[i], bg);
}

int
tui_attr(const struct tui *t, int role)
{
	if (t->colors == 0) {
		switch (role) {
		case CP_TITLE:
		case CP_FOCUS:
		case CP_CURSOR:
		case CP_STATUS:
			return A_REVERSE;
		case CP_USER:
		case CP_PTITLE:
		case CP_ERROR:
		case CP_BAR_HI:
		case CP_HEAT5:
			return A_BOLD;
		case CP_STATS:
		case CP_DIM:
		case CP_BORDER:
			return A_DIM;
		case CP_SYSTEM:
			return A_UNDERLINE;
		}
		return A_NORMAL;
	}
	switch (role) {
	case CP_USER:
	case CP_PTITLE:
	case CP_ERROR:
	case CP_HEAT5:
		return COLOR_PAIR(role) | A_BOLD;
	case CP_HEAT4:
		return COLOR_PAIR(role) | (t->colors == 8 ? A_BOLD : 0);
	}
	return COLOR_PAIR(role);
}

/* Put one code point, or '?' for what cannot be shown. */
static void
put_cp(const struct tui *t, uint32_t cp)
{
	wchar_t w[2];

	if (cp < 0x20 || cp == 0x7f || (!t->utf8 && cp >= 0x80)) {
		addch('?');
		return;
	}
	if (cp < 0x80) {
		addch((chtype)cp);
		return;
	}
	w[0] = (wchar_t)cp;
	w[1] = 0;
	addnwstr(w, 1);
}

int
tui_put(struct tui *t, int y, int x, int w, const char *s, size_t n)
{
	size_t i = 0;
	uint32_t cp;
	int col = 0, cw, step;

	if (w <= 0)
		return 0;
	move(y, x);
	while (i < n) {
		step = tui_utf8_next(s + i, n - i, &cp);
		cw = t->utf8 ? tui_cp_width(cp) : 1;
		if (col + cw > w)
			break;
		put_cp(t, cp);
		col += cw;
		i += (size_t)step;
	}
	return col;
}

int
tui_putf(struct tui *t, int y, int x, int w, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	return tui_put(t, y, x, w, buf, (size_t)n);
}

void
tui_box(struct tui *t, const struct rect *r, const char *title, int focused)
{
	int a = tui_attr(t, CP_BORDER), i;

	if (r->h < 2 || r->w < 2)
		return;
	attron(a);
	if (t->utf8) {
		mvhline(r->y, r->x + 1, ACS_HLINE, r->w - 2);
		mvhline(r->y + r->h - 1, r->x + 1, ACS_HLINE, r->w - 2);
		mvvline(r->y + 1, r->x, ACS_VLINE, r->h - 2);
		mvvline(r->y + 1, r->x + r->w - 1, ACS_VLINE, r->h - 2);
		mvaddch(r->y, r->x, ACS_ULCORNER);
		mvaddch(r->y, r->x + r->w - 1, ACS_URCORNER);
		mvaddch(r->y + r->h - 1, r->x, ACS_LLCORNER);
		mvaddch(r->y + r->h - 1, r->x + r->w - 1, ACS_LRCORNER);
	} else {
		mvhline(r->y, r->x + 1, '-', r->w - 2);
		mvhline(r->y + r->h - 1, r->x + 1, '-', r->w - 2);
		mvvline(r->y + 1, r->x, '|', r->h - 2);
		mvvline(r->y + 1, r->x + r->w - 1, '|', r->h - 2);
		mvaddch(r->y, r->x, '+');
		mvaddch(r->y, r->x + r->w - 1, '+');
		mvaddch(r->y + r->h - 1, r->x, '+');
		mvaddch(r->y + r->h - 1, r->x + r->w - 1, '+');
	}
	attroff(a);
	for (i = 1; i < r->h - 1; i++)
		mvhline(r->y + i, r->x + 1, ' ', r->w - 2);
	if (title != NULL && r->w > 6) {
		a = tui_attr(t, focused ? CP_FOCUS : CP_PTITLE);
		attron(a);
		tui_putf(t, r->y, r->x + 2, r->w - 4, " %s ", title);
		attroff(a);
	}
}

void
tui_bar(struct tui *t, int y, int x, int w, double frac, int role)
{
	int a = tui_attr(t, role), full, part, i;
	double cells;

	if (w <= 0)
		return;
	if (frac < 0 || frac != frac)
		frac = 0;
	if (frac > 1)
		frac = 1;
	cells = frac * w;
	full = (int)cells;
	part = (int)((cells - full) * 8);
	move(y, x);
	attron(a);
	for (i = 0; i < full; i++) {
		if (t->utf8)
			tui_put(t, y, x + i, 1, hblock[7], 3);
		else
			mvaddch(y, x + i, '#');
	}
	if (full < w && part > 0) {
		if (t->utf8)
			tui_put(t, y, x + full, 1, hblock[part - 1], 3);
		else
			mvaddch(y, x + full, part >= 4 ? '=' : '-');
		full++;
	}
	attroff(a);
	a = tui_attr(t, CP_DIM);
	attron(a);
	for (i = full; i < w; i++)
		mvaddch(y, x + i, t->utf8 ? ' ' : '.');
	attroff(a);
}

void
tui_heat_cell(struct tui *t, int y, int x, int w, int level)
{
	int a, i;

	if (level < 0)
		level = 0;
	if (level >= HEAT_LEVELS)
		level = HEAT_LEVELS - 1;
	a = tui_attr(t, CP_HEAT0 + level);
	attron(a);
	for (i = 0; i < w; i++) {
		if (t->utf8)
			tui_put(t, y, x + i, 1, heat_utf8[level],
			    strlen(heat_utf8[level]));
		else
			mvaddch(y, x + i, (chtype)heat_ascii[level]);
	}
	attroff(a);
}

static double
scale(double v, double max)
{
	if (max <= 0 || v != v || v < 0)
		return 0;
	return v > max ? 1 : v / max;
}

void
tui_graph(struct tui *t, const struct tui_ring *r, int y, int x, int h,
    int w, double max)
{
	/* Braille: each cell is 2 samples wide and 4 dots high; dot bits
	 * for the left column bottom-up: 0x40 0x04 0x02 0x01, right
	 * column: 0x80 0x20 0x10 0x08 */
	static const int left[4] = { 0x40, 0x04, 0x02, 0x01 };
	static const int right[4] = { 0x80, 0x20, 0x10, 0x08 };
	int a = tui_attr(t, CP_GRAPH), row, col, side, idx, dots, lvl, d;
	char buf[4];
	uint32_t cp;

	if (h <= 0 || w <= 0)
		return;
	attron(a);
	for (row = 0; row < h; row++) {
		for (col = 0; col < w; col++) {
			if (!t->utf8) {
				/* ASCII: one sample per column */
				idx = w - 1 - col;
				lvl = idx < r->n ? (int)(scale(
				    tui_ring_get(r, idx), max) * h * 2 + 0.5) :
				    0;
				d = lvl - (h - 1 - row) * 2;
				mvaddch(y + row, x + col, d >= 2 ? '|' :
				    d == 1 ? '.' : ' ');
				continue;
			}
			dots = 0;
			for (side = 0; side < 2; side++) {
				idx = (w - 1 - col) * 2 + (1 - side);
				if (idx >= r->n)
					continue;
				lvl = (int)(scale(tui_ring_get(r, idx), max) *
				    h * 4 + 0.5);
				if (lvl == 0 && tui_ring_get(r, idx) > 0)
					lvl = 1;
				for (d = 0; d < 4; d++)
					if ((h - 1 - row) * 4 + d < lvl)
						dots |= side ? right[d] :
						    left[d];
			}
			cp = 0x2800 + (uint32_t)dots;
			buf[0] = (char)(0xe0 | (cp >> 12));
			buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			buf[2] = (char)(0x80 | (cp & 0x3f));
			tui_put(t, y + row, x + col, 1, buf, 3);
		}
	}
	attroff(a);
}

void
tui_spark(struct tui *t, const struct tui_ring *r, int y, int x, int w,
    double max)
{
	static const char asc[] = " .-=#";
	int a = tui_attr(t, CP_GRAPH), col, idx, lvl;
	double v;

	attron(a);
	for (col = 0; col < w; col++) {
		idx = w - 1 - col;
		if (idx >= r->n) {
			mvaddch(y, x + col, ' ');
			continue;
		}
		v = scale(tui_ring_get(r, idx), max);
		if (t->utf8) {
			lvl = (int)(v * 7 + 0.5);
			tui_put(t, y, x + col, 1, vblock[lvl], 3);
		} else {
			lvl = (int)(v * 4 + 0.5);
			mvaddch(y, x + col, (chtype)asc[lvl]);
		}
	}
	attroff(a);
}
