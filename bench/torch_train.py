#!/usr/bin/python3
"""Independent PyTorch training step of the baseline experiment.

The training benchmark baseline for strata (bench/run.sh runs it beside
bench/train_step.lua): Engstrom's transformer (TF 'SAME' padding, instance
norm eps 1e-3, tanh*150+127.5, truncated-normal std 0.1 init), VGG-19 conv
layers to relu5_1 with random He-normal weights as the loss network, content
(relu4_2, 7.5) + style (relu1_1..relu5_1, 100) + TV (200) losses with
ANCHORS.md's normalisation, Adam lr 1e-3, on random 0..255 images.
--depth fcrn adds the paper's depth term: FCRN (ResNet-50 + up-projections, as
lua/strata/models/fcrn.lua builds it; He-normal weights, zero biases, batch norm
scale 1, offset 0, mean 0, variance 1, eps 1e-4, frozen) on the content batch
(target, no grad) and on the stylized batch, MSE of its depth output, weight
200, backward through FCRN into the transformer.
Run it with /usr/bin/python3 (Debian's python3-torch) on the CPU, or any
PyTorch with CUDA for --device cuda (bench/gpu_run.sh):

  bench/torch_train.py [--size 256] [--batch 4] [--steps 3] [--threads 2] [--depth none|fcrn]
                       [--device cpu|cuda] [--probe]

Prints `seconds <float>` per training step (on CUDA synchronised: the step's
work is done when the time is taken). --probe prints "device ok" or
"device unavailable: <why>" and exits 0. On CUDA, TF32 is off (strata's
default: full float32) and cuDNN's benchmark mode picks algorithms by timing
(as strata's cudnnFind does).
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


class FCRN(torch.nn.Module):
    """Laina et al.'s ResNet-50 up-projection network, NCHW, frozen, inference
    batch norm; the same layers, paddings and shapes as strata's fcrn.lua
    (conv 'SAME' = symmetric (k-1)//2 zero pad, conv1 7x7/2 pad 3, max pool
    TensorFlow 'SAME' with -inf, stride-2 1x1 convs unpadded)."""

    STAGES = [("abc", 64, 256, 1), ("abcd", 128, 512, 2), ("abcdef", 256, 1024, 2), ("abc", 512, 2048, 2)]
    UP = [512, 256, 128, 64]
    # up-projection convs: (kh, kw, (left, right, top, bottom)) of ConvA..D
    UNPOOL = [(3, 3, (1, 1, 1, 1)), (2, 3, (1, 1, 1, 0)), (3, 2, (1, 0, 1, 1)), (2, 2, (1, 0, 1, 0))]

    def __init__(self):
        super().__init__()
        self.p = torch.nn.ParameterDict()
        self.bufs = {}
        self.conv_p("conv1", 3, 64, 7, 7, bias=True)
        self.bn_p("bn_conv1", 64)
        cin = 64
        for s, (blocks, mid, out, _) in enumerate(self.STAGES, 2):
            for i, b in enumerate(blocks):
                pre = "res%d%s" % (s, b)
                if i == 0:
                    self.conv_p(pre + "_branch1", cin, out, 1, 1)
                    self.bn_p("bn%d%s_branch1" % (s, b), out)
                for br, (ci, co, k) in zip("abc", [(cin, mid, 1), (mid, mid, 3), (mid, out, 1)]):
                    self.conv_p("%s_branch2%s" % (pre, br), ci, co, k, k)
                    self.bn_p("bn%d%s_branch2%s" % (s, b, br), co)
                cin = out
        self.conv_p("layer1", cin, 1024, 1, 1, bias=True)
        self.bn_p("layer1_BN", 1024)
        cin = 1024
        for j, c in enumerate(self.UP):
            base = "layer%dx" % (2 << j)
            for br in ("_br1", "_br2"):
                for n, (kh, kw, _) in zip("ABCD", self.UNPOOL):
                    self.conv_p("%s%s_Conv%s" % (base, br, n), cin, c, kh, kw, bias=True)
                self.bn_p(base + br + "_BN", c)
            self.conv_p(base + "_Conv", c, c, 3, 3, bias=True)
            self.bn_p(base + "_BN", c)
            cin = c
        self.conv_p("ConvPred", cin, 1, 3, 3, bias=True)

    def conv_p(self, name, cin, cout, kh, kw, bias=False):
        w = torch.randn(cout, cin, kh, kw) * math.sqrt(2.0 / (cin * kh * kw))
        self.p[name + "_w"] = torch.nn.Parameter(w, requires_grad=False)
        if bias:
            self.p[name + "_b"] = torch.nn.Parameter(torch.zeros(cout), requires_grad=False)

    def bn_p(self, name, c):
        for k, v in (("w", torch.ones(c)), ("b", torch.zeros(c)), ("m", torch.zeros(c)), ("v", torch.ones(c))):
            self.p["%s_%s" % (name, k)] = torch.nn.Parameter(v, requires_grad=False)

    def conv(self, x, name, stride=1, pad=None, relu=False):
        w = self.p[name + "_w"]
        b = self.p[name + "_b"] if name + "_b" in self.p else None
        if pad is None:
            ph, pw = (w.shape[2] - 1) // 2, (w.shape[3] - 1) // 2
            y = F.conv2d(x, w, b, stride=stride, padding=(ph, pw))
        else:
            y = F.conv2d(F.pad(x, pad), w, b, stride=stride)
        return F.relu(y) if relu else y

    def bn(self, x, name, relu=False):
        p = self.p
        y = F.batch_norm(x, p[name + "_m"], p[name + "_v"], p[name + "_w"], p[name + "_b"], False, 0.0, 1e-4)
        return F.relu(y) if relu else y

    def unpool(self, x, name):
        a, b, c, d = (self.conv(x, "%s_Conv%s" % (name, n), pad=pad) for n, (_, _, pad) in zip("ABCD", self.UNPOOL))
        n, ch, h, w = a.shape
        # A even rows / even cols, B odd / even, C even / odd, D odd / odd.
        y = torch.stack((torch.stack((a, c), -1), torch.stack((b, d), -1)), 3).reshape(n, ch, 2 * h, 2 * w)
        return self.bn(y, name + "_BN")

    def forward(self, x):
        x = self.bn(self.conv(x, "conv1", stride=2), "bn_conv1", relu=True)
        pads = [same_pad(n, 3, 2) for n in x.shape[2:]]
        x = F.max_pool2d(F.pad(x, pads[1] + pads[0], value=float("-inf")), 3, 2)
        for s, (blocks, _, _, stride) in enumerate(self.STAGES, 2):
            for i, b in enumerate(blocks):
                pre, st = "res%d%s" % (s, b), (stride if i == 0 else 1)
                short = self.bn(self.conv(x, pre + "_branch1", st), "bn%d%s_branch1" % (s, b)) if i == 0 else x
                y = self.bn(self.conv(x, pre + "_branch2a", st), "bn%d%s_branch2a" % (s, b), relu=True)
                y = self.bn(self.conv(y, pre + "_branch2b"), "bn%d%s_branch2b" % (s, b), relu=True)
                y = self.bn(self.conv(y, pre + "_branch2c"), "bn%d%s_branch2c" % (s, b))
                x = F.relu(short + y)
        x = self.bn(self.conv(x, "layer1"), "layer1_BN")
        for j in range(len(self.UP)):
            base = "layer%dx" % (2 << j)
            br1 = F.relu(self.unpool(x, base + "_br1"))
            br1 = self.bn(self.conv(br1, base + "_Conv"), base + "_BN")
            x = F.relu(br1 + self.unpool(x, base + "_br2"))
        return self.conv(x, "ConvPred", relu=True)


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


def probe(device):
    """None if the device can run, else why not."""
    if device == "cpu":
        return None
    if not torch.cuda.is_available():
        return "torch.cuda.is_available() is false (torch %s, CUDA %s)" % (torch.__version__, torch.version.cuda)
    return None


def main():
    global MEAN
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depth", default="none", choices=["none", "fcrn"], help="depth loss network")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--probe", action="store_true", help="only say whether the device can run")
    args = ap.parse_args()
    why = probe(args.device)
    if args.probe:
        print("device ok" if why is None else "device unavailable: " + why)
        return
    if why is not None:
        sys.exit("error: --device %s: %s" % (args.device, why))
    if args.size < 32 or args.batch < 1 or args.steps < 1:
        sys.exit("error: expected --size >= 32, --batch >= 1, --steps >= 1")

    dev = torch.device(args.device)
    cuda = args.device == "cuda"
    if cuda:
        # Full float32 as strata by default (STRATA_TF32 unset); algorithms
        # chosen by timing, as strata's cudnnFind.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    MEAN = MEAN.to(dev)
    net = Transformer().to(dev)
    vgg = VGG19().to(dev)
    fcrn = FCRN().to(dev) if args.depth == "fcrn" else None
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    with torch.no_grad():
        style_img = torch.rand(1, 3, args.size, args.size, device=dev) * 255
        sf = vgg.features(style_img, STYLE_LAYERS)
        targets = {name: gram(sf[name]) for name in STYLE_LAYERS}
    x = torch.rand(args.batch, 3, args.size, args.size, device=dev) * 255

    for _ in range(args.steps):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad()
        y = net(x / 255.0)
        with torch.no_grad():
            target = vgg.features(x, [CONTENT_LAYER])[CONTENT_LAYER]
            depth_target = fcrn(x) if fcrn is not None else None
        feats = vgg.features(y, STYLE_LAYERS + [CONTENT_LAYER])
        loss = (7.5 * F.mse_loss(feats[CONTENT_LAYER], target)
                + 100.0 * style_loss(feats, targets) + 200.0 * tv_loss(y))
        if fcrn is not None:
            # 1/(C*H*W) ||.||^2 averaged over the batch = the mean over all elements (C = 1).
            loss = loss + 200.0 * F.mse_loss(fcrn(y), depth_target)
        loss.backward()
        opt.step()
        if cuda:
            torch.cuda.synchronize()
        if not torch.isfinite(loss):
            sys.exit("error: loss is not finite")
        print("seconds %.6f" % (time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
