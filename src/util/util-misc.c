/*
 * util-misc.c - growing arrays and strings, clocks, number parsing and
 * formatting, CPU count, UTF-8 validation and the half-precision
 * conversions.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
util_grow(void *pp, size_t *cap, size_t n, size_t sz)
{
	void **p = pp;
	size_t nc = *cap ? *cap : 16;
	void *q;

	if (n <= *cap && *p != NULL)
		return 0;
	while (nc < n) {
		if (nc > SIZE_MAX / 2)
			return ERR_NOMEM;
		nc *= 2;
	}
	if (sz != 0 && nc > SIZE_MAX / sz)
		return ERR_NOMEM;
	if ((q = realloc(*p, nc * sz)) == NULL)
		return ERR_NOMEM;
	*p = q;
	*cap = nc;
	return 0;
}

void
util_buf_put(struct util_buf *b, const void *s, size_t len)
{
	if (b->fail)
		return;
	if (b->len + len + 1 < b->len ||
	    util_grow(&b->s, &b->cap, b->len + len + 1, 1) != 0) {
		b->fail = 1;
		return;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

int
util_align_up(uint64_t x, uint64_t a, uint64_t *r)
{
	uint64_t rem, t;

	if (a == 0)
		return ERR_RANGE;
	rem = x % a;
	if (rem == 0) {
		*r = x;
		return 0;
	}
	if (util_add64(x, a - rem, &t) != 0)
		return ERR_RANGE;
	*r = t;
	return 0;
}

uint64_t
util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double
util_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
util_parse_size(const char *s, uint64_t total, uint64_t *out)
{
	char *end;
	double v, mult = 1;

	if (s == NULL || *s == '\0')
		return ERR_USAGE;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !(v >= 0) || isinf(v))
		return ERR_USAGE;
	if (*end == '%') {
		if (total == 0 || end[1] != '\0' || v > 100)
			return ERR_USAGE;
		*out = (uint64_t)(v / 100.0 * (double)total);
		return 0;
	}
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': mult = 1024.0; end++; break;
	case 'M': mult = 1024.0 * 1024; end++; break;
	case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: return ERR_USAGE;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return ERR_USAGE;
	v *= mult;
	if (v > 1.8e19)
		return ERR_USAGE;
	*out = (uint64_t)v;
	return 0;
}

const char *
util_fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)n);
	else
		snprintf(buf, len, v < 10 ? "%.2f%c" : v < 100 ? "%.1f%c" :
		    "%.0f%c", v, units[u]);
	return buf;
}

int
util_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return ERR_USAGE;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return ERR_USAGE;
	*out = v;
	return 0;
}

int
util_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int)n;
}

int
util_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, n;
	uint32_t c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			c &= 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

float
util_fp16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
	union { uint32_t u; float f; } v;

	if (exp == 0) {
		/* zero or subnormal: man * 2^-24 */
		float f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		v.u = sign | 0x7f800000u | (man << 13);
	else
		v.u = sign | ((exp + 112) << 23) | (man << 13);
	return v.f;
}

uint16_t
util_f32_to_fp16(float f)
{
	union { uint32_t u; float f; } v = { .f = f };
	uint32_t sign = (v.u >> 16) & 0x8000, x = v.u & 0x7fffffff;
	uint32_t exp, man, r;

	if (x >= 0x7f800000u)	/* inf or nan */
		return (uint16_t)(sign | 0x7c00 | (x > 0x7f800000u ? 0x200 : 0));
	if (x >= 0x477ff000u)	/* rounds to >= 65520: inf */
		return (uint16_t)(sign | 0x7c00);
	if (x < 0x38800000u) {	/* subnormal half or zero */
		int shift;

		if (x < 0x33000000u)
			return (uint16_t)sign;
		exp = x >> 23;
		man = (x & 0x7fffff) | 0x800000;
		shift = 126 - (int)exp;	/* 14..24 */
		r = man >> shift;
		{
			uint32_t rem = man & ((1u << shift) - 1);
			uint32_t half = 1u << (shift - 1);

			if (rem > half || (rem == half && (r & 1)))
				r++;
		}
		return (uint16_t)(sign | r);
	}
	exp = (x >> 23) - 112;
	man = x & 0x7fffff;
	r = (exp << 10) | (man >> 13);
	if ((man & 0x1fff) > 0x1000 || ((man & 0x1fff) == 0x1000 && (r & 1)))
		r++;
	return (uint16_t)(sign | r);
}

uint16_t
util_f32_to_bf16(float f)
{
	union { uint32_t u; float f; } v = { .f = f };

	if ((v.u & 0x7fffffff) > 0x7f800000u)
		return (uint16_t)((v.u >> 16) | 0x40);
	return (uint16_t)((v.u + (0x7fff + ((v.u >> 16) & 1))) >> 16);
}
