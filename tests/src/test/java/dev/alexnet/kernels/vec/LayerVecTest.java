package dev.alexnet.kernels.vec;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static dev.alexnet.kernels.vec.VecTestSupport.U;
import static dev.alexnet.kernels.vec.VecTestSupport.abs;
import static dev.alexnet.kernels.vec.VecTestSupport.assertClose;
import static dev.alexnet.kernels.vec.VecTestSupport.checkPool;
import static dev.alexnet.kernels.vec.VecTestSupport.random;
import static dev.alexnet.kernels.vec.VecTestSupport.runDevice;
import static dev.alexnet.kernels.vec.VecTestSupport.scaled;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Each vector kernel, compiled as a one-layer program on {@code JavaDevice(VECTOR)} (so the reorders at
 * the NCHW boundary and the thread split are covered too), against its scalar reference, on shapes drawn
 * from a fixed seed: odd sizes, channel counts that are not multiples of 16 (1, 3, 13, ...), strides,
 * pads, groups, batch 1 and more, 1 and 2 threads.
 */
class LayerVecTest {
    private static final JavaDevice.Kernels VEC = JavaDevice.Kernels.VECTOR;

    private static int pick(Random r, int... v) { return v[r.nextInt(v.length)]; }

    /** One convolution checked against ConvRef with tolerance (K+2) u sum|x*w| per output, K = C/G*R*S (+1 for the bias). */
    static void checkConv(Random rnd, int n, int c, int h, int w, int k, int kernel, int stride, int pad, int groups, boolean relu, int threads) {
        try (Arena arena = Arena.ofShared()) {
            LayerSpec.Conv spec = new LayerSpec.Conv("conv", c, h, w, k, kernel, stride, pad, groups, relu);
            ConvShape s = spec.shape(n);
            Tensor x = random(arena, rnd, 1f, n, c, h, w);
            Tensor wt = random(arena, rnd, 0.5f, spec.weightShape());
            Tensor b = random(arena, rnd, 0.5f, k);
            MemorySegment want = arena.allocate(s.outputSize() * 4, 64), mag = arena.allocate(s.outputSize() * 4, 64);
            ConvRef.forward(want, x.data(), wt.data(), b.data(), s, relu);
            ConvRef.forward(mag, abs(arena, x).data(), abs(arena, wt).data(), abs(arena, b).data(), s, false);
            float[] got = runDevice(VEC, threads, List.of(new Layer(spec, wt, b)), n, x.data());
            int red = s.cg() * s.r() * s.s() + 1;
            assertClose(s + " relu=" + relu + " threads=" + threads, want.toArray(JAVA_FLOAT), got, scaled(mag.toArray(JAVA_FLOAT), (red + 2) * U));
        }
    }

    @Test
    void convRandomShapes() {
        Random rnd = new Random(20120101);
        for (int i = 0; i < 60; i++) {
            int groups = pick(rnd, 1, 1, 1, 2, 3);
            int cg = pick(rnd, 1, 2, 3, 5, 7, 13, 16, 19);
            int kg = pick(rnd, 1, 3, 5, 13, 16, 17, 24, 32, 48, 50, 64, 80, 96);
            int kernel = pick(rnd, 1, 2, 3, 5);
            int stride = pick(rnd, 1, 1, 2, 3, 4);
            int pad = rnd.nextInt(Math.min(kernel, 3));
            int h = kernel + rnd.nextInt(12), w = kernel + rnd.nextInt(14);
            int n = pick(rnd, 1, 1, 2, 3);
            checkConv(rnd, n, cg * groups, h, w, kg * groups, kernel, stride, pad, groups, rnd.nextBoolean(), 1 + (i & 1));
        }
    }

    @Test
    void convTinyOutputsTileOverCopiesOfTheLastPixel() {
        Random rnd = new Random(7);
        checkConv(rnd, 2, 3, 3, 3, 20, 3, 1, 0, 1, true, 2);   // 1x1 output: one 8-pixel tile, 7 rows copies
        checkConv(rnd, 1, 4, 4, 5, 64, 2, 2, 0, 2, false, 1);  // 2x2 output, 4-vector tiles
        checkConv(rnd, 3, 16, 5, 5, 48, 3, 2, 1, 1, true, 2);  // 3x3 = 9 pixels: the second 8-pixel tile repeats the last pixel
    }

