package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The explicit reorders between the public NCHW boundary and the internal channels-last {@link Nhwc}
 * layout. Scalar, blocked by {@value #CB} channels so that both sides stream through whole cache lines
 * (a 16-channel block of an NHWC pixel is one line; 16 NCHW planes advance together along x).
 * They run once at each end of a program (batch*3*227*227 values for conv1's input), not per layer.
 * Work units: (image, row y).
 */
public final class Reorders {
    static final int CB = 16;

    private Reorders() {}

    public static int units(int n, Nhwc l) { return n * l.h(); }

    /** NCHW [n][C][H][W] to the interior of {@code outL} (its border untouched), rows [u0, u1) of the batch. */
    public static void nchwToNhwc(MemorySegment out, Nhwc outL, MemorySegment in, int n, int u0, int u1) {
        int C = outL.c(), H = outL.h(), W = outL.w();
        Checks.floats(in, n * outL.interior(), "reorder input");
        Checks.floats(out, n * outL.imageFloats(), "reorder output");
        long hw = (long) H * W;
        for (int u = u0; u < u1; u++) {
            int img = u / H, y = u % H;
            long ib = img * outL.interior() + (long) y * W;
            long ob = img * outL.imageFloats() + outL.offset(y, 0);
            for (int c0 = 0; c0 < C; c0 += CB) {
                int c1 = Math.min(C, c0 + CB);
                for (int x = 0; x < W; x++) {
                    long o = ob + (long) x * C;
                    for (int c = c0; c < c1; c++) out.setAtIndex(JAVA_FLOAT, o + c, in.getAtIndex(JAVA_FLOAT, ib + c * hw + x));
                }
            }
        }
    }

    /** The interior of {@code inL} to NCHW [n][C][H][W], rows [u0, u1) of the batch. */
    public static void nhwcToNchw(MemorySegment out, MemorySegment in, Nhwc inL, int n, int u0, int u1) {
        int C = inL.c(), H = inL.h(), W = inL.w();
        Checks.floats(in, n * inL.imageFloats(), "reorder input");
        Checks.floats(out, n * inL.interior(), "reorder output");
        long hw = (long) H * W;
        for (int u = u0; u < u1; u++) {
            int img = u / H, y = u % H;
            long ib = img * inL.imageFloats() + inL.offset(y, 0);
            long ob = img * inL.interior() + (long) y * W;
            for (int c0 = 0; c0 < C; c0 += CB) {
                int c1 = Math.min(C, c0 + CB);
                for (int x = 0; x < W; x++) {
                    long i = ib + (long) x * C;
                    for (int c = c0; c < c1; c++) out.setAtIndex(JAVA_FLOAT, ob + c * hw + x, in.getAtIndex(JAVA_FLOAT, i + c));
                }
            }
        }
    }

    /** Sets the border of every image of {@code l} (not the interior) to {@code value}; once, at compile time. */
    public static void fillBorder(MemorySegment seg, Nhwc l, int n, float value) {
        if (l.padH() == 0 && l.padW() == 0) return;
        for (int img = 0; img < n; img++) {
            long base = img * l.imageFloats();
            for (int y = 0; y < l.hp(); y++) {
                for (int x = 0; x < l.wp(); x++) {
                    boolean inside = y >= l.padH() && y < l.padH() + l.h() && x >= l.padW() && x < l.padW() + l.w();
                    if (inside) continue;
                    long o = base + ((long) y * l.wp() + x) * l.c();
                    for (int c = 0; c < l.c(); c++) seg.setAtIndex(JAVA_FLOAT, o + c, value);
                }
            }
        }
    }

    /** perm[i] = the NCHW feature index held at channels-last index i of an unpadded C,H,W image (for {@link LinearVec}). */
    public static int[] nhwcToNchwFeatures(int c, int h, int w) {
        int[] perm = new int[c * h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int ch = 0; ch < c; ch++) {
            perm[(y * w + x) * c + ch] = (ch * h + y) * w + x;
        }
        return perm;
    }
}
