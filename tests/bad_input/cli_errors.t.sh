#!/usr/bin/env bash
# Bad input at the command line: each case must fail with exit status 1 and
# exactly one error line that names the file (or option) and what was expected.
set -u
bin=bin/strata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

# expect_error DESCRIPTION PATTERN COMMAND...
expect_error() {
  local desc=$1 pattern=$2
  shift 2
  n=$((n + 1))
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -q -- "$pattern" "$tmp/err"; then
    echo "ok $n - $desc"
  else
    echo "not ok $n - $desc"
    echo "# exit $rc, $lines stderr lines:"
    sed 's/^/#   /' "$tmp/err"
    fail=1
  fi
}

printf 'return {\n  name = "x",\n  loss = { content = 7.5 \n' >"$tmp/syntax.lua"
expect_error "experiment file with a Lua syntax error names the file and line" "syntax.lua:[0-9]*:" $bin run "$tmp/syntax.lua"
expect_error "missing experiment file" "cannot open '$tmp/nope.lua'" $bin run "$tmp/nope.lua"
printf 'error("boom")\n' >"$tmp/boom.lua"
expect_error "a script that raises reports its message" "boom" $bin run "$tmp/boom.lua"
expect_error "unknown command suggests the closest" "did you mean 'stylize'" $bin stylise
expect_error "stylize without --model" "model MODEL.h5 is required" $bin stylize a.jpg b.png
expect_error "stylize with a misspelt option" "did you mean --model" $bin stylize --modle m.h5 a.jpg b.png
expect_error "stylize with a missing model file" "$tmp/missing.h5" $bin stylize --model "$tmp/missing.h5" a.jpg b.png
printf 'not hdf5 at all' >"$tmp/text.h5"
expect_error "stylize with a model that is not HDF5" "text.h5" $bin stylize --model "$tmp/text.h5" a.jpg b.png
# A good model with a bad input image (decoded on a thread while the model
# loads): the image's own error, once.
$bin weights import engstrom data/samples/reference/engstrom-wave "$tmp/wave.h5" >/dev/null 2>&1
printf '\377\330\377\340 not really a JPEG' >"$tmp/bad.jpg"
expect_error "stylize of a corrupt JPEG names it" "bad.jpg" $bin stylize --model "$tmp/wave.h5" "$tmp/bad.jpg" "$tmp/o.png"
expect_error "stylize of a missing image names it" "nope.png" $bin stylize --model "$tmp/wave.h5" "$tmp/nope.png" "$tmp/o.png"
expect_error "stylize of a missing image with --size names it" "nope.png" $bin stylize --model "$tmp/wave.h5" --size 64x48 "$tmp/nope.png" "$tmp/o.png"
expect_error "weights import of an unknown format" "unknown format 'engstrm'" $bin weights import engstrm "$tmp" "$tmp/o.h5"
expect_error "weights import of a folder without manifest.json" "manifest.json" $bin weights import engstrom "$tmp" "$tmp/o.h5"

echo "1..$n"
exit $fail
