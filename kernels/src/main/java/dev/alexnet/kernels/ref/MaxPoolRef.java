package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.PoolShape;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Max pooling, the oracle. Padded positions are skipped (they never win), as in PyTorch.
 *
 * <p>Backward tie rule, as PyTorch's CPU max_pool2d: each window's winner is its FIRST maximum in row-major
 * scan order (a later element wins only when strictly greater, or when it is NaN).
 */
public final class MaxPoolRef {
    private MaxPoolRef() {}

    public static void forward(MemorySegment out, MemorySegment in, PoolShape s) {
        Checks.floats(in, s.inputSize(), "pool input");
        Checks.floats(out, s.outputSize(), "pool output");
        int P = s.p(), Q = s.q();
        for (long nc = 0; nc < (long) s.n() * s.c(); nc++) {
            long inBase = nc * s.h() * s.w();
            for (int p = 0; p < P; p++) {
                for (int q = 0; q < Q; q++) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int r = 0; r < s.kernel(); r++) {
                        int y = p * s.stride() - s.pad() + r;
                        if (y < 0 || y >= s.h()) continue;
                        for (int t = 0; t < s.kernel(); t++) {
                            int x = q * s.stride() - s.pad() + t;
                            if (x < 0 || x >= s.w()) continue;
                            m = Math.max(m, in.getAtIndex(JAVA_FLOAT, inBase + (long) y * s.w() + x));
                        }
                    }
                    out.setAtIndex(JAVA_FLOAT, (nc * P + p) * Q + q, m);
                }
            }
        }
    }

    /**
     * The gradient of {@link #forward}: gradIn is zeroed, then each output's gradient is added to its window's
     * winner (see the class comment for ties). Overlapping windows add; the adds run in float, in output
     * scan order (image, channel, p, q), which the vector kernel reproduces bit for bit.
     */
    public static void backward(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, PoolShape s) {
        Checks.floats(in, s.inputSize(), "pool input");
        Checks.floats(gradOut, s.outputSize(), "pool output gradient");
        Checks.floats(gradIn, s.inputSize(), "pool input gradient");
        gradIn.asSlice(0, s.inputSize() * Float.BYTES).fill((byte) 0);
        int P = s.p(), Q = s.q(), W = s.w();
        for (long nc = 0; nc < (long) s.n() * s.c(); nc++) {
            long inBase = nc * s.h() * W;
            for (int p = 0; p < P; p++) {
                for (int q = 0; q < Q; q++) {
                    long win = argmax(in, inBase, s, p, q);
                    float g = gradOut.getAtIndex(JAVA_FLOAT, (nc * P + p) * Q + q);
                    gradIn.setAtIndex(JAVA_FLOAT, win, gradIn.getAtIndex(JAVA_FLOAT, win) + g);
                }
            }
        }
    }

    /** Index of window (p, q)'s winner: the first valid element, replaced by a strictly greater one or a NaN. */
    public static long argmax(MemorySegment in, long inBase, PoolShape s, int p, int q) {
        long win = -1;
        float m = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < s.kernel(); r++) {
            int y = p * s.stride() - s.pad() + r;
            if (y < 0 || y >= s.h()) continue;
            for (int t = 0; t < s.kernel(); t++) {
                int x = q * s.stride() - s.pad() + t;
                if (x < 0 || x >= s.w()) continue;
                long i = inBase + (long) y * s.w() + x;
                float v = in.getAtIndex(JAVA_FLOAT, i);
                if (win < 0 || v > m || Float.isNaN(v)) {
                    win = i;
                    m = v;
                }
            }
        }
        return win;
    }
}
