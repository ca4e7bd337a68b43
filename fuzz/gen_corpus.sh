#!/usr/bin/env bash
# Writes the small seed inputs of fuzz/corpus/ (run from the repository root
# with bin/strata built): a few valid files of each format, each under 8 KiB.
set -euo pipefail
c=fuzz/corpus
mkdir -p $c/fuzz_image $c/fuzz_weights $c/fuzz_engstrom $c/fuzz_experiment

# PNG variants (gray, gray+alpha, palette with transparency, RGBA, 16-bit,
# interlaced), written directly so every colour type is covered.
python3 - "$c/fuzz_image" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def png(name, w, h, depth, ctype, px, plte=None, trns=None, interlace=0):
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    bpp = ch * depth // 8 if depth >= 8 else 1
    def rows(xs, ys):
        raw = b""
        for y in ys:
            line = b""
            for x in xs:
                v = px(x, y)
                if depth == 16: line += b"".join(struct.pack(">H", c) for c in v)
                else: line += bytes(v)
            raw += b"\0" + line
        return raw
    if interlace:
        raw = b""
        for x0, y0, dx, dy in [(0,0,8,8),(4,0,8,8),(0,4,4,8),(2,0,4,4),(0,2,2,4),(1,0,2,2),(0,1,1,2)]:
            xs, ys = list(range(x0, w, dx)), list(range(y0, h, dy))
            if xs and ys: raw += rows(xs, ys)
    else:
        raw = rows(range(w), range(h))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    if plte: data += chunk(b"PLTE", plte)
    if trns: data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(f"{out}/{name}", "wb").write(data)
png("gray.png", 5, 4, 8, 0, lambda x, y: [x * 40 + y])
png("gray_alpha.png", 3, 3, 8, 4, lambda x, y: [x * 80, y * 100])
png("palette.png", 4, 2, 8, 3, lambda x, y: [(x + y) % 3], plte=bytes([255,0,0, 0,255,0, 0,0,255]), trns=bytes([128]))
png("rgba.png", 3, 2, 8, 6, lambda x, y: [x * 90, y * 120, 7, 200])
png("rgb16.png", 2, 2, 16, 2, lambda x, y: [x * 30000, y * 60000, 12345])
png("interlaced.png", 9, 9, 8, 2, lambda x, y: [x * 28, y * 28, (x ^ y) * 16], interlace=1)
PY

bin/strata run /dev/stdin "$c" <<'LUA'
local strata = require "strata"
local dir = arg[1]
local img = strata.zeros({ 3, 6, 7 })
for y = 1, 6 do for x = 1, 7 do
  img:set(x * 36, 1, y, x); img:set(y * 40, 2, y, x); img:set((x * y * 11) % 256, 3, y, x)
end end
strata.image.write(dir .. "/fuzz_image/rgb.png", img)
strata.image.write(dir .. "/fuzz_image/rgb.jpg", img)
strata.image.write(dir .. "/fuzz_image/wide.jpg", strata.full({ 3, 2, 17 }, 128))
-- weights: a few tensors, a nested name, a scalar, attributes
strata.weights.save(dir .. "/fuzz_weights/small.h5", {
  params = { ["conv1.weight"] = strata.from_list({ 1, 2, 3, 4, 5, 6 }, { 1, 2, 3 }), ["conv1.bias"] = strata.zeros({ 2 }),
             ["block/in1.weight"] = strata.full({ 3 }, 0.5), scalar = strata.from_list({ 7 }, {}) },
  order = { "conv1.weight", "conv1.bias", "block/in1.weight", "scalar" },
  attrs = { network = "fuzz", note = "seed" } })
strata.weights.save(dir .. "/fuzz_weights/empty.h5", { params = {}, attrs = { network = "none" } })
LUA

# Engstrom manifests naming the harness's n<count> files: the smallest
# transformer (one channel everywhere), without and with a residual block.
manifest() { # BLOCKS
  local blocks=$1 i=0 first=1
  printf '{'
  var() { # SHAPE FILE
    [ $first = 1 ] || printf ','
    first=0
    if [ $i = 0 ]; then printf '\n  "Variable"'; else printf '\n  "Variable_%d"' $i; fi
    printf ': {"filename": "%s", "shape": %s}' "$2" "$1"
    i=$((i + 1))
  }
  layer() { var "$1" "$2"; var "[1]" n1; var "[1]" n1; }
  layer "[9, 9, 3, 1]" n243; layer "[3, 3, 1, 1]" n9; layer "[3, 3, 1, 1]" n9
  for _ in $(seq 1 "$blocks"); do layer "[3, 3, 1, 1]" n9; layer "[3, 3, 1, 1]" n9; done
  layer "[3, 3, 1, 1]" n9; layer "[3, 3, 1, 1]" n9
  var "[9, 9, 1, 3]" n243; var "[3]" n3; var "[3]" n3
  printf '\n}\n'
}
manifest 0 >$c/fuzz_engstrom/tiny.json
manifest 1 >$c/fuzz_engstrom/one_block.json

cp tests/e2e/tiny.lua experiments/baseline.lua $c/fuzz_experiment/
cat >$c/fuzz_experiment/sets.lua <<'LUA'
--set loss.tv.weight=100
--set model.channels={ 8, 16, 32 }
--set run=seed
return { name = "seed", loss = { style = { layers = { "relu1_1" } } }, schedule = { iterations = 3 } }
LUA
ls -la $c/*
