package dev.alexnet.kernels.vec;

/**
 * The internal activation layout of the vector kernels: channels-last with a zero (or constant) border,
 * per image [H + 2*padH][W + 2*padW][C] floats, images back to back. Channels-last makes every
 * convolution an implicit GEMM whose reduction runs over contiguous memory (S*C floats per kernel row
 * when groups = 1), and lets pooling and LRN vectorise over channels (all AlexNet channel counts,
 * per tower too, are multiples of 16). The border is written once at compile time and never touched
 * by a kernel, so convolutions need no bounds checks. Channels are dense (no padding to 16): conv1's
 * C=3 stays 3, which keeps its reduction short (11 runs of 33 floats).
 */
public record Nhwc(int c, int h, int w, int padH, int padW) {
    public Nhwc {
        if (c <= 0 || h <= 0 || w <= 0 || padH < 0 || padW < 0) throw new IllegalArgumentException("bad layout " + this);
    }

    public static Nhwc of(int c, int h, int w) { return new Nhwc(c, h, w, 0, 0); }

    /** Padded height and width. */
    public int hp() { return h + 2 * padH; }
    public int wp() { return w + 2 * padW; }
    /** Floats per padded image. */
    public long imageFloats() { return (long) hp() * wp() * c; }
    /** Float offset (within one image) of interior pixel (y, x), channel 0. */
    public long offset(int y, int x) { return ((long) (y + padH) * wp() + x + padW) * c; }
    /** Element count of the interior (what NCHW holds). */
    public long interior() { return (long) c * h * w; }
}
