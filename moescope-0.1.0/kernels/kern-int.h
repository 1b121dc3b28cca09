/*
 * kern-int.h - private to the kernels room (CUDA C++ only): the one
 * error-checking macro, stream casts, launch helpers and the cuBLAS
 * handle. Every CUDA or cuBLAS call of the room goes through KCHECK or
 * KBLAS, which turn a failure into ERR_CUDA with the runtime's text (and
 * an allocation failure into a clear ERR_NOMEM) and return it.
 */
#ifndef MOESCOPE_KERN_INT_H
#define MOESCOPE_KERN_INT_H

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include "kern.h"

#define KCHECK(e, call) do {						\
	cudaError_t kc_rc = (call);					\
	if (kc_rc != cudaSuccess)					\
		return kern_fail((e), kc_rc, #call);			\
} while (0)

#define KBLAS(e, call) do {						\
	cublasStatus_t kb_rc = (call);					\
	if (kb_rc != CUBLAS_STATUS_SUCCESS)				\
		return err_set((e), ERR_CUDA, "cuBLAS: %s: status %d",	\
		    #call, (int)kb_rc);					\
} while (0)

/* After a launch: the launch error, if any. */
#define KLAUNCHED(e) KCHECK(e, cudaGetLastError())

/* ERR_CUDA (or ERR_NOMEM for cudaErrorMemoryAllocation) with the text;
 * clears the sticky-free error state. */
int kern_fail(struct err *e, cudaError_t rc, const char *what);

static inline cudaStream_t
kstream(kern_stream *s)
{
	return (cudaStream_t)s;
}

/* The cuBLAS handle (kern_init made it), or NULL. */
cublasHandle_t kern_blas(void);

static inline unsigned
kblocks(int64_t n, int per)
{
	int64_t b = (n + per - 1) / per;

	return (unsigned)(b > 0x7fffffff ? 0x7fffffff : b);
}

static __device__ __forceinline__ float
kwarp_sum(float v)
{
	int o;

	for (o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

static __device__ __forceinline__ float
kwarp_max(float v)
{
	int o;

	for (o = 16; o > 0; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

#endif
