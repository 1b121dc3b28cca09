/*
 * cache-sim.c - replay a routing trace through a per-layer expert cache
 * of a given capacity and count hits, for each live policy (the same
 * scores as cache-core.c) and for Belady's optimal policy (evict the
 * expert whose next use is farthest away), the ceiling any online policy
 * can reach.
 *
 * A trace is, per layer, a sequence of accesses (expert, gate weight,
 * token index); one token's experts are accessed in order, and the
 * policy clock ticks once per token, as in the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache-int.h"

struct ent {
	int		 expert;
	double		 score;
	uint64_t	 last;
};

/* Hits of one layer's access sequence under policy p (CACHE_* or
 * CACHE_SIM_BELADY) with cap slots. */
static int
sim_layer(const struct cache_access *a, size_t n, int n_expert, int cap,
    int policy, double decay, uint64_t *hits)
{
	struct ent *e = calloc((size_t)cap, sizeof *e);
	size_t *next = NULL, *last_seen = NULL, i;
	int used = 0, j, v;

	if (e == NULL)
		return ERR_NOMEM;
	if (policy == CACHE_SIM_BELADY) {
		/* next[i]: the index of the next access to a[i].expert */
		next = malloc((n ? n : 1) * sizeof *next);
		last_seen = malloc((size_t)n_expert * sizeof *last_seen);
		if (next == NULL || last_seen == NULL) {
			free(e);
			free(next);
			free(last_seen);
			return ERR_NOMEM;
		}
		for (j = 0; j < n_expert; j++)
			last_seen[j] = SIZE_MAX;
		for (i = n; i-- > 0;) {
			next[i] = last_seen[a[i].expert];
			last_seen[a[i].expert] = i;
		}
	}
	*hits = 0;
	for (i = 0; i < n; i++) {
		uint64_t now = a[i].token;
		int hit;

		for (j = 0; j < used; j++)
			if (e[j].expert == a[i].expert)
				break;
		hit = j < used;
		if (hit)
			(*hits)++;
		else if (used < cap)
			j = used++;
		else {
			/* victim: the lowest score; for Belady the score is
			 * minus the next use, so the farthest goes */
			double best = 0, sc;

			v = 0;
			for (j = 0; j < used; j++) {
				sc = policy == CACHE_SIM_BELADY ?
				    -e[j].score : cache_score_now(policy,
				    e[j].score, e[j].last, now, decay);
				if (j == 0 || sc < best) {
					best = sc;
					v = j;
				}
			}
			j = v;
		}
		if (policy == CACHE_SIM_BELADY)
			e[j].score = next[i] == SIZE_MAX ? 1e300 :
			    (double)next[i];
		else
			e[j].score = cache_score_use(policy, hit ? e[j].score :
			    0, hit ? e[j].last : now, now, decay, a[i].weight);
		e[j].expert = a[i].expert;
		e[j].last = now;
	}
	free(e);
	free(next);
	free(last_seen);
	return 0;
}

int
cache_sim(const struct cache_access *a, size_t n, int n_expert, int cap,
    int policy, double decay, uint64_t *hits, struct err *e)
{
	size_t i;

	if (cap < 1 || n_expert < 1)
		return err_set(e, ERR_USAGE, "cachesim: capacity %d for %d "
		    "experts", cap, n_expert);
	for (i = 0; i < n; i++)
		if (a[i].expert < 0 || a[i].expert >= n_expert)
			return err_set(e, ERR_FORMAT, "cachesim: expert %d out "
			    "of range 0..%d", a[i].expert, n_expert - 1);
	if (decay <= 0 || decay > 1)
		decay = 0.9;
	if (sim_layer(a, n, n_expert, cap, policy, decay, hits) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}
