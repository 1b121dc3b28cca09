/*
 * 504-kernels-nodevice.c - the CUDA backend where there is no device
 * (CI: nvcc, no GPU): kern_init() fails cleanly with ERR_CUDA "no CUDA
 * device", memory calls fail without crashing, and a context asked for
 * --device cuda (with a GPU budget) runs on the CPU and gives logits bit
 * for bit equal to a CPU context's. Without the CUDA backend the same
 * holds for the engine part. Skips where a device is present (t/502 and
 * t/503 cover that case).
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine.h"
#include "util/util.h"
#ifdef HAVE_CUDA
#include "kern.h"
#endif

static int
eval(struct eng_model *m, int device, const int32_t *ids, int n, float *lg)
{
	struct eng_params ep = { 0 };
	struct eng_ctx *c = NULL;
	struct err e = { 0 };
	int rc;

	ep.n_ctx = 64;
	ep.n_threads = 2;
	ep.device = device;
	ep.gpu_budget = (uint64_t)1 << 30;
	rc = eng_ctx_new(&c, m, &ep, &e);
	if (rc == 0)
		rc = eng_eval(c, ids, n, 1, lg, NULL, &e);
	if (rc != 0)
		diag("%s", e.msg);
	eng_ctx_free(c);
	return rc;
}

int
main(void)
{
	const char *fx = tap_fixtures();
	static const int32_t ids[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct eng_model *m = NULL;
	struct err e = { 0 };
	float *a, *b;
	int nv;

#ifdef HAVE_CUDA
	void *d = (void *)&e;

	if (kern_have_device())
		tap_skip_all("a CUDA device is present (t/502, t/503)");
	ok(kern_init(0, &e) == ERR_CUDA && strstr(e.msg, "no CUDA device") !=
	    NULL, "kern_init: ERR_CUDA \"%s\"", e.msg);
	ok(kern_init(0, &e) == ERR_CUDA, "kern_init again: the same answer");
	ok(kern_malloc(&d, 1024, &e) != 0 && d == NULL,
	    "kern_malloc fails cleanly (\"%s\")", e.msg);
#endif
	if (fx == NULL) {
		ok(1, "no fixtures: engine part not run");
		return tap_done();
	}
	if (!ok(eng_model_open(&m, tap_path("%s/models/mixtral/"
	    "mixtral-q8_0.gguf", fx), &e) == 0, "open mixtral-q8_0")) {
		diag("%s", e.msg);
		return tap_done();
	}
	nv = eng_model_hparams(m)->n_vocab;
	a = calloc((size_t)nv * 10, sizeof *a);
	b = calloc((size_t)nv * 10, sizeof *b);
	ok(a != NULL && b != NULL && eval(m, ENG_DEVICE_CPU, ids, 10, a) == 0 &&
	    eval(m, ENG_DEVICE_CUDA, ids, 10, b) == 0,
	    "--device cuda without a device: the context runs");
	ok(a != NULL && b != NULL && memcmp(a, b, (size_t)nv * 10 *
	    sizeof *a) == 0, "its logits equal the CPU's bit for bit");
	free(a);
	free(b);
	eng_model_free(m);
	return tap_done();
}
