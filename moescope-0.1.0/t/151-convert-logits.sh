# 151-convert-logits.sh - models converted by `moescope convert` run:
# for each fixture, the f32 and q8_0 conversions' logits (moescope
# logits) are within the fixtures README's tolerances of llama.cpp's
# reference logits; the CLI's errors (unknown --type, missing folder,
# unsupported architecture) exit 2 / 1 with a message.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixtures"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
tmp=$(mktemp -d /tmp/moescope-t151-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for a in mixtral qwen2moe qwen3moe olmoe deepseek2 gpt-oss; do
	ref="$FIXTURES/models/$a/reference"
	ids=$(python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["ids"])))' "$ref/tokens.json")
	for v in f32 q8_0; do
		"$MOESCOPE" convert -q "$FIXTURES/models/$a/hf" --type $v \
		    -o "$tmp/$a-$v.gguf" 2>"$tmp/err"
		ok $? "$a: convert --type $v"
		"$MOESCOPE" logits "$tmp/$a-$v.gguf" --tokens "$ids" \
		    -o "$tmp/logits.bin" --threads 2 2>"$tmp/err"
		ok $? "$a $v: moescope logits"
		python3 - "$tmp/logits.bin" "$ref/logits-$v.bin" $v <<'PY' >"$tmp/py" 2>&1
import struct, sys
a = open(sys.argv[1], "rb").read()
b = open(sys.argv[2], "rb").read()
assert len(a) == len(b), (len(a), len(b))
n = len(a) // 4
x = struct.unpack("<%df" % n, a)
y = struct.unpack("<%df" % n, b)
d = max(abs(p - q) for p, q in zip(x, y))
tol = 1e-3 if sys.argv[3] == "f32" else 0.08
print("max |diff| %.3g (tol %g)" % (d, tol))
assert d <= tol
PY
		rc=$?
		diag "$(cat "$tmp/py")"
		ok $rc "$a $v: logits match llama.cpp's reference"
	done
done

"$MOESCOPE" convert "$FIXTURES/models/qwen3moe/hf" -o "$tmp/x.gguf" \
    --type q3_xx >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "q3_xx" "$tmp/out"
ok $? "unknown --type: exit 2, names it"
"$MOESCOPE" convert "$tmp/nosuch" -o "$tmp/x.gguf" >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "nosuch" "$tmp/out" && [ ! -e "$tmp/x.gguf" ]
ok $? "missing folder: exit 1, names it, no output"
mkdir "$tmp/bad"
printf '{"architectures": ["BertModel"], "num_hidden_layers": 2}' \
    >"$tmp/bad/config.json"
"$MOESCOPE" convert "$tmp/bad" -o "$tmp/x.gguf" >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "BertModel" "$tmp/out" && [ ! -e "$tmp/x.gguf" ]
ok $? "unsupported architecture: exit 1, names it"

# hostile inputs: each error names the file (or tensor), nothing written
hf="$FIXTURES/models/qwen3moe/hf"
mk() { rm -rf "$tmp/m"; mkdir "$tmp/m"; cp "$hf"/* "$tmp/m/"; chmod u+w "$tmp/m"/*; }
bad() {	# bad DESCRIPTION PATTERN
	"$MOESCOPE" convert "$tmp/m" -o "$tmp/x.gguf" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q -- "$2" "$tmp/out" && [ ! -e "$tmp/x.gguf" ]
	r=$?
	[ $r -ne 0 ] && diag "rc $rc: $(cat "$tmp/out")"
	ok $r "$1"
}
mk; head -c 100000 "$hf/model.safetensors" >"$tmp/m/model.safetensors"
bad "truncated safetensors" "model.safetensors"
mk; printf '{"model": {"type": "BPE", "vocab": {' >"$tmp/m/tokenizer.json"
bad "bad tokenizer.json" "tokenizer.json"
mk; printf '{"vocab_size": ' >"$tmp/m/config.json"
bad "bad config.json" "config.json"
mk; python3 - "$hf/model.safetensors" "$tmp/m/model.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
del h["model.layers.1.self_attn.k_proj.weight"]
j = json.dumps(h).encode()
j += b" " * (-len(j) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(j)) + j + b[8 + n:])
PY
bad "missing tensor: named" "model.layers.1.self_attn.k_proj.weight"
mk; python3 - "$hf/model.safetensors" "$tmp/m/model.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["model.layers.0.mlp.frobnicator.weight"] = h.pop("model.layers.0.mlp.gate.weight")
j = json.dumps(h).encode()
j += b" " * (-len(j) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(j)) + j + b[8 + n:])
PY
bad "unknown tensor: named" "model.layers.0.mlp.frobnicator.weight"
# SentencePiece: a truncated tokenizer.model
rm -rf "$tmp/m"; mkdir "$tmp/m"; cp "$FIXTURES/models/mixtral/hf"/* "$tmp/m/"
chmod u+w "$tmp/m"/*
head -c 5000 "$FIXTURES/models/mixtral/hf/tokenizer.model" >"$tmp/m/tokenizer.model"
bad "truncated tokenizer.model" "tokenizer.model"
printf '\x0a\xff\xff\xff\xff\x0f' >"$tmp/m/tokenizer.model"
bad "hostile tokenizer.model length" "tokenizer.model"
done_testing
