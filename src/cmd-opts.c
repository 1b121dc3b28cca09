/*
 * cmd-opts.c - the engine flags every generating command shares, and
 * small helpers for commands: token lists, error exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cache/cache.h"

const char cmd_opts_help[] =
    "engine options:\n"
    "  --threads N         worker threads (default: all cores)\n"
    "  --ctx N             context size in tokens (default: min(model, 4096))\n"
    "  --batch N           prompt tokens per forward pass (default 256)\n"
    "  -n, --max-tokens N  tokens to generate\n"
    "  --seed N            sampling seed\n"
    "  --temp T            temperature; 0 = greedy\n"
    "  --top-k N  --top-p P  --min-p P\n"
    "  --repeat-penalty R  --repeat-last-n N\n"
    "  --ignore-eos        generate past end-of-generation tokens (to -n)\n"
    "  --kv-type T         KV cache f32 (default: the reference's\n"
    "                      numbers) or f16 (half the memory and the\n"
    "                      bytes attention reads, as llama.cpp's default)\n"
    "expert placement:\n"
    "  --ram-budget SIZE|N%  RAM for expert weights (K/M/G suffixes, or a\n"
    "                      share of all expert bytes); the rest is read from\n"
    "                      disk on demand (default: all in place, mmap)\n"
    "  --cache-policy P    lru, lfu or gate (default lru)\n"
    "  --prefetch P        none or gate: load the next layer's likely\n"
    "                      experts early (default gate with a budget)\n"
    "  --io-threads N      concurrent expert reads (default 4)\n"
    "  --device D          cpu or cuda (default cpu; cuda falls back to the\n"
    "                      CPU when there is no device)\n"
    "  --gpu-budget SIZE|N%  GPU memory for expert weights with --device\n"
    "                      cuda (default: none, experts on the CPU)\n";

void
cmd_opts_init(struct cmd_opts *o)
{
	memset(o, 0, sizeof *o);
	eng_sampler_defaults(&o->sp);
	o->max_tokens = 128;
	o->ep.prefetch = ENG_PREFETCH_GATE;
}

static int
need_val(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "moescope: %s needs a value\n", argv[*i]);
		return -1;
	}
	(*i)++;
	return 0;
}

static int
int_val(const char *flag, const char *s, long min, long max, long *v)
{
	if (util_parse_long(s, min, max, v) != 0) {
		fprintf(stderr, "moescope: %s: '%s' is not an integer in "
		    "%ld..%ld\n", flag, s, min, max);
		return -1;
	}
	return 0;
}

static int
float_val(const char *flag, const char *s, float *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || d != d) {
		fprintf(stderr, "moescope: %s: '%s' is not a number\n", flag,
		    s);
		return -1;
	}
	*v = (float)d;
	return 0;
}

/* Which of the names a (0) and b (1) s is; -1 after printing an error. */
static int
pick2(const char *flag, const char *s, const char *a, const char *b)
{
	if (strcmp(s, a) == 0)
		return 0;
	if (strcmp(s, b) == 0)
		return 1;
	fprintf(stderr, "moescope: %s: '%s' is not %s or %s\n", flag, s, a, b);
	return -1;
}

