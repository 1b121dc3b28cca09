# convert room: formats, quant, util (+ jansson for tokenizer files);
# convert-pull.c also uses net.
noinst_LIBRARIES += libconvert.a
libconvert_a_SOURCES = \
	src/convert/convert.h \
	src/convert/convert-int.h \
	src/convert/convert-arch.c \
	src/convert/convert-pull.c \
	src/convert/convert-qtype.c \
	src/convert/convert-run.c \
	src/convert/convert-spm.c \
	src/convert/convert-vocab.c
libconvert_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)

CONVERT_TEST_LIBS = libconvert.a libformats.a libquant.a libutil.a \
	$(JANSSON_LIBS) $(PTHREAD_LIBS) -lm

check_PROGRAMS += t/150-convert-fixtures.t
t_150_convert_fixtures_t_SOURCES = t/150-convert-fixtures.c t/tap.h
t_150_convert_fixtures_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_150_convert_fixtures_t_LDADD = $(CONVERT_TEST_LIBS)

SH_TESTS += t/151-convert-logits.sh
EXTRA_DIST += scripts/make-random-hf
