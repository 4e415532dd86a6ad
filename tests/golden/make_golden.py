#!/usr/bin/python3
"""Golden files for the Java tests, computed independently with PyTorch (float32, CPU).

Usage: python3 tests/golden/make_golden.py tests/src/test/resources/golden     (also `make golden`)
       add --check-f64 to also print how far the float32 network and gradients are from a float64 run

Needs Debian's python3-torch and python3-numpy (apt-get install -y python3-torch python3-numpy).
The Java tests never run Python: they read the .npy files and manifest.json this script writes.

What it writes (all little-endian float32 .npy, C order):
  counter_check.npy         rows of CounterInit values (the generator twin below), see manifest
  kernel cases              <case>_x.npy, _w.npy, _b.npy (inputs, from the counter generator) and
                            <case>_y.npy (PyTorch's output); one entry per case in manifest.json
  net_logits.npy            the whole paper AlexNet at batch 2, counter weights, counter input
  net_pool5.npy, net_fc7.npy   intermediate activations (taps the Java network is checked at too)
  tv_logits.npy, tv_pool5.npy  torchvision.models.alexnet() (eval mode) at batch 2 on a 224x224 counter input,
                            its state_dict (features.0.weight ...) loaded from the counter streams in the
                            paper network's parameter order and scales (Java: AlexNetWeights.counter(TORCHVISION))
  net224_logits.npy, net_lrn_all_logits.npy   batch 1: the 224-input network (conv1 pad 2) and the 227
                            network with LRN across all channels; manifest entry network_variants, with
                            PyTorch's own float32-vs-float64 distance for each (f32_vs_f64_rel)
  preprocess_<w>x<h>.npy    Images.preprocess of a formula picture (manifest entry preprocess), by torch's
                            bilinear interpolate: the independent implementation of the image path
  grad_<case>_<role>.npy    backward cases: inputs, the upstream gradient gy (the mask for dropout, the
                            logits z for softmax cross-entropy) and PyTorch's gradients gx, gw, gb (gz);
                            manifest entry grad_cases
  grad_net_samples.npy      the whole network's parameter gradients (batch 2, dropout off, mean
                            cross-entropy, labels NET_LABELS) at a documented sample of indices, one row per
                            parameter tensor; manifest entry grad_network holds the indices, the loss and
                            per tensor sum|g|, sum g^2 (float64) and max|g|
  manifest.json             every case with its parameters and file names

The whole-network weights (244 MB) are not written: both sides regenerate them bit-exactly from
CounterInit. Output is deterministic: one thread, fixed inputs, no random state.
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    # `python3` on PATH may be a pyenv or venv interpreter without torch: fall back to Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("make_golden.py needs Debian's PyTorch and numpy: apt-get install -y python3-torch python3-numpy")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# ---------------------------------------------------------------------------------------------
# CounterInit, bit-exact twin of dev.alexnet.model.CounterInit (uint32 wrap-around arithmetic).
# ---------------------------------------------------------------------------------------------
M32 = 0xFFFFFFFF
PARAM_NAMES = [f"{l}.{p}" for l in ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
               for p in ["weight", "bias"]]
PARAM_SHAPES = {
    "conv1.weight": (96, 3, 11, 11), "conv1.bias": (96,),
    "conv2.weight": (256, 48, 5, 5), "conv2.bias": (256,),
    "conv3.weight": (384, 256, 3, 3), "conv3.bias": (384,),
    "conv4.weight": (384, 192, 3, 3), "conv4.bias": (384,),
    "conv5.weight": (256, 192, 3, 3), "conv5.bias": (256,),
    "fc6.weight": (4096, 9216), "fc6.bias": (4096,),
    "fc7.weight": (4096, 4096), "fc7.bias": (4096,),
    "fc8.weight": (1000, 4096), "fc8.bias": (1000,),
}
# CounterInit.SCALES, in PARAM_NAMES order (powers of two).
SCALES = [2.0 ** -2, 2.0 ** -4,   # conv1
          2.0 ** -3, 2.0 ** -4,   # conv2
          2.0 ** -3, 2.0 ** -4,   # conv3
          2.0 ** -3, 2.0 ** -4,   # conv4
          2.0 ** -3, 2.0 ** -4,   # conv5
          2.0 ** -4, 2.0 ** -4,   # fc6
          2.0 ** -4, 2.0 ** -4,   # fc7
          2.0 ** -4, 2.0 ** -4]   # fc8
INPUT_STREAM = 16
INPUT_SCALE = 2.0


def counter(stream, count, scale, start=0):
    """Elements start..start+count-1 of counter stream `stream`, float32, times `scale` (a power of two)."""
    base = (0x9E3779B9 * (stream + 1)) & M32
    i = np.arange(start, start + count, dtype=np.uint64)
    u = ((i + np.uint64(base)) & np.uint64(M32)).astype(np.uint32)
    with np.errstate(over="ignore"):
        u ^= u >> np.uint32(16)
        u *= np.uint32(0x7FEB352D)
        u ^= u >> np.uint32(15)
        u *= np.uint32(0x846CA68B)
        u ^= u >> np.uint32(16)
    # ((u >>> 8) * 2^-24 - 0.5) * scale: every step exact in float32.
    v = (u >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24) - np.float32(0.5)
    return (v * np.float32(scale)).astype(np.float32)


def counter_tensor(stream, shape, scale):
    return counter(stream, int(np.prod(shape)), scale).reshape(shape)


# ---------------------------------------------------------------------------------------------
# The paper AlexNet in torch, float32 (layer order as AlexNetSpec: conv, ReLU, LRN, pool).
# ---------------------------------------------------------------------------------------------
LRN = dict(size=5, k=2.0, alpha=1e-4, beta=0.75)  # paper: alpha NOT divided by n


def lrn_paper(x, size, k, alpha, beta, groups):
    """Paper LRN (alpha multiplies the plain sum) applied separately on each of `groups` channel groups.
    torch's local_response_norm divides alpha by size, so it gets alpha * size."""
    parts = torch.chunk(x, groups, dim=1)
    return torch.cat([F.local_response_norm(p, size, alpha=alpha * size, beta=beta, k=k) for p in parts], dim=1)


