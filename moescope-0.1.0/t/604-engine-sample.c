/*
 * 604-engine-sample.c - the sampler: greedy is argmax (lowest id on a
 * tie), top-k 1 is greedy at any temperature, a seed reproduces a
 * sequence and another seed changes it, draw frequencies follow the
 * softmax of logits / temperature, min-p and top-p cut the tail, and the
 * repetition penalty demotes recent tokens.
 */
#include <math.h>
#include <string.h>

#include "tap.h"
#include "engine/engine.h"

#define NV 6

int
main(void)
{
	static const float lg[NV] = { 1.0f, 3.0f, 2.0f, 3.0f, -1.0f, 0.5f };
	struct eng_sampler_params p;
	struct eng_sampler *s;
	struct err e;
	int32_t a[64], b[64];
	int cnt[NV] = { 0 }, i, n = 20000, bad;
	double z = 0, pr[NV];

	eng_sampler_defaults(&p);
	p.temp = 0;
	eng_sampler_new(&s, NV, &p, &e);
	is_int(eng_sampler_sample(s, lg), 1, "greedy: argmax, lowest id of a "
	    "tie");
	eng_sampler_free(s);

	eng_sampler_defaults(&p);
	p.temp = 5.0f;
	p.top_k = 1;
	eng_sampler_new(&s, NV, &p, &e);
	bad = 0;
	for (i = 0; i < 100; i++)
		bad += eng_sampler_sample(s, lg) != 1;
	is_int(bad, 0, "top-k 1 is greedy at temperature 5");
	eng_sampler_free(s);

	eng_sampler_defaults(&p);
	p.temp = 1.0f;
	p.top_k = 0;
	p.top_p = 1.0f;
	p.min_p = 0;
	p.seed = 42;
	eng_sampler_new(&s, NV, &p, &e);
	for (i = 0; i < 64; i++)
		a[i] = eng_sampler_sample(s, lg);
	eng_sampler_reset(s);
	for (i = 0; i < 64; i++)
		b[i] = eng_sampler_sample(s, lg);
	ok(memcmp(a, b, sizeof a) == 0, "same seed, same sequence");
	eng_sampler_free(s);
	p.seed = 43;
	eng_sampler_new(&s, NV, &p, &e);
	for (i = 0; i < 64; i++)
		b[i] = eng_sampler_sample(s, lg);
	ok(memcmp(a, b, sizeof a) != 0, "another seed, another sequence");
	eng_sampler_reset(s);
	for (i = 0; i < n; i++)
		cnt[eng_sampler_sample(s, lg)]++;
	for (i = 0; i < NV; i++)
		z += exp(lg[i]);
	bad = 0;
	for (i = 0; i < NV; i++) {
		pr[i] = exp(lg[i]) / z;
		/* 5 standard deviations of a binomial count */
		if (fabs(cnt[i] - n * pr[i]) > 5 * sqrt(n * pr[i] *
		    (1 - pr[i])) + 1)
			bad++;
	}
	is_int(bad, 0, "frequencies follow the softmax (%d draws)", n);
	eng_sampler_free(s);

	/* min-p 0.3: only tokens with p >= 0.3 p_max survive: ids 1, 3, 2 */
	p.min_p = 0.3f;
	eng_sampler_new(&s, NV, &p, &e);
	bad = 0;
	for (i = 0; i < 2000; i++) {
		int t = eng_sampler_sample(s, lg);

		bad += t != 1 && t != 3 && t != 2;
	}
	is_int(bad, 0, "min-p cuts the tail");
	eng_sampler_free(s);

	/* top-p 0.5: the two tied leaders hold 0.58 > 0.5: 1 and 3 only */
	p.min_p = 0;
	p.top_p = 0.5f;
	eng_sampler_new(&s, NV, &p, &e);
	bad = 0;
	for (i = 0; i < 2000; i++) {
		int t = eng_sampler_sample(s, lg);

		bad += t != 1 && t != 3;
	}
	is_int(bad, 0, "top-p keeps the smallest set over p");
	eng_sampler_free(s);

	/* repetition penalty: recent 1 and 3 fall below 2 */
	eng_sampler_defaults(&p);
	p.temp = 0;
	p.repeat_penalty = 2.0f;
	eng_sampler_new(&s, NV, &p, &e);
	eng_sampler_accept(s, 1);
	eng_sampler_accept(s, 3);
	eng_sampler_accept(s, 3);
	is_int(eng_sampler_sample(s, lg), 2, "repetition penalty demotes "
	    "recent tokens");
	eng_sampler_free(s);
	ok(eng_sampler_new(&s, 0, &p, &e) != 0, "empty vocabulary refused");
	return tap_done();
}
