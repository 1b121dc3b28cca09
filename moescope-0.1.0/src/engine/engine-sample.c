/*
 * engine-sample.c - choosing the next token.
 *
 * Order of operations (as llama.cpp's default chain applies them):
 * repetition penalty over the last N tokens, then top-k, top-p, min-p on
 * the temperature-scaled distribution, then a draw from a seeded
 * generator. Temperature <= 0 is greedy (argmax; the lowest id wins a
 * tie). The candidate buffer is allocated once, at creation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

struct cand {
	int32_t	id;
	float	logit;
	float	p;
};

struct eng_sampler {
	struct eng_sampler_params p;
	int		 n_vocab;
	struct cand	*c;
	int32_t		*last;		/* ring of recent tokens */
	int		 n_last, head;
	uint64_t	 rng;
};

void
eng_sampler_defaults(struct eng_sampler_params *p)
{
	p->temp = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repeat_penalty = 1.0f;
	p->repeat_last_n = 64;
	p->seed = 0x6d6f657363ull;
}

int
eng_sampler_new(struct eng_sampler **out, int n_vocab,
    const struct eng_sampler_params *p, struct err *e)
{
	struct eng_sampler *s;

	*out = NULL;
	if (n_vocab < 1)
		return err_set(e, ERR_USAGE, "sampler: empty vocabulary");
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	s->p = *p;
	if (s->p.repeat_last_n < 0)
		s->p.repeat_last_n = 0;
	s->n_vocab = n_vocab;
	s->c = malloc((size_t)n_vocab * sizeof *s->c);
	s->last = malloc(((size_t)s->p.repeat_last_n + 1) * sizeof *s->last);
	if (s->c == NULL || s->last == NULL) {
		eng_sampler_free(s);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	eng_sampler_reset(s);
	*out = s;
	return 0;
}

void
eng_sampler_free(struct eng_sampler *s)
{
	if (s == NULL)
		return;
	free(s->c);
	free(s->last);
	free(s);
}

void
eng_sampler_reset(struct eng_sampler *s)
{
	s->n_last = 0;
	s->head = 0;
	s->rng = s->p.seed * 0x9e3779b97f4a7c15ull + 1;
}

void
eng_sampler_accept(struct eng_sampler *s, int32_t tok)
{
	if (s->p.repeat_last_n == 0)
		return;
	s->last[s->head] = tok;
	s->head = (s->head + 1) % s->p.repeat_last_n;
	if (s->n_last < s->p.repeat_last_n)
		s->n_last++;
}

/* splitmix64: a small, well-mixed, seedable generator. */
static double
next_unit(struct eng_sampler *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return x->id - y->id;
}

int32_t
eng_sampler_sample(struct eng_sampler *s, const float *logits)
{
	const struct eng_sampler_params *p = &s->p;
	int n = s->n_vocab, i, j, keep;
	double sum, acc, r;
	float mx;

	for (i = 0; i < n; i++) {
		s->c[i].id = i;
		s->c[i].logit = logits[i];
	}
	if (p->repeat_penalty != 1.0f && p->repeat_penalty > 0)
		for (j = 0; j < s->n_last; j++) {
			struct cand *c = &s->c[s->last[j]];
			int seen = 0, q;

			/* penalize each distinct token once */
			for (q = 0; q < j; q++)
				seen |= s->last[q] == s->last[j];
			if (seen)
				continue;
			c->logit = c->logit > 0 ? c->logit / p->repeat_penalty :
			    c->logit * p->repeat_penalty;
		}
	if (p->temp <= 0) {
		int best = 0;

		for (i = 1; i < n; i++)
			if (s->c[i].logit > s->c[best].logit)
				best = i;
		return s->c[best].id;
	}
	keep = n;
	if (p->top_k > 0 && p->top_k < n) {
		/* partial selection would do; a sort keeps this simple and is
		 * dwarfed by the forward pass */
		qsort(s->c, (size_t)n, sizeof *s->c, cmp_cand);
		keep = p->top_k;
	} else
		qsort(s->c, (size_t)n, sizeof *s->c, cmp_cand);
	mx = s->c[0].logit;
	sum = 0;
	for (i = 0; i < keep; i++) {
		s->c[i].p = expf((s->c[i].logit - mx) / p->temp);
		sum += s->c[i].p;
	}
	for (i = 0; i < keep; i++)
		s->c[i].p = (float)(s->c[i].p / sum);
	if (p->top_p < 1.0f && p->top_p > 0) {
		acc = 0;
		for (i = 0; i < keep; i++) {
			acc += s->c[i].p;
			if (acc >= p->top_p) {
				keep = i + 1;
				break;
			}
		}
	}
	if (p->min_p > 0) {
		float lim = s->c[0].p * p->min_p;

		for (i = 1; i < keep; i++)
			if (s->c[i].p < lim) {
				keep = i;
				break;
			}
	}
	sum = 0;
	for (i = 0; i < keep; i++)
		sum += s->c[i].p;
	r = next_unit(s) * sum;
	acc = 0;
	for (i = 0; i < keep; i++) {
		acc += s->c[i].p;
		if (r < acc)
			return s->c[i].id;
	}
	return s->c[keep - 1].id;
}
