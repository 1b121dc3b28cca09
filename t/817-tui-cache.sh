#!/bin/sh
# 817-tui-cache.sh - the cache panel: without a budget every expert is
# resident (mmap); with --ram-budget 40% it shows the policy, the budget
# against all expert bytes, the hit rate, bytes/s, stall time, the
# prefetcher's accuracy and, per layer, which experts are in RAM.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"

tui_start 200 45 -- chat "$QWEN3" --temp 0 -n 16 --threads 2
tui_wait '· loaded' 60
ok $? "loaded without a budget"
tui_wait 'all resident \(mmap\)' 10
ok $? "no budget: all resident"
tui_keys C-d
tui_wait 'EXIT=0' 20
tui_tmux kill-server
tui_reap

tui_start 200 45 -- chat "$QWEN3" --temp 0 -n 16 --threads 2 \
    --ram-budget 40% --cache-policy lfu
tui_wait '· loaded' 60
ok $? "loaded with --ram-budget 40%"
tui_wait 'lfu \+prefetch +ram [0-9.]+K/408K' 10
ok $? "policy, prefetch and budget/expert bytes"
tui_type "Hello there"
tui_keys Enter
tui_wait '\| 16 tok \| max tokens\]' 60
ok $? "a reply through the expert cache"
tui_wait 'hit [0-9.]+% [0-9.]+[KMGB]?/s stall [0-9]+ms' 10
ok $? "hit rate, bytes/s, stall time"
tui_cap | grep -Eq 'prefetch guess [0-9]+% right'
ok $? "prefetch accuracy"
n=$(tui_cap | grep -Ec '│ +[01] +[0-9]+% [·░▒▓█]+ *│')
[ "$n" -eq 2 ]
ok $? "residency map per layer ($n rows)"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"

tui_tmux kill-server
tui_reap
tui_start 120 30 -- chat "$QWEN3" --ram-budget 250%
tui_wait 'EXIT=2' 20
ok $? "a bad budget is a usage error"
grep -q "ram-budget: '250%' is not a percentage" "$TUI_TMP/stderr"
ok $? "... saying so"
done_testing
