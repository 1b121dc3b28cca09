/*
 * kern-norm.cu - RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, one thread
 * block per row. The sum of squares is accumulated in double, as the CPU
 * engine's rmsnorm() does, then reduced across the block in shared
 * memory.
 */
#include "kern-int.h"

#define KN_THREADS 256

__global__ void
kn_rms(float *y, const float *x, const float *w, int n, float eps)
{
	__shared__ double part[KN_THREADS];
	const float *xr = x + (size_t)blockIdx.x * n;
	float *yr = y + (size_t)blockIdx.x * n, scale;
	double sum = 0;
	int i, o;

	for (i = threadIdx.x; i < n; i += KN_THREADS)
		sum += (double)(xr[i] * xr[i]);
	part[threadIdx.x] = sum;
	__syncthreads();
	for (o = KN_THREADS / 2; o > 0; o >>= 1) {
		if ((int)threadIdx.x < o)
			part[threadIdx.x] += part[threadIdx.x + o];
		__syncthreads();
	}
	scale = 1.0f / sqrtf((float)(part[0] / n) + eps);
	for (i = threadIdx.x; i < n; i += KN_THREADS) {
		float v = xr[i] * scale;

		yr[i] = w != NULL ? v * w[i] : v;
	}
}

extern "C" int
kern_rmsnorm(float *dy, const float *dx, const float *dw, int n, int nrows,
    float eps, kern_stream *s, struct err *e)
{
	if (n <= 0 || nrows <= 0)
		return 0;
	kn_rms<<<nrows, KN_THREADS, 0, kstream(s)>>>(dy, dx, dw, n, eps);
	KLAUNCHED(e);
	return 0;
}
