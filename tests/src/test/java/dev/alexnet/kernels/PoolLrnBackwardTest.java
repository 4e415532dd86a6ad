package dev.alexnet.kernels;

import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.ReluRef;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference backward passes of max pooling, LRN and ReLU against central finite differences of
 * L = sum_o g_o y_o, computed in double, on small shapes; the pooling tie rule by hand.
 */
class PoolLrnBackwardTest {
    private static final double U = Math.ulp(1f) / 2;

    static MemorySegment seg(Arena arena, float[] v) {
        MemorySegment s = arena.allocate((long) v.length * Float.BYTES, 64);
        MemorySegment.copy(v, 0, s, JAVA_FLOAT, 0, v.length);
        return s;
    }

    static float[] gaussian(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return v;
    }

    // ---------------------------------------------------------------- pooling

    /**
     * Inputs are distinct multiples of 1/64 (a shuffled ramp: no ties, gaps of 1/64) and the step h = 2^-10
     * keeps every x +- h exact in float and every window's winner in place, so the forward (a copy of the
     * winners) moves exactly by +-h at the winners: the difference quotient is then exact up to the double
     * rounding of L (about count * 2^-53 * sum|g y| / h, below 1e-9). The reference adds the m <= ceil(k/s)^2
     * gradients of the windows an element wins in float: (m - 1) u m max|g| more.
     */
    @Test
    void poolingMatchesFiniteDifferences() {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 2, 7, 7, 3, 2, 0}, {2, 1, 6, 5, 2, 1, 1}, {1, 1, 8, 9, 3, 3, 1}, {1, 2, 9, 7, 3, 1, 1}, {1, 1, 5, 11, 2, 2, 0}};
        double h = 0x1p-10;
        for (int[] d : shapes) {
            try (Arena arena = Arena.ofConfined()) {
                PoolShape s = new PoolShape(d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
                int count = (int) s.inputSize();
                float[] x = new float[count];
                for (int i = 0; i < count; i++) x[i] = (i - count / 2) / 64f;
                for (int i = count - 1; i > 0; i--) { int j = rnd.nextInt(i + 1); float t = x[i]; x[i] = x[j]; x[j] = t; }
                float[] g = gaussian(rnd, (int) s.outputSize(), 1);
                double maxG = 0;
                for (float v : g) maxG = Math.max(maxG, Math.abs(v));
                int per = (s.kernel() + s.stride() - 1) / s.stride(), m = per * per;
                MemorySegment in = seg(arena, x), go = seg(arena, g), gi = arena.allocate(count * 4L), out = arena.allocate(s.outputSize() * 4);
                gi.fill((byte) 0x7f);
                MaxPoolRef.backward(gi, go, in, s);
                for (int j = 0; j < count; j++) {
                    float x0 = x[j];
                    in.setAtIndex(JAVA_FLOAT, j, (float) (x0 + h));
                    double lp = dot(out, g, () -> MaxPoolRef.forward(out, in, s));
                    in.setAtIndex(JAVA_FLOAT, j, (float) (x0 - h));
                    double lm = dot(out, g, () -> MaxPoolRef.forward(out, in, s));
                    in.setAtIndex(JAVA_FLOAT, j, x0);
                    assertEquals((lp - lm) / (2 * h), gi.getAtIndex(JAVA_FLOAT, j), 1e-9 + (m - 1) * U * m * maxG, s + " element " + j);
                }
            }
        }
    }

    private static double dot(MemorySegment out, float[] g, Runnable forward) {
        forward.run();
        double l = 0;
        for (int i = 0; i < g.length; i++) l += (double) g[i] * out.getAtIndex(JAVA_FLOAT, i);
        return l;
    }

    /** Ties go to the first maximum in row-major window order; overlapping windows add. */
    @Test
    void poolingTiesGoToTheFirstMaximumInScanOrder() {
        try (Arena arena = Arena.ofConfined()) {
            // 3x3 of equal values, 2x2 windows at stride 1: each window's top-left element wins
            PoolShape s = new PoolShape(1, 1, 3, 3, 2, 1, 0);
            MemorySegment gi = arena.allocate(9 * 4);
            MaxPoolRef.backward(gi, seg(arena, new float[] {1, 2, 3, 4}), seg(arena, new float[] {5, 5, 5, 5, 5, 5, 5, 5, 5}), s);
            assertArrayEquals(new float[] {1, 2, 0, 3, 4, 0, 0, 0, 0}, gi.toArray(JAVA_FLOAT));
            // [[1,3],[3,2]]: the 3 at (0,1) comes first in the scan; the one at (1,0) gets nothing
            PoolShape one = new PoolShape(1, 1, 2, 2, 2, 2, 0);
            MaxPoolRef.backward(gi, seg(arena, new float[] {7}), seg(arena, new float[] {1, 3, 3, 2}), one);
            assertArrayEquals(new float[] {0, 7, 0, 0}, gi.asSlice(0, 16).toArray(JAVA_FLOAT));
            // a window of -inf: its first (valid) element; padding never wins
            PoolShape padded = new PoolShape(1, 1, 2, 2, 2, 1, 1);
            float ni = Float.NEGATIVE_INFINITY;
            MaxPoolRef.backward(gi, seg(arena, new float[] {1, 10, 100, 1000, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f}), seg(arena, new float[] {ni, ni, ni, ni}), padded);
            // window (0,0) sees only (0,0); (0,1) sees (0,0),(0,1); ... every window's first valid element is its winner
            assertArrayEquals(new float[] {1 + 10 + 1000 + 1e4f, 100 + 1e5f, 1e6f + 1e7f, 1e8f}, gi.asSlice(0, 16).toArray(JAVA_FLOAT));
            // overlapping 3x3/2 windows sharing the maximum: the shared element gets both gradients
            PoolShape ov = new PoolShape(1, 1, 3, 5, 3, 2, 0);
            float[] x = new float[15];
            x[7] = 0; x[2] = 9; // (0,2), shared by windows q = 0 and q = 1
            MemorySegment gi2 = arena.allocate(15 * 4);
            MaxPoolRef.backward(gi2, seg(arena, new float[] {0.5f, 0.25f}), seg(arena, x), ov);
            float[] want = new float[15];
            want[2] = 0.75f;
            assertArrayEquals(want, gi2.toArray(JAVA_FLOAT));
        }
    }

    // ---------------------------------------------------------------- LRN

    /** LRN forward in double, the same formula and float scale as LrnRef. */
    static double[] lrnForward(double[] a, LrnShape s) {
        LrnParams lp = s.params();
        int C = s.c(), half = lp.size() / 2, gc = C / s.channelGroups();
        int hw = s.h() * s.w();
        double[] b = new double[a.length];
        for (int n = 0; n < s.n(); n++)
            for (int c = 0; c < C; c++) {
                int g0 = c / gc * gc, lo = Math.max(g0, c - half), hi = Math.min(g0 + gc - 1, c + half);
                for (int i = 0; i < hw; i++) {
                    double sum = 0;
                    for (int j = lo; j <= hi; j++) { double v = a[(n * C + j) * hw + i]; sum += v * v; }
                    b[(n * C + c) * hw + i] = a[(n * C + c) * hw + i] * Math.pow(lp.k() + (double) lp.scale() * sum, -lp.beta());
                }
            }
        return b;
    }

    /**
     * Central differences with h = 1e-4 in double: truncation h^2/6 |L'''| (L''' of order 1 for these
     * parameters) plus rounding 2^-52 |L| / h, both below 1e-7; the reference's float result adds u |grad|.
     * Large alphas make the cross-channel term a sizeable part of every gradient.
     */
    @Test
    void lrnMatchesFiniteDifferences() {
        Random rnd = new Random(5);
        LrnParams[] params = {new LrnParams(5, 2f, 0.5f, 0.75f, false), new LrnParams(3, 1f, 0.3f, 0.6f, true),
                new LrnParams(5, 1.5f, 1.5f, 0.75f, true), LrnParams.PAPER};
        double h = 1e-4;
        for (LrnParams p : params) {
            for (int groups : new int[] {1, 2}) {
                LrnShape s = new LrnShape(2, 8, 2, 3, p, groups);
                int count = (int) s.size();
                float[] x = gaussian(rnd, count, 1.5), g = gaussian(rnd, count, 1);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment gi = arena.allocate(count * 4L);
                    gi.fill((byte) 0x7f);
                    LrnRef.backward(gi, seg(arena, g), seg(arena, x), s);
                    double[] a = new double[count];
                    for (int i = 0; i < count; i++) a[i] = x[i];
                    double[] b = lrnForward(a, s);
                    double maxCross = 0, maxFd = 0;
                    for (int j = 0; j < count; j++) {
                        a[j] = x[j] + h;
                        double lp = dotD(lrnForward(a, s), g);
                        a[j] = x[j] - h;
                        double lm = dotD(lrnForward(a, s), g);
                        a[j] = x[j];
                        double fd = (lp - lm) / (2 * h), got = gi.getAtIndex(JAVA_FLOAT, j);
                        assertEquals(fd, got, 1e-7 + 2 * U * Math.abs(fd), s + " element " + j);
                        // the cross-channel part: fd minus the diagonal term g_j d_j^-beta = g_j b_j / a_j
                        maxCross = Math.max(maxCross, Math.abs(fd - g[j] * b[j] / a[j]));
                        maxFd = Math.max(maxFd, Math.abs(fd));
                    }
                    if (p.alpha() > 0.1f) assertTrue(maxCross > 0.05 * maxFd, s + ": the cross-channel term is too small to be tested (" + maxCross + ")");
                }
            }
        }
    }

    private static double dotD(double[] y, float[] g) {
        double l = 0;
        for (int i = 0; i < y.length; i++) l += g[i] * y[i];
        return l;
    }

    // ---------------------------------------------------------------- ReLU

    /** gradIn = out > 0 ? gradOut : 0; in place; a NaN or zero output passes nothing. */
    @Test
    void reluBackwardSelects() {
        try (Arena arena = Arena.ofConfined()) {
            float[] out = {0, 1.5f, 0, 2, Float.NaN, Float.MIN_VALUE, -0f};
            float[] g = {9, 8, 7, 6, 5, 4, 3};
            MemorySegment go = seg(arena, g), gi = arena.allocate(7 * 4);
            ReluRef.backward(gi, go, seg(arena, out), 7);
            assertArrayEquals(new float[] {0, 8, 0, 6, 0, 4, 0}, gi.toArray(JAVA_FLOAT));
            ReluRef.backward(go, go, seg(arena, out), 7);
            assertArrayEquals(new float[] {0, 8, 0, 6, 0, 4, 0}, go.toArray(JAVA_FLOAT));
        }
    }
}
