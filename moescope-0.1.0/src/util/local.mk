# util room: libc only.
noinst_LIBRARIES += libutil.a
libutil_a_SOURCES = \
	src/util/util.h \
	src/util/util-err.c \
	src/util/util-file.c \
	src/util/util-misc.c

check_PROGRAMS += t/001-util-basic.t
t_001_util_basic_t_SOURCES = t/001-util-basic.c t/tap.h
t_001_util_basic_t_LDADD = libutil.a -lm
