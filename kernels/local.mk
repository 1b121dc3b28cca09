# kernels room: CUDA C++ behind kernels/kern.h; uses util and the quant
# block headers only. Compiled when configure found nvcc (HAVE_NVCC),
# linked when the CUDA libraries link as well (HAVE_CUDA); the
# tests below build either way and skip where there is no device (or no
# CUDA backend). nvcc is slow: few .cu files, one template instance per
# weight type, two architectures (A100 and H100/H200), one thread.
# --fmad=false: no contraction into fused multiply-adds, as the quant
# room's -ffp-contract=off, so the shared block math rounds on the device
# as t/501 checks it on the CPU (the products are memory-bound anyway).
NVCC_ARCH = -gencode arch=compute_80,code=sm_80 \
	-gencode arch=compute_90,code=sm_90
NVCCFLAGS = -O3 -std=c++17 --threads 1 --fmad=false $(NVCC_ARCH) \
	-Xcompiler -Wall,-Wextra,-Wno-unused-parameter \
	-include $(top_builddir)/config.h -I$(top_srcdir)/src \
	-I$(top_srcdir)/kernels -I$(top_builddir)
KERN_HDRS = \
	kernels/kern.h \
	kernels/kern-int.h \
	kernels/kern-qtypes.h \
	src/quant/quant-block.h \
	src/quant/quant-common.h \
	src/util/util.h
KERN_CU = \
	kernels/kern-mem.cu \
	kernels/kern-matmul.cu \
	kernels/kern-dequant.cu \
	kernels/kern-gemm.cu \
	kernels/kern-norm.cu \
	kernels/kern-rope.cu \
	kernels/kern-attn.cu \
	kernels/kern-route.cu \
	kernels/kern-ffn.cu
KERN_SOURCES = $(KERN_HDRS) $(KERN_CU)

SUFFIXES = .cu
.cu.o:
	$(AM_V_GEN)$(NVCC) $(NVCCFLAGS) -c -o $@ $<

if HAVE_NVCC
# compiled whenever nvcc is there, linked only when the CUDA libraries
# link too (configure's HAVE_CUDA)
noinst_LIBRARIES += libkernels.a
libkernels_a_SOURCES = $(KERN_SOURCES)
# the suffix rule has no dependency tracking: every kernel object depends
# on every header the room includes
$(KERN_CU:.cu=.$(OBJEXT)): $(KERN_HDRS) config.h
else
EXTRA_DIST += $(KERN_SOURCES)
endif
if HAVE_CUDA
KERN_LIB = libkernels.a
KERN_EXT = $(CUDA_LIBS) -lstdc++
else
KERN_LIB =
KERN_EXT =
endif

# The block math the kernels run, checked on the CPU against the quant
# reference (runs everywhere).
check_PROGRAMS += t/501-kernels-blockmath.t
t_501_kernels_blockmath_t_SOURCES = t/501-kernels-blockmath.c t/tap.h \
	src/quant/quant-block.h
t_501_kernels_blockmath_t_CFLAGS = $(AM_CFLAGS) -ffp-contract=off
t_501_kernels_blockmath_t_LDADD = libquant.a libutil.a $(PTHREAD_LIBS) -lm

# Every kernel against the CPU reference (skips without a device).
check_PROGRAMS += t/502-kernels-ops.t
t_502_kernels_ops_t_SOURCES = t/502-kernels-ops.c t/tap.h
t_502_kernels_ops_t_CFLAGS = $(AM_CFLAGS) -ffp-contract=off
t_502_kernels_ops_t_LDADD = $(KERN_LIB) libquant.a libutil.a $(KERN_EXT) \
	$(PTHREAD_LIBS) -lm

# The fixture models on --device cuda (skips without a device).
check_PROGRAMS += t/503-kernels-logits.t
t_503_kernels_logits_t_SOURCES = t/503-kernels-logits.c t/tap.h
t_503_kernels_logits_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_503_kernels_logits_t_LDADD = $(ENGINE_TEST_LIBS)
EXTRA_DIST += scripts/bench-cuda

# No device: clean failures, --device cuda falls back to the CPU exactly.
check_PROGRAMS += t/504-kernels-nodevice.t
t_504_kernels_nodevice_t_SOURCES = t/504-kernels-nodevice.c t/tap.h
t_504_kernels_nodevice_t_LDADD = $(ENGINE_TEST_LIBS)
