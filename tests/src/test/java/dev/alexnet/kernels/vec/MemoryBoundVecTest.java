package dev.alexnet.kernels.vec;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static dev.alexnet.device.java.JavaDevice.Kernels.VECTOR;
import static dev.alexnet.kernels.vec.VecTestSupport.U;
import static dev.alexnet.kernels.vec.VecTestSupport.assertClose;
import static dev.alexnet.kernels.vec.VecTestSupport.checkPool;
import static dev.alexnet.kernels.vec.VecTestSupport.random;
import static dev.alexnet.kernels.vec.VecTestSupport.runDevice;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Pooling and LRN on both of their paths. A single-layer program runs them on NCHW rows
 * ({@link NchwPoolLrn}: stride 1, 2 and 3, padding, W below, at and above L, pixel blocks with tails);
 * a pool+LRN or LRN+pool program runs them channels-last ({@link MaxPoolVec}, {@link LrnVec}) between
 * the reorders. Odd C, C = 3, batch 1 to 3, 1 and 2 threads; tolerances as in {@link LayerVecTest}
 * (pooling exact; LRN (beta (size+1) + 6) u |b|). The channels-last LRN's window of five in registers
 * is also held to its scratch path bit for bit, on padded layouts.
 */
class MemoryBoundVecTest {
    private static int pick(Random r, int... v) { return v[r.nextInt(v.length)]; }

    private static LrnParams params(Random rnd, int i) {
        return switch (i % 3) {
            case 0 -> LrnParams.PAPER;
            case 1 -> new LrnParams(pick(rnd, 1, 3, 7), 1f, 0.3f, 0.6f, true);
            default -> new LrnParams(pick(rnd, 3, 5, 9), 2f, 0.05f, 0.75f, false);
        };
    }

    private static double[] lrnTol(float[] want, LrnParams p) {
        double[] tol = new double[want.length];
        for (int i = 0; i < want.length; i++) tol[i] = (p.beta() * (p.size() + 1) + 6) * U * Math.abs(want[i]);
        return tol;
    }

    /** pool then LRN (first = true) or LRN then pool, as one program: the channels-last kernels. */
    private static void checkChain(Random rnd, int n, int groups, int c, int h, int w, int kernel, int stride, int pad, LrnParams p,
                                   boolean poolFirst, int threads) {
        try (Arena arena = Arena.ofShared()) {
            LayerSpec.MaxPool pool;
            LayerSpec.Lrn lrn;
            Tensor x = random(arena, rnd, 3f, n, c, h, w);
            MemorySegment mid, want;
            String what;
            if (poolFirst) {
                pool = new LayerSpec.MaxPool("pool", c, h, w, kernel, stride, pad);
                PoolShape ps = pool.shape(n);
                lrn = new LayerSpec.Lrn("lrn", c, ps.p(), ps.q(), p, groups);
                LrnShape ls = lrn.shape(n);
                mid = arena.allocate(ps.outputSize() * 4);
                want = arena.allocate(ls.size() * 4);
                MaxPoolRef.forward(mid, x.data(), ps);
                LrnRef.forward(want, mid, ls);
                what = ps + " then " + ls;
            } else {
                lrn = new LayerSpec.Lrn("lrn", c, h, w, p, groups);
                LrnShape ls = lrn.shape(n);
                pool = new LayerSpec.MaxPool("pool", c, h, w, kernel, stride, pad);
                PoolShape ps = pool.shape(n);
                mid = arena.allocate(ls.size() * 4);
                want = arena.allocate(ps.outputSize() * 4);
                LrnRef.forward(mid, x.data(), ls);
                MaxPoolRef.forward(want, mid, ps);
                what = ls + " then " + ps;
            }
            List<Layer> layers = poolFirst ? List.of(Layer.of(pool), Layer.of(lrn)) : List.of(Layer.of(lrn), Layer.of(pool));
            float[] wa = want.toArray(JAVA_FLOAT);
            // max commutes with the monotone per-channel scaling only approximately, but each output of either order
            // is one LRN output (or the max of some): the LRN bound applies to every value.
            assertClose(what + " threads=" + threads, wa, runDevice(VECTOR, threads, layers, n, x.data()), lrnTol(wa, p));
        }
    }

    @Test
    void channelsLastPoolAndLrnChains() {
        Random rnd = new Random(31);
        for (int i = 0; i < 30; i++) {
            int groups = pick(rnd, 1, 1, 2);
            int c = groups * pick(rnd, 1, 3, 5, 16, 17, 24, 48);
            int kernel = pick(rnd, 2, 3, 3), stride = pick(rnd, 1, 2, 2), pad = rnd.nextInt(kernel / 2 + 1);
            int h = kernel + rnd.nextInt(12), w = kernel + rnd.nextInt(20);
            checkChain(rnd, pick(rnd, 1, 2, 3), groups, c, h, w, kernel, stride, pad, params(rnd, i), rnd.nextBoolean(), 1 + (i & 1));
        }
        checkChain(rnd, 2, 2, 96, 55, 55, 3, 2, 0, LrnParams.PAPER, true, 2);   // pool1 -> lrn1
        checkChain(rnd, 1, 1, 256, 27, 27, 3, 2, 0, LrnParams.PAPER, true, 1);  // pool2 -> lrn2 shape
    }

