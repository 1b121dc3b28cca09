# 701-net-pull.sh - `moescope pull` against a fake hub (t/hubserver.py)
# on 127.0.0.1, never the internet: download + convert + run end to end,
# the huggingface_hub cache layout (blobs, refs, relative snapshot
# links), no second download of a cached blob, offline mode, 404, 401
# and HF_TOKEN, a dropped connection retried and resumed with Range, an
# interrupted pull resumed by the next, a checksum mismatch (file
# removed), an expired redirect resolved again, Ctrl-C keeping the
# partial file, and a GGUF repo fetched with --file.
. "$top_srcdir/t/tap.sh"
have_fixtures || skip_all "no fixtures"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
tmp=$(mktemp -d /tmp/moescope-t701-XXXXXX)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT

fx="$FIXTURES/models"
mkdir -p "$tmp/repos/test-org/tiny-qwen3" "$tmp/repos/test-org/tiny-gguf" \
    "$tmp/repos/test-org/gated"
cp "$fx/qwen3moe/hf"/* "$tmp/repos/test-org/tiny-qwen3/"
cp "$fx/qwen3moe/qwen3moe-q8_0.gguf" "$tmp/repos/test-org/tiny-gguf/"
cp "$fx/olmoe/hf"/* "$tmp/repos/test-org/gated/"
echo "s3cret" >"$tmp/repos/test-org/gated/.gated"
python3 "$top_srcdir/t/hubserver.py" --root "$tmp/repos" \
    --port-file "$tmp/port" --log "$tmp/log" 2>"$tmp/server.err" &
srv=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/port" ] || { echo "Bail out! hub server did not start"; exit 1; }
port=$(cat "$tmp/port")
hub="http://127.0.0.1:$port"
ctl() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "$hub/_ctl?$1"; }

unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE XDG_CACHE_HOME
export HF_ENDPOINT="$hub" HF_HOME="$tmp/hf" MOESCOPE_HOME="$tmp/home"
export MOESCOPE_NET_BACKOFF_MS=50
cache="$tmp/hf/hub/models--test-org--tiny-qwen3"
st="$fx/qwen3moe/hf/model.safetensors"
sha=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$st")
commit=$(python3 -c 'import hashlib; print(hashlib.sha1(b"commit:test-org/tiny-qwen3").hexdigest())')

# excluded files are not fetched (Mistral's consolidated weights)
cp "$st" "$tmp/repos/test-org/tiny-qwen3/consolidated.safetensors"

# 1. pull + convert + run
"$MOESCOPE" pull test-org/tiny-qwen3 --type q8_0 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] && diag "$(cat "$tmp/err")"
ok $rc "pull test-org/tiny-qwen3 --type q8_0"
gguf="$tmp/home/models/test-org/tiny-qwen3.gguf"
[ "$(cat "$tmp/out")" = "$gguf" ] && [ -f "$gguf" ]
ok $? "the GGUF is in the local store as ORG/NAME.gguf"
[ ! -s "$tmp/err" ]
ok $? "quiet when stderr is not a terminal"
[ "$(cat "$cache/refs/main")" = "$commit" ]
ok $? "refs/main holds the commit"
[ "$(readlink "$cache/snapshots/$commit/model.safetensors")" = "../../blobs/$sha" ] &&
    cmp -s "$cache/blobs/$sha" "$st"
ok $? "LFS blob named by its SHA-256, relative snapshot link"
gsha=$(python3 -c 'import hashlib,sys; d=open(sys.argv[1],"rb").read(); print(hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest())' "$fx/qwen3moe/hf/config.json")
[ "$(readlink "$cache/snapshots/$commit/config.json")" = "../../blobs/$gsha" ]
ok $? "small file blob named by its git SHA-1"
ls "$cache/blobs" | grep -q incomplete
[ $? -ne 0 ]
ok $? "no .incomplete files left"
[ ! -e "$cache/snapshots/$commit/consolidated.safetensors" ] &&
    ! grep -q consolidated "$tmp/log"
ok $? "consolidated.safetensors not fetched"
"$MOESCOPE" convert -q "$cache/snapshots/$commit" --name Hf --type q8_0 \
    -o "$tmp/snap.gguf" >"$tmp/err" 2>&1 &&
    cmp -s "$tmp/snap.gguf" "$fx/qwen3moe/qwen3moe-q8_0.gguf"
rc=$?
[ $rc -ne 0 ] && diag "$(cat "$tmp/err")"
ok $rc "the snapshot converts to llama.cpp's q8_0 file byte for byte"
"$MOESCOPE" run test-org/tiny-qwen3 -p "Hello" -n 4 --temp 0 >"$tmp/run" 2>&1
ok $? "moescope run test-org/tiny-qwen3 works on the result"
"$MOESCOPE" list >"$tmp/list" 2>&1 && grep -q "^test-org/tiny-qwen3 .*qwen3moe" "$tmp/list"
ok $? "moescope list shows test-org/tiny-qwen3"

# 2. a second pull downloads nothing and does not convert again
: >"$tmp/log"
"$MOESCOPE" pull test-org/tiny-qwen3 --type q8_0 >"$tmp/out" 2>&1
rc=$?
! grep -q "^GET /cdn\|^GET .*/resolve/" "$tmp/log"
ok $((rc + $?)) "second pull: nothing fetched again"

