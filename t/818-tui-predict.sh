#!/bin/sh
# 818-tui-predict.sh - the routing inspector marks each chosen expert as
# predicted (hit) or not (miss) by the previous layer's state, exactly as
# `moescope route --predict` records the predictions for the same token
# ids (greedy, same model): a check or a cross in a UTF-8 locale, + or -
# in ASCII without colour; each layer's hit count, the token's total, and
# "no prediction" on layer 0.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

"$MOESCOPE" route "$QWEN3" --tokens "$MIXTRAL_IDS" -n 4 --temp 0 \
    --ctx 256 --threads 2 --predict -o "$TUI_TMP/trace.jsonl"
ok $? "moescope route --predict traced the same tokens"

# compare the inspector on screen (stdin) with the trace for position $1;
# $2: utf8 (check and cross marks) or ascii (+ and -)
compare() {
	python3 -c '
import json, re, sys
pos = int(sys.argv[2])
hit, miss = ("\u2713", "\u2717") if sys.argv[3] == "utf8" else ("+", "-")
rec = [json.loads(l) for l in open(sys.argv[1])][pos]
want, nh, nt = [], 0, 0
for L in rec["layers"]:
    ex, pr = L["experts"], L.get("predicted")
    cells = [((" " if pr is None else hit if e in pr else miss), e,
        "%.2f" % w) for e, w in zip(ex, L["weights"])]
    if pr is None:
        tail = "no prediction" if L["layer"] == 0 else ""
    else:
        h = sum(e in pr for e in ex)
        nh, nt = nh + h, nt + len(ex)
        tail = "%d/%d" % (h, len(ex))
    want.append((L["layer"], cells, tail))
got, total = [], None
for line in sys.stdin.buffer.read().decode("utf-8").splitlines():
    m = re.search(r"(?:%s|\+) predicted (\d+)/(\d+)" % re.escape(hit), line)
    if m:
        total = (int(m.group(1)), int(m.group(2)))
    m = re.search(r"[\u2502|]([ \d]{3}) (.*?)\s*[\u2502|]\s*$", line)
    if m is None or not re.search(r":\d\.\d\d", m.group(2)):
        continue
    rest = m.group(2)
    cells = [(c, int(e), w) for c, e, w in
        re.findall(r"(.)([ \d]{3}):(\d\.\d\d)", rest)]
    t = re.search(r"(\d+/\d+|no prediction)$", rest)
    got.append((int(m.group(1)), cells, t.group(1) if t else ""))
ok = got == want and total == (nh, nt)
if not ok:
    print("# got   %r total %r" % (got, total))
    print("# want  %r total %r" % (want, (nh, nt)))
sys.exit(0 if ok else 1)
' "$TUI_TMP/trace.jsonl" "$1" "$2"
}

check() {	# check POS utf8|ascii
	tui_wait "inspect - pos $1 of" 10 || return 1
	tui_cap | compare "$@"
}

# a position whose layer 1 has both hits and misses, and one all hit,
# among the 23 the chat shows (route also evaluates the last sample)
pick=$(python3 -c '
import json, sys
mixed = full = None
for l in open(sys.argv[1]):
    d = json.loads(l)
    L = d["layers"][1]
    h = sum(e in L["predicted"] for e in L["experts"])
    if d["pos"] >= 22:
        break
    if 0 < h < len(L["experts"]) and mixed is None:
        mixed = d["pos"]
    if h == len(L["experts"]) and full is None:
        full = d["pos"]
print(mixed, full)' "$TUI_TMP/trace.jsonl")
set -- $pick
mixed=$1 full=$2
[ "$mixed" != None ] && [ "$full" != None ]
ok $? "the trace has a token with misses ($mixed) and one all hit ($full)"

right() {	# move the cursor from position 0 to $1
	i=0
	while [ "$i" -lt "$1" ]; do
		tui_keys Right
		i=$((i + 1))
	done
}

tui_start 200 45 -- chat "$QWEN3" --temp 0 -n 4 --ctx 256 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"
tui_type "/tokens $MIXTRAL_IDS"
tui_keys Enter
tui_wait '\| 4 tok \| max tokens\]' 30
ok $? "4 tokens generated"
tui_keys F3
tui_wait 'inspect - pos 22 of 23' 10
ok $? "F3 enters inspect mode"
check 22 utf8
ok $? "position 22 (generated): marks, counts, total as traced"
tui_keys Home
tui_wait 'inspect - pos 0 of' 10
right "$mixed"
check "$mixed" utf8
ok $? "position $mixed: a cross on each expert layer 0's state did not predict"
tui_keys Home
tui_wait 'inspect - pos 0 of' 10
right "$full"
check "$full" utf8
ok $? "position $full: every expert checked"
tui_cap | grep -Eq '^.*[│|]  0 .*no prediction *[│|] *$'
ok $? "layer 0 says it has no prediction"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
tui_tmux kill-server
tui_reap

# ASCII and no colour: the marks are characters
tui_start 200 45 LC_ALL=C NO_COLOR=1 -- chat "$QWEN3" --temp 0 -n 4 \
    --ctx 256 --threads 2
tui_wait 'loaded' 60
tui_type "/tokens $MIXTRAL_IDS"
tui_keys Enter
tui_wait '\| 4 tok \| max tokens\]' 30
ok $? "ASCII, NO_COLOR: 4 tokens generated"
tui_keys F3
tui_wait 'inspect - pos 22 of 23' 10
tui_keys Home
tui_wait 'inspect - pos 0 of' 10
right "$mixed"
check "$mixed" ascii
ok $? "ASCII, NO_COLOR: position $mixed marked with + and -"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
done_testing
