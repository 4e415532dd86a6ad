package dev.alexnet.kernels;

/**
 * A 2-D convolution: input [N,C,H,W], weights [K, C/G, R, S] (PyTorch OIHW, groups as in
 * {@code torch.nn.Conv2d(groups=G)}), bias [K], output [N,K,P,Q]. Symmetric zero padding.
 */
public record ConvShape(int n, int c, int h, int w, int k, int r, int s,
                        int strideH, int strideW, int padH, int padW, int groups) {
    public ConvShape {
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || k <= 0 || r <= 0 || s <= 0) throw new IllegalArgumentException("non-positive size in " + this);
        if (strideH <= 0 || strideW <= 0 || padH < 0 || padW < 0) throw new IllegalArgumentException("bad stride/pad in " + this);
        if (groups <= 0 || c % groups != 0 || k % groups != 0) throw new IllegalArgumentException("groups must divide C and K in " + this);
        if (h + 2 * padH < r || w + 2 * padW < s) throw new IllegalArgumentException("kernel larger than padded input in " + this);
    }

    /** Square kernel, equal strides and pads: the AlexNet case. */
    public static ConvShape of(int n, int c, int h, int w, int k, int kernel, int stride, int pad, int groups) {
        return new ConvShape(n, c, h, w, k, kernel, kernel, stride, stride, pad, pad, groups);
    }

    public int p() { return (h + 2 * padH - r) / strideH + 1; }
    public int q() { return (w + 2 * padW - s) / strideW + 1; }
    /** Input channels per group. */
    public int cg() { return c / groups; }
    /** Output channels per group. */
    public int kg() { return k / groups; }
    public long inputSize() { return (long) n * c * h * w; }
    public long weightSize() { return (long) k * cg() * r * s; }
    public long outputSize() { return (long) n * k * p() * q(); }
    public long macs() { return (long) n * k * p() * q() * cg() * r * s; }
    public long flops() { return 2 * macs(); }
    public ConvShape withBatch(int batch) { return new ConvShape(batch, c, h, w, k, r, s, strideH, strideW, padH, padW, groups); }
}