# 3. offline
HF_HUB_OFFLINE=1 HF_ENDPOINT=http://127.0.0.1:1 "$MOESCOPE" pull \
    test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1
ok $? "HF_HUB_OFFLINE=1: pull from the cache only"
HF_HUB_OFFLINE=1 "$MOESCOPE" pull test-org/other >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "not in the cache" "$tmp/out"
ok $? "HF_HUB_OFFLINE=1, not cached: clear error"

# 4. errors: 404, 401, network down
"$MOESCOPE" pull test-org/nosuch >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "404" "$tmp/out" && grep -q "test-org/nosuch" "$tmp/out"
ok $? "unknown repo: 404 named"
"$MOESCOPE" pull test-org/tiny-qwen3@v9 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "404" "$tmp/out"
ok $? "unknown revision: 404"
"$MOESCOPE" pull test-org/gated --type f32 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "401" "$tmp/out" && grep -q "HF_TOKEN" "$tmp/out"
ok $? "gated repo without HF_TOKEN: 401, says to set HF_TOKEN"
HF_TOKEN=wrong "$MOESCOPE" pull test-org/gated --type f32 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "401" "$tmp/out"
ok $? "gated repo with a wrong token: 401"
: >"$tmp/log"
HF_TOKEN=s3cret "$MOESCOPE" pull test-org/gated --type f32 >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && diag "$(cat "$tmp/out")"
grep -q "^GET /api.* auth=yes" "$tmp/log" && ! grep -q "^GET /cdn.* auth=yes" "$tmp/log"
ok $((rc + $?)) "gated repo with HF_TOKEN: bearer sent to the hub, not to the CDN"
HF_HOME="$tmp/hf2" HF_ENDPOINT=http://127.0.0.1:1 MOESCOPE_NET_RETRIES=0 \
    "$MOESCOPE" pull test-org/tiny-qwen3 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "127.0.0.1:1" "$tmp/out"
ok $? "network down: exit 1, names the endpoint"

# 5. dropped connection: retried, resumed with Range, checked
export HF_HOME="$tmp/hf3"
ctl "reset=1&drop=1000000"
: >"$tmp/log"
"$MOESCOPE" pull test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && diag "$(cat "$tmp/out")"
grep -q "^GET /cdn.* range=bytes=1000000- .*-> 206" "$tmp/log"
ok $((rc + $?)) "dropped transfer: retried with Range: bytes=1000000-"
cmp -s "$tmp/hf3/hub/models--test-org--tiny-qwen3/blobs/$sha" "$st"
ok $? "resumed blob is intact"

# 6. interrupted pull (no retries), resumed by the next pull
export HF_HOME="$tmp/hf4"
c4="$tmp/hf4/hub/models--test-org--tiny-qwen3"
ctl "reset=1&drop=1500000"
MOESCOPE_NET_RETRIES=0 "$MOESCOPE" pull test-org/tiny-qwen3 --type f32 \
    >"$tmp/out" 2>&1
[ $? -eq 1 ] && [ "$(stat -c %s "$c4/blobs/$sha.incomplete" 2>/dev/null)" = 1500000 ]
ok $? "broken pull fails and keeps blobs/SHA.incomplete (1500000 bytes)"
: >"$tmp/log"
"$MOESCOPE" pull test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1
rc=$?
grep -q "range=bytes=1500000-" "$tmp/log" && cmp -s "$c4/blobs/$sha" "$st" &&
    [ ! -e "$c4/blobs/$sha.incomplete" ]