    @Test
    void convPaddedTileRowsOnBothPaths() {
        // A chunk whose pixel count is not a multiple of the tile height ends in a tile over copies of its last
        // pixel; with small kc the copies also pass partial sums through the output, block after block. Each
        // shape through the offset table (packMinRun huge) and through the panel (packMinRun 1), every 4-vector
        // tile height, 6-vector tiles from both, batch 1 to 33, 1 and 2 threads.
        Random rnd = new Random(2027);
        int[][] tunings = {{4, 2048}, {5, 37}, {6, 2048}, {0, 37}};
        for (int i = 0; i < 2 * tunings.length; i++) {
            int[] tu = tunings[i / 2];
            ConvVec.Tuning t = new ConvVec.Tuning(tu[0], tu[1], i % 2 == 0 ? Integer.MAX_VALUE : 1);
            int threads = 1 + (i & 1);
            checkConvTuned(rnd, ConvShape.of(1, 3, 3, 3, 20, 3, 1, 0, 1), t, threads);           // 1 pixel, 2 vectors (8x2)
            checkConvTuned(rnd, ConvShape.of(2, 5, 5, 5, 96, 3, 1, 0, 1), t, 3 - threads);       // 9 pixels, 6 vectors (4x6): 3 tiles
            checkConvTuned(rnd, ConvShape.of(33, 3, 23, 23, 96, 11, 4, 0, 1), t, threads);       // conv1-like, stride 4: 16 pixels per image
            checkConvTuned(rnd, ConvShape.of(3, 2 * 40, 13, 13, 2 * 68, 3, 1, 1, 2), t, threads); // 169 pixels: last chunk 73 or 49; 4 + 1 vectors, masked
            checkConvTuned(rnd, ConvShape.of(2, 2 * 24, 11, 9, 2 * 128, 5, 2, 2, 2), t, 3 - threads); // conv2-like 5x5, stride 2, pad 2: 6x5 pixels
        }
    }

    @Test
    void convAlexNetConv1AndConv5AtBatch1() {
        Random rnd = new Random(11);
        checkConv(rnd, 1, 3, 227, 227, 96, 11, 4, 0, 1, true, 2);
        checkConv(rnd, 1, 384, 13, 13, 256, 3, 1, 1, 2, true, 2);
    }

