/*
 * kern.h - the kernels room: the CUDA backend behind a small C API.
 *
 * One operation per .cu file (kern-<op>.cu); device memory, streams,
 * events and the pinned staging buffers in kern-mem.cu. Pointers named
 * d* are device memory, h* pinned or plain host memory. Every function
 * returns 0 or a negative ERR_* (ERR_CUDA with cudaGetErrorString's text,
 * ERR_NOMEM with "out of device memory" and the size asked for) and fills
 * e when it is not NULL; nothing aborts. Kernels are queued on the given
 * stream (NULL: the legacy default stream) and return without waiting.
 *
 * The block math is src/quant/quant-block.h, shared with the CPU tests.
 * Products follow the CPU engine: activations are quantized on the device
 * to the weight type's vec-dot type with the CPU's rounding, then each
 * weight block is dotted with its activation block in integers. Large
 * batches may instead use cuBLAS on F16 tiles (kern_matmul_ws()).
 *
 * kernels uses util and quant-common.h / quant-block.h only.
 */
#ifndef MOESCOPE_KERN_H
#define MOESCOPE_KERN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "util/util.h"

/* ---- device, memory, streams (kern-mem.cu) ---- */

struct kern_info {
	char	 name[256];
	int	 cc_major, cc_minor;
	int	 sm_count;
	size_t	 mem_total, mem_free;
};

/*
 * Select device dev and create the cuBLAS handle. ERR_CUDA "no CUDA
 * device" when there is none (or the driver is missing); safe to call
 * again (later calls return the first result).
 */
int kern_init(int dev, struct err *e);
/* Release the cuBLAS handle and the device context's resources. */
void kern_fini(void);
/* 1 when kern_init() would succeed (quiet probe), else 0. */
int kern_have_device(void);
int kern_info_get(struct kern_info *i, struct err *e);
/* Free and total bytes of device memory now (cheap). */
int kern_mem_get(size_t *free_b, size_t *total_b, struct err *e);

typedef struct kern_stream kern_stream;	/* a cudaStream_t */
typedef struct kern_event kern_event;	/* a cudaEvent_t */

int kern_malloc(void **dp, size_t n, struct err *e);
void kern_free(void *dp);
/* Page-locked host memory (the staging buffers of copies). */
int kern_host_alloc(void **hp, size_t n, struct err *e);
void kern_host_free(void *hp);
/* Asynchronous copies on s; h need not be pinned (then they are
 * synchronous with respect to the host). */
int kern_h2d(void *d, const void *h, size_t n, kern_stream *s,
    struct err *e);
int kern_d2h(void *h, const void *d, size_t n, kern_stream *s,
    struct err *e);
int kern_d2d(void *d, const void *src, size_t n, kern_stream *s,
    struct err *e);
int kern_memset(void *d, int byte, size_t n, kern_stream *s, struct err *e);

int kern_stream_new(kern_stream **s, struct err *e);
void kern_stream_free(kern_stream *s);
int kern_stream_sync(kern_stream *s, struct err *e);
int kern_event_new(kern_event **ev, struct err *e);
void kern_event_free(kern_event *ev);
int kern_event_record(kern_event *ev, kern_stream *s, struct err *e);
/* s waits (on the device) until ev has happened. */
int kern_event_wait(kern_stream *s, kern_event *ev, struct err *e);
int kern_event_sync(kern_event *ev, struct err *e);
/* 1 when the work before ev is done, 0 when not yet, < 0 on error. */
int kern_event_done(kern_event *ev, struct err *e);

/* Host -> device bandwidth in bytes/s, measured with bytes from pinned
 * memory (a few copies of up to 64 MiB). */
int kern_measure_h2d(double *bps, struct err *e);

/* ---- weight products (kern-matmul.cu, kern-gemm.cu) ---- */

/* True when the device kernels compute weights of this type. */
int kern_type_supported(int type);

/*
 * Workspace bytes kern_matmul() needs for ntok activation rows of n
 * elements; with gemm != 0, enough for the cuBLAS path over rows rows
 * (0 when the type has no cuBLAS path).
 */
size_t kern_matmul_ws(int type, int64_t n, int64_t rows, int ntok, int gemm);

/*
 * dy[t][r] = dot(dw row r, dx[t]) for r < rows, t < ntok.
 * dw: rows rows of n elements of type, w_stride bytes apart.
 * dx: float, row stride xs floats; dy: float, row stride ys floats.
 * dws: ws_bytes of workspace. The activations are quantized to the
 * type's vec-dot type as the CPU engine does, then a warp per row (and
 * up to 8 tokens per pass over the row) sums the block dots. When ntok
 * >= KERN_GEMM_MIN, the type is not F32 and the workspace holds the F16
 * activations and F16 weights of 16 rows (kern_matmul_ws(..., 1) holds
 * all rows at once), weights (tile by tile) and activations go to F16
 * and cuBLAS (cublasGemmEx, F32 accumulation) multiplies them instead.
 * n is a multiple of the type's block size.
 */
