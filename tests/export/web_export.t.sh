#!/usr/bin/env bash
# strata export web without a browser or npm: a strata home of links to this
# tree whose web/node_modules holds stand-in onnxruntime-web files, so the
# layout, the byte-for-byte copies and every refusal are checked on any
# machine:
#  - the page's files, model.onnx and ORT's licence land in DIR;
#  - a non-transformer, a missing model, a missing parent folder: clear
#    errors, DIR not created;
#  - a non-empty DIR is refused unless --force (which keeps other files);
#  - onnxruntime-web missing, or not the pinned version: an error naming the
#    exact install command.
. tests/tap.sh
home=$tmp/home
mkdir -p "$home/web/node_modules/onnxruntime-web/dist"
ln -s "$PWD/lua" "$home/lua"
ln -s "$PWD/web/page" "$home/web/page"
ln -s "$PWD/web/LICENSE.onnxruntime-web" "$home/web/LICENSE.onnxruntime-web"
cp web/package.json "$home/web/package.json"
pinned=$(sed -n 's/.*"onnxruntime-web": *"\([^"]*\)".*/\1/p' web/package.json)
ort=$home/web/node_modules/onnxruntime-web
printf '{ "name": "onnxruntime-web", "version": "%s" }\n' "$pinned" >"$ort/package.json"
for f in ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
  head -c 70000 /dev/urandom >"$ort/dist/$f"   # more than one copy buffer
done
strata() { STRATA_HOME=$home bin/strata "$@"; }

bin/strata weights import engstrom data/samples/reference/engstrom-wave "$tmp/wave.h5" >/dev/null
ok $? "wave checkpoint imported"

out=$(strata export web "$tmp/wave.h5" "$tmp/page" 2>&1)
ok $? "export web writes a page ($out)"
[ "$(ls "$tmp/page" | tr '\n' ' ')" = "LICENSE.onnxruntime-web.txt index.html model.onnx ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm ort.wasm.min.mjs stylize.js " ]
ok $? "DIR holds exactly the page, the model, ORT's wasm build and its licence ($(ls "$tmp/page" | tr '\n' ' '))"
same=0
for f in ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
  cmp -s "$ort/dist/$f" "$tmp/page/$f" || same=1
done
cmp -s web/page/index.html "$tmp/page/index.html" && cmp -s web/page/stylize.js "$tmp/page/stylize.js" || same=1
grep -q "MIT License" "$tmp/page/LICENSE.onnxruntime-web.txt" || same=1
ok $same "the copies are byte for byte; the licence is MIT's"
bin/strata export onnx "$tmp/wave.h5" "$tmp/wave.onnx" >/dev/null && cmp -s "$tmp/wave.onnx" "$tmp/page/model.onnx"
ok $? "model.onnx is what strata export onnx writes"

out=$(strata export web "$tmp/wave.h5" "$tmp/page" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "'$tmp/page' is not empty" && echo "$out" | grep -q -- "--force"
ok $? "a non-empty DIR is refused, naming --force ($out)"
echo mine >"$tmp/page/notes.txt"
echo stale >"$tmp/page/stylize.js"
strata export web "$tmp/wave.h5" "$tmp/page" --force >/dev/null 2>&1 &&
  cmp -s web/page/stylize.js "$tmp/page/stylize.js" && [ "$(cat "$tmp/page/notes.txt")" = mine ]
ok $? "--force replaces the page's files and leaves others"

bin/strata weights random vgg19 "$tmp/vgg.h5" --width-div 16 >/dev/null
out=$(strata export web "$tmp/vgg.h5" "$tmp/vggpage" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "vgg.h5" && echo "$out" | grep -q "not a transformer" && [ ! -e "$tmp/vggpage" ]
ok $? "a VGG weights file is refused before DIR is made ($out)"
out=$(strata export web "$tmp/none.h5" "$tmp/nonepage" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "export web: cannot open '$tmp/none.h5'" && [ ! -e "$tmp/nonepage" ]
ok $? "a missing model is one clear error ($out)"
out=$(strata export web "$tmp/wave.h5" "$tmp/no/such/page" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "parent folder '$tmp/no/such' does not exist" && [ ! -e "$tmp/no" ]
ok $? "a missing parent folder is refused, not created ($out)"
out=$(strata export web "$tmp/wave.h5" "$tmp/wave.onnx" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "is not a folder"
ok $? "a file in place of DIR is refused ($out)"
out=$(strata export web "$tmp/wave.h5" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "expected MODEL.h5 and one output path"
ok $? "a missing DIR argument is refused ($out)"
out=$(strata export web "$tmp/wave.h5" "$tmp/x" --overwrite 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "unknown option --overwrite"
ok $? "an unknown option is refused ($out)"

printf '{ "name": "onnxruntime-web", "version": "0.0.1" }\n' >"$ort/package.json"
out=$(strata export web "$tmp/wave.h5" "$tmp/p2" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "0.0.1 but web/package.json pins $pinned" &&
  echo "$out" | grep -qF "npm ci --ignore-scripts --prefix '$home/web'" && [ ! -e "$tmp/p2" ]
ok $? "an onnxruntime-web other than the pinned one is refused ($out)"
rm -rf "$home/web/node_modules"
out=$(strata export web "$tmp/wave.h5" "$tmp/p3" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "onnxruntime-web is not installed" &&
  echo "$out" | grep -qF "install it with: npm ci --ignore-scripts --prefix '$home/web'" && [ ! -e "$tmp/p3" ]
ok $? "without onnxruntime-web: one error giving the install command ($out)"
tap_end
