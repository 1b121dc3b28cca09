# formats room: util (+ header-only quant/quant-common.h), jansson for the
# JSON headers of safetensors and for config.json.
noinst_LIBRARIES += libformats.a
libformats_a_SOURCES = \
	src/formats/formats.h \
	src/formats/formats-gguf.c \
	src/formats/formats-gguf-get.c \
	src/formats/formats-gguf-write.c \
	src/formats/formats-safetensors.c \
	src/formats/formats-hfconfig.c
libformats_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)

FORMATS_TEST_LIBS = libformats.a libutil.a $(JANSSON_LIBS) -lm

check_PROGRAMS += t/101-formats-gguf-read.t
t_101_formats_gguf_read_t_SOURCES = t/101-formats-gguf-read.c t/tap.h
t_101_formats_gguf_read_t_LDADD = $(FORMATS_TEST_LIBS)

check_PROGRAMS += t/103-formats-gguf-write.t
t_103_formats_gguf_write_t_SOURCES = t/103-formats-gguf-write.c t/tap.h
t_103_formats_gguf_write_t_LDADD = $(FORMATS_TEST_LIBS)

check_PROGRAMS += t/102-formats-gguf-hostile.t
t_102_formats_gguf_hostile_t_SOURCES = t/102-formats-gguf-hostile.c t/tap.h
t_102_formats_gguf_hostile_t_LDADD = $(FORMATS_TEST_LIBS)

check_PROGRAMS += t/104-formats-safetensors.t
t_104_formats_safetensors_t_SOURCES = t/104-formats-safetensors.c t/tap.h
t_104_formats_safetensors_t_LDADD = $(FORMATS_TEST_LIBS)

SH_TESTS += t/105-cmd-inspect.sh

# libFuzzer targets, built and run by scripts/fuzz (not by make).
EXTRA_DIST += scripts/fuzz scripts/fuzz-gguf.c scripts/fuzz-safetensors.c \
	scripts/fuzz-seeds.py
