/*
 * tui-stats.c - sampling: the engine's routing records turned into what
 * the panels draw. No curses here; the panels only read this state.
 *
 * Per token (ROUTE event): the heatmap's current-token weights, a decayed
 * count (each token multiplies the old counts by decay_keep, then adds 1
 * per selected expert) and plain counts since the last /clear; the record
 * itself (experts, weights, the engine's next-layer predictions) is copied
 * by position for the routing inspector; the imbalance
 * series gets the mean over layers of max/mean of the decayed counts.
 * Decode rates are sampled in windows (tui_stats_tick): the tokens of a
 * window over the time between its first and last token (the engine
 * stamps each event), so a burst shorter than the window still reads at
 * its real speed; prefill rates come from each reply's statistics.
 * Balance per layer (from the counts): max/mean, coefficient of
 * variation (stddev/mean) and routing entropy normalized by
 * log(n_expert).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/tui-int.h"

void
tui_ring_push(struct tui_ring *r, float v)
{
	r->v[r->head] = v;
	r->head = (r->head + 1) % TUI_RING;
	if (r->n < TUI_RING)
		r->n++;
}

float
tui_ring_get(const struct tui_ring *r, int i)
{
	return r->v[(r->head - 1 - i + 2 * TUI_RING) % TUI_RING];
}

int
tui_stats_init(struct tui_stats *st, int n_layer, int n_expert, int k,
    int n_ctx)
{
	size_t cells;

	memset(st, 0, sizeof *st);
	if (n_layer < 1 || n_expert < 1 || n_ctx < 1)
		return ERR_USAGE;
	st->n_layer = n_layer;
	st->n_expert = n_expert;
	st->k = k;
	st->n_ctx = n_ctx;
	st->decay_keep = 0.9f;
	st->last_pos = -1;
	cells = (size_t)n_layer * (size_t)n_expert;
	st->cur = calloc(cells, sizeof *st->cur);
	st->decay = calloc(cells, sizeof *st->decay);
	st->count = calloc(cells, sizeof *st->count);
	st->maxmean = calloc((size_t)n_layer, sizeof *st->maxmean);
	st->cv = calloc((size_t)n_layer, sizeof *st->cv);
	st->entropy = calloc((size_t)n_layer, sizeof *st->entropy);
	st->recs = calloc((size_t)n_ctx, sizeof *st->recs);
	if (st->cur == NULL || st->decay == NULL || st->count == NULL ||
	    st->maxmean == NULL || st->cv == NULL || st->entropy == NULL ||
	    st->recs == NULL) {
		tui_stats_fini(st);
		return ERR_NOMEM;
	}
	return 0;
}

static void
rec_clear(struct tui_rec *r)
{
	free(r->experts);
	free(r->weights);
	free(r->predicted);
	memset(r, 0, sizeof *r);
}

void
tui_stats_fini(struct tui_stats *st)
{
	int i;

	if (st->recs != NULL)
		for (i = 0; i < st->n_ctx; i++)
			rec_clear(&st->recs[i]);
	free(st->cur);
	free(st->decay);
	free(st->count);
	free(st->maxmean);
	free(st->cv);
	free(st->entropy);
	free(st->recs);
	memset(st, 0, sizeof *st);
}

void
tui_stats_clear(struct tui_stats *st)
{
	size_t cells = (size_t)st->n_layer * (size_t)st->n_expert;
	int i;

	memset(st->cur, 0, cells * sizeof *st->cur);
	memset(st->decay, 0, cells * sizeof *st->decay);
	memset(st->count, 0, cells * sizeof *st->count);
	for (i = 0; i < st->n_ctx; i++)
		rec_clear(&st->recs[i]);
	st->n_recs = 0;
	st->n_tokens = 0;
	st->last_pos = -1;
	tui_stats_balance(st);
}

void
tui_stats_route(struct tui_stats *st, const struct eng_ev *ev)
{
	int il, s, nl, kk, ex;
	float *cur, *dec, sum, mx, keep = st->decay_keep, imb = 0;
	struct tui_rec *r;
	size_t n;
	int used = 0;

	nl = ev->n_layer < st->n_layer ? ev->n_layer : st->n_layer;
	kk = ev->k;
	memset(st->cur, 0, (size_t)st->n_layer * (size_t)st->n_expert *
	    sizeof *st->cur);
	for (il = 0; il < st->n_layer; il++) {
		dec = st->decay + (size_t)il * (size_t)st->n_expert;
		for (ex = 0; ex < st->n_expert; ex++)
			dec[ex] *= keep;
	}
	for (il = 0; il < nl; il++) {
		cur = st->cur + (size_t)il * (size_t)st->n_expert;
		dec = st->decay + (size_t)il * (size_t)st->n_expert;
		for (s = 0; s < kk; s++) {
			ex = ev->experts[il * kk + s];
			if (ex < 0 || ex >= st->n_expert)
				continue;
			cur[ex] = ev->weights[il * kk + s];
			dec[ex] += 1;
			st->count[(size_t)il * (size_t)st->n_expert +
			    (size_t)ex]++;
		}
	}
	st->n_tokens++;
	/* imbalance of the decayed load, averaged over the MoE layers */
	for (il = 0; il < st->n_layer; il++) {
		dec = st->decay + (size_t)il * (size_t)st->n_expert;
		for (ex = 0, sum = 0, mx = 0; ex < st->n_expert; ex++) {
			sum += dec[ex];
			if (dec[ex] > mx)
				mx = dec[ex];
		}
		if (sum > 0) {
			imb += mx / (sum / (float)st->n_expert);
			used++;
		}
	}
	if (used > 0)
		tui_ring_push(&st->imbalance, imb / (float)used);
	if (!ev->generated)
		st->win_prefill++;
	/* the record, for the inspector */
	if (ev->pos < 0 || ev->pos >= st->n_ctx)
		return;
	r = &st->recs[ev->pos];
	rec_clear(r);
	n = (size_t)ev->n_layer * (size_t)kk;
	r->experts = malloc((n ? n : 1) * sizeof *r->experts);
	r->weights = malloc((n ? n : 1) * sizeof *r->weights);
	if (r->experts == NULL || r->weights == NULL) {
		rec_clear(r);
		return;
	}
	memcpy(r->experts, ev->experts, n * sizeof *r->experts);
	memcpy(r->weights, ev->weights, n * sizeof *r->weights);
	if (ev->predicted != NULL) {
		if ((r->predicted = malloc((n ? n : 1) *
		    sizeof *r->predicted)) == NULL) {
			rec_clear(r);
			return;
		}
		memcpy(r->predicted, ev->predicted, n * sizeof *r->predicted);
	}
	r->token = ev->token;
	r->generated = ev->generated;
	if (ev->text != NULL)
		snprintf(r->piece, sizeof r->piece, "%.*s",
		    (int)(ev->text_len < sizeof r->piece ? ev->text_len :
		    sizeof r->piece - 1), ev->text);
	r->valid = 1;
	/* a rewound cache: records past this position are stale */
	if (ev->pos < st->last_pos)
		for (il = ev->pos + 1; il < st->n_recs; il++)
			rec_clear(&st->recs[il]);
	if (ev->pos + 1 > st->n_recs || ev->pos < st->last_pos)
		st->n_recs = ev->pos + 1;
	st->last_pos = ev->pos;
}

