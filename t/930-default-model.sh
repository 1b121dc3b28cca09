# 930-default-model.sh - the embedded default model (models/default.gguf):
# it loads and answers in chat format, and its last layer routes a Bible
# verse, a line of C and a sum to different experts (the point of shipping
# it: experts that visibly specialise); run and batch use it when given
# no MODEL.
. "$top_srcdir/t/tap.sh"
M="$top_srcdir/models/default.gguf"
[ -f "$M" ] || skip_all "no models/default.gguf"
H=$(mktemp -d) || exit 1
trap 'rm -rf "$H"' EXIT

out=$("$MOESCOPE" run "$M" --chat -p "Hello" --temp 0 -n 24 --threads 1)
ok $? "run --chat on the default model"
[ -n "$out" ]; ok $? "it answers"

# no MODEL: run and batch find it (installed copy, else the source tree)
out=$(env -u MOESCOPE_DEFAULT_MODEL "$MOESCOPE" run --chat \
    -p "What is 12 + 34?" --temp 0 -n 16 --threads 1)
echo "$out" | grep -q "^12 + 34 = "; ok $? "run with no MODEL: the default model"
out=$(echo "What is 5 + 3?" | env -u MOESCOPE_DEFAULT_MODEL "$MOESCOPE" \
    batch --threads 1 -n 8)
echo "$out" | grep -q '"text"'; ok $? "batch with no MODEL: the default model"

# top expert of the last layer, most frequent over the prompt's tokens
top() {
	"$MOESCOPE" route "$M" -p "$1" --threads 1 -o "$H/tr.jsonl" \
	    >/dev/null 2>&1 || return 1
	python3 -c '
import json, sys, collections
c = collections.Counter()
for ln in open(sys.argv[1]):
    c[json.loads(ln)["layers"][-1]["experts"][0]] += 1
print(c.most_common(1)[0][0])' "$H/tr.jsonl"
}
b=$(top "In the beginning God created the heavens and the earth. The earth was formless and empty.")
ok $? "route a Bible verse"
c=$(top "static int inflate_fast(z_streamp strm, unsigned start) { return Z_OK; }")
ok $? "route a line of C"
s=$(top "12 + 34 = 46
57 + 21 = 78
60 + 19 = 79")
ok $? "route sums"
diag "last layer's busiest expert: bible $b, C $c, sums $s"
[ "$b" != "$c" ] && [ "$c" != "$s" ] && [ "$b" != "$s" ]
ok $? "Bible, C and sums prefer different experts"

# the KV cache type: f16 answers too and stays close to f32; a bad value
# is a usage error naming the flag
o32=$("$MOESCOPE" logits "$M" --tokens 1,2,3,4,5 -o "$H/l32.bin" --threads 1 \
    --kv-type f32 2>&1)
ok $? "logits with --kv-type f32"
"$MOESCOPE" logits "$M" --tokens 1,2,3,4,5 -o "$H/l16.bin" --threads 1 \
    --kv-type f16 >/dev/null 2>&1
ok $? "logits with --kv-type f16"
python3 -c '
import struct, sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
n = len(a) // 4
x = struct.unpack("%df" % n, a); y = struct.unpack("%df" % n, b)
d = max(abs(p - q) for p, q in zip(x, y))
sys.exit(0 if len(a) == len(b) and n > 0 and 0 < d < 0.15 else 1)
' "$H/l32.bin" "$H/l16.bin"
ok $? "f16 logits differ from f32 by F16 rounding (Q8_0 weights: < 0.15, as t/601)"
err=$("$MOESCOPE" run "$M" --tokens 1 -n 1 --kv-type f8 2>&1)
[ $? -eq 2 ] && echo "$err" | grep -q -- "--kv-type: 'f8'"
ok $? "--kv-type f8: usage error naming the flag"
done_testing
