#!/usr/bin/env bash
# `strata sweep`: a grid of three tiny runs (TV weights) runs in-process one
# after another and writes summary.csv, summary.md and a plot; a rerun skips
# finished runs, and redoes (resumes) only a run whose model.h5 is gone;
# eval.csv metrics join the summary; --slurm writes a job array and runs
# nothing; a random sweep draws reproducible values in range.
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
cat >"$tmp/sweep.lua" <<LUA
return {
  name = "tvsweep",
  base = "tests/e2e/tiny.lua",
  grid = { ["loss.tv.weight"] = { 100, 200, 400 } },
  set = { ["data.train"] = "$tmp/images", ["style.image"] = "$tmp/style.png", ["vgg.weights"] = "$tmp/vgg.h5",
          ["output.dir"] = "$tmp/results", ["sample.image"] = "$tmp/images/1.png", ["schedule.iterations"] = 20 },
}
LUA
s=$tmp/results/tvsweep

# 1. The whole sweep.
bin/strata sweep "$tmp/sweep.lua" >"$tmp/1.out" 2>&1
ok $? "the sweep exits 0"
for v in 100 200 400; do
  [ -s "$s/loss.tv.weight=$v/model.h5" ]; ok $? "run loss.tv.weight=$v writes results/tvsweep/loss.tv.weight=$v/model.h5"
done
grep -q 'tv = { weight = 200 }\|weight = 200' "$s/loss.tv.weight=200/experiment.lua"
ok $? "the run's experiment.lua has its swept value"
[ "$(wc -l <"$s/summary.csv")" -eq 4 ]; ok $? "summary.csv has a header and 3 rows"
head -1 "$s/summary.csv" | grep -q '^run,loss.tv.weight,status,iteration,content,style,tv,depth,total$'
ok $? "summary.csv's columns: run, swept key, status, losses"
awk -F, 'NR > 1 && ($3 != "done" || $4 != 20 || !($9 > 0)) { bad = 1 } END { exit bad }' "$s/summary.csv"
ok $? "every row is done at iteration 20 with a positive total loss"
last=$(awk -F, 'END {print $7}' "$s/loss.tv.weight=400/log.csv")
grep -q "^loss.tv.weight=400,400,done,20,.*,$last\$" "$s/summary.csv"
ok $? "a row's total is the last total in its run's log.csv ($last)"
grep -q '^| loss.tv.weight=200 | 200 | done |' "$s/summary.md" && grep -q 'plot_total.png' "$s/summary.md"
ok $? "summary.md has the table and links the plot"
png_size() { # prints WIDTHxHEIGHT of a PNG from its IHDR chunk, or nothing
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return
  od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
[ "$(png_size "$s/plot_total.png")" = 640x400 ]; ok $? "plot_total.png is a 640x400 PNG"
cat >"$tmp/readpng.lua" <<'LUA'
local img = require("strata").image.read(arg[1])
print(string.format("%dx%d %d %d", img:size(3), img:size(2), img:min(), img:max()))
LUA
read=$(bin/strata run "$tmp/readpng.lua" "$s/plot_total.png")
[ "$(echo "$read" | awk '{print $1, $2, $3}')" = "640x400 0 255" ]; ok $? "the plot decodes, with ink on white ($read)"

# 2. A rerun skips every finished run.
start=$(date +%s.%N)
bin/strata sweep "$tmp/sweep.lua" >"$tmp/2.out" 2>&1
ok $? "rerunning the sweep exits 0"
[ "$(grep -c 'skipping' "$tmp/2.out")" -eq 3 ] && ! grep -q 'training ' "$tmp/2.out"
ok $? "the rerun says 'skipping' for all 3 runs and trains nothing"
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a < 10) }'; ok $? "the rerun is fast"

# 3. A run without its model.h5 resumes from its final checkpoint (written
# before the outputs) and writes them again; the others are skipped.
rm "$s/loss.tv.weight=200/model.h5"
bin/strata sweep "$tmp/sweep.lua" >"$tmp/3.out" 2>&1
ok $? "the sweep with one unfinished run exits 0"
[ "$(grep -c 'skipping' "$tmp/3.out")" -eq 2 ] && grep -q 'skipping loss.tv.weight=100' "$tmp/3.out" \
  && grep -q 'skipping loss.tv.weight=400' "$tmp/3.out"
ok $? "the finished runs are skipped"
grep -q "resuming .*loss.tv.weight=200 from .*ckpt_00000020.h5" "$tmp/3.out" && [ "$(grep -c '^training ' "$tmp/3.out")" -eq 1 ] \
  && ! grep -q 'iter [0-9]*/20' "$tmp/3.out"
ok $? "only loss.tv.weight=200 runs, resuming from its final checkpoint with nothing to train"
[ -s "$s/loss.tv.weight=200/model.h5" ]; ok $? "it finishes"

cp "$s/loss.tv.weight=100/log.csv" "$tmp/log100.csv"

# 4. Metrics from a run's eval.csv join the summary and get their own plot.
for v in 100 200 400; do
  printf 'image,depth_l2_ratio\nmean,%s\n' "0.$((v / 100))" >"$s/loss.tv.weight=$v/eval.csv"