int
cmd_opts_parse(struct cmd_opts *o, int argc, char **argv, int *i)
{
	const char *f = argv[*i];
	long v;
	int k;

#define INTFLAG(name, min, max, dst)					\
	if (strcmp(f, name) == 0) {					\
		if (need_val(argc, argv, i) != 0 ||			\
		    int_val(f, argv[*i], min, max, &v) != 0)		\
			return -1;					\
		dst = v;						\
		return 1;						\
	}
#define FLTFLAG(name, dst)						\
	if (strcmp(f, name) == 0) {					\
		if (need_val(argc, argv, i) != 0 ||			\
		    float_val(f, argv[*i], &dst) != 0)			\
			return -1;					\
		return 1;						\
	}
#define STRFLAG(name, dst)						\
	if (strcmp(f, name) == 0) {					\
		if (need_val(argc, argv, i) != 0)			\
			return -1;					\
		dst = argv[*i];						\
		return 1;						\
	}
#define PICKFLAG(name, a, va, b, vb, dst)				\
	if (strcmp(f, name) == 0) {					\
		if (need_val(argc, argv, i) != 0 ||			\
		    (k = pick2(f, argv[*i], a, b)) < 0)			\
			return -1;					\
		dst = k ? vb : va;					\
		return 1;						\
	}
	INTFLAG("--threads", 1, 1024, o->ep.n_threads)
	INTFLAG("--ctx", 1, 1 << 24, o->ep.n_ctx)
	INTFLAG("--batch", 1, 1 << 16, o->ep.n_batch)
	INTFLAG("-n", 0, 1 << 24, o->max_tokens)
	INTFLAG("--max-tokens", 0, 1 << 24, o->max_tokens)
	INTFLAG("--top-k", 0, 1 << 24, o->sp.top_k)
	INTFLAG("--repeat-last-n", 0, 1 << 16, o->sp.repeat_last_n)
	INTFLAG("--io-threads", 1, 64, o->ep.io_threads)
	if (strcmp(f, "--ignore-eos") == 0) {
		o->sp.ignore_eos = 1;
		return 1;
	}
	STRFLAG("--ram-budget", o->ram_budget)
	STRFLAG("--gpu-budget", o->gpu_budget)
	PICKFLAG("--kv-type", "f32", ENG_KV_F32, "f16", ENG_KV_F16,
	    o->ep.kv_type)
	PICKFLAG("--device", "cpu", ENG_DEVICE_CPU, "cuda", ENG_DEVICE_CUDA,
	    o->ep.device)
	if (strcmp(f, "--cache-policy") == 0) {
		if (need_val(argc, argv, i) != 0)
			return -1;
		if ((o->ep.cache_policy = cache_policy_parse(argv[*i])) < 0) {
			fprintf(stderr, "moescope: --cache-policy: '%s' is not "
			    "lru, lfu or gate\n", argv[*i]);
			return -1;
		}
		return 1;
	}
	PICKFLAG("--prefetch", "none", ENG_PREFETCH_NONE, "gate",
	    ENG_PREFETCH_GATE, o->ep.prefetch)
	FLTFLAG("--temp", o->sp.temp)
	FLTFLAG("--top-p", o->sp.top_p)
	FLTFLAG("--min-p", o->sp.min_p)
	FLTFLAG("--repeat-penalty", o->sp.repeat_penalty)
	if (strcmp(f, "--seed") == 0) {
		char *end;
		unsigned long long s;

		if (need_val(argc, argv, i) != 0)
			return -1;
		errno = 0;
		s = strtoull(argv[*i], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[*i]) {
			fprintf(stderr, "moescope: --seed: '%s' is not a "
			    "non-negative integer\n", argv[*i]);
			return -1;
		}
		o->sp.seed = s;
		return 1;
	}
#undef INTFLAG
#undef FLTFLAG
#undef STRFLAG
#undef PICKFLAG
	return 0;
}

int
cmd_opts_resolve(struct cmd_opts *o, const struct eng_model *m)
{
	uint64_t total = eng_model_expert_bytes(m), v;

	if (o->gpu_budget != NULL) {
		if (util_parse_size(o->gpu_budget, total, &v) != 0) {
			fprintf(stderr, "moescope: --gpu-budget: '%s' is not a "
			    "size (e.g. 8G, 512M) or a percentage of the "
			    "expert bytes\n", o->gpu_budget);
			return -1;
		}
		o->ep.gpu_budget = v;
	}
	if (o->ram_budget == NULL)
		return 0;
	if (util_parse_size(o->ram_budget, total, &v) != 0) {
		fprintf(stderr, "moescope: --ram-budget: '%s' is not a size "
		    "(e.g. 8G, 512M) or a percentage of the expert bytes\n",
		    o->ram_budget);
		return -1;
	}
	if (total == 0) {
		fprintf(stderr, "moescope: --ram-budget: the model has no "
		    "experts to place\n");
		return -1;
	}
	/* a budget covering everything still goes through the cache, so
	 * placement can be compared at 100% too */
	o->ep.ram_budget = v > 0 ? v : 1;
	return 0;
}

int
cmd_parse_tokens(const char *s, int32_t **out, int *n)
{
	int32_t *v;
	const char *p;
	char *end;
	int cap = 1, k = 0;
	long x;

	for (p = s; *p; p++)
		cap += *p == ',';
	v = malloc((size_t)cap * sizeof *v);
	if (v == NULL) {
		fprintf(stderr, "moescope: out of memory\n");
		return -1;
	}
	p = s;
	for (;;) {
		errno = 0;
		x = strtol(p, &end, 10);
		if (end == p || errno != 0 || x < 0 || x > INT32_MAX ||
		    (*end != ',' && *end != '\0')) {
			fprintf(stderr, "moescope: --tokens: bad token id "
			    "near '%.20s' (want ids like 1,2,3)\n", p);
			free(v);
			return -1;
		}
		v[k++] = (int32_t)x;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	*out = v;
	*n = k;
	return 0;
}

int
cmd_fail(const struct err *e)
{
	fprintf(stderr, "moescope: %s\n", e->msg[0] ? e->msg :
	    err_name(e->code));
	return 1;
}
