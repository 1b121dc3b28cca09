# engine room: util, formats, quant, tokenizer, cache, kernels.
noinst_LIBRARIES += libengine.a
libengine_a_SOURCES = \
	src/engine/engine.h \
	src/engine/engine-int.h \
	src/engine/engine-arch.c \
	src/engine/engine-bench.c \
	src/engine/engine-cuda.c \
	src/engine/engine-cuda.h \
	src/engine/engine-forward.c \
	src/engine/engine-model.c \
	src/engine/engine-pool.c \
	src/engine/engine-sample.c \
	src/engine/engine-chat.c \
	src/engine/engine-chat.h \
	src/engine/engine-chatsafe.c \
	src/engine/engine-gen.c \
	src/engine/engine-gen.h \
	src/engine/engine-vocab.c \
	src/engine/engine-vocab.h

ENGINE_TEST_LIBS = libengine.a libcache.a $(KERN_LIB) libformats.a \
	libquant.a libtokenizer.a libutil.a $(PCRE2_LIBS) \
	$(JANSSON_LIBS) $(KERN_EXT) $(PTHREAD_LIBS) -lm

check_PROGRAMS += t/601-engine-fixtures.t
t_601_engine_fixtures_t_SOURCES = t/601-engine-fixtures.c t/tap.h
t_601_engine_fixtures_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_601_engine_fixtures_t_LDADD = $(ENGINE_TEST_LIBS)

noinst_PROGRAMS += scripts/make-model
scripts_make_model_SOURCES = scripts/make-model.c
scripts_make_model_LDADD = libformats.a libquant.a libutil.a \
	$(PTHREAD_LIBS) -lm

check_PROGRAMS += t/602-engine-offload.t
t_602_engine_offload_t_SOURCES = t/602-engine-offload.c t/tap.h
t_602_engine_offload_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_602_engine_offload_t_LDADD = $(ENGINE_TEST_LIBS)

check_PROGRAMS += t/606-engine-predict.t
t_606_engine_predict_t_SOURCES = t/606-engine-predict.c t/tap.h
t_606_engine_predict_t_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
t_606_engine_predict_t_LDADD = $(ENGINE_TEST_LIBS)

check_PROGRAMS += t/603-engine-errors.t
t_603_engine_errors_t_SOURCES = t/603-engine-errors.c t/tap.h
t_603_engine_errors_t_LDADD = $(ENGINE_TEST_LIBS)

check_PROGRAMS += t/607-engine-gen.t
t_607_engine_gen_t_SOURCES = t/607-engine-gen.c t/tap.h
t_607_engine_gen_t_LDADD = $(ENGINE_TEST_LIBS)

check_PROGRAMS += t/604-engine-sample.t
t_604_engine_sample_t_SOURCES = t/604-engine-sample.c t/tap.h
t_604_engine_sample_t_LDADD = $(ENGINE_TEST_LIBS)

# the session thread the TUI drives
libengine_a_SOURCES += src/engine/engine-session.h \
	src/engine/engine-session.c
check_PROGRAMS += t/610-engine-session.t
t_610_engine_session_t_SOURCES = t/610-engine-session.c t/tap.h
t_610_engine_session_t_LDADD = $(ENGINE_TEST_LIBS)

SH_TESTS += t/605-engine-make-model.sh
