/*
 * cache-core.c - expert slots, replacement, and the I/O thread pool.
 *
 * Each MoE layer owns `cap` slots of slot_bytes (one allocation for all,
 * 4096-aligned for O_DIRECT). A slot is FREE, LOADING (an I/O thread is
 * reading into it), READY or ERROR, and may be pinned by acquire(). An
 * expert occupies at most one slot of its layer (where[]). Loads go
 * through a FIFO served by io_threads workers: each reads the expert's
 * segments with aligned preads (the aligned span around each segment;
 * the pointers handed out skip the slack), then marks the slot READY and
 * wakes waiters. Victims are unpinned, non-loading slots with the lowest
 * policy score. One mutex + condition variable per layer; one for the
 * queue.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache-int.h"

#define CACHE_ALIGN 4096
#define CACHE_MAX_SEG 4

enum { SLOT_FREE, SLOT_LOADING, SLOT_READY, SLOT_ERROR };

struct slot {
	int		 expert;	/* -1: none */
	int		 state;
	int		 pins;
	int		 prefetched;	/* loaded by prefetch, not yet used */
	uint8_t		*buf;
	const uint8_t	*ptr[CACHE_MAX_SEG];
	double		 score;
	uint64_t	 last;		/* tick of last use */
	char		 errmsg[160];
};

struct layer {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 cap;
	struct slot	*slots;
	int		*where;		/* [n_expert] slot or -1 */
	struct cache_stats st;
};

struct job {
	int	layer, slot, expert;
};

struct cache {
	char		*path;
	int		 fd, direct;
	uint64_t	 file_size;
	int		 n_layer, n_expert, n_seg;
	struct cache_seg *segs;		/* [layer][expert][seg] */
	uint64_t	 slot_bytes;
	uint8_t		*mem;
	struct layer	*layers;
	struct cache_params p;
	uint64_t	 tick;
	/* I/O queue */
	pthread_mutex_t	 qmu;
	pthread_cond_t	 qcv;
	struct job	*q;
	int		 qcap, qhead, qlen, quit;
	pthread_t	*io;
	int		 n_io;
	int		 inflight;	/* loads queued or being read (qmu) */
	/* the disk's rate while busy (qmu): bytes over wall time with at
	 * least one load in flight, halved now and then so it follows
	 * the disk as it speeds up or slows down */
	uint64_t	 busy_since, busy_ns, busy_bytes;
	uint64_t	 wall_since;	/* start of what busy_ns covers */
};

static const char *policy_names[CACHE_N_POLICIES] = { "lru", "lfu", "gate" };

const char *
cache_policy_name(int p)
{
	return p >= 0 && p < CACHE_N_POLICIES ? policy_names[p] : "?";
}

int
cache_policy_parse(const char *name)
{
	int i;

	for (i = 0; i < CACHE_N_POLICIES; i++)
		if (strcmp(name, policy_names[i]) == 0)
			return i;
	return -1;
}

static const struct cache_seg *
seg_of(const struct cache *c, int layer, int expert)
{
	return c->segs + ((size_t)layer * c->n_expert + expert) * c->n_seg;
}

/* Aligned span of a segment. */
static void
span(const struct cache_seg *s, uint64_t *aoff, uint64_t *alen)
{
	uint64_t a = s->off & ~(uint64_t)(CACHE_ALIGN - 1);
	uint64_t end = (s->off + s->len + CACHE_ALIGN - 1) &
	    ~(uint64_t)(CACHE_ALIGN - 1);

	*aoff = a;
	*alen = end - a;
}

