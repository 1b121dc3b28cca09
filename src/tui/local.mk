# tui room: util, engine.h (through the session's events), ncursesw;
# convert.h and net.h for the downloads (tui-pull.c).
noinst_LIBRARIES += libtui.a
libtui_a_SOURCES = \
	src/tui/tui.h \
	src/tui/tui-int.h \
	src/tui/tui-cmd.c \
	src/tui/tui-conv.c \
	src/tui/tui-draw.c \
	src/tui/tui-main.c \
	src/tui/tui-panels.c \
	src/tui/tui-pull.c \
	src/tui/tui-stats.c \
	src/tui/tui-text.c
libtui_a_CPPFLAGS = $(AM_CPPFLAGS) $(NCURSES_CFLAGS) $(JANSSON_CFLAGS) \
	$(CURL_CFLAGS)

check_PROGRAMS += t/801-tui-text.t
t_801_tui_text_t_SOURCES = t/801-tui-text.c t/tap.h
t_801_tui_text_t_LDADD = libtui.a $(ENGINE_TEST_LIBS) $(NCURSES_LIBS)

# real-terminal tests: the binary in tmux
SH_TESTS += t/810-tui-chat.sh t/811-tui-stop.sh t/812-tui-commands.sh \
	t/813-tui-inspect.sh t/814-tui-resize.sh t/815-tui-bad-input.sh \
	t/816-tui-keys.sh t/817-tui-cache.sh
SH_TESTS += t/818-tui-predict.sh
SH_TESTS += t/819-tui-pull.sh
EXTRA_DIST += t/tui-lib.sh
