/*
 * cache-int.h - private to the cache room: the replacement scores the
 * live cache and the trace simulator share, so a policy means the same
 * thing in both.
 */
#ifndef MOESCOPE_CACHE_INT_H
#define MOESCOPE_CACHE_INT_H

#include <math.h>
#include <stdint.h>

#include "cache/cache.h"

/* The score of an entry at tick now (lower: evicted first). */
static inline double
cache_score_now(int policy, double score, uint64_t last, uint64_t now,
    double decay)
{
	if (policy == CACHE_LRU)
		return (double)last;
	return score * pow(decay, (double)(now - last));
}

/* The entry's new score after a use at tick now with gate weight w. */
static inline double
cache_score_use(int policy, double score, uint64_t last, uint64_t now,
    double decay, double w)
{
	if (policy == CACHE_LFU)
		return cache_score_now(policy, score, last, now, decay) + 1.0;
	if (policy == CACHE_GATE)
		return cache_score_now(policy, score, last, now, decay) + w;
	return score;
}

#endif
