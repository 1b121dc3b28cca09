/*
 * kern-matmul.cu - weight x activation products for every weight type:
 * y[t][r] = dot(W row r, x[t]).
 *
 * Step 1 quantizes the float activations to the weight type's vec-dot
 * type on the device, one thread per activation block, with the CPU's
 * rounding (qb_act_q8_0 / _q8_1 / _q8_k of quant-block.h; F16 / BF16
 * rounded to nearest even). Step 2 gives each weight row to one warp: the
 * lanes walk the row's 32-element sub-blocks and add each sub-block's
 * block dot (the shared qb_dot* functions) for up to KM_TOK tokens at a
 * time, so a weight block is read once per token tile; a warp sum ends
 * the row. Decode (one token) is the matrix-vector case; a prefill batch
 * is a grid of row groups x token tiles. Large batches go to cuBLAS
 * (kern-gemm.cu) when the caller gave enough workspace.
 */
#include "kern-int.h"
#include "kern-qtypes.h"

#define KM_TOK		8	/* tokens per pass over a row */
#define KM_WARPS	4	/* rows per thread block */

/* ---- activations ---- */

__global__ void
km_act_q8(int xt, const float *x, size_t xs, int64_t n, int ntok,
    uint8_t *q, size_t qs)
{
	int64_t nbr = n / (xt == GGML_TYPE_Q8_K ? QK_K : 32);
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t t = i / nbr, b = i % nbr;

	if (t >= ntok)
		return;
	x += (size_t)t * xs;
	q += (size_t)t * qs;
	if (xt == GGML_TYPE_Q8_0)
		qb_act_q8_0(x + 32 * b, (block_q8_0 *)q + b);
	else if (xt == GGML_TYPE_Q8_1)
		qb_act_q8_1(x + 32 * b, (block_q8_1 *)q + b);
	else
		qb_act_q8_k(x + QK_K * b, (block_q8_K *)q + b);
}

__global__ void
km_act_16(int xt, const float *x, size_t xs, int64_t n, int ntok,
    uint16_t *q)
{
	int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t t = i / n, j = i % n;

	if (t >= ntok)
		return;
	q[i] = xt == GGML_TYPE_F16 ? qb_f2h(x[(size_t)t * xs + j]) :
	    qb_f2bf(x[(size_t)t * xs + j]);
}

/* ---- products ---- */

template <int T>
__global__ void
km_block(int64_t n, int64_t rows, const uint8_t *w, size_t ws,
    const uint8_t *xq, size_t xqs, int ntok, float *y, size_t ys)
{
	typedef typename kq<T>::w_t W;
	typedef typename kq<T>::x_t X;
	int lane = threadIdx.x & 31, nt, t;
	int64_t r = (int64_t)blockIdx.x * KM_WARPS + (threadIdx.x >> 5);
	int64_t t0 = (int64_t)blockIdx.y * KM_TOK, s;
	int64_t nsub = n / 32;
	const W *wr;
	float acc[KM_TOK];

	if (r >= rows)
		return;
	nt = ntok - (int)t0 < KM_TOK ? ntok - (int)t0 : KM_TOK;
	wr = (const W *)(w + (size_t)r * ws);
	for (t = 0; t < KM_TOK; t++)
		acc[t] = 0;
	for (s = lane; s < nsub; s += 32) {
		int64_t b = s / kq<T>::spb;
		int sub = (int)(s % kq<T>::spb);

#pragma unroll
		for (t = 0; t < KM_TOK; t++)
			if (t < nt)
				acc[t] += kq<T>::dot(wr + b, (const X *)(xq +
				    (size_t)(t0 + t) * xqs) + b, sub);
	}
#pragma unroll
	for (t = 0; t < KM_TOK; t++) {
		float v = kwarp_sum(acc[t]);

		if (lane == 0 && t < nt)
			y[(size_t)(t0 + t) * ys + r] = v;
	}
}

/* F32 / F16 / BF16 weights with activations of the same type. */
template <int T>
__global__ void
km_float(int64_t n, int64_t rows, const uint8_t *w, size_t ws,
    const uint8_t *xq, size_t xqs, int ntok, float *y, size_t ys)
{
	int lane = threadIdx.x & 31, nt, t;
	int64_t r = (int64_t)blockIdx.x * KM_WARPS + (threadIdx.x >> 5);
	int64_t t0 = (int64_t)blockIdx.y * KM_TOK, i;
	float acc[KM_TOK];

	if (r >= rows)
		return;
	nt = ntok - (int)t0 < KM_TOK ? ntok - (int)t0 : KM_TOK;
	for (t = 0; t < KM_TOK; t++)
		acc[t] = 0;
	for (i = lane; i < n; i += 32) {
		const uint8_t *wr = w + (size_t)r * ws;
		float wv;

		if (T == GGML_TYPE_F32)
			wv = ((const float *)wr)[i];
		else if (T == GGML_TYPE_F16)
			wv = qb_h2f(((const uint16_t *)wr)[i]);
		else
			wv = qb_bf2f(((const uint16_t *)wr)[i]);
#pragma unroll
		for (t = 0; t < KM_TOK; t++) {
			const uint8_t *xr = xq + (size_t)(t0 + t) * xqs;
			float xv;

			if (t >= nt)
				continue;
			if (T == GGML_TYPE_F32)
				xv = ((const float *)xr)[i];
			else if (T == GGML_TYPE_F16)
				xv = qb_h2f(((const uint16_t *)xr)[i]);
			else
				xv = qb_bf2f(((const uint16_t *)xr)[i]);
			acc[t] += wv * xv;
		}
	}
#pragma unroll
	for (t = 0; t < KM_TOK; t++) {
		float v = kwarp_sum(acc[t]);

		if (lane == 0 && t < nt)
			y[(size_t)(t0 + t) * ys + r] = v;
	}
}