# torchvision's state_dict names of the 8 parameterised layers, in PARAM_NAMES order (AlexNetSpec.TORCHVISION_NAMES).
TV_LAYERS = {"conv1": "features.0", "conv2": "features.3", "conv3": "features.6", "conv4": "features.8",
             "conv5": "features.10", "fc6": "classifier.1", "fc7": "classifier.4", "fc8": "classifier.6"}


def torchvision_golden(W, check=False):
    """torchvision's own AlexNet module on counter weights: stream i fills parameter i of PARAM_NAMES (torchvision's
    shapes), with the paper network's scales; the input is stream INPUT_STREAM at [2,3,224,224]."""
    import torchvision
    model = torchvision.models.alexnet()  # no download: weights come from the counter streams
    sd = model.state_dict()
    P = {}
    for i, name in enumerate(PARAM_NAMES):
        layer, kind = name.split(".")
        tv = TV_LAYERS[layer] + "." + kind
        P[tv] = torch.from_numpy(counter_tensor(i, tuple(sd[tv].shape), SCALES[i]))
    assert set(P) == set(sd), "torchvision's AlexNet has other parameters: " + str(sorted(set(sd) ^ set(P)))
    model.load_state_dict(P)
    model.eval()  # dropout off
    x = torch.from_numpy(counter_tensor(INPUT_STREAM, (2, 3, 224, 224), INPUT_SCALE))
    with torch.no_grad():
        pool5 = torch.flatten(model.avgpool(model.features(x)), 1)
        logits = model(x)
        if check:  # the float32 noise floor TorchvisionGoldenTest's reference bound is derived from
            y64 = model.double()(x.double()).numpy()
            d = np.abs(logits.numpy().astype(np.float64) - y64).max()
            print(f"torchvision float32 vs float64 logits: max|diff| {d:.3e}, rel {d / np.abs(y64).max():.3e}")
    return dict(batch=2, input=dict(stream=INPUT_STREAM, scale=INPUT_SCALE, shape=[2, 3, 224, 224]),
                module="torchvision.models.alexnet() " + torchvision.__version__ + ", eval(), state_dict from the counter streams",
                param_names={name: TV_LAYERS[name.split(".")[0]] + "." + name.split(".")[1] for name in PARAM_NAMES},
                logits=W.save("tv_logits", logits.numpy()), pool5=W.save("tv_pool5", pool5.numpy()))


