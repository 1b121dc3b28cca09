/*
 * kern-rope.cu - rotary position embedding on head vectors, as the CPU
 * engine's rope(): pairs (2i, 2i+1) or, NeoX style, (i, i + n_rot/2),
 * angle pos * base^(-2i/n_rot) * freq_scale; with YaRN the angle blends
 * interpolated and extrapolated angles over the correction ramp and
 * cos/sin carry attn_factor. One thread per (token, head, pair); theta
 * is built by the CPU's repeated multiplication, so only cosf/sinf may
 * differ from it in the last bits.
 */
#include "kern-int.h"

__global__ void
kr_rope(float *v, int ntok, int nhead, size_t ts, size_t hs, int pos0,
    struct kern_rope p)
{
	int half = p.n_rot / 2;
	int64_t id = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int i = (int)(id % half), h = (int)(id / half % nhead);
	int t = (int)(id / half / nhead);
	float theta_scale, theta, tt, c, sn, x0, x1;
	float *hv;
	int k;

	if (t >= ntok)
		return;
	theta_scale = powf(p.base, -2.0f / (float)p.n_rot);
	theta = (float)(pos0 + t);
	for (k = 0; k < i; k++)
		theta *= theta_scale;
	tt = p.freq_scale * theta;
	if (p.ext_factor != 0.0f) {
		float y = ((float)i - p.corr[0]) /
		    fmaxf(0.001f, p.corr[1] - p.corr[0]);
		float mix = (1 - fminf(1, fmaxf(0, y))) * p.ext_factor;

		tt = tt * (1 - mix) + theta * mix;
	}
	c = cosf(tt) * p.attn_factor;
	sn = sinf(tt) * p.attn_factor;
	hv = v + (size_t)t * ts + (size_t)h * hs;
	if (p.neox) {
		x0 = hv[i];
		x1 = hv[i + half];
		hv[i] = x0 * c - x1 * sn;
		hv[i + half] = x0 * sn + x1 * c;
	} else {
		x0 = hv[2 * i];
		x1 = hv[2 * i + 1];
		hv[2 * i] = x0 * c - x1 * sn;
		hv[2 * i + 1] = x0 * sn + x1 * c;
	}
}

extern "C" int
kern_rope(float *dv, int ntok, int nhead, size_t tok_stride,
    size_t head_stride, int pos0, const struct kern_rope *p, kern_stream *s,
    struct err *e)
{
	int64_t n = (int64_t)ntok * nhead * (p->n_rot / 2);

	if (n <= 0)
		return 0;
	kr_rope<<<kblocks(n, 256), 256, 0, kstream(s)>>>(dv, ntok, nhead,
	    tok_stride, head_stride, pos0, *p);
	KLAUNCHED(e);
	return 0;
}
