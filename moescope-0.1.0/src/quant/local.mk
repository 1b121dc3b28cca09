# quant room: util only. SIMD files carry per-function target attributes,
# never -march flags: one binary runs on any x86-64. No FMA contraction:
# the reference quantizers must round as llama.cpp's do even when CFLAGS
# enable FMA.
noinst_LIBRARIES += libquant.a
libquant_a_CFLAGS = $(AM_CFLAGS) -ffp-contract=off
libquant_a_SOURCES = \
	src/quant/quant.h \
	src/quant/quant-common.h \
	src/quant/quant-int.h \
	src/quant/quant-simd.h \
	src/quant/quant-ref.c \
	src/quant/quant-quantize.c \
	src/quant/quant-avx2.c \
	src/quant/quant-avx512.c \
	src/quant/quant-dispatch.c

check_PROGRAMS += t/201-quant-ref.t
t_201_quant_ref_t_SOURCES = t/201-quant-ref.c t/tap.h
t_201_quant_ref_t_LDADD = libformats.a libquant.a libutil.a $(PTHREAD_LIBS) -lm

check_PROGRAMS += t/202-quant-simd.t
t_202_quant_simd_t_SOURCES = t/202-quant-simd.c t/tap.h
t_202_quant_simd_t_LDADD = libquant.a libutil.a $(PTHREAD_LIBS) -lm

noinst_PROGRAMS += scripts/bench-quant
scripts_bench_quant_SOURCES = scripts/bench-quant.c
scripts_bench_quant_LDADD = libquant.a libutil.a $(PTHREAD_LIBS) -lm
