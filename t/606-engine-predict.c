/*
 * 606-engine-predict.c - next-layer predictions in the routing ring
 * (eng_params.predict), for every fixture model:
 *
 *   - off by default (eng_route.predicted is NULL); on, logits and the
 *     routing itself are bit-identical to a run without it;
 *   - layer 0 and dense layers have no prediction (-1), MoE layers k
 *     distinct experts in range;
 *   - the prediction for layer L equals an independent computation: a
 *     copy of the model whose layer L-1 carries layer L's MoE block
 *     (pre-FFN norm, router, biases, experts) routes, at layer L-1,
 *     exactly layer L's router on the hidden state after layer L-1's
 *     attention, which is what the prediction must be (this white-box
 *     edit of struct eng_model is why the test includes engine-int.h);
 *   - with --prefetch gate, the aggregate counters (pred, pred_hit,
 *     actual) equal what the recorded predictions imply: per token, the
 *     prefetcher loads the first n of them (n as the disk's spare time
 *     allows) and scores those against the routing;
 *   - eng_route_pred_hits() on hand-made records.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine-int.h"

static const char *models[] = {
	"mixtral/mixtral-q4_k_m", "qwen2moe/qwen2moe-q8_0",
	"qwen3moe/qwen3moe-q4_k_m", "olmoe/olmoe-q8_0",
	"deepseek2/deepseek2-q4_k_m", "gpt-oss/gpt-oss-mxfp4_moe"
};

#define NGEN 6

/* One run's outputs: logits and routing for positions 0..npos-1. */
struct out {
	int	 npos;
	float	*logits;	/* [npos][n_vocab] */
	int16_t	*exp;		/* [npos][n_layer][k] */
	float	*w;
	int16_t	*pred;		/* NULL when the run did not predict */
	int32_t	*tok;		/* [npos] the tokens evaluated */
};

static void
out_free(struct out *o)
{
	free(o->logits);
	free(o->exp);
	free(o->w);
	free(o->pred);
	free(o->tok);
	memset(o, 0, sizeof *o);
}

/* Routing counters of every layer, for the prefetch check. */
static void
counters(struct eng_ctx *c, int nl, uint64_t *v)
{
	struct eng_cache_layer cl;
	int il;

	for (il = 0; il < nl; il++) {
		eng_cache_layer(c, il, &cl, NULL);
		v[il * 3] = cl.pred;
		v[il * 3 + 1] = cl.pred_hit;
		v[il * 3 + 2] = cl.actual;
	}
}

/*
 * The prompt (in one eval, or token by token when bytok), then NGEN
 * greedy steps (or the tokens force[n..] when force is not NULL); logits
 * of every position and the ring's records. With bytok and pf_bad, each
 * token's change of the prefetch counters is compared with its recorded
 * prediction; *pf_bad counts mismatches, *pf_n the guesses scored.
 */
