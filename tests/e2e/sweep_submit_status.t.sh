#!/usr/bin/env bash
# `strata sweep --slurm --submit` and `--status` without a cluster (the real
# one is tests/slurm): sbatch is found on PATH and run without a shell with
# --parsable and the script, its job id printed; a missing or failing sbatch
# is one clear error showing its stderr; --status tells each state apart from
# folders made by hand (complete, running = lock held, interrupted, failed,
# not started); a failing array task leaves <run>/failed.
. tests/tap.sh

mkdir -p "$tmp/bin" "$tmp/nobin"
cat >"$tmp/sweep.lua" <<LUA
return {
  name = "st",
  base = "tests/e2e/tiny.lua",
  grid = { ["loss.tv.weight"] = { 1, 2, 3, 4, 5 } },
  set = { ["data.train"] = "$tmp/no_images", ["style.image"] = "$tmp/style.png", ["vgg.weights"] = "$tmp/vgg.h5",
          ["output.dir"] = "$tmp/results" },
}
LUA
s=$tmp/results/st

# 1. Submitting through a stand-in sbatch that records its arguments.
cat >"$tmp/bin/sbatch" <<SH
#!/bin/sh
printf '%s\n' "\$@" >"$tmp/sbatch.args"
echo "4242;cluster"
SH
chmod +x "$tmp/bin/sbatch"
PATH="$tmp/bin:$PATH" bin/strata sweep "$tmp/sweep.lua" --slurm --submit >"$tmp/1.out" 2>&1
ok $? "--slurm --submit exits 0 with a working sbatch"
[ "$(tail -n 1 "$tmp/1.out")" = 4242 ] && grep -q 'Slurm job 4242' "$tmp/1.out"; ok $? "it prints the job id from 'ID;CLUSTER'"
[ "$(cat "$tmp/sbatch.args")" = "--parsable
$s/sweep.slurm" ]; ok $? "sbatch got exactly --parsable and the script's path"
[ "$(cat "$s/slurm/job_id")" = 4242 ]; ok $? "the job id is kept in slurm/job_id"

# 2. sbatch failing: its stderr in the error, exit status nonzero.
cat >"$tmp/bin/sbatch" <<'SH'
#!/bin/sh
echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2
exit 1
SH
PATH="$tmp/bin:$PATH" bin/strata sweep "$tmp/sweep.lua" --slurm --submit >"$tmp/2.out" 2>&1
[ $? -ne 0 ] && grep -q 'sbatch .*sweep.slurm failed (exit 1): sbatch: error: Batch job submission failed: Invalid partition' "$tmp/2.out" \
  && [ "$(grep -c 'strata: ' "$tmp/2.out")" -eq 1 ]
ok $? "a failing sbatch is one error showing its stderr"

# 3. No sbatch on PATH.
PATH="$tmp/nobin" bin/strata sweep "$tmp/sweep.lua" --slurm --submit >"$tmp/3.out" 2>&1
[ $? -ne 0 ] && grep -q 'sbatch was not found on PATH' "$tmp/3.out"; ok $? "a missing sbatch is a clear error"
bin/strata sweep "$tmp/sweep.lua" --submit >"$tmp/3b.out" 2>&1
[ $? -ne 0 ] && grep -q -- '--submit goes with --slurm' "$tmp/3b.out"; ok $? "--submit without --slurm is refused"

# 4. --status over hand-made folders, one per state.
r() { echo "$s/loss.tv.weight=$1"; }
mkdir -p "$(r 1)" "$(r 2)/checkpoints" "$(r 3)/checkpoints" "$(r 4)"
touch "$(r 1)/model.h5" "$(r 1)/report.md" "$(r 1)/complete"
touch "$(r 2)/checkpoints/ckpt_00000010.h5" "$(r 2)/checkpoints/ckpt_00000030.h5"
touch "$(r 3)/checkpoints/ckpt_00000020.h5"
echo "exit 1 (Slurm job 7, array task 3)" >"$(r 4)/failed"
# This shell holds run 3's lock as a run would: flock on fd 9, its pid inside.
exec 9>"$(r 3)/run.lock"
flock -n 9 && echo $$ >&9
bin/strata sweep "$tmp/sweep.lua" --status >"$tmp/4.out" 2>&1
ok $? "--status exits 0"
exec 9>&-
sed 's/^/#   /' "$tmp/4.out"
grep -q '^loss.tv.weight=1  *complete ' "$tmp/4.out"; ok $? "marker and outputs: complete"
grep -q '^loss.tv.weight=2  *interrupted  *30 ' "$tmp/4.out"; ok $? "checkpoints without a marker: interrupted, at the newest (30)"
grep -q "^loss.tv.weight=3  *running  *20  *lock held by pid $$\$" "$tmp/4.out"; ok $? "lock held by another process: running"
grep -q '^loss.tv.weight=4  *failed  *-  *exit 1 (Slurm job 7, array task 3)' "$tmp/4.out"; ok $? "a failed marker: failed, with its reason"
grep -q '^loss.tv.weight=5  *not started' "$tmp/4.out" && [ ! -e "$(r 5)" ]; ok $? "no folder: not started (and none is made)"
grep -q '^1 complete, 1 running, 1 interrupted, 1 failed, 1 not started$' "$tmp/4.out"; ok $? "a count per state"
bin/strata sweep "$tmp/sweep.lua" --status | grep -q '^loss.tv.weight=3  *interrupted'; ok $? "once the lock is let go: interrupted"

# 5. A failing array task (its data folder is missing) leaves <run>/failed.
(cd "$tmp" && SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_JOB_ID=99 bash "$s/sweep.slurm") >"$tmp/5.out" 2>&1
[ $? -ne 0 ]; ok $? "the task exits nonzero"
[ "$(cat "$(r 5)/failed" 2>/dev/null)" = "exit 1 (Slurm job 99, array task 4)" ]; ok $? "and writes its failure into the run folder"
bin/strata sweep "$tmp/sweep.lua" --status | grep -q '^loss.tv.weight=5  *failed  *-  *exit 1 (Slurm job 99'; ok $? "--status reports it failed"

tap_end
