/*
 * 402-cache-sim.c - the trace simulator: hand-checked LRU and Belady
 * counts on a small sequence, and on random skewed traces Belady's
 * optimum is never beaten by any online policy.
 */
#include <stdlib.h>

#include "tap.h"
#include "cache/cache.h"

int
main(void)
{
	/* a b c a b d a b, 2 slots. LRU: no hits. Belady: c evicts b
	 * (next use farthest), a hits, b evicts c, d evicts b, a hits:
	 * 2, the optimum with every miss inserted. */
	static const int seq[] = { 0, 1, 2, 0, 1, 3, 0, 1 };
	struct cache_access a[8], *r;
	struct err e;
	uint64_t h, best;
	int i, p, bad = 0, trial;

	for (i = 0; i < 8; i++)
		a[i] = (struct cache_access){ seq[i], 1.0f, (uint64_t)i };
	ok(cache_sim(a, 8, 4, 2, CACHE_LRU, 0.9, &h, &e) == 0 && h == 0,
	    "LRU, 2 slots: no hits on a cyclic pattern");
	cache_sim(a, 8, 4, 2, CACHE_SIM_BELADY, 0.9, &h, &e);
	is_int(h, 2, "Belady, 2 slots: 2 hits");
	cache_sim(a, 8, 4, 3, CACHE_LRU, 0.9, &h, &e);
	is_int(h, 4, "LRU, 3 slots: 4 hits");
	ok(cache_sim(a, 8, 4, 0, CACHE_LRU, 0.9, &h, &e) == ERR_USAGE,
	    "zero capacity refused");
	a[3].expert = 9;
	ok(cache_sim(a, 8, 4, 2, CACHE_LRU, 0.9, &h, &e) == ERR_FORMAT,
	    "expert id out of range refused");

	r = malloc(4000 * sizeof *r);
	srand(7);
	for (trial = 0; trial < 20; trial++) {
		for (i = 0; i < 4000; i++) {
			/* Zipf-ish: low ids far more likely */
			double u = (rand() + 1.0) / ((double)RAND_MAX + 2.0);

			r[i].expert = (int)(32 * u * u * u);
			r[i].weight = (float)(rand() % 100) / 100.0f;
			r[i].token = (uint64_t)(i / 2);
		}
		cache_sim(r, 4000, 32, 6, CACHE_SIM_BELADY, 0.9, &best, &e);
		for (p = 0; p < CACHE_N_POLICIES; p++) {
			cache_sim(r, 4000, 32, 6, p, 0.9, &h, &e);
			bad += h > best;
		}
	}
	is_int(bad, 0, "Belady is never beaten (20 random traces x 3 "
	    "policies)");
	free(r);
	return tap_done();
}
