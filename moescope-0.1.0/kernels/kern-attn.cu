/*
 * kern-attn.cu - attention over the float KV cache, flash-decoding style.
 *
 * The visible keys of each (token, head) are cut into chunks of
 * KA_CHUNK positions; one thread block per (chunk, head, token) computes
 * the chunk's scores (a warp per key, lanes over dimensions), their max
 * m, sum l of exp(s - m) and the unnormalized value sum o, and writes
 * (m, l, o) to the workspace. A second kernel combines the chunks of a
 * (token, head): M = max m_i (and the head's sink logit, which joins the
 * denominator only), out = sum o_i e^(m_i - M) / (sum l_i e^(m_i - M) +
 * e^(sink - M)). Decode (one token, long context) thus spreads over many
 * blocks; prefill is the same grid with more tokens. Causality and the
 * sliding window: token t sees [max(0, p - window + 1), p], p = pos0 + t.
 */
#include <math.h>

#include "kern-int.h"

#define KA_CHUNK	256
#define KA_THREADS	128

static inline int
ka_nsplit(const struct kern_attn *p)
{
	return (p->pos0 + p->ntok + KA_CHUNK - 1) / KA_CHUNK;
}

__global__ void
ka_chunk(const float *q, const float *k, const float *v, float *ws,
    struct kern_attn p, int nsplit)
{
	extern __shared__ float sm[];	/* q [hdk], scores [KA_CHUNK] */
	float *qs = sm, *sc = sm + p.hdk;
	__shared__ float red[KA_THREADS / 32];
	int split = blockIdx.x, h = blockIdx.y, t = blockIdx.z;
	int g = h / (p.n_head / p.n_head_kv), pos = p.pos0 + t;
	int lo = 0, j0, j1, j, i, lane = threadIdx.x & 31;
	int warp = threadIdx.x >> 5;
	float *out = ws + (((size_t)t * p.n_head + h) * nsplit + split) *
	    (p.hdv + 2);
	float mx = -INFINITY, l = 0;

	if (p.window > 0 && pos - p.window + 1 > 0)
		lo = pos - p.window + 1;
	j0 = split * KA_CHUNK;
	j1 = j0 + KA_CHUNK;
	if (j0 < lo)
		j0 = lo;
	if (j1 > pos + 1)
		j1 = pos + 1;
	if (j0 >= j1) {
		if (threadIdx.x == 0) {
			out[0] = -INFINITY;
			out[1] = 0;
		}
		for (i = threadIdx.x; i < p.hdv; i += KA_THREADS)
			out[2 + i] = 0;
		return;
	}
	for (i = threadIdx.x; i < p.hdk; i += KA_THREADS)
		qs[i] = q[((size_t)t * p.n_head + h) * p.hdk + i];
	__syncthreads();
	for (j = j0 + warp; j < j1; j += KA_THREADS / 32) {
		const float *kr = k + (size_t)j * p.ks + (size_t)g * p.hdk;
		float s = 0;

		for (i = lane; i < p.hdk; i += 32)
			s += qs[i] * kr[i];
		s = kwarp_sum(s);
		if (lane == 0)
			sc[j - j0] = s * p.scale;
	}
	__syncthreads();
	for (j = j0 + (int)threadIdx.x; j < j1; j += KA_THREADS)
		mx = fmaxf(mx, sc[j - j0]);
	mx = kwarp_max(mx);
	if (lane == 0)
		red[warp] = mx;
	__syncthreads();
	mx = red[0];
	for (i = 1; i < KA_THREADS / 32; i++)
		mx = fmaxf(mx, red[i]);
	__syncthreads();
	for (j = j0 + (int)threadIdx.x; j < j1; j += KA_THREADS) {
		float e = expf(sc[j - j0] - mx);

		sc[j - j0] = e;
		l += e;
	}
	l = kwarp_sum(l);
	if (lane == 0)
		red[warp] = l;
	__syncthreads();
	if (threadIdx.x == 0) {
		l = 0;
		for (i = 0; i < KA_THREADS / 32; i++)
			l += red[i];
		out[0] = mx;
		out[1] = l;
	}
	for (i = threadIdx.x; i < p.hdv; i += KA_THREADS) {
		float o = 0;

		for (j = j0; j < j1; j++)
			o += sc[j - j0] * v[(size_t)j * p.vs + (size_t)g *
			    p.hdv + i];
		out[2 + i] = o;
	}
}

__global__ void
ka_combine(const float *ws, float *out, struct kern_attn p, int nsplit)
{
	int h = blockIdx.x, t = blockIdx.y, i, sp;
	const float *w = ws + ((size_t)t * p.n_head + h) * nsplit *
	    (p.hdv + 2);
	float M = -INFINITY, L = 0;

	for (sp = 0; sp < nsplit; sp++)
		M = fmaxf(M, w[(size_t)sp * (p.hdv + 2)]);
	if (p.dsinks != NULL)
		M = fmaxf(M, p.dsinks[h]);
	for (sp = 0; sp < nsplit; sp++) {
		float m = w[(size_t)sp * (p.hdv + 2)];

		if (m != -INFINITY)
			L += w[(size_t)sp * (p.hdv + 2) + 1] * expf(m - M);
	}
	if (p.dsinks != NULL)
		L += expf(p.dsinks[h] - M);
	for (i = threadIdx.x; i < p.hdv; i += blockDim.x) {
		float o = 0;

		for (sp = 0; sp < nsplit; sp++) {
			const float *c = w + (size_t)sp * (p.hdv + 2);

			if (c[0] != -INFINITY)
				o += c[2 + i] * expf(c[0] - M);
		}
		out[((size_t)t * p.n_head + h) * p.hdv + i] = o / L;
	}
}

extern "C" size_t
kern_attn_ws(const struct kern_attn *p)
{
	return (size_t)p->ntok * p->n_head * ka_nsplit(p) * (p->hdv + 2) *
	    sizeof(float);
}

extern "C" int
kern_attention(const float *dq, const float *dk, const float *dv,
    float *dout, const struct kern_attn *p, void *dws, kern_stream *s,
    struct err *e)
{
	int nsplit = ka_nsplit(p);
	size_t shm = ((size_t)p->hdk + KA_CHUNK) * sizeof(float);

	if (p->ntok <= 0)
		return 0;
	if (p->n_head_kv <= 0 || p->n_head % p->n_head_kv != 0 ||
	    p->ntok > 65535 || p->n_head > 65535)
		return err_set(e, ERR_RANGE, "CUDA attention: bad shape "
		    "(%d tokens, %d/%d heads)", p->ntok, p->n_head,
		    p->n_head_kv);
	if (shm > 48 * 1024)
		return err_set(e, ERR_RANGE, "CUDA attention: head size %d "
		    "too large", p->hdk);
	ka_chunk<<<dim3(nsplit, p->n_head, p->ntok), KA_THREADS, shm,
	    kstream(s)>>>(dq, dk, dv, (float *)dws, *p, nsplit);
	KLAUNCHED(e);
	ka_combine<<<dim3(p->n_head, p->ntok), 128, 0, kstream(s)>>>(
	    (const float *)dws, dout, *p, nsplit);
	KLAUNCHED(e);
	return 0;
}
