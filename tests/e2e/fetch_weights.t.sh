#!/usr/bin/env bash
# `make weights` (weights/fetch.sh) against a local HTTP server on 127.0.0.1
# (tests/e2e/fetch_server.py, a random free port, stopped on exit), with the
# mirrors given by STRATA_WEIGHTS_MIRRORS and a manifest of small files in
# the real formats: the tiny Keras VGG-19 notop file and a zip of the tiny
# FCRN TensorFlow checkpoint (tests/fixtures). Each run works in a copy of
# the script in a temporary tree whose path has a space, never in weights/.
#  1. mirrors in order: a refused port, then a 404, then the good one; the
#     conversions to weights/vgg19.h5 and weights/fcrn.h5 run;
#  2. a checksum mismatch: a clear error, the download removed;
#  3. a download cut half-way is resumed (Range) in the same run;
#  4. a cut download with no retry left stays NAME.part (never NAME), and the
#     next run resumes it from where it stopped;
#  5. no network (every URL refused): a clear message, nothing left behind;
#     "manifest" in the mirror list stands for the manifest's URLs;
#  6. a verified download that does not convert leaves no weights/*.h5.
# Every run is bounded by `timeout`; only 127.0.0.1 is contacted.
. tests/tap.sh

repo=$PWD
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (.ci/run installs it)"; exit 1; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed (.ci/run installs it)"; exit 1; }

KERAS=vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
ZIP=NYU_FCRN-checkpoint.zip
srv=$tmp/srv
mkdir -p "$srv/good" "$srv/bad" "$srv/flaky" "$srv/broken" "$tmp/ckpt/NYU_FCRN-checkpoint"

# ---- the files served
cp tests/fixtures/vgg19_tiny_keras.h5 "$srv/good/$KERAS"
cp tests/fixtures/tf_ckpt_small.index "$tmp/ckpt/NYU_FCRN-checkpoint/NYU_FCRN.ckpt.index"
cp tests/fixtures/tf_ckpt_small.data-00000-of-00001 "$tmp/ckpt/NYU_FCRN-checkpoint/NYU_FCRN.ckpt.data-00000-of-00001"
(cd "$tmp/ckpt" && python3 -m zipfile -c "$srv/good/$ZIP" NYU_FCRN-checkpoint)
cp "$srv/good/$KERAS" "$srv/good/$ZIP" "$srv/flaky/"
# bad: same size, other bytes (one flipped byte in the middle)
python3 - "$srv/good/$KERAS" "$srv/bad/$KERAS" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0xFF
open(sys.argv[2], "wb").write(b)
PY
cp "$srv/good/$ZIP" "$srv/bad/$ZIP"
# broken: a Keras-named file that is not a Keras file (verified by its own checksum)
head -c 4096 "$srv/good/$KERAS" >"$srv/broken/$KERAS"

kbytes=$(stat -c %s "$srv/good/$KERAS"); kmd5=$(md5sum "$srv/good/$KERAS" | cut -d' ' -f1)
zbytes=$(stat -c %s "$srv/good/$ZIP"); zsha=$(sha256sum "$srv/good/$ZIP" | cut -d' ' -f1)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
refused=$(free_port)
# manifest URLS KERAS_BYTES KERAS_MD5 > file: the two weights entries
manifest() {
  printf 'name\turl\tbytes\tchecksum_type\tchecksum\twhat\n'
  printf '%s\t%s\t%s\tmd5\t%s\tweights: tiny Keras VGG-19 notop\n' "$KERAS" "$1/$KERAS" "$2" "$3"
  printf '%s\t%s\t%s\tsha256\t%s\tweights: tiny FCRN checkpoint zip\n' "$ZIP" "$1/$ZIP" "$zbytes" "$zsha"
}
manifest "http://127.0.0.1:$refused/none" "$kbytes" "$kmd5" >"$tmp/manifest.tsv"

# ---- the server
python3 tests/e2e/fetch_server.py "$srv" "$tmp/port" "$tmp/requests.log" /flaky/ &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port" 2>/dev/null)
[ -n "$port" ] || { echo "1..0 # SKIP the local HTTP server did not start"; exit 1; }
base=http://127.0.0.1:$port

