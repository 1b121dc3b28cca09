/*
 * 001-util-basic.c - util room: checked arithmetic, size parsing, UTF-8
 * validation, half/bfloat16 conversions, atomic writes, growing arrays
 * and strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/util.h"

int
main(void)
{
	struct err e;
	size_t r = 0;
	uint64_t u = 0;
	char *buf;
	size_t len;
	char path[] = "/tmp/moescope-t001-XXXXXX";
	int fd, i, bad;

	ok(util_add(SIZE_MAX, 1, &r) == ERR_RANGE, "add overflow caught");
	ok(util_mul(SIZE_MAX / 2, 3, &r) == ERR_RANGE, "mul overflow caught");
	ok(util_mul(1000, 1000, &r) == 0 && r == 1000000, "mul ok");
	ok(util_align_up(33, 32, &u) == 0 && u == 64, "align up");
	ok(util_align_up(UINT64_MAX - 3, 32, &u) == ERR_RANGE,
	    "align up overflow caught");

	ok(util_parse_size("8G", 0, &u) == 0 && u == 8ull << 30, "8G");
	ok(util_parse_size("1.5M", 0, &u) == 0 && u == 3ull << 19, "1.5M");
	ok(util_parse_size("25%", 1000, &u) == 0 && u == 250, "25%%");
	ok(util_parse_size("25%", 0, &u) == ERR_USAGE, "%% without total");
	ok(util_parse_size("12Q", 0, &u) == ERR_USAGE, "bad suffix");
	ok(util_parse_size("-1", 0, &u) == ERR_USAGE, "negative");

	ok(util_utf8_valid("h\xc3\xa9llo", 6), "valid utf-8");
	ok(!util_utf8_valid("\xc3", 1), "truncated utf-8");
	ok(!util_utf8_valid("\xed\xa0\x80", 3), "surrogate rejected");
	ok(!util_utf8_valid("\xc0\xaf", 2), "overlong rejected");

	/* every finite half converts to float and back unchanged */
	bad = 0;
	for (i = 0; i < 65536; i++) {
		if ((i & 0x7c00) == 0x7c00)
			continue;
		if (util_f32_to_fp16(util_fp16_to_f32((uint16_t)i)) != i)
			bad++;
	}
	is_int(bad, 0, "fp16 round trip over all finite halves");
	is_int(util_f32_to_fp16(1.0f), 0x3c00, "fp16(1.0)");
	is_int(util_f32_to_fp16(65520.0f), 0x7c00, "fp16 overflow to inf");
	is_int(util_f32_to_bf16(1.00390625f), 0x3f80, "bf16 ties to even");
	is_near(util_bf16_to_f32(0x3fc0), 1.5, 0, "bf16 1.5");

	fd = mkstemp(path);
	close(fd);
	ok(util_write_file(path, "hello", 5, &e) == 0, "atomic write");
	ok(util_read_file(path, &buf, &len, &e) == 0 && len == 5 &&
	    memcmp(buf, "hello", 5) == 0, "read back");
	free(buf);
	unlink(path);
	ok(util_write_file("/nonexistent-dir/x", "a", 1, &e) == ERR_IO &&
	    strstr(e.msg, "/nonexistent-dir/x") != NULL,
	    "write error names the file");
	ok(util_read_file("/nonexistent-file", &buf, &len, &e) ==
	    ERR_NOTFOUND, "missing file");

	/* growing arrays keep their contents; overflow is refused */
	{
		int *v = NULL, *keep, i, bad = 0;
		size_t cap = 0;
		struct util_buf b = { 0 };

		for (i = 0; i < 1000; i++) {
			if (util_grow(&v, &cap, (size_t)i + 1, sizeof *v) != 0 ||
			    cap < (size_t)i + 1) {
				bad++;
				break;
			}
			v[i] = i * 7;
		}
		for (i = 0; i < 1000 && !bad; i++)
			bad += v[i] != i * 7;
		ok(!bad && cap >= 1000 && cap < 2048, "util_grow: 1000 "
		    "elements kept, capacity %zu", cap);
		keep = v;
		ok(util_grow(&v, &cap, SIZE_MAX / 2, 16) == ERR_NOMEM &&
		    v == keep && cap >= 1000, "util_grow: an overflowing "
		    "size is refused, the array untouched");
		free(v);
		util_buf_put(&b, "ab", 2);
		for (i = 0; i < 300; i++)
			util_buf_put(&b, "xyz", 3);
		util_buf_put(&b, "", 0);
		ok(!b.fail && b.len == 902 && strlen(b.s) == 902 &&
		    memcmp(b.s, "abxyz", 5) == 0 &&
		    strcmp(b.s + 899, "xyz") == 0, "util_buf: appends, "
		    "NUL-terminated");
		b.len = SIZE_MAX - 1;
		util_buf_put(&b, "q", 1);
		ok(b.fail, "util_buf: a length overflow fails the buffer");
		b.len = 902;
		util_buf_put(&b, "q", 1);
		ok(b.len == 902, "util_buf: nothing is put after a failure");
		free(b.s);
	}
	return tap_done();
}
