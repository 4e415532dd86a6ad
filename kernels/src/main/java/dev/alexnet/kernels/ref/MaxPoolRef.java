package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.PoolShape;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Max pooling, the oracle. Padded positions are skipped (they never win), as in PyTorch. */
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
}
