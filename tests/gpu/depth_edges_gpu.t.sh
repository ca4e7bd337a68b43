#!/usr/bin/env bash
# experiments/depth_edges.lua (a loss term defined in the experiment file, on
# the depth network's map) on CUDA: the term's difference kernels move to the
# device with the maps, and every logged loss of the first two iterations
# matches the CPU run's within 1e-4 relative. Skips without a CUDA device.
. tests/tap.sh
. tests/gpu/have_cuda.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
bin/strata weights random fcrn "$tmp/fcrn.h5" --width-div 16 --seed 4 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "depth.weights=$tmp/fcrn.h5" --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png"
        --set data.size=32 --set data.batch=2 --set 'model.channels={8,16,16}' --set model.blocks=1
        --set 'loss.style.layers={"relu1_1","relu2_1","relu3_1"}' --set loss.content.layer=relu3_1
        --set optim.lr=0.01 --set schedule.iterations=2 --set schedule.log_every=1 --set sample.size=32)
for dev in cpu cuda; do
  STRATA_TF32=0 bin/strata run experiments/depth_edges.lua "${common[@]}" --set device=$dev --set run=$dev \
    >"$tmp/$dev.out" 2>&1
  ok $? "depth_edges.lua trains on $dev"
done
grep -q "training depth_edges/cuda on cuda" "$tmp/cuda.out"; ok $? "the cuda run trains on the device"
cpu=$tmp/results/depth_edges/cpu/log.csv cuda=$tmp/results/depth_edges/cuda/log.csv
# Columns 3..8: content, style, tv, depth, depth_edges, total.
head -n 1 "$cuda" | grep -q '^iteration,epoch,content,style,tv,depth,depth_edges,total,'; ok $? "the cuda log has the term's column"
worst=$(paste -d, <(tail -n +2 "$cpu") <(tail -n +2 "$cuda") | awk -F, '
  { half = NF / 2; for (i = 3; i <= 8; i++) { a = $i + 0; b = $(i + half) + 0; d = a - b; if (d < 0) d = -d
      m = a < 0 ? -a : a; r = m > 0 ? d / m : d; if (r > w) w = r }; n++ }
  END { if (n == 2) printf "%.3g\n", w }')
awk -v w="$worst" 'BEGIN { exit !(w != "" && w + 0 <= 1e-4) }'
ok $? "cuda losses (depth_edges included) match the CPU's within 1e-4 relative (worst ${worst:-none})"

tap_end
