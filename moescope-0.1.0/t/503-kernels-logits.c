/*
 * 503-kernels-logits.c - the fixture models on --device cuda against
 * llama.cpp's reference logits (every architecture, F32 / Q8_0 / Q4_K_M,
 * gpt-oss also MXFP4), within 601's tolerances, with argmax agreeing at
 * every position, in three placements:
 *
 *   resident   every expert in a GPU slot (--gpu-budget 100%)
 *   cpu        one GPU slot per layer, misses computed on the CPU
 *              (MOESCOPE_CUDA_MISS=cpu), the slots filled only by the
 *              gate prefetch (--prefetch gate)
 *   tiered     one GPU slot per layer fed from a one-slot RAM cache,
 *              misses always copied (MOESCOPE_CUDA_MISS=copy), so both
 *              LRUs evict all the time
 *
 * Prints "1..0 # SKIP no CUDA device" where there is none (or no
 * fixtures).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine.h"
#include "util/util.h"
#ifdef HAVE_CUDA
#include "kern.h"
#endif

static const char *archs[] = {
	"mixtral", "qwen2moe", "qwen3moe", "olmoe", "deepseek2", "gpt-oss"
};
static const char *variants[] = { "f32", "q8_0", "q4_k_m", "mxfp4_moe" };

static int
argmax(const float *x, int n)
{
	int i, b = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

static void
one(const char *fx, const char *arch, const char *var)
{
	static const char *names[] = { "resident", "cpu", "tiered" };
	const char *dir = tap_path("%s/models/%s", fx, arch);
	struct eng_model *m = NULL;
	struct err e = { 0 };
	json_t *tj;
	json_error_t je;
	int32_t *ids = NULL;
	float *lg = NULL, *ref;
	char *buf = NULL;
	size_t len, i;
	int n = 0, nv, k, p, f32 = strcmp(var, "f32") == 0;
	float tol = f32 ? 1e-3f : 0.05f;
	double mtol = f32 ? 1e-4 : 5e-3;
	uint64_t eb;

	if (!ok(eng_model_open(&m, tap_path("%s/%s-%s.gguf", dir, arch, var),
	    &e) == 0, "%s-%s: load", arch, var)) {
		diag("%s", e.msg);
		return;
	}
	tj = json_load_file(tap_path("%s/reference/tokens.json", dir), 0, &je);
	if (tj != NULL) {
		json_t *a = json_object_get(tj, "ids");

		n = (int)json_array_size(a);
		ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
		for (i = 0; ids != NULL && i < (size_t)n; i++)
			ids[i] = (int32_t)json_integer_value(
			    json_array_get(a, i));
		json_decref(tj);
	}
	nv = eng_model_hparams(m)->n_vocab;
	if (ids == NULL || n == 0 || util_read_file(tap_path(
	    "%s/reference/logits-%s.bin", dir, var), &buf, &len, &e) != 0 ||
	    len != (size_t)n * nv * sizeof(float)) {
		ok(0, "%s-%s: reference data readable", arch, var);
		goto out;
	}
	ref = (float *)buf;
	lg = malloc((size_t)n * nv * sizeof *lg);
	eb = eng_model_expert_bytes(m);
	for (k = 0; k < 3 && lg != NULL; k++) {
		struct eng_params ep = { 0 };
		struct eng_ctx *c = NULL;
		float maxd = 0;
		double sumd = 0;
		int argok = 0;

		ep.n_ctx = 64;
		ep.n_threads = 2;
		ep.device = ENG_DEVICE_CUDA;
		ep.prefetch = k == 1 ? ENG_PREFETCH_GATE : ENG_PREFETCH_NONE;
		ep.gpu_budget = k == 0 ? eb : eb / eng_model_hparams(m)->
		    n_expert;
		if (k == 2)
			ep.ram_budget = eb / eng_model_hparams(m)->n_expert;
		setenv("MOESCOPE_CUDA_MISS", k == 1 ? "cpu" : k == 2 ? "copy" :
		    "auto", 1);
		if (eng_ctx_new(&c, m, &ep, &e) != 0 ||
		    eng_eval(c, ids, n, 1, lg, NULL, &e) != 0) {
			ok(0, "%s-%s %s: evaluate: %s", arch, var, names[k],
			    e.msg);
			eng_ctx_free(c);
			continue;
		}
		for (i = 0; i < (size_t)n * nv; i++) {
			float dd = fabsf(lg[i] - ref[i]);

			if (!(dd <= maxd))
				maxd = dd == dd ? dd : INFINITY;
			sumd += dd;
		}
		for (p = 0; p < n; p++)
			argok += argmax(lg + (size_t)p * nv, nv) ==
			    argmax(ref + (size_t)p * nv, nv);
		ok(maxd <= tol && sumd / ((double)n * nv) <= mtol &&
		    argok == n, "%s-%s %s: logits within %g (max %.3g, mean "
		    "%.3g), argmax %d/%d", arch, var, names[k], tol, maxd,
		    sumd / ((double)n * nv), argok, n);
		eng_ctx_free(c);
	}
out:
	free(lg);
	free(buf);
	free(ids);
	eng_model_free(m);
}

int
main(void)
{
	const char *fx = tap_fixtures();
	size_t a, v;

#ifndef HAVE_CUDA
	tap_skip_all("no CUDA device (built without the CUDA backend)");
#else
	if (!kern_have_device())
		tap_skip_all("no CUDA device");
#endif
	if (fx == NULL)
		tap_skip_all("no fixtures ($FIXTURES)");
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++)
		for (v = 0; v < sizeof variants / sizeof variants[0]; v++)
			if (v < 3 || strcmp(archs[a], "gpt-oss") == 0)
				one(fx, archs[a], variants[v]);
	return tap_done();
}
