/*
 * cmd-cachesim.c - `moescope cachesim TRACE.jsonl [--policy P|all]
 * [--budget N|N%] [--json] [--per-layer]`: replay a routing trace from
 * `moescope route` through per-layer expert caches and report hit rates
 * per policy, with Belady's optimal policy as the ceiling. --budget is
 * the slots per layer (N) or a share of the layer's experts (N%);
 * several comma-separated budgets give a table.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cache/cache.h"

struct trace {
	int			 n_layer, n_expert;
	struct cache_access	**acc;		/* [layer][] */
	size_t			*n, *cap;
	uint64_t		 tokens;
};

static void
trace_free(struct trace *t)
{
	int l;

	for (l = 0; l < t->n_layer; l++)
		free(t->acc[l]);
	free(t->acc);
	free(t->n);
	free(t->cap);
}

static int
push(struct trace *t, int l, int expert, float w, struct err *e)
{
	if (t->n[l] == t->cap[l]) {
		size_t cap = t->cap[l] ? t->cap[l] * 2 : 1024;
		struct cache_access *a = realloc(t->acc[l], cap *
		    sizeof *a);

		if (a == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		t->acc[l] = a;
		t->cap[l] = cap;
	}
	t->acc[l][t->n[l]++] = (struct cache_access){ expert, w, t->tokens };
	return 0;
}

static int
load_trace(const char *path, struct trace *t, struct err *e)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;

	memset(t, 0, sizeof *t);
	if (fp == NULL)
		return err_set(e, ERR_NOTFOUND, "%s: cannot open", path);
	while (rc == 0 && getline(&line, &cap, fp) > 0) {
		json_error_t je;
		json_t *o, *layers, *L;
		size_t li, k;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		o = json_loads(line, 0, &je);
		layers = o ? json_object_get(o, "layers") : NULL;
		if (o == NULL || !json_is_array(layers) ||
		    !json_is_integer(json_object_get(o, "n_expert"))) {
			rc = err_set(e, ERR_FORMAT, "%s:%ld: not a routing "
			    "record (%s)", path, lineno, o ? "missing layers "
			    "or n_expert" : je.text);
			json_decref(o);
			break;
		}
		if (t->acc == NULL) {
			t->n_layer = (int)json_array_size(layers);
			t->n_expert = (int)json_integer_value(
			    json_object_get(o, "n_expert"));
			if (t->n_layer < 1 || t->n_layer > 4096 ||
			    t->n_expert < 1 || t->n_expert > 65536) {
				rc = err_set(e, ERR_FORMAT, "%s:%ld: %d layers, "
				    "%d experts", path, lineno, t->n_layer,
				    t->n_expert);
				json_decref(o);
				break;
			}
			t->acc = calloc((size_t)t->n_layer, sizeof *t->acc);
			t->n = calloc((size_t)t->n_layer, sizeof *t->n);
			t->cap = calloc((size_t)t->n_layer, sizeof *t->cap);
			if (t->acc == NULL || t->n == NULL || t->cap == NULL) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				json_decref(o);
				break;
			}
		} else if ((int)json_array_size(layers) != t->n_layer) {
			rc = err_set(e, ERR_FORMAT, "%s:%ld: %zu layers, the "
			    "trace began with %d", path, lineno,
			    json_array_size(layers), t->n_layer);
			json_decref(o);
			break;
		}
		json_array_foreach(layers, li, L) {
			json_t *ex = json_object_get(L, "experts");
			json_t *wt = json_object_get(L, "weights");

			for (k = 0; rc == 0 && k < json_array_size(ex); k++) {
				json_int_t x = json_integer_value(
				    json_array_get(ex, k));

				if (!json_is_integer(json_array_get(ex, k)) ||
				    x < 0 || x >= t->n_expert) {
					rc = err_set(e, ERR_FORMAT, "%s:%ld: "
					    "layer %zu: bad expert id", path,
					    lineno, li);
					break;
				}
				rc = push(t, (int)li, (int)x, (float)
				    json_number_value(json_array_get(wt, k)), e);
			}
		}
		t->tokens++;
		json_decref(o);
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	if (rc == 0 && t->tokens == 0)
		rc = err_set(e, ERR_FORMAT, "%s: no routing records", path);
	return rc;
}

