/*
 * kern-route.cu - MoE routing on the device, one thread block per token,
 * as the CPU engine's route_token() without expert groups: logits (+
 * router bias) -> softmax (max, exp, double sum), sigmoid or raw ->
 * selection scores (+ selection bias) -> top-k by k rounds of a block
 * arg-max (ties to the lower expert id, as the CPU's strict > scan) ->
 * weights (softmax over the chosen for SOFTMAX_TOPK; renormalized when
 * asked, sum floored at 2^-14; scaled).
 */
#include <math.h>

#include "kern-int.h"

#define KR_THREADS	256
#define KR_MAXE		1024
#define KR_MAXK		32

__global__ void
kr_route(float *lg, int E, int K, int gating, int norm, float scale,
    const float *lb, const float *sb, int32_t *sel, float *selw)
{
	__shared__ float sc[KR_MAXE], bv[KR_THREADS];
	__shared__ int bi[KR_THREADS];
	__shared__ double dsum[KR_THREADS];
	__shared__ float wk[KR_MAXK];
	__shared__ int sk[KR_MAXK];
	__shared__ unsigned char tk[KR_MAXE];	/* taken */
	float *p = lg + (size_t)blockIdx.x * E, mx;
	int tid = threadIdx.x, e, o, r;

	for (e = tid; e < E; e += KR_THREADS)
		if (lb != NULL)
			p[e] += lb[e];
	__syncthreads();
	if (gating == KERN_GATE_SOFTMAX) {
		mx = -INFINITY;
		for (e = tid; e < E; e += KR_THREADS)
			mx = fmaxf(mx, p[e]);
		bv[tid] = mx;
		__syncthreads();
		for (o = KR_THREADS / 2; o > 0; o >>= 1) {
			if (tid < o)
				bv[tid] = fmaxf(bv[tid], bv[tid + o]);
			__syncthreads();
		}
		mx = bv[0];
		dsum[tid] = 0;
		for (e = tid; e < E; e += KR_THREADS) {
			p[e] = expf(p[e] - mx);
			dsum[tid] += p[e];
		}
		__syncthreads();
		for (o = KR_THREADS / 2; o > 0; o >>= 1) {
			if (tid < o)
				dsum[tid] += dsum[tid + o];
			__syncthreads();
		}
		for (e = tid; e < E; e += KR_THREADS)
			p[e] *= (float)(1.0 / dsum[0]);
	} else if (gating == KERN_GATE_SIGMOID) {
		for (e = tid; e < E; e += KR_THREADS)
			p[e] = 1.0f / (1.0f + expf(-p[e]));
	}
	for (e = tid; e < E; e += KR_THREADS) {
		sc[e] = p[e] + (sb != NULL ? sb[e] : 0.0f);
		tk[e] = 0;
	}
	__syncthreads();
	for (r = 0; r < K; r++) {
		float best = -INFINITY;
		int bidx = -1;

		for (e = tid; e < E; e += KR_THREADS)
			if (!tk[e] && (bidx < 0 || sc[e] > best)) {
				best = sc[e];
				bidx = e;
			}
		bv[tid] = best;
		bi[tid] = bidx;
		__syncthreads();
		for (o = KR_THREADS / 2; o > 0; o >>= 1) {
			if (tid < o) {
				int j = bi[tid + o];

				if (j >= 0 && (bi[tid] < 0 ||
				    bv[tid + o] > bv[tid] ||
				    (bv[tid + o] == bv[tid] && j < bi[tid]))) {
					bv[tid] = bv[tid + o];
					bi[tid] = j;
				}
			}
			__syncthreads();
		}
		if (tid == 0) {
			sk[r] = bi[0];
			wk[r] = p[bi[0]];
			tk[bi[0]] = 1;
		}
		__syncthreads();
	}
	if (tid == 0) {
		float sum = 0;

		if (gating == KERN_GATE_SOFTMAX_TOPK) {
			double ds = 0;
			float m = -INFINITY;

			for (r = 0; r < K; r++)
				m = fmaxf(m, wk[r]);
			for (r = 0; r < K; r++) {
				wk[r] = expf(wk[r] - m);
				ds += wk[r];
			}
			for (r = 0; r < K; r++)
				wk[r] *= (float)(1.0 / ds);
		}
		for (r = 0; r < K; r++)
			sum += wk[r];
		if (norm && sum < 6.103515625e-5f)
			sum = 6.103515625e-5f;
		for (r = 0; r < K; r++) {
			float w = norm ? wk[r] / sum : wk[r];

			sel[(size_t)blockIdx.x * K + r] = sk[r];
			selw[(size_t)blockIdx.x * K + r] = scale != 1.0f ?
			    w * scale : w;
		}
	}
}

extern "C" int
kern_route(float *dlog, int ntok, int n_expert, int k, int gating, int norm,
    float scale, const float *dlbias, const float *dsbias, int32_t *dsel,
    float *dselw, kern_stream *s, struct err *e)
{
	if (ntok <= 0)
		return 0;
	if (n_expert <= 0 || n_expert > KR_MAXE || k <= 0 || k > KR_MAXK ||
	    k > n_expert)
		return err_set(e, ERR_RANGE, "CUDA router: %d experts, top %d",
		    n_expert, k);
	kr_route<<<ntok, KR_THREADS, 0, kstream(s)>>>(dlog, n_expert, k,
	    gating, norm, scale, dlbias, dsbias, dsel, dselw);
	KLAUNCHED(e);
	return 0;
}
