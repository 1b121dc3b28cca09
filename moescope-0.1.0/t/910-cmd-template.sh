# t/910-cmd-template.sh - `moescope template` end to end: a fixture
# template rendered through the command matches its expected bytes, a
# template error exits 1 with a message, usage errors exit 2.
. "$top_srcdir/t/tap.sh"
dir="${FIXTURES-}/chat-templates"
[ -d "$dir" ] || skip_all "no chat-template fixtures"
command -v python3 >/dev/null 2>&1 || skip_all "no python3 to read fixtures"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Split a fixture into template, messages and expected output files.
split_fixture() {	# FIXTURE CASE
	python3 - "$1" "$2" "$tmp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
c = [c for c in d["cases"] if c["id"] == sys.argv[2]][0]
t = sys.argv[3]
open(t + "/tmpl", "w", encoding="utf-8", newline="").write(d["template"])
json.dump(c["messages"], open(t + "/msgs.json", "w", encoding="utf-8"),
          ensure_ascii=False)
open(t + "/want", "w", encoding="utf-8", newline="").write(
    c.get("expected", ""))
open(t + "/err", "w", encoding="utf-8").write(c.get("error", ""))
open(t + "/bos", "w", encoding="utf-8").write(d["bos_token"])
open(t + "/eos", "w", encoding="utf-8").write(d["eos_token"])
open(t + "/gen", "w").write("1" if c["add_generation_prompt"] else "0")
PY
}

for fx in Qwen-Qwen3-0.6B meta-llama-Llama-3.1-8B-Instruct \
    microsoft-Phi-3.5-mini-instruct; do
	for cs in c3 c4 c5; do
		split_fixture "$dir/$fx.json" "$cs" || exit 1
		flag=
		[ "$(cat "$tmp/gen")" = 0 ] && flag=--no-generation-prompt
		"$MOESCOPE" template --template "$tmp/tmpl" \
		    --messages "$tmp/msgs.json" --bos "$(cat "$tmp/bos")" \
		    --eos "$(cat "$tmp/eos")" $flag >"$tmp/got" 2>"$tmp/stderr"
		st=$?
		cmp -s "$tmp/got" "$tmp/want"
		ok $(( st + $? )) "$fx $cs renders byte for byte"
	done
done

split_fixture "$dir/mistralai-Mixtral-8x7B-Instruct-v0.1.json" c2 || exit 1
"$MOESCOPE" template --template "$tmp/tmpl" --messages "$tmp/msgs.json" \
    >"$tmp/got" 2>"$tmp/stderr"
st=$?
[ $st -eq 1 ]; ok $? "raise_exception exits 1"
grep -q "Conversation roles must alternate" "$tmp/stderr"
ok $? "raise_exception message on stderr"
[ ! -s "$tmp/got" ]; ok $? "nothing on stdout after an error"

printf '[{"role":"user","content":"hi"}]' >"$tmp/m.json"
"$MOESCOPE" template --chat-template chatml --messages "$tmp/m.json" \
    >"$tmp/got"
printf '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n' \
    >"$tmp/want"
cmp -s "$tmp/got" "$tmp/want"; ok $? "built-in chatml"

printf '{%% if %%}' >"$tmp/bad"
"$MOESCOPE" template --template "$tmp/bad" --messages "$tmp/m.json" \
    >/dev/null 2>"$tmp/stderr"
[ $? -eq 1 ]; ok $? "syntax error exits 1"
grep -q "line 1" "$tmp/stderr"; ok $? "syntax error names the line"

# MODEL form: the GGUF's tokenizer.chat_template and BOS/EOS strings.
if have_fixtures; then
	for a in deepseek2 qwen3moe; do
		python3 - "$FIXTURES/models/$a/hf/tokenizer_config.json" \
		    "$tmp" <<'PY'
import json, sys
c = json.load(open(sys.argv[1], encoding="utf-8"))
open(sys.argv[2] + "/mt", "w", encoding="utf-8", newline="").write(
    c["chat_template"])
open(sys.argv[2] + "/mbos", "w", encoding="utf-8").write(
    c.get("bos_token") or "")
PY
		"$MOESCOPE" template "$FIXTURES/models/$a/$a-f32.gguf" \
		    --messages "$tmp/m.json" >"$tmp/got"
		st=$?
		"$MOESCOPE" template --template "$tmp/mt" --bos "$(cat \
		    "$tmp/mbos")" --messages "$tmp/m.json" >"$tmp/want"
		cmp -s "$tmp/got" "$tmp/want"
		ok $(( st + $? )) "$a: MODEL form uses the GGUF's template"
	done
	"$MOESCOPE" template "$FIXTURES/models/deepseek2/deepseek2-f32.gguf" \
	    --messages "$tmp/m.json" | grep -q "begin▁of▁sentence"
	ok $? "deepseek2: bos_token read from the GGUF"
	"$MOESCOPE" template "$FIXTURES/models/mixtral/mixtral-f32.gguf" \
	    --messages "$tmp/m.json" >"$tmp/got"
	printf '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n' \
	    >"$tmp/want"
	cmp -s "$tmp/got" "$tmp/want"
	ok $? "mixtral: no template in the GGUF, ChatML fallback"
	"$MOESCOPE" template "$FIXTURES/models/qwen3moe/qwen3moe-f32.gguf" \
	    --chat-template chatml --messages "$tmp/m.json" >"$tmp/got"
	cmp -s "$tmp/got" "$tmp/want"
	ok $? "--chat-template overrides the model's template"
	"$MOESCOPE" template "$tmp/nonexistent.gguf" --messages "$tmp/m.json" \
	    >/dev/null 2>"$tmp/stderr"
	[ $? -eq 1 ] && grep -q nonexistent "$tmp/stderr"
	ok $? "missing model: exit 1 naming the file"
fi

"$MOESCOPE" template --messages "$tmp/m.json" >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "no template: usage error, exit 2"
"$MOESCOPE" template --template "$tmp/tmpl" >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "no messages: usage error, exit 2"
"$MOESCOPE" template --help | grep -q -- --messages
ok $? "--help describes --messages"
done_testing
