#!/usr/bin/python3
"""Independent PyTorch training step of the baseline experiment.

The training benchmark baseline for strata (bench/run.sh runs it beside
bench/train_step.lua): Engstrom's transformer (TF 'SAME' padding, instance
norm eps 1e-3, tanh*150+127.5, truncated-normal std 0.1 init), VGG-19 conv
layers to relu5_1 with random He-normal weights as the loss network, content
(relu4_2, 7.5) + style (relu1_1..relu5_1, 100) + TV (200) losses with
ANCHORS.md's normalisation, Adam lr 1e-3, on random 0..255 images.
Run it with /usr/bin/python3 (Debian's python3-torch):

  bench/torch_train.py [--size 256] [--batch 4] [--steps 3] [--threads 2] [--depth none]

Prints `seconds <float>` per training step.
"""
import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F

EPS = 1e-3
MEAN = torch.tensor([123.68, 116.779, 103.939]).view(1, 3, 1, 1)
VGG_BLOCKS = [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_LAYER = "relu4_2"


def same_pad(size, k, s):
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Transformer(torch.nn.Module):
    """c9s1-32, d64, d128, 5 residual blocks, u64, u32, c9s1-3; IN after every conv."""

    def __init__(self):
        super().__init__()
        spec = [("conv", 3, 32, 9, 1), ("conv", 32, 64, 3, 2), ("conv", 64, 128, 3, 2)]
        spec += [("conv", 128, 128, 3, 1)] * 10
        spec += [("up", 128, 64, 3, 2), ("up", 64, 32, 3, 2), ("conv", 32, 3, 9, 1)]
        self.spec = spec
        self.w = torch.nn.ParameterList()
        self.gamma = torch.nn.ParameterList()
        self.beta = torch.nn.ParameterList()
        for kind, cin, cout, k, _ in spec:
            shape = (cout, cin, k, k) if kind == "conv" else (cin, cout, k, k)
            w = torch.empty(shape)
            torch.nn.init.trunc_normal_(w, 0.0, 0.1, -0.2, 0.2)
            self.w.append(torch.nn.Parameter(w))
            self.gamma.append(torch.nn.Parameter(torch.ones(cout)))
            self.beta.append(torch.nn.Parameter(torch.zeros(cout)))

    def layer(self, i, x, relu=True):
        kind, _, _, k, s = self.spec[i]
        w = self.w[i]
        if kind == "conv":
            pt, pb = same_pad(x.shape[2], k, s)
            pl, pr = same_pad(x.shape[3], k, s)
            if pt == pb and pl == pr:
                x = F.conv2d(x, w, stride=s, padding=(pt, pl))
            else:
                x = F.conv2d(F.pad(x, (pl, pr, pt, pb)), w, stride=s)
        else:
            h, wd = x.shape[2], x.shape[3]
            x = F.conv_transpose2d(x, w, stride=s)[:, :, : h * s, : wd * s]
        x = F.instance_norm(x, weight=self.gamma[i], bias=self.beta[i], eps=EPS)
        return F.relu(x) if relu else x

    def forward(self, x):
        x = self.layer(2, self.layer(1, self.layer(0, x)))
        for b in range(5):
            x = x + self.layer(4 + 2 * b, self.layer(3 + 2 * b, x), relu=False)
        x = self.layer(14, self.layer(13, x))
        x = self.layer(15, x, relu=False)
        return torch.tanh(x) * 150.0 + 255.0 / 2.0


class VGG19(torch.nn.Module):
    """The 16 conv layers (3x3, pad 1, bias) with ReLU and 2x2 max pooling; frozen."""

    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList()
        self.names = []
        cin = 3
        for b, (width, n) in enumerate(VGG_BLOCKS, 1):
            for k in range(1, n + 1):
                conv = torch.nn.Conv2d(cin, width, 3, padding=1)
                torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                torch.nn.init.zeros_(conv.bias)
                conv.weight.requires_grad_(False)
                conv.bias.requires_grad_(False)
                self.convs.append(conv)
                self.names.append("relu%d_%d" % (b, k))
                cin = width

    def features(self, x, layers):
        want = set(layers)
        deepest = max(self.names.index(n) for n in layers)
        out = {}
        h = x - MEAN
        for i in range(deepest + 1):
            if i > 0 and self.names[i].endswith("_1"):
                h = F.max_pool2d(h, 2, 2)
            h = F.relu(self.convs[i](h))
            if self.names[i] in want:
                out[self.names[i]] = h
        return out


def gram(f):
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (h * w * c)


def style_loss(feats, targets):
    total = 0.0
    for name in STYLE_LAYERS:
        g = gram(feats[name])
        c = g.shape[1]
        total = total + ((g - targets[name]) ** 2).sum(dim=(1, 2)).mean() / (c * c)
    return total


def tv_loss(y):
    n, _, h, w = y.shape
    dx = ((y[:, :, :, 1:] - y[:, :, :, :-1]) ** 2).sum() / (h * (w - 1) * 3)
    dy = ((y[:, :, 1:, :] - y[:, :, :-1, :]) ** 2).sum() / ((h - 1) * w * 3)
    return (dx + dy) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depth", default="none", help="depth loss network (hook; only 'none' for now)")
    args = ap.parse_args()
    if args.depth != "none":
        sys.exit("error: --depth %s is not implemented yet" % args.depth)
    if args.size < 32 or args.batch < 1 or args.steps < 1:
        sys.exit("error: expected --size >= 32, --batch >= 1, --steps >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    net = Transformer()
    vgg = VGG19()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    with torch.no_grad():
        style_img = torch.rand(1, 3, args.size, args.size) * 255
        sf = vgg.features(style_img, STYLE_LAYERS)
        targets = {name: gram(sf[name]) for name in STYLE_LAYERS}
    x = torch.rand(args.batch, 3, args.size, args.size) * 255

    for _ in range(args.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        y = net(x / 255.0)
        with torch.no_grad():
            target = vgg.features(x, [CONTENT_LAYER])[CONTENT_LAYER]
        feats = vgg.features(y, STYLE_LAYERS + [CONTENT_LAYER])
        loss = (7.5 * F.mse_loss(feats[CONTENT_LAYER], target)
                + 100.0 * style_loss(feats, targets) + 200.0 * tv_loss(y))
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            sys.exit("error: loss is not finite")
        print("seconds %.6f" % (time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
