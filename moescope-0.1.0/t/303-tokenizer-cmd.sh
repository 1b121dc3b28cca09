# 303-tokenizer-cmd.sh - `moescope tokenize`: ids one per line, --json,
# -f FILE and -f - (stdin) taken verbatim, --show-pieces, --add-special,
# --parse-special, usage and runtime errors with the documented exits.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixtures"
v="$FIXTURES/tokenizer"
m="$FIXTURES/models"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tiny models' prompt gives llama.cpp's ids (qwen2moe adds no BOS).
out=$("$MOESCOPE" tokenize "$m/qwen2moe/qwen2moe-f32.gguf" \
    "The quick brown fox jumps over the lazy dog." | tr '\n' ',')
ok $([ "$out" = "785,922,865,293,651,77,282,78,87,502,372,79,82,916,279,1187,89,88,294,538,13," ] && echo 0 || echo 1) \
    "qwen2moe prompt, one id per line"
out=$("$MOESCOPE" tokenize "$m/mixtral/mixtral-f32.gguf" --json \
    "The quick brown fox jumps over the lazy dog.")
ok $([ "$out" = "[415,526,681,287,671,1447,285,1142,461,383,782,754,272,543,1498,1460,281,476,1459]" ] && echo 0 || echo 1) \
    "mixtral --json, no BOS by default"
out=$("$MOESCOPE" tokenize "$m/mixtral/mixtral-f32.gguf" --json \
    --add-special "The quick brown fox jumps over the lazy dog.")
case "$out" in "[1,415,"*) r=0 ;; *) r=1 ;; esac
ok $r "--add-special adds the model's BOS"

# The fixture vectors, through the command: case 'Hello world' of gpt-2.
out=$("$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" --json "Hello world")
ok $([ "$out" = "[15496,995]" ] && echo 0 || echo 1) "gpt-2 'Hello world'"

# -f FILE keeps a trailing newline; -f - reads stdin the same way.
printf 'Hello world\n' > "$tmp/in.txt"
a=$("$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" -f "$tmp/in.txt" --json)
b=$("$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" -f - --json < "$tmp/in.txt")
ok $([ "$a" = "[15496,995,198]" ] && echo 0 || echo 1) \
    "-f FILE is taken verbatim (trailing newline is a token)"
ok $([ "$a" = "$b" ] && echo 0 || echo 1) "-f - reads stdin"
printf '' > "$tmp/empty.txt"
out=$("$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" -f "$tmp/empty.txt" --json)
ok $([ "$out" = "[]" ] && echo 0 || echo 1) "empty text: []"

# --show-pieces prints the vocabulary strings.
out=$("$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" --show-pieces \
    "Hello world" | tr '\t\n' ':;')
ok $([ "$out" = "15496:Hello;995:Ġworld;" ] && echo 0 || echo 1) \
    "--show-pieces"
out=$("$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" --show-pieces --json \
    "a\"b")
ok $([ "$out" = '[{"id":64,"piece":"a"},{"id":1,"piece":"\""},{"id":65,"piece":"b"}]' ] && echo 0 || echo 1) \
    "--show-pieces --json escapes"

# Special tokens: plain text unless --parse-special.
t='<|im_start|>user'
a=$("$MOESCOPE" tokenize "$v/ggml-vocab-qwen2.gguf" --json "$t")
b=$("$MOESCOPE" tokenize "$v/ggml-vocab-qwen2.gguf" --json --parse-special "$t")
ok $([ "$a" = "[27,91,318,4906,91,29,872]" ] && echo 0 || echo 1) \
    "control token text is text by default"
ok $([ "$b" = "[151644,872]" ] && echo 0 || echo 1) "--parse-special"

# Errors: usage -> 2, runtime -> 1 with a message naming the file.
"$MOESCOPE" tokenize > /dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "no arguments: exit 2"
"$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" --bogus x > /dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "unknown option: exit 2"
"$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" x -f "$tmp/in.txt" \
    > /dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "TEXT and -f together: exit 2"
"$MOESCOPE" tokenize --help > "$tmp/help" 2>&1
r=$?
grep -q 'usage: moescope tokenize' "$tmp/help"
ok $([ $r -eq 0 ] && [ $? -eq 0 ] && echo 0 || echo 1) "--help: exit 0"
"$MOESCOPE" tokenize "$tmp/nope.gguf" hi > /dev/null 2> "$tmp/err"
r=$?
grep -q 'nope.gguf' "$tmp/err"
ok $([ $r -eq 1 ] && [ $? -eq 0 ] && echo 0 || echo 1) \
    "missing model: exit 1, message names it"
"$MOESCOPE" tokenize "$v/ggml-vocab-gpt-2.gguf" -f "$tmp/nope.txt" \
    > /dev/null 2> "$tmp/err"
r=$?
grep -q 'nope.txt' "$tmp/err"
ok $([ $r -eq 1 ] && [ $? -eq 0 ] && echo 0 || echo 1) \
    "missing text file: exit 1, message names it"
head -c 100 "$v/ggml-vocab-gpt-2.gguf" > "$tmp/trunc.gguf"
"$MOESCOPE" tokenize "$tmp/trunc.gguf" hi > /dev/null 2> "$tmp/err"
ok $([ $? -eq 1 ] && [ -s "$tmp/err" ] && echo 0 || echo 1) \
    "truncated model: exit 1 with a message"
done_testing
