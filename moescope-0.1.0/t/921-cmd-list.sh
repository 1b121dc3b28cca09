# 921-cmd-list.sh - `moescope list`: an empty store says how to add a
# model; models are listed with their architecture; a broken file is
# listed with its error; --json is valid JSON. Also `cachesim` on a real
# trace and its errors.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixtures"
H=$(mktemp -d) || exit 1
trap 'rm -rf "$H"' EXIT
mkdir -p "$H/models"

out=$(MOESCOPE_HOME=$H "$MOESCOPE" list)
echo "$out" | grep -q "no models in $H/models"; ok $? "empty store explained"

cp "$FIXTURES/models/olmoe/olmoe-q8_0.gguf" "$H/models/tiny.gguf"
printf 'junk' > "$H/models/broken.gguf"
out=$(MOESCOPE_HOME=$H "$MOESCOPE" list)
echo "$out" | grep -q "^tiny .*olmoe"; ok $? "model listed with its arch"
echo "$out" | grep -q "^broken .*bad magic"; ok $? "broken file listed with its error"
MOESCOPE_HOME=$H "$MOESCOPE" list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["models"]) == 2'
ok $? "--json parses, two models"

# cachesim on a trace route writes
"$MOESCOPE" route "$FIXTURES/models/olmoe/olmoe-q8_0.gguf" -p "The quick brown fox" \
    -n 24 --temp 0 --threads 1 -o "$H/tr.jsonl" 2>/dev/null
ok $? "route writes a trace"
out=$("$MOESCOPE" cachesim "$H/tr.jsonl" --budget 2,4)
echo "$out" | grep -q "^2 *belady"; ok $? "cachesim reports Belady"
lru=$(echo "$out" | awk '$1=="2" && $2=="lru" {print $3+0}')
bel=$(echo "$out" | awk '$1=="2" && $2=="belady" {print $3+0}')
awk "BEGIN { exit !($bel >= $lru) }"; ok $? "Belady ($bel) >= LRU ($lru)"
"$MOESCOPE" cachesim "$H/tr.jsonl" --stats | grep -q "^mean"; ok $? "--stats"
printf '{"not":"a trace"}\n' > "$H/bad.jsonl"
"$MOESCOPE" cachesim "$H/bad.jsonl" 2>"$H/err"; rc=$?
[ $rc -eq 1 ] && grep -q "bad.jsonl:1" "$H/err"; ok $? "bad trace: error names file:line"
"$MOESCOPE" cachesim "$H/tr.jsonl" --budget 0 2>/dev/null
[ $? -eq 2 ]; ok $? "bad budget: usage error"
done_testing
