#!/bin/sh
# 814-tui-resize.sh - resizing at any time: 80x24 (the smallest full
# layout), 200x60, a narrow terminal (chat only), a too-small one (a
# notice), and back. After each resize the frame is whole (title on top,
# key hints at the bottom, every line within the width) and consistent
# (a full repaint changes nothing: no stale cells).
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

frame_ok() {	# frame_ok W H
	tui_wait 'F1 help|too small' 10 || return 1
	sleep 0.2
	[ "$(tui_cap | wc -l)" -eq "$2" ] || { diag "not $2 lines"; return 1; }
	tui_fits "$1" || { diag "a line is wider than $1"; return 1; }
	tui_cap | head -1 | grep -q '^ moescope - ' ||
	    { diag "no title line"; return 1; }
	tui_cap | tail -1 | grep -q 'F1 help' ||
	    { diag "no key hints at the bottom"; return 1; }
	tui_clean || { diag "a repaint changed the screen"; return 1; }
}

tui_start 120 40 -- chat "$QWEN3" --temp 0 -n 40 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"
tui_type "Tell me a story about experts"
tui_keys Enter
# resize right away, while the reply may still stream
tui_resize 80 24
tui_wait '\| max tokens\]' 60
frame_ok 80 24
ok $? "80x24: whole, consistent frame"
tui_cap | grep -q 'experts - ' && tui_cap | grep -q 'balance'
ok $? "80x24: heatmap and balance panels shown"
tui_cap | grep -q '❯ Tell me a story'
ok $? "80x24: the conversation is there"

tui_resize 200 60
frame_ok 200 60
ok $? "200x60: whole, consistent frame"
tui_cap | grep -q 'tokens/s' && tui_cap | grep -q 'cache'
ok $? "200x60: all panels"

tui_resize 60 20
frame_ok 60 20
ok $? "60x20: whole, consistent frame"
tui_cap | grep -q 'experts - '
[ $? -ne 0 ]
ok $? "60x20: panels dropped, chat only"

tui_resize 30 8
tui_wait 'too small' 10
ok $? "30x8: a 'terminal too small' notice"
tui_fits 30
ok $? "30x8: nothing drawn past the edge"

tui_resize 120 40
# the "too small" notice is still on screen until the redraw: wait for
# the full layout's key hints before checking the frame
tui_wait 'F1 help' 10 && frame_ok 120 40
ok $? "back to 120x40"
tui_cap | grep -q 'experts - '
ok $? "panels are back"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
done_testing
