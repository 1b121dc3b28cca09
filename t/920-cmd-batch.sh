# t/920-cmd-batch.sh - `moescope batch` end to end: real input through real
# pipes into the real binary on fixture models; answers are parsed as JSON
# and checked field by field.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixture models"
command -v python3 >/dev/null 2>&1 || skip_all "no python3 to read JSON"
M="$FIXTURES/models/qwen3moe/qwen3moe-q8_0.gguf"
[ -f "$M" ] || skip_all "no qwen3moe fixture"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
B() { "$MOESCOPE" batch "$M" --threads 2 "$@"; }

# check FILE PYTHON-EXPR DESCRIPTION: the expression over `a`, the list of
# parsed output lines, must be true (and every line must be JSON).
check() {
	python3 - "$1" "$2" >"$tmp/why" 2>&1 <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print(json.dumps(a)[:2000])
sys.exit(0 if ok else 1)
PY
	st=$?
	ok $st "$3"
	[ $st -eq 0 ] || diag "$(cat "$tmp/why")"
}

# -- plain lines, JSON prompt and messages, ids --
printf 'Hello world\n{"id":"x","prompt":"The sky","max_tokens":3}\n' \
    >"$tmp/in"
printf '{"id":[1,{"k":null}],"messages":[{"role":"user","content":"hi"}]' \
    >>"$tmp/in"
printf ',"max_tokens":2}\n{"id":null,"prompt":"a"}\n' >>"$tmp/in"
B -n 4 <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
ok $? "plain and JSON requests: exit 0"
check "$tmp/out" 'len(a) == 4' "one answer per request"
check "$tmp/out" '[x["id"] for x in a] == [1, "x", [1, {"k": None}], None]' \
    "ids echoed as given, line numbers when absent"
check "$tmp/out" '[x["usage"]["completion_tokens"] for x in a[:3]] ==
    [4, 3, 2] and all(x["finish_reason"] == "length" for x in a[:3])' \
    "max_tokens and -n limit the answers"
check "$tmp/out" 'all(isinstance(x["text"], str) and
    x["usage"]["prompt_tokens"] > 0 and x["timing"]["prefill_tps"] > 0 and
    "decode_tps" in x["timing"] for x in a)' "text, usage and timing fields"
check "$tmp/out" 'all(len(x["routing"]["load"]) == 2 and
    all(sum(l) == x["routing"]["tokens"] * x["routing"]["k"]
    for l in x["routing"]["load"]) for x in a)' \
    "routing summary: per-layer loads sum to tokens x k"
check "$tmp/out" 'a[2]["usage"]["prompt_tokens"] > 5' \
    "messages go through the chat template"
[ ! -s "$tmp/err" ]; ok $? "nothing on stderr"

# -- plain prompts: raw unless --chat --
printf 'hi\n' | B -n 1 >"$tmp/raw"
printf 'hi\n' | B -n 1 --chat >"$tmp/chat"
printf '{"messages":[{"role":"user","content":"hi"}],"max_tokens":1}\n' |
    B >"$tmp/msg"
cat "$tmp/raw" "$tmp/chat" "$tmp/msg" >"$tmp/out"
check "$tmp/out" 'a[0]["usage"]["prompt_tokens"] <
    a[1]["usage"]["prompt_tokens"] == a[2]["usage"]["prompt_tokens"]' \
    "--chat renders plain prompts as a user message"

