/*
 * engine-pool.c - the CPU worker pool.
 *
 * A job is a function over an index range [0, n). Every thread (the
 * caller too) claims chunks until none are left, so the split adapts to
 * threads that run slower or get descheduled by a busy machine. Chunks
 * are guided: a claim takes a share of what is left (1 / (2 x threads)),
 * never less than the caller's granule, so threads start on long
 * contiguous ranges (one sequential stream each, which the hardware
 * prefetchers follow) and the job ends on small ones (they finish
 * together). Between jobs workers spin for a short while (a decode
 * step issues jobs back to back) and then sleep on a condition variable,
 * so an idle or oversubscribed machine is not burnt by spinning.
 */
#include <sched.h>
#include <stdlib.h>

#include "engine/engine-int.h"

#define POOL_SPIN 20000		/* polls before sleeping */

struct pool {
	int		 n;		/* threads including the caller */
	pthread_t	*th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 wake, done_cv;
	/* the current job */
	pool_fn		 fn;
	void		*arg;
	int64_t		 total, chunk;
	atomic_llong	 next;
	atomic_int	 active;	/* workers still in the job */
	atomic_uint	 gen;		/* job generation */
	int		 quit;
};

struct worker {
	struct pool	*p;
	int		 tid;
};

static void
work(struct pool *p, int tid)
{
	long long i0 = atomic_load(&p->next);
	int64_t n, i1;

	for (;;) {
		do {
			if (i0 >= p->total)
				return;
			n = (p->total - i0) / (2 * p->n);
			if (n < p->chunk)
				n = p->chunk;
			i1 = i0 + n < p->total ? i0 + n : p->total;
		} while (!atomic_compare_exchange_weak(&p->next, &i0, i1));
		p->fn(p->arg, i0, i1, tid);
		i0 = atomic_load(&p->next);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	unsigned seen = 0, g;
	int spin;

	for (;;) {
		for (spin = 0; spin < POOL_SPIN; spin++) {
			if (atomic_load(&p->gen) != seen)
				break;
			if ((spin & 63) == 63)
				sched_yield();
		}
		pthread_mutex_lock(&p->mu);
		while ((g = atomic_load(&p->gen)) == seen && !p->quit)
			pthread_cond_wait(&p->wake, &p->mu);
		pthread_mutex_unlock(&p->mu);
		if (p->quit)
			break;
		seen = g;
		work(p, w->tid);
		if (atomic_fetch_sub(&p->active, 1) == 1) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done_cv);
			pthread_mutex_unlock(&p->mu);
		}
	}
	free(w);
	return NULL;
}

int
eng_pool_new(struct pool **out, int n_threads, struct err *e)
{
	struct pool *p;
	struct worker *w;
	int i;

	*out = NULL;
	if (n_threads < 1)
		n_threads = 1;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return err_set(e, ERR_NOMEM, "thread pool: out of memory");
	p->n = n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->th = calloc((size_t)n_threads, sizeof *p->th);
	if (p->th == NULL) {
		free(p);
		return err_set(e, ERR_NOMEM, "thread pool: out of memory");
	}
	for (i = 1; i < n_threads; i++) {
		w = malloc(sizeof *w);
		if (w == NULL)
			break;
		w->p = p;
		w->tid = i;
		if (pthread_create(&p->th[i], NULL, worker_main, w) != 0) {
			free(w);
			break;
		}
	}
	if (i < n_threads) {
		p->n = i;
		eng_pool_free(p);
		return err_set(e, ERR_NOMEM, "thread pool: cannot start "
		    "thread %d", i);
	}
	*out = p;
	return 0;
}

void
eng_pool_free(struct pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	atomic_fetch_add(&p->gen, 1);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (i = 1; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->done_cv);
	free(p->th);
	free(p);
}

int
eng_pool_size(const struct pool *p)
{
	return p->n;
}

void
eng_pool_run(struct pool *p, pool_fn fn, void *arg, int64_t n,
    int64_t chunk)
{
	int spin;

	if (n <= 0)
		return;
	if (chunk < 1)
		chunk = 1;
	if (p->n == 1 || n <= chunk) {
		fn(arg, 0, n, 0);
		return;
	}
	p->fn = fn;
	p->arg = arg;
	p->total = n;
	p->chunk = chunk;
	atomic_store(&p->next, 0);
	atomic_store(&p->active, p->n - 1);
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->gen, 1);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	work(p, 0);
	for (spin = 0; spin < POOL_SPIN; spin++) {
		if (atomic_load(&p->active) == 0)
			return;
		if ((spin & 63) == 63)
			sched_yield();
	}
	pthread_mutex_lock(&p->mu);
	while (atomic_load(&p->active) != 0)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
