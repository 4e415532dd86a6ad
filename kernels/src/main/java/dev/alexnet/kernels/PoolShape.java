package dev.alexnet.kernels;

/**
 * Max pooling over [N,C,H,W] with a square window, stride and symmetric padding (padding never wins
 * the max, as in PyTorch). Output size uses floor division, as PyTorch with ceil_mode=False.
 */
public record PoolShape(int n, int c, int h, int w, int kernel, int stride, int pad) {
    public PoolShape {
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || kernel <= 0 || stride <= 0 || pad < 0) throw new IllegalArgumentException("bad pooling shape " + this);
        if (2 * pad > kernel) throw new IllegalArgumentException("pad must be at most half the window in " + this);
        if (h + 2 * pad < kernel || w + 2 * pad < kernel) throw new IllegalArgumentException("window larger than padded input in " + this);
    }

    public int p() { return (h + 2 * pad - kernel) / stride + 1; }
    public int q() { return (w + 2 * pad - kernel) / stride + 1; }
    public long inputSize() { return (long) n * c * h * w; }
    public long outputSize() { return (long) n * c * p() * q(); }
    public PoolShape withBatch(int batch) { return new PoolShape(batch, c, h, w, kernel, stride, pad); }
}
