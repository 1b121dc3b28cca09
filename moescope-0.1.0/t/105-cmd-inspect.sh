# 105-cmd-inspect.sh - moescope inspect on every fixture GGUF (text and
# --json, checked with a JSON parser and against an independent count of
# the decode bytes), a safetensors file, a Hugging Face folder, a name in
# the local store; bad files exit 1 with a message naming them; bad usage
# exits 2.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixtures"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
tmp=$(mktemp -d /tmp/moescope-t105-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for f in "$FIXTURES"/models/*/*.gguf; do
	b=$(basename "$f" .gguf)
	arch=$(basename "$(dirname "$f")")
	"$MOESCOPE" inspect "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	grep -q "^tensors" "$tmp/out" && grep -q "decode bytes / token" "$tmp/out"
	ok $((rc + $?)) "$b: text"
	"$MOESCOPE" inspect "$f" --json >"$tmp/out.json" 2>"$tmp/err"
	ok $? "$b: --json exits 0"
	python3 - "$tmp/out.json" "$arch" <<'PY' >"$tmp/py" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
arch = {"mixtral": "llama"}.get(sys.argv[2], sys.argv[2])
h, t, tot = d["hparams"], d["tokenizer"], d["totals"]
assert d["format"] == "gguf" and d["architecture"] == arch, d["architecture"]
assert len(d["tensors"]) == d["n_tensors"]
assert h["experts"] == 8 and h["experts_used"] in (2, 4) and h["d_model"] == 256
assert h["head_dim"] == (128 if arch == "qwen3moe" else 80 if arch == "deepseek2" else 64)
assert t["vocab_size"] in (1536, 1600) and "eos_id" in t
n_exp, used = h["experts"], h["experts_used"]
tied = not any(x["name"] == "output.weight" for x in d["tensors"])
dec = 0
for x in d["tensors"]:
    if "_exps" in x["name"]:
        dec += x["bytes"] // n_exp * used
    elif x["name"].startswith("token_embd.") and not tied:
        rows = 1
        for s in x["shape"][1:]:
            rows *= s
        dec += x["bytes"] // rows
    else:
        dec += x["bytes"]
assert dec == tot["decode_bytes_per_token"], (dec, tot)
assert sum(x["bytes"] for x in d["tensors"]) == tot["tensor_bytes"]
assert 0 < tot["expert_parameters"] < tot["parameters"]
PY
	rc=$?
	[ $rc -ne 0 ] && diag "$(cat "$tmp/py")"
	ok $rc "$b: JSON parses; hparams, tokenizer, totals check"
done

st="$FIXTURES/models/qwen2moe/hf/model.safetensors"
"$MOESCOPE" inspect "$st" >"$tmp/out" 2>&1
rc=$?
grep -q "safetensors, 1 file" "$tmp/out" && grep -q "shared expert ff *128" "$tmp/out"
ok $((rc + $?)) "safetensors file with its config.json"
for a in mixtral qwen2moe qwen3moe olmoe deepseek2 gpt-oss; do
	"$MOESCOPE" inspect --json "$FIXTURES/models/$a/hf" >"$tmp/hf.json" 2>&1 &&
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "safetensors" and d["hparams"]["experts"] == 8
assert all(x["type"] in ("BF16", "U8") for x in d["tensors"])
assert any(".experts." in x["name"] for x in d["tensors"])
' "$tmp/hf.json"
	ok $? "$a: Hugging Face folder --json"
done

# local store name
mkdir -p "$tmp/home/models"
ln -s "$FIXTURES/models/olmoe/olmoe-q8_0.gguf" "$tmp/home/models/tiny.gguf"
MOESCOPE_HOME="$tmp/home" "$MOESCOPE" inspect tiny >"$tmp/out" 2>&1
rc=$?
grep -q "architecture *olmoe" "$tmp/out"
ok $((rc + $?)) "a name in \$MOESCOPE_HOME/models"
MOESCOPE_HOME="$tmp/home" "$MOESCOPE" inspect nosuch >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "nosuch" "$tmp/out" && grep -q "$tmp/home/models" "$tmp/out"
ok $? "unknown name: exit 1, says where it looked"

# hostile files
head -c 1000 "$FIXTURES/models/mixtral/mixtral-q8_0.gguf" >"$tmp/cut.gguf"
"$MOESCOPE" inspect "$tmp/cut.gguf" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$tmp/cut.gguf" "$tmp/err" && grep -q -e "truncated" -e "exceeds the file" "$tmp/err"
ok $? "truncated GGUF: exit 1, message names the file"
printf 'GGUF\003\000\000\000\377\377\377\377\377\377\377\377\000\000\000\000\000\000\000\000' >"$tmp/huge.gguf"
"$MOESCOPE" inspect "$tmp/huge.gguf" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "tensor count" "$tmp/err"
ok $? "tensor count 2^64-1: exit 1 ($(cat "$tmp/err"))"
printf '\021\000\000\000\000\000\000\000{"a":{"dtype":1}}' >"$tmp/bad.safetensors"
"$MOESCOPE" inspect "$tmp/bad.safetensors" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "bad.safetensors" "$tmp/err" && grep -q "dtype" "$tmp/err"
ok $? "bad safetensors header: exit 1 ($(cat "$tmp/err"))"
echo 'not a model' >"$tmp/x.gguf"
"$MOESCOPE" inspect "$tmp/x.gguf" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "not a GGUF file" "$tmp/err"
ok $? "text file named .gguf: exit 1, not a GGUF file"
"$MOESCOPE" inspect "$tmp/none.gguf" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "none.gguf" "$tmp/err"
ok $? "missing file: exit 1"

# usage
"$MOESCOPE" inspect >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "no MODEL: exit 2"
"$MOESCOPE" inspect --bogus "$st" >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "unknown option: exit 2"
"$MOESCOPE" inspect a b >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "two MODELs: exit 2"
"$MOESCOPE" inspect --help >"$tmp/out" 2>&1
rc=$?
grep -q "usage: moescope inspect MODEL" "$tmp/out"
ok $((rc + $?)) "--help: usage on stdout, exit 0"
"$MOESCOPE" --help | grep -q "inspect MODEL"
ok $? "moescope --help lists inspect"
done_testing
