#!/usr/bin/env bash
# --preserve-colors: `strata stylize` output against numpy's YCbCr computation
# (float64, inverted BT.601 matrix) from the plain stylization and the photo;
# an odd-sized photo (its chroma resized to the network's output size); and
# `strata eval --preserve-colors` (tiny random networks) says so in its report
# and measures other images than without it.
. tests/tap.sh
. tests/e2e/stylize_fixture.sh
bin/strata stylize --model "$tmp/net.h5" --preserve-colors "$tmp/photo.png" "$tmp/kept.npy" >/dev/null
ok $? "stylize --preserve-colors"
r=$(/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
photo, plain, kept = (np.load(f"{d}/{n}.npy").astype(np.float64) for n in ("photo", "plain", "kept"))
M = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
ycc = lambda x: np.einsum("ij,jhw->ihw", M, x)
want = ycc(photo)
want[0] = ycc(np.clip(plain, 0, 255))[0]
ref = np.einsum("ij,jhw->ihw", np.linalg.inv(M), want)
print("%.3g %.3g" % (np.abs(kept - ref).max(), np.abs(kept - plain).max()))
PY
)
set -- $r
awk -v d="${1:-nan}" 'BEGIN { exit !(d + 0 == d && d < 0.01) }'
ok $? "the result is the plain stylization's luminance with the photo's chroma (numpy: max diff $1)"
awk -v d="${2:-0}" 'BEGIN { exit !(d > 10) }'
ok $? "and differs from the plain stylization (max diff $2)"
bin/strata run $dir/test_image.lua "$tmp/odd.png" "$tmp/odd.npy"
bin/strata stylize --model "$tmp/net.h5" --preserve-colors "$tmp/odd.png" "$tmp/odd_out.png" >"$tmp/odd.out"
ok $? "an odd-sized (67x45) photo: $(cat "$tmp/odd.out")"
out=$(bin/strata stylize --model "$tmp/net.h5" --preserve-colours "$tmp/odd.png" "$tmp/x.png" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "did you mean --preserve-colors"
ok $? "a misspelt flag is refused with a suggestion ($out)"

# strata eval --preserve-colors
bin/strata run tests/e2e/tiny_data.lua "$tmp" >/dev/null
bin/strata weights random fcrn "$tmp/fcrn.h5" --width-div 16 --seed 4 >/dev/null
bin/strata run $dir/random_transformer.lua "$tmp/net2.h5" reflect
for mode in plain kept; do
  flag=(); [ $mode = kept ] && flag=(--preserve-colors)
  bin/strata eval experiments/depth_l2.lua --set name=$mode --set "images=$tmp/images" --set size=32 \
    --set "baseline=$tmp/net.h5" --set "depth_aware=$tmp/net2.h5" --set "depth.weights=$tmp/fcrn.h5" \
    --set "output.dir=$tmp/results" "${flag[@]}" >"$tmp/eval_$mode.out" 2>&1
  ok $? "strata eval ${flag[*]} runs"
done
grep -q "Colours preserved" "$tmp/results/kept/report.md" && ! grep -q "Colours preserved" "$tmp/results/plain/report.md"
ok $? "only the --preserve-colors evaluation's report says colours were preserved"
! cmp -s "$tmp/results/plain/metrics.csv" "$tmp/results/kept/metrics.csv"
ok $? "and its depth metrics differ (other stylized images were measured)"
tap_end
