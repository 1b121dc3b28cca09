# engine room: util, formats, quant, tokenizer, cache, kernels.
noinst_LIBRARIES += libengine.a
libengine_a_SOURCES = \
	src/engine/engine.h \
	src/engine/engine-int.h \
	src/engine/engine-arch.c \
	src/engine/engine-forward.c \
	src/engine/engine-model.c \
	src/engine/engine-pool.c \
	src/engine/engine-sample.c