static int
run(struct eng_model *m, const struct eng_params *ep, const int32_t *ids,
    int n, const int32_t *force, int bytok, struct out *o, int *pf_bad,
    int *pf_n, struct err *e)
{
	const struct eng_hparams *hp = eng_model_hparams(m);
	struct eng_ctx *c;
	struct eng_route r;
	int nv = hp->n_vocab, nl = hp->n_layer, K = hp->n_expert_used;
	int j, best, rc, p, il, s, h, ng;
	size_t rk = (size_t)nl * K;
	uint64_t *before = NULL, *after = NULL;
	int32_t tok;

	memset(o, 0, sizeof *o);
	o->npos = n + NGEN;
	o->logits = calloc((size_t)o->npos * nv, sizeof(float));
	o->exp = calloc((size_t)o->npos * rk, sizeof(int16_t));
	o->w = calloc((size_t)o->npos * rk, sizeof(float));
	o->tok = calloc((size_t)o->npos, sizeof(int32_t));
	before = calloc((size_t)nl * 3, sizeof *before);
	after = calloc((size_t)nl * 3, sizeof *after);
	if (o->logits == NULL || o->exp == NULL || o->w == NULL ||
	    o->tok == NULL || before == NULL || after == NULL) {
		free(before);
		free(after);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if ((rc = eng_ctx_new(&c, m, ep, e)) != 0) {
		free(before);
		free(after);
		return rc;
	}
	for (p = 0; p < o->npos; p++) {
		if (p == 0 && !bytok) {
			if ((rc = eng_eval(c, ids, n, 1, o->logits, NULL,
			    e)) != 0)
				goto done;
			p = n - 1;
			continue;
		}
		if (p < n)
			tok = ids[p];
		else if (force != NULL)
			tok = force[p];
		else {
			const float *l = o->logits + (size_t)(p - 1) * nv;

			for (best = 0, j = 1; j < nv; j++)
				if (l[j] > l[best])
					best = j;
			tok = best;
		}
		counters(c, nl, before);
		if ((rc = eng_eval(c, &tok, 1, 0, NULL, NULL, e)) != 0)
			goto done;
		memcpy(o->logits + (size_t)p * nv, eng_last_logits(c),
		    (size_t)nv * sizeof(float));
		if (pf_bad == NULL || eng_route_get(c, p, &r) != 0 ||
		    r.predicted == NULL)
			continue;
		/* one token, every expert fits: the prefetcher loads
		 * the first ng of each layer's prediction (in order of
		 * confidence; ng as the disk's spare time allows) and
		 * scores them against the routing */
		counters(c, nl, after);
		for (il = 1; il < nl; il++) {
			const int16_t *ex = r.experts + il * K;
			const int16_t *pr = r.predicted + il * K;
			uint64_t dp = after[il * 3] - before[il * 3];
			uint64_t dh = after[il * 3 + 1] - before[il * 3 + 1];
			uint64_t da = after[il * 3 + 2] - before[il * 3 + 2];

			if (!m->layers[il].is_moe)
				continue;
			ng = dp <= (uint64_t)K ? (int)dp : K;
			*pf_n += ng;
			for (s = 0, h = 0; s < ng; s++)
				for (j = 0; j < K; j++)
					h += pr[s] == ex[j];
			if (dp > (uint64_t)K || dh != (uint64_t)h ||
			    da != (uint64_t)K) {
				if ((*pf_bad)++ == 0)
					diag("pos %d layer %d: counters +%llu "
					    "+%llu +%llu; the first %d "
					    "predicted hold %d of the %d used",
					    p, il, (unsigned long long)dp,
					    (unsigned long long)dh,
					    (unsigned long long)da, ng, h, K);
			}
		}
	}
	for (p = 0; p < o->npos; p++) {
		if ((rc = eng_route_get(c, p, &r)) != 0) {
			err_set(e, rc, "no routing record for position %d", p);
			goto done;
		}
		memcpy(o->exp + p * rk, r.experts, rk * sizeof(int16_t));
		memcpy(o->w + p * rk, r.weights, rk * sizeof(float));
		o->tok[p] = r.token;
		if (r.predicted == NULL)
			continue;
		if (o->pred == NULL &&
		    (o->pred = calloc((size_t)o->npos * rk,
		    sizeof(int16_t))) == NULL) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			goto done;
		}
		memcpy(o->pred + p * rk, r.predicted, rk * sizeof(int16_t));
	}
	rc = 0;
done:
	free(before);
	free(after);
	eng_ctx_free(c);
	return rc;
}

/* Layer L-1 of m takes layer L's MoE block (norm, router, experts). */
static void
graft(struct eng_model *m, int L)
{
	struct eng_layer *dst = &m->layers[L - 1];
	const struct eng_layer *src = &m->layers[L];

	dst->ffn_norm = src->ffn_norm;
	dst->router = src->router;
	dst->router_b = src->router_b;
	dst->router_bias = src->router_bias;
	dst->exp_gate = src->exp_gate;
	dst->exp_up = src->exp_up;
	dst->exp_down = src->exp_down;
	dst->exp_gate_b = src->exp_gate_b;
	dst->exp_up_b = src->exp_up_b;
	dst->exp_down_b = src->exp_down_b;
	dst->sh_gate = src->sh_gate;
	dst->sh_up = src->sh_up;
	dst->sh_down = src->sh_down;
	dst->sh_gate_inp = src->sh_gate_inp;
	dst->is_moe = 1;
}

/* Predictions of layer 0 and dense layers are -1; MoE layers' are k
 * distinct experts. */
static int
pred_shape_ok(const struct eng_model *m, const struct out *o)
{
	const struct eng_hparams *hp = &m->hp;
	int K = hp->n_expert_used, p, il, s, j;

	for (p = 0; p < o->npos; p++)
		for (il = 0; il < hp->n_layer; il++) {
			const int16_t *pr = o->pred + ((size_t)p * hp->n_layer +
			    il) * K;
			int none = il == 0 || !m->layers[il].is_moe;

			for (s = 0; s < K; s++) {
				if (none ? pr[s] != -1 : pr[s] < 0 ||
				    pr[s] >= hp->n_expert)
					return 0;
				for (j = 0; !none && j < s; j++)
					if (pr[j] == pr[s])
						return 0;
			}
		}
	return 1;
}

static void
hits_unit(void)
{
	const int16_t ex[4] = { 5, 2, 7, 1 }, pr[4] = { 2, 3, 5, 0 };
	const int16_t none[4] = { -1, -1, -1, -1 };
	const int16_t dense[2] = { -1, -1 }, pd[2] = { 1, 2 };
	uint8_t hit[4];

	ok(eng_route_pred_hits(ex, pr, 4, hit) == 2 && hit[0] == 1 &&
	    hit[1] == 1 && hit[2] == 0 && hit[3] == 0,
	    "pred_hits: 2 of 4 chosen were predicted, marked in place");
	ok(eng_route_pred_hits(ex, ex, 4, hit) == 4 && hit[3] == 1,
	    "pred_hits: a perfect prediction");
	memset(hit, 9, sizeof hit);
	ok(eng_route_pred_hits(ex, none, 4, hit) == -1 && hit[0] == 0 &&
	    hit[3] == 0, "pred_hits: no prediction (layer 0) is -1");
	ok(eng_route_pred_hits(ex, NULL, 4, NULL) == -1,
	    "pred_hits: a record without predictions is -1");
	ok(eng_route_pred_hits(dense, pd, 2, NULL) == -1,
	    "pred_hits: a dense layer is -1");
}

