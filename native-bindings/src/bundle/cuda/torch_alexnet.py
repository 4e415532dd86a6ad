#!/usr/bin/env python3
"""PyTorch baseline for the CUDA device's benchmark: the same network as dev.alexnet.nativ.cuda.CudaBench.BENCH_NET,
AlexNet in CaffeNet's order (conv1 pool1 lrn1 conv2 pool2 lrn2 conv3 conv4 conv5 pool5 fc6 fc7 fc8 softmax; the paper
normalises before pooling), LRN over all channels,
eval mode, cudnn.benchmark=True, TF32 off then on, input already on the GPU, CUDA-event timing;
batch 1 also eager and as a CUDA graph. Usage: python3 torch_alexnet.py [batches] [iterations]"""
import sys
import torch
import torch.nn as nn

batches = [int(b) for b in (sys.argv[1] if len(sys.argv) > 1 else "1,128,256").split(",")]
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 50


def alexnet():
    lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)  # torch divides alpha by n: 5e-4/5 = paper's 1e-4
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2), lrn(),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2), lrn(),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, 1000), nn.Softmax(dim=1))


def timed(fn, n):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    res = []
    for _ in range(5):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(n):
            fn()
        e.record()
        e.synchronize()
        res.append(s.elapsed_time(e) / n)
    return sorted(res)[len(res) // 2]


torch.backends.cudnn.benchmark = True
torch.manual_seed(0)
model = alexnet().cuda().eval()
for m in model.modules():
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(m.weight, 0, 0.01)
        nn.init.constant_(m.bias, 1.0)
print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}")
print(f"{'prec':5} {'batch':>6} {'mode':6} {'ms':>10} {'img/s':>10}")
with torch.inference_mode():
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        prec = "tf32" if tf32 else "fp32"
        for b in batches:
            x = torch.rand(b, 3, 227, 227, device="cuda")
            n = iters * 10 if b == 1 else iters
            ms = timed(lambda: model(x), n)
            print(f"{prec:5} {b:6d} {'eager':6} {ms:10.4f} {b * 1000 / ms:10.0f}", flush=True)
            if b == 1:
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(3):
                        model(x)
                torch.cuda.current_stream().wait_stream(s)
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g):
                    y = model(x)
                ms = timed(g.replay, n)
                print(f"{prec:5} {b:6d} {'graph':6} {ms:10.4f} {b * 1000 / ms:10.0f}", flush=True)
