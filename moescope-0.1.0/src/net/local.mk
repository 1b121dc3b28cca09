# net room: util, libcurl (only net calls curl), jansson for the API.
noinst_LIBRARIES += libnet.a
libnet_a_SOURCES = \
	src/net/net.h \
	src/net/net-hub.c \
	src/net/net-sha256.c
libnet_a_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)

check_PROGRAMS += t/702-net-sha256.t
t_702_net_sha256_t_SOURCES = t/702-net-sha256.c t/tap.h
t_702_net_sha256_t_LDADD = libnet.a libutil.a

SH_TESTS += t/701-net-pull.sh
EXTRA_DIST += t/hubserver.py
