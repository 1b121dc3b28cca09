# 605-engine-make-model.sh - scripts/make-model writes models the engine
# loads and runs: the DeepSeek-V2-Lite shape (MLA, dense first layer,
# shared experts) and the gpt-oss-20b shape (sinks, biases, MXFP4
# experts), cut to a few layers and a fixture's small vocabulary; --skew
# concentrates routing (lower load entropy than the uniform model); and
# bench --sweep reports the mmap baseline and each budget.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixtures"
MM="$top_builddir/scripts/make-model"
[ -x "$MM" ] || skip_all "scripts/make-model not built"
D=$(mktemp -d) || exit 1
trap 'rm -rf "$D"' EXIT

"$MM" --shape deepseek-v2-lite --type q4_k_m --layers 2 \
    --vocab "$FIXTURES/models/deepseek2/deepseek2-q8_0.gguf" -o "$D/ds.gguf"
ok $? "deepseek-v2-lite shape written"
"$MOESCOPE" inspect "$D/ds.gguf" | grep -q 'leading dense layers *1'
ok $? "... with its dense first layer"
n=$("$MOESCOPE" run "$D/ds.gguf" --tokens 1,2,3 --ids -n 4 --temp 0 | wc -l)
[ "$n" -eq 4 ]; ok $? "... and it generates ($n tokens)"

"$MM" --shape gpt-oss-20b --type q8_0 --layers 1 \
    --vocab "$FIXTURES/models/gpt-oss/gpt-oss-q8_0.gguf" -o "$D/go.gguf"
ok $? "gpt-oss-20b shape written"
"$MOESCOPE" inspect "$D/go.gguf" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
types = {t["type"] for t in d["tensors"] if "_exps.weight" in t["name"]}
assert types == {"MXFP4"}, types
'
ok $? "... with MXFP4 experts"
n=$("$MOESCOPE" run "$D/go.gguf" --tokens 1,2,3 --ids -n 4 --temp 0 | wc -l)
[ "$n" -eq 4 ]; ok $? "... and it generates ($n tokens)"

ent() {	# the mean load entropy of a trace of model $1
	"$MOESCOPE" route "$1" --tokens "$(seq -s, 10 10 400)" -n 40 --temp 0.7 \
	    --seed 3 --threads 1 -o "$D/tr.jsonl" &&
	"$MOESCOPE" cachesim "$D/tr.jsonl" --stats | awk '$1=="mean" {print $3}'
}
"$MM" --shape tiny --type q8_0 --seed 9 -o "$D/s0.gguf" &&
"$MM" --shape tiny --type q8_0 --seed 9 --skew 3 -o "$D/s3.gguf"
ok $? "tiny models with and without skew"
e0=$(ent "$D/s0.gguf"); e3=$(ent "$D/s3.gguf")
awk "BEGIN { exit !($e3 < $e0) }"; ok $? "skew concentrates routing (entropy $e3 < $e0)"

"$MOESCOPE" bench "$D/s3.gguf" --threads 1 -p 8 -n 4 --reps 1 \
    --sweep 60%,100% --json > "$D/b.json" 2>/dev/null
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
b = [r["budget"] for r in d["runs"]]
assert b == ["mmap", "60%", "100%"], b
assert d["runs"][2]["hit_rate"] > 0 and d["bandwidth_gbs"] > 0
' "$D/b.json"
ok $? "bench --sweep: the mmap baseline, then each budget"
done_testing
