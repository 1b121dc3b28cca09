# formats room: util (+ header-only quant/quant-common.h).
noinst_LIBRARIES += libformats.a
libformats_a_SOURCES = \
	src/formats/formats.h \
	src/formats/formats-gguf.c \
	src/formats/formats-gguf-get.c

check_PROGRAMS += t/101-formats-gguf-read.t
t_101_formats_gguf_read_t_SOURCES = t/101-formats-gguf-read.c t/tap.h
t_101_formats_gguf_read_t_LDADD = libformats.a libutil.a -lm