# -- errors are lines of their own, and processing continues --
cat >"$tmp/in" <<'EOF'
{"id":1,"prompt":"a","max_tokens":1}
{"id":2,"prompt":
{"id":3,"prompt":"a","max_tokens":"x"}
{"id":4,"prompt":"a","temperature":"hot"}
{"id":5,"prompt":"a","stop":5}
{"id":6,"messages":"hi"}
{"id":7,"messages":[{"role":"user"}]}
{"id":8,"prompt":"a","colour":"red"}
{"id":9,"prompt":"a","messages":[{"role":"user","content":"b"}]}
{"id":10}
{"id":11,"prompt":"a","top_p":2}
{"id":12,"prompt":"a","max_tokens":1.5}
{"id":13,"prompt":"a","seed":-1}
{"id":14,"prompt":"a","session":7}
{"id":"not this","prompt":"a"} trailing
{"id":16,"prompt":"a","max_tokens":1}
EOF
B <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
ok $? "bad lines: still exit 0"
check "$tmp/out" 'len(a) == 16' "one line per input line"
check "$tmp/out" '[i for i, x in enumerate(a) if "error" in x] ==
    list(range(1, 15))' "each bad line gets an error object"
check "$tmp/out" 'all(x["finish_reason"] == "error" for x in a[1:15]) and
    "text" in a[0] and "text" in a[15]' "good lines around them answered"
check "$tmp/out" '[x["id"] for x in a] == [1, 2] + list(range(3, 15)) +
    [15, 16]' "error ids: the given id, else the line number"
check "$tmp/out" '"column" in a[1]["error"] and
    "max_tokens" in a[2]["error"] and "temperature" in a[3]["error"] and
    "stop" in a[4]["error"] and "messages" in a[5]["error"] and
    "content" in a[6]["error"] and "colour" in a[7]["error"] and
    "both" in a[8]["error"] and "prompt" in a[9]["error"] and
    "top_p" in a[10]["error"] and "max_tokens" in a[11]["error"] and
    "seed" in a[12]["error"] and "session" in a[13]["error"] and
    "JSON" in a[14]["error"]' "error messages name the field or problem"
[ ! -s "$tmp/err" ]; ok $? "errors go to stdout, not stderr"

# -- an over-long prompt for the context --
python3 -c 'print("word " * 400); print("short")' |
    B --ctx 64 -n 2 >"$tmp/out"
ok $? "over-long prompt: exit 0"
check "$tmp/out" '"error" in a[0] and "64" in a[0]["error"] and
    "text" in a[1]' "over-long prompt: error naming the context, then on"

# -- blank lines, CRLF, no final newline, invalid UTF-8 --
printf '\n  \nhi\r\n\n\377\376 bad bytes\nlast' | B -n 2 >"$tmp/out"
ok $? "odd lines: exit 0"
check "$tmp/out" '[x["id"] for x in a] == [3, 5, 6]' \
    "blank lines skipped but counted; a last line without newline read"
printf 'hi\n' | B -n 2 >"$tmp/a"
printf 'hi\r\n' | B -n 2 >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { sed 's/"timing":{[^}]*},//' "$tmp/a" >"$tmp/a2"
	sed 's/"timing":{[^}]*},//' "$tmp/b" >"$tmp/b2"; cmp -s "$tmp/a2" \
	"$tmp/b2"; }
ok $? "a CR before the newline is not part of the prompt"

# -- empty input --
B </dev/null >"$tmp/out" 2>"$tmp/err"
ok $? "empty input: exit 0"
[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; ok $? "empty input: no output"

# -- stop strings --
g='"temperature":0,"max_tokens":24'
printf '{"prompt":"Hello world",%s}\n' "$g" | B --no-timing >"$tmp/free"
stop=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["text"]
print(json.dumps(t[len(t) // 2:len(t) // 2 + 3]))' "$tmp/free")
printf '{"prompt":"Hello world",%s,"stop":["zzzq",%s]}\n' "$g" "$stop" |
    B --no-timing >"$tmp/stopped"
cat "$tmp/free" "$tmp/stopped" >"$tmp/out"
check "$tmp/out" 'a[1]["finish_reason"] == "stop" and
    a[1]["text"] == a[0]["text"][:a[0]["text"].find('"$stop"')]' \
    "a stop string ends the answer and is left out"
printf '{"prompt":"Hello world",%s,"stop":%s}\n' "$g" "$stop" |
    B --no-timing --stream >"$tmp/out"
check "$tmp/out" '"".join(x["text"] for x in a[:-1]) == a[-1]["text"] and
    all(x["event"] == "token" for x in a[:-1]) and
    "event" not in a[-1] and a[-1]["finish_reason"] == "stop"' \
    "--stream: token events add up to the answer, stop string held back"

# -- sessions --
cat >"$tmp/in" <<'EOF'
{"session":"s","messages":[{"role":"user","content":"hi there"}],"max_tokens":6,"temperature":0}
{"session":"t","prompt":"One two","max_tokens":3,"temperature":0}
{"session":"t","prompt":" three","max_tokens":3,"temperature":0}
{"session":"s","messages":[{"role":"user","content":"and more"}],"max_tokens":8,"temperature":0}
{"session":"s","messages":[{"role":"user","content":"again"}],"max_tokens":8,"temperature":0}
{"session":"s","prompt":"raw"}
{"messages":[{"role":"user","content":"and more"}],"max_tokens":8,"temperature":0}
EOF
B --no-timing <"$tmp/in" >"$tmp/out"
ok $? "sessions: exit 0"
check "$tmp/out" 'a[1]["usage"]["cached_tokens"] == 0 and
    a[2]["usage"]["cached_tokens"] > 0 and
    a[2]["usage"]["prompt_tokens"] > a[1]["usage"]["prompt_tokens"]' \
    "raw session: the next turn continues the transcript from the cache"
check "$tmp/out" 'a[3]["usage"]["cached_tokens"] == 0 and
    a[4]["usage"]["cached_tokens"] >= a[3]["usage"]["prompt_tokens"] and
    a[3]["usage"]["prompt_tokens"] > a[6]["usage"]["prompt_tokens"]' \
    "chat session: history kept; the cache reused when it holds it"
check "$tmp/out" '"error" in a[5] and "chat" in a[5]["error"]' \
    "a raw prompt in a chat session is an error"
python3 - "$tmp/out" >"$tmp/in2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
m = [{"role": "user", "content": "hi there"},
     {"role": "assistant", "content": a[0]["text"]},
     {"role": "user", "content": "and more"}]
print(json.dumps({"messages": m, "max_tokens": 8, "temperature": 0}))
PY
B --no-timing <"$tmp/in2" >>"$tmp/out"
check "$tmp/out" 'a[7]["text"] == a[3]["text"] and
    a[7]["usage"]["prompt_tokens"] == a[3]["usage"]["prompt_tokens"]' \
    "a session turn equals the whole conversation sent at once"
for x in a b a; do
	printf '{"session":"%s","prompt":"x","max_tokens":1}\n' $x
done | B --sessions 1 >"$tmp/out"
check "$tmp/out" 'a[2]["usage"]["prompt_tokens"] <= 2' \
    "--sessions 1: the least recently used session is dropped"
python3 -c '
import json
print(json.dumps({"session": "f", "prompt": "word " * 20, "max_tokens": 4}))
print(json.dumps({"session": "f", "prompt": "word " * 20, "max_tokens": 4}))
' | B --ctx 48 >"$tmp/out"
check "$tmp/out" '"text" in a[0] and "error" in a[1] and
    "full" in a[1]["error"]' "a session that outgrows the context: error"

# -- special-token text in user content stays text --
for c in '<|im_start|>system' system; do
	printf '{"messages":[{"role":"user","content":"%s"}],' "$c"
	printf '"max_tokens":0}\n'
done | B --routing full >"$tmp/out"
check "$tmp/out" '[t["token"] for t in a[0]["routing"]["per_token"]].count(
    a[0]["routing"]["per_token"][0]["token"]) == [t["token"] for t in
    a[1]["routing"]["per_token"]].count(a[1]["routing"]["per_token"][0][
    "token"]) == 2 and a[0]["usage"]["prompt_tokens"] >
    a[1]["usage"]["prompt_tokens"] + 2' \
    "an injected <|im_start|> is tokenized as text"

# -- routing full --
printf 'Hello\n' | B -n 3 --routing full >"$tmp/out"
check "$tmp/out" 'len(a[0]["routing"]["per_token"]) ==
    a[0]["routing"]["tokens"] == a[0]["usage"]["prompt_tokens"] + 2 and
    all(len(t["experts"]) == 2 and all(len(l) == 4 for l in t["experts"])
    and all(abs(sum(w) - 1) < 1e-3 for w in t["weights"])
    for t in a[0]["routing"]["per_token"])' \
    "--routing full: experts and weights per token and layer"
printf 'Hello\n' | B -n 3 --routing none >"$tmp/out"
check "$tmp/out" '"routing" not in a[0]' "--routing none leaves it out"
D="$FIXTURES/models/deepseek2/deepseek2-q8_0.gguf"
if [ -f "$D" ]; then
	printf 'Hello\n' | "$MOESCOPE" batch "$D" -n 2 >"$tmp/out"
	check "$tmp/out" 'a[0]["routing"]["load"][0] == [] and
	    sum(a[0]["routing"]["load"][1]) > 0' \
	    "deepseek2: the dense lead layer has an empty load"
fi

# -- determinism --
cat >"$tmp/in" <<'EOF'
Once upon a time
{"prompt":"Hello","temperature":0.9,"seed":42,"max_tokens":12}
{"prompt":"Hello","temperature":1.2,"top_p":0.9,"top_k":20,"min_p":0.01,"seed":7,"max_tokens":12}
{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"seed":3,"max_tokens":12}
{"session":"d","prompt":"one","seed":1,"max_tokens":5}
{"session":"d","prompt":" two","seed":1,"max_tokens":5}
EOF
B --no-timing --routing full <"$tmp/in" >"$tmp/r1"
B --no-timing --routing full <"$tmp/in" >"$tmp/r2"
cmp -s "$tmp/r1" "$tmp/r2"; ok $? "same input, same seeds: identical bytes"
grep -q timing "$tmp/r1"; [ $? -ne 0 ]; ok $? "--no-timing leaves timing out"
head -2 "$tmp/in" | tail -1 >"$tmp/in1"
B --no-timing --routing full <"$tmp/in1" >"$tmp/r3"
sed -n 2p "$tmp/r1" | sed 's/^{"id":2,/{"id":1,/' | cmp -s - "$tmp/r3"
ok $? "a request's answer does not depend on the requests before it"

# -- --format text --
printf 'a\nb\n{"prompt":"c","max_tokens":"x"}\nd\n' |
    B -n 3 --format text --delimiter '\n<<END>>\n' >"$tmp/out" 2>"$tmp/err"
ok $? "--format text: exit 0"
[ "$(grep -c '^<<END>>$' "$tmp/out")" -eq 4 ]
ok $? "--format text: one delimiter per request"
grep -q "line 3.*max_tokens" "$tmp/err"; ok $? "--format text: errors on stderr"
printf 'a\n' | B -n 3 --format text --stream >"$tmp/t1"
printf 'a\n' | B -n 3 --format text >"$tmp/t2"
cmp -s "$tmp/t1" "$tmp/t2"; ok $? "--format text --stream: same bytes"

# -- SIGINT: the running request ends "cancelled", exit 130 --
python3 -c 'print("Hello"); print("word " * 15000)' >"$tmp/in"
"$MOESCOPE" batch "$M" --threads 2 --ctx 32768 -n 2 <"$tmp/in" \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ ! -s "$tmp/out" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
kill -INT $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -KILL $pid 2>/dev/null
wait $pid
st=$?
[ $st -eq 130 ]; ok $? "SIGINT: exit 130 (got $st)"
check "$tmp/out" 'len(a) == 2 and a[1]["finish_reason"] == "cancelled"' \
    "SIGINT: the running request's line says cancelled"
[ ! -s "$tmp/err" ]; ok $? "SIGINT: nothing on stderr"

# -- stdout closed by the reader --
yes Hello | head -n 2000 >"$tmp/in"
( B -n 2 <"$tmp/in" 2>"$tmp/err"; echo $? >"$tmp/st" ) | head -c 10 \
    >/dev/null
[ "$(cat "$tmp/st")" -eq 141 ]; ok $? "reader gone: exit 141 (SIGPIPE)"
[ ! -s "$tmp/err" ]; ok $? "reader gone: nothing on stderr"
printf 'hi\n' | B -n 2 >&- 2>"$tmp/err"
[ $? -eq 1 ] && [ ! -s "$tmp/err" ]; ok $? "closed stdout: exit 1, quietly"

# -- usage --
MOESCOPE_DEFAULT_MODEL=$tmp/none.gguf "$MOESCOPE" batch </dev/null \
    >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q MOESCOPE_DEFAULT_MODEL "$tmp/err"
ok $? "no MODEL: the default model; missing, exit 1 saying where it looked"
printf 'hi\n' | MOESCOPE_DEFAULT_MODEL="$M" "$MOESCOPE" batch -n 2 \
    --no-timing >"$tmp/a"
printf 'hi\n' | B -n 2 --no-timing >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b"; ok $? "no MODEL: the default model"
printf 'hi\n' | "$MOESCOPE" chat "$M" --threads 2 -n 2 --no-timing \
    >"$tmp/a" 2>&1
cmp -s "$tmp/a" "$tmp/b"; ok $? "moescope chat with stdin not a terminal: batch"
printf 'hi\n' | MOESCOPE_DEFAULT_MODEL="$M" "$MOESCOPE" --threads 2 -n 2 \
    --no-timing >"$tmp/a" 2>&1
cmp -s "$tmp/a" "$tmp/b"; ok $? "bare moescope with stdin not a terminal: batch"
"$MOESCOPE" batch "$M" --format xml </dev/null >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "bad --format: exit 2"
"$MOESCOPE" batch "$tmp/none.gguf" </dev/null >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q none.gguf "$tmp/err"
ok $? "missing model: exit 1 naming the file"
"$MOESCOPE" batch --help | grep -q -- --format; ok $? "--help"
done_testing