def alexnet_forward(x, P, taps=None, conv1_pad=0, lrn_groups=2):
    # P holds numpy arrays (the forward golden) or tensors that require gradients (the backward golden).
    # conv1_pad 2 is the 224-input network (as torchvision); lrn_groups 1 is `--lrn all` (across all channels).
    as_t = lambda v: v if torch.is_tensor(v) else torch.from_numpy(v)
    t = lambda name: (as_t(P[name + ".weight"]), as_t(P[name + ".bias"]))
    w, b = t("conv1"); x = F.relu(F.conv2d(x, w, b, stride=4, padding=conv1_pad))
    x = lrn_paper(x, groups=lrn_groups, **LRN); x = F.max_pool2d(x, 3, 2)
    w, b = t("conv2"); x = F.relu(F.conv2d(x, w, b, padding=2, groups=2))
    x = lrn_paper(x, groups=lrn_groups, **LRN); x = F.max_pool2d(x, 3, 2)
    w, b = t("conv3"); x = F.relu(F.conv2d(x, w, b, padding=1))
    w, b = t("conv4"); x = F.relu(F.conv2d(x, w, b, padding=1, groups=2))
    w, b = t("conv5"); x = F.relu(F.conv2d(x, w, b, padding=1, groups=2))
    x = F.max_pool2d(x, 3, 2)
    x = torch.flatten(x, 1)
    if taps is not None: taps["pool5"] = x
    w, b = t("fc6"); x = F.relu(F.linear(x, w, b))
    w, b = t("fc7"); x = F.relu(F.linear(x, w, b))
    if taps is not None: taps["fc7"] = x
    w, b = t("fc8"); x = F.linear(x, w, b)
    return x


# ---------------------------------------------------------------------------------------------
# Kernel cases. Inputs from counter streams 100+ (never used by the network), scale a power of two.
# ---------------------------------------------------------------------------------------------
class Writer:
    def __init__(self, out):
        self.out = out
        self.cases = []
        self.stream = 100
        os.makedirs(out, exist_ok=True)

    def gen(self, shape, scale, offset=0.0):
        a = counter_tensor(self.stream, shape, scale)
        self.stream += 1
        return (a + np.float32(offset)).astype(np.float32)

    def save(self, name, arr):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        np.save(os.path.join(self.out, name + ".npy"), arr)
        return name + ".npy"

    def add(self, case, arrays):
        # files: role (x input, w weight, b bias, y PyTorch's output) -> file name
        case["files"] = {role: self.save(case["name"] + "_" + role, arr) for role, arr in arrays.items() if arr is not None}
        self.cases.append(case)


