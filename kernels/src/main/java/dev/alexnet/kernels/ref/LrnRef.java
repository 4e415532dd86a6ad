package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Cross-channel LRN, the oracle: for each output it reads the whole window (n reads), in double.
 * The window is clipped at the edges of the channel group (the tower), never crossing into the other.
 */
public final class LrnRef {
    private LrnRef() {}

    public static void forward(MemorySegment out, MemorySegment in, LrnShape s) {
        Checks.floats(in, s.size(), "lrn input");
        Checks.floats(out, s.size(), "lrn output");
        LrnParams lp = s.params();
        int half = lp.size() / 2, groupC = s.c() / s.channelGroups();
        long hw = (long) s.h() * s.w();
        double scale = lp.scale();
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < s.c(); c++) {
                int g0 = (c / groupC) * groupC, g1 = g0 + groupC - 1;
                int lo = Math.max(g0, c - half), hi = Math.min(g1, c + half);
                for (long i = 0; i < hw; i++) {
                    double sum = 0;
                    for (int j = lo; j <= hi; j++) {
                        double a = in.getAtIndex(JAVA_FLOAT, ((long) n * s.c() + j) * hw + i);
                        sum += a * a;
                    }
                    long idx = ((long) n * s.c() + c) * hw + i;
                    double a = in.getAtIndex(JAVA_FLOAT, idx);
                    out.setAtIndex(JAVA_FLOAT, idx, (float) (a / Math.pow(lp.k() + scale * sum, lp.beta())));
                }
            }
        }
    }
}
