package dev.alexnet.kernels;

/** Fully connected: input [N,in], weights [out,in] (PyTorch), bias [out], output [N,out]. */
public record LinearShape(int n, int in, int out) {
    public LinearShape {
        if (n <= 0 || in <= 0 || out <= 0) throw new IllegalArgumentException("bad linear shape " + this);
    }
    public long macs() { return (long) n * in * out; }
    public long flops() { return 2 * macs(); }
    public LinearShape withBatch(int batch) { return new LinearShape(batch, in, out); }
}