# fetch TREE [VAR=VALUE ...] [NAME ...]: runs a copy of weights/fetch.sh in
# TREE (made when absent) with those variables and arguments, bounded to
# 30 s; output in TREE.out / TREE.err, status in $rc.
fetch() {
  local tree=$1 a
  local -a vars=() args=()
  shift
  for a in "$@"; do case "$a" in *=*) vars+=("$a") ;; *) args+=("$a") ;; esac; done
  if [ ! -e "$tree/weights/fetch.sh" ]; then
    mkdir -p "$tree/weights" && cp weights/fetch.sh "$tree/weights/fetch.sh"
  fi
  env STRATA_BIN="$repo/bin/strata" STRATA_MANIFEST="$tmp/manifest.tsv" STRATA_CONNECT_TIMEOUT=5 "${vars[@]}" \
    timeout 30 bash "$tree/weights/fetch.sh" "${args[@]}" >"$tree.out" 2>"$tree.err"
  rc=$?
}
show() { sed 's/^/#   /' "$1"; }
# check STATUS DESCRIPTION [FILE ...]: ok, showing the files when it failed
check() {
  local st=$1 what=$2
  shift 2
  ok "$st" "$what"
  if [ "$st" != 0 ]; then for f in "$@"; do show "$f"; done; fi
}
dl() { printf '%s/weights/downloads' "$1"; }
no_leftovers() { # TREE: no NAME, NAME.part or temporary file of either entry, no weights/*.h5
  [ -z "$(find "$1/weights" \( -name "$KERAS*" -o -name "$ZIP*" -o -name '*.h5*' -o -name '*.tmp*' \) -print)" ]
}
before_real=$(ls -l --time-style=+%s weights/ 2>/dev/null | sort)

# 1. mirror order and conversion
t1="$tmp/tree one"
fetch "$t1" STRATA_WEIGHTS_MIRRORS="http://127.0.0.1:$refused/x $base/missing $base/good"
[ "$rc" = 0 ] && grep -q "all done" "$t1.out"
check $? "mirrors: a refused port and a 404 are passed over, the third mirror serves both files" "$t1.out" "$t1.err"
grep -q "127.0.0.1:$refused/x/$KERAS" "$t1.out" && grep -q "$base/missing/$KERAS" "$t1.out" &&
  [ "$(grep -c "^/missing/" "$tmp/requests.log")" = 2 ] && [ "$(grep -c "^/good/" "$tmp/requests.log")" = 2 ]
