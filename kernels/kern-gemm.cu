/*
 * kern-gemm.cu - large-batch products through cuBLAS: the activations
 * and, tile by tile of rows, the weights are converted to F16 in the
 * workspace, then cublasGemmEx multiplies them with F32 accumulation and
 * F32 output. Used by kern_matmul() from KERN_GEMM_MIN tokens on, where
 * tensor cores beat the per-row kernels; the F16 rounding of weights and
 * activations makes it close to, not equal to, the CPU products.
 * Activations whose magnitude passes 16384 are scaled down by a power of
 * two first (F16 ends at 65504) and alpha scales the product back.
 *
 * Row-major W [rows][n] is column-major n x rows, X [ntok][n] column-major
 * n x ntok, Y [ntok][ys] column-major rows x ntok (ld ys): Y = W^T X.
 */
#include <string.h>

#include <cuda_fp16.h>

#include "kern-int.h"
#include "kern-qtypes.h"

/* *amax = max |x| (as float bits: non-negative floats order as ints). */
__global__ void
kg_amax(const float *x, size_t xs, int64_t n, int ntok, unsigned *amax)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t t = i / n, j = i % n;

	if (t < ntok)
		atomicMax(amax, __float_as_uint(fabsf(x[(size_t)t * xs + j])));
}

__global__ void
kg_x16(const float *x, size_t xs, int64_t n, int ntok, float scale,
    __half *h)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t t = i / n, j = i % n;

	if (t < ntok)
		h[i] = __float2half_rn(x[(size_t)t * xs + j] * scale);
}

extern "C" int
kern_gemm(int type, int64_t n, int64_t rows, const void *dw,
    size_t w_stride, const float *dx, size_t xs, int ntok, float *dy,
    size_t ys, void *dws, size_t ws_bytes, kern_stream *s, struct err *e)
{
	cublasHandle_t h = kern_blas();
	size_t xb = ((size_t)ntok * (size_t)n * 2 + 255) & ~(size_t)255;
	int64_t tile, r0;
	__half *xh = (__half *)dws, *wh;
	float alpha = 1.0f, scale = 1.0f, amax;
	const float zero = 0.0f;
	unsigned bits = 0;
	int rc;

	if (h == NULL)
		return err_set(e, ERR_CUDA, "CUDA not initialized");
	if (ntok <= 0 || rows <= 0)
		return 0;
	if (n > 0x7fffffff || ys > 0x7fffffff)
		return err_set(e, ERR_RANGE, "CUDA gemm: sizes too large");
	if (ws_bytes < xb + (size_t)n * 2 * (size_t)(rows < 16 ? rows : 16))
		return err_set(e, ERR_RANGE, "CUDA gemm: workspace of %zu "
		    "bytes is too small", ws_bytes);
	tile = (int64_t)((ws_bytes - xb) / ((size_t)n * 2));
	tile = tile >= rows ? rows : tile & ~(int64_t)15;
	wh = (__half *)((uint8_t *)dws + xb);
	/* activations beyond F16's range are scaled by a power of two (exact)
	 * and the product scaled back through alpha */
	KCHECK(e, cudaMemsetAsync(wh, 0, sizeof bits, kstream(s)));
	kg_amax<<<kblocks(n * ntok, 256), 256, 0, kstream(s)>>>(dx, xs, n,
	    ntok, (unsigned *)wh);
	KLAUNCHED(e);
	KCHECK(e, cudaMemcpyAsync(&bits, wh, sizeof bits,
	    cudaMemcpyDeviceToHost, kstream(s)));
	KCHECK(e, cudaStreamSynchronize(kstream(s)));
	memcpy(&amax, &bits, sizeof amax);
	while (amax * scale > 16384.0f && scale > 0x1p-60f) {
		scale *= 0.5f;
		alpha *= 2.0f;
	}
	kg_x16<<<kblocks(n * ntok, 256), 256, 0, kstream(s)>>>(dx, xs, n,
	    ntok, scale, xh);
	KLAUNCHED(e);
	KBLAS(e, cublasSetStream(h, kstream(s)));
	for (r0 = 0; r0 < rows; r0 += tile) {
		int64_t nr = rows - r0 < tile ? rows - r0 : tile;

		rc = kern_dequant_f16(type, n, nr, (const uint8_t *)dw +
		    (size_t)r0 * w_stride, w_stride, wh, s, e);
		if (rc != 0)
			return rc;
		KBLAS(e, cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)nr,
		    ntok, (int)n, &alpha, wh, CUDA_R_16F, (int)n, xh,
		    CUDA_R_16F, (int)n, &zero, dy + r0, CUDA_R_32F, (int)ys,
		    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	}
	return 0;
}