/*
 * Routing statistics of a trace, the figures make-model --skew is
 * calibrated on: per layer, the busiest expert's share of selections,
 * the normalized entropy of the load (1 = uniform), and how many of a
 * token's experts the previous token also used.
 */
static void
print_stats(const struct trace *t)
{
	uint64_t *cnt = calloc((size_t)t->n_expert, sizeof *cnt);
	uint8_t *prev = calloc((size_t)t->n_expert, 1);
	double top_sum = 0, ent_sum = 0, reuse_sum = 0;
	size_t i, j;
	int l, x;

	if (cnt == NULL || prev == NULL) {
		free(cnt);
		free(prev);
		return;
	}
	printf("%-6s %8s %8s %8s\n", "layer", "top%", "entropy", "reuse%");
	for (l = 0; l < t->n_layer; l++) {
		uint64_t tot = t->n[l], top = 0, reused = 0, seen = 0;
		uint64_t cur_tok = UINT64_MAX;
		double ent = 0;

		if (tot == 0)
			continue;
		memset(cnt, 0, (size_t)t->n_expert * sizeof *cnt);
		memset(prev, 0, (size_t)t->n_expert);
		for (i = 0; i < t->n[l]; i = j) {
			/* one token's experts: a[i..j) */
			uint64_t tk = t->acc[l][i].token;

			for (j = i; j < t->n[l] && t->acc[l][j].token == tk;
			    j++) {
				cnt[t->acc[l][j].expert]++;
				if (cur_tok != UINT64_MAX && tk == cur_tok + 1) {
					reused += prev[t->acc[l][j].expert];
					seen++;
				}
			}
			memset(prev, 0, (size_t)t->n_expert);
			for (j = i; j < t->n[l] && t->acc[l][j].token == tk;
			    j++)
				prev[t->acc[l][j].expert] = 1;
			cur_tok = tk;
		}
		for (x = 0; x < t->n_expert; x++) {
			double p = (double)cnt[x] / (double)tot;

			if (cnt[x] > top)
				top = cnt[x];
			if (p > 0)
				ent -= p * log(p);
		}
		ent /= log((double)t->n_expert);
		printf("%-6d %7.1f%% %8.3f %7.1f%%\n", l, 100.0 * (double)top /
		    (double)tot, ent, seen ? 100.0 * (double)reused /
		    (double)seen : 0);
		top_sum += (double)top / (double)tot;
		ent_sum += ent;
		reuse_sum += seen ? (double)reused / (double)seen : 0;
	}
	printf("%-6s %7.1f%% %8.3f %7.1f%%   (uniform: %.1f%%, 1.000, "
	    "%.1f%%)\n", "mean", 100 * top_sum / t->n_layer,
	    ent_sum / t->n_layer, 100 * reuse_sum / t->n_layer,
	    100.0 / t->n_expert, 100.0 * (double)t->n[0] /
	    (double)t->tokens / t->n_expert);
	free(cnt);
	free(prev);
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope cachesim TRACE.jsonl [--policy "
	    "lru|lfu|gate|belady|all]\n"
	    "                 [--budget N|N%%[,...]] [--per-layer] "
	    "[--json] [--stats]\n\n"
	    "Replays a routing trace (from moescope route) through per-layer "
	    "expert\ncaches of N slots (or N%% of each layer's experts) and "
	    "prints hit rates.\nBelady's optimal policy is the ceiling. "
	    "Default: all policies, 25%%.\n"
	    "--stats prints the trace's routing statistics instead: per "
	    "layer the busiest\nexpert's share, the load's normalized "
	    "entropy, and the share of a token's\nexperts the previous "
	    "token also used.\n");
}

