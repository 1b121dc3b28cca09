# cache room: util (I/O threads only).
noinst_LIBRARIES += libcache.a
libcache_a_SOURCES = \
	src/cache/cache.h \
	src/cache/cache-core.c \
	src/cache/cache-int.h \
	src/cache/cache-sim.c

check_PROGRAMS += t/401-cache-core.t
t_401_cache_core_t_SOURCES = t/401-cache-core.c t/tap.h
t_401_cache_core_t_LDADD = libcache.a libutil.a $(PTHREAD_LIBS) -lm

check_PROGRAMS += t/402-cache-sim.t
t_402_cache_sim_t_SOURCES = t/402-cache-sim.c t/tap.h
t_402_cache_sim_t_LDADD = libcache.a libutil.a $(PTHREAD_LIBS) -lm

SH_TESTS += t/921-cmd-list.sh