    @Test
    void nchwPoolingExact() {
        Random rnd = new Random(33);
        for (int i = 0; i < 40; i++) {
            int kernel = pick(rnd, 1, 2, 3, 3, 4), stride = pick(rnd, 1, 2, 2, 3);
            int pad = rnd.nextInt(kernel / 2 + 1);
            int c = pick(rnd, 1, 3, 13, 17, 96), h = kernel + rnd.nextInt(15), w = kernel + rnd.nextInt(pick(rnd, 5, 20, 60));
            int n = pick(rnd, 1, 2, 3), threads = 1 + (i & 1);
            checkPool(rnd, n, c, h, w, kernel, stride, pad, threads);
        }
    }

    /**
     * AlexNet's pooling, 3x3 stride 2 without padding, has its own NCHW path: every width from 3 to 70
     * (Q from 1 to 34: one vector or two under a mask, whole chunks, an overlapping last chunk), planes
     * near the end of the input (the general path), 1 and 2 threads.
     */
    @Test
    void nchwPooling3x3Stride2() {
        Random rnd = new Random(37);
        for (int w = 3; w <= 70; w++) {
            int h = 3 + rnd.nextInt(14), c = pick(rnd, 2, 5, 8), n = pick(rnd, 1, 2), threads = 1 + (w & 1);
            checkPool(rnd, n, c, h, w, 3, 2, 0, threads);
        }
    }

    @Test
    void nchwLrnBlocksAndTails() {
        Random rnd = new Random(35);
        // 33x33 and 55x55 split into 2 and 3 pixel blocks (NchwPoolLrn.LRN_BLOCK); 1x1 and 3x5 are shorter than L
        int[][] hw = {{1, 1}, {3, 5}, {8, 8}, {9, 9}, {13, 13}, {27, 27}, {4, 17}, {33, 33}, {55, 55}};
        for (int i = 0; i < 36; i++) {
            int groups = pick(rnd, 1, 2, 3);
            int[] d = hw[i % hw.length];
            int c = groups * (d[0] * d[1] > 1000 ? pick(rnd, 1, 4, 7) : pick(rnd, 1, 2, 3, 5, 16, 17));
            LrnParams p = params(rnd, i);
            int n = pick(rnd, 1, 2, 3), threads = 1 + (i & 1);
            try (Arena arena = Arena.ofShared()) {
                LayerSpec.Lrn spec = new LayerSpec.Lrn("lrn", c, d[0], d[1], p, groups);
                LrnShape s = spec.shape(n);
                Tensor x = random(arena, rnd, 3f, n, c, d[0], d[1]);
                MemorySegment want = arena.allocate(s.size() * 4);
                LrnRef.forward(want, x.data(), s);
                float[] wa = want.toArray(JAVA_FLOAT);
                assertClose(s + " threads=" + threads, wa, runDevice(VECTOR, threads, List.of(Layer.of(spec)), n, x.data()), lrnTol(wa, p));
            }
        }
    }

