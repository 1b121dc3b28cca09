/*
 * 801-tui-text.c - the TUI's text handling without a terminal: UTF-8
 * decoding (valid, truncated, overlong, surrogate input), display widths
 * and word wrap (spaces, long words, newlines, wide characters, widths
 * down to 1), and the sampling state the panels draw (heat counts,
 * balance figures, inspector records, rings).
 */
#include <locale.h>

#include "tap.h"
#include "tui/tui-int.h"

struct wl {
	char	 line[64][128];
	int	 n;
	const char *s;
};

static void
emit(void *arg, size_t off, size_t len)
{
	struct wl *w = arg;

	if (w->n < 64)
		snprintf(w->line[w->n], sizeof w->line[0], "%.*s", (int)len,
		    w->s + off);
	w->n++;
}

static int
wrap(struct wl *w, const char *s, int width)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	return tui_wrap(s, strlen(s), width, emit, w);
}

int
main(void)
{
	struct wl w;
	uint32_t cp;
	struct tui_stats st;
	struct eng_ev ev;
	int16_t ex[2 * 2] = { 1, 3, 0, 1 };
	float wt[2 * 2] = { 0.75f, 0.25f, 0.5f, 0.5f };
	int i, ok_all, n;
	struct tui_ring r = { 0 };

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		setlocale(LC_ALL, "en_US.UTF-8");

	is_int(tui_utf8_next("a", 1, &cp), 1, "ASCII: 1 byte");
	is_int(tui_utf8_next("\xc3\xa9", 2, &cp), 2, "e-acute: 2 bytes");
	is_int(cp, 0xe9, "e-acute: U+00E9");
	is_int(tui_utf8_next("\xe2\x82\xac", 3, &cp), 3, "euro: 3 bytes");
	is_int(tui_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4, "emoji: 4");
	is_int(cp, 0x1f600, "emoji: U+1F600");
	is_int(tui_utf8_next("\xe2\x82", 2, &cp), 1, "truncated: 1 byte");
	is_int(cp, 0xfffd, "truncated: U+FFFD");
	is_int(tui_utf8_next("\xc0\xaf", 2, &cp), 1, "overlong: rejected");
	is_int(tui_utf8_next("\xed\xa0\x80", 3, &cp), 1,
	    "surrogate: rejected");
	is_int(tui_utf8_next("\x80", 1, &cp), 1, "lone continuation");
	is_int(tui_str_width("abc", 3), 3, "width of abc");
	is_int(tui_str_width("\xe4\xb8\xad\xe6\x96\x87", 6), 4,
	    "two CJK characters take 4 columns");

	n = wrap(&w, "the quick brown fox jumps", 10);
	is_int(n, 3, "wrap at 10: 3 lines");
	is_str(w.line[0], "the quick ", "line 1 keeps its trailing space");
	is_str(w.line[1], "brown fox ", "line 2");
	is_str(w.line[2], "jumps", "line 3");
	n = wrap(&w, "abcdefghijklmnop", 5);
	is_int(n, 4, "a long word is split: 4 lines");
	is_str(w.line[3], "p", "... the rest");
	n = wrap(&w, "a\n\nb", 10);
	is_int(n, 3, "newlines end lines, empty line kept");
	is_str(w.line[1], "", "empty line");
	n = wrap(&w, "", 10);
	is_int(n, 1, "empty text: one empty line");
	n = wrap(&w, "\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87", 4);
	is_int(n, 2, "wide characters wrap by columns");
	n = wrap(&w, "x\xe2\x82", 1);
	is_int(n, 3, "invalid bytes advance at width 1");
	for (i = 0, ok_all = 1; i < 64; i++) {
		char buf[64];

		snprintf(buf, sizeof buf, "%.*s", i % 40,
		    "aa bb ccccccc d eeeeeeeeeeeeeeeeeee f g hh i jjjj kk");
		n = wrap(&w, buf, 1 + i % 9);
		ok_all &= n >= 1;
	}
	ok(ok_all, "wrap terminates at all widths");

	/* sampling */
	ok(tui_stats_init(&st, 2, 4, 2, 16) == 0, "stats: init");
	memset(&ev, 0, sizeof ev);
	ev.type = ENG_EV_ROUTE;
	ev.n_layer = 2;
	ev.k = 2;
	ev.experts = ex;
	ev.weights = wt;
	for (i = 0; i < 4; i++) {
		ev.pos = i;
		ev.token = 100 + i;
		tui_stats_route(&st, &ev);
	}
	is_int(st.n_recs, 4, "4 records");
	is_int(st.count[0 * 4 + 1], 4, "layer 0 expert 1 counted 4 times");
	is_int(st.count[1 * 4 + 2], 0, "layer 1 expert 2 never");
	is_near(st.cur[0 * 4 + 1], 0.75, 1e-6, "current weight");
	tui_stats_balance(&st);
	/* layer 0: counts 0,4,0,4 -> mean 2, max 4, cv 1, entropy ln2/ln4 */
	is_near(st.maxmean[0], 2.0, 1e-6, "max/mean");
	is_near(st.cv[0], 1.0, 1e-6, "coefficient of variation");
	is_near(st.entropy[0], 0.5, 1e-6, "normalized entropy");
	is_int(st.recs[2].token, 102, "record of pos 2 kept");
	ev.pos = 1;	/* a rewound cache */
	tui_stats_route(&st, &ev);
	is_int(st.n_recs, 2, "rewind drops later records");
	ok(!st.recs[3].valid, "... pos 3 forgotten");
	tui_stats_clear(&st);
	is_int(st.n_recs, 0, "clear");
	tui_stats_fini(&st);

	for (i = 0; i < TUI_RING + 10; i++)
		tui_ring_push(&r, (float)i);
	is_int(r.n, TUI_RING, "ring holds TUI_RING values");
	is_near(tui_ring_get(&r, 0), TUI_RING + 9, 0, "newest");
	is_near(tui_ring_get(&r, TUI_RING - 1), 10, 0, "oldest");
	return tap_done();
}
