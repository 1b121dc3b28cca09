# tokenizer room: util and PCRE2 only.
noinst_LIBRARIES += libtokenizer.a
libtokenizer_a_SOURCES = \
	src/tokenizer/tokenizer.h \
	src/tokenizer/tokenizer-int.h \
	src/tokenizer/tokenizer-tval.c \
	src/tokenizer/tokenizer-tparse.c \
	src/tokenizer/tokenizer-tbuiltin.c \
	src/tokenizer/tokenizer-template.c

check_PROGRAMS += t/310-tokenizer-template.t
t_310_tokenizer_template_t_SOURCES = t/310-tokenizer-template.c t/tap.h
t_310_tokenizer_template_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_310_tokenizer_template_t_LDADD = libtokenizer.a libutil.a \
	$(JANSSON_LIBS) -lm

SH_TESTS += t/910-cmd-template.sh