static int
read_expert(struct cache *c, struct slot *sl, int layer, int expert,
    uint64_t *bytes)
{
	const struct cache_seg *sg = seg_of(c, layer, expert);
	uint64_t cur = 0, aoff, alen, got;
	ssize_t r = 0;
	int k;

	*bytes = 0;
	for (k = 0; k < c->n_seg; k++) {
		if (sg[k].len == 0) {
			sl->ptr[k] = NULL;
			continue;
		}
		span(&sg[k], &aoff, &alen);
		for (got = 0; got < alen;) {
			r = pread(c->fd, sl->buf + cur + got, alen - got,
			    (off_t)(aoff + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (uint64_t)r;
		}
		if (got < sg[k].off + sg[k].len - aoff) {
			snprintf(sl->errmsg, sizeof sl->errmsg, "%s: reading "
			    "expert %d of layer %d at offset %llu: %s", c->path,
			    expert, layer, (unsigned long long)sg[k].off,
			    r < 0 ? strerror(errno) : "file is truncated");
			return ERR_IO;
		}
		if (!c->direct)
			posix_fadvise(c->fd, (off_t)aoff, (off_t)alen,
			    POSIX_FADV_DONTNEED);
		sl->ptr[k] = sl->buf + cur + (sg[k].off - aoff);
		cur += alen;
		*bytes += got;
	}
	return 0;
}

static void *
io_main(void *arg)
{
	struct cache *c = arg;
	struct job j;
	struct layer *L;
	struct slot *sl;
	uint64_t t0, bytes;
	int rc;

	for (;;) {
		pthread_mutex_lock(&c->qmu);
		while (c->qlen == 0 && !c->quit)
			pthread_cond_wait(&c->qcv, &c->qmu);
		if (c->quit) {
			pthread_mutex_unlock(&c->qmu);
			break;
		}
		j = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		pthread_mutex_unlock(&c->qmu);

		L = &c->layers[j.layer];
		sl = &L->slots[j.slot];
		t0 = util_now_ns();
		rc = read_expert(c, sl, j.layer, j.expert, &bytes);
		pthread_mutex_lock(&c->qmu);
		c->busy_bytes += bytes;
		if (--c->inflight == 0) {
			c->busy_ns += util_now_ns() - c->busy_since;
			if (c->busy_ns > 2000000000u) {
				uint64_t now = util_now_ns();

				c->busy_ns /= 2;
				c->busy_bytes /= 2;
				c->wall_since = now - (now - c->wall_since) / 2;
			}
		}
		pthread_mutex_unlock(&c->qmu);
		pthread_mutex_lock(&L->mu);
		sl->state = rc == 0 ? SLOT_READY : SLOT_ERROR;
		L->st.bytes_read += bytes;
		L->st.read_ns += util_now_ns() - t0;
		pthread_cond_broadcast(&L->cv);
		pthread_mutex_unlock(&L->mu);
	}
	return NULL;
}

static double
score_now(const struct cache *c, const struct slot *s)
{
	return cache_score_now(c->p.policy, s->score, s->last, c->tick,
	    c->p.decay);
}

/* Pick a slot for expert (layer lock held): a free one, else the
 * unpinned, settled slot with the lowest score. -1: none available. */
static int
victim(struct cache *c, struct layer *L)
{
	double best = 0, s;
	int i, v = -1;

	for (i = 0; i < L->cap; i++)
		if (L->slots[i].state == SLOT_FREE)
			return i;
	for (i = 0; i < L->cap; i++) {
		const struct slot *sl = &L->slots[i];

		if (sl->pins > 0 || sl->state == SLOT_LOADING)
			continue;
		s = score_now(c, sl);
		if (v < 0 || s < best) {
			best = s;
			v = i;
		}
	}
	return v;
}

/* Start loading expert into a slot (layer lock held); slot or -1. */
static int
load(struct cache *c, int layer, int expert, int prefetch)
{
	struct layer *L = &c->layers[layer];
	struct slot *sl;
	int v = victim(c, L);

	if (v < 0)
		return -1;
	sl = &L->slots[v];
	if (sl->expert >= 0) {
		L->where[sl->expert] = -1;
		if (sl->prefetched)
			L->st.prefetch_wasted++;
		L->st.resident--;
	}
	sl->expert = expert;
	sl->state = SLOT_LOADING;
	sl->prefetched = prefetch;
	sl->score = 0;
	sl->last = c->tick;
	L->where[expert] = v;
	L->st.resident++;
	if (prefetch)
		L->st.prefetch_issued++;
	pthread_mutex_lock(&c->qmu);
	if (prefetch)
		c->q[(c->qhead + c->qlen) % c->qcap] =
		    (struct job){ layer, v, expert };
	else {
		/* a load someone waits for goes ahead of the guesses */
		c->qhead = (c->qhead + c->qcap - 1) % c->qcap;
		c->q[c->qhead] = (struct job){ layer, v, expert };
	}
	c->qlen++;
	if (c->inflight++ == 0) {
		c->busy_since = util_now_ns();
		if (c->wall_since == 0)
			c->wall_since = c->busy_since;
	}
	pthread_cond_signal(&c->qcv);
	pthread_mutex_unlock(&c->qmu);
	return v;
}

void
cache_prefetch(struct cache *c, int layer, int expert)
{
	struct layer *L;
	int busy;

	if (layer < 0 || layer >= c->n_layer || expert < 0 ||
	    expert >= c->n_expert || c->layers[layer].cap == 0)
		return;
	/*
	 * Speculation only uses idle disk time: while every I/O worker is
	 * busy, a guess would queue behind (and delay) the reads the
	 * current layer needs now, so it is dropped.
	 */
	pthread_mutex_lock(&c->qmu);
	busy = c->inflight >= c->n_io;
	pthread_mutex_unlock(&c->qmu);
	L = &c->layers[layer];
	pthread_mutex_lock(&L->mu);
	if (busy)
		L->st.prefetch_dropped++;
	else if (L->where[expert] < 0)
		load(c, layer, expert, 1);
	pthread_mutex_unlock(&L->mu);
}

int
cache_prefetch_room(struct cache *c, double window_s)
{
	uint64_t ns, now = util_now_ns();
	double bw, busy;
	int room;

	pthread_mutex_lock(&c->qmu);
	ns = c->busy_ns + (c->inflight > 0 ? now - c->busy_since : 0);
	if (ns == 0 || c->busy_bytes == 0) {
		/* nothing measured yet: what the workers take at once */
		room = c->n_io - c->inflight;
		pthread_mutex_unlock(&c->qmu);
		return room > 0 ? room : 0;
	}
	/* the disk's rate while busy, and the share of time it is busy
	 * with the reads the layers wait for: only the rest is spare */
	bw = (double)c->busy_bytes / ((double)ns * 1e-9);
	busy = now > c->wall_since ? (double)ns / (double)(now -
	    c->wall_since) : 1;
	if (busy > 1)
		busy = 1;
	room = (int)((1 - busy) * bw * window_s / (double)c->slot_bytes) -
	    c->inflight;
	pthread_mutex_unlock(&c->qmu);
	return room > 0 ? room : 0;
}

int
cache_acquire(struct cache *c, int layer, int expert, float weight,
    const uint8_t **ptrs, struct err *e)
{
	struct layer *L = &c->layers[layer];
	struct slot *sl;
	uint64_t t0 = 0;
	int s, k, counted = 0;

	pthread_mutex_lock(&L->mu);
	for (;;) {
		s = L->where[expert];
		if (s < 0)
			s = load(c, layer, expert, 0);
		if (s >= 0) {
			sl = &L->slots[s];
			if (!counted) {
				if (sl->state == SLOT_READY)
					L->st.hits++;
				else
					L->st.misses++;
				if (sl->prefetched) {
					L->st.prefetch_hits++;
					sl->prefetched = 0;
				}
				counted = 1;
			}
			if (sl->state == SLOT_READY)
				break;
			if (sl->state == SLOT_ERROR) {
				err_set(e, ERR_IO, "%s", sl->errmsg);
				L->where[expert] = -1;
				sl->expert = -1;
				sl->state = SLOT_FREE;
				L->st.resident--;
				pthread_mutex_unlock(&L->mu);
				return ERR_IO;
			}
			/* pin while waiting so it cannot be evicted */
			sl->pins++;
			if (t0 == 0)
				t0 = util_now_ns();
			pthread_cond_wait(&L->cv, &L->mu);
			sl->pins--;
			continue;
		}
		/* every slot pinned or loading: wait for one to settle */
		if (t0 == 0)
			t0 = util_now_ns();
		pthread_cond_wait(&L->cv, &L->mu);
	}
	if (t0 != 0)
		L->st.stall_ns += util_now_ns() - t0;
	sl->pins++;
	sl->score = cache_score_use(c->p.policy, sl->score, sl->last, c->tick,
	    c->p.decay, weight);
	sl->last = c->tick;
	for (k = 0; k < c->n_seg; k++)
		ptrs[k] = sl->ptr[k];
	pthread_mutex_unlock(&L->mu);
	return 0;
}

void
cache_release(struct cache *c, int layer, int expert)
{
	struct layer *L = &c->layers[layer];
	int s;

	pthread_mutex_lock(&L->mu);
	s = L->where[expert];
	if (s >= 0 && L->slots[s].pins > 0 && --L->slots[s].pins == 0)
		pthread_cond_broadcast(&L->cv);
	pthread_mutex_unlock(&L->mu);
}

void
cache_tick(struct cache *c)
{
	c->tick++;
}

int
cache_new(struct cache **out, const char *path, int n_layer, int n_expert,
    int n_seg, const struct cache_seg *segs, const struct cache_params *p,
    struct err *e)
{
	struct cache *c;
	uint64_t per, aoff, alen, total_slots, n_moe = 0, off = 0;
	int l, x, k, i;
	off_t end;

	*out = NULL;
	if (n_seg < 1 || n_seg > CACHE_MAX_SEG || n_layer < 1 ||
	    n_expert < 1)
		return err_set(e, ERR_USAGE, "cache: bad layout");
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	c->fd = -1;
	c->p = *p;
	if (c->p.io_threads <= 0)
		c->p.io_threads = 4;
	if (c->p.decay <= 0 || c->p.decay > 1)
		c->p.decay = 0.9f;
	c->n_layer = n_layer;
	c->n_expert = n_expert;
	c->n_seg = n_seg;
	c->path = strdup(path);
	c->segs = malloc((size_t)n_layer * n_expert * n_seg * sizeof *segs);
	c->layers = calloc((size_t)n_layer, sizeof *c->layers);
	if (c->path == NULL || c->segs == NULL || c->layers == NULL) {
		cache_free(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	memcpy(c->segs, segs, (size_t)n_layer * n_expert * n_seg *
	    sizeof *segs);
	for (l = 0; l < n_layer; l++) {
		pthread_mutex_init(&c->layers[l].mu, NULL);
		pthread_cond_init(&c->layers[l].cv, NULL);
	}
	/* slot size: the largest expert's aligned spans */
	for (l = 0; l < n_layer; l++) {
		int moe = 0;

		for (x = 0; x < n_expert; x++) {
			const struct cache_seg *sg = seg_of(c, l, x);

			per = 0;
			for (k = 0; k < n_seg; k++)
				if (sg[k].len > 0) {
					span(&sg[k], &aoff, &alen);
					per += alen;
					moe = 1;
				}
			if (per > c->slot_bytes)
				c->slot_bytes = per;
		}
		n_moe += moe;
	}
	if (n_moe == 0) {
		cache_free(c);
		return err_set(e, ERR_USAGE, "cache: the model has no experts");
	}
	total_slots = p->ram_budget / c->slot_bytes;
	if (total_slots < n_moe) {
		char b1[32], b2[32], b3[32];

		err_set(e, ERR_USAGE, "RAM budget %s is too small: one expert "
		    "takes %s and each of the %llu MoE layers needs at least "
		    "one slot (minimum %s)", util_fmt_bytes(p->ram_budget, b1,
		    sizeof b1), util_fmt_bytes(c->slot_bytes, b2, sizeof b2),
		    (unsigned long long)n_moe, util_fmt_bytes(n_moe *
		    c->slot_bytes, b3, sizeof b3));
		cache_free(c);
		return ERR_USAGE;
	}
	per = total_slots / n_moe;
	if (per > (uint64_t)n_expert)
		per = (uint64_t)n_expert;
	if (posix_memalign((void **)&c->mem, CACHE_ALIGN,
	    (size_t)(per * n_moe * c->slot_bytes)) != 0) {
		c->mem = NULL;
		cache_free(c);
		return err_set(e, ERR_NOMEM, "cannot allocate %llu bytes of "
		    "expert slots", (unsigned long long)(per * n_moe *
		    c->slot_bytes));
	}
	for (l = 0; l < n_layer; l++) {
		struct layer *L = &c->layers[l];
		const struct cache_seg *sg = seg_of(c, l, 0);
		int moe = 0;

		for (k = 0; k < n_seg; k++)
			moe |= sg[k].len > 0;
		L->where = malloc((size_t)n_expert * sizeof *L->where);
		if (L->where == NULL) {
			cache_free(c);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		for (x = 0; x < n_expert; x++)
			L->where[x] = -1;
		if (!moe)
			continue;
		L->cap = (int)per;
		L->st.capacity = L->cap;
		L->slots = calloc((size_t)L->cap, sizeof *L->slots);
		if (L->slots == NULL) {
			cache_free(c);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		for (i = 0; i < L->cap; i++) {
			L->slots[i].expert = -1;
			L->slots[i].buf = c->mem + off;
			off += c->slot_bytes;
		}
	}
	/* O_DIRECT where the file system allows it */
	c->fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
	c->direct = c->fd >= 0;
	if (c->fd < 0)
		c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		cache_free(c);
		return ERR_IO;
	}
	end = lseek(c->fd, 0, SEEK_END);
	c->file_size = end > 0 ? (uint64_t)end : 0;
	for (i = 0; i < n_layer * n_expert * n_seg; i++)
		if (segs[i].len > 0 && (segs[i].off > c->file_size ||
		    segs[i].len > c->file_size - segs[i].off)) {
			err_set(e, ERR_FORMAT, "%s: expert data at offset %llu "
			    "is past the end of the file", path,
			    (unsigned long long)segs[i].off);
			cache_free(c);
			return ERR_FORMAT;
		}
	pthread_mutex_init(&c->qmu, NULL);
	pthread_cond_init(&c->qcv, NULL);
	c->qcap = (int)(per * n_moe) + 1;
	c->q = calloc((size_t)c->qcap, sizeof *c->q);
	c->io = calloc((size_t)c->p.io_threads, sizeof *c->io);
	if (c->q == NULL || c->io == NULL) {
		cache_free(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (c->n_io = 0; c->n_io < c->p.io_threads; c->n_io++)
		if (pthread_create(&c->io[c->n_io], NULL, io_main, c) != 0)
			break;
	if (c->n_io == 0) {
		cache_free(c);
		return err_set(e, ERR_NOMEM, "cannot start I/O threads");
	}
	*out = c;
	return 0;
}

void
cache_free(struct cache *c)
{
	int l, i;

	if (c == NULL)
		return;
	if (c->n_io > 0) {
		pthread_mutex_lock(&c->qmu);
		c->quit = 1;
		pthread_cond_broadcast(&c->qcv);
		pthread_mutex_unlock(&c->qmu);
		for (i = 0; i < c->n_io; i++)
			pthread_join(c->io[i], NULL);
	}
	if (c->layers != NULL)
		for (l = 0; l < c->n_layer; l++) {
			free(c->layers[l].slots);
			free(c->layers[l].where);
		}
	if (c->fd >= 0)
		close(c->fd);
	free(c->layers);
	free(c->mem);
	free(c->segs);
	free(c->q);
	free(c->io);
	free(c->path);
	free(c);
}

uint64_t
cache_slot_bytes(const struct cache *c)
{
	return c->slot_bytes;
}

int
cache_capacity(const struct cache *c, int layer)
{
	return c->layers[layer].cap;
}

void
cache_stats(const struct cache *c, int layer, struct cache_stats *s)
{
	struct layer *L = &c->layers[layer];

	pthread_mutex_lock(&L->mu);
	*s = L->st;
	pthread_mutex_unlock(&L->mu);
}

void
cache_stats_reset(struct cache *c)
{
	int l;

	for (l = 0; l < c->n_layer; l++) {
		struct layer *L = &c->layers[l];
		int res, cap;

		pthread_mutex_lock(&L->mu);
		res = L->st.resident;
		cap = L->st.capacity;
		memset(&L->st, 0, sizeof L->st);
		L->st.resident = res;
		L->st.capacity = cap;
		pthread_mutex_unlock(&L->mu);
	}
}

void
cache_resident(const struct cache *c, int layer, uint8_t *res)
{
	struct layer *L = &c->layers[layer];
	int x;

	pthread_mutex_lock(&L->mu);
	for (x = 0; x < c->n_expert; x++)
		res[x] = L->where[x] >= 0 &&
		    L->slots[L->where[x]].state == SLOT_READY;
	pthread_mutex_unlock(&L->mu);
}

int
cache_direct_io(const struct cache *c)
{
	return c->direct;
}
