/*
 * 401-cache-core.c - the expert cache on a real file: acquired bytes equal
 * the file's bytes (unaligned segments, with and without O_DIRECT), the
 * policies evict what they should, prefetch counts, a budget below one
 * slot per layer is refused with the minimum, and a read past a file
 * truncated after opening fails with a message instead of crashing.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "cache/cache.h"

#define NL 2
#define NE 4
#define NS 3
#define SEGLEN 5000		/* deliberately not a multiple of 4096 */

static char path[] = "/tmp/moescope-t401-XXXXXX";
static uint8_t *file;
static size_t fsize;

static void
layout(struct cache_seg *segs)
{
	int l, x, k;
	uint64_t off = 123;

	for (l = 0; l < NL; l++)
		for (x = 0; x < NE; x++)
			for (k = 0; k < NS; k++) {
				segs[(l * NE + x) * NS + k].off = off;
				segs[(l * NE + x) * NS + k].len = SEGLEN;
				off += SEGLEN + 77;
			}
	fsize = off + 1000;
}

static int
same(const struct cache_seg *segs, int l, int x, const uint8_t **p)
{
	int k;

	for (k = 0; k < NS; k++)
		if (memcmp(p[k], file + segs[(l * NE + x) * NS + k].off,
		    SEGLEN) != 0)
			return 0;
	return 1;
}

int
main(void)
{
	struct cache_seg segs[NL * NE * NS];
	struct cache_params cp = { 0 };
	struct cache_stats st;
	struct cache *c;
	struct err e;
	const uint8_t *p[NS];
	uint8_t res[NE];
	size_t i;
	int fd, l, x, bad, pol;

	layout(segs);
	file = malloc(fsize);
	for (i = 0; i < fsize; i++)
		file[i] = (uint8_t)(i * 2654435761u >> 13);
	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, file, fsize) == (ssize_t)fsize,
	    "test file written");
	close(fd);

	cp.ram_budget = 1000;
	ok(cache_new(&c, path, NL, NE, NS, segs, &cp, &e) == ERR_USAGE &&
	    strstr(e.msg, "minimum") != NULL, "tiny budget refused: %s",
	    e.msg);

	/* two slots per layer; every expert's bytes come back exactly */
	cp.ram_budget = 2 * NL * (uint64_t)(3 * 12288);
	if (!ok(cache_new(&c, path, NL, NE, NS, segs, &cp, &e) == 0,
	    "cache with 2 slots per layer")) {
		diag("%s", e.msg);
		return tap_done();
	}
	is_int(cache_capacity(c, 0), 2, "capacity per layer");
	bad = 0;
	for (l = 0; l < NL; l++)
		for (x = 0; x < NE; x++) {
			if (cache_acquire(c, l, x, 1.0f, p, &e) != 0 ||
			    !same(segs, l, x, p))
				bad++;
			cache_release(c, l, x);
			cache_tick(c);
		}
	is_int(bad, 0, "all experts read back byte for byte (direct I/O %s)",
	    cache_direct_io(c) ? "on" : "off");
	cache_stats(c, 0, &st);
	is_int(st.misses, NE, "layer 0: every first use a miss");
	ok(st.bytes_read >= (uint64_t)NE * NS * SEGLEN, "bytes read counted");

	/* LRU: touch 0 then 1; using 2 evicts 0 */
	cache_acquire(c, 0, 0, 1, p, &e); cache_release(c, 0, 0); cache_tick(c);
	cache_acquire(c, 0, 1, 1, p, &e); cache_release(c, 0, 1); cache_tick(c);
	cache_acquire(c, 0, 2, 1, p, &e); cache_release(c, 0, 2); cache_tick(c);
	cache_resident(c, 0, res);
	ok(!res[0] && res[1] && res[2], "LRU evicted the least recent");

	/* prefetch: issued, then a hit */
	cache_stats_reset(c);
	cache_prefetch(c, 1, 0);	/* evicted earlier: a real load */
	cache_acquire(c, 1, 0, 1, p, &e);
	ok(same(segs, 1, 0, p), "prefetched expert has the right bytes");
	cache_release(c, 1, 0);
	cache_stats(c, 1, &st);
	ok(st.prefetch_issued == 1 && st.prefetch_hits == 1,
	    "prefetch issued and used");

	/* room for guesses: none in no time; after idle time, the disk's
	 * measured rate allows some in a long window; never negative */
	is_int(cache_prefetch_room(c, 0), 0, "no prefetch room in no time");
	usleep(20000);
	ok(cache_prefetch_room(c, 1.0) > 0, "idle disk: room in a second "
	    "(%d loads)", cache_prefetch_room(c, 1.0));
	ok(cache_prefetch_room(c, 1e-9) == 0, "no room in a nanosecond");
	cache_free(c);

	/* GATE and LFU keep the heavy expert that LRU would drop */
	for (pol = CACHE_LFU; pol <= CACHE_GATE; pol++) {
		cp.policy = pol;
		cache_new(&c, path, NL, NE, NS, segs, &cp, &e);
		for (i = 0; i < 3; i++) {	/* expert 0: used often */
			cache_acquire(c, 0, 0, 0.9f, p, &e);
			cache_release(c, 0, 0);
			cache_tick(c);
		}
		cache_acquire(c, 0, 1, 0.1f, p, &e); cache_release(c, 0, 1);
		cache_tick(c);
		cache_acquire(c, 0, 2, 0.1f, p, &e); cache_release(c, 0, 2);
		cache_resident(c, 0, res);
		ok(res[0] && !res[1] && res[2], "%s keeps the frequent expert",
		    cache_policy_name(pol));
		cache_free(c);
	}

	/* truncated after opening: a clean I/O error naming the file */
	cp.policy = CACHE_LRU;
	cache_new(&c, path, NL, NE, NS, segs, &cp, &e);
	ok(truncate(path, 4096) == 0, "file truncated under the cache");
	ok(cache_acquire(c, 1, 3, 1, p, &e) == ERR_IO &&
	    strstr(e.msg, path) != NULL, "read of a truncated file fails: %s",
	    e.msg);
	cache_free(c);
	unlink(path);
	free(file);
	return tap_done();
}