ok $? "each mirror was tried in order (the 404 mirror was asked for both files)"
cmp -s "$(dl "$t1")/$KERAS" "$srv/good/$KERAS" && cmp -s "$(dl "$t1")/$ZIP" "$srv/good/$ZIP"
ok $? "the downloads are the served files"
cat >"$tmp/check.lua" <<'LUA'
local strata = require "strata"
local v, f = strata.weights.load(arg[1]), strata.weights.load(arg[2])
print(v.attrs.network, #v.order, f.attrs.network, #f.order)
LUA
got=$(bin/strata run "$tmp/check.lua" "$t1/weights/vgg19.h5" "$t1/weights/fcrn.h5" 2>&1)
[ "$got" = "$(printf 'vgg19\t32\tfcrn\t394')" ]
ok $? "conversion: weights/vgg19.h5 (32 tensors) and weights/fcrn.h5 (394 parameters) load ($got)"
fetch "$t1" STRATA_WEIGHTS_MIRRORS="$base/good"
[ "$rc" = 0 ] && grep -q "vgg19.h5 is up to date" "$t1.out" && grep -q "fcrn.h5 is up to date" "$t1.out" &&
  [ "$(grep -c "^/good/" "$tmp/requests.log")" = 2 ]
ok $? "a second run verifies, downloads nothing and keeps the converted files"

# 2. checksum mismatch
t2="$tmp/tree two"
fetch "$t2" STRATA_WEIGHTS_MIRRORS="$base/bad" "$KERAS"
[ "$rc" = 1 ] && grep -q "checksum mismatch: md5 [0-9a-f]*, expected $kmd5" "$t2.err" &&
  grep -q "FAILED: $KERAS" "$t2.err"
check $? "a wrong file: exit 1 naming the checksum mismatch and the expected md5" "$t2.err"
no_leftovers "$t2"
ok $? "the wrong download is removed (no $KERAS, no .part, no vgg19.h5)"

# 3. a cut transfer resumed in the same run
t3="$tmp/tree three"
fetch "$t3" STRATA_WEIGHTS_MIRRORS="$base/flaky"
[ "$rc" = 0 ] && grep -q "interrupted at [0-9]* of $kbytes bytes" "$t3.out" && [ -s "$t3/weights/vgg19.h5" ]
check $? "a download cut half-way is resumed and converted" "$t3.out" "$t3.err"
ranges=$(grep "^/flaky/$KERAS" "$tmp/requests.log" | cut -f2 | tr '\n' ',')
from=$(printf '%s' "$ranges" | sed -n 's/^,bytes=\([0-9]*\)-,$/\1/p')
[ -n "$from" ] && [ "$from" -gt 0 ] && [ "$from" -lt "$kbytes" ]
ok $? "two requests: the whole file, then only the rest (Range: bytes=$from-; requests: '$ranges')"
cmp -s "$(dl "$t3")/$KERAS" "$srv/good/$KERAS"
ok $? "the resumed file is complete and exact"

# 4. a cut transfer with no retry left, resumed by the next run
t4="$tmp/tree four"
mkdir -p "$srv/flaky/again" && cp "$srv/good/$KERAS" "$srv/flaky/again/$KERAS"
fetch "$t4" STRATA_WEIGHTS_MIRRORS="$base/flaky/again" STRATA_RESUME_TRIES=1 "$KERAS"
part=$(dl "$t4")/$KERAS.part
psize=$(stat -c %s "$part" 2>/dev/null || echo 0)
[ "$rc" = 1 ] && [ "$psize" -gt 0 ] && [ "$psize" -lt "$kbytes" ] && [ ! -e "$(dl "$t4")/$KERAS" ] &&
  [ ! -e "$t4/weights/vgg19.h5" ]
check $? "a cut download with no retry left stays $KERAS.part ($psize of $kbytes bytes), never $KERAS" "$t4.err"
fetch "$t4" STRATA_WEIGHTS_MIRRORS="$base/flaky/again" "$KERAS"
[ "$rc" = 0 ] && grep "^/flaky/again/$KERAS" "$tmp/requests.log" | tail -n 1 | grep -q "bytes=$psize-" &&
  cmp -s "$(dl "$t4")/$KERAS" "$srv/good/$KERAS" && [ -s "$t4/weights/vgg19.h5" ]
check $? "the next run resumes at byte $psize and converts" "$t4.out" "$t4.err"

# 5. no network
t5="$tmp/tree five"
start=$(date +%s)
fetch "$t5"
took=$(($(date +%s) - start))
[ "$rc" = 1 ] && grep -q "no network: could not connect to any of the 1 URLs for $KERAS" "$t5.err" &&
  grep -q "Place the file by hand" "$t5.err" && grep -q "copy it to .*weights/downloads/$KERAS" "$t5.err"
check $? "no network: a clear message naming the file and how to place it by hand ($took s)" "$t5.err"
no_leftovers "$t5"
ok $? "no network: nothing is left behind"
t5b="$tmp/tree five b"
fetch "$t5b" STRATA_WEIGHTS_MIRRORS="$base/missing manifest" "$KERAS"
[ "$rc" = 1 ] && grep -q "could not download $KERAS; tried:" "$t5b.err" &&
  grep -q "^  $base/missing/$KERAS (" "$t5b.err" && grep -q "^  http://127.0.0.1:$refused/none/$KERAS (" "$t5b.err"
check $? "'manifest' in STRATA_WEIGHTS_MIRRORS adds the manifest's URLs after the mirror; each is listed with its error" \
  "$t5b.err"

# 6. a verified download that does not convert
t6="$tmp/tree six"
manifest "http://127.0.0.1:$refused/none" "$(stat -c %s "$srv/broken/$KERAS")" \
  "$(md5sum "$srv/broken/$KERAS" | cut -d' ' -f1)" >"$tmp/manifest.tsv"
fetch "$t6" STRATA_WEIGHTS_MIRRORS="$base/broken" "$KERAS"
[ "$rc" = 1 ] && grep -q "converting .*$KERAS failed" "$t6.err" && grep -q "FAILED: $KERAS (conversion)" "$t6.err"
check $? "a file that does not convert: exit 1 naming the conversion" "$t6.err"
[ -z "$(find "$t6/weights" -maxdepth 1 -name '*.h5*' -print)" ]
ok $? "and no weights/vgg19.h5 (nor a temporary one) is left"

after_real=$(ls -l --time-style=+%s weights/ 2>/dev/null | sort)
[ "$before_real" = "$after_real" ]
ok $? "the repository's weights/ folder is untouched"
! grep -v "^/" "$tmp/requests.log" | grep -q .
ok $? "every request reached the local server as a path (127.0.0.1 only)"

tap_end
