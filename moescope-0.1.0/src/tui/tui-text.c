/*
 * tui-text.c - UTF-8 decoding, display widths and word wrap for the
 * chat pane and the input line. No curses here: tests call it directly.
 *
 * Text from the model is arbitrary bytes; an invalid byte decodes to
 * U+FFFD and takes one column, so wrapping always advances. Widths come
 * from wcwidth() (the locale's idea of East Asian wide characters);
 * control characters are drawn as '?' and count one column.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/tui-int.h"

int
tui_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	int len, i;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3;
		c = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4;
		c = u[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if ((size_t)len > n) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = c << 6 | (u[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = c;
	return len;
}

int
tui_cp_width(uint32_t cp)
{
	int w;

	if (cp < 0x20 || cp == 0x7f)
		return 1;
	if (cp < 0x7f)
		return 1;
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		return 1;
	return w;
}

int
tui_str_width(const char *s, size_t n)
{
	size_t i = 0;
	uint32_t cp;
	int w = 0;

	while (i < n) {
		i += (size_t)tui_utf8_next(s + i, n - i, &cp);
		w += tui_cp_width(cp);
	}
	return w;
}

int
tui_wrap(const char *s, size_t n, int width, tui_wrap_fn emit, void *arg)
{
	size_t i = 0, start = 0, brk = 0, step;
	int col = 0, col_at_brk = 0, lines = 0, w, have_brk = 0;
	uint32_t cp;

	if (width < 1)
		width = 1;
	while (i < n) {
		if (s[i] == '\n') {
			emit(arg, start, i - start);
			lines++;
			i++;
			start = i;
			col = 0;
			have_brk = 0;
			continue;
		}
		step = (size_t)tui_utf8_next(s + i, n - i, &cp);
		w = tui_cp_width(cp);
		if (col + w > width && col > 0) {
			if (cp == ' ') {
				/* the space that overflows ends the line */
				emit(arg, start, i - start);
				lines++;
				i += step;
				start = i;
				col = 0;
				have_brk = 0;
				continue;
			}
			if (have_brk) {
				emit(arg, start, brk - start);
				lines++;
				start = brk;
				col -= col_at_brk;
			} else {
				emit(arg, start, i - start);
				lines++;
				start = i;
				col = 0;
			}
			have_brk = 0;
		}
		col += w;
		i += step;
		if (cp == ' ') {
			/* break after the space: it stays at the line end */
			brk = i;
			col_at_brk = col;
			have_brk = 1;
		}
	}
	if (start < n || lines == 0 || s[n - 1] == '\n') {
		emit(arg, start, n - start);
		lines++;
	}
	return lines;
}

char *
tui_utf8_clean(const char *s, size_t n)
{
	char *o, *p;
	size_t i = 0;
	int step;
	uint32_t cp;

	/* each invalid byte becomes 3 bytes of U+FFFD */
	if (n > (SIZE_MAX - 1) / 3 || (o = malloc(n * 3 + 1)) == NULL)
		return NULL;
	p = o;
	while (i < n) {
		step = tui_utf8_next(s + i, n - i, &cp);
		if (cp == 0xfffd && step == 1) {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
		} else {
			memcpy(p, s + i, (size_t)step);
			p += step;
		}
		i += (size_t)step;
	}
	*p = '\0';
	return o;
}
