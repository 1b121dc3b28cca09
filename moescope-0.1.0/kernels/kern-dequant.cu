/*
 * kern-dequant.cu - weight rows to float (kern_dequant) or to F16 (the
 * tiles kern-gemm.cu hands to cuBLAS). One thread decodes one 32-element
 * sub-block with the shared qb_dq32_* functions (element by element for
 * the float types).
 */
#include <cuda_fp16.h>

#include "kern-int.h"
#include "kern-qtypes.h"

template <int T, int H>
__global__ void
kd_block(int64_t n, int64_t nrows, const uint8_t *w, size_t ws, void *y)
{
	typedef typename kq<T>::w_t W;
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t nsub = n / 32, r = i / nsub, s = i % nsub;
	const W *wr;
	float v[32];
	int j;

	if (r >= nrows)
		return;
	wr = (const W *)(w + (size_t)r * ws);
	kq<T>::dq(wr + s / kq<T>::spb, (int)(s % kq<T>::spb), v);
	if (H) {
		__half *o = (__half *)y + (size_t)r * n + 32 * s;

		for (j = 0; j < 32; j++)
			o[j] = __float2half_rn(v[j]);
	} else {
		float *o = (float *)y + (size_t)r * n + 32 * s;

		for (j = 0; j < 32; j++)
			o[j] = v[j];
	}
}

template <int H>
__global__ void
kd_float(int type, int64_t n, int64_t nrows, const uint8_t *w, size_t ws,
    void *y)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t r = i / n, j = i % n;
	const uint8_t *wr;
	float v;

	if (r >= nrows)
		return;
	wr = w + (size_t)r * ws;
	if (type == GGML_TYPE_F32)
		v = ((const float *)wr)[j];
	else if (type == GGML_TYPE_F16)
		v = qb_h2f(((const uint16_t *)wr)[j]);
	else
		v = qb_bf2f(((const uint16_t *)wr)[j]);
	if (H)
		((__half *)y)[i] = __float2half_rn(v);
	else
		((float *)y)[i] = v;
}

template <int H>
static int
kd_run(int type, int64_t n, int64_t nrows, const void *dw, size_t ws,
    void *dy, kern_stream *s, struct err *e)
{
	cudaStream_t st = kstream(s);
	int blck = kq_blck(type);

	if (blck == 0)
		return err_set(e, ERR_UNSUPPORTED, "CUDA: no kernel for "
		    "weight type %d", type);
	if (n <= 0 || nrows <= 0)
		return 0;
	if (blck == 1) {
		kd_float<H><<<kblocks(n * nrows, 256), 256, 0, st>>>(type, n,
		    nrows, (const uint8_t *)dw, ws, dy);
	} else {
		int64_t tot = n / 32 * nrows;

		if (n % blck != 0)
			return err_set(e, ERR_RANGE, "CUDA dequant: %lld "
			    "columns are not whole blocks", (long long)n);
		KERN_TYPE_SWITCH(type, (kd_block<KT, H><<<kblocks(tot, 128),
		    128, 0, st>>>(n, nrows, (const uint8_t *)dw, ws, dy)),
		    (void)0);
	}
	KLAUNCHED(e);
	return 0;
}

extern "C" int
kern_dequant(int type, int64_t n, int64_t nrows, const void *dw,
    size_t w_stride, float *dy, kern_stream *s, struct err *e)
{
	return kd_run<0>(type, n, nrows, dw, w_stride, dy, s, e);
}

int
kern_dequant_f16(int type, int64_t n, int64_t nrows, const void *dw,
    size_t w_stride, void *dy, kern_stream *s, struct err *e)
{
	return kd_run<1>(type, n, nrows, dw, w_stride, dy, s, e);
}
