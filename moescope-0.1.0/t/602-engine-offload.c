/*
 * 602-engine-offload.c - the offloading invariant: for every fixture
 * model, logits of the whole prompt and of a token-by-token greedy
 * continuation are bit-identical to the all-resident run with a RAM
 * budget of one expert per layer (with and without prefetch, every
 * policy) and at half the expert bytes. Also: prefetch predictions are
 * scored, and cache counters add up.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine.h"
#include "cache/cache.h"

static const char *models[] = {
	"mixtral/mixtral-q4_k_m", "qwen2moe/qwen2moe-q8_0",
	"qwen3moe/qwen3moe-q4_k_m", "olmoe/olmoe-q8_0",
	"deepseek2/deepseek2-q4_k_m", "gpt-oss/gpt-oss-mxfp4_moe"
};

#define NGEN 8

/* Logits of the prompt, then NGEN greedy steps' logits, into out. */
static int
run(struct eng_model *m, const struct eng_params *ep, const int32_t *ids,
    int n, float *out, struct eng_cache_layer *agg, struct err *e)
{
	struct eng_ctx *c;
	int nv = eng_model_hparams(m)->n_vocab, i, j, best, rc;
	int32_t tok;

	if ((rc = eng_ctx_new(&c, m, ep, e)) != 0)
		return rc;
	if ((rc = eng_eval(c, ids, n, 1, out, NULL, e)) != 0)
		goto done;
	for (i = 0; i < NGEN; i++) {
		const float *l = i ? eng_last_logits(c) :
		    out + (size_t)(n - 1) * nv;

		for (best = 0, j = 1; j < nv; j++)
			if (l[j] > l[best])
				best = j;
		tok = best;
		if ((rc = eng_eval(c, &tok, 1, 0, NULL, NULL, e)) != 0)
			goto done;
		memcpy(out + (size_t)(n + i) * nv, eng_last_logits(c),
		    (size_t)nv * sizeof(float));
	}
	if (agg != NULL) {
		memset(agg, 0, sizeof *agg);
		for (i = 0; i < eng_model_hparams(m)->n_layer; i++) {
			struct eng_cache_layer cl;

			eng_cache_layer(c, i, &cl, NULL);
			agg->hits += cl.hits;
			agg->misses += cl.misses;
			agg->pred += cl.pred;
			agg->pred_hit += cl.pred_hit;
			agg->actual += cl.actual;
			agg->prefetch_issued += cl.prefetch_issued;
			agg->bytes_read += cl.bytes_read;
		}
	}
done:
	eng_ctx_free(c);
	return rc;
}

int
main(void)
{
	const char *fx = tap_fixtures();
	size_t mi;

	if (fx == NULL)
		tap_skip_all("no fixtures ($FIXTURES)");
	for (mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
		char arch[32];
		struct eng_model *m = NULL;
		struct eng_params ep = { 0 };
		struct eng_cache_info ci;
		struct eng_cache_layer agg;
		struct eng_ctx *c;
		struct err e = { 0 };
		json_t *tj;
		int32_t *ids;
		float *ref, *got;
		size_t sz;
		int n, i, nv, n_moe = 0, pol;
		uint64_t one;

		snprintf(arch, sizeof arch, "%.*s", (int)(strchr(models[mi],
		    '/') - models[mi]), models[mi]);
		if (!ok(eng_model_open(&m, tap_path("%s/models/%s.gguf", fx,
		    models[mi]), &e) == 0, "%s: load", models[mi])) {
			diag("%s", e.msg);
			continue;
		}
		tj = json_load_file(tap_path("%s/models/%s/reference/"
		    "tokens.json", fx, arch), 0, NULL);
		n = (int)json_array_size(json_object_get(tj, "ids"));
		ids = malloc((size_t)n * sizeof *ids);
		for (i = 0; i < n; i++)
			ids[i] = (int32_t)json_integer_value(json_array_get(
			    json_object_get(tj, "ids"), (size_t)i));
		json_decref(tj);
		nv = eng_model_hparams(m)->n_vocab;
		sz = (size_t)(n + NGEN) * nv * sizeof(float);
		ref = malloc(sz);
		got = malloc(sz);
		ep.n_ctx = 64;
		ep.n_threads = 2;
		ok(run(m, &ep, ids, n, ref, NULL, &e) == 0, "%s: resident run",
		    arch);

		/* learn the slot size, then one slot per MoE layer */
		ep.ram_budget = eng_model_expert_bytes(m) * 2;
		if (eng_ctx_new(&c, m, &ep, &e) != 0) {
			ok(0, "%s: cache context: %s", arch, e.msg);
			goto next;
		}
		eng_cache_info(c, &ci);
		for (i = 0; i < eng_model_hparams(m)->n_layer; i++) {
			struct eng_cache_layer cl;

			eng_cache_layer(c, i, &cl, NULL);
			n_moe += cl.capacity > 0;
		}
		eng_ctx_free(c);
		one = ci.slot_bytes * (uint64_t)n_moe;

		ep.ram_budget = one - 1;
		ok(eng_ctx_new(&c, m, &ep, &e) == ERR_USAGE, "%s: budget below "
		    "one expert per layer refused", arch);
		for (pol = 0; pol < CACHE_N_POLICIES; pol++) {
			int pf;

			for (pf = 0; pf <= 1; pf++) {
				ep.ram_budget = one;
				ep.cache_policy = pol;
				ep.prefetch = pf;
				memset(got, 0, sz);
				ok(run(m, &ep, ids, n, got, &agg, &e) == 0 &&
				    memcmp(ref, got, sz) == 0, "%s: 1 expert per "
				    "layer, %s, prefetch %s: bit-identical",
				    arch, cache_policy_name(pol), pf ? "gate" :
				    "none");
				if (pol == 0 && pf == 1)
					ok(agg.pred > 0 && agg.actual > 0 &&
					    agg.pred_hit <= agg.pred &&
					    agg.prefetch_issued > 0,
					    "%s: prefetch predicted %llu, "
					    "%llu right, of %llu used", arch,
					    (unsigned long long)agg.pred,
					    (unsigned long long)agg.pred_hit,
					    (unsigned long long)agg.actual);
				if (pol == 0 && pf == 0)
					ok(agg.misses > 0 && agg.bytes_read > 0,
					    "%s: %llu misses, %llu bytes read",
					    arch, (unsigned long long)
					    agg.misses, (unsigned long long)
					    agg.bytes_read);
			}
		}
		ep.ram_budget = eng_model_expert_bytes(m) / 2 > one ?
		    eng_model_expert_bytes(m) / 2 : one;
		ep.cache_policy = CACHE_GATE;
		ep.prefetch = ENG_PREFETCH_GATE;
		ok(run(m, &ep, ids, n, got, NULL, &e) == 0 &&
		    memcmp(ref, got, sz) == 0, "%s: half budget: bit-identical",
		    arch);
next:
		free(ids);
		free(ref);
		free(got);
		eng_model_free(m);
	}
	return tap_done();
}
