#!/usr/bin/env bash
# strata export web, checked in a real browser: Engstrom's wave network is
# exported to a page, which headless Chromium (Debian's chromium, driven by
# puppeteer-core from tests/export/package.json) opens from two static servers
# (tests/export/static_server.js and python3 -m http.server). The test picks
# an odd-sized 255x191 picture through the page's file input and compares the
# output canvas with `strata stylize`'s result rounded as strata writes it.
# Bound: 2 levels of 255 per value (float32 noise moves a value across a
# rounding boundary now and then: 1 level; a wrong channel order, scale or
# crop costs tens). A screenshot is kept (results/web_screenshot.png when
# results/ exists). Skips only without node, chromium or the npm packages.
. tests/tap.sh
dir=tests/export
chromium=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null; then
  echo "1..0 # SKIP node missing"; exit 0
elif [ ! -x "$chromium" ]; then
  echo "1..0 # SKIP $chromium missing (Debian package chromium)"; exit 0
elif [ ! -d $dir/node_modules/puppeteer-core ]; then
  echo "1..0 # SKIP puppeteer-core missing (install: npm ci --ignore-scripts --prefix tests/export)"; exit 0
elif [ ! -d web/node_modules/onnxruntime-web ]; then
  echo "1..0 # SKIP onnxruntime-web missing (install: make web-deps)"; exit 0
fi
export CHROMIUM=$chromium

bin/strata weights import engstrom data/samples/reference/engstrom-wave "$tmp/wave.h5" >/dev/null
ok $? "wave checkpoint imported"
bin/strata export web "$tmp/wave.h5" "$tmp/page" >"$tmp/out" 2>&1
ok $? "strata export web writes the page ($(head -1 "$tmp/out"))"
bin/strata run $dir/test_image.lua "$tmp/pic.png" "$tmp/pic.npy" data/samples/content/chicago.jpg 255x191
bin/strata stylize --model "$tmp/wave.h5" "$tmp/pic.png" "$tmp/ref.npy" >/dev/null
ok $? "strata stylize gives the reference"

# timeout signals the whole process group: node, its servers and chromium.
mkdir -p "$tmp/shots"
timeout -k 5 200 node $dir/web_page_check.js "$tmp/page" "$tmp/pic.png" "$tmp/ref.npy" "$tmp/shots" "$tmp/profile" \
  >"$tmp/check" 2>"$tmp/check.err"
st=$?
ok $st "the page runs in headless Chromium from both servers (exit $st)"
sed 's/^/# /' "$tmp/check" "$tmp/check.err"
for server in node python3; do
  r=$(grep "\"server\":\"$server\"" "$tmp/check")
  field() { echo "$r" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
  w=$(field width) h=$(field height) max=$(field max_abs_diff) mean=$(field mean_abs_diff) alpha=$(field min_alpha)
  [ "$w" = 256 ] && [ "$h" = 192 ]
  ok $? "$server: the output canvas is 256x192, the network's size for 255x191 (got ${w:-?}x${h:-?})"
  awk -v d="${max:-nan}" -v m="${mean:-nan}" 'BEGIN { exit !(d + 0 == d && d <= 2 && m + 0 == m && m <= 0.05) }'
  ok $? "$server: canvas vs strata stylize: max |diff| ${max:-?} <= 2, mean ${mean:-?} <= 0.05 (of 255)"
  [ "$alpha" = 255 ]
  ok $? "$server: the output is opaque (min alpha ${alpha:-?})"
  size=$(bin/strata run $dir/image_size.lua "$tmp/shots/web-$server.png" 2>&1)
  [ "$size" = 1200x700 ]
  ok $? "$server: a 1200x700 screenshot was taken (${size:-none})"
done
[ -d results ] && cp "$tmp/shots/web-node.png" results/web_screenshot.png
tap_end
