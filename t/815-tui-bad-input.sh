#!/bin/sh
# 815-tui-bad-input.sh - what users get wrong: a model that fails to load
# (truncated file, missing file), a non-UTF-8 locale, TERM=dumb,
# NO_COLOR, no model at all, stdin not a terminal. Each gives a clear
# message; the UI never crashes and the terminal is always restored.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

restart() { tui_tmux kill-server >/dev/null 2>&1; tui_reap; }

# a truncated model: the error shows in the chat, the UI stays usable
head -c 3000 "$MIXTRAL" >"$TUI_TMP/trunc.gguf"
tui_start 120 30 -- chat "$TUI_TMP/trunc.gguf"
tui_wait '! cannot load model: ' 30
ok $? "a truncated model: an error in the chat"
tui_cap | grep -q 'trunc.gguf'
ok $? "... naming the file"
tui_type "hello"
tui_keys Enter
tui_wait '! no model loaded' 10
ok $? "a prompt without a model is refused with a hint"
tui_cap | grep -q '^> hello'
ok $? "... and the typed text is kept"
tui_keys C-u
tui_type "/model $QWEN3"
tui_keys Enter
tui_wait 'qwen3moe, 2 layers' 30
ok $? "/model loads a good model afterwards"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quits normally"
tui_modes_ok
ok $? "terminal modes restored"
restart

# closing the terminal under a running TUI (SIGHUP) ends it
tui_start 120 30 -- chat "$QWEN3"
tui_wait '· loaded' 30
restart
ok $? "moescope exits when its terminal goes away"

# a missing file
tui_start 120 30 -- chat "$TUI_TMP/nope.gguf"
tui_wait '! cannot load model: .*nope\.gguf' 30
ok $? "a missing model file: an error naming it"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quits normally"
restart

# a non-UTF-8 locale: ASCII drawing and a note
tui_start 120 30 LC_ALL=C -- chat "$QWEN3" --temp 0 -n 16
tui_wait 'locale is not UTF-8' 30
ok $? "non-UTF-8 locale: a note says so"
tui_wait '\+- experts - ' 30
ok $? "ASCII borders"
tui_cap | grep -q '[│┌─░▓█]'
[ $? -ne 0 ]
ok $? "no Unicode line drawing or blocks"
tui_type "hello"
tui_keys Enter
tui_wait '\| 16 tok \| max tokens\]' 30
ok $? "chat works in the C locale"
tui_clean
ok $? "screen consistent"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quits normally"
restart

# NO_COLOR: no colour escapes at all (a coloured run has them)
tui_start 120 30 -- chat "$QWEN3"
tui_wait '· loaded' 30
tui_tmux capture-pane -p -e | grep -q "$(printf '\033')\[[0-9;]*3[0-9]"
ok $? "by default the screen has colours"
restart
tui_start 120 30 NO_COLOR=1 -- chat "$QWEN3"
tui_wait '· loaded' 30
tui_tmux capture-pane -p -e | grep -Eq "$(printf '\033')\[([0-9]+;)*(3[0-7]|38|4[0-7]|48)(;|m)"
[ $? -ne 0 ]
ok $? "NO_COLOR: monochrome"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quits normally"
restart

# TERM=dumb: a clear refusal before touching the terminal
tui_start 120 30 TERM=dumb -- chat "$QWEN3"
tui_wait 'EXIT=1' 20
ok $? "TERM=dumb: exit status 1"
grep -q 'TERM=dumb' "$TUI_TMP/stderr"
ok $? "TERM=dumb: says why: $(cat "$TUI_TMP/stderr")"
tui_modes_ok
ok $? "terminal untouched"
restart

# no model given and the default model missing (as in a build without
# models/default.gguf)
tui_start 120 30 MOESCOPE_DEFAULT_MODEL=/nonexistent/default.gguf -- chat
tui_wait 'EXIT=2' 20
ok $? "no model: usage error"
grep -q 'moescope chat PATH/TO/MODEL.gguf' "$TUI_TMP/stderr" &&
    grep -q '/nonexistent/default.gguf' "$TUI_TMP/stderr"
ok $? "no model: says which default is missing and how to pass one"
restart

# stdin is not a terminal: batch mode, or a clear message
echo hi | "$MOESCOPE" chat "$QWEN3" >"$TUI_TMP/out" 2>"$TUI_TMP/err"
rc=$?
if grep -q 'batch mode (moescope batch) is not in this build' \
    "$TUI_TMP/err"; then
	[ $rc -eq 2 ]
	ok $? "stdin not a terminal: no batch in this build, exit 2"
else
	[ $rc -eq 0 ] && [ -s "$TUI_TMP/out" ]
	ok $? "stdin not a terminal: runs batch mode"
fi
done_testing
