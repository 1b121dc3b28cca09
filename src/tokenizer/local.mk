# tokenizer room: util + PCRE2. Vocabulary part (the chat-template part
# adds its own files).
noinst_LIBRARIES += libtokenizer.a
libtokenizer_a_SOURCES = \
	src/tokenizer/tokenizer.h \
	src/tokenizer/tokenizer-int.h \
	src/tokenizer/tokenizer-vocab.c \
	src/tokenizer/tokenizer-bpe.c \
	src/tokenizer/tokenizer-spm.c \
	src/tokenizer/tokenizer-pre.c \
	src/tokenizer/tokenizer-stream.c
libtokenizer_a_CPPFLAGS = $(AM_CPPFLAGS) $(PCRE2_CFLAGS)

TOKENIZER_TEST_LIBS = libformats.a libtokenizer.a libutil.a \
	$(PCRE2_LIBS) -lm
check_PROGRAMS += t/301-tokenizer-vectors.t t/302-tokenizer-hostile.t \
	t/304-tokenizer-decode.t
t_301_tokenizer_vectors_t_SOURCES = t/301-tokenizer-vectors.c t/tap.h \
	src/engine/engine-vocab.c src/engine/engine-vocab.h
t_301_tokenizer_vectors_t_LDADD = $(TOKENIZER_TEST_LIBS)
t_302_tokenizer_hostile_t_SOURCES = t/302-tokenizer-hostile.c t/tap.h \
	src/engine/engine-vocab.c src/engine/engine-vocab.h
t_302_tokenizer_hostile_t_LDADD = $(TOKENIZER_TEST_LIBS)
t_304_tokenizer_decode_t_SOURCES = t/304-tokenizer-decode.c t/tap.h \
	src/engine/engine-vocab.c src/engine/engine-vocab.h
t_304_tokenizer_decode_t_LDADD = $(TOKENIZER_TEST_LIBS)
SH_TESTS += t/303-tokenizer-cmd.sh
EXTRA_DIST += t/data/tokenizer-oracle scripts/bench-tokenize \
	scripts/tokenizer-oracle
