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

    /**
     * The gradient of {@link #forward}, in double: with b_i = a_i d_i^-beta and d_i = k + scale * sum_{j in W(i)} a_j^2,
     * dL/da_j = g_j d_j^-beta - 2 scale beta a_j sum_{i: j in W(i)} g_i a_i d_i^(-beta-1). The windows are
     * symmetric (clipped at the group's edges), so {i : j in W(i)} = W(j). Overwrites gradIn.
     */
    public static void backward(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, LrnShape s) {
        Checks.floats(in, s.size(), "lrn input");
        Checks.floats(gradOut, s.size(), "lrn output gradient");
        Checks.floats(gradIn, s.size(), "lrn input gradient");
        LrnParams lp = s.params();
        int C = s.c(), half = lp.size() / 2, groupC = C / s.channelGroups();
        long hw = (long) s.h() * s.w();
        double scale = lp.scale(), beta = lp.beta(), k = lp.k();
        double[] a = new double[C], g = new double[C], dPow = new double[C], t = new double[C];
        for (int n = 0; n < s.n(); n++) {
            for (long i = 0; i < hw; i++) {
                for (int c = 0; c < C; c++) {
                    long idx = ((long) n * C + c) * hw + i;
                    a[c] = in.getAtIndex(JAVA_FLOAT, idx);
                    g[c] = gradOut.getAtIndex(JAVA_FLOAT, idx);
                }
                for (int c = 0; c < C; c++) {
                    double sum = 0;
                    for (int j = lo(c, half, groupC); j <= hi(c, half, groupC); j++) sum += a[j] * a[j];
                    double d = k + scale * sum;
                    dPow[c] = Math.pow(d, -beta);
                    t[c] = g[c] * a[c] * dPow[c] / d;
                }
                for (int c = 0; c < C; c++) {
                    double sum = 0;
                    for (int j = lo(c, half, groupC); j <= hi(c, half, groupC); j++) sum += t[j];
                    gradIn.setAtIndex(JAVA_FLOAT, ((long) n * C + c) * hw + i, (float) (g[c] * dPow[c] - 2 * scale * beta * a[c] * sum));
                }
            }
        }
    }

    private static int lo(int c, int half, int groupC) { return Math.max((c / groupC) * groupC, c - half); }

    private static int hi(int c, int half, int groupC) { return Math.min((c / groupC) * groupC + groupC - 1, c + half); }
}
