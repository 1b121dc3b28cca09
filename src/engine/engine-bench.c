/*
 * engine-bench.c - the machine's memory read bandwidth, measured the way
 * decode uses memory: every thread of the pool streams its share of a
 * buffer much larger than the caches, summing 64-bit lanes (so no load
 * can be skipped). The median of several passes is reported (page faults
 * are taken before timing starts): STREAM reports the best, but on a
 * shared virtual machine single passes now and then read far above what
 * the memory sustains (75 GB/s against a usual 40-47 here), and a
 * roofline against such a figure says nothing.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

struct bw_job {
	const uint8_t	*buf;
	int64_t		 chunk_bytes;
	uint64_t	 sink[256];
};

__attribute__((target("avx2"))) static uint64_t
sum_avx2(const uint8_t *p, int64_t n)
{
	__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
	uint64_t out[4];
	int64_t i;

	for (i = 0; i + 128 <= n; i += 128) {
		a0 = _mm256_add_epi64(a0, _mm256_load_si256((const void *)(p + i)));
		a1 = _mm256_add_epi64(a1, _mm256_load_si256((const void *)(p + i + 32)));
		a2 = _mm256_add_epi64(a2, _mm256_load_si256((const void *)(p + i + 64)));
		a3 = _mm256_add_epi64(a3, _mm256_load_si256((const void *)(p + i + 96)));
	}
	a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
	_mm256_storeu_si256((void *)out, a0);
	return out[0] + out[1] + out[2] + out[3];
}

static uint64_t
sum_sse2(const uint8_t *p, int64_t n)
{
	__m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
	uint64_t out[2];
	int64_t i;

	for (i = 0; i + 64 <= n; i += 64) {
		a0 = _mm_add_epi64(a0, _mm_load_si128((const void *)(p + i)));
		a1 = _mm_add_epi64(a1, _mm_load_si128((const void *)(p + i + 16)));
		a2 = _mm_add_epi64(a2, _mm_load_si128((const void *)(p + i + 32)));
		a3 = _mm_add_epi64(a3, _mm_load_si128((const void *)(p + i + 48)));
	}
	a0 = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
	_mm_storeu_si128((void *)out, a0);
	return out[0] + out[1];
}

static void
bw_run(void *arg, int64_t i0, int64_t i1, int tid)
{
	struct bw_job *j = arg;
	const uint8_t *p = j->buf + i0 * j->chunk_bytes;
	int64_t n = (i1 - i0) * j->chunk_bytes;

	j->sink[tid & 255] += __builtin_cpu_supports("avx2") ?
	    sum_avx2(p, n) : sum_sse2(p, n);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
eng_bench_bandwidth(int n_threads, size_t bytes, int passes, double *gbs,
    struct err *e)
{
	struct pool *p = NULL;
	struct bw_job j;
	uint8_t *buf;
	uint64_t t0, dt[16];
	int64_t nchunks;
	int rc, i;

	*gbs = 0;
	memset(&j, 0, sizeof j);
	j.chunk_bytes = 1 << 20;
	bytes = (bytes + (size_t)j.chunk_bytes - 1) &
	    ~((size_t)j.chunk_bytes - 1);
	nchunks = (int64_t)(bytes / (size_t)j.chunk_bytes);
	if (posix_memalign((void **)&buf, 64, bytes) != 0)
		return err_set(e, ERR_NOMEM, "bandwidth test: cannot allocate "
		    "%zu bytes", bytes);
	for (i = 0; (size_t)i < bytes; i += 4096)
		buf[i] = (uint8_t)i;
	memset(buf, 1, bytes);
	if ((rc = eng_pool_new(&p, n_threads, e)) != 0) {
		free(buf);
		return rc;
	}
	j.buf = buf;
	if (passes > 15)
		passes = 15;
	if (passes < 1)
		passes = 1;
	for (i = 0; i < passes + 1; i++) {
		t0 = util_now_ns();
		/* chunks spread so each thread streams a contiguous range */
		eng_pool_run(p, bw_run, &j, nchunks, (nchunks + n_threads - 1) /
		    n_threads);
		dt[i] = util_now_ns() - t0;
	}
	eng_pool_free(p);
	free(buf);
	/* the first pass warms up; the median of the rest */
	qsort(dt + 1, (size_t)passes, sizeof dt[0], cmp_u64);
	*gbs = (double)bytes / (double)dt[1 + passes / 2];
	return 0;
}
