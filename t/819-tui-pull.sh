#!/bin/sh
# 819-tui-pull.sh - downloads and conversions from the chat, against the
# fake hub of t/701 (t/hubserver.py on 127.0.0.1): /pull shows a panel
# with the total and per-file bars, bytes, speed and ETA while a
# throttled download runs, the chat still answers meanwhile, Ctrl-C at
# the prompt leaves the download alone, the panel shows completion with
# the GGUF's path and how to switch to it, /model ORG/NAME then loads it;
# a 404 shows in the panel naming the repo and the TUI lives on;
# /pull cancel stops a transfer and keeps the partial file, the next
# /pull resumes it with Range (and /model of it loads it when it ends);
# /model of a hub id not in the store pulls and loads it; a checksum
# mismatch names the file; Tab completes /pull's words; a hub id given as
# MODEL is pulled at start-up; a small monochrome ASCII terminal gets a
# one-line panel; quitting during a download stops it cleanly.
. "$top_srcdir/t/tap.sh"
. "$top_srcdir/t/tui-lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"

unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE XDG_CACHE_HOME
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; tui_cleanup' EXIT INT TERM
hf="$FIXTURES/models/qwen3moe/hf"
for r in tiny-qwen3 slow auto bad quit; do
	mkdir -p "$TUI_TMP/repos/test-org/$r"
	cp "$hf"/* "$TUI_TMP/repos/test-org/$r/"
done
python3 "$top_srcdir/t/hubserver.py" --root "$TUI_TMP/repos" \
    --port-file "$TUI_TMP/port" --log "$TUI_TMP/log" 2>"$TUI_TMP/server.err" &
srv=$!
i=0
while [ ! -s "$TUI_TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TUI_TMP/port" ] || { echo "Bail out! hub server did not start"; exit 1; }
hub="http://127.0.0.1:$(cat "$TUI_TMP/port")"
ctl() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "$hub/_ctl?$1"; }
store="$TUI_TMP/home/models/test-org"
blobs="$TUI_TMP/hf/hub/models--test-org--slow/blobs"
sha=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$hf/model.safetensors")

# ~12 s for the 3.5 MB safetensors file
ctl "rate=300000"
tui_start 120 40 HF_ENDPOINT="$hub" HF_HOME="$TUI_TMP/hf" \
    MOESCOPE_NET_BACKOFF_MS=50 -- \
    chat "$QWEN3" --temp 0 -n 16 --threads 2
tui_wait '· loaded' 60
ok $? "loaded"

tui_type "/pu"
tui_keys Tab
tui_type "test-org/tiny-qwen3 --ty"
tui_keys Tab
tui_type "q8"
tui_keys Tab
tui_wait '^> /pull test-org/tiny-qwen3 --type q8_0 *$' 10
ok $? "Tab completes /pull, --type and the type"
tui_keys Enter
tui_wait '─ downloads ' 10
ok $? "the downloads panel appears"
tui_wait '↓ test-org/tiny-qwen3 q8_0 +downloading [0-9]/4 files' 20
ok $? "the job: repo, type, files done of files to fetch"
tui_wait 'download +█+.* [0-9]+% [0-9.]+[KM]/3\.58M +[0-9.]+[KM]?B?/s +ETA [0-9]+:[0-9][0-9]' 20
ok $? "the total: a bar, percent, bytes of total, speed, ETA"
tui_wait 'model\.safetensors +█+.* [0-9]+% [0-9.]+[KM]/3\.52M' 20
ok $? "the running file: its own bar and bytes"

# the chat is not held up by the download
tui_type "Hello there"
tui_keys Enter
tui_wait '\| 16 tok \| max tokens\]' 30
ok $? "a reply while the download runs"
tui_cap | grep -Eq 'downloading [0-9]/4 files'
ok $? "... and the download was still running after it"
tui_keys C-c
sleep 0.5
tui_cap | grep -Eq 'downloading [0-9]/4 files|converting|done in'
ok $? "Ctrl-C at the prompt does not stop the download"
tui_keys Escape
tui_wait '✓ test-org/tiny-qwen3 q8_0 +done in [0-9]+:[0-9]+' 60
ok $? "the panel shows completion"
tui_wait "-> $store/tiny-qwen3.gguf +/model test-org/tiny-qwen3 switches to it" 10
ok $? "... with the GGUF's path and how to switch to it"
tui_cap | grep -q '· pulled test-org/tiny-qwen3 (3.58M downloaded):'
ok $? "a note in the chat too"
[ -s "$store/tiny-qwen3.gguf" ] && "$MOESCOPE" inspect "$store/tiny-qwen3.gguf" 2>&1 |
    grep -q 'qwen3moe'
ok $? "the GGUF is in the store and reads as qwen3moe"
tui_type "/model test-org/tiny-qwen3"
tui_keys Enter
tui_wait 'moescope - qwen3moe tiny-qwen3 - 2 layers' 60
ok $? "/model ORG/NAME loads it from the store"

# a 404: in the panel, and the TUI goes on
ctl "reset=1"
tui_type "/pull test-org/nosuch --type q8_0"
tui_keys Enter
tui_wait '✗ test-org/nosuch q8_0 +failed after' 20
ok $? "a 404 fails the job in the panel"
tui_wait '│ +test-org/nosuch.*404' 10
ok $? "... naming the repo and the 404"
tui_cap | grep -q '! /pull test-org/nosuch failed:'
ok $? "... and in the chat"
# a damaged download: the panel names the file and what is wrong
ctl "reset=1&corrupt=model.safetensors"
tui_type "/pull test-org/bad --type q8_0"
tui_keys Enter
tui_wait '✗ test-org/bad q8_0 +failed after' 20
ok $? "a checksum mismatch fails the job"
tui_wait '│ +test-org/bad: model\.safetensors: checksum' 10
ok $? "... naming the file and the checksum"
ctl "reset=1"
tui_type "/clear"
tui_keys Enter
tui_type "Again"
tui_keys Enter
tui_wait '\| 16 tok \| max tokens\]' 30
ok $? "the chat answers after the error"

# cancel keeps the partial file; the next pull resumes it
ctl "rate=100000"
tui_type "/pull test-org/slow --type q8_0"
tui_keys Enter
tui_wait 'model\.safetensors +█+.* [0-9]+% [0-9.]+[KM]/3\.52M' 30
ok $? "a slow download runs"
tui_type "/pull cancel test-org/slow"
tui_keys Enter
tui_wait '- test-org/slow q8_0 +cancelled' 10
ok $? "/pull cancel stops it"
tui_wait 'partial downloads are kept; /pull test-org/slow resumes' 10
ok $? "... saying the partial files are kept"
part=$(stat -c %s "$blobs/$sha.incomplete" 2>/dev/null)
[ -n "$part" ] && [ "$part" -gt 0 ]
ok $? "the partial file is there ($part bytes)"
ctl "reset=1&rate=1000000"
: >"$TUI_TMP/log"
tui_type "/pull test-org/slow --type q8_0"
tui_keys Enter
tui_wait 'downloading [0-9]/[0-9] files' 10
tui_type "/model test-org/slow"
tui_keys Enter
tui_wait 'test-org/slow is being pulled: loading it when that' 10
ok $? "/model of a repo being pulled: loaded when it ends"
tui_wait '✓ test-org/slow q8_0 +done in' 60
ok $? "the next /pull completes"
tui_wait 'moescope - qwen3moe slow - 2 layers' 30
ok $? "... and the model is loaded"
ctl "reset=1"
grep -q "range=bytes=$part-" "$TUI_TMP/log" && cmp -s "$blobs/$sha" "$hf/model.safetensors"
ok $? "... resuming from byte $part"

# /model of a hub id not in the store: pulled, then loaded
tui_type "/model test-org/auto --type q8_0"
tui_keys Enter
tui_wait 'pulling test-org/auto \(q8_0\) from the hub to load it' 10
ok $? "/model ORG/NAME not in the store starts a pull"
tui_wait 'moescope - qwen3moe auto - 2 layers' 60
ok $? "... and loads the result"
tui_type "/pull clear"
tui_keys Enter
tui_wait_gone '─ downloads ' 10
ok $? "/pull clear hides the panel"
tui_clean
ok $? "no stale cells"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "quit"
tui_tmux kill-server
tui_reap

# a hub id as the chat's MODEL, in a small monochrome ASCII terminal:
# pulled at start-up on one line; quitting stops the download
ctl "rate=100000"
tui_start 60 14 LC_ALL=C NO_COLOR=1 HF_ENDPOINT="$hub" \
    HF_HOME="$TUI_TMP/hf" -- chat test-org/quit --temp 0 -n 16 --threads 2
tui_wait 'moescope - pulling test-org/quit' 20
ok $? "a hub id as MODEL is pulled at start-up"
tui_wait '^v test-org/quit #+.* [0-9]+% [0-9.]+[KM]?/3\.58M' 20
ok $? "one ASCII line: repo, bar, percent, bytes"
tui_fits 60
ok $? "every line fits in 60 columns"
tui_keys C-d
tui_wait 'EXIT=0' 20
ok $? "Ctrl-D quits while the download runs"
grep -q "stopping 1 download; partial files are kept" "$TUI_TMP/stderr"
ok $? "... saying the download stopped and is resumable"
done_testing
