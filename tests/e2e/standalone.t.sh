#!/usr/bin/env bash
# The repository stands alone (a user gets this checkout and nothing beside
# it): no file of the tree names a folder beside the checkout, and the
# published-network conformance test and a training run on the default style
# and sample image pass from a copy of the tree whose parent holds nothing
# else (so no sibling data folder can be found).
. tests/tap.sh

# 1. Files of the tree: git's list in a checkout; elsewhere (the linked trees
# of make asan / test-cuda-emu, an unpacked archive) everything but build
# output. This file is left out: it has to spell the pattern.
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$PWD" ]; then
  git ls-files -z >"$tmp/files"
else
  find -L . \( -path ./.git -o -path './.[a-z]*' -o -path './build*' -o -path ./bin -o -path ./results \
    -o -path ./weights/downloads -o -name node_modules -o -name '*.h5' -o -name '*.o' \) -prune -o -type f -print0 >"$tmp/files"
fi
[ -s "$tmp/files" ]; ok $? "the tree's files are listed ($(tr -cd '\0' <"$tmp/files" | wc -c) files)"
pattern='\.\./shared|/work/shared|shared/data|SHARED_DATA|shared_data'
tr '\0' '\n' <"$tmp/files" | sed 's#^\./##' | grep -vx 'tests/e2e/standalone.t.sh' | tr '\n' '\0' |
  xargs -0 grep -I -n -E "$pattern" -- >"$tmp/hits" 2>/dev/null
[ ! -s "$tmp/hits" ]; ok $? "no file refers to data beside the checkout"
[ -s "$tmp/hits" ] && sed 's/^/# /' "$tmp/hits" | head -20

# 2. A copy of what running needs, in a folder with no siblings: the binary
# is copied so that STRATA_HOME (found from /proc/self/exe) is the copy, with
# the library it loads from <bin>/../lib (engine/omp_env.c).
root=$tmp/alone/strata
mkdir -p "$root/bin" "$root/lib"
cp bin/strata "$root/bin/"
cp lib/libstrata_omp_env.so "$root/lib/"
for d in lua data tests experiments; do ln -s "$PWD/$d" "$root/$d"; done
[ "$(ls -A "$tmp/alone")" = strata ]; ok $? "the copy's parent folder holds nothing else"

(cd "$root" && bin/strata run tests/models/engstrom_wave.t.lua) >"$tmp/wave.tap" 2>&1
st=$?
[ $st = 0 ] && ! grep -q '# SKIP' "$tmp/wave.tap" && grep -q '^ok .*published chicago_wave.jpg' "$tmp/wave.tap"
ok $? "the Engstrom conformance test runs and passes from the copy, nothing skipped (exit $st)"
[ $st = 0 ] || sed 's/^/# /' "$tmp/wave.tap" | tail -5

# A few training iterations on the defaults: style.image and sample.image are
# not set, so they must resolve inside the copy.
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
(cd "$root" && bin/strata run tests/e2e/tiny.lua --set data.train=data/samples/train --set "vgg.weights=$tmp/vgg.h5" \
  --set "output.dir=$tmp/results" --set schedule.iterations=2 --set schedule.checkpoint_every=2 \
  --set schedule.sample_every=2) >"$tmp/run.out" 2>&1
st=$?
[ $st = 0 ] && [ -s "$tmp/results/tiny/default/model.h5" ] &&
  grep -q 'data/samples/styles/wave.jpg' "$tmp/results/tiny/default/experiment.lua"
ok $? "a training run on the default style and sample image works from the copy (exit $st)"
[ $st = 0 ] || sed 's/^/# /' "$tmp/run.out" | tail -5
tap_end
