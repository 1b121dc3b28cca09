/*
 * kern-mem.cu - the device, its memory, streams and events.
 *
 * kern_init() picks a device once and makes the cuBLAS handle; it fails
 * cleanly (ERR_CUDA "no CUDA device") when the driver or the device is
 * missing, so a build with CUDA still runs on a machine without a GPU.
 * Allocations are plain cudaMalloc / cudaMallocHost (no managed memory);
 * running out of device memory is ERR_NOMEM with the size asked for and
 * what is free, so callers can plan smaller. Streams and events are the
 * runtime's, behind opaque pointers for the C side.
 */
#include <stdio.h>

#include "kern-int.h"

static int		 k_state;	/* 0 untried, 1 ready, < 0 failed */
static int		 k_dev;
static cublasHandle_t	 k_blas;
static char		 k_why[256];

int
kern_fail(struct err *e, cudaError_t rc, const char *what)
{
	(void)cudaGetLastError();
	if (rc == cudaErrorMemoryAllocation)
		return err_set(e, ERR_NOMEM, "out of device memory (%s)", what);
	return err_set(e, ERR_CUDA, "CUDA: %s: %s", what,
	    cudaGetErrorString(rc));
}

cublasHandle_t
kern_blas(void)
{
	return k_state == 1 ? k_blas : NULL;
}

int
kern_have_device(void)
{
	int n = 0;

	if (k_state == 1)
		return 1;
	if (cudaGetDeviceCount(&n) != cudaSuccess) {
		(void)cudaGetLastError();
		return 0;
	}
	return n > 0;
}

int
kern_init(int dev, struct err *e)
{
	cudaError_t rc;
	int n = 0;

	if (k_state == 1)
		return 0;
	if (k_state < 0)
		return err_set(e, k_state, "%s", k_why);
	rc = cudaGetDeviceCount(&n);
	if (rc != cudaSuccess || n == 0) {
		(void)cudaGetLastError();
		snprintf(k_why, sizeof k_why, "no CUDA device (%s)",
		    rc != cudaSuccess ? cudaGetErrorString(rc) :
		    "none found");
		k_state = ERR_CUDA;
		return err_set(e, ERR_CUDA, "%s", k_why);
	}
	if (dev < 0 || dev >= n)
		return err_set(e, ERR_USAGE, "no CUDA device %d (%d found)",
		    dev, n);
	KCHECK(e, cudaSetDevice(dev));
	if (cublasCreate(&k_blas) != CUBLAS_STATUS_SUCCESS) {
		snprintf(k_why, sizeof k_why, "cuBLAS could not start");
		k_state = ERR_CUDA;
		return err_set(e, ERR_CUDA, "%s", k_why);
	}
	k_dev = dev;
	k_state = 1;
	return 0;
}

void
kern_fini(void)
{
	if (k_state == 1) {
		cublasDestroy(k_blas);
		k_blas = NULL;
		k_state = 0;
	}
}

int
kern_info_get(struct kern_info *i, struct err *e)
{
	cudaDeviceProp p;

	if (k_state != 1)
		return err_set(e, ERR_CUDA, "CUDA not initialized");
	KCHECK(e, cudaGetDeviceProperties(&p, k_dev));
	snprintf(i->name, sizeof i->name, "%s", p.name);
	i->cc_major = p.major;
	i->cc_minor = p.minor;
	i->sm_count = p.multiProcessorCount;
	KCHECK(e, cudaMemGetInfo(&i->mem_free, &i->mem_total));
	return 0;
}

int
kern_mem_get(size_t *free_b, size_t *total_b, struct err *e)
{
	KCHECK(e, cudaMemGetInfo(free_b, total_b));
	return 0;
}

int
kern_malloc(void **dp, size_t n, struct err *e)
{
	cudaError_t rc;
	size_t fr = 0, tot = 0;

	*dp = NULL;
	rc = cudaMalloc(dp, n ? n : 1);
	if (rc == cudaSuccess)
		return 0;
	(void)cudaGetLastError();
	*dp = NULL;
	if (rc != cudaErrorMemoryAllocation)
		return kern_fail(e, rc, "cudaMalloc");
	(void)cudaMemGetInfo(&fr, &tot);
	return err_set(e, ERR_NOMEM, "out of device memory: %zu MiB asked, "
	    "%zu of %zu MiB free", n >> 20, fr >> 20, tot >> 20);
}

void
kern_free(void *dp)
{
	if (dp != NULL)
		(void)cudaFree(dp);
}

int
kern_host_alloc(void **hp, size_t n, struct err *e)
{
	*hp = NULL;
	KCHECK(e, cudaMallocHost(hp, n ? n : 1));
	return 0;
}

