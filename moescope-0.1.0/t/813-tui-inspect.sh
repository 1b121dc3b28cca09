#!/bin/sh
# 813-tui-inspect.sh - the routing inspector shows, for the token under
# the cursor, each layer's experts and gate weights exactly as
# `moescope route` traces them for the same token ids (greedy, same
# model): positions 0, 5 and the last one, every layer.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

"$MOESCOPE" route "$MIXTRAL" --tokens "$MIXTRAL_IDS" -n 4 --temp 0 \
    --ctx 256 --threads 2 -o "$TUI_TMP/trace.jsonl"
ok $? "moescope route traced the same tokens"

# "E:W E:W" for layer L of position P, from the trace
expect() {
	sed -n "$(($1 + 1))p" "$TUI_TMP/trace.jsonl" |
	    sed 's/},{/}\n{/g' | grep "\"layer\":$2," |
	    sed 's/.*"experts":\[\([^]]*\)\],"weights":\[\([^]]*\)\].*/\1 \2/' |
	    awk '{ n = split($1, e, ","); split($2, w, ",");
	        for (i = 1; i <= n; i++)
	            printf "%s%d:%.2f", (i > 1 ? " " : ""), e[i], w[i];
	        print "" }'
}

# "E:W E:W" per layer, one line each, from the inspector on screen
shown() {
	tui_cap | grep -E ' [0-9]+:[0-9]\.[0-9]{2}' | while IFS= read -r l; do
		echo "$l" | grep -Eo '[0-9]+:[0-9]\.[0-9]{2}' | tr '\n' ' ' |
		    sed 's/ $//'
		echo
	done
}

check() {	# check POS
	tui_wait "inspect - pos $1 of" 10 || return 1
	got=$(shown)
	want=$( (expect "$1" 0; expect "$1" 1) )
	if [ "$got" != "$want" ]; then
		diag "pos $1: got"; diag "$got"; diag "want"; diag "$want"
		return 1
	fi
	return 0
}

tui_start 200 45 -- chat "$MIXTRAL" --temp 0 -n 4 --ctx 256 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"
tui_type "/tokens $MIXTRAL_IDS"
tui_keys Enter
tui_wait '\| 4 tok \| max tokens\]' 30
ok $? "4 tokens generated"
tui_keys F3
tui_wait 'inspect - pos 22 of 23' 10
ok $? "F3 enters inspect mode at the newest token"
tui_keys Home
check 0
ok $? "position 0: experts and weights equal the route trace"
tui_keys Right Right Right Right Right
check 5
ok $? "position 5 (after 5 x Right) equals the trace"
tui_keys End
check 22
ok $? "position 22 (a generated token) equals the trace"
tui_cap | grep -q 'generated'
ok $? "the inspector says the token was generated"
tui_keys Enter
tui_wait 'pinned' 10
ok $? "Enter pins the cursor"
tui_keys Escape
tui_wait_gone 'inspect - pos'
ok $? "Esc leaves inspect mode"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
done_testing
