/*
 * util-err.c - error messages and logging.
 *
 * An error is a negative ERR_* code plus a message meant for the user; the
 * innermost function that knows the file and field writes it, outer ones
 * may prefix context with err_prefix().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int util_log_level = 0;

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[ERR_MSG_MAX];
	size_t n, m;
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre - 2, fmt, ap);
	va_end(ap);
	strcat(pre, ": ");
	n = strlen(pre);
	m = strnlen(e->msg, sizeof e->msg - 1);
	if (n + m > sizeof e->msg - 1)
		m = sizeof e->msg - 1 - n;
	memmove(e->msg + n, e->msg, m);
	memcpy(e->msg, pre, n);
	e->msg[n + m] = '\0';
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

const char *
err_name(int code)
{
	switch (code) {
	case 0: return "ok";
	case ERR_NOMEM: return "out of memory";
	case ERR_IO: return "I/O error";
	case ERR_FORMAT: return "bad format";
	case ERR_USAGE: return "usage error";
	case ERR_RANGE: return "out of range";
	case ERR_UNSUPPORTED: return "unsupported";
	case ERR_CANCELLED: return "cancelled";
	case ERR_CUDA: return "CUDA error";
	case ERR_NET: return "network error";
	case ERR_NOTFOUND: return "not found";
	case ERR_TEMPLATE: return "template error";
	}
	return "error";
}

void
util_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > util_log_level)
		return;
	va_start(ap, fmt);
	fputs("moescope: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
