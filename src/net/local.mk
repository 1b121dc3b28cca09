# net room: util, libcurl (only net calls curl), jansson for the API.
noinst_LIBRARIES += libnet.a
libnet_a_SOURCES = \
	src/net/net.h \
	src/net/net-hub.c \
	src/net/net-sha256.c
libnet_a_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