extern "C" int
kern_type_supported(int type)
{
	return kq_blck(type) != 0;
}

extern "C" size_t
kern_matmul_ws(int type, int64_t n, int64_t rows, int ntok, int gemm)
{
	size_t q = kq_xrow(kq_xtype(type), n) * (size_t)ntok;

	if (!gemm)
		return (q + 255) & ~(size_t)255;
	if (type == GGML_TYPE_F32 || kq_blck(type) == 0)
		return 0;
	return ((size_t)ntok * (size_t)n * 2 + 255 & ~(size_t)255) +
	    (size_t)rows * (size_t)n * 2;
}

extern "C" int
kern_matmul(int type, int64_t n, int64_t rows, const void *dw,
    size_t w_stride, const float *dx, size_t xs, int ntok, float *dy,
    size_t ys, void *dws, size_t ws_bytes, kern_stream *s, struct err *e)
{
	int xt = kq_xtype(type), blck = kq_blck(type);
	size_t xqs = kq_xrow(xt, n), need = xqs * (size_t)ntok;
	cudaStream_t st = kstream(s);
	const uint8_t *xq = (const uint8_t *)dws;
	dim3 grid, block(32 * KM_WARPS);

	if (blck == 0)
		return err_set(e, ERR_UNSUPPORTED, "CUDA: no kernel for "
		    "weight type %d", type);
	if (ntok <= 0 || rows <= 0)
		return 0;
	if (n % blck != 0 || (blck > 1 && n % 32 != 0))
		return err_set(e, ERR_RANGE, "CUDA matmul: %lld columns are "
		    "not whole blocks", (long long)n);
	if (ntok >= KERN_GEMM_MIN && type != GGML_TYPE_F32 &&
	    ws_bytes >= ((size_t)ntok * (size_t)n * 2 + 255 & ~(size_t)255) +
	    (size_t)n * 2 * (size_t)(rows < 16 ? rows : 16))
		return kern_gemm(type, n, rows, dw, w_stride, dx, xs, ntok, dy,
		    ys, dws, ws_bytes, s, e);
	if (xt == GGML_TYPE_F32) {
		xq = (const uint8_t *)dx;
		xqs = xs * sizeof(float);
	} else {
		if (ws_bytes < need)
			return err_set(e, ERR_RANGE, "CUDA matmul: workspace "
			    "of %zu bytes, %zu needed", ws_bytes, need);
		if (xt == GGML_TYPE_F16 || xt == GGML_TYPE_BF16) {
			int64_t tot = n * ntok;

			km_act_16<<<kblocks(tot, 256), 256, 0, st>>>(xt, dx,
			    xs, n, ntok, (uint16_t *)dws);
		} else {
			int64_t tot = n / (xt == GGML_TYPE_Q8_K ? QK_K : 32) *
			    ntok;

			km_act_q8<<<kblocks(tot, 128), 128, 0, st>>>(xt, dx,
			    xs, n, ntok, (uint8_t *)dws, xqs);
		}
		KLAUNCHED(e);
	}
	grid = dim3(kblocks(rows, KM_WARPS), kblocks(ntok, KM_TOK));
	if (grid.y > 65535)
		return err_set(e, ERR_RANGE, "CUDA matmul: %d tokens", ntok);
	switch (type) {
	case GGML_TYPE_F32:
		km_float<GGML_TYPE_F32><<<grid, block, 0, st>>>(n, rows,
		    (const uint8_t *)dw, w_stride, xq, xqs, ntok, dy, ys);
		break;
	case GGML_TYPE_F16:
		km_float<GGML_TYPE_F16><<<grid, block, 0, st>>>(n, rows,
		    (const uint8_t *)dw, w_stride, xq, xqs, ntok, dy, ys);
		break;
	case GGML_TYPE_BF16:
		km_float<GGML_TYPE_BF16><<<grid, block, 0, st>>>(n, rows,
		    (const uint8_t *)dw, w_stride, xq, xqs, ntok, dy, ys);
		break;
	default:
		KERN_TYPE_SWITCH(type, (km_block<KT><<<grid, block, 0, st>>>(n,
		    rows, (const uint8_t *)dw, w_stride, xq, xqs, ntok, dy,
		    ys)), (void)0);
	}
	KLAUNCHED(e);
	return 0;
}