def conv_case(W, name, n, c, h, w, k, r, s, sh, sw, ph, pw, groups, bias, relu, xscale=2.0, wscale=0.5):
    x = W.gen((n, c, h, w), xscale)
    wt = W.gen((k, c // groups, r, s), wscale)
    b = W.gen((k,), 0.5) if bias else None
    y = F.conv2d(torch.from_numpy(x), torch.from_numpy(wt), None if b is None else torch.from_numpy(b),
                 stride=(sh, sw), padding=(ph, pw), groups=groups)
    if relu: y = F.relu(y)
    W.add(dict(kind="conv", name=name, n=n, c=c, h=h, w=w, k=k, r=r, s=s, strideH=sh, strideW=sw,
               padH=ph, padW=pw, groups=groups, relu=relu),
          dict(x=x, w=wt, b=b, y=y.numpy()))


def pool_case(W, name, n, c, h, w, kernel, stride, pad, offset=0.0):
    x = W.gen((n, c, h, w), 8.0, offset)
    y = F.max_pool2d(torch.from_numpy(x), kernel, stride, pad)
    W.add(dict(kind="maxpool", name=name, n=n, c=c, h=h, w=w, kernel=kernel, stride=stride, pad=pad),
          dict(x=x, y=y.numpy()))


def lrn_case(W, name, n, c, h, w, size, k, alpha, beta, groups, xscale=128.0):
    x = W.gen((n, c, h, w), xscale)
    y = lrn_paper(torch.from_numpy(x), size, k, alpha, beta, groups)
    W.add(dict(kind="lrn", name=name, n=n, c=c, h=h, w=w, size=size, k=k, alpha=alpha, beta=beta,
               channelGroups=groups, convention="paper: alpha multiplies the plain window sum (torch got alpha*size)"),
          dict(x=x, y=y.numpy()))


def linear_case(W, name, n, fin, fout, bias, relu):
    x = W.gen((n, fin), 2.0)
    wt = W.gen((fout, fin), 0.25)
    b = W.gen((fout,), 0.5) if bias else None
    y = F.linear(torch.from_numpy(x), torch.from_numpy(wt), None if b is None else torch.from_numpy(b))
    if relu: y = F.relu(y)
    W.add(dict(kind="linear", name=name, n=n, **{"in": fin, "out": fout}, relu=relu),
          dict(x=x, w=wt, b=b, y=y.numpy()))


def softmax_case(W, name, rows, cols, scale):
    x = W.gen((rows, cols), scale)
    y = torch.softmax(torch.from_numpy(x), dim=1)
    W.add(dict(kind="softmax", name=name, rows=rows, cols=cols), dict(x=x, y=y.numpy()))


def kernel_cases(W):
    # conv: stride, pad, groups=2, odd and non-square sizes, C=1/3, with/without bias and ReLU
    conv_case(W, "conv_c3_k11_s4", 1, 3, 23, 23, 8, 11, 11, 4, 4, 0, 0, 1, True, True)      # conv1-like
    conv_case(W, "conv_c3_k3_p1", 2, 3, 11, 11, 5, 3, 3, 1, 1, 1, 1, 1, True, False)
    conv_case(W, "conv_g2_k5_p2", 2, 6, 9, 9, 4, 5, 5, 1, 1, 2, 2, 2, True, True)           # conv2-like
    conv_case(W, "conv_g2_k3_p1_c16", 1, 16, 13, 13, 12, 3, 3, 1, 1, 1, 1, 2, True, True)   # conv4-like
    conv_case(W, "conv_c1_odd_nobias", 1, 1, 7, 10, 3, 3, 2, 1, 2, 1, 0, 1, False, False)   # R!=S, sh!=sw, ph!=pw
    conv_case(W, "conv_c64_long_sum", 1, 64, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, True, False)    # 576-term sums
    conv_case(W, "conv_s3_p2_g2_odd", 1, 4, 8, 7, 6, 4, 4, 3, 3, 2, 2, 2, False, True)     # even kernel, stride 3
    # max pooling: the paper's overlapping 3/2, padded (all-negative input: padding must never win)
    pool_case(W, "pool_3s2_13", 2, 4, 13, 13, 3, 2, 0)
    pool_case(W, "pool_3s2_27", 1, 2, 27, 27, 3, 2, 0)
    pool_case(W, "pool_3s2_pad1_neg", 1, 3, 8, 9, 3, 2, 1, offset=-8.0)
    pool_case(W, "pool_2s2_odd", 1, 2, 7, 5, 2, 2, 0)
    # LRN, paper convention; values up to 64 so the alpha term matters (factors down to ~0.6)
    lrn_case(W, "lrn_paper_g1", 2, 7, 5, 5, 5, 2.0, 1e-4, 0.75, 1)
    lrn_case(W, "lrn_paper_g2", 1, 10, 3, 4, 5, 2.0, 1e-4, 0.75, 2)
    lrn_case(W, "lrn_paper_small_odd", 1, 3, 2, 3, 5, 2.0, 1e-4, 0.75, 1)                  # C < n
    lrn_case(W, "lrn_n3_k1_b05_g2", 1, 8, 3, 3, 3, 1.0, 1e-3, 0.5, 2)
    # linear
    linear_case(W, "linear_small", 3, 37, 11, True, False)
    linear_case(W, "linear_relu", 2, 64, 16, True, True)
    linear_case(W, "linear_long_nobias", 2, 1000, 5, False, False)
    # softmax
    softmax_case(W, "softmax_small", 3, 10, 64.0)
    softmax_case(W, "softmax_1000", 2, 1000, 16.0)


# ---------------------------------------------------------------------------------------------
# Backward golden files (prefix grad_). Every input, weight and upstream gradient comes from the
# counter streams that follow the forward cases', so the forward files above stay byte-identical.
# ---------------------------------------------------------------------------------------------
GRAD_F64 = []   # (case, role, max|f32 - f64|, max|f64|): printed with --check-f64, never stored


def grads(fn, inputs, gy, need):
    """PyTorch's gradients of sum(fn(*inputs) * gy) for the inputs whose flag in `need` is set, in float32,
    plus the same in float64 for the --check-f64 report. Returns (y32, [grad32 or None...], [grad64...])."""
    out = []
    for dt in (torch.float32, torch.float64):
        ts = [None if a is None else torch.from_numpy(a).to(dt).requires_grad_(bool(n)) for a, n in zip(inputs, need)]
        y = fn(*ts)
        y.backward(torch.from_numpy(gy).to(dt))
        out.append((y.detach().numpy(), [t.grad.numpy() if (t is not None and n) else None for t, n in zip(ts, need)]))
    return out[0][0], out[0][1], out[1][1]


def note_f64(name, roles, g32, g64):
    for role, a, b in zip(roles, g32, g64):
        if a is not None:
            GRAD_F64.append((name, role, float(np.abs(a.astype(np.float64) - b).max()), float(np.abs(b).max())))


def grad_conv_case(W, name, n, c, h, w, k, r, s, stride, pad, groups):
    x = W.gen((n, c, h, w), 2.0)
    wt = W.gen((k, c // groups, r, s), 0.5)
    b = W.gen((k,), 0.5)
    p, q = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
    gy = W.gen((n, k, p, q), 1.0)
    fn = lambda x_, w_, b_: F.conv2d(x_, w_, b_, stride=stride, padding=pad, groups=groups)
    y, g32, g64 = grads(fn, [x, wt, b], gy, [1, 1, 1])
    note_f64(name, ["gx", "gw", "gb"], g32, g64)
    W.add(dict(kind="conv", name=name, n=n, c=c, h=h, w=w, k=k, r=r, s=s, strideH=stride, strideW=stride,
               padH=pad, padW=pad, groups=groups, relu=False),
          dict(x=x, w=wt, b=b, gy=gy, gx=g32[0], gw=g32[1], gb=g32[2]))


def grad_pool_case(W, name, n, c, h, w, kernel, stride):
    x = W.gen((n, c, h, w), 8.0)
    p, q = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    gy = W.gen((n, c, p, q), 1.0)
    y, g32, g64 = grads(lambda x_: F.max_pool2d(x_, kernel, stride), [x], gy, [1])
    note_f64(name, ["gx"], g32, g64)
    W.add(dict(kind="maxpool", name=name, n=n, c=c, h=h, w=w, kernel=kernel, stride=stride, pad=0),
          dict(x=x, gy=gy, gx=g32[0]))


def grad_lrn_case(W, name, n, c, h, w, size, k, alpha, beta, groups, xscale=128.0):
    x = W.gen((n, c, h, w), xscale)
    gy = W.gen((n, c, h, w), 1.0)
    y, g32, g64 = grads(lambda x_: lrn_paper(x_, size, k, alpha, beta, groups), [x], gy, [1])
    note_f64(name, ["gx"], g32, g64)
    W.add(dict(kind="lrn", name=name, n=n, c=c, h=h, w=w, size=size, k=k, alpha=alpha, beta=beta,
               channelGroups=groups, convention="paper: alpha multiplies the plain window sum (torch got alpha*size)"),
          dict(x=x, gy=gy, gx=g32[0]))


def grad_linear_case(W, name, n, fin, fout):
    x = W.gen((n, fin), 2.0)
    wt = W.gen((fout, fin), 0.25)
    b = W.gen((fout,), 0.5)
    gy = W.gen((n, fout), 1.0)
    y, g32, g64 = grads(lambda x_, w_, b_: F.linear(x_, w_, b_), [x, wt, b], gy, [1, 1, 1])
    note_f64(name, ["gx", "gw", "gb"], g32, g64)
    W.add(dict(kind="linear", name=name, n=n, **{"in": fin, "out": fout}, relu=False),
          dict(x=x, w=wt, b=b, gy=gy, gx=g32[0], gw=g32[1], gb=g32[2]))


M64 = (1 << 64) - 1


def splitmix_mix(z):
    """dev.alexnet.kernels.DropoutMask.mix (SplitMix64's finaliser) on Python ints mod 2^64."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def dropout_factors(p, key, rows, features):
    """DropoutMask(p, key, total=features, offset=0).factor(n, i) for every element: 0 or 1/(1-p) in float32."""
    scale = np.float32(1.0) / (np.float32(1.0) - np.float32(p))
    f = np.zeros((rows, features), dtype=np.float32)
    for n in range(rows):
        for i in range(features):
            u = np.float32(splitmix_mix((key + (n * features + i) * 0x9E3779B97F4A7C15) & M64) >> 40) * np.float32(2.0 ** -24)
            f[n, i] = scale if u >= np.float32(p) else np.float32(0.0)
    return f


def grad_dropout_case(W, name, rows, features, p, key):
    gy = W.gen((rows, features), 4.0)
    mask = dropout_factors(p, key, rows, features)
    gx = (torch.from_numpy(gy) * torch.from_numpy(mask)).numpy()  # the gradient of x * mask
    W.add(dict(kind="dropout", name=name, rows=rows, features=features, p=p, key=key,
               mask="DropoutMask(p, key, total=features, offset=0).factor(n, i), stored as the 'mask' array"),
          dict(mask=mask, gy=gy, gx=gx))


def grad_softmax_ce_case(W, name, rows, cols, scale, labels):
    z = W.gen((rows, cols), scale)
    out = []
    for dt in (torch.float32, torch.float64):
        t = torch.from_numpy(z).to(dt).requires_grad_(True)
        loss = F.cross_entropy(t, torch.tensor(labels, dtype=torch.int64))  # mean over the batch
        loss.backward()
        out.append((loss.item(), t.grad.numpy()))
    note_f64(name, ["gz"], [out[0][1]], [out[1][1]])
    GRAD_F64.append((name, "loss", abs(out[0][0] - out[1][0]), abs(out[1][0])))
    W.add(dict(kind="softmax_ce", name=name, rows=rows, cols=cols, labels=labels, loss=out[0][0],
               reduction="mean over rows"),
          dict(z=z, gz=out[0][1]))


def grad_kernel_cases(W):
    grad_conv_case(W, "grad_conv_k11_s4", 2, 3, 35, 35, 8, 11, 11, 4, 0, 1)      # conv1-like
    grad_conv_case(W, "grad_conv_g2_k5_p2", 2, 8, 13, 13, 8, 5, 5, 1, 2, 2)       # conv2-like
    grad_conv_case(W, "grad_conv_k3_p1", 2, 32, 13, 13, 16, 3, 3, 1, 1, 1)        # conv3-like, 288-term sums
    grad_conv_case(W, "grad_conv_g2_k3_p1_odd", 1, 6, 7, 9, 10, 3, 3, 1, 1, 2)    # conv4-like, odd sizes
    grad_pool_case(W, "grad_pool_3s2_27", 2, 4, 27, 27, 3, 2)                     # overlapping 3/2, pool1-like
    grad_pool_case(W, "grad_pool_3s2_13", 1, 3, 13, 13, 3, 2)
    grad_lrn_case(W, "grad_lrn_paper_g2", 2, 16, 5, 6, 5, 2.0, 1e-4, 0.75, 2)     # per tower
    grad_lrn_case(W, "grad_lrn_paper_g1", 2, 12, 4, 5, 5, 2.0, 1e-4, 0.75, 1)     # across all channels
    grad_lrn_case(W, "grad_lrn_n3_k1_b05_g2", 1, 8, 3, 3, 3, 1.0, 1e-3, 0.5, 2)
    grad_linear_case(W, "grad_linear_small", 3, 37, 11)
    grad_linear_case(W, "grad_linear_fc8like", 2, 40, 1000)                       # gx sums 1000 terms
    grad_dropout_case(W, "grad_dropout_half", 2, 96, 0.5, 0x5EED0001)
    grad_dropout_case(W, "grad_dropout_0375", 3, 37, 0.375, 0x5EED0002)
    grad_softmax_ce_case(W, "grad_softmax_ce_1000", 2, 1000, 16.0, [7, 513])
    grad_softmax_ce_case(W, "grad_softmax_ce_small", 3, 10, 64.0, [0, 9, 4])


# ---------------------------------------------------------------------------------------------
# The whole network's parameter gradients at batch 2 (dropout off, mean cross-entropy).
# ---------------------------------------------------------------------------------------------
NET_LABELS = [7, 513]
SPREAD, TOP = 48, 16


def sample_indices(g):
    """The documented sample of a gradient tensor (flat, C order): SPREAD evenly spread indices
    floor((2j+1) * size / (2*SPREAD)), j = 0..SPREAD-1, then the TOP largest |g| not already taken
    (ties to the lower index); sorted ascending, no repeats."""
    flat = g.reshape(-1)
    size = flat.size
    spread = sorted({((2 * j + 1) * size) // (2 * SPREAD) for j in range(SPREAD)})
    taken = set(spread)
    order = np.lexsort((np.arange(size), -np.abs(flat.astype(np.float64))))  # |g| descending, index ascending
    top = []
    for i in order:
        if len(top) == TOP: break
        if int(i) not in taken: top.append(int(i))
    return sorted(spread + top)


def network_grads(P, x, dtype):
    Pt = {k: torch.from_numpy(v).to(dtype).requires_grad_(True) for k, v in P.items()}
    logits = alexnet_forward(torch.from_numpy(x).to(dtype), Pt)
    loss = F.cross_entropy(logits, torch.tensor(NET_LABELS, dtype=torch.int64))
    loss.backward()
    return loss.item(), logits.detach().numpy(), {k: t.grad.numpy() for k, t in Pt.items()}


def grad_network(W, P, x, check):
    loss, logits, g = network_grads(P, x, torch.float32)
    samples, params = [], []
    for name in PARAM_NAMES:
        gi = g[name]
        idx = sample_indices(gi)
        flat = gi.reshape(-1)
        samples.append(flat[idx])
        g64 = flat.astype(np.float64)
        params.append(dict(name=name, shape=list(gi.shape), indices=idx, sumAbs=float(np.abs(g64).sum()),
                           sumSq=float((g64 * g64).sum()), maxAbs=float(np.abs(g64).max())))
    if check:
        loss64, logits64, g64s = network_grads(P, x, torch.float64)
        GRAD_F64.append(("network", "loss", abs(loss - loss64), abs(loss64)))
        for p in params:
            a, b = g[p["name"]].astype(np.float64), g64s[p["name"]]
            d = np.abs(a - b)
            rms = np.sqrt((b * b).mean())
            s = np.array(p["indices"])
            print(f"  network {p['name']:13s} f32 vs f64: max|d| {d.max():.3e} = {d.max() / np.abs(b).max():.2e} of max|g|,"
                  f" {d.max() / rms:.2e} of rms; samples {d.reshape(-1)[s].max() / rms:.2e} of rms;"
                  f" sum|g| rel {abs(np.abs(a).sum() / np.abs(b).sum() - 1):.2e}, sum g^2 rel {abs((a * a).sum() / (b * b).sum() - 1):.2e}")
    return dict(batch=2, labels=NET_LABELS, dropout="off (p = 0)", loss_reduction="mean cross-entropy over the batch",
                loss=loss, logits_match_net_logits=bool(np.array_equal(logits, np.load(os.path.join(W.out, "net_logits.npy")))),
                sample_rule=f"per tensor (flat C order): {SPREAD} indices floor((2j+1)*size/{2 * SPREAD}), j=0..{SPREAD - 1}, "
                            f"plus the {TOP} largest |g| not already taken (ties to the lower index), sorted",
                samples=W.save("grad_net_samples", np.stack(samples)), params=params)


def print_f64():
    print("float32 vs float64 torch gradients (max|f32 - f64|, relative to max|f64|):")
    for name, role, d, ref in GRAD_F64:
        print(f"  {name:26s} {role:5s} max|d| {d:.3e}  rel {d / ref if ref else d:.3e}")


# ---------------------------------------------------------------------------------------------
def check_f64(P, x, logits, taps):
    """How far PyTorch's float32 run is from the same network in float64 (the basis of the Java bounds)."""
    P64 = {k: v.astype(np.float64) for k, v in P.items()}
    t64 = {}
    with torch.no_grad():
        y64 = alexnet_forward(torch.from_numpy(x.astype(np.float64)), P64, t64).numpy()
    for name, a, b in [("logits", logits, y64), ("pool5", taps["pool5"].numpy(), t64["pool5"].numpy()),
                       ("fc7", taps["fc7"].numpy(), t64["fc7"].numpy())]:
        d = np.abs(a.astype(np.float64) - b).max()
        print(f"float32 vs float64 {name}: max|diff| {d:.3e}, rel {d / np.abs(b).max():.3e}")


def f32_vs_f64(P, x, **variant):
    """max|logits32 - logits64| / max|logits64| for one network variant: PyTorch's own float32 noise, which the
    Java bounds are derived from."""
    P64 = {k: v.astype(np.float64) for k, v in P.items()}
    with torch.no_grad():
        y32 = alexnet_forward(torch.from_numpy(x), P, **variant).numpy()
        y64 = alexnet_forward(torch.from_numpy(x.astype(np.float64)), P64, **variant).numpy()
    return y32, float(np.abs(y32.astype(np.float64) - y64).max() / np.abs(y64).max())


def network_variants(W, P):
    """The 224-input network (conv1 pad 2) and the 227 network with LRN across all channels, batch 1 each."""
    out = {}
    for name, size, variant, lrn in [("net224", 224, dict(conv1_pad=2), "paper, per tower"),
                                      ("net_lrn_all", 227, dict(lrn_groups=1), "paper, across all channels")]:
        x = counter_tensor(INPUT_STREAM, (1, 3, size, size), INPUT_SCALE)
        y, rel = f32_vs_f64(P, x, **variant)
        out[name] = dict(batch=1, input=dict(stream=INPUT_STREAM, scale=INPUT_SCALE, shape=[1, 3, size, size]),
                         lrn=lrn, order="conv,relu,lrn,maxpool", conv1_pad=variant.get("conv1_pad", 0),
                         logits=W.save(name + "_logits", y), f32_vs_f64_rel=rel)
    return out


# ---------------------------------------------------------------------------------------------
# Image preprocessing (Images.preprocess): shorter side to 256 with bilinear interpolation (half-pixel centres,
# no antialiasing), round to 8 bits, centre crop, subtract the mean RGB. torch's interpolate is the independent
# implementation; the picture is a formula both sides compute in integers (see PreprocessGoldenTest).
# ---------------------------------------------------------------------------------------------
MEAN_RGB = np.array([123.68, 116.78, 103.94], dtype=np.float32)
PREPROCESS_SIZES = [(320, 240), (160, 120), (240, 320)]  # downscale, upscale, portrait; no .5 in w*256/min(w,h)


def pattern(w, h):
    """Piecewise-linear ramps with a different slope and direction per channel (R, G, B), as uint8 [h, w, 3]."""
    y, x = np.mgrid[0:h, 0:w]
    tent = lambda v: np.abs(v % 510 - 255)
    return np.stack([tent(3 * x + y), tent(2 * y + x), tent(x + 5 * y)], axis=-1).astype(np.uint8)


def preprocess_cases(W, size=99):
    out = []
    for w, h in PREPROCESS_SIZES:
        scale = 256.0 / min(w, h)
        sw, sh = max(size, int(round(w * scale))), max(size, int(round(h * scale)))
        t = torch.from_numpy(pattern(w, h)).permute(2, 0, 1).to(torch.float64)[None]
        r = F.interpolate(t, size=(sh, sw), mode="bilinear", align_corners=False, antialias=False)[0]
        r = r.round().clamp(0, 255).numpy().astype(np.float32)
        x0, y0 = (sw - size) // 2, (sh - size) // 2
        y = r[:, y0:y0 + size, x0:x0 + size] - MEAN_RGB[:, None, None]
        out.append(dict(w=w, h=h, size=size, file=W.save(f"preprocess_{w}x{h}", np.ascontiguousarray(y))))
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--check-f64"]
    if len(args) != 1:
        sys.exit("usage: make_golden.py [--check-f64] OUTPUT_DIR")
    out = args[0]
    W = Writer(out)

    # Generator twin check: rows of CounterInit values (stream, first index, scale).
    rows = [(0, 0, SCALES[0]), (1, 0, SCALES[1]), (10, 0, SCALES[10]),
            (10, 4096 * 9216 - 64, SCALES[10]), (15, 0, SCALES[15]), (INPUT_STREAM, 0, INPUT_SCALE),
            (INPUT_STREAM, 2 * 3 * 227 * 227 - 64, INPUT_SCALE), (3, (1 << 31) - 32, 1.0)]
    check = np.stack([counter(s, 64, sc, start) for s, start, sc in rows])
    counter_file = W.save("counter_check", check)

    kernel_cases(W)

    # The whole network at batch 2.
    P = {name: counter_tensor(i, PARAM_SHAPES[name], SCALES[i]) for i, name in enumerate(PARAM_NAMES)}
    x = counter_tensor(INPUT_STREAM, (2, 3, 227, 227), INPUT_SCALE)
    taps = {}
    with torch.no_grad():
        logits = alexnet_forward(torch.from_numpy(x), P, taps).numpy()
    check = "--check-f64" in sys.argv
    if check:
        check_f64(P, x, logits, taps)
    net = dict(batch=2, input=dict(stream=INPUT_STREAM, scale=INPUT_SCALE, shape=[2, 3, 227, 227]),
               lrn="paper, per tower (each half of the channels separately)", order="conv,relu,lrn,maxpool",
               logits=W.save("net_logits", logits), pool5=W.save("net_pool5", taps["pool5"].numpy()),
               fc7=W.save("net_fc7", taps["fc7"].numpy()))
    # PyTorch's own float32 noise on each tap (vs the same network in float64), for the Java bounds.
    P64 = {k: v.astype(np.float64) for k, v in P.items()}
    t64 = {}
    with torch.no_grad():
        y64 = alexnet_forward(torch.from_numpy(x.astype(np.float64)), P64, t64).numpy()
    net["f32_vs_f64_rel"] = {name: float(np.abs(a.astype(np.float64) - b).max() / np.abs(b).max())
                             for name, a, b in [("logits", logits, y64), ("pool5", taps["pool5"].numpy(), t64["pool5"].numpy()),
                                                ("fc7", taps["fc7"].numpy(), t64["fc7"].numpy())]}
    net_variants = network_variants(W, P)
    preprocess = preprocess_cases(W)

    # Backward golden: new files (grad_ prefix) and new manifest entries; the forward ones above are unchanged.
    forward_cases, W.cases = W.cases, []
    grad_kernel_cases(W)
    grad_cases, W.cases = W.cases, forward_cases
    grad_net = grad_network(W, P, x, check)
    if check:
        print_f64()

    manifest = dict(
        generator="tests/golden/make_golden.py",
        torch=torch.__version__, numpy=np.__version__, threads=1, dtype="float32",
        counter=dict(file=counter_file, rows=[dict(stream=s, start=start, scale=sc) for s, start, sc in rows],
                     param_names=PARAM_NAMES, param_scales=SCALES, input_stream=INPUT_STREAM, input_scale=INPUT_SCALE),
        cases=W.cases, network=net, network_variants=net_variants, preprocess=preprocess, grad_cases=grad_cases, grad_network=grad_net,
        torchvision=torchvision_golden(W, check))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {len(W.cases)} kernel cases, {len(grad_cases)} gradient cases, the network goldens and manifest.json"
          f" to {out} ({total} bytes)")


if __name__ == "__main__":
    main()
