#!/usr/bin/env bash
# A sweep through a real one-node Slurm on localhost (tests/slurm/cluster.sh):
# `strata sweep --slurm --gpus 0 --submit` hands the job array to sbatch and
# prints its id, the array runs every task, --status reads the run folders
# (not started, then complete), and the summary equals the same sweep run
# locally. Skips, saying why, only when the daemons cannot start.
. tests/tap.sh
. tests/slurm/cluster.sh
trap 'slurm_stop; rm -rf "$tmp"' EXIT

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null || { echo "not ok 1 - cannot make data"; echo "1..1"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
# The same sweep twice, results in different folders: through Slurm and here.
for where in slurm local; do
  cat >"$tmp/$where.lua" <<LUA
return {
  name = "tvslurm",
  base = "tests/e2e/tiny.lua",
  grid = { ["loss.tv.weight"] = { 100, 400 } },
  set = { ["data.train"] = "$tmp/images", ["style.image"] = "$tmp/style.png", ["vgg.weights"] = "$tmp/vgg.h5",
          ["output.dir"] = "$tmp/$where", ["sample.image"] = "$tmp/images/1.png", ["schedule.iterations"] = 10 },
}
LUA
done
# One thread per process in both, so the two sums are done in the same order.
export OMP_NUM_THREADS=1

bin/strata sweep "$tmp/slurm.lua" --status >"$tmp/status0.out" 2>&1
[ "$(grep -c '^loss.tv.weight=[0-9]*  *not started' "$tmp/status0.out")" -eq 2 ] && grep -q '^2 not started$' "$tmp/status0.out"
ok $? "--status before anything ran: both runs 'not started'"

if ! slurm_start; then
  slurm_log_tail
  echo "1..0 # SKIP the Slurm daemons did not start: $slurm_why"
  exit 0
fi
echo "# slurm up: $(sinfo -h -o '%P %t %N %c CPUs')"

bin/strata sweep "$tmp/slurm.lua" --slurm --gpus 0 --submit >"$tmp/submit.out" 2>"$tmp/submit.err"
ok $? "--slurm --submit exits 0"
job=$(tail -n 1 "$tmp/submit.out")
[[ "$job" =~ ^[0-9]+$ ]] && grep -q "Slurm job $job" "$tmp/submit.out"
ok $? "it prints the job id ($job)"
[ "$(cat "$tmp/slurm/tvslurm/slurm/job_id" 2>/dev/null)" = "$job" ]; ok $? "and records it in slurm/job_id"
! grep -q 'gres' "$tmp/slurm/tvslurm/sweep.slurm" && grep -q "'device=cpu'" "$tmp/slurm/tvslurm/sweep.slurm"
ok $? "--gpus 0: no GPU asked for, the tasks run with device=cpu"

# The array ends when squeue no longer lists it (bounded: 150 s).
seen=0
for _ in $(seq 300); do
  [ -n "$(squeue -h -j "$job" 2>/dev/null)" ] && seen=1 || break
  sleep 0.5
done
left=$(squeue -h -j "$job" 2>/dev/null)
[ -z "$left" ]; ok $? "the array finished within 150 s${left:+ (still queued: $left)}"
[ "$(ls "$tmp/slurm/tvslurm/slurm/" | grep -c "^${job}_[01]\.out$")" -eq 2 ]
ok $? "Slurm wrote each task's output file (${job}_0.out, ${job}_1.out)"
for v in 100 400; do
  [ -s "$tmp/slurm/tvslurm/loss.tv.weight=$v/model.h5" ] && [ -e "$tmp/slurm/tvslurm/loss.tv.weight=$v/complete" ]
  ok $? "the Slurm task for loss.tv.weight=$v finished its run (model.h5, completion marker)" ||
    sed 's/^/#   /' "$tmp/slurm/tvslurm/slurm/"*.out
done

bin/strata sweep "$tmp/slurm.lua" --status >"$tmp/status1.out" 2>&1
grep -q '^loss.tv.weight=100  *complete  *10' "$tmp/status1.out" && grep -q '^2 complete$' "$tmp/status1.out"
ok $? "--status after the array: both complete at iteration 10"

# The summary: every run is skipped (finished by Slurm), then the same sweep here.
bin/strata sweep "$tmp/slurm.lua" >"$tmp/sum_slurm.out" 2>&1
ok $? "summarizing the Slurm sweep exits 0"
[ "$(grep -c 'skipping' "$tmp/sum_slurm.out")" -eq 2 ]; ok $? "it trains nothing: both runs were finished by Slurm"
bin/strata sweep "$tmp/local.lua" >"$tmp/sum_local.out" 2>&1
ok $? "the same sweep run locally exits 0"
[ "$(wc -l <"$tmp/local/tvslurm/summary.csv")" -eq 3 ] && cmp -s "$tmp/slurm/tvslurm/summary.csv" "$tmp/local/tvslurm/summary.csv"
ok $? "summary.csv through Slurm equals summary.csv run locally" ||
  diff "$tmp/slurm/tvslurm/summary.csv" "$tmp/local/tvslurm/summary.csv" | sed 's/^/#   /'

tap_end
