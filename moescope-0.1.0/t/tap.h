/*
 * tap.h - a small TAP producer for moescope's tests.
 *
 * Tests print "ok N - name" / "not ok N - name" lines and end with
 * tap_done(), which prints the plan and returns the exit status (0: the
 * tap-driver decides from the lines). tap_skip_all() prints "1..0 # SKIP"
 * for a test that cannot run here (no fixtures, no CUDA device).
 * Fixture paths come from $FIXTURES (set by make check).
 */
#ifndef MOESCOPE_TAP_H
#define MOESCOPE_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#define is_int(got, want, ...) do {					\
	long long _g = (long long)(got), _w = (long long)(want);	\
	if (!ok(_g == _w, __VA_ARGS__))					\
		diag("  got %lld, want %lld", _g, _w);			\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *_g = (got), *_w = (want);				\
	if (!ok(_g != NULL && _w != NULL && strcmp(_g, _w) == 0,	\
	    __VA_ARGS__))						\
		diag("  got \"%s\", want \"%s\"", _g ? _g : "(null)",	\
		    _w ? _w : "(null)");				\
} while (0)

#define is_near(got, want, tol, ...) do {				\
	double _g = (got), _w = (want);					\
	if (!ok(fabs(_g - _w) <= (tol), __VA_ARGS__))			\
		diag("  got %.9g, want %.9g (tol %g)", _g, _w,		\
		    (double)(tol));					\
} while (0)

__attribute__((unused)) static void
tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	fflush(stdout);
	return 0;
}

/* The fixtures directory, or NULL when absent. */
__attribute__((unused)) static const char *
tap_fixtures(void)
{
	const char *d = getenv("FIXTURES");
	struct stat st;

	if (d == NULL || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return d;
}

/* snprintf into a static rotating buffer: fixture paths in tests. */
__attribute__((format(printf, 1, 2), unused)) static const char *
tap_path(const char *fmt, ...)
{
	static char buf[8][4096];
	static int i;
	va_list ap;

	i = (i + 1) % 8;
	va_start(ap, fmt);
	vsnprintf(buf[i], sizeof buf[i], fmt, ap);
	va_end(ap);
	return buf[i];
}

#endif
