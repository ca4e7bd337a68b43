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

# ---- issue 11 targets ----
mkdir -p $c/fuzz_dataset $c/fuzz_keras $c/fuzz_tf_checkpoint $c/fuzz_checkpoint $c/fuzz_cli

# fuzz_dataset: header (batch, size, seed) then entries (see fuzz/fuzz_dataset.c):
# op, name length, name bytes in the alphabet "abcdjpgnJPGN._-/" (index
# 0..15), then for files a 2-byte length and content; op 3 is a valid PNG.
python3 - "$c/fuzz_dataset" <<'PY'
import sys
out = sys.argv[1]
A = "abcdjpgnJPGN._-/"
def name(s): return bytes([len(s) - 1]) + bytes(A.index(ch) for ch in s)
def png(s): return b"\x03" + name(s)
def folder(s): return b"\x00" + name(s)
def file(s, content): return b"\x01" + name(s) + bytes([len(content) >> 8, len(content) & 255]) + content
def link(s, target): return b"\x02" + name(s) + (b"\x00" if target == "." else name(target))
open(f"{out}/flat.bin", "wb").write(b"\x01\x04\x07" + png("a.png") + png("b.png") + png("c.PNG"))
open(f"{out}/nested.bin", "wb").write(b"\x00\x00\x01" + folder("d") + png("d/a.png") + png("d/b.jpg")
                                         + file("c.jpg", b"\xff\xd8 not a jpg") + png("Gj.png"))
open(f"{out}/links.bin", "wb").write(b"\x01\x02\x03" + folder("d") + png("d/a.png") + png("b.png")
                                        + link("d/cc", ".") + link("c", "d") + link("pp.png", "b.png"))
PY

# fuzz_keras: a Keras-layout VGG-19 file with every width 1 (small).
python3 - "$c/fuzz_keras" <<'PY'
import sys, h5py, numpy as np
out = sys.argv[1]
blocks = [2, 2, 4, 4, 4]
with h5py.File(f"{out}/vgg19_width1.h5", "w", libver="latest", track_order=False) as f:
    names, cin = [b"input_1"], 3
    f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
    for b, n in enumerate(blocks, 1):
        for k in range(1, n + 1):
            ln = f"block{b}_conv{k}"
            g = f.create_group(ln)
            g.attrs["weight_names"] = np.array([f"{ln}/kernel:0".encode(), f"{ln}/bias:0".encode()])
            g.create_dataset(f"{ln}/kernel:0", data=(np.arange(9 * cin, dtype=np.float32).reshape(3, 3, cin, 1) / 50))
            g.create_dataset(f"{ln}/bias:0", data=np.array([0.5], dtype=np.float32))
            names.append(ln.encode())
            cin = 1
        pn = f"block{b}_pool"
        f.create_group(pn).attrs["weight_names"] = np.array([], dtype="S1")
        names.append(pn.encode())
    f.attrs["layer_names"] = np.array(names)
PY

# fuzz_tf_checkpoint: 4-byte index length, the index, the data shard.
python3 - "$c/fuzz_tf_checkpoint" tests/fixtures/tf_ckpt_small <<'PY'
import struct, sys
out, prefix = sys.argv[1], sys.argv[2]
index = open(prefix + ".index", "rb").read()
data = open(prefix + ".data-00000-of-00001", "rb").read()
open(f"{out}/fcrn_small.bin", "wb").write(struct.pack("<I", len(index)) + index + data)
PY

# fuzz_checkpoint: checkpoints of the harness's network, as training writes them.
bin/strata run /dev/stdin "$c/fuzz_checkpoint" <<'LUA'
local core = require "strata.core"
local checkpoint = require "strata.checkpoint"
local transformer = require "strata.models.transformer"
local net = transformer.build({ channels = { 2, 2, 2 }, blocks = 1 })
local adam = { m = {}, v = {} }
local rng = core.rng(5)
for _, p in ipairs(net:named_parameters()) do
  local t = p.module.params[p.key]
  rng:normal_(t, 0, 0.1)
  adam.m[p.name], adam.v[p.name] = core.full(t:shape(), 0.01), core.full(t:shape(), 1e-4)
end
local dir = os.tmpname()
os.remove(dir)
core.sys.mkdir_p(dir)
local exp = require("strata.experiment").resolve({ name = "fz", model = { channels = { 2, 2, 2 }, blocks = 1 } },
  "seed", {})
local path = assert(checkpoint.save(dir, { net = net, adam = adam, iteration = 1, epoch = 0, batch_index = 0,
  rng_state = rng:state(), experiment = require("strata.exp_record").encode(exp),
  attrs = transformer.attrs(net.config) }))
local f = assert(io.open(path, "rb"))
local bytes = f:read("a")
f:close()
os.remove(path)
os.remove(dir)
local o = assert(io.open(arg[1] .. "/tiny_transformer.h5", "wb"))
o:write(bytes)
o:close()
LUA

# fuzz_cli: argument lists, NUL-separated.
cli() { local name=$1; shift; printf '%s\0' "$@" | head -c -1 >"$c/fuzz_cli/$name"; }
cli help help
cli run_sets run exp.lua --set loss.tv.weight=3 --set 'model.channels={ 4, 8, 16 }' --fresh
cli stylize stylize --model model.h5 --size 8x6 in.png out.png
cli stylize_device stylize --device cpu --model model.h5 in.png out.png
cli sweep_slurm sweep sweep.lua --set schedule.iterations=1 --slurm
cli eval eval eval.lua --set device=cpu
cli weights_random weights random fcrn out.h5 --seed 3 --width-div 64
cli weights_import weights import keras-vgg19 model.h5 out.h5
cli unknown stylise --modle x
ls -la $c/fuzz_dataset $c/fuzz_keras $c/fuzz_tf_checkpoint $c/fuzz_checkpoint $c/fuzz_cli
