#!/usr/bin/python3
"""PyTorch's CPU training step for the paper AlexNet: the anchor `compare-train` is read against.

Usage: /usr/bin/python3 tools/torch_train_step.py [classes]     (Debian's python3-torch)

The network as this project defines it (conv, ReLU, LRN, then pooling in layers 1 and 2; groups 2 in conv2,
conv4, conv5; dropout 0.5 after fc6 and fc7). PyTorch's LocalResponseNorm divides alpha by the window size,
so it gets 5 * 1e-4; it normalises across all channels (the per-tower window has no PyTorch module; the
cost is the same). One step = zero_grad, forward, cross-entropy, backward, SGD with momentum 0.9 and weight
decay 5e-4. Prints the median of a few steps after two warm-up steps, per thread count and batch size.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn


def alexnet(classes):
    def lrn():
        return nn.LocalResponseNorm(5, alpha=5 * 1e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, 4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, 1, 2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, 1, 1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, 1, 1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, classes))


def main():
    classes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    torch.manual_seed(0)
    model = alexnet(classes).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    print(f"torch {torch.__version__}, {classes} classes")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (32, 128):
            x = torch.randn(batch, 3, 227, 227)
            y = torch.randint(0, classes, (batch,))

            def step():
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()

            for _ in range(2):
                step()
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                step()
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            print(f"torch:{threads} batch {batch:3d}: step {med * 1e3:7.0f} ms, {batch / med:6.2f} images/s"
                  f" (min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f} ms)", flush=True)


if __name__ == "__main__":
    main()