void
kern_host_free(void *hp)
{
	if (hp != NULL)
		(void)cudaFreeHost(hp);
}

int
kern_h2d(void *d, const void *h, size_t n, kern_stream *s, struct err *e)
{
	KCHECK(e, cudaMemcpyAsync(d, h, n, cudaMemcpyHostToDevice,
	    kstream(s)));
	return 0;
}

int
kern_d2h(void *h, const void *d, size_t n, kern_stream *s, struct err *e)
{
	KCHECK(e, cudaMemcpyAsync(h, d, n, cudaMemcpyDeviceToHost,
	    kstream(s)));
	return 0;
}

int
kern_d2d(void *d, const void *src, size_t n, kern_stream *s, struct err *e)
{
	KCHECK(e, cudaMemcpyAsync(d, src, n, cudaMemcpyDeviceToDevice,
	    kstream(s)));
	return 0;
}

int
kern_memset(void *d, int byte, size_t n, kern_stream *s, struct err *e)
{
	KCHECK(e, cudaMemsetAsync(d, byte, n, kstream(s)));
	return 0;
}

int
kern_stream_new(kern_stream **s, struct err *e)
{
	cudaStream_t st;

	*s = NULL;
	KCHECK(e, cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
	*s = (kern_stream *)st;
	return 0;
}

void
kern_stream_free(kern_stream *s)
{
	if (s != NULL)
		(void)cudaStreamDestroy(kstream(s));
}

int
kern_stream_sync(kern_stream *s, struct err *e)
{
	KCHECK(e, cudaStreamSynchronize(kstream(s)));
	return 0;
}

int
kern_event_new(kern_event **ev, struct err *e)
{
	cudaEvent_t x;

	*ev = NULL;
	KCHECK(e, cudaEventCreateWithFlags(&x, cudaEventDisableTiming));
	*ev = (kern_event *)x;
	return 0;
}

void
kern_event_free(kern_event *ev)
{
	if (ev != NULL)
		(void)cudaEventDestroy((cudaEvent_t)ev);
}

int
kern_event_record(kern_event *ev, kern_stream *s, struct err *e)
{
	KCHECK(e, cudaEventRecord((cudaEvent_t)ev, kstream(s)));
	return 0;
}

int
kern_event_wait(kern_stream *s, kern_event *ev, struct err *e)
{
	KCHECK(e, cudaStreamWaitEvent(kstream(s), (cudaEvent_t)ev, 0));
	return 0;
}

int
kern_event_sync(kern_event *ev, struct err *e)
{
	KCHECK(e, cudaEventSynchronize((cudaEvent_t)ev));
	return 0;
}

int
kern_event_done(kern_event *ev, struct err *e)
{
	cudaError_t rc = cudaEventQuery((cudaEvent_t)ev);

	if (rc == cudaSuccess)
		return 1;
	if (rc == cudaErrorNotReady) {
		(void)cudaGetLastError();
		return 0;
	}
	return kern_fail(e, rc, "cudaEventQuery");
}

int
kern_measure_h2d(double *bps, struct err *e)
{
	size_t n = (size_t)64 << 20;
	cudaEvent_t a, b;
	void *h = NULL, *d = NULL;
	float ms = 0;
	int rc, i;

	*bps = 0;
	if ((rc = kern_host_alloc(&h, n, e)) != 0)
		return rc;
	if ((rc = kern_malloc(&d, n, e)) != 0) {
		n >>= 3;
		if ((rc = kern_malloc(&d, n, e)) != 0) {
			kern_host_free(h);
			return rc;
		}
	}
	rc = 0;
	if (cudaEventCreate(&a) != cudaSuccess ||
	    cudaEventCreate(&b) != cudaSuccess)
		rc = kern_fail(e, cudaGetLastError(), "cudaEventCreate");
	if (rc == 0) {
		(void)cudaMemcpy(d, h, n, cudaMemcpyHostToDevice);
		(void)cudaEventRecord(a, 0);
		for (i = 0; i < 3; i++)
			(void)cudaMemcpyAsync(d, h, n, cudaMemcpyHostToDevice,
			    0);
		(void)cudaEventRecord(b, 0);
		if (cudaEventSynchronize(b) != cudaSuccess ||
		    cudaEventElapsedTime(&ms, a, b) != cudaSuccess)
			rc = kern_fail(e, cudaGetLastError(), "h2d timing");
		else if (ms > 0)
			*bps = 3.0 * (double)n / (ms * 1e-3);
		(void)cudaEventDestroy(a);
		(void)cudaEventDestroy(b);
	}
	kern_free(d);
	kern_host_free(h);
	return rc;
}