void
tui_stats_token(struct tui_stats *st, uint64_t t_ns)
{
	if (st->win_decode++ == 0)
		st->win_first = t_ns;
	st->win_last = t_ns;
}

void
tui_stats_reply(struct tui_stats *st, double prefill_tps, double decode_tps)
{
	if (prefill_tps > 0) {
		st->prefill_now = prefill_tps;
		tui_ring_push(&st->prefill_tps, (float)prefill_tps);
	}
	if (decode_tps > 0)
		st->tps_now = decode_tps;
}

int
tui_stats_tick(struct tui_stats *st, uint64_t now, uint64_t period_ns,
    int busy)
{
	double dt;

	if (st->win_t0 == 0) {
		st->win_t0 = now;
		return 0;
	}
	if (now - st->win_t0 < period_ns)
		return 0;
	st->rss = tui_rss_bytes();
	if (st->win_decode >= 2 && st->win_last > st->win_first) {
		/* the rate between the window's first and last token */
		dt = (double)(st->win_last - st->win_first) / 1e9;
		st->tps_now = (st->win_decode - 1) / dt;
		tui_ring_push(&st->decode_tps, (float)st->tps_now);
	} else if (busy && st->win_decode == 0)
		tui_ring_push(&st->decode_tps, 0);
	st->win_decode = 0;
	st->win_prefill = 0;
	st->win_t0 = now;
	return 1;
}

void
tui_stats_balance(struct tui_stats *st)
{
	int il, ex;
	const uint64_t *c;
	double sum, mx, mean, var, h, p;

	for (il = 0; il < st->n_layer; il++) {
		c = st->count + (size_t)il * (size_t)st->n_expert;
		for (ex = 0, sum = 0, mx = 0; ex < st->n_expert; ex++) {
			sum += (double)c[ex];
			if ((double)c[ex] > mx)
				mx = (double)c[ex];
		}
		if (sum <= 0) {
			st->maxmean[il] = st->cv[il] = st->entropy[il] = 0;
			continue;
		}
		mean = sum / st->n_expert;
		for (ex = 0, var = 0, h = 0; ex < st->n_expert; ex++) {
			var += ((double)c[ex] - mean) * ((double)c[ex] - mean);
			p = (double)c[ex] / sum;
			if (p > 0)
				h -= p * log(p);
		}
		var /= st->n_expert;
		st->maxmean[il] = (float)(mx / mean);
		st->cv[il] = (float)(sqrt(var) / mean);
		st->entropy[il] = st->n_expert > 1 ?
		    (float)(h / log((double)st->n_expert)) : 1.0f;
	}
}

void
tui_cache_take(struct tui_cache *c, struct eng_ev *ev, int n_expert)
{
	uint64_t bytes = 0;
	int il;

	for (il = 0; il < ev->n_layer; il++)
		bytes += ev->cache_layers[il].bytes_read;
	if (c->have && ev->t_ns > c->prev_t && bytes >= c->prev_bytes)
		c->bytes_per_s = (double)(bytes - c->prev_bytes) * 1e9 /
		    (double)(ev->t_ns - c->prev_t);
	c->prev_bytes = bytes;
	c->prev_t = ev->t_ns;
	free(c->layers);
	free(c->resident);
	/* the event's arrays change hands */
	c->layers = ev->cache_layers;
	c->resident = ev->resident;
	ev->cache_layers = NULL;
	ev->resident = NULL;
	c->info = ev->cache;
	c->n_layer = ev->n_layer;
	c->n_expert = n_expert;
	c->have = 1;
}

void
tui_cache_free(struct tui_cache *c)
{
	free(c->layers);
	free(c->resident);
	memset(c, 0, sizeof *c);
}

uint64_t
tui_rss_bytes(void)
{
	FILE *fp;
	unsigned long long size, res;
	long pg = sysconf(_SC_PAGESIZE);

	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(fp, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(fp);
	return (uint64_t)res * (uint64_t)(pg > 0 ? pg : 4096);
}
