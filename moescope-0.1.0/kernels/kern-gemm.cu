/*
 * kern-gemm.cu - large-batch products through cuBLAS: the activations
 * and, tile by tile of rows, the weights are converted to F16 in the
 * workspace, then cublasGemmEx multiplies them with F32 accumulation and
 * F32 output. Used by kern_matmul() from KERN_GEMM_MIN tokens on, where
 * tensor cores beat the per-row kernels; the F16 rounding of weights and
 * activations makes it close to, not equal to, the CPU products.
 *
 * Row-major W [rows][n] is column-major n x rows, X [ntok][n] column-major
 * n x ntok, Y [ntok][ys] column-major rows x ntok (ld ys): Y = W^T X.
 */
#include <cuda_fp16.h>

#include "kern-int.h"
#include "kern-qtypes.h"

__global__ void
kg_x16(const float *x, size_t xs, int64_t n, int ntok, __half *h)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t t = i / n, j = i % n;

	if (t < ntok)
		h[i] = __float2half_rn(x[(size_t)t * xs + j]);
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
	const float one = 1.0f, zero = 0.0f;
	int rc;

	if (h == NULL)
		return err_set(e, ERR_CUDA, "CUDA not initialized");
	if (ntok <= 0 || rows <= 0)
		return 0;
	if (n > 0x7fffffff || ys > 0x7fffffff)
		return err_set(e, ERR_RANGE, "CUDA gemm: sizes too large");
	if (ws_bytes < xb + (size_t)n * 2 * 16)
		return err_set(e, ERR_RANGE, "CUDA gemm: workspace of %zu "
		    "bytes is too small", ws_bytes);
	tile = (int64_t)((ws_bytes - xb) / ((size_t)n * 2));
	tile = tile > rows ? rows : tile & ~(int64_t)15;
	wh = (__half *)((uint8_t *)dws + xb);
	kg_x16<<<kblocks(n * ntok, 256), 256, 0, kstream(s)>>>(dx, xs, n,
	    ntok, xh);
	KLAUNCHED(e);
	KBLAS(e, cublasSetStream(h, kstream(s)));
	for (r0 = 0; r0 < rows; r0 += tile) {
		int64_t nr = rows - r0 < tile ? rows - r0 : tile;

		rc = kern_dequant_f16(type, n, nr, (const uint8_t *)dw +
		    (size_t)r0 * w_stride, w_stride, wh, s, e);
		if (rc != 0)
			return rc;
		KBLAS(e, cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)nr,
		    ntok, (int)n, &one, wh, CUDA_R_16F, (int)n, xh,
		    CUDA_R_16F, (int)n, &zero, dy + r0, CUDA_R_32F, (int)ys,
		    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	}
	return 0;
}
