#!/bin/sh
# 810-tui-chat.sh - the chat on a real terminal (tmux): start on a fixture
# model, type a prompt, see the reply stream with its stats line, the
# heatmap fill in; history persists; Ctrl-D quits and restores the
# terminal (no alternate screen, echo/icanon/isig back, mouse off).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

tui_start 200 50 -- chat "$QWEN3" --temp 0 -n 24 --threads 2
tui_wait 'loaded .*qwen3moe' 60
ok $? "model loaded, shown in the chat"
tui_wait 'experts - ' 10
ok $? "heatmap panel drawn"
tui_cap | grep -q 'qwen3moe' && tui_cap | grep -q 'F1 help'
ok $? "title and key hints"

tui_type "Hello there, how are you"
tui_keys Enter
tui_wait '\[[0-9]+ prompt tok .*\| 24 tok \| max tokens\]' 60
ok $? "reply streamed to its stats line"
tui_cap > "$TUI_TMP/screen"
grep -A1 'Hello there, how are you' "$TUI_TMP/screen" | tail -1 |
    grep -Eq '^ {2,}[^ ]'
ok $? "reply text under the prompt"
# the heatmap's layer rows hold heat glyphs now
grep -Eq '│ +[01] [^│]*[·░▒▓█]' "$TUI_TMP/screen"
ok $? "heatmap is not empty"
grep -Eq 'prefill [0-9.]+ tok/s \| decode [0-9.]+ tok/s \| ttft' \
    "$TUI_TMP/screen"
ok $? "stats line: prefill, decode, ttft"
grep -Eq ' +[01] .*[0-9]\.[0-9][0-9] [0-9]\.[0-9][0-9] +[0-9]+%' \
    "$TUI_TMP/screen"
ok $? "balance panel has per-layer figures"

# a second turn sends the whole conversation
tui_type "And then?"
tui_keys Enter
tui_wait_n '\[[0-9]+ prompt tok' 2 30
set -- $(tui_cap | grep -Eo '\[[0-9]+ prompt tok' | tr -d '[' |
    cut -d' ' -f1)
[ $# -eq 2 ] && [ "$2" -gt $(( $1 + 24 )) ]
ok $? "second turn's prompt holds the first exchange ($1, then ${2-})"

tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "Ctrl-D quits with status 0"
tui_modes_ok
ok $? "terminal modes restored: $(tui_cap | grep 'icanon' | tail -1)"
[ "$(tui_fmt '#{alternate_on}')" = 0 ]
ok $? "alternate screen left"
[ "$(tui_fmt '#{mouse_any_flag}#{mouse_standard_flag}')" = 00 ]
ok $? "mouse reporting off"
grep -q 'Hello there, how are you' "$TUI_TMP/home/history"
ok $? "input history saved under MOESCOPE_HOME"
done_testing
