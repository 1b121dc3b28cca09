#!/bin/sh
# 811-tui-stop.sh - Ctrl-C stops a long generation at once and keeps the
# conversation (the partial reply is saved by /save); the UI stays live
# while a reply streams (typing works); Ctrl-C twice at an empty prompt
# quits with the terminal restored.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

tui_start 200 50 -- chat "$MIXTRAL" --ctx 65536 -n 1000000 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"
tui_type "/tokens $MIXTRAL_IDS"
tui_keys Enter
tui_wait 'generating' 30
ok $? "generating"
# the UI is not blocked by the engine: typing shows up mid-reply
tui_type "typed while streaming"
tui_wait '^> typed while streaming' 10
ok $? "input stays live during generation"
tui_keys C-u
t0=$(date +%s)
tui_keys C-c
tui_wait '\| stopped\]' 20
ok $? "Ctrl-C stops the reply"
t1=$(date +%s)
[ $((t1 - t0)) -le 5 ]
ok $? "stopped within 5 s ($((t1 - t0)) s)"
tok=$(tui_cap | grep -Eo '\| [0-9]+ tok \| stopped' | grep -Eo '[0-9]+')
[ -n "$tok" ] && [ "$tok" -lt 1000000 ] && [ "$tok" -gt 0 ]
ok $? "partial reply of $tok tokens"
tui_wait_gone '^ moescope - .*generating'
ok $? "title no longer says generating"

tui_type "/save $TUI_TMP/conv.json"
tui_keys Enter
tui_wait 'saved to' 10
grep -q '"role": "assistant"' "$TUI_TMP/conv.json" &&
    grep -q '"tokens"' "$TUI_TMP/conv.json"
ok $? "conversation kept: the partial reply is saved"

tui_keys C-c
tui_wait 'Ctrl-C again quits' 10
ok $? "first Ctrl-C at an empty prompt warns"
tui_keys C-c
tui_wait 'EXIT=0' 20
ok $? "second Ctrl-C quits"
tui_modes_ok
ok $? "terminal modes restored"
done_testing
