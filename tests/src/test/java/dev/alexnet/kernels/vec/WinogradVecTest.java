package dev.alexnet.kernels.vec;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;
import dev.alexnet.model.SingleDeviceNetwork;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static dev.alexnet.kernels.vec.VecTestSupport.U;
import static dev.alexnet.kernels.vec.VecTestSupport.assertClose;
import static dev.alexnet.kernels.vec.VecTestSupport.random;
import static dev.alexnet.kernels.vec.VecTestSupport.runDevice;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link WinogradVec} (F(2x2, 3x3) and F(4x4, 3x3)) against {@link ConvRef}, per output, with a tolerance
 * derived from its arithmetic. With unit roundoff u and, per tile, d the zero-padded a x a input window and
 * g a filter: V = B^T d B rounds r_V times per output (F(2x2): two passes of one add or subtract, 2;
 * F(4x4): two passes, each output at most three roundings deep, 6), U = G g G^T once (computed in double),
 * the GEMM sums C/G products with one rounding each, the output transform A^T M A rounds r_Y times
 * (F(2x2): two passes of two adds, 4; F(4x4): two passes at most three deep, 6), the bias add once and the
 * reference's double result once when it becomes float: {@link WinogradVec.Variant#roundings} + 1 in all
 * besides C/G. (The kernel factors each transform so that no term reaches an output through two rounded
 * intermediates: each rounding is then at most u times that output's row of the |matrix| times |input|.) So |y - y_ref| <= (C/G + roundings + 1) u (Mag + |bias|) to first order, where
 * Mag = |A^T| (sum_c |G||g||G^T| .* |B^T||d||B|) |A| is computed here in double from this test's own copy of
 * the matrices (it also bounds |y|); the test adds one more rounding and a factor (1 + 1e-3) to cover
 * second-order terms (n u < 1e-4 here).
 * On the AlexNet layers and the whole network with He-init weights it also holds the output to the
 * project's agreement bound ({@link Agreement#FP32_BOUND}) and prints the measured error.
 */
class WinogradVecTest {
    private static final WinogradVec.Variant F2 = WinogradVec.Variant.F2X2, F4 = WinogradVec.Variant.F4X4;

    /** A^T, G, B^T of a variant (WinogradErrorTest's copies; F(4x4) on the points 0, 1, -1, 1/2, -2, infinity). */
    static double[][][] matrices(WinogradVec.Variant v) {
        return v == F2 ? new double[][][]{WinogradErrorTest.AT2, WinogradErrorTest.G2, WinogradErrorTest.BT2}
                : new double[][][]{WinogradErrorTest.AT4, WinogradErrorTest.G4, WinogradErrorTest.BT4};
    }

    /** The derived per-output tolerance (class comment), NCHW order. */
    static double[] bound(WinogradVec.Variant v, ConvShape s, MemorySegment x, MemorySegment w, MemorySegment b) {
        double[][][] mats = matrices(v);
        double[][] AT = mats[0], G = mats[1], BT = mats[2];
        int mt = v.outputTile(), at = v.inputTile(), xis = at * at;
        int N = s.n(), C = s.c(), H = s.h(), W = s.w(), K = s.k(), cg = s.cg(), kg = s.kg(), P = s.p(), Q = s.q();
        int th = (P + mt - 1) / mt, tw = (Q + mt - 1) / mt;
        double[] ua = new double[K * cg * xis]; // |G||g||G^T| per (k, c)
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < cg; c++) {
                for (int i = 0; i < at; i++) {
                    for (int j = 0; j < at; j++) {
                        double acc = 0;
                        for (int r = 0; r < 3; r++) {
                            for (int t = 0; t < 3; t++) {
                                acc += Math.abs(G[i][r]) * Math.abs(w.getAtIndex(JAVA_FLOAT, (((long) k * cg + c) * 3 + r) * 3 + t)) * Math.abs(G[j][t]);
                            }
                        }
                        ua[(k * cg + c) * xis + i * at + j] = acc;
                    }
                }
            }
        }
        double[] tol = new double[(int) s.outputSize()];
        double[] va = new double[C * th * tw * xis]; // |B^T||d||B| per (c, tile), one image at a time
        double[] d = new double[xis];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int ty = 0; ty < th; ty++) {
                    for (int tx = 0; tx < tw; tx++) {
                        for (int a = 0; a < at; a++) {
                            for (int e = 0; e < at; e++) {
                                int y = mt * ty + a - 1, xx = mt * tx + e - 1;
                                d[a * at + e] = y < 0 || y >= H || xx < 0 || xx >= W ? 0
                                        : Math.abs(x.getAtIndex(JAVA_FLOAT, (((long) n * C + c) * H + y) * W + xx));
                            }
                        }
                        int vo = ((c * th + ty) * tw + tx) * xis;
                        for (int i = 0; i < at; i++) {
                            for (int j = 0; j < at; j++) {
                                double acc = 0;
                                for (int a = 0; a < at; a++) {
                                    for (int e = 0; e < at; e++) acc += Math.abs(BT[i][a]) * d[a * at + e] * Math.abs(BT[j][e]);
                                }
                                va[vo + i * at + j] = acc;
                            }
                        }
                    }
                }
            }
            double[] m = new double[xis];
            int n1 = v.roundings() + 2; // roundings besides C/G, the reference's, and one for second-order terms
            for (int k = 0; k < K; k++) {
                int c0 = k / kg * cg;
                double bk = b == null ? 0 : Math.abs(b.getAtIndex(JAVA_FLOAT, k));
                for (int ty = 0; ty < th; ty++) {
                    for (int tx = 0; tx < tw; tx++) {
                        java.util.Arrays.fill(m, 0);
                        for (int c = 0; c < cg; c++) {
                            int uo = (k * cg + c) * xis, vo = (((c0 + c) * th + ty) * tw + tx) * xis;
                            for (int xi = 0; xi < xis; xi++) m[xi] += ua[uo + xi] * va[vo + xi];
                        }
                        for (int i = 0; i < mt; i++) {
                            for (int j = 0; j < mt; j++) {
                                int p = mt * ty + i, q = mt * tx + j;
                                if (p >= P || q >= Q) continue;
                                double mag = 0;
                                for (int a = 0; a < at; a++) {
                                    for (int e = 0; e < at; e++) mag += Math.abs(AT[i][a]) * m[a * at + e] * Math.abs(AT[j][e]);
                                }
                                tol[(int) ((((long) n * K + k) * P + p) * Q + q)] = (cg + n1) * U * (1 + 1e-3) * (mag + bk);
                            }
                        }
                    }
                }
            }
        }
        return tol;
    }

    /** WinogradVec on a team of {@code threads}, NCHW in and out (through the reorders). */
    static float[] run(WinogradVec.Variant v, Arena arena, ConvShape s, Nhwc inL, Nhwc outL, Tensor x, Tensor wt, Tensor b, boolean relu,
                       int threads, int chunk) {
        int n = s.n();
        MemorySegment in = arena.allocate(n * inL.imageFloats() * 4, 64), out = arena.allocate(n * outL.imageFloats() * 4, 64);
        MemorySegment got = arena.allocate(s.outputSize() * 4, 64);
        out.fill((byte) 0x7f); // garbage: every output must be written
        Reorders.nchwToNhwc(in, inL, x.data(), n, 0, Reorders.units(n, inL));
        try (ThreadTeam team = new ThreadTeam(threads)) {
            WinogradVec conv = new WinogradVec(v, s, inL, outL, wt.data(), b == null ? null : b.data(), relu, threads, arena, chunk);
            team.run((m, ms) -> conv.forward(out, in, m, ms));
            team.run((m, ms) -> conv.forward(out, in, m, ms)); // twice: no state between runs
        }
        Reorders.nhwcToNchw(got, out, outL, n, 0, Reorders.units(n, outL));
        return got.toArray(JAVA_FLOAT);
    }

    /** One shape against ConvRef within the derived bound; returns the agreement figure. */
    static Agreement check(WinogradVec.Variant v, Random rnd, ConvShape s, int inPad, int outPad, float xScale, boolean halfNormal, float wScale,
                           boolean bias, boolean relu, int threads, int chunk) {
        try (Arena arena = Arena.ofShared()) {
            Tensor x = random(arena, rnd, xScale, s.n(), s.c(), s.h(), s.w());
            if (halfNormal) for (long i = 0; i < x.size(); i++) x.set(i, Math.abs(x.get(i)));
            Tensor wt = random(arena, rnd, wScale, s.k(), s.cg(), 3, 3);
            Tensor b = bias ? random(arena, rnd, 0.5f * wScale, s.k()) : null;
            MemorySegment want = arena.allocate(s.outputSize() * 4);
            ConvRef.forward(want, x.data(), wt.data(), b == null ? null : b.data(), s, relu);
            Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), inPad, inPad), outL = new Nhwc(s.k(), s.p(), s.q(), outPad, outPad);
            float[] got = run(v, arena, s, inL, outL, x, wt, b, relu, threads, chunk);
            float[] w = want.toArray(JAVA_FLOAT);
            String what = v + " " + s + " relu=" + relu + " threads=" + threads + " chunk=" + chunk;
            assertClose(what, w, got, bound(v, s, x.data(), wt.data(), b == null ? null : b.data()));
            return Agreement.of(got, w, Agreement.FP32_BOUND);
        }
    }

    @Test
    void randomShapesHoldTheDerivedBound() {
        for (WinogradVec.Variant v : WinogradVec.Variant.values()) {
            Random rnd = new Random(16);
            for (int i = 0; i < 40; i++) {
                int groups = 1 + rnd.nextInt(3), cg = 1 + rnd.nextInt(37), kg = 1 + rnd.nextInt(37);
                int n = 1 + rnd.nextInt(3), h = 1 + rnd.nextInt(14), w = 1 + rnd.nextInt(14);
                int chunk = new int[]{1, 3, 7, 64}[rnd.nextInt(4)];
                ConvShape s = ConvShape.of(n, cg * groups, h, w, kg * groups, 3, 1, 1, groups);
                check(v, rnd, s, 1 + rnd.nextInt(2), rnd.nextInt(2), 1f, false, 0.5f, rnd.nextBoolean(), rnd.nextBoolean(), 1 + (i & 1), chunk);
            }
        }
    }

    @Test
    void channelCountsAroundTheVectorWidth() {
        for (WinogradVec.Variant v : WinogradVec.Variant.values()) {
            Random rnd = new Random(17);
            int[][] ck = {{16, 16}, {17, 15}, {31, 33}, {48, 47}, {64, 130}};
            for (int i = 0; i < ck.length; i++) {
                check(v, rnd, ConvShape.of(2, ck[i][0], 7, 6, ck[i][1], 3, 1, 1, 1), 1, 0, 1f, false, 0.5f, true, true, 1 + (i & 1), 5);
            }
        }
    }

    /**
     * conv3, conv4, conv5 at their AlexNet shapes (13x13, groups 1, 2, 2) with He-init weights (N(0, 2 / fan_in))
     * on post-ReLU (half-normal) inputs: the derived bound and the agreement bound, at batch 1 and 2, both variants.
     */
    @Test
    void alexNetLayersWithHeInitWeights() {
        int[][] layers = {{256, 384, 1}, {384, 384, 2}, {384, 256, 2}};
        String[] names = {"conv3", "conv4", "conv5"};
        for (WinogradVec.Variant v : WinogradVec.Variant.values()) {
            Random rnd = new Random(18);
            for (int i = 0; i < layers.length; i++) {
                int c = layers[i][0], k = layers[i][1], g = layers[i][2];
                float he = (float) Math.sqrt(2.0 / (c / g * 9));
                for (int batch = 1; batch <= 2; batch++) {
                    ConvShape s = ConvShape.of(batch, c, 13, 13, k, 3, 1, 1, g);
                    Agreement a = check(v, rnd, s, 1, 1, 1f, true, he, true, true, 2, v.chunk());
                    System.out.printf("[winograd] %s %s batch %d He init: max rel error %.3g (bound %.0e), max abs %.3g%n",
                            v, names[i], batch, a.maxRel(), Agreement.FP32_BOUND, a.maxAbs());
                    assertTrue(a.pass(), v + " " + names[i] + " batch " + batch + ": " + a);
                }
            }
        }
    }

    /** Tiles are independent and each output's summation order is fixed by the shape: same bits on any split. */
    @Test
    void sameBitsOnAnyThreadCountAndChunk() {
        ConvShape s = ConvShape.of(3, 40, 9, 11, 50, 3, 1, 1, 2);
        for (WinogradVec.Variant v : WinogradVec.Variant.values()) {
            Random rnd = new Random(19);
            try (Arena arena = Arena.ofShared()) {
                Tensor x = random(arena, rnd, 1f, s.n(), s.c(), s.h(), s.w());
                Tensor wt = random(arena, rnd, 0.3f, s.k(), s.cg(), 3, 3);
                Tensor b = random(arena, rnd, 0.3f, s.k());
                Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), 1, 1), outL = Nhwc.of(s.k(), s.p(), s.q());
                float[] base = run(v, arena, s, inL, outL, x, wt, b, false, 1, 64);
                int[][] runs = {{2, 64}, {2, 5}, {1, 1}, {2, 13}};
                for (int[] r : runs) {
                    float[] got = run(v, arena, s, inL, outL, x, wt, b, false, r[0], r[1]);
                    for (int i = 0; i < base.length; i++) {
                        if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(base[i])) {
                            fail(v + " threads " + r[0] + ", chunk " + r[1] + ": output " + i + " is " + got[i] + ", one thread gave " + base[i]);
                        }
                    }
                }
            }
        }
    }

    /** Through JavaDevice: the option picks the algorithm, and each Winograd program holds its derived bound. */
    @Test
    void deviceOptionSelectsWinograd() {
        Random rnd = new Random(20);
        JavaDevice.Options wino = new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD);
        JavaDevice.Options wino4 = new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD4);
        JavaDevice.Options direct = new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT);
        int[][] shapes = {{2, 48, 13, 13, 64, 2}, {1, 35, 8, 5, 21, 1}, {3, 64, 6, 7, 96, 1}};
        for (int i = 0; i < shapes.length; i++) {
            int[] sh = shapes[i];
            try (Arena arena = Arena.ofShared()) {
                LayerSpec.Conv spec = new LayerSpec.Conv("conv", sh[1], sh[2], sh[3], sh[4], 3, 1, 1, sh[5], true);
                ConvShape s = spec.shape(sh[0]);
                Tensor x = random(arena, rnd, 1f, s.n(), s.c(), s.h(), s.w());
                Tensor wt = random(arena, rnd, 0.3f, s.k(), s.cg(), 3, 3);
                Tensor b = random(arena, rnd, 0.3f, s.k());
                MemorySegment want = arena.allocate(s.outputSize() * 4);
                ConvRef.forward(want, x.data(), wt.data(), b.data(), s, true);
                List<Layer> layers = List.of(new Layer(spec, wt, b));
                float[] w2 = runDevice(JavaDevice.Kernels.VECTOR, 1 + (i & 1), wino, layers, s.n(), x.data());
                float[] w4 = runDevice(JavaDevice.Kernels.VECTOR, 1 + (i & 1), wino4, layers, s.n(), x.data());
                float[] d = runDevice(JavaDevice.Kernels.VECTOR, 1 + (i & 1), direct, layers, s.n(), x.data());
                float[] r = want.toArray(JAVA_FLOAT);
                assertClose("java " + s + " winograd", r, w2, bound(F2, s, x.data(), wt.data(), b.data()));
                assertClose("java " + s + " winograd4", r, w4, bound(F4, s, x.data(), wt.data(), b.data()));
                assertTrue(differ(w2, d), s + ": WINOGRAD and DIRECT gave the same bits, so the option did not switch the algorithm");
                assertTrue(differ(w4, d) && differ(w4, w2), s + ": WINOGRAD4 gave the bits of another algorithm");
            }
        }
    }

    private static boolean differ(float[] a, float[] b) {
        for (int j = 0; j < a.length; j++) if (Float.floatToRawIntBits(a[j]) != Float.floatToRawIntBits(b[j])) return true;
        return false;
    }

    @Test
    void optionsAndTheAutoRule() {
        JavaDevice.Options auto = JavaDevice.Options.DEFAULT;
        assertEquals(JavaDevice.ConvAlgorithm.AUTO, auto.conv3x3());
        assertEquals(F4, auto.winogradVariant(ConvShape.of(32, 256, 13, 13, 384, 3, 1, 1, 1)));   // conv3, batch 32
        assertEquals(F4, auto.winogradVariant(ConvShape.of(JavaDevice.Options.WINOGRAD4_MIN_BATCH, 384, 13, 13, 256, 3, 1, 1, 2)));
        assertEquals(F2, auto.winogradVariant(ConvShape.of(JavaDevice.Options.WINOGRAD4_MIN_BATCH - 1, 384, 13, 13, 256, 3, 1, 1, 2)));
        assertEquals(F2, auto.winogradVariant(ConvShape.of(1, 384, 13, 13, 256, 3, 1, 1, 2)));    // conv5, batch 1
        assertFalse(auto.winograd(ConvShape.of(1, 3, 227, 227, 96, 11, 4, 0, 1)));   // conv1
        assertFalse(auto.winograd(ConvShape.of(1, 96, 27, 27, 256, 5, 1, 2, 2)));    // conv2
        assertFalse(auto.winograd(ConvShape.of(1, 3, 32, 32, 64, 3, 1, 1, 1)));      // 3 input channels: transforms dominate
        assertFalse(new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD).winograd(ConvShape.of(1, 16, 9, 9, 16, 3, 2, 1, 1)));
        assertFalse(new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD4).winograd(ConvShape.of(1, 16, 9, 9, 16, 3, 2, 1, 1)));
        assertFalse(new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT).winograd(ConvShape.of(1, 256, 13, 13, 384, 3, 1, 1, 1)));
        assertEquals(F2, new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD).winogradVariant(ConvShape.of(1, 3, 9, 9, 4, 3, 1, 1, 1)));
        assertEquals(F4, new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD4).winogradVariant(ConvShape.of(1, 3, 9, 9, 4, 3, 1, 1, 1)));

        String key = JavaDevice.Options.CONV3X3_PROPERTY, old = System.getProperty(key);
        try {
            System.setProperty(key, "Winograd");
            assertEquals(JavaDevice.ConvAlgorithm.WINOGRAD, JavaDevice.Options.fromSystemProperties().conv3x3());
            System.setProperty(key, "winograd4");
            assertEquals(JavaDevice.ConvAlgorithm.WINOGRAD4, JavaDevice.Options.fromSystemProperties().conv3x3());
            System.setProperty(key, "direct");
            assertEquals(JavaDevice.ConvAlgorithm.DIRECT, JavaDevice.Options.fromSystemProperties().conv3x3());
            System.setProperty(key, "fft");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, JavaDevice.Options::fromSystemProperties);
            assertTrue(e.getMessage().contains("use direct, winograd, winograd4 or auto"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(key);
            else System.setProperty(key, old);
        }
        for (WinogradVec.Variant v : WinogradVec.Variant.values()) {
            assertThrows(IllegalArgumentException.class, () -> new WinogradVec(v, ConvShape.of(1, 4, 5, 5, 4, 3, 1, 0, 1),
                    new Nhwc(4, 5, 5, 1, 1), Nhwc.of(4, 3, 3), null, null, false, 1, Arena.global()));
        }
    }

    /**
     * The whole network (batch 1, one random image) with He-init weights, and with the golden (counter) weights
     * on the golden input: the Vector API device with each Winograd variant on conv3-conv5 against the
     * reference, within the agreement bound on the logits; the direct path's figure is printed beside them.
     */
    @Test
    void wholeNetworkWithHeInitAndGoldenWeights() {
        try (Arena arena = Arena.ofShared(); AlexNetWeights he = AlexNetWeights.init(AlexNetWeights.Init.HE, 7, AlexNetSpec.CLASSES);
             AlexNetWeights golden = AlexNetWeights.counter()) {
            Tensor img = random(arena, new Random(21), 1f, 1, 3, 227, 227);
            long count = 3L * 227 * 227;
            MemorySegment counterImg = arena.allocate(count * Float.BYTES, 64);
            CounterInit.fill(counterImg, count, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
            for (var c : List.of(java.util.Map.entry("He init", he), java.util.Map.entry("golden", golden))) {
                AlexNetWeights weights = c.getValue();
                MemorySegment x = c.getValue() == he ? img.data() : counterImg;
                float[] ref = logits(weights, new JavaDevice(1, JavaDevice.Kernels.REFERENCE), x, arena);
                float[] direct = logits(weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR,
                        new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT)), x, arena);
                Agreement ad = Agreement.of(direct, ref, Agreement.FP32_BOUND);
                StringBuilder line = new StringBuilder();
                for (JavaDevice.ConvAlgorithm alg : List.of(JavaDevice.ConvAlgorithm.WINOGRAD, JavaDevice.ConvAlgorithm.WINOGRAD4)) {
                    float[] wino = logits(weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR, new JavaDevice.Options(alg)), x, arena);
                    Agreement aw = Agreement.of(wino, ref, Agreement.FP32_BOUND);
                    line.append(String.format("%s max rel %.3g, ", alg.name().toLowerCase(java.util.Locale.ROOT), aw.maxRel()));
                    assertTrue(aw.pass(), alg + " network, " + c.getKey() + ": " + aw);
                }
                System.out.printf("[winograd] network %s, logits: %sdirect max rel %.3g (bound %.0e)%n",
                        c.getKey(), line, ad.maxRel(), Agreement.FP32_BOUND);
            }
        }
    }

    private static float[] logits(AlexNetWeights weights, JavaDevice device, MemorySegment images, Arena arena) {
        try (SingleDeviceNetwork net = new SingleDeviceNetwork(AlexNetSpec.PAPER, weights, device, true)) {
            MemorySegment out = arena.allocate((long) AlexNetSpec.CLASSES * Float.BYTES, 64);
            net.forward(images, out, 1);
            return out.toArray(JAVA_FLOAT);
        }
    }
}
