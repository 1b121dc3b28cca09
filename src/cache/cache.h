/*
 * cache.h - the cache room: where each expert's weights live, and getting
 * them into RAM before they are needed.
 *
 * Every expert of every MoE layer is either resident in a RAM slot or
 * only on disk. Slots are split evenly between layers (a per-layer cache,
 * as in Eliseev & Mazur 2023); a miss reads exactly that expert's bytes
 * from the model file with O_DIRECT (aligned preads by a pool of I/O
 * threads, several in flight), so the page cache does not hold expert
 * data and the RAM budget is honest. A replacement policy picks victims;
 * prefetch requests start loads early, without waiting. Loaded bytes are
 * the file's bytes, so results never depend on the budget.
 *
 * cache uses util (it starts I/O threads, never compute threads).
 */
#ifndef MOESCOPE_CACHE_H
#define MOESCOPE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* One contiguous byte range of the model file (one tensor's share of an
 * expert: its rows of gate, up or down). */
struct cache_seg {
	uint64_t	off;
	uint64_t	len;
};

enum cache_policy {
	CACHE_LRU = 0,		/* least recently used (the paper's) */
	CACHE_LFU,		/* least frequently used, counts decaying */
	CACHE_GATE,		/* gate-weighted recency-frequency: each use
				 * adds its gate weight, scores decay per
				 * step; low-weight picks fade first */
	CACHE_N_POLICIES
};

const char *cache_policy_name(int p);
/* Policy by name ("lru", "lfu", "gate"); -1 if unknown. */
int cache_policy_parse(const char *name);

struct cache_params {
	uint64_t	ram_budget;	/* bytes of expert slots */
	int		policy;		/* enum cache_policy */
	int		io_threads;	/* 0: 4 */
	float		decay;		/* LFU/GATE per-step decay; 0: 0.9 */
};

/* Per-layer counters (monotonic since creation or cache_stats_reset). */
struct cache_stats {
	uint64_t	hits;		/* acquired while resident */
	uint64_t	misses;		/* acquired while absent or loading */
	uint64_t	prefetch_hits;	/* first use of a prefetched expert */
	uint64_t	prefetch_issued;
	uint64_t	prefetch_wasted; /* evicted before any use */
	uint64_t	prefetch_dropped; /* not issued: the disk was busy */
	uint64_t	bytes_read;	/* from disk */
	uint64_t	read_ns;	/* I/O time (workers, summed) */
	uint64_t	stall_ns;	/* time acquire() waited */
	int		resident;	/* experts in slots now */
	int		capacity;	/* slots of this layer */
};

struct cache;

/*
 * Open path for expert reads and lay out slots. segs holds, for each of
 * n_layer x n_expert experts, n_seg ranges ([layer][expert][seg]);
 * layers with no experts have all-zero ranges. The budget must give
 * every MoE layer at least one slot: otherwise ERR_USAGE with a message
 * saying the minimum.
 */
int cache_new(struct cache **out, const char *path, int n_layer,
    int n_expert, int n_seg, const struct cache_seg *segs,
    const struct cache_params *p, struct err *e);
void cache_free(struct cache *c);

/* Bytes one slot takes (the largest expert, with alignment slack). */
uint64_t cache_slot_bytes(const struct cache *c);
/* Slots of a layer (0 for a layer without experts). */
int cache_capacity(const struct cache *c, int layer);

/*
 * Start loading (layer, expert) unless it is resident or loading; never
 * waits. Evicts an unpinned victim; does nothing when every slot is
 * pinned or loading, or when every I/O worker is already busy (a guess
 * must not delay the reads needed now).
 */
void cache_prefetch(struct cache *c, int layer, int expert);

/*
 * Make (layer, expert) resident, waiting for its read if needed, and pin
 * it; ptrs[seg] point at its bytes until cache_release(). weight (the
 * expert's gate weight in this use) feeds the GATE policy. At most
 * cache_capacity(layer) experts of a layer may be pinned at once.
 * ERR_IO (message names the file and offset) when the read failed.
 */
/*
 * How many more expert loads the disk can finish within window_s seconds
 * after those already queued, in the time it has been idle: its rate
 * while busy times the share of recent time it was not busy (what
 * speculation may ask for without delaying the reads a layer will wait
 * on). Before any read has finished: the idle I/O workers.
 */
int cache_prefetch_room(struct cache *c, double window_s);

int cache_acquire(struct cache *c, int layer, int expert, float weight,
    const uint8_t **ptrs, struct err *e);
void cache_release(struct cache *c, int layer, int expert);

/* Advance the policy clock (once per token). */
void cache_tick(struct cache *c);

void cache_stats(const struct cache *c, int layer, struct cache_stats *s);
void cache_stats_reset(struct cache *c);
/* res[expert] = 1 when resident (n_expert bytes). */
void cache_resident(const struct cache *c, int layer, uint8_t *res);

/* Whether reads bypass the page cache (O_DIRECT worked on this file). */
int cache_direct_io(const struct cache *c);

/* ---- trace simulation (cache-sim.c) ---- */

#define CACHE_SIM_BELADY CACHE_N_POLICIES	/* offline optimum */

/* One use of an expert in one layer's trace. */
struct cache_access {
	int		 expert;
	float		 weight;
	uint64_t	 token;		/* the policy clock */
};

/*
 * Replay one layer's accesses a[0..n) through a cache of cap slots under
 * policy (a CACHE_* or CACHE_SIM_BELADY); *hits gets the accesses that
 * found their expert resident.
 */
int cache_sim(const struct cache_access *a, size_t n, int n_expert, int cap,
    int policy, double decay, uint64_t *hits, struct err *e);

#endif
