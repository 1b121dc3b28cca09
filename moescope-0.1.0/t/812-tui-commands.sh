#!/bin/sh
# 812-tui-commands.sh - slash commands on a real terminal: Tab completes,
# /set changes sampling (max-tokens shows in the next reply), bad values
# are refused with a message, /system lengthens the templated prompt and
# is saved, /save + /load round-trip, a broken /load file is an error in
# the chat (nothing else changes), /clear, /regen, /help, F1 help.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

tui_start 200 50 -- chat "$QWEN3" --temp 0 -n 8 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"

tui_type "/he"
tui_keys Tab
tui_wait '^> /help *$' 10
ok $? "Tab completes /he to /help"
tui_keys Enter
tui_wait '/regen +generate the last reply again' 10
ok $? "/help lists the commands"

tui_type "/set max-tokens 5"
tui_keys Enter
tui_wait 'max-tokens = 5' 10
ok $? "/set max-tokens acknowledged"
tui_type "/set top-k banana"
tui_keys Enter
tui_wait "/set top-k: 'banana' is not a non-negative integer" 10
ok $? "/set with a bad value is refused"
tui_type "/set temp 0"
tui_keys Enter
tui_wait 'temp = 0' 10
ok $? "/set temp"

tui_type "hi"
tui_keys Enter
tui_wait '\| 5 tok \| max tokens\]' 30
ok $? "/set max-tokens takes effect: a 5-token reply"
p1=$(tui_cap | grep -Eo '\[[0-9]+ prompt tok' | tail -1 | tr -dc 0-9)

tui_type "/clear"
tui_keys Enter
tui_wait 'new conversation' 10
ok $? "/clear"
tui_type "/system You are a terse pirate who answers in rhymes."
tui_keys Enter
tui_wait '^ # You are a terse pirate' 10
ok $? "/system shown"
tui_type "hi"
tui_keys Enter
tui_wait '\| 5 tok \| max tokens\]' 30
p2=$(tui_cap | grep -Eo '\[[0-9]+ prompt tok' | tail -1 | tr -dc 0-9)
[ -n "$p1" ] && [ -n "$p2" ] && [ "$p2" -gt "$p1" ]
ok $? "/system takes effect: the prompt grew from $p1 to $p2 tokens"

tui_type "/regen"
tui_keys Enter
tui_wait '\(1 new\).*\| 5 tok \| max tokens\]' 30
ok $? "/regen produces a new reply (the cached prompt is reused)"
n=$(tui_cap | grep -c '^ ❯ hi')
[ "$n" -eq 1 ]
ok $? "/regen replaced the reply, not the prompt"

tui_type "/save $TUI_TMP/c.json"
tui_keys Enter
tui_wait 'saved to' 10
grep -q '"system": "You are a terse pirate' "$TUI_TMP/c.json"
ok $? "/save writes the system prompt"

printf '{"messages": [{"role": "user", "content": ' >"$TUI_TMP/bad.json"
tui_type "/load $TUI_TMP/bad.json"
tui_keys Enter
tui_wait '! /load: .*bad\.json: line' 10
ok $? "a broken /load file is a clear error"
tui_cap | grep -q '^ ❯ hi'
ok $? "... and the conversation is unchanged"

tui_type "/clear"
tui_keys Enter
tui_type "/load $TUI_TMP/c.json"
tui_keys Enter
tui_wait 'loaded .*c\.json' 10
ok $? "/load of the saved file"
tui_cap | grep -q '^ ❯ hi'
ok $? "... brings the conversation back"

tui_keys F1
tui_wait 'help - Esc closes' 10
ok $? "F1 opens the help overlay"
tui_keys Escape
tui_wait_gone 'help - Esc closes'
ok $? "Esc closes it"

tui_type "/frobnicate"
tui_keys Enter
tui_wait 'unknown command /frobnicate' 10
ok $? "unknown commands are named"
tui_type "/quit"
tui_keys Enter
tui_wait 'EXIT=0' 20
ok $? "/quit exits 0"
tui_modes_ok
ok $? "terminal modes restored"
done_testing
