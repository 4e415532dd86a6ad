package dev.alexnet.foundation;

import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.ReluRef;
import dev.alexnet.kernels.ref.SoftmaxRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference kernels on cases small enough to work out by hand. */
class HandWorkedKernelTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() { arena.close(); }

    private Tensor t(float[] v, int... shape) { return Tensor.of(arena, v, shape); }

    // ---------------------------------------------------------------- the oracles sum in double

    /**
     * 1 + 1000 x 2^-25: in float each 2^-25 is below half an ulp of 1 and vanishes (the sum stays 1); in double the
     * sum is exact, 1 + 2^-15 * 0.9765625, and rounds once to the nearest float. The golden cases cannot show this
     * (their counter values are short binary fractions that float sums exactly), so it is checked here, for the
     * convolution and the linear oracle, with and without the bias carrying the 1.
     */
    @Test
    void oraclesAccumulateInDouble() {
        int n = 1001;
        float[] x = new float[n], w = new float[n];
        x[0] = 1f;
        for (int i = 1; i < n; i++) x[i] = 0x1p-25f;
        java.util.Arrays.fill(w, 1f);
        float want = (float) (1 + 1000 * 0x1p-25);
        assertTrue(want > 1f, "the double sum must show in float");
        Tensor y = Tensor.allocate(arena, 1);
        ConvRef.forward(y.data(), t(x, 1, n, 1, 1).data(), t(w, 1, n, 1, 1).data(), null, ConvShape.of(1, n, 1, 1, 1, 1, 1, 0, 1), false);
        assertEquals(want, y.get(0), "conv: 1 + 1000 * 2^-25");
        LinearRef.forward(y.data(), t(x, 1, n).data(), t(w, 1, n).data(), null, new LinearShape(1, n, 1), false);
        assertEquals(want, y.get(0), "linear: 1 + 1000 * 2^-25");
        // the 1 in the bias, the small terms in the products
        float[] small = java.util.Arrays.copyOf(x, n);
        small[0] = 0x1p-25f;
        float want2 = (float) (1 + n * 0x1p-25);
        ConvRef.forward(y.data(), t(small, 1, n, 1, 1).data(), t(w, 1, n, 1, 1).data(), t(new float[] {1f}, 1).data(), ConvShape.of(1, n, 1, 1, 1, 1, 1, 0, 1), false);
        assertEquals(want2, y.get(0), "conv with bias 1");
        LinearRef.forward(y.data(), t(small, 1, n).data(), t(w, 1, n).data(), t(new float[] {1f}, 1).data(), new LinearShape(1, n, 1), false);
        assertEquals(want2, y.get(0), "linear with bias 1");
    }

    // ---------------------------------------------------------------- LRN

    private float[] lrn(float[] in, int c, LrnParams p, int groups) {
        Tensor x = t(in, 1, c, 1, 1), y = Tensor.allocate(arena, 1, c, 1, 1);
        LrnRef.forward(y.data(), x.data(), new LrnShape(1, c, 1, 1, p, groups));
        return y.toArray();
    }

    @Test
    void lrnCheckValueFromTheDesign() {
        // channels [1, 3, 2, 1.5, 0.5], k=2, n=5, alpha=1e-4, beta=0.75; channel 1's window is channels 0..3:
        // 1 + 9 + 4 + 2.25 = 16.25, so b = 3 / (2 + 1e-4*16.25)^0.75 = 1.782724...
        float[] b = lrn(new float[] {1, 3, 2, 1.5f, 0.5f}, 5, LrnParams.PAPER, 1);
        assertEquals(1.78272, b[1], 1e-5);
        assertEquals(3 / Math.pow(2 + 1e-4 * 16.25, 0.75), b[1], 2e-7);
        assertFalse(Math.abs(b[1] - 1.69) < 0.01, "the 1.69 in one seed note is wrong arithmetic");
        // the other channels: windows clipped at the edges
        double[] sums = {1 + 9 + 4, 16.25, 16.5, 9 + 4 + 2.25 + 0.25, 2.25 + 0.25 + 4};
        float[] a = {1, 3, 2, 1.5f, 0.5f};
        for (int c = 0; c < 5; c++) assertEquals(a[c] / Math.pow(2 + 1e-4 * sums[c], 0.75), b[c], 2e-7, "channel " + c);
    }

    @Test
    void lrnAlphaOverSizeConvention() {
        assertEquals(1e-4f, LrnParams.PAPER.scale());
        assertEquals(5e-4f, LrnParams.PAPER.libraryAlpha(), 1e-10f, "libraries that divide by n get alpha*n");
        float[] in = {1, 3, 2, 1.5f, 0.5f};
        // Library convention with alpha*n: the paper's function.
        LrnParams lib = new LrnParams(5, 2f, LrnParams.PAPER.libraryAlpha(), 0.75f, true);
        assertEquals(LrnParams.PAPER.scale(), lib.scale(), 2e-11f);
        assertEquals(lib.alpha(), lib.libraryAlpha());
        float[] paper = lrn(in, 5, LrnParams.PAPER, 1), viaLib = lrn(in, 5, lib, 1);
        for (int c = 0; c < 5; c++) assertEquals(paper[c], viaLib[c], Math.ulp(paper[c]), "channel " + c);
        // Library convention with the paper's 1e-4 (the classic mistake): 3 / (2 + 2e-5*16.25)^0.75 = 1.783593...
        float[] wrong = lrn(in, 5, new LrnParams(5, 2f, 1e-4f, 0.75f, true), 1);
        assertEquals(1.7835933, wrong[1], 2e-6);
        assertTrue(Math.abs(wrong[1] - paper[1]) > 5e-4, "the two conventions must differ visibly");
    }

    @Test
    void lrnWindowStopsAtTheTowerBoundary() {
        // n=5, k=2, alpha=1, beta=1 (large alpha to make the window visible); channels [1,2,3,4].
        LrnParams p = new LrnParams(5, 2f, 1f, 1f, false);
        float[] in = {1, 2, 3, 4};
        float[] all = lrn(in, 4, p, 1), towers = lrn(in, 4, p, 2);
        assertEquals(2.0 / (2 + 30), all[1], 1e-7);     // window 0..3: 1+4+9+16
        assertEquals(2.0 / (2 + 5), towers[1], 1e-7);   // tower A is channels 0..1: 1+4
        assertEquals(3.0 / (2 + 25), towers[2], 1e-7);  // tower B is channels 2..3: 9+16
        assertEquals(3.0 / (2 + 30), all[2], 1e-7);
    }

    @Test
    void lrnRejectsAnEvenWindow() {
        assertThrows(IllegalArgumentException.class, () -> new LrnParams(4, 2f, 1e-4f, 0.75f, false));
        assertThrows(IllegalArgumentException.class, () -> new LrnShape(1, 5, 1, 1, LrnParams.PAPER, 2));
    }

    // ---------------------------------------------------------------- convolution

    private static final float[] X33 = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    private static final float[] DIAG = {1, 0, 0, -1}; // out = x[p,q] - x[p+1,q+1] (cross-correlation)

    private float[] conv(float[] x, float[] w, float[] b, ConvShape s, boolean relu) {
        Tensor out = Tensor.allocate(arena, s.n(), s.k(), s.p(), s.q());
        ConvRef.forward(out.data(), t(x, s.n(), s.c(), s.h(), s.w()).data(), t(w, s.k(), s.cg(), s.r(), s.s()).data(),
                b == null ? null : t(b, s.k()).data(), s, relu);
        return out.toArray();
    }

    @Test
    void tinyConvByHand() {
        ConvShape s = ConvShape.of(1, 1, 3, 3, 1, 2, 1, 0, 1);
        assertEquals(2, s.p());
        // every 2x2 window: x[p,q] - x[p+1,q+1] = -4, plus bias 0.5
        assertArrayEquals(new float[] {-3.5f, -3.5f, -3.5f, -3.5f}, conv(X33, DIAG, new float[] {0.5f}, s, false));
        assertArrayEquals(new float[] {0, 0, 0, 0}, conv(X33, DIAG, new float[] {0.5f}, s, true), "fused ReLU");
        assertArrayEquals(new float[] {-4, -4, -4, -4}, conv(X33, DIAG, null, s, false), "no bias");
    }

    @Test
    void paddedAndStridedConvByHand() {
        // pad 1: out[p,q] = X(p-1,q-1) - X(p,q), zeros outside
        ConvShape s = ConvShape.of(1, 1, 3, 3, 1, 2, 1, 1, 1);
        assertEquals(4, s.p());
        assertArrayEquals(new float[] {
                -1, -2, -3, 0,
                -4, -4, -4, 3,
                -7, -4, -4, 6,
                0, 7, 8, 9}, conv(X33, DIAG, null, s, false));
        // stride 2 picks rows/columns 0 and 2 of that
        ConvShape s2 = ConvShape.of(1, 1, 3, 3, 1, 2, 2, 1, 1);
        assertEquals(2, s2.p());
        assertArrayEquals(new float[] {-1, -3, -7, -4}, conv(X33, DIAG, null, s2, false));
    }

    @Test
    void groupedConvReadsOnlyItsGroup() {
        // C=2, K=4, groups=2, 1x1: outputs 0,1 read channel 0 only; outputs 2,3 channel 1 only.
        ConvShape s = ConvShape.of(1, 2, 1, 2, 4, 1, 1, 0, 2);
        float[] x = {1, 2, /* channel 1 */ 10, 20};
        float[] w = {1, 2, 3, 4};
        assertArrayEquals(new float[] {1, 2, 2, 4, 30, 60, 40, 80}, conv(x, w, null, s, false));
        assertArrayEquals(new float[] {2, 3, 3, 5, 29, 59, 39, 79}, conv(x, w, new float[] {1, 1, -1, -1}, s, false));
    }

    @Test
    void multiChannelConvSumsOverChannels() {
        // C=3, 1x1 kernel [1, 10, 100]: out = x0 + 10 x1 + 100 x2; batch 2 keeps images apart
        ConvShape s = ConvShape.of(2, 3, 1, 1, 1, 1, 1, 0, 1);
        assertArrayEquals(new float[] {321, 654}, conv(new float[] {1, 2, 3, 4, 5, 6}, new float[] {1, 10, 100}, null, s, false));
    }

    @Test
    void alexNetOutputSizes() {
        assertEquals(55, ConvShape.of(1, 3, 227, 227, 96, 11, 4, 0, 1).p());
        assertEquals(55, ConvShape.of(1, 3, 224, 224, 96, 11, 4, 2, 1).p());
        assertEquals(27, new PoolShape(1, 96, 55, 55, 3, 2, 0).p());
        assertEquals(13, new PoolShape(1, 256, 27, 27, 3, 2, 0).p());
        assertEquals(6, new PoolShape(1, 256, 13, 13, 3, 2, 0).p());
        assertEquals(105_415_200L, ConvShape.of(1, 3, 227, 227, 96, 11, 4, 0, 1).macs());
        assertEquals(223_948_800L, ConvShape.of(1, 96, 27, 27, 256, 5, 1, 2, 2).macs());
    }

    // ---------------------------------------------------------------- pooling

    private float[] pool(float[] x, PoolShape s) {
        Tensor out = Tensor.allocate(arena, s.n(), s.c(), s.p(), s.q());
        MaxPoolRef.forward(out.data(), t(x, s.n(), s.c(), s.h(), s.w()).data(), s);
        return out.toArray();
    }

    private static float[] iota(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return v;
    }

    @Test
    void poolingByHand() {
        assertArrayEquals(new float[] {5, 7, 13, 15}, pool(iota(16), new PoolShape(1, 1, 4, 4, 2, 2, 0)));
        // overlapping 3x3 stride 2 on 5x5: windows start at 0 and 2
        assertArrayEquals(new float[] {12, 14, 22, 24}, pool(iota(25), new PoolShape(1, 1, 5, 5, 3, 2, 0)));
        // two channels pooled independently
        float[] two = new float[32];
        for (int i = 0; i < 16; i++) { two[i] = i; two[16 + i] = -i; }
        assertArrayEquals(new float[] {5, 7, 13, 15, 0, -2, -8, -10}, pool(two, new PoolShape(1, 2, 4, 4, 2, 2, 0)));
    }

    @Test
    void paddingNeverWinsTheMax() {
        // all negative, pad 1: the answer is the largest real element, not the zero padding
        assertArrayEquals(new float[] {-1}, pool(new float[] {-4, -3, -2, -1}, new PoolShape(1, 1, 2, 2, 3, 2, 1)));
        float[] neg = iota(9);
        for (int i = 0; i < 9; i++) neg[i] = -1 - i; // -1 .. -9 on 3x3
        // windows (pad 1, k 3, s 2) cover rows/cols {-1,0,1} and {1,2,3}
        assertArrayEquals(new float[] {-1, -2, -4, -5}, pool(neg, new PoolShape(1, 1, 3, 3, 3, 2, 1)));
    }

    // ---------------------------------------------------------------- linear, ReLU

    @Test
    void linearByHand() {
        LinearShape s = new LinearShape(1, 3, 2);
        Tensor x = t(new float[] {1, 2, 3}, 1, 3), w = t(new float[] {1, 0, -1, 2, 2, 2}, 2, 3), b = t(new float[] {0.5f, -10}, 2);
        Tensor y = Tensor.allocate(arena, 1, 2);
        LinearRef.forward(y.data(), x.data(), w.data(), b.data(), s, false);
        assertArrayEquals(new float[] {-1.5f, 2}, y.toArray());
        LinearRef.forward(y.data(), x.data(), w.data(), b.data(), s, true);
        assertArrayEquals(new float[] {0, 2}, y.toArray());
        LinearRef.forward(y.data(), x.data(), w.data(), null, s, false);
        assertArrayEquals(new float[] {-2, 12}, y.toArray());
    }

    @Test
    void reluInPlace() {
        Tensor x = t(new float[] {-1, 0, 2, -0.5f, Float.MIN_VALUE}, 5);
        ReluRef.forward(x.data(), x.data(), 5);
        assertArrayEquals(new float[] {0, 0, 2, 0, Float.MIN_VALUE}, x.toArray());
    }

    // ---------------------------------------------------------------- softmax

    private float[] softmax(float[] x, int rows, int cols) {
        Tensor y = Tensor.allocate(arena, rows, cols);
        SoftmaxRef.forward(y.data(), t(x, rows, cols).data(), rows, cols);
        return y.toArray();
    }

    @Test
    void softmaxByHand() {
        float[] y = softmax(new float[] {0, (float) Math.log(2)}, 1, 2);
        assertEquals(1 / 3.0, y[0], 1e-7);
        assertEquals(2 / 3.0, y[1], 1e-7);
        // huge logits: max subtraction, no overflow
        assertArrayEquals(new float[] {0.5f, 0.5f}, softmax(new float[] {1000, 1000}, 1, 2));
        y = softmax(new float[] {-1000, 0}, 1, 2);
        assertEquals(0, y[0]);
        assertEquals(1, y[1]);
        // uniform row
        float[] u = softmax(new float[] {3, 3, 3, 3}, 1, 4);
        for (float v : u) assertEquals(0.25f, v);
    }

    @Test
    void softmaxRowsSumToOneAndIgnoreShifts() {
        int rows = 4, cols = 1000;
        float[] x = new float[rows * cols], shifted = new float[rows * cols];
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) { x[i] = (float) (rng.nextGaussian() * 5); shifted[i] = x[i] + 64; }
        float[] y = softmax(x, rows, cols), z = softmax(shifted, rows, cols);
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                float v = y[r * cols + c];
                assertTrue(v >= 0 && v <= 1, "probability " + v);
                sum += v;
                // x + 64 is exact only to float rounding of x: allow the relative error it causes
                assertEquals(v, z[r * cols + c], 2e-5 * v + Float.MIN_NORMAL);
            }
            assertEquals(1.0, sum, 1e-5, "row " + r);
        }
    }
}