    /**
     * {@link LrnVec}'s window of five summed in registers (groups of whole vectors: 1 to 8 vectors per
     * group, 1 to 3 groups) against its scratch path, directly on channels-last layouts with borders: the
     * two must agree bit for bit with beta = 0.75 (same terms in the same order, correctly rounded square
     * roots; with POW, compiled and interpreted code may round the power differently), both must be within the LRN bound of
     * {@link LrnRef}, and neither may write the output's border. The units are run as two ranges, as two
     * threads would. Parameters: the paper's, Caffe's (alpha / n), a non-paper beta (POW) with a large
     * alpha so that the neighbours dominate.
     */
    @Test
    void channelsLastLrnWindowOfFiveInRegisters() {
        Random rnd = new Random(39);
        LrnParams[] ps = {LrnParams.PAPER, new LrnParams(5, 1f, 1e-4f, 0.75f, true), new LrnParams(5, 1f, 0.3f, 0.6f, true),
                new LrnParams(5, 2f, 0.5f, 0.75f, false)};
        int L = LrnVec.L;
        boolean both = L == 16; // 16 lanes (AVX-512): both paths, held to each other bit for bit; other widths have the scratch path only
        for (int i = 0; i < 24; i++) {
            int groups = 1 + rnd.nextInt(3), cg = L * pick(rnd, 1, 2, 3, 3, 4, 8), c = groups * cg;
            int n = pick(rnd, 1, 2), h = 1 + rnd.nextInt(6), w = 1 + rnd.nextInt(9);
            LrnParams p = ps[i % ps.length];
            LrnShape s = new LrnShape(n, c, h, w, p, groups);
            if (LrnVec.inRegisters(s) != both) throw new AssertionError("in-register window " + LrnVec.inRegisters(s) + " for " + s + " with " + L + " lanes");
            Nhwc inL = new Nhwc(c, h, w, rnd.nextInt(3), rnd.nextInt(3)), outL = new Nhwc(c, h, w, rnd.nextInt(3), rnd.nextInt(3));
            try (Arena arena = Arena.ofShared()) {
                Tensor x = random(arena, rnd, pick(rnd, 1, 3, 30), n, c, h, w);
                MemorySegment want = arena.allocate(s.size() * 4);
                LrnRef.forward(want, x.data(), s);
                MemorySegment in = arena.allocate(n * inL.imageFloats() * 4, 64);
                in.fill((byte) 0x7f); // a huge border value: a window that reaches it is wrong
                toNhwc(in, inL, x.data(), n);
                MemorySegment[] scratch = LrnVec.scratch(arena, s, 1);
                int units = LrnVec.units(s), split = rnd.nextInt(units + 1);
                float[][] got = new float[2][];
                for (int path = both ? 0 : 1; path < 2; path++) {
                    MemorySegment out = arena.allocate(n * outL.imageFloats() * 4, 64);
                    out.fill((byte) 0xff); // NaN
                    LrnVec.forwardUnits(out, outL, in, inL, s, scratch[0], 0, split, path == 0);
                    LrnVec.forwardUnits(out, outL, in, inL, s, scratch[0], split, units, path == 0);
                    got[path] = fromNhwc(out, outL, n);
                    String what = s + " in " + inL + " out " + outL + (path == 0 ? " in registers" : " scratch path");
                    assertBorder(what, out, outL, n);
                    float[] wa = want.toArray(JAVA_FLOAT);
                    assertClose(what, wa, got[path], lrnTol(wa, p));
                }
                // bit for bit where the power is x^-0.75 from correctly rounded square roots; a POW beta may round
                // differently in interpreted and compiled code (the JIT's pow is not correctly rounded), so those
                // shapes are held to the reference bound above only
                boolean exact = p.beta() == 0.75f;
                for (int j = 0; both && exact && j < got[0].length; j++) {
                    if (Float.floatToRawIntBits(got[0][j]) != Float.floatToRawIntBits(got[1][j])) {
                        throw new AssertionError(s + ": in registers " + got[0][j] + " vs scratch path " + got[1][j] + " at [" + j + "]");
                    }
                }
            }
        }
    }

    /** NCHW images into the interior of a channels-last layout. */
    private static void toNhwc(MemorySegment dst, Nhwc l, MemorySegment src, int n) {
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < l.c(); ch++)
                for (int y = 0; y < l.h(); y++)
                    for (int x = 0; x < l.w(); x++) {
                        float v = src.getAtIndex(JAVA_FLOAT, (((long) b * l.c() + ch) * l.h() + y) * l.w() + x);
                        dst.setAtIndex(JAVA_FLOAT, b * l.imageFloats() + l.offset(y, x) + ch, v);
                    }
    }

    /** The interior of a channels-last layout as NCHW. */
    private static float[] fromNhwc(MemorySegment src, Nhwc l, int n) {
        float[] v = new float[(int) (n * l.interior())];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < l.c(); ch++)
                for (int y = 0; y < l.h(); y++)
                    for (int x = 0; x < l.w(); x++)
                        v[(int) ((((long) b * l.c() + ch) * l.h() + y) * l.w() + x)] = src.getAtIndex(JAVA_FLOAT, b * l.imageFloats() + l.offset(y, x) + ch);
        return v;
    }

    /** Every border float of the layout still holds the NaN it was filled with. */
    private static void assertBorder(String what, MemorySegment seg, Nhwc l, int n) {
        for (int b = 0; b < n; b++)
            for (int y = 0; y < l.hp(); y++)
                for (int x = 0; x < l.wp(); x++) {
                    boolean interior = y >= l.padH() && y < l.padH() + l.h() && x >= l.padW() && x < l.padW() + l.w();
                    if (interior) continue;
                    for (int ch = 0; ch < l.c(); ch++) {
                        long at = b * l.imageFloats() + ((long) y * l.wp() + x) * l.c() + ch;
                        if (seg.getAtIndex(JAVA_FLOAT, at) == seg.getAtIndex(JAVA_FLOAT, at)) {
                            throw new AssertionError(what + ": border written at image " + b + " (" + y + ", " + x + ") channel " + ch);
                        }
                    }
                }
    }
}
