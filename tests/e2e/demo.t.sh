#!/usr/bin/env bash
# make demo's steps at toy sizes (DEMO_QUICK=1): it uses only the repository's
# samples, its test photos are not training photos, its style is a painting,
# and it shows Engstrom's published pretrained network on the test photos,
# labelled as such, next to the demo-trained models, with every random
# network named; its figure has tiles of 256 pixels.
. tests/tap.sh

DEMO_RESULTS=$tmp DEMO_QUICK=1 bash demo/run.sh >"$tmp/demo.out" 2>&1
st=$?
ok $st "the demo runs (quick mode)"
[ $st = 0 ] || sed 's/^/# /' "$tmp/demo.out" | tail -8

# The sample sets: disjoint by name and by content; the style is a painting.
train=$(ls data/samples/train); test=$(ls data/samples/content)
[ -n "$train" ] && [ -n "$test" ] && [ -z "$(comm -12 <(echo "$train" | sort) <(echo "$test" | sort))" ] &&
  [ -z "$(comm -12 <(md5sum data/samples/train/* | cut -d' ' -f1 | sort) <(md5sum data/samples/content/* | cut -d' ' -f1 | sort))" ]
ok $? "training and test photos are disjoint (by name and content)"
grep -q "training demo/baseline .*(4 images" "$tmp/demo.out" &&
  grep -q "style_image = \"data/samples/styles/wave.jpg\"\|image = \"data/samples/styles/wave.jpg\"" "$tmp/demo/runs/demo/baseline/experiment.lua"
ok $? "the demo trains on the 4 training photos in the style of the wave painting"

e=$tmp/demo_eval
[ "$(cut -d, -f1 "$e/metrics.csv" | tr '\n' ' ')" = "image chicago.jpg stata.jpg mean " ]
ok $? "the evaluation's test photos are chicago.jpg and stata.jpg: $(cut -d, -f1 "$e/metrics.csv" | tr '\n' ' ')"
head -1 "$e/metrics.csv" | grep -q ",l2_pretrained,silog_pretrained,ssim_pretrained$"
ok $? "metrics.csv has the pretrained model's columns"
awk -F, 'NR > 1 && !($9 > 0) { bad = 1 } END { exit bad }' "$e/metrics.csv"
ok $? "the pretrained model's depth-map L2 is measured for each image"
grep -q "published pretrained model" "$e/report.md"; ok $? "the report names the published pretrained model"
if [ -f weights/vgg19.h5 ] && [ -f weights/fcrn.h5 ]; then  # 'make weights' ran: published networks
  ! grep -q "RANDOM" "$e/metrics.md" "$e/report.md"; ok $? "with the published weights nothing is labelled RANDOM"
  ok 0 "(the RANDOM labels are checked where there are no published weights)"
else
  grep -q "RANDOM depth network" "$e/metrics.md" && grep -q "RANDOM depth network" "$e/report.md"
  ok $? "the depth table says it was computed with a RANDOM depth network"
  grep -q "baseline model was trained with RANDOM VGG-19" "$e/report.md"
  ok $? "the report says the trained models used RANDOM VGG-19"
fi

for f in chicago stata; do
  [ -s "$tmp/demo_pretrained/${f}_wave.png" ]; ok $? "the pretrained network stylized $f.jpg"
done
size=$(bin/strata run /dev/stdin "$e/figure.png" <<'LUA'
local img = require("strata").image.read(arg[1])
print(img:size(3) .. " " .. img:size(2))
LUA
)
read -r fw fh <<<"$size"
# 4 columns of 256-high tiles at least 256 wide, 2 rows per test photo, plus text.
[ "${fw:-0}" -ge $((4 * 256)) ] && [ "${fh:-0}" -ge $((4 * 256)) ]
ok $? "the figure is at least 4 tiles of 256 px each way (${fw}x$fh)"
for d in demo_eval demo_eval_train; do
  for f in report.md metrics.md metrics.csv figure.png losses.png; do [ -s "$tmp/$d/$f" ] || break; done
  [ -s "$tmp/$d/$f" ]; ok $? "$d has report.md, metrics, figure.png and losses.png"
done

# Bad evaluation settings: one clear error line naming the key.
ev=(bin/strata eval experiments/depth_l2.lua --set name=bad --set "output.dir=$tmp" --set size=32
    --set "baseline=$tmp/demo/runs/demo/baseline/model.h5" --set "depth_aware=$tmp/demo/runs/demo/depth/model.h5"
    --set "depth.weights=$tmp/demo/fcrn_random.h5")
"${ev[@]}" --set "pretrained.model=$tmp/none.h5" >/dev/null 2>"$tmp/bad1.err"
[ $? = 1 ] && [ "$(wc -l <"$tmp/bad1.err")" = 1 ] && grep -q "^strata: pretrained.model: '.*none.h5' not found" "$tmp/bad1.err"
ok $? "a missing pretrained model is one error naming pretrained.model: $(cat "$tmp/bad1.err")"
"${ev[@]}" --set figure_tile=0 >/dev/null 2>"$tmp/bad2.err"
[ $? = 1 ] && [ "$(wc -l <"$tmp/bad2.err")" = 1 ] && grep -q "^strata: figure_tile: expected" "$tmp/bad2.err"
ok $? "figure_tile=0 is one error naming figure_tile: $(cat "$tmp/bad2.err")"
tap_end
