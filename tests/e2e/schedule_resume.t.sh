#!/usr/bin/env bash
# A learning-rate schedule given as a Lua function of the iteration
# (strata.schedule): the rate logged at every iteration is the function's; a
# run killed (SIGKILL) after its first checkpoint and rerun logs the same
# rate at every iteration as an uninterrupted run and ends with the same
# weights; the resolved experiment.lua records the function and, run as an
# experiment itself, trains with the same rates.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
cat >"$tmp/sched.lua" <<'LUA'
local exp = dofile("tests/e2e/tiny.lua")
exp.name = "sched"
-- Halves every 8 iterations, with a bump on odd ones (no table schedule does this).
exp.optim.lr = function(it)
  local r = 0.02 * 0.5 ^ ((it - 1) // 8)
  if it % 2 == 1 then r = r * 1.5 end
  return r
end
exp.schedule.iterations = 30
exp.schedule.log_every = 1
return exp
LUA
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png")
lr_of() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "lr") c = i; next } { print $1 "," $c }' "$1"; }

bin/strata run "$tmp/sched.lua" "${common[@]}" --set run=a >"$tmp/a.out" 2>&1
ok $? "an uninterrupted run with a function schedule"
a=$tmp/results/sched/a
lr_of "$a/log.csv" | awk -F, '{ r = 0.02 * 0.5 ^ int(($1 - 1) / 8); if ($1 % 2 == 1) r *= 1.5
  d = $2 - r; if (d < 0) d = -d; if (d > 1e-9 * r) bad = 1; n++ } END { exit !(n == 30 && !bad) }'
ok $? "log.csv gives the function's rate at each of the 30 iterations"

b=$tmp/results/sched/b
bin/strata run "$tmp/sched.lua" "${common[@]}" --set run=b >"$tmp/b1.out" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do  # up to 150 s: slow builds (sanitizers, the CUDA emulator)
  [ -e "$b/checkpoints/ckpt_00000010.h5" ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
[ ! -e "$b/model.h5" ]; ok $? "the killed run did not finish"
bin/strata run "$tmp/sched.lua" "${common[@]}" --set run=b >"$tmp/b2.out" 2>&1
[ $? -eq 0 ] && grep -q resuming "$tmp/b2.out"; ok $? "the rerun resumes from a checkpoint"
cmp -s <(lr_of "$a/log.csv") <(lr_of "$b/log.csv"); ok $? "the resumed run's rate at every iteration equals the uninterrupted run's"
[ "$(bin/strata run tests/e2e/weights_maxdiff.lua "$a/model.h5" "$b/model.h5")" = 0 ]; ok $? "and ends with the same weights"

grep -q "lr = function(it)" "$a/experiment.lua"; ok $? "experiment.lua records the function's source"
bin/strata run "$a/experiment.lua" --set run=c >"$tmp/c.out" 2>&1
ok $? "the recorded experiment.lua runs as an experiment"
cmp -s <(lr_of "$a/log.csv") <(lr_of "$tmp/results/sched/c/log.csv"); ok $? "with the same rates"

cat >"$tmp/upvalue.lua" <<'LUA'
local exp = dofile("tests/e2e/tiny.lua")
local base = 0.01
exp.optim.lr = function(it) return base end
return exp
LUA
bin/strata run "$tmp/upvalue.lua" "${common[@]}" --set run=u >"$tmp/u.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: optim.lr: the function uses 'base', a local variable from outside it" "$tmp/u.out"
ok $? "a schedule using a local from outside it is an error that says why"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=k --set 'optim.lr={kind="cosin",base=0.01}' >"$tmp/k.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: optim.lr: unknown schedule kind 'cosin' (did you mean 'cosine'?)" "$tmp/k.out"
ok $? "an unknown schedule kind names the closest"

tap_end
