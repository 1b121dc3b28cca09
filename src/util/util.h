/*
 * util.h - the util room: errors, logging, checked arithmetic, clocks,
 * files (mmap, whole-file reads, atomic temp+rename writes).
 *
 * util uses libc only. Every other room may use it.
 */
#ifndef MOESCOPE_UTIL_H
#define MOESCOPE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Error codes: functions return 0 or one of these (all negative). */
enum {
	ERR_NOMEM = -1,		/* allocation failed */
	ERR_IO = -2,		/* read/write/open failed */
	ERR_FORMAT = -3,	/* malformed input file or data */
	ERR_USAGE = -4,		/* bad argument or flag */
	ERR_RANGE = -5,		/* value out of range, overflow */
	ERR_UNSUPPORTED = -6,	/* valid but not supported by us */
	ERR_CANCELLED = -7,	/* stopped by the user */
	ERR_CUDA = -8,		/* CUDA runtime or cuBLAS failure */
	ERR_NET = -9,		/* network or HTTP failure */
	ERR_NOTFOUND = -10,	/* named thing does not exist */
	ERR_TEMPLATE = -11	/* chat template error */
};

#define ERR_MSG_MAX 512

/* A message for the user, naming the file or field and what is wrong. */
struct err {
	int	code;
	char	msg[ERR_MSG_MAX];
};

#if defined(__GNUC__)
#define UTIL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define UTIL_PRINTF(a, b)
#endif

/*
 * Fill e (which may be NULL) with code and a formatted message; returns
 * code so callers can write `return err_set(e, ERR_IO, "...")`.
 */
int err_set(struct err *e, int code, const char *fmt, ...) UTIL_PRINTF(3, 4);

/* Prepend "prefix: " to the message already in e (if any). */
void err_prefix(struct err *e, const char *fmt, ...) UTIL_PRINTF(2, 3);

/* Clear e. */
void err_clear(struct err *e);

/* A short name for an ERR_* code. */
const char *err_name(int code);

/* Logging to stderr; level 0 = errors only, 1 = info, 2 = debug. */
extern int util_log_level;
void util_log(int level, const char *fmt, ...) UTIL_PRINTF(2, 3);

/* Overflow-checked arithmetic on sizes: 0 on success, ERR_RANGE on
 * overflow (and *r untouched). */
static inline int
util_add(size_t a, size_t b, size_t *r)
{
	size_t t;

	if (__builtin_add_overflow(a, b, &t))
		return ERR_RANGE;
	*r = t;
	return 0;
}

static inline int
util_mul(size_t a, size_t b, size_t *r)
{
	size_t t;

	if (__builtin_mul_overflow(a, b, &t))
		return ERR_RANGE;
	*r = t;
	return 0;
}

static inline int
util_add64(uint64_t a, uint64_t b, uint64_t *r)
{
	uint64_t t;

	if (__builtin_add_overflow(a, b, &t))
		return ERR_RANGE;
	*r = t;
	return 0;
}

static inline int
util_mul64(uint64_t a, uint64_t b, uint64_t *r)
{
	uint64_t t;

	if (__builtin_mul_overflow(a, b, &t))
		return ERR_RANGE;
	*r = t;
	return 0;
}

/* Round x up to a multiple of a (a power of two or not); ERR_RANGE on
 * overflow. */
int util_align_up(uint64_t x, uint64_t a, uint64_t *r);

/* Monotonic clock in nanoseconds, and wall-clock seconds. */
uint64_t util_now_ns(void);
double util_now_s(void);

/* A read-only memory map of a whole file. */
struct util_map {
	void	*data;
	size_t	 size;
	int	 fd;		/* kept open for pread (expert I/O) */
};

/* Map path read-only. Empty files map to data == NULL, size 0. */
int util_map_open(struct util_map *m, const char *path, struct err *e);
void util_map_close(struct util_map *m);

/* Read a whole file into a malloc'd, NUL-terminated buffer. */
int util_read_file(const char *path, char **out, size_t *len,
    struct err *e);

/*
 * Atomic output: write to "<path>.tmp.<pid>" and rename into place on
 * commit; abort (or a failed commit) removes the temporary file.
 */
struct util_atomic {
	FILE	*fp;
	char	*path;
	char	*tmp;
};

int util_atomic_open(struct util_atomic *a, const char *path,
    struct err *e);
int util_atomic_commit(struct util_atomic *a, struct err *e);
void util_atomic_abort(struct util_atomic *a);

/* Write all of buf to a temp file and rename it to path. */
int util_write_file(const char *path, const void *buf, size_t len,
    struct err *e);

/*
 * Parse a size: "123", "4K", "8M", "2G", "1.5G" (binary units). With
 * total != 0, "N%" is that share of total. 0 or ERR_USAGE.
 */
int util_parse_size(const char *s, uint64_t total, uint64_t *out);

/*
 * Growing arrays: make *pp (an array of elements of sz bytes, *cap of
 * them) hold at least n, doubling from 16; 0 or ERR_NOMEM (on overflow
 * too), *pp untouched on failure.
 */
int util_grow(void *pp, size_t *cap, size_t n, size_t sz);

/* A growing NUL-terminated string; after a failed put, fail is set and
 * later puts do nothing. Zero-initialize; free(s) when done. */
struct util_buf {
	char	*s;
	size_t	 len, cap;
	int	 fail;
};

void util_buf_put(struct util_buf *b, const void *s, size_t len);

/* Format bytes as "12.3M" into buf. */
const char *util_fmt_bytes(uint64_t n, char *buf, size_t len);

/* Parse a non-negative integer fully; 0 or ERR_USAGE. */
int util_parse_long(const char *s, long min, long max, long *out);

/* Number of online CPUs (at least 1). */
int util_ncpu(void);

/* Valid UTF-8 check over len bytes. */
int util_utf8_valid(const char *s, size_t len);

/* Half-precision and bfloat16 conversions (exact, round-to-nearest-even
 * for the narrowing ones). */
float util_fp16_to_f32(uint16_t h);
uint16_t util_f32_to_fp16(float f);
static inline float
util_bf16_to_f32(uint16_t h)
{
	union { uint32_t u; float f; } v;

	v.u = (uint32_t)h << 16;
	return v.f;
}
uint16_t util_f32_to_bf16(float f);

#endif