int
cmd_cachesim_main(int argc, char **argv)
{
	const char *path = NULL, *policy = "all", *budgets = "25%";
	struct trace t;
	struct err e = { 0 };
	char *list, *tok, *save = NULL;
	int i, json = 0, per_layer = 0, p0, p1, p, l, first = 1, stats = 0;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			policy = argv[++i];
		else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
			budgets = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--per-layer") == 0)
			per_layer = 1;
		else if (strcmp(argv[i], "--stats") == 0)
			stats = 1;
		else if (path == NULL && (argv[i][0] != '-' ||
		    strcmp(argv[i], "-") == 0))
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(policy, "all") == 0) {
		p0 = 0;
		p1 = CACHE_SIM_BELADY;
	} else if (strcmp(policy, "belady") == 0)
		p0 = p1 = CACHE_SIM_BELADY;
	else if ((p0 = p1 = cache_policy_parse(policy)) < 0) {
		fprintf(stderr, "moescope cachesim: unknown policy '%s'\n",
		    policy);
		return 2;
	}
	if (load_trace(path, &t, &e) != 0)
		return cmd_fail(&e);
	if (stats) {
		print_stats(&t);
		trace_free(&t);
		return 0;
	}
	if ((list = strdup(budgets)) == NULL)
		return 1;
	if (json)
		printf("{\"trace\":\"%s\",\"tokens\":%llu,\"layers\":%d,"
		    "\"experts\":%d,\"results\":[", path,
		    (unsigned long long)t.tokens, t.n_layer, t.n_expert);
	else
		printf("trace %s: %llu tokens, %d layers, %d experts\n\n"
		    "%-8s %-7s %8s%s\n", path, (unsigned long long)t.tokens,
		    t.n_layer, t.n_expert, "budget", "policy", "hit%",
		    per_layer ? "  per layer" : "");
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		long cap;
		size_t len = strlen(tok);

		if (len > 1 && tok[len - 1] == '%') {
			tok[len - 1] = '\0';
			if (util_parse_long(tok, 1, 100, &cap) != 0)
				goto bad_budget;
			cap = (cap * t.n_expert + 99) / 100;
			tok[len - 1] = '%';
		} else if (util_parse_long(tok, 1, 1 << 20, &cap) != 0)
			goto bad_budget;
		for (p = p0; p <= p1; p++) {
			uint64_t hits = 0, tot = 0, h;

			if (json)
				printf("%s{\"budget\":\"%s\",\"slots\":%ld,"
				    "\"policy\":\"%s\",\"per_layer\":[",
				    first ? "" : ",", tok, cap,
				    p == CACHE_SIM_BELADY ? "belady" :
				    cache_policy_name(p));
			else
				printf("%-8s %-7s", tok, p == CACHE_SIM_BELADY ?
				    "belady" : cache_policy_name(p));
			first = 0;
			for (l = 0; l < t.n_layer; l++) {
				if (cache_sim(t.acc[l], t.n[l], t.n_expert,
				    (int)cap, p, 0.9, &h, &e) != 0) {
					free(list);
					trace_free(&t);
					return cmd_fail(&e);
				}
				hits += h;
				tot += t.n[l];
				if (json)
					printf("%s%.4f", l ? "," : "", t.n[l] ?
					    (double)h / (double)t.n[l] : 1.0);
				else if (per_layer)
					printf(" %5.1f", t.n[l] ? 100.0 *
					    (double)h / (double)t.n[l] : 100.0);
			}
			if (json)
				printf("],\"hit_rate\":%.4f}", tot ?
				    (double)hits / (double)tot : 1.0);
			else
				printf("%s %7.1f%%\n", per_layer ? "  =" : "",
				    tot ? 100.0 * (double)hits / (double)tot :
				    100.0);
		}
	}
	if (json)
		printf("]}\n");
	free(list);
	trace_free(&t);
	return 0;
bad_budget:
	fprintf(stderr, "moescope cachesim: bad budget '%s' (slots per "
	    "layer, or N%%)\n", tok);
	free(list);
	trace_free(&t);
	return 2;
}
