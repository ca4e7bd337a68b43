#!/usr/bin/env bash
# A "good" checkpoint is good (issue 11, section 4):
#  - a checkpoint whose data no longer match their checksums (a changed
#    value, 400 flipped bytes) or that is truncated is not resumed: the rerun
#    says which it skipped and why, resumes from the newest that verifies and
#    ends with the weights of an uninterrupted run;
#  - no checkpoint is written from non-finite state, and the NaN/Inf stop
#    message names a checkpoint that really is finite;
#  - temporary files of killed writers are removed at the next start (those
#    of live processes are not);
#  - keep_checkpoints must be >= 1, and keep_checkpoints = 1 keeps one that loads.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png" --set schedule.keep_checkpoints=10)
show() { sed 's/^/#   /' "$1"; }
# killed OUT CMD...: runs CMD (output to OUT) in a child shell, so that the
# shell's own "Killed" notice stays out of the test's output; returns CMD's status
killed() { local out=$1; shift; OUT=$out bash -c '"$@" >"$OUT" 2>&1; exit $?' _ "$@" 2>/dev/null; }
# verify.lua FILE: "ok" or the reason the checkpoint does not verify
cat >"$tmp/verify.lua" <<'LUA'
local w, why = require("strata.checkpoint").load_verified(arg[1])
print(w and "ok" or why)
LUA
# finite.lua FILE: the number of datasets holding NaN or Inf
cat >"$tmp/finite.lua" <<'LUA'
local w = require("strata").weights.load(arg[1])
local bad = 0
for _, k in ipairs(w.order) do if not w.params[k]:all_finite() then bad = bad + 1 end end
print(bad)
LUA
# tamper.lua FILE: changes one value of one dataset, keeping every attribute (checksums included)
cat >"$tmp/tamper.lua" <<'LUA'
local strata = require "strata"
local w = strata.weights.load(arg[1])
local t = w.params["model.conv1.weight"]
t:set(t:get(1, 1, 1, 1) + 0.25, 1, 1, 1, 1)
strata.weights.save(arg[1], w)
LUA

bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=ref >"$tmp/ref.out" 2>&1
ok $? "an uninterrupted run"

# 1. Damaged checkpoints are skipped.
c=$tmp/results/tiny/c
STRATA_TEST_KILL_AT=final_checkpoint killed "$tmp/c1.out" bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=c
[ "$(ls "$c/checkpoints" | tr '\n' ' ')" = "ckpt_00000010.h5 ckpt_00000020.h5 ckpt_00000030.h5 ckpt_00000040.h5 " ]
ok $? "a run killed before its outputs leaves checkpoints 10..40"
[ "$(bin/strata run "$tmp/verify.lua" "$c/checkpoints/ckpt_00000040.h5")" = ok ]; ok $? "which verify"
bin/strata run "$tmp/tamper.lua" "$c/checkpoints/ckpt_00000040.h5"
bin/strata run "$tmp/verify.lua" "$c/checkpoints/ckpt_00000040.h5" | grep -q "dataset 'model.conv1.weight' does not match its checksum"
ok $? "a checkpoint with one changed value fails its checksum"
size=$(stat -c %s "$c/checkpoints/ckpt_00000030.h5")
head -c $((size / 2)) "$c/checkpoints/ckpt_00000030.h5" >"$tmp/half" && mv "$tmp/half" "$c/checkpoints/ckpt_00000030.h5"
cp "$c/checkpoints/ckpt_00000020.h5" "$tmp/flipped.h5"
# 400 bytes overwritten in the middle (the datasets' data, past the metadata)
dd if=/dev/urandom of="$tmp/flipped.h5" bs=1 count=400 seek=$(( $(stat -c %s "$tmp/flipped.h5") / 2 )) conv=notrunc 2>/dev/null
why=$(bin/strata run "$tmp/verify.lua" "$tmp/flipped.h5")
[ -n "$why" ] && [ "$why" != ok ]; ok $? "a checkpoint with 400 flipped bytes does not verify: $why"
echo junk >"$c/checkpoints/ckpt_00000050.h5.tmp.99999999"   # a killed writer's (no such pid)
echo junk >"$c/log.csv.tmp.99999998"
echo live >"$c/checkpoints/other.tmp.$$"                     # this shell is alive
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=c >"$tmp/c2.out" 2>&1
[ $? -eq 0 ]; ok $? "the rerun exits 0" || show "$tmp/c2.out"
grep -q "skipping $c/checkpoints/ckpt_00000040.h5: dataset 'model.conv1.weight' does not match its checksum" "$tmp/c2.out" \
  && grep -q "skipping $c/checkpoints/ckpt_00000030.h5: " "$tmp/c2.out"
ok $? "it says which checkpoints it skipped and why" || show "$tmp/c2.out"
grep -q "resuming $c from $c/checkpoints/ckpt_00000020.h5 (iteration 20)" "$tmp/c2.out"
ok $? "and resumes from the newest that verifies (20)"
[ -e "$c/checkpoints/ckpt_00000040.h5.bad" ] && [ -e "$c/checkpoints/ckpt_00000030.h5.bad" ]
ok $? "the bad ones are kept aside as *.bad"
[ "$(bin/strata run tests/e2e/weights_maxdiff.lua "$tmp/results/tiny/ref/model.h5" "$c/model.h5")" = 0 ]
ok $? "it ends with the uninterrupted run's weights"
[ ! -e "$c/checkpoints/ckpt_00000050.h5.tmp.99999999" ] && [ ! -e "$c/log.csv.tmp.99999998" ] \
  && [ -e "$c/checkpoints/other.tmp.$$" ]
ok $? "temporary files of dead writers are removed, a live process's is kept"

# 2. A diverging run: lr = 3e38 makes the parameters infinite in the first
# Adam step while the first loss is still finite.
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=nan --set optim.lr=3e38 --set schedule.checkpoint_every=1 \
  >"$tmp/nan.out" 2>"$tmp/nan.err"
rc=$?
named=$(sed -n 's/.*last good checkpoint: \(.*\))$/\1/p' "$tmp/nan.err")
[ $rc -eq 1 ] && [ -n "$named" ]; ok $? "a diverging run stops with exit 1 naming its last good checkpoint ($named)" || show "$tmp/nan.err"
[ "$named" = "none yet" ] || [ "$(bin/strata run "$tmp/finite.lua" "$named")" = 0 ]
ok $? "the named checkpoint is finite"
bad=0
for f in "$tmp/results/tiny/nan/checkpoints"/*.h5; do
  [ -e "$f" ] && [ "$(bin/strata run "$tmp/finite.lua" "$f")" != 0 ] && bad=1
done
[ $bad -eq 0 ]; ok $? "no checkpoint holding NaN or Inf was written"
grep -q "holds NaN or Inf values, so no checkpoint was written" "$tmp/nan.err"; ok $? "the message says why no checkpoint was written"

# 3. keep_checkpoints.
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=k0 --set schedule.keep_checkpoints=0 >"$tmp/k0.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: schedule.keep_checkpoints: expected an integer >= 1" "$tmp/k0.out"
ok $? "keep_checkpoints = 0 is refused, naming the key"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=k1 --set schedule.keep_checkpoints=1 >"$tmp/k1.out" 2>&1
rc=$?
k=$tmp/results/tiny/k1/checkpoints
[ $rc -eq 0 ] && [ "$(ls "$k" | wc -l)" -eq 1 ] && [ "$(bin/strata run "$tmp/verify.lua" "$k"/ckpt_*.h5)" = ok ]
ok $? "keep_checkpoints = 1 keeps one checkpoint, and it verifies"

tap_end
