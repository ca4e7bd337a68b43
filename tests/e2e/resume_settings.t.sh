#!/usr/bin/env bash
# Resume only the run that was started (issue 11, section 3): a rerun whose
# settings change what is computed (learning rate, model shape, loss
# weights, batch, seed) exits 1 listing each differing key with both values
# and the ways out, and leaves experiment.lua alone; fewer iterations than
# the checkpoint has is an error; safe changes (iterations upwards, cadences)
# are allowed and logged, and every session's settings are kept.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png" --set run=r)
show() { sed 's/^/#   /' "$1"; }
d=$tmp/results/tiny/r

# A run interrupted at iteration 25 (an injected NaN), with checkpoints at 10 and 20.
STRATA_INJECT_NAN_AT=25 bin/strata run tests/e2e/tiny.lua "${common[@]}" >"$tmp/1.out" 2>&1
[ $? -eq 1 ] && [ -e "$d/checkpoints/ckpt_00000020.h5" ]; ok $? "an interrupted run with a checkpoint at 20"
cp "$d/experiment.lua" "$tmp/exp1.lua"

rerun() { bin/strata run tests/e2e/tiny.lua "${common[@]}" "$@" >"$tmp/o.out" 2>&1; }
refused() { # PATTERN...: exit 1, each pattern in the message, the ways out, experiment.lua untouched
  [ "$rc" -eq 1 ] && grep -q "cannot resume tiny/r" "$tmp/o.out" && grep -q -- "--fresh" "$tmp/o.out" \
    && grep -q -- "--set run=" "$tmp/o.out" && cmp -s "$d/experiment.lua" "$tmp/exp1.lua" || return 1
  for p in "$@"; do grep -qF -- "$p" "$tmp/o.out" || return 1; done
}
rerun --set optim.lr=0.5; rc=$?
refused "optim.lr: was 0.01, now 0.5"; ok $? "a changed learning rate is refused, naming both values" || show "$tmp/o.out"
rerun --set model.channels="{ 8, 16, 32 }" --set loss.tv.weight=50 --set data.batch=4; rc=$?
refused "model.channels: was { 8, 16, 16 }, now { 8, 16, 32 }" "loss.tv.weight: was 200, now 50" "data.batch: was 2, now 4"
ok $? "a changed model shape, loss weight and batch are all listed (no tensor-copy error)" || show "$tmp/o.out"
! grep -q "copy\|shape \[" "$tmp/o.out"; ok $? "the model change is caught before any tensor is copied"
rerun --set seed=8; rc=$?
refused "seed: was 7, now 8"; ok $? "a changed seed is refused"
[ "$(ls "$d/sessions")" = "session-001.lua" ]; ok $? "refused reruns record no session"

rerun --set schedule.iterations=15; rc=$?
[ $rc -eq 1 ] && grep -q "asks for 15 iterations, but .*ckpt_00000020.h5 already reached iteration 20" "$tmp/o.out" \
  && cmp -s "$d/experiment.lua" "$tmp/exp1.lua"
ok $? "fewer iterations than the checkpoint has is an error" || show "$tmp/o.out"

rerun --set schedule.iterations=50 --set schedule.log_every=2 --set schedule.checkpoint_every=5; rc=$?
[ $rc -eq 0 ] && grep -q "resuming $d from $d/checkpoints/ckpt_00000020.h5" "$tmp/o.out" && [ -s "$d/model.h5" ]
ok $? "more iterations and other cadences resume and finish" || show "$tmp/o.out"
grep -q "setting changed since the checkpoint: schedule.iterations: 40 -> 50" "$tmp/o.out" \
  && grep -q "setting changed since the checkpoint: schedule.log_every: 5 -> 2" "$tmp/o.out"
ok $? "the safe changes are logged"
[ "$(ls "$d/sessions" | tr '\n' ' ')" = "session-001.lua session-002.lua " ] \
  && grep -q "iterations = 40" "$d/sessions/session-001.lua" && grep -q "iterations = 50" "$d/sessions/session-002.lua" \
  && grep -q "^-- changed: schedule.iterations: 40 -> 50" "$d/sessions/session-002.lua" && grep -q "iterations = 50" "$d/experiment.lua"
ok $? "each session's settings are kept (sessions/session-N.lua), experiment.lua holds the current"
awk -F, 'NR > 1 { print $1 }' "$d/log.csv" | tr '\n' ' ' | grep -q "^5 10 15 20 22 24 .* 48 50 $"
ok $? "log.csv keeps the first session's rows and continues at the new cadence"

# A cosine schedule spans the run: its length is then not a safe change.
STRATA_INJECT_NAN_AT=25 bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=cos \
  --set 'optim.lr={ kind = "cosine", base = 0.01 }' >"$tmp/cos1.out" 2>&1
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=cos --set 'optim.lr={ kind = "cosine", base = 0.01 }' \
  --set schedule.iterations=50 >"$tmp/o.out" 2>&1
[ $? -eq 1 ] && grep -q "schedule.iterations: was 40, now 50 (optim.lr is a cosine schedule over the run's length)" "$tmp/o.out"
ok $? "with a cosine learning-rate schedule, another iteration count is refused" || show "$tmp/o.out"

tap_end
