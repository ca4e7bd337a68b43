#!/usr/bin/env bash
# make demo: the main job on an embedded default, offline, in a few minutes on
# 2 CPU cores, using only the repository (data/samples, see data/NOTICE):
#  1. trains a baseline and a depth-aware transformer on the sample training
#     photos (data/samples/train) in the style of Hokusai's wave;
#  2. imports Engstrom's published pretrained wave network
#     (data/samples/reference/engstrom-wave) and stylizes the test photos
#     (data/samples/content: chicago.jpg, stata.jpg, none of them a training
#     photo) at full size into results/demo_pretrained/;
#  3. runs the paper's depth-map evaluation of all three models on the test
#     photos (results/demo_eval/) and on the training photos
#     (results/demo_eval_train/): report.md, metrics.md, figure.png, losses.png.
# Uses weights/vgg19.h5 and weights/fcrn.h5 when 'make weights' has made them;
# otherwise random networks, and every output says what they mean.
# DEMO_RESULTS=DIR writes under DIR instead of results/; DEMO_QUICK=1 runs the
# same steps at toy sizes (tests/e2e/demo.t.sh).
set -eu
cd "$(dirname "$0")/.."
OUT=${DEMO_RESULTS:-results}
R=$OUT/demo
P=$OUT/demo_pretrained
quick=()             # training overrides, stylize size and eval size in quick mode
full_size=()
eval_size=256
div=4                # random loss networks at a quarter of the published widths
if [ "${DEMO_QUICK:-0}" = 1 ]; then
  quick=(--set schedule.iterations=4 --set data.size=32 --set sample.size=32 --set schedule.log_every=2
         --set schedule.checkpoint_every=4 --set schedule.sample_every=4)
  full_size=(--size 96x64)
  eval_size=64
  div=16
fi
bin=bin/strata
mkdir -p "$R" "$P"
train=data/samples/train     # scikit-image's photos (data/NOTICE)
test=data/samples/content     # chicago.jpg, stata.jpg: no training photo among them
style=data/samples/styles/wave.jpg
engstrom=data/samples/reference/engstrom-wave

if [ -f weights/vgg19.h5 ] && [ -f weights/fcrn.h5 ]; then
  vgg=weights/vgg19.h5; fcrn=weights/fcrn.h5
  echo "demo: using the published VGG-19 and FCRN weights"
else
  vgg=$R/vgg19_random.h5; fcrn=$R/fcrn_random.h5
  [ -f "$vgg" ] || $bin weights random vgg19 "$vgg" --width-div $div --seed 1
  [ -f "$fcrn" ] || $bin weights random fcrn "$fcrn" --width-div $div --seed 2
  echo "demo: NOTE: no published weights (run 'make weights' on a networked machine);"
  echo "demo: NOTE: using RANDOM VGG-19 and FCRN networks: the trained models and all depth maps show the pipeline working, not the paper's findings"
fi

# 1. Short training runs (random loss networks unless 'make weights' ran).
common=(--set "data.train=$train" --set "style.image=$style" --set "vgg.weights=$vgg"
        --set "depth.weights=$fcrn" --set "output.dir=$R/runs" --set "sample.image=$test/chicago.jpg")
$bin run experiments/demo.lua "${common[@]}" ${quick[@]+"${quick[@]}"} --set run=baseline --set loss.depth.weight=0
$bin run experiments/demo.lua "${common[@]}" ${quick[@]+"${quick[@]}"} --set run=depth --set loss.depth.weight=200

# 2. The real pretrained network: Engstrom's published wave transformer.
$bin weights import engstrom "$engstrom" "$R/engstrom_wave.h5" >/dev/null
for f in "$test"/*.jpg; do
  n=$(basename "$f" .jpg)
  $bin stylize --model "$R/engstrom_wave.h5" ${full_size[@]+"${full_size[@]}"} "$f" "$P/${n}_wave.png"
done
echo "demo: Engstrom's published pretrained wave network stylized the test photos: $P/*_wave.png"

# 3. The paper's comparison, with the pretrained network alongside.
for set in test train; do
  images=$test; name=demo_eval; title="make demo: the test photos (none of them used in training)"
  [ $set = train ] && { images=$train; name=demo_eval_train; title="make demo: the training photos"; }
  $bin eval experiments/depth_l2.lua --set name=$name --set "title=$title" --set "images=$images" \
    --set size=$eval_size --set "output.dir=$OUT" \
    --set "baseline=$R/runs/demo/baseline/model.h5" --set "depth_aware=$R/runs/demo/depth/model.h5" \
    --set "depth.weights=$fcrn" --set "pretrained.model=$R/engstrom_wave.h5" \
    --set "pretrained.label=Engstrom's wave: the published pretrained model (data/samples)"
done
echo "demo: see $OUT/demo_eval/report.md and figure.png (test photos: chicago, stata),"
echo "demo: $OUT/demo_eval_train/ (the training photos, where the depth loss was optimised),"
echo "demo: and $P/ (the pretrained network's full-size stylizations)"
