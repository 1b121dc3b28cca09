/*
 * kern-qtypes.h - private to the kernels room (CUDA C++): a traits struct
 * per weight type over the shared block math of quant-block.h (block
 * types, sub-blocks per block, the activation block type, dequantization
 * and dot of one 32-element sub-block), and KERN_TYPE_SWITCH, which
 * instantiates a template once per type. The plain float types (F32,
 * F16, BF16) are not blocks; kernels handle them element by element.
 */
#ifndef MOESCOPE_KERN_QTYPES_H
#define MOESCOPE_KERN_QTYPES_H

#include "quant/quant-block.h"

template <int T> struct kq;

#define KQ_32(T, t, B, X)						\
template <> struct kq<GGML_TYPE_##T> {					\
	typedef B w_t;							\
	typedef X x_t;							\
	enum { spb = 1, xtype = (sizeof(X) == sizeof(block_q8_0) ?	\
	    GGML_TYPE_Q8_0 : GGML_TYPE_Q8_1) };				\
	static __device__ __forceinline__ float				\
	dot(const B *w, const X *x, int sub)				\
	{ (void)sub; return qb_dot_##t(w, x); }				\
	static __device__ __forceinline__ void				\
	dq(const B *w, int sub, float *y) { qb_dq32_##t(w, sub, y); }	\
};
#define KQ_K(T, t, B)							\
template <> struct kq<GGML_TYPE_##T> {					\
	typedef B w_t;							\
	typedef block_q8_K x_t;						\
	enum { spb = QK_K / 32, xtype = GGML_TYPE_Q8_K };		\
	static __device__ __forceinline__ float				\
	dot(const B *w, const block_q8_K *x, int sub)			\
	{ return qb_dot32_##t(w, x, sub); }				\
	static __device__ __forceinline__ void				\
	dq(const B *w, int sub, float *y) { qb_dq32_##t(w, sub, y); }	\
};

KQ_32(Q4_0, q4_0, block_q4_0, block_q8_0)
KQ_32(Q4_1, q4_1, block_q4_1, block_q8_1)
KQ_32(Q5_0, q5_0, block_q5_0, block_q8_0)
KQ_32(Q5_1, q5_1, block_q5_1, block_q8_1)
KQ_32(Q8_0, q8_0, block_q8_0, block_q8_0)
KQ_32(IQ4_NL, iq4_nl, block_iq4_nl, block_q8_0)
KQ_32(MXFP4, mxfp4, block_mxfp4, block_q8_0)
KQ_K(Q2_K, q2_k, block_q2_K)
KQ_K(Q3_K, q3_k, block_q3_K)
KQ_K(Q4_K, q4_k, block_q4_K)
KQ_K(Q5_K, q5_k, block_q5_K)
KQ_K(Q6_K, q6_k, block_q6_K)
KQ_K(IQ4_XS, iq4_xs, block_iq4_xs)

#undef KQ_32
#undef KQ_K

/* Run STMT with the constant KT set to type (a block type); default:
 * DEFAULT. */
#define KERN_TYPE_SWITCH(type, STMT, DEFAULT) do {			\
	switch (type) {							\
	case GGML_TYPE_Q4_0: { enum { KT = GGML_TYPE_Q4_0 }; STMT; } break; \
	case GGML_TYPE_Q4_1: { enum { KT = GGML_TYPE_Q4_1 }; STMT; } break; \
	case GGML_TYPE_Q5_0: { enum { KT = GGML_TYPE_Q5_0 }; STMT; } break; \
	case GGML_TYPE_Q5_1: { enum { KT = GGML_TYPE_Q5_1 }; STMT; } break; \
	case GGML_TYPE_Q8_0: { enum { KT = GGML_TYPE_Q8_0 }; STMT; } break; \
	case GGML_TYPE_IQ4_NL:						\
	    { enum { KT = GGML_TYPE_IQ4_NL }; STMT; } break;		\
	case GGML_TYPE_MXFP4: { enum { KT = GGML_TYPE_MXFP4 }; STMT; } break; \
	case GGML_TYPE_Q2_K: { enum { KT = GGML_TYPE_Q2_K }; STMT; } break; \
	case GGML_TYPE_Q3_K: { enum { KT = GGML_TYPE_Q3_K }; STMT; } break; \
	case GGML_TYPE_Q4_K: { enum { KT = GGML_TYPE_Q4_K }; STMT; } break; \
	case GGML_TYPE_Q5_K: { enum { KT = GGML_TYPE_Q5_K }; STMT; } break; \
	case GGML_TYPE_Q6_K: { enum { KT = GGML_TYPE_Q6_K }; STMT; } break; \
	case GGML_TYPE_IQ4_XS:						\
	    { enum { KT = GGML_TYPE_IQ4_XS }; STMT; } break;		\
	default: DEFAULT; break;					\
	}								\
} while (0)

/* Elements per block of a type the kernels know (1 for float types, 0
 * for others). */
static inline int
kq_blck(int type)
{
	switch (type) {
	case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
		return 1;
	case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K: case GGML_TYPE_IQ4_XS:
		return QK_K;
	case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0: case GGML_TYPE_IQ4_NL:
	case GGML_TYPE_MXFP4:
		return 32;
	default:
		return 0;
	}
}

/* The activation (vec-dot) type of a weight type, as quant_vec_dot_type. */
static inline int
kq_xtype(int type)
{
	switch (type) {
	case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
		return type;
	case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1:
		return GGML_TYPE_Q8_1;
	default:
		return kq_blck(type) == QK_K ? GGML_TYPE_Q8_K :
		    kq_blck(type) == 32 ? GGML_TYPE_Q8_0 : -1;
	}
}

/* Bytes of one activation row of n elements of activation type xt. */
static inline size_t
kq_xrow(int xt, int64_t n)
{
	switch (xt) {
	case GGML_TYPE_F32: return (size_t)n * 4;
	case GGML_TYPE_F16: case GGML_TYPE_BF16: return (size_t)n * 2;
	case GGML_TYPE_Q8_0: return (size_t)(n / 32) * sizeof(block_q8_0);
	case GGML_TYPE_Q8_1: return (size_t)(n / 32) * sizeof(block_q8_1);
	case GGML_TYPE_Q8_K: return (size_t)(n / QK_K) * sizeof(block_q8_K);
	default: return 0;
	}
}

/* Dequantize rows to F16 (for cuBLAS): kern-dequant.cu. */
int kern_dequant_f16(int type, int64_t n, int64_t nrows, const void *dw,
    size_t w_stride, void *dy, kern_stream *s, struct err *e);

#endif
