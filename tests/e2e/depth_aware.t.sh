#!/usr/bin/env bash
# The paper's mechanism at tiny size: on the same images, a transformer
# trained with the depth loss keeps the depth network's map of its stylized
# images closer to the originals' than a baseline trained without it; the
# evaluation writes its table, figure and loss curves. (Random networks: this
# checks the mechanism, not the paper's numbers.)
. tests/tap.sh

bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 --seed 3 >/dev/null
bin/strata weights random fcrn "$tmp/fcrn.h5" --width-div 16 --seed 4 >/dev/null
common=(--set "data.train=$tmp/images" --set "style.image=$tmp/style.png" --set "vgg.weights=$tmp/vgg.h5"
        --set "depth.weights=$tmp/fcrn.h5" --set "output.dir=$tmp/results" --set "sample.image=$tmp/images/1.png"
        --set schedule.iterations=60 --set schedule.checkpoint_every=1000)
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=base >"$tmp/base.out" 2>&1
ok $? "baseline run (no depth loss)"
bin/strata run tests/e2e/tiny.lua "${common[@]}" --set run=depth --set loss.depth.weight=200 >"$tmp/depth.out" 2>&1
ok $? "depth-aware run (depth loss weight 200)"
grep -q "depth " "$tmp/depth.out" && ! grep -q "depth " "$tmp/base.out"
ok $? "only the depth-aware run logs a depth loss"
grep -q "depth network (FCRN) weights are RANDOM" "$tmp/depth.out"; ok $? "the run says the depth network is random"

bin/strata eval experiments/depth_l2.lua --set name=tiny_eval --set "images=$tmp/images" --set size=32 \
  --set "baseline=$tmp/results/tiny/base/model.h5" --set "depth_aware=$tmp/results/tiny/depth/model.h5" \
  --set "depth.weights=$tmp/fcrn.h5" --set "output.dir=$tmp/results" >"$tmp/eval.out" 2>&1
ok $? "strata eval runs"
e=$tmp/results/tiny_eval
for f in metrics.csv metrics.md figure.png losses.png report.md; do [ -s "$e/$f" ]; ok $? "eval writes $f"; done
ratio=$(awk -F, '$1 == "mean" {print $4}' "$e/metrics.csv")
awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r < 0.9) }'
ok $? "depth-aware / baseline mean depth-map L2 on the training images is below 0.9 (got $ratio)"
[ "$(grep -c '\.png,' "$e/metrics.csv")" -eq 8 ]; ok $? "one row per image (8) plus the mean"
grep -q "RANDOM" "$e/report.md"; ok $? "the report says the networks are random"

tap_end
