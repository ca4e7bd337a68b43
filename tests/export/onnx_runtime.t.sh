#!/usr/bin/env bash
# strata export onnx, checked by running the file in ONNX Runtime (node,
# onnxruntime-node from tests/export/package.json) against `strata stylize`'s
# unrounded output (.npy), and by Debian's python3-onnx checker:
#  - Engstrom's wave network on chicago.jpg (712x474) and on an odd-sized
#    331x219 copy;
#  - seeded random small transformers on a synthetic 67x45 picture: 'same'
#    padding, and 'reflect' padding with Torch-style transposed convs, eps 1e-5
#    and input scale 1/255;
#  - a file that is not a transformer, and a missing file: clear errors.
# Bound: at most 1/255 of the 0..255 range (1.0) per value, as issue 15 asks;
# and, tighter, 0.05: two float32 implementations summing in different orders
# differ by about 0.01 (strata's own conv algorithms differ from each other by
# that much on chicago.jpg), a wrong pad or scale by tens.
. tests/tap.sh
dir=tests/export
if ! command -v node >/dev/null || [ ! -d $dir/node_modules/onnxruntime-node ]; then
  echo "1..0 # SKIP node or onnxruntime-node missing (install: npm ci --ignore-scripts --prefix tests/export)"
  exit 0
fi
samples=data/samples

# compare NAME MODEL.h5 PNG NPY: export, check, stylize, run in ORT, compare.
compare() {
  local name=$1 model=$2 png=$3 npy=$4
  bin/strata export onnx "$model" "$tmp/$name.onnx" >/dev/null 2>"$tmp/err"
  ok $? "$name: strata export onnx writes a file"
  /usr/bin/python3 -c 'import sys, onnx; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); assert m.opset_import[0].version >= 13' \
    "$tmp/$name.onnx" 2>>"$tmp/err"
  ok $? "$name: python3-onnx's checker accepts it (full check, opset >= 13)"
  bin/strata stylize --model "$model" "$png" "$tmp/$name.npy" >/dev/null
  ok $? "$name: strata stylize writes the unrounded result"
  local r
  r=$(node $dir/ort_compare.js "$tmp/$name.onnx" "$npy" "$tmp/$name.npy")
  ok $? "$name: ONNX Runtime runs it; shapes agree ($r)"
  echo "# $name: $r"
  local d span
  d=$(echo "$r" | sed -n 's/.*"max_abs_diff":\([^,}]*\).*/\1/p')
  span=$(echo "$r" | sed -n 's/.*"range":\([^,}]*\).*/\1/p')
  awk -v d="${d:-nan}" 'BEGIN { exit !(d + 0 == d && d <= 1.0) }'
  ok $? "$name: max |ORT - strata| = $d <= 1/255 of the 0..255 range"
  awk -v d="${d:-nan}" 'BEGIN { exit !(d + 0 == d && d <= 0.05) }'
  ok $? "$name: max |ORT - strata| = $d <= 0.05 (float32 summation-order noise)"
  awk -v s="${span:-0}" 'BEGIN { exit !(s > 20) }'
  ok $? "$name: the output is a picture, not a constant (value range $span)"
  [ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err"
}

# Engstrom's released wave network.
bin/strata weights import engstrom $samples/reference/engstrom-wave "$tmp/wave.h5" >/dev/null
ok $? "wave checkpoint imported"
bin/strata run $dir/image_npy.lua $samples/content/chicago.jpg "$tmp/chicago.npy"
compare wave-chicago "$tmp/wave.h5" $samples/content/chicago.jpg "$tmp/chicago.npy"
bin/strata run $dir/test_image.lua "$tmp/odd.png" "$tmp/odd.npy" $samples/content/chicago.jpg 331x219
compare wave-odd-331x219 "$tmp/wave.h5" "$tmp/odd.png" "$tmp/odd.npy"

# Random small networks: both padding styles, input scale.
bin/strata run $dir/test_image.lua "$tmp/syn.png" "$tmp/syn.npy"
bin/strata run $dir/random_transformer.lua "$tmp/same.h5" same
compare random-same-67x45 "$tmp/same.h5" "$tmp/syn.png" "$tmp/syn.npy"
bin/strata run $dir/random_transformer.lua "$tmp/reflect.h5" reflect 0.00392156862745098
compare random-reflect-67x45 "$tmp/reflect.h5" "$tmp/syn.png" "$tmp/syn.npy"

# Models that cannot be exported.
bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 >/dev/null
out=$(bin/strata export onnx "$tmp/vgg.h5" "$tmp/vgg.onnx" 2>&1)
st=$?
[ $st -ne 0 ] && echo "$out" | grep -q "vgg19" && echo "$out" | grep -q "not a transformer" && [ ! -e "$tmp/vgg.onnx" ]
ok $? "a VGG weights file is refused, naming what it holds ($out)"
out=$(bin/strata export onnx "$tmp/none.h5" "$tmp/none.onnx" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "none.h5"
ok $? "a missing model file is one clear error ($out)"
out=$(bin/strata export tflite "$tmp/same.h5" "$tmp/x" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "unknown format 'tflite'"
ok $? "an unknown export format is refused ($out)"
tap_end