    @Test
    void convRectangularKernelDirect() {
        // ConvShape with R != S and different strides/pads, through ConvVec and the reorders directly.
        Random rnd = new Random(5);
        for (int threads = 1; threads <= 2; threads++) {
            try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(threads)) {
                ConvShape s = new ConvShape(2, 6, 11, 9, 34, 3, 2, 2, 1, 1, 0, 2);
                Tensor x = random(arena, rnd, 1f, 2, 6, 11, 9);
                Tensor wt = random(arena, rnd, 1f, 34, 3, 3, 2);
                MemorySegment want = arena.allocate(s.outputSize() * 4), mag = arena.allocate(s.outputSize() * 4);
                ConvRef.forward(want, x.data(), wt.data(), null, s, false);
                ConvRef.forward(mag, abs(arena, x).data(), abs(arena, wt).data(), null, s, false);
                Nhwc inL = new Nhwc(6, 11, 9, 1, 2), outL = new Nhwc(34, s.p(), s.q(), 1, 0);
                MemorySegment in = arena.allocate(2 * inL.imageFloats() * 4, 64), out = arena.allocate(2 * outL.imageFloats() * 4, 64);
                MemorySegment got = arena.allocate(s.outputSize() * 4, 64);
                Reorders.nchwToNhwc(in, inL, x.data(), 2, 0, Reorders.units(2, inL));
                ConvVec conv = new ConvVec(s, inL, outL, wt.data(), null, false, arena);
                team.run((m, ms) -> conv.forward(out, in, m, ms));
                Reorders.nhwcToNchw(got, out, outL, 2, 0, Reorders.units(2, outL));
                assertClose(s.toString(), want.toArray(JAVA_FLOAT), got.toArray(JAVA_FLOAT), scaled(mag.toArray(JAVA_FLOAT), (3 * 2 * 3 + 2) * U));
            }
        }
    }

    /**
     * The tile loops read through one unchecked whole-memory segment ({@code ConvTiles.ALL}), so their entry
     * checks must refuse what the JDK's per-access checks refused: a heap input to the offset-table kernels
     * (the panel path packs the input with checked accesses, so a heap input works there), and an input
     * whose arena is closed (both paths).
     */
    @Test
    void convRefusesHeapAndClosedInputs() {
        ConvShape s = ConvShape.of(1, 16, 9, 9, 32, 3, 1, 1, 1);
        Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), s.padH(), s.padW()), outL = Nhwc.of(s.k(), s.p(), s.q());
        for (int packMinRun : new int[]{Integer.MAX_VALUE, 1}) {
            try (Arena arena = Arena.ofShared()) {
                Random rnd = new Random(1);
                Tensor wt = random(arena, rnd, 0.5f, s.k(), s.cg(), s.r(), s.s());
                Tensor b = random(arena, rnd, 0.5f, s.k());
                Tensor x = random(arena, rnd, 1f, 1, s.c(), s.h(), s.w());
                ConvVec conv = new ConvVec(s, inL, outL, wt.data(), b.data(), true, arena, new ConvVec.Tuning(0, 2048, packMinRun));
                MemorySegment out = arena.allocate(outL.imageFloats() * 4, 64);
                // The input channels-last with its zero border (the padding), then copied to the heap.
                MemorySegment nhwc = arena.allocate(inL.imageFloats() * 4, 64);
                Reorders.nchwToNhwc(nhwc, inL, x.data(), 1, 0, Reorders.units(1, inL));
                MemorySegment heap = MemorySegment.ofArray(nhwc.toArray(JAVA_FLOAT));
                if (packMinRun > 48) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conv.forwardUnits(out, heap, 0, conv.units()));
                    assertTrue(e.getMessage().contains("heap segment"), e.getMessage());
                } else {
                    out.fill((byte) 0xFF); // NaN: the run must overwrite it
                    conv.forwardUnits(out, heap, 0, conv.units());
                    MemorySegment want = arena.allocate(s.outputSize() * 4), mag = arena.allocate(s.outputSize() * 4);
                    MemorySegment got = arena.allocate(s.outputSize() * 4, 64);
                    ConvRef.forward(want, x.data(), wt.data(), b.data(), s, true);
                    ConvRef.forward(mag, abs(arena, x).data(), abs(arena, wt).data(), abs(arena, b).data(), s, false);
                    Reorders.nhwcToNchw(got, out, outL, 1, 0, Reorders.units(1, outL));
                    int red = s.cg() * s.r() * s.s() + 1; // tolerance as in checkConv
                    assertClose("heap input " + s, want.toArray(JAVA_FLOAT), got.toArray(JAVA_FLOAT), scaled(mag.toArray(JAVA_FLOAT), (red + 2) * U));
                }
                Arena gone = Arena.ofConfined();
                MemorySegment closed = gone.allocate(inL.imageFloats() * 4, 64);
                gone.close();
                assertThrows(IllegalStateException.class, () -> conv.forwardUnits(out, closed, 0, conv.units()));
            }
        }
    }

    /** ConvVec directly with a non-default tuning: bias + ReLU, tolerance as in checkConv. */
    static void checkConvTuned(Random rnd, ConvShape s, ConvVec.Tuning tuning, int threads) {
        try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(threads)) {
            int n = s.n();
            Tensor x = random(arena, rnd, 1f, n, s.c(), s.h(), s.w());
            Tensor wt = random(arena, rnd, 0.5f, s.k(), s.cg(), s.r(), s.s());
            Tensor b = random(arena, rnd, 0.5f, s.k());
            MemorySegment want = arena.allocate(s.outputSize() * 4), mag = arena.allocate(s.outputSize() * 4);
            ConvRef.forward(want, x.data(), wt.data(), b.data(), s, true);
            ConvRef.forward(mag, abs(arena, x).data(), abs(arena, wt).data(), abs(arena, b).data(), s, false);
            Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), s.padH(), s.padW()), outL = Nhwc.of(s.k(), s.p(), s.q());
            MemorySegment in = arena.allocate(n * inL.imageFloats() * 4, 64), out = arena.allocate(n * outL.imageFloats() * 4, 64);
            MemorySegment got = arena.allocate(s.outputSize() * 4, 64);
            Reorders.nchwToNhwc(in, inL, x.data(), n, 0, Reorders.units(n, inL));
            ConvVec conv = new ConvVec(s, inL, outL, wt.data(), b.data(), true, arena, tuning);
            team.run((m, ms) -> conv.forward(out, in, m, ms));
            Reorders.nhwcToNchw(got, out, outL, n, 0, Reorders.units(n, outL));
            int red = s.cg() * s.r() * s.s() + 1;
            assertClose(s + " " + tuning + " threads=" + threads, want.toArray(JAVA_FLOAT), got.toArray(JAVA_FLOAT),
                    scaled(mag.toArray(JAVA_FLOAT), (red + 2) * U));
        }
    }

    @Test
    void convTilingsAndReductionBlocks() {
        // Every 4-vector tile height, and small blocks (kc) so that reductions span many blocks, partial sums
        // pass through the output, and blocks cut the window's runs (kc=1: one step per block).
        Random rnd = new Random(2026);
        // Each tuning with the tiles reading the input through the offset table (packMinRun huge) and
        // through a packed panel (packMinRun 1).
        int[][] tunings = {{6, 1}, {6, 7}, {6, 50}, {5, 16}, {5, 2048}, {4, 33}, {4, 2048}, {6, 2048}, {0, 2048}, {0, 40}};
        for (int i = 0; i < 2 * tunings.length; i++) {
            int[] tu = tunings[i / 2];
            ConvVec.Tuning t = new ConvVec.Tuning(tu[0], tu[1], i % 2 == 0 ? Integer.MAX_VALUE : 1);
            checkConvTuned(rnd, ConvShape.of(2, 3, 23, 23, 96, 11, 4, 0, 1), t, 1 + (i & 1));   // conv1-like: 6 vectors (table), 4 + 2 (panel)
            checkConvTuned(rnd, ConvShape.of(1, 40, 9, 9, 136, 3, 1, 1, 2), t, 2 - (i & 1));    // 68 per group: 4 + 1 vectors, masked lanes
            checkConvTuned(rnd, ConvShape.of(1, 2 * 100, 7, 8, 2 * 64, 3, 1, 1, 2), t, 1);       // runs of 100 > kc for small kc
            checkConvTuned(rnd, ConvShape.of(2, 20, 6, 7, 24, 2, 1, 0, 1), t, 2);                // 30 pixels: no whole chunk, 2 vectors (8x2)
            checkConvTuned(rnd, ConvShape.of(1, 6, 12, 11, 45, 3, 1, 1, 1), t, 1 + (i & 1));    // 3 vectors, masked lanes (6x3)
        }
        // A chunk that is not a multiple of the tile height (a last tile over copies) with 5-pixel tiles (chunk 40): 13x13 = 169.
        checkConvTuned(rnd, ConvShape.of(1, 32, 13, 13, 64, 3, 1, 1, 1), new ConvVec.Tuning(5, 2048), 2);
        checkConvTuned(rnd, ConvShape.of(1, 32, 13, 13, 64, 3, 1, 1, 1), new ConvVec.Tuning(4, 64), 1);
    }

    @Test
    void maxPoolExact() {
        Random rnd = new Random(3);
        for (int i = 0; i < 40; i++) {
            int kernel = pick(rnd, 1, 2, 3, 3, 4), stride = pick(rnd, 1, 2, 2, 3);
            int pad = rnd.nextInt(kernel / 2 + 1);
            int c = pick(rnd, 1, 3, 13, 16, 17, 48, 96), h = kernel + rnd.nextInt(15), w = kernel + rnd.nextInt(15), n = pick(rnd, 1, 2, 3);
            checkPool(rnd, n, c, h, w, kernel, stride, pad, 1 + (i & 1));
        }
        checkPool(rnd, 1, 96, 55, 55, 3, 2, 0, 2); // pool1
    }

    /**
     * LRN: the float window sum of n squares is within (n-1) u of exact, the fma k + scale*sum adds u,
     * so the denominator d is within (n+1) u relative; d^-beta then moves by beta (n+1) u, and the power
     * (two correctly rounded square roots and a product, or POW within 1 ulp = 2u) and the division or
     * product add at most 4 u more, plus u
     * for the reference's rounding to float: (beta (n+1) + 6) u |b|.
     */
    @Test
    void lrnRandomShapes() {
        Random rnd = new Random(9);
        for (int i = 0; i < 40; i++) {
            int groups = pick(rnd, 1, 1, 2, 3);
            int c = groups * pick(rnd, 1, 2, 3, 5, 13, 16, 17, 24, 48);
            LrnParams p = switch (i % 4) {
                case 0, 1 -> LrnParams.PAPER;
                case 2 -> new LrnParams(pick(rnd, 1, 3, 5, 7), 1f, 0.3f, 0.6f, true);
                default -> new LrnParams(pick(rnd, 3, 5, 9), 2f, 0.05f, 0.75f, false);
            };
            checkLrn(rnd, pick(rnd, 1, 2, 3), c, 1 + rnd.nextInt(9), 1 + rnd.nextInt(11), p, groups, 1 + (i & 1));
        }
        checkLrn(rnd, 1, 96, 27, 27, LrnParams.PAPER, 2, 2);  // lrn1 per tower
        checkLrn(rnd, 1, 256, 13, 13, LrnParams.PAPER, 1, 1); // lrn2 across all channels
    }

    private static void checkLrn(Random rnd, int n, int c, int h, int w, LrnParams p, int groups, int threads) {
        try (Arena arena = Arena.ofShared()) {
            LayerSpec.Lrn spec = new LayerSpec.Lrn("lrn", c, h, w, p, groups);
            LrnShape s = spec.shape(n);
            Tensor x = random(arena, rnd, 3f, n, c, h, w);
            MemorySegment want = arena.allocate(s.size() * 4);
            LrnRef.forward(want, x.data(), s);
            float[] wa = want.toArray(JAVA_FLOAT);
            double[] tol = new double[wa.length];
            for (int i = 0; i < wa.length; i++) tol[i] = (p.beta() * (p.size() + 1) + 6) * U * Math.abs(wa[i]);
            assertClose(s + " threads=" + threads, wa, runDevice(VEC, threads, List.of(Layer.of(spec)), n, x.data()), tol);
        }
    }

    @Test
    void linearRandomShapes() {
        Random rnd = new Random(13);
        for (int i = 0; i < 30; i++) {
            int n = pick(rnd, 1, 1, 2, 5, 6, 7, 13, 32), in = pick(rnd, 1, 3, 17, 100, 513, 1100), out = pick(rnd, 1, 5, 16, 63, 64, 65, 130, 200);
            checkLinear(rnd, n, in, out, rnd.nextBoolean(), 1 + (i & 1));
        }
        checkLinear(rnd, 1, 9216, 512, true, 2); // fc6-sized rows (a slice of the outputs): the GEMV path
    }

    /** Linear: (I+1 products with the bias, +2) u sum|x*w|, as for the convolution. */
    private static void checkLinear(Random rnd, int n, int in, int out, boolean relu, int threads) {
        try (Arena arena = Arena.ofShared()) {
            LayerSpec.Linear spec = new LayerSpec.Linear("fc", in, out, relu);
            LinearShape s = spec.shape(n);
            Tensor x = random(arena, rnd, 1f, n, in);
            Tensor wt = random(arena, rnd, 0.1f, out, in);
            Tensor b = random(arena, rnd, 1f, out);
            MemorySegment want = arena.allocate((long) n * out * 4), mag = arena.allocate((long) n * out * 4);
            LinearRef.forward(want, x.data(), wt.data(), b.data(), s, relu);
            LinearRef.forward(mag, abs(arena, x).data(), abs(arena, wt).data(), abs(arena, b).data(), s, false);
            float[] got = runDevice(VEC, threads, List.of(new Layer(spec, wt, b)), n, x.data());
            assertClose(s + " relu=" + relu + " threads=" + threads, want.toArray(JAVA_FLOAT), got, scaled(mag.toArray(JAVA_FLOAT), (in + 3) * U));
        }
    }
}
