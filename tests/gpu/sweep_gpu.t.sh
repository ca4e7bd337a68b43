#!/usr/bin/env bash
# `strata sweep --devices` on a GPU: three tiny runs in two device process
# chains (both on cuda:0, so one GPU is enough) all train on the device and
# finish; the summary lists them done; a run's losses equal the same run
# made alone on the device (CUDA runs are deterministic). Skips without a
# CUDA device.
. tests/tap.sh

. tests/gpu/have_cuda.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" || { echo "1..0 # SKIP cannot make data"; exit 1; }
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
cat >"$tmp/sweep.lua" <<LUA
return {
  name = "gpusweep",
  base = "tests/e2e/tiny.lua",
  grid = { ["loss.tv.weight"] = { 100, 200, 400 } },
  set = { ["data.train"] = "$tmp/images", ["style.image"] = "$tmp/style.png", ["vgg.weights"] = "$tmp/vgg.h5",
          ["output.dir"] = "$tmp/results", ["sample.image"] = "$tmp/images/1.png", ["schedule.iterations"] = 10 },
}
LUA
s=$tmp/results/gpusweep

bin/strata sweep "$tmp/sweep.lua" --devices cuda:0,cuda:0 >"$tmp/sweep.out" 2>&1
ok $? "the sweep on cuda:0,cuda:0 exits 0"
grep -q "in parallel" "$tmp/sweep.out"; ok $? "it runs device process chains"
for v in 100 200 400; do
  grep -q "training gpusweep/loss.tv.weight=$v on cuda:0" "$s/logs/loss.tv.weight=$v.out"
  ok $? "run loss.tv.weight=$v trains on cuda:0"
done
awk -F, 'NR > 1 && $3 == "done" && $4 == 10 { d++ } END { exit !(d == 3) }' "$s/summary.csv"
ok $? "summary.csv lists the 3 runs done at iteration 10"

bin/strata run tests/e2e/tiny.lua --set "data.train=$tmp/images" --set "style.image=$tmp/style.png" \
  --set "vgg.weights=$tmp/vgg.h5" --set "output.dir=$tmp/alone" --set "sample.image=$tmp/images/1.png" \
  --set schedule.iterations=10 --set loss.tv.weight=200 --set device=cuda >"$tmp/alone.out" 2>&1
cmp -s <(cut -d, -f1-7 "$s/loss.tv.weight=200/log.csv") <(cut -d, -f1-7 "$tmp/alone/tiny/default/log.csv")
ok $? "the swept run's losses equal the same run made alone on the device"

tap_end
