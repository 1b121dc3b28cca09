# convert room: formats, quant, util (+ jansson for tokenizer files).
noinst_LIBRARIES += libconvert.a
libconvert_a_SOURCES = \
	src/convert/convert.h \
	src/convert/convert-int.h \
	src/convert/convert-arch.c \
	src/convert/convert-qtype.c \
	src/convert/convert-run.c \
	src/convert/convert-spm.c \
	src/convert/convert-vocab.c
libconvert_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