int
main(void)
{
	const char *fx = tap_fixtures();
	size_t mi;

	hits_unit();
	if (fx == NULL) {
		diag("no fixtures ($FIXTURES): model checks skipped");
		return tap_done();
	}
	for (mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
		char arch[32];
		struct eng_model *m = NULL;
		struct eng_params ep = { 0 };
		struct out off, on, alt, pf;
		struct err e = { 0 };
		json_t *tj;
		int32_t *ids;
		int n, i, nl, K, L, p, s, bad, hits, total, ng;
		size_t rk;

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
		ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
		for (i = 0; i < n; i++)
			ids[i] = (int32_t)json_integer_value(json_array_get(
			    json_object_get(tj, "ids"), (size_t)i));
		json_decref(tj);
		nl = m->hp.n_layer;
		K = m->hp.n_expert_used;
		rk = (size_t)nl * K;
		ep.n_ctx = 64;
		ep.n_threads = 2;

		if (!ok(n > 0 && run(m, &ep, ids, n, NULL, 0, &off, NULL,
		    NULL, &e) == 0, "%s: run without predictions", arch)) {
			diag("%s", e.msg);
			goto next;
		}
		ok(off.pred == NULL, "%s: off by default: no predicted "
		    "experts in the records", arch);
		ep.predict = 1;
		if (!ok(run(m, &ep, ids, n, NULL, 0, &on, NULL, NULL, &e) ==
		    0 && on.pred != NULL, "%s: run with predictions", arch)) {
			diag("%s", e.msg);
			out_free(&off);
			goto next;
		}
		ok(memcmp(off.logits, on.logits, (size_t)off.npos *
		    m->hp.n_vocab * sizeof(float)) == 0, "%s: logits "
		    "bit-identical with predictions on", arch);
		ok(memcmp(off.exp, on.exp, off.npos * rk * sizeof(int16_t)) ==
		    0 && memcmp(off.w, on.w, off.npos * rk * sizeof(float)) ==
		    0, "%s: routing identical with predictions on", arch);
		ok(pred_shape_ok(m, &on), "%s: no prediction for layer 0 and "
		    "dense layers; k distinct experts for the others", arch);

		/* the independent computation, one layer at a time */
		for (L = 1; L < nl; L++) {
			struct eng_layer keep = m->layers[L - 1];

			if (!m->layers[L].is_moe)
				continue;
			/* same tokens (the graft changes the greedy ones)
			 * in the same evaluation chunks */
			graft(m, L);
			ep.predict = 0;
			i = run(m, &ep, ids, n, on.tok, 0, &alt, NULL, NULL,
			    &e);
			m->layers[L - 1] = keep;
			if (!ok(i == 0, "%s: run with layer %d's MoE block in "
			    "layer %d", arch, L, L - 1)) {
				diag("%s", e.msg);
				continue;
			}
			for (p = 0, bad = 0; p < on.npos; p++)
				for (s = 0; s < K; s++)
					bad += alt.exp[(p * nl + L - 1) * K +
					    s] != on.pred[(p * nl + L) * K + s];
			ok(bad == 0, "%s: layer %d's predictions (%d tokens) "
			    "equal its router on layer %d's post-attention "
			    "state", arch, L, on.npos, L - 1);
			out_free(&alt);
		}
		for (p = 0, hits = 0, total = 0; p < on.npos; p++)
			for (L = 1; L < nl; L++) {
				int h = eng_route_pred_hits(on.exp + (p * nl +
				    L) * K, on.pred + (p * nl + L) * K, K,
				    NULL);

				if (h >= 0) {
					hits += h;
					total += K;
				}
			}
		diag("%s: %d of %d chosen experts were predicted", arch, hits,
		    total);

		/* the prefetcher's own scoring, token by token, every
		 * expert fitting in the cache */
		ep.predict = 1;
		ep.ram_budget = eng_model_expert_bytes(m) * 2;
		ep.prefetch = ENG_PREFETCH_GATE;
		bad = ng = 0;
		if (ok(run(m, &ep, ids, n, NULL, 1, &pf, &bad, &ng, &e) == 0 &&
		    pf.pred != NULL, "%s: token by token with --prefetch gate",
		    arch)) {
			ok(bad == 0 && ng > 0, "%s: prefetch counters "
			    "(predicted, right, used) match the recorded "
			    "predictions (%d guesses scored)", arch, ng);
			ok(pred_shape_ok(m, &pf), "%s: ... and those "
			    "predictions are well formed", arch);
			out_free(&pf);
		} else
			diag("%s", e.msg);
		out_free(&off);
		out_free(&on);
next:
		free(ids);
		eng_model_free(m);
	}
	return tap_done();
}
