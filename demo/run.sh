#!/usr/bin/env bash
# make demo: the main job on an embedded default, offline, in a few minutes on
# 2 CPU cores. Trains a baseline and a depth-aware transformer on the sample
# training photos (data/samples/train) in the style of Hokusai's wave, then runs the paper's depth-map L2 evaluation and
# writes results/demo_eval/{report.md,metrics.md,figure.png,losses.png}.
# Uses weights/vgg19.h5 and weights/fcrn.h5 when 'make weights' has made them;
# otherwise random networks, and every output says the numbers mean nothing.
set -eu
cd "$(dirname "$0")/.."
R=results/demo
bin=bin/strata
mkdir -p "$R"
train=data/samples/train     # scikit-image's photos (data/NOTICE)
test=data/samples/content     # chicago.jpg, stata.jpg: no training photo among them
style=data/samples/styles/wave.jpg

if [ -f weights/vgg19.h5 ] && [ -f weights/fcrn.h5 ]; then
  vgg=weights/vgg19.h5; fcrn=weights/fcrn.h5
  echo "demo: using the published VGG-19 and FCRN weights"
else
  vgg=$R/vgg19_random.h5; fcrn=$R/fcrn_random.h5
  [ -f "$vgg" ] || $bin weights random vgg19 "$vgg" --width-div 4 --seed 1
  [ -f "$fcrn" ] || $bin weights random fcrn "$fcrn" --width-div 4 --seed 2
  echo "demo: NOTE: no published weights (run 'make weights' on a networked machine);"
  echo "demo: NOTE: using RANDOM VGG-19 and FCRN networks: the results below show the pipeline working, not the paper's findings"
fi

common=(--set "data.train=$train" --set "style.image=$style" --set "vgg.weights=$vgg"
        --set "depth.weights=$fcrn" --set "output.dir=$R/runs" --set "sample.image=$test/chicago.jpg")
$bin run experiments/demo.lua "${common[@]}" --set run=baseline --set loss.depth.weight=0
$bin run experiments/demo.lua "${common[@]}" --set run=depth --set loss.depth.weight=200
$bin eval experiments/depth_l2.lua --set name=demo_eval --set "images=$test" --set size=128 \
  --set "baseline=$R/runs/demo/baseline/model.h5" --set "depth_aware=$R/runs/demo/depth/model.h5" \
  --set "depth.weights=$fcrn"
# The same comparison on the training photos: with random networks this is
# where the depth loss's effect shows (it was optimised on these images).
$bin eval experiments/depth_l2.lua --set name=demo_eval_train --set "images=$train" --set size=128 \
  --set "baseline=$R/runs/demo/baseline/model.h5" --set "depth_aware=$R/runs/demo/depth/model.h5" \
  --set "depth.weights=$fcrn"
echo "demo: see results/demo_eval/report.md (test photos) and results/demo_eval_train/report.md (training photos),"
echo "demo: each with figure.png and losses.png"