#define KERN_GEMM_MIN	64
int kern_matmul(int type, int64_t n, int64_t rows, const void *dw,
    size_t w_stride, const float *dx, size_t xs, int ntok, float *dy,
    size_t ys, void *dws, size_t ws_bytes, kern_stream *s, struct err *e);

/* The cuBLAS path alone (kern_matmul picks it); ws as above with gemm. */
int kern_gemm(int type, int64_t n, int64_t rows, const void *dw,
    size_t w_stride, const float *dx, size_t xs, int ntok, float *dy,
    size_t ys, void *dws, size_t ws_bytes, kern_stream *s, struct err *e);

/* Dequantize nrows rows of n elements (stride w_stride bytes) to float
 * (row stride n). */
int kern_dequant(int type, int64_t n, int64_t nrows, const void *dw,
    size_t w_stride, float *dy, kern_stream *s, struct err *e);

/* ---- elementwise and small ops ---- */

/* dy[r] = dx[r] / rms(dx[r]) * dw (dw may be NULL), nrows rows of n,
 * row strides n (kern-norm.cu). dy may be dx. */
int kern_rmsnorm(float *dy, const float *dx, const float *dw, int n,
    int nrows, float eps, kern_stream *s, struct err *e);

/* RoPE parameters, as the engine's hparams (kern-rope.cu). */
struct kern_rope {
	int	 n_rot;		/* rotated dims of each head */
	int	 neox;		/* pairs (i, i + n_rot/2), else (2i, 2i+1) */
	float	 base, freq_scale;
	float	 ext_factor, attn_factor;	/* YaRN (ext 0: off) */
	float	 corr[2];
};

/* Rotate ntok x nhead head vectors at dv[t * tok_stride + h * head_stride]
 * for position pos0 + t. */
int kern_rope(float *dv, int ntok, int nhead, size_t tok_stride,
    size_t head_stride, int pos0, const struct kern_rope *p, kern_stream *s,
    struct err *e);

/* Attention over a float KV cache (kern-attn.cu). */
struct kern_attn {
	int	 ntok, n_head, n_head_kv;
	int	 hdk, hdv;
	size_t	 ks, vs;	/* cache row strides (floats) */
	int	 pos0;		/* position of the first query */
	int	 window;	/* sliding window, 0: full */
	float	 scale;
	const float *dsinks;	/* [n_head] sink logits or NULL */
};

/*
 * dout[t][h][0..hdv) = softmax(q[t][h] . K[j] * scale, j visible) V for
 * queries dq [ntok][n_head][hdk]; keys dk [pos][n_head_kv * hdk] (stride
 * ks), values dv likewise; token t sees positions up to pos0 + t (and
 * from pos0 + t - window + 1 when windowed). Keys are split into chunks
 * (flash-decoding), partial results combined; dws: kern_attn_ws() bytes.
 */
size_t kern_attn_ws(const struct kern_attn *p);
int kern_attention(const float *dq, const float *dk, const float *dv,
    float *dout, const struct kern_attn *p, void *dws, kern_stream *s,
    struct err *e);

/* Router (kern-route.cu). */
enum {
	KERN_GATE_SOFTMAX = 0,		/* softmax, then top-k */
	KERN_GATE_SIGMOID = 1,		/* sigmoid, then top-k */
	KERN_GATE_SOFTMAX_TOPK = 2	/* top-k on logits, softmax over k */
};

/*
 * Per token t: dlog[t] (n_expert logits, + dlbias when not NULL) ->
 * probabilities by gating -> selection scores (+ dsbias) -> top k
 * (dsel[t][k], ties to the lower id) -> weights dselw[t][k]: the chosen
 * probabilities, renormalized when norm (sum floored at 2^-14), times
 * scale. n_expert <= 1024, k <= 32. dlog is overwritten.
 */
int kern_route(float *dlog, int ntok, int n_expert, int k, int gating,
    int norm, float scale, const float *dlbias, const float *dsbias,
    int32_t *dsel, float *dselw, kern_stream *s, struct err *e);

/* FFN activation (kern-ffn.cu): dg[i] = silu(dg[i]) * du[i], or with oai
 * gpt-oss's clamped form min(g,7) * sigmoid(1.702 min(g,7)) *
 * (clamp(u,-7,7) + 1). */
int kern_swiglu(float *dg, const float *du, int64_t n, int oai,
    kern_stream *s, struct err *e);
/* dy[i] += dx[i] * scale (residual adds, weighted expert outputs). */
int kern_add(float *dy, const float *dx, float scale, int64_t n,
    kern_stream *s, struct err *e);
/* dy[r][i] += db[i] for nrows rows of n (biases). */
int kern_add_rows(float *dy, const float *db, int nrows, int n,
    kern_stream *s, struct err *e);

#ifdef __cplusplus
}
#endif

#endif
