# tokenizer room: util + PCRE2. Vocabularies (BPE, SentencePiece) and the
# chat-template interpreter.
noinst_LIBRARIES += libtokenizer.a
libtokenizer_a_SOURCES = \
	src/tokenizer/tokenizer.h \
	src/tokenizer/tokenizer-int.h \
	src/tokenizer/tokenizer-vocab.c \
	src/tokenizer/tokenizer-bpe.c \
	src/tokenizer/tokenizer-spm.c \
	src/tokenizer/tokenizer-pre.c \
	src/tokenizer/tokenizer-stream.c \
	src/tokenizer/tokenizer-tval.c \
	src/tokenizer/tokenizer-tparse.c \
	src/tokenizer/tokenizer-tbuiltin.c \
	src/tokenizer/tokenizer-template.c
libtokenizer_a_CPPFLAGS = $(AM_CPPFLAGS) $(PCRE2_CFLAGS)

# engine-vocab.c (the GGUF glue) lives in libengine.a
TOKENIZER_TEST_LIBS = libengine.a libcache.a $(KERN_LIB) libformats.a \
	libquant.a libtokenizer.a libutil.a $(PCRE2_LIBS) $(JANSSON_LIBS) \
	$(KERN_EXT) $(PTHREAD_LIBS) -lm
check_PROGRAMS += t/301-tokenizer-vectors.t t/302-tokenizer-hostile.t \
	t/304-tokenizer-decode.t
t_301_tokenizer_vectors_t_SOURCES = t/301-tokenizer-vectors.c t/tap.h
t_301_tokenizer_vectors_t_LDADD = $(TOKENIZER_TEST_LIBS)
t_302_tokenizer_hostile_t_SOURCES = t/302-tokenizer-hostile.c t/tap.h
t_302_tokenizer_hostile_t_LDADD = $(TOKENIZER_TEST_LIBS)
t_304_tokenizer_decode_t_SOURCES = t/304-tokenizer-decode.c t/tap.h
t_304_tokenizer_decode_t_LDADD = $(TOKENIZER_TEST_LIBS)
SH_TESTS += t/303-tokenizer-cmd.sh
EXTRA_DIST += t/data/tokenizer-oracle scripts/bench-tokenize \
	scripts/tokenizer-oracle

check_PROGRAMS += t/310-tokenizer-template.t
t_310_tokenizer_template_t_SOURCES = t/310-tokenizer-template.c t/tap.h
t_310_tokenizer_template_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_310_tokenizer_template_t_LDADD = libtokenizer.a libutil.a \
	$(JANSSON_LIBS) -lm

SH_TESTS += t/910-cmd-template.sh
