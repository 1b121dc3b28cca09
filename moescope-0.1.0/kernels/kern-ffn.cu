/*
 * kern-ffn.cu - the elementwise parts of a feed-forward block: SwiGLU
 * (silu(g) * u, or gpt-oss's clamped variant), scaled adds (residuals,
 * gate-weighted expert outputs) and per-row bias adds. The expressions
 * are the CPU engine's, so the results match it to the last bits of
 * expf.
 */
#include "kern-int.h"

__global__ void
kf_swiglu(float *g, const float *u, int64_t n, int oai)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i >= n)
		return;
	if (oai) {
		float x = fminf(g[i], 7.0f);
		float y = fminf(fmaxf(u[i], -7.0f), 7.0f);

		g[i] = x / (1.0f + expf(1.702f * -x)) * (y + 1.0f);
	} else {
		float x = g[i];

		g[i] = x / (1.0f + expf(-x)) * u[i];
	}
}

__global__ void
kf_add(float *y, const float *x, float scale, int64_t n)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		y[i] += scale == 1.0f ? x[i] : x[i] * scale;
}

__global__ void
kf_add_rows(float *y, const float *b, int64_t tot, int n)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < tot)
		y[i] += b[i % n];
}

extern "C" int
kern_swiglu(float *dg, const float *du, int64_t n, int oai, kern_stream *s,
    struct err *e)
{
	if (n <= 0)
		return 0;
	kf_swiglu<<<kblocks(n, 256), 256, 0, kstream(s)>>>(dg, du, n, oai);
	KLAUNCHED(e);
	return 0;
}

extern "C" int
kern_add(float *dy, const float *dx, float scale, int64_t n, kern_stream *s,
    struct err *e)
{
	if (n <= 0)
		return 0;
	kf_add<<<kblocks(n, 256), 256, 0, kstream(s)>>>(dy, dx, scale, n);
	KLAUNCHED(e);
	return 0;
}

extern "C" int
kern_add_rows(float *dy, const float *db, int nrows, int n, kern_stream *s,
    struct err *e)
{
	int64_t tot = (int64_t)nrows * n;

	if (tot <= 0)
		return 0;
	kf_add_rows<<<kblocks(tot, 256), 256, 0, kstream(s)>>>(dy, db, tot,
	    n);
	KLAUNCHED(e);
	return 0;
}