done
bin/strata sweep "$tmp/sweep.lua" >"$tmp/4.out" 2>&1
head -1 "$s/summary.csv" | grep -q ',total,depth_l2_ratio$' && grep -q ',0.4$' "$s/summary.csv"
ok $? "eval.csv's depth_l2_ratio is a summary column"
[ "$(png_size "$s/plot_depth_l2_ratio.png")" = 640x400 ]; ok $? "and is plotted (plot_depth_l2_ratio.png)"

# 4b. --devices runs each device's share in a subprocess chain (started
# without a shell); here two CPU "devices", after --fresh-like removal of two runs.
rm -rf "$s/loss.tv.weight=100" "$s/loss.tv.weight=400"
bin/strata sweep "$tmp/sweep.lua" --devices cpu,cpu >"$tmp/4b.out" 2>&1
ok $? "a sweep on --devices cpu,cpu exits 0"
grep -q 'skipping loss.tv.weight=200' "$tmp/4b.out" && grep -q 'on cpu, cpu in parallel' "$tmp/4b.out"; ok $? "it skips the finished run and runs two in parallel"
for v in 100 400; do
  [ -s "$s/loss.tv.weight=$v/model.h5" ] && grep -q "^training tvsweep/loss.tv.weight=$v on cpu" "$s/logs/loss.tv.weight=$v.out"
  ok $? "subprocess run loss.tv.weight=$v finishes, its output in logs/loss.tv.weight=$v.out"
done
cmp -s "$s/loss.tv.weight=100/log.csv" "$tmp/log100.csv" || \
  cmp -s <(cut -d, -f1-7 "$s/loss.tv.weight=100/log.csv") <(cut -d, -f1-7 "$tmp/log100.csv")
ok $? "the subprocess run's losses equal the in-process run's"

# 5. --slurm writes a job array and runs nothing.
bin/strata sweep "$tmp/sweep.lua" --set schedule.iterations=30 --slurm >"$tmp/5.out" 2>&1
ok $? "--slurm exits 0"
sl=$s/sweep.slurm
grep -q '^#SBATCH --array=0-2$' "$sl" && grep -q '^#SBATCH --gres=gpu:1$' "$sl"; ok $? "sweep.slurm is a job array 0-2 with one GPU per task"
for v in 100 200 400; do
  grep -q "run 'tests/e2e/tiny.lua' .*--set 'loss.tv.weight=$v' .*--set 'run=loss.tv.weight=$v'" "$sl"
  ok $? "sweep.slurm runs loss.tv.weight=$v with its --set flags"
done
[ "$(grep -c -- "--set 'schedule.iterations=30'" "$sl")" -eq 3 ]; ok $? "command-line --set flags reach every task"
grep -q 'sbatch' "$tmp/5.out" && ! grep -q 'training ' "$tmp/5.out"; ok $? "--slurm says how to submit and trains nothing"
bash -n "$sl"; ok $? "sweep.slurm is valid bash"

# 6. A random sweep: n draws in range, the same for the same seed.
cat >"$tmp/random.lua" <<LUA
return { name = "lr", base = "tests/e2e/tiny.lua", random = { n = 5, seed = 4, fields = { ["optim.lr"] = { 1e-4, 1e-2, "log" } } },
         set = { ["output.dir"] = "$tmp/results" } }
LUA
bin/strata sweep "$tmp/random.lua" --slurm >/dev/null 2>&1 && cp "$tmp/results/lr/sweep.slurm" "$tmp/r1"
bin/strata sweep "$tmp/random.lua" --slurm >/dev/null 2>&1
grep -q '^#SBATCH --array=0-4$' "$tmp/r1" && cmp -s "$tmp/r1" "$tmp/results/lr/sweep.slurm"
ok $? "a random sweep of n=5 is a 5-task array, the same for the same seed"
grep -o "'optim.lr=[^']*'" "$tmp/r1" | tr -d "'" | cut -d= -f2 | awk '$1 < 1e-4 || $1 > 1e-2 { bad = 1 } END { exit bad || NR != 5 }'
ok $? "its learning rates lie in [1e-4, 1e-2]"

# 7. Mistakes in a sweep file are one-line errors.
sed 's/loss.tv.weight/loss.tv.wieght/' "$tmp/sweep.lua" >"$tmp/bad.lua"
bin/strata sweep "$tmp/bad.lua" >"$tmp/7.out" 2>&1
[ $? -eq 1 ] && grep -q "unknown experiment key 'loss.tv.wieght' (did you mean 'loss.tv.weight'?)" "$tmp/7.out"
ok $? "a misspelt swept key is named, with the closest valid one"
printf 'return { name = "x", base = "tests/e2e/tiny.lua", grids = {} }\n' >"$tmp/bad2.lua"
bin/strata sweep "$tmp/bad2.lua" >"$tmp/7b.out" 2>&1
[ $? -eq 1 ] && grep -q "unknown sweep key 'grids' (did you mean 'grid'?)" "$tmp/7b.out"
ok $? "a misspelt sweep key is named"

tap_end
