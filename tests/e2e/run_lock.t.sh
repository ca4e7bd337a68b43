#!/usr/bin/env bash
# One writer per run folder (issue 11, section 2): while a run trains, a
# second process on the same run folder (same or other settings, --fresh too)
# exits 1 naming the holder's pid and changes nothing; a run killed with
# SIGKILL never leaves a lock that blocks the rerun; the lock is not inherited
# by child processes. (Sweeps, in-process and in subprocesses, run in
# tests/e2e/sweep.t.sh.)
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png")
show() { sed 's/^/#   /' "$1"; }
d=$tmp/results/tiny/l

# A long run (checkpoints every 5 iterations), left running in the background.
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=l --set schedule.iterations=1000000 \
  --set schedule.checkpoint_every=5 >"$tmp/a.out" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do  # up to 150 s on slow (sanitized) builds
  [ -e "$d/checkpoints/ckpt_00000005.h5" ] && break
  sleep 0.05
done
[ "$(tr -d '\n' <"$d/run.lock" 2>/dev/null)" = "$pid" ]; ok $? "the running process holds $d/run.lock with its pid ($pid)"

bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=l --set schedule.iterations=30 >"$tmp/b.out" 2>&1
[ $? -eq 1 ] && grep -q "^strata: $d is in use by another strata process (pid $pid, lock file $d/run.lock)" "$tmp/b.out"
ok $? "a second process on the same run exits 1 naming the holder's pid" || show "$tmp/b.out"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=l --set optim.lr=0.5 >"$tmp/c.out" 2>&1
[ $? -eq 1 ] && grep -q "in use by another strata process (pid $pid" "$tmp/c.out" && ! grep -q "lr = 0.5" "$d/experiment.lua"
ok $? "so does one with other settings, and experiment.lua keeps the running settings"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=l --fresh >"$tmp/f.out" 2>&1
[ $? -eq 1 ] && grep -q "in use by another strata process (pid $pid" "$tmp/f.out" && [ -s "$d/experiment.lua" ] && [ -s "$d/log.csv" ] && [ -n "$(ls "$d/checkpoints")" ]
ok $? "--fresh on a running run exits 1 and deletes nothing"
kill -0 $pid 2>/dev/null; ok $? "the first process is still training"

kill -9 $pid; wait $pid 2>/dev/null
last=$(ls "$d/checkpoints" | sed -n 's/^ckpt_0*\([0-9]*\)\.h5$/\1/p' | sort -n | tail -1)
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=l --set schedule.iterations=$((last + 5)) \
  --set schedule.checkpoint_every=5 >"$tmp/r.out" 2>&1
[ $? -eq 0 ] && grep -q "resuming $d from .*ckpt_0*$last.h5" "$tmp/r.out" && [ -s "$d/model.h5" ]
ok $? "after kill -9 the rerun takes the lock, resumes from iteration $last and finishes" || show "$tmp/r.out"

# The lock is close-on-exec: a child started while it is held does not keep
# it once the parent lets go.
cat >"$tmp/sleeper.lua" <<'LUA'
local sys = require("strata").sys
local t = sys.clock()
while sys.clock() - t < 3 do end
LUA
cat >"$tmp/inherit.lua" <<LUA
local sys = require("strata").sys
local lock = assert(sys.lock("$tmp/x.lock"))
local child = sys.spawn({ sys.self_exe(), "run", "$tmp/sleeper.lua" })
local again, holder = sys.lock("$tmp/x.lock")
print("held", again == nil and holder == sys.getpid())
lock:release()
local mine = sys.lock("$tmp/x.lock")
print("free", mine ~= nil)
local _, code = sys.wait(child)
print("child", code)
LUA
bin/strata run "$tmp/inherit.lua" >"$tmp/i.out" 2>&1
grep -q "^held	true$" "$tmp/i.out"; ok $? "a second lock of a held file fails and names the holder"
grep -q "^free	true$" "$tmp/i.out" && grep -q "^child	0$" "$tmp/i.out"
ok $? "released by the parent, the lock is free while its child still runs (not inherited)" || show "$tmp/i.out"

tap_end
