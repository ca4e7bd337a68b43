#!/usr/bin/python3
"""Independent PyTorch forward pass of Engstrom's transformer network.

The benchmark baseline for strata (bench/run.sh) and a cross-check of our
reading of the architecture (see data/README.md). Run it with
/usr/bin/python3 (Debian's python3-torch).

  bench/torch_transformer.py --weights DIR --image IN.jpg [--size WxH]
                             [--repeat N] [--threads 2] [--out OUT.png]

Prints `seconds <float>` per repetition (forward pass only).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

EPS = 1e-3  # Engstrom's instance-norm epsilon


def load_manifest(folder):
    """Return the 48 arrays Variable, Variable_1 .. Variable_47 in order."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    arrays = []
    for i in range(48):
        name = "Variable" if i == 0 else "Variable_%d" % i
        if name not in manifest:
            sys.exit("error: %s/manifest.json: missing entry %s" % (folder, name))
        shape = manifest[name]["shape"]
        path = os.path.join(folder, manifest[name]["filename"])
        data = np.fromfile(path, dtype="<f4")
        if data.size != int(np.prod(shape)):
            sys.exit("error: %s: %d floats, expected %d for shape %s"
                     % (path, data.size, int(np.prod(shape)), shape))
        arrays.append(data.reshape(shape))
    return arrays


def build_layers(arrays):
    """Group the arrays into (kind, weight, beta, gamma) per layer, torch layout."""
    layers = []
    for i in range(0, 48, 3):
        w, beta, gamma = arrays[i], arrays[i + 1], arrays[i + 2]
        if 39 <= i <= 42:
            # Transposed conv stored [kh, kw, out, in]; ConvTranspose2d wants [in, out, kh, kw].
            kind = "up"
            wt = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
        else:
            # Conv stored HWIO; conv2d wants OIHW.
            kind = "conv"
            wt = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
        stride = 2 if i in (3, 6, 39, 42) else 1
        layers.append((kind, stride, wt,
                       torch.from_numpy(beta.copy()), torch.from_numpy(gamma.copy())))
    return layers


def same_pad(size, k, s):
    """TensorFlow 'SAME' padding (before, after) along one axis."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def conv_same(x, w, stride):
    kh, kw = w.shape[2], w.shape[3]
    pt, pb = same_pad(x.shape[2], kh, stride)
    pl, pr = same_pad(x.shape[3], kw, stride)
    if pt == pb and pl == pr:
        return F.conv2d(x, w, stride=stride, padding=(pt, pl))
    return F.conv2d(F.pad(x, (pl, pr, pt, pb)), w, stride=stride)


def upconv_same(x, w, stride):
    # TF conv2d_transpose with SAME and output 2*in: the full (in-1)*2+k
    # output with the trailing row/column dropped (for k=3, s=2).
    h, wd = x.shape[2], x.shape[3]
    y = F.conv_transpose2d(x, w, stride=stride)
    return y[:, :, : h * stride, : wd * stride]


def layer(x, spec, relu=True):
    kind, stride, w, beta, gamma = spec
    x = conv_same(x, w, stride) if kind == "conv" else upconv_same(x, w, stride)
    # Per-image statistics, biased variance, affine (scale gamma, shift beta).
    x = F.instance_norm(x, weight=gamma, bias=beta, eps=EPS)
    return F.relu(x) if relu else x


def forward(layers, x):
    """x: 1x3xHxW RGB 0..255 -> 1x3x(H')x(W') in about 0..255 (unclamped)."""
    x = layer(x, layers[0])
    x = layer(x, layers[1])
    x = layer(x, layers[2])
    for b in range(5):
        r = layer(x, layers[3 + 2 * b])
        x = x + layer(r, layers[4 + 2 * b], relu=False)
    x = layer(x, layers[13])
    x = layer(x, layers[14])
    x = layer(x, layers[15], relu=False)
    return torch.tanh(x) * 150.0 + 255.0 / 2.0


def parse_size(text):
    try:
        w, h = text.lower().split("x")
        w, h = int(w), int(h)
        if w <= 0 or h <= 0:
            raise ValueError
        return w, h
    except ValueError:
        sys.exit("error: --size: expected WxH with positive integers, got %r" % text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True, help="Engstrom manifest folder")
    ap.add_argument("--image", required=True)
    ap.add_argument("--size", help="squash the input to WxH (bilinear)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="write the last output as PNG")
    args = ap.parse_args()
    if args.repeat < 1:
        sys.exit("error: --repeat: expected >= 1, got %d" % args.repeat)

    torch.set_num_threads(args.threads)
    layers = build_layers(load_manifest(args.weights))

    img = Image.open(args.image).convert("RGB")
    if args.size:
        img = img.resize(parse_size(args.size), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.float32)
    x = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None]

    y = None
    with torch.no_grad():
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            y = forward(layers, x)
            t1 = time.perf_counter()
            print("seconds %.6f" % (t1 - t0), flush=True)

    if args.out:
        out = y[0].clamp(0, 255).permute(1, 2, 0).numpy()
        Image.fromarray(np.rint(out).astype(np.uint8)).save(args.out)


if __name__ == "__main__":
    main()
