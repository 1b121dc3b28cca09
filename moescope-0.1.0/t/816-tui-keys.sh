#!/bin/sh
# 816-tui-keys.sh - the input line and the view keys: Alt-Enter inserts a
# newline, a bracketed paste keeps its newlines without sending, history
# comes back with Up (also after a restart: it is persisted), Ctrl-W and
# Ctrl-U edit, F2 cycles the heatmap mode, Tab + F5 hide a panel and F5
# at the input shows them again, F4 zooms, PgUp scrolls the chat back.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

tui_start 120 40 -- chat "$QWEN3" --temp 0 -n 8 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"

tui_type "first line"
tui_keys M-Enter
tui_type "second line"
tui_wait '^  second line' 10 && tui_cap | grep -q '^> first line'
ok $? "Alt-Enter inserts a newline (two input lines)"
tui_keys C-u
tui_wait '^> message, or /help' 10
ok $? "Ctrl-U clears back to the start"

tui_tmux set-buffer "$(printf 'pasted one\npasted two')"
tui_tmux paste-buffer -p
tui_wait '^  pasted two' 10
ok $? "a bracketed paste keeps its newline"
sleep 0.3
tui_cap | grep -q 'prompt tok'
[ $? -ne 0 ]
ok $? "... and does not send"
tui_keys Enter
tui_wait '\| 8 tok \| max tokens\]' 30
ok $? "Enter sends the pasted text"
tui_cap | grep -q '^   pasted two'
ok $? "the message keeps both lines"

tui_type "some words here"
tui_keys C-w
tui_wait '^> some words *$' 10
ok $? "Ctrl-W deletes a word"
tui_keys C-u Up
tui_wait '^> pasted one' 10
ok $? "Up recalls the last message"
tui_keys Down
tui_wait '^> message, or /help' 10
ok $? "Down returns to an empty line"

tui_wait 'experts - decayed load' 5
ok $? "heatmap starts in decayed mode"
tui_keys F2
tui_wait 'experts - load, whole chat' 5
ok $? "F2: whole-chat load"
tui_keys F2
tui_wait 'experts - gate weight, this token' 5
ok $? "F2: this token's gate weights"

tui_keys Tab Tab
tui_keys F5
tui_wait_gone '─ balance ─'
ok $? "Tab twice focuses balance, F5 hides it"
tui_keys F5
tui_wait '─ balance ─' 5
ok $? "F5 at the input shows all panels again"
tui_keys F4
tui_wait_gone 'experts - '
ok $? "F4 zooms the chat over the whole width"
tui_keys Escape
tui_wait 'experts - ' 5
ok $? "Esc unzooms"

for i in 1 2 3 4 5 6; do
	tui_type "/help"
	tui_keys Enter
done
tui_keys PPage
tui_wait 'lines below' 5
ok $? "PgUp scrolls the chat back"
tui_keys NPage NPage NPage NPage NPage NPage NPage
tui_wait_gone 'lines below'
ok $? "PgDn returns to the bottom"

tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
tui_tmux kill-server
tui_reap
tui_start 120 40 -- chat "$QWEN3"
tui_wait '· loaded' 60
tui_keys Up
tui_wait '^> /help' 10
ok $? "history persists across runs"
tui_keys C-u C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
done_testing