ok $((rc + $?)) "next pull resumes from byte 1500000"

# 7. checksum mismatch: the file is removed
export HF_HOME="$tmp/hf5"
ctl "reset=1&corrupt=model.safetensors"
"$MOESCOPE" pull test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "checksum mismatch" "$tmp/out" &&
    [ -z "$(ls "$tmp/hf5/hub/models--test-org--tiny-qwen3/blobs" | grep "$sha")" ]
ok $? "checksum mismatch: error, nothing kept"

# 8. an expired redirect is resolved again
export HF_HOME="$tmp/hf6"
ctl "reset=1&expire=1&drop=500000"
: >"$tmp/log"
"$MOESCOPE" pull test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && diag "$(cat "$tmp/out")"
grep -q "^GET /cdn.*sig=1 .*-> 403" "$tmp/log" &&
    [ "$(grep -c "^HEAD .*model.safetensors" "$tmp/log")" -ge 2 ] &&
    grep -q "^GET /cdn.*sig=2 range=bytes=500000- .*-> 206" "$tmp/log"
ok $((rc + $?)) "expired redirect: resolved again, resumed"

# 9. Ctrl-C keeps the partial file
export HF_HOME="$tmp/hf7"
ctl "reset=1&rate=400000"
"$MOESCOPE" pull test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1 &
pid=$!
i=0
while [ $i -lt 50 ] && ! ls "$tmp/hf7/hub/models--test-org--tiny-qwen3/blobs/" 2>/dev/null | grep -q incomplete; do
	sleep 0.1; i=$((i + 1))
done
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
[ $rc -ne 0 ] && grep -q "interrupted" "$tmp/out" &&
    [ -s "$tmp/hf7/hub/models--test-org--tiny-qwen3/blobs/$sha.incomplete" ]
ok $? "Ctrl-C: stops (rc $rc), partial kept for resume"
ctl "reset=1"

# 10. a write error (a file size limit standing in for a full disk):
# clear message naming the partial file, which is kept
export HF_HOME="$tmp/hf8"
(ulimit -f 2000; trap '' XFSZ; "$MOESCOPE" pull test-org/tiny-qwen3 \
    --type f32 >"$tmp/out" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "incomplete: File too large" "$tmp/out" &&
    [ -e "$tmp/hf8/hub/models--test-org--tiny-qwen3/blobs/$sha.incomplete" ]
ok $? "write error: exit 1, names the partial file, keeps it (rc $rc)"
"$MOESCOPE" pull test-org/tiny-qwen3 --type f32 >"$tmp/out" 2>&1
ok $? "and the next pull completes it"

# 11. a GGUF repo: --file
"$MOESCOPE" pull test-org/tiny-gguf --file qwen3moe-q8_0.gguf >"$tmp/out" 2>&1
rc=$?
cmp -s "$tmp/home/models/test-org/tiny-gguf.gguf" "$fx/qwen3moe/qwen3moe-q8_0.gguf"
ok $((rc + $?)) "pull --file NAME.gguf: fetched and linked in the store"
"$MOESCOPE" run test-org/tiny-gguf -p "Hello" -n 2 --temp 0 >/dev/null 2>&1
ok $? "moescope run on the pulled GGUF"
cp "$fx/qwen3moe/qwen3moe-q4_k_m.gguf" "$tmp/repos/test-org/tiny-gguf/Tiny-Q4_K_M.gguf"
rm -f "$tmp/home/models/test-org/tiny-gguf.gguf"
"$MOESCOPE" pull test-org/tiny-gguf --type q4_k_m >"$tmp/out" 2>&1
rc=$?
cmp -s "$tmp/home/models/test-org/tiny-gguf.gguf" "$fx/qwen3moe/qwen3moe-q4_k_m.gguf"
ok $((rc + $?)) "GGUF repo without --file: the file named like --type"
"$MOESCOPE" pull test-org/tiny-gguf --type q6_k >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "choose one with --file" "$tmp/out"
ok $? "GGUF repo, no file of that type: says to use --file"
"$MOESCOPE" pull test-org/tiny-gguf --file nosuch.gguf >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "nosuch.gguf" "$tmp/out"
ok $? "--file that the repo lacks: named"
"$MOESCOPE" pull "../../etc" >"$tmp/out" 2>&1
[ $? -eq 1 ] || [ $? -eq 2 ]
ok $? "a hostile repo id is refused"
done_testing
