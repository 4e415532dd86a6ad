package dev.alexnet.kernels.vec;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
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
 * {@link Winograd5Vec} (F(2x2, 5x5)) against {@link ConvRef}, per output, with a tolerance derived from its
 * arithmetic. With unit roundoff u and, per tile, d the zero-padded 6x6 input window and g a filter:
 * V = B^T d B rounds four times (two passes, each result two roundings deep), U = G g G^T once (computed in
 * double), the GEMM sums C/G products with one rounding each, the output transform A^T M A rounds six times
 * (two passes, three deep), the bias add once and the reference's double result once when it becomes float.
 * So |y - y_ref| <= (C/G + 13) u (Mag + |bias|) to first order, where
 * Mag = |A^T| (sum_c |G||g||G^T| .* |B^T||d||B|) |A| is computed here in double (it also bounds |y|); the
 * test uses (C/G + 14) u (1 + 1e-3) to cover second-order terms (n u < 1e-4 here). On AlexNet's conv2 (paper
 * and torchvision shapes) and the whole network with He-init weights it also holds the output to the
 * project's agreement bound ({@link Agreement#FP32_BOUND}) and prints the measured error.
 */
class Winograd5VecTest {
    static final double[][] BT = {
            {4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
            {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    static final double[][] G = Winograd5Vec.G;
    static final double[][] AT = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}};

    /** 1D: y = A^T [(G g) .* (B^T d)] is the correlation y_i = sum_k g_k d_(i+k), exact up to double rounding. */
    @Test
    void transformsAreExactInDouble() {
        Random rnd = new Random(50);
        for (int trial = 0; trial < 200; trial++) {
            double[] g = new double[5], d = new double[6];
            for (int k = 0; k < 5; k++) g[k] = rnd.nextGaussian();
            for (int l = 0; l < 6; l++) d[l] = rnd.nextGaussian();
            double[] gg = new double[6], bd = new double[6];
            for (int j = 0; j < 6; j++) {
                for (int k = 0; k < 5; k++) gg[j] += G[j][k] * g[k];
                for (int l = 0; l < 6; l++) bd[j] += BT[j][l] * d[l];
            }
            for (int i = 0; i < 2; i++) {
                double y = 0, want = 0, mag = 0;
                for (int j = 0; j < 6; j++) y += AT[i][j] * gg[j] * bd[j];
                for (int k = 0; k < 5; k++) {
                    want += g[k] * d[i + k];
                    mag += Math.abs(g[k] * d[i + k]);
                }
                // the transforms' worst-case magnification is 58 per output (class comment of Winograd5Vec): 1e-13 is far below a wrong matrix's O(1)
                assertEquals(want, y, 1e-13 * (mag + 1), "1D output " + i + ", trial " + trial);
            }
        }
        // 2D: A^T [(G g G^T) .* (B^T d B)] A against the 5x5 correlation of a 6x6 window
        for (int trial = 0; trial < 50; trial++) {
            double[][] g = new double[5][5], d = new double[6][6];
            for (double[] row : g) for (int k = 0; k < 5; k++) row[k] = rnd.nextGaussian();
            for (double[] row : d) for (int l = 0; l < 6; l++) row[l] = rnd.nextGaussian();
            double[][] u = mul(mul(G, g), transpose(G)), v = mul(mul(BT, d), transpose(BT)), m = new double[6][6];
            for (int i = 0; i < 6; i++) for (int j = 0; j < 6; j++) m[i][j] = u[i][j] * v[i][j];
            double[][] y = mul(mul(AT, m), transpose(AT));
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    double want = 0, mag = 0;
                    for (int a = 0; a < 5; a++) {
                        for (int b = 0; b < 5; b++) {
                            want += g[a][b] * d[i + a][j + b];
                            mag += Math.abs(g[a][b] * d[i + a][j + b]);
                        }
                    }
                    assertEquals(want, y[i][j], 1e-12 * (mag + 1), "2D output (" + i + ", " + j + "), trial " + trial);
                }
            }
        }
    }

    private static double[][] mul(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b[0].length; j++) {
                for (int k = 0; k < b.length; k++) c[i][j] += a[i][k] * b[k][j];
            }
        }
        return c;
    }

    private static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) t[j][i] = a[i][j];
        return t;
    }

    /** The derived per-output tolerance (class comment), NCHW order. */
    static double[] bound(ConvShape s, MemorySegment x, MemorySegment w, MemorySegment b) {
        int N = s.n(), C = s.c(), H = s.h(), W = s.w(), K = s.k(), cg = s.cg(), kg = s.kg(), P = s.p(), Q = s.q();
        int th = (P + 1) / 2, tw = (Q + 1) / 2;
        double[] ua = new double[K * cg * 36]; // |G||g||G^T| per (k, c)
        double[] gw = new double[30];
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < cg; c++) {
                for (int i = 0; i < 6; i++) {
                    for (int t = 0; t < 5; t++) {
                        double acc = 0;
                        for (int r = 0; r < 5; r++) acc += Math.abs(G[i][r]) * Math.abs(w.getAtIndex(JAVA_FLOAT, (((long) k * cg + c) * 5 + r) * 5 + t));
                        gw[i * 5 + t] = acc;
                    }
                }
                for (int i = 0; i < 6; i++) {
                    for (int j = 0; j < 6; j++) {
                        double acc = 0;
                        for (int t = 0; t < 5; t++) acc += gw[i * 5 + t] * Math.abs(G[j][t]);
                        ua[(k * cg + c) * 36 + i * 6 + j] = acc;
                    }
                }
            }
        }
        double[] tol = new double[(int) s.outputSize()];
        double[] va = new double[C * th * tw * 36]; // |B^T||d||B| per (c, tile), one image at a time
        double[] d = new double[36], bd = new double[36];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int ty = 0; ty < th; ty++) {
                    for (int tx = 0; tx < tw; tx++) {
                        for (int a = 0; a < 6; a++) {
                            for (int e = 0; e < 6; e++) {
                                int y = 2 * ty + a - 2, xx = 2 * tx + e - 2;
                                d[a * 6 + e] = y < 0 || y >= H || xx < 0 || xx >= W ? 0
                                        : Math.abs(x.getAtIndex(JAVA_FLOAT, (((long) n * C + c) * H + y) * W + xx));
                            }
                        }
                        for (int i = 0; i < 6; i++) {
                            for (int e = 0; e < 6; e++) {
                                double acc = 0;
                                for (int a = 0; a < 6; a++) acc += Math.abs(BT[i][a]) * d[a * 6 + e];
                                bd[i * 6 + e] = acc;
                            }
                        }
                        int vo = ((c * th + ty) * tw + tx) * 36;
                        for (int i = 0; i < 6; i++) {
                            for (int j = 0; j < 6; j++) {
                                double acc = 0;
                                for (int e = 0; e < 6; e++) acc += bd[i * 6 + e] * Math.abs(BT[j][e]);
                                va[vo + i * 6 + j] = acc;
                            }
                        }
                    }
                }
            }
            double[] m = new double[36];
            for (int k = 0; k < K; k++) {
                int c0 = k / kg * cg;
                double bk = b == null ? 0 : Math.abs(b.getAtIndex(JAVA_FLOAT, k));
                for (int ty = 0; ty < th; ty++) {
                    for (int tx = 0; tx < tw; tx++) {
                        java.util.Arrays.fill(m, 0);
                        for (int c = 0; c < cg; c++) {
                            int uo = (k * cg + c) * 36, vo = (((c0 + c) * th + ty) * tw + tx) * 36;
                            for (int xi = 0; xi < 36; xi++) m[xi] += ua[uo + xi] * va[vo + xi];
                        }
                        for (int i = 0; i < 2; i++) {
                            for (int j = 0; j < 2; j++) {
                                int p = 2 * ty + i, q = 2 * tx + j;
                                if (p >= P || q >= Q) continue;
                                double mag = 0;
                                for (int a = 0; a < 6; a++) {
                                    for (int e = 0; e < 6; e++) mag += Math.abs(AT[i][a]) * m[a * 6 + e] * Math.abs(AT[j][e]);
                                }
                                tol[(int) ((((long) n * K + k) * P + p) * Q + q)] = (cg + 14) * U * (1 + 1e-3) * (mag + bk);
                            }
                        }
                    }
                }
            }
        }
        return tol;
    }

    /** Winograd5Vec on a team of {@code threads}, NCHW in and out (through the reorders). */
    static float[] run(Arena arena, ConvShape s, Nhwc inL, Nhwc outL, Tensor x, Tensor wt, Tensor b, boolean relu, int threads, int chunk) {
        int n = s.n();
        MemorySegment in = arena.allocate(n * inL.imageFloats() * 4, 64), out = arena.allocate(n * outL.imageFloats() * 4, 64);
        MemorySegment got = arena.allocate(s.outputSize() * 4, 64);
        out.fill((byte) 0x7f); // garbage: every output must be written
        Reorders.nchwToNhwc(in, inL, x.data(), n, 0, Reorders.units(n, inL));
        try (ThreadTeam team = new ThreadTeam(threads)) {
            Winograd5Vec conv = new Winograd5Vec(s, inL, outL, wt.data(), b == null ? null : b.data(), relu, threads, arena, chunk);
            team.run((m, ms) -> conv.forward(out, in, m, ms));
            team.run((m, ms) -> conv.forward(out, in, m, ms)); // twice: no state between runs
        }
        Reorders.nhwcToNchw(got, out, outL, n, 0, Reorders.units(n, outL));
        return got.toArray(JAVA_FLOAT);
    }

    /** One shape against ConvRef within the derived bound; returns the agreement figure. */
    static Agreement check(Random rnd, ConvShape s, int inPad, int outPad, boolean halfNormal, float wScale,
                           boolean bias, boolean relu, int threads, int chunk) {
        try (Arena arena = Arena.ofShared()) {
            Tensor x = random(arena, rnd, 1f, s.n(), s.c(), s.h(), s.w());
            if (halfNormal) for (long i = 0; i < x.size(); i++) x.set(i, Math.abs(x.get(i)));
            Tensor wt = random(arena, rnd, wScale, s.k(), s.cg(), 5, 5);
            Tensor b = bias ? random(arena, rnd, 0.5f * wScale, s.k()) : null;
            MemorySegment want = arena.allocate(s.outputSize() * 4);
            ConvRef.forward(want, x.data(), wt.data(), b == null ? null : b.data(), s, relu);
            Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), inPad, inPad), outL = new Nhwc(s.k(), s.p(), s.q(), outPad, outPad);
            float[] got = run(arena, s, inL, outL, x, wt, b, relu, threads, chunk);
            float[] w = want.toArray(JAVA_FLOAT);
            String what = s + " relu=" + relu + " threads=" + threads + " chunk=" + chunk + " inPad=" + inPad;
            assertClose(what, w, got, bound(s, x.data(), wt.data(), b == null ? null : b.data()));
            return Agreement.of(got, w, Agreement.FP32_BOUND);
        }
    }

    /** Groups 1-3, odd and tiny maps (1x1 up), batch 1-3, channel counts off the vector width, one and several panels. */
    @Test
    void randomShapesHoldTheDerivedBound() {
        Random rnd = new Random(51);
        for (int i = 0; i < 40; i++) {
            int groups = 1 + rnd.nextInt(3), cg = 1 + rnd.nextInt(37), kg = 1 + rnd.nextInt(i % 4 == 0 ? 140 : 37);
            int n = 1 + rnd.nextInt(3), h = 1 + rnd.nextInt(14), w = 1 + rnd.nextInt(14);
            int chunk = new int[]{1, 3, 7, 24}[rnd.nextInt(4)];
            ConvShape s = ConvShape.of(n, cg * groups, h, w, kg * groups, 5, 1, 2, groups);
            check(rnd, s, 2 + rnd.nextInt(2), rnd.nextInt(2), false, 0.3f, rnd.nextBoolean(), rnd.nextBoolean(), 1 + (i & 1), chunk);
        }
    }

    @Test
    void channelCountsAroundTheVectorWidth() {
        Random rnd = new Random(52);
        int[][] ck = {{16, 16, 1}, {17, 15, 1}, {31, 33, 1}, {48, 47, 1}, {64, 130, 1}, {96, 160, 2}, {32, 200, 1}};
        for (int i = 0; i < ck.length; i++) {
            check(rnd, ConvShape.of(2, ck[i][0], 7, 6, ck[i][1], 5, 1, 2, ck[i][2]), 2, 0, false, 0.3f, true, i % 3 != 0, 1 + (i & 1), 5);
        }
    }

    /**
     * conv2 at its AlexNet shapes (27x27; the paper's 96 -> 256 in two groups, torchvision's 64 -> 192) with He-init
     * weights (N(0, 2 / fan_in)) on post-ReLU (half-normal) inputs: the derived bound and the agreement bound,
     * at batch 1 and 2.
     */
    @Test
    void alexNetConv2WithHeInitWeights() {
        Random rnd = new Random(53);
        int[][] layers = {{96, 256, 2}, {64, 192, 1}};
        String[] names = {"conv2 (paper)", "conv2 (torchvision)"};
        for (int i = 0; i < layers.length; i++) {
            int c = layers[i][0], k = layers[i][1], g = layers[i][2];
            float he = (float) Math.sqrt(2.0 / (c / g * 25));
            for (int batch = 1; batch <= 2; batch++) {
                ConvShape s = ConvShape.of(batch, c, 27, 27, k, 5, 1, 2, g);
                Agreement a = check(rnd, s, 2, 0, true, he, true, true, 2, Winograd5Vec.CHUNK);
                System.out.printf("[winograd5] %s batch %d He init: max rel error %.3g (bound %.0e), max abs %.3g%n",
                        names[i], batch, a.maxRel(), Agreement.FP32_BOUND, a.maxAbs());
                assertTrue(a.pass(), names[i] + " batch " + batch + ": " + a);
            }
        }
    }

    /** Tiles are independent and each output's summation order is fixed by the shape: same bits on any split. */
    @Test
    void sameBitsOnAnyThreadCountAndChunk() {
        Random rnd = new Random(54);
        ConvShape s = ConvShape.of(3, 40, 9, 11, 150, 5, 1, 2, 2);
        try (Arena arena = Arena.ofShared()) {
            Tensor x = random(arena, rnd, 1f, s.n(), s.c(), s.h(), s.w());
            Tensor wt = random(arena, rnd, 0.3f, s.k(), s.cg(), 5, 5);
            Tensor b = random(arena, rnd, 0.3f, s.k());
            Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), 2, 2), outL = Nhwc.of(s.k(), s.p(), s.q());
            float[] base = run(arena, s, inL, outL, x, wt, b, false, 1, 24);
            int[][] runs = {{2, 24}, {2, 5}, {1, 1}, {2, 13}, {1, 1000}};
            for (int[] r : runs) {
                float[] got = run(arena, s, inL, outL, x, wt, b, false, r[0], r[1]);
                for (int i = 0; i < base.length; i++) {
                    if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(base[i])) {
                        fail("threads " + r[0] + ", chunk " + r[1] + ": output " + i + " is " + got[i] + ", one thread gave " + base[i]);
                    }
                }
            }
        }
    }

    /** Through JavaDevice: the option picks the algorithm, and the Winograd program holds the derived bound. */
    @Test
    void deviceOptionSelectsWinograd5() {
        Random rnd = new Random(55);
        JavaDevice.Options wino = new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO, JavaDevice.ConvAlgorithm.WINOGRAD);
        JavaDevice.Options direct = new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO, JavaDevice.ConvAlgorithm.DIRECT);
        int[][] shapes = {{2, 48, 13, 13, 64, 2}, {1, 35, 8, 5, 21, 1}, {3, 64, 6, 7, 96, 1}};
        for (int i = 0; i < shapes.length; i++) {
            int[] sh = shapes[i];
            try (Arena arena = Arena.ofShared()) {
                LayerSpec.Conv spec = new LayerSpec.Conv("conv", sh[1], sh[2], sh[3], sh[4], 5, 1, 2, sh[5], true);
                ConvShape s = spec.shape(sh[0]);
                Tensor x = random(arena, rnd, 1f, s.n(), s.c(), s.h(), s.w());
                Tensor wt = random(arena, rnd, 0.3f, s.k(), s.cg(), 5, 5);
                Tensor b = random(arena, rnd, 0.3f, s.k());
                MemorySegment want = arena.allocate(s.outputSize() * 4);
                ConvRef.forward(want, x.data(), wt.data(), b.data(), s, true);
                List<Layer> layers = List.of(new Layer(spec, wt, b));
                float[] w = runDevice(JavaDevice.Kernels.VECTOR, 1 + (i & 1), wino, layers, s.n(), x.data());
                float[] d = runDevice(JavaDevice.Kernels.VECTOR, 1 + (i & 1), direct, layers, s.n(), x.data());
                assertClose("java " + s + " winograd5", want.toArray(JAVA_FLOAT), w, bound(s, x.data(), wt.data(), b.data()));
                boolean differ = false;
                for (int j = 0; j < w.length && !differ; j++) differ = Float.floatToRawIntBits(w[j]) != Float.floatToRawIntBits(d[j]);
                assertTrue(differ, s + ": WINOGRAD and DIRECT gave the same bits, so the option did not switch the algorithm");
            }
        }
    }

    @Test
    void optionsAndTheAutoRule() {
        JavaDevice.Options auto = JavaDevice.Options.DEFAULT;
        assertEquals(JavaDevice.ConvAlgorithm.AUTO, auto.conv5x5());
        ConvShape paper = ConvShape.of(32, 96, 27, 27, 256, 5, 1, 2, 2), torchvision = ConvShape.of(1, 64, 27, 27, 192, 5, 1, 2, 1);
        JavaDevice.Options w5 = new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT, JavaDevice.ConvAlgorithm.WINOGRAD);
        assertTrue(w5.winograd5(paper));
        assertTrue(w5.winograd5(torchvision));
        assertFalse(w5.winograd(ConvShape.of(1, 256, 13, 13, 384, 3, 1, 1, 1)), "conv5x5 does not change the 3x3 choice");
        assertFalse(w5.winograd5(ConvShape.of(1, 3, 227, 227, 96, 11, 4, 0, 1)));     // conv1
        assertFalse(w5.winograd5(ConvShape.of(1, 16, 9, 9, 16, 5, 2, 2, 1)));         // stride 2
        assertFalse(w5.winograd5(ConvShape.of(1, 16, 9, 9, 16, 5, 1, 1, 1)));         // pad 1
        assertFalse(w5.winograd5(ConvShape.of(1, 256, 13, 13, 384, 3, 1, 1, 1)));     // 3x3
        assertFalse(new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD).winograd5(paper), "a forced 3x3 algorithm keeps 5x5 direct");
        assertEquals(JavaDevice.Options.DEFAULT, new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO), "AUTO alone is the default");
        assertFalse(new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO, JavaDevice.ConvAlgorithm.DIRECT).winograd5(paper));
        assertTrue(auto.winograd5(paper));
        assertTrue(auto.winograd5(torchvision));
        assertFalse(auto.winograd5(ConvShape.of(32, 32, 27, 27, 32, 5, 1, 2, 1)), "few channels: the transforms dominate");

        assertEquals("java:2", new JavaDevice(2, JavaDevice.Kernels.VECTOR, auto).name());
        assertEquals("java:1/winograd5", new JavaDevice(1, JavaDevice.Kernels.VECTOR,
                new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO, JavaDevice.ConvAlgorithm.WINOGRAD)).name());
        assertEquals("java:1/direct", new JavaDevice(1, JavaDevice.Kernels.VECTOR, new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT)).name());
        assertEquals("java:1/direct/winograd5", new JavaDevice(1, JavaDevice.Kernels.VECTOR, w5).name());

        String key = JavaDevice.Options.CONV5X5_PROPERTY, old = System.getProperty(key);
        try {
            System.setProperty(key, "Winograd");
            assertEquals(JavaDevice.ConvAlgorithm.WINOGRAD, JavaDevice.Options.fromSystemProperties().conv5x5());
            System.setProperty(key, "direct");
            assertEquals(JavaDevice.ConvAlgorithm.DIRECT, JavaDevice.Options.fromSystemProperties().conv5x5());
            System.setProperty(key, "fft");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, JavaDevice.Options::fromSystemProperties);
            assertTrue(e.getMessage().contains("-Dalexnet.java.conv5x5=fft is not an algorithm: use direct, winograd or auto"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(key);
            else System.setProperty(key, old);
        }
        assertThrows(IllegalArgumentException.class, () -> new Winograd5Vec(ConvShape.of(1, 4, 5, 5, 4, 5, 1, 1, 1),
                new Nhwc(4, 5, 5, 2, 2), Nhwc.of(4, 3, 3), null, null, false, 1, Arena.global()));
        assertThrows(IllegalArgumentException.class, () -> new Winograd5Vec(ConvShape.of(1, 4, 5, 5, 4, 5, 1, 2, 1),
                new Nhwc(4, 5, 5, 1, 1), Nhwc.of(4, 5, 5), null, null, false, 1, Arena.global()), "a border of 1 is too narrow");
    }

    /**
     * The whole network (batch 1, one random image) with He-init weights: the Vector API device with
     * F(2x2, 5x5) on conv2 (and the default 3x3 choice) against the reference, within the agreement bound on
     * the logits; the direct path's figure is printed beside it.
     */
    @Test
    void wholeNetworkWithHeInitWeights() {
        try (Arena arena = Arena.ofShared(); AlexNetWeights weights = AlexNetWeights.init(AlexNetWeights.Init.HE, 7, AlexNetSpec.CLASSES)) {
            Random rnd = new Random(56);
            Tensor img = random(arena, rnd, 1f, 1, 3, 227, 227);
            float[] ref = logits(weights, new JavaDevice(1, JavaDevice.Kernels.REFERENCE), img.data(), arena);
            float[] w5 = logits(weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR,
                    new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO, JavaDevice.ConvAlgorithm.WINOGRAD)), img.data(), arena);
            float[] w5only = logits(weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR,
                    new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT, JavaDevice.ConvAlgorithm.WINOGRAD)), img.data(), arena);
            float[] direct = logits(weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR,
                    new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT)), img.data(), arena);
            Agreement a5 = Agreement.of(w5, ref, Agreement.FP32_BOUND), a5only = Agreement.of(w5only, ref, Agreement.FP32_BOUND);
            Agreement ad = Agreement.of(direct, ref, Agreement.FP32_BOUND);
            System.out.printf("[winograd5] network He init, logits: conv2 F(2x2,5x5) + conv3-5 default max rel %.3g, conv2 F(2x2,5x5) only %.3g, "
                    + "all direct %.3g (bound %.0e)%n", a5.maxRel(), a5only.maxRel(), ad.maxRel(), Agreement.FP32_BOUND);
            assertTrue(a5.pass(), "winograd5 network: " + a5);
            assertTrue(a5only.pass(), "winograd5-only network: " + a5only);
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
