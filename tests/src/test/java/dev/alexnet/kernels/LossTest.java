package dev.alexnet.kernels;

import dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.alexnet.kernels.PoolLrnBackwardTest.seg;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Softmax cross-entropy, the reference: a hand-worked value, finite differences, huge logits, bad labels. */
class LossTest {
    private static final double U = Math.ulp(1f) / 2;

    static MemorySegment labels(Arena arena, int... y) {
        MemorySegment s = arena.allocate((long) y.length * Integer.BYTES, 64);
        for (int i = 0; i < y.length; i++) s.setAtIndex(JAVA_INT, i, y[i]);
        return s;
    }

    /**
     * Row 0: z = (1, 2, 3), y = 2: -log(e^3 / (e + e^2 + e^3)) = log(1 + e^-1 + e^-2) = 0.4076059644...;
     * row 1: z = (0, 0, 0), y = 0: log 3 = 1.0986122887...; the mean 0.7531091265...; the gradient of the
     * mean is (softmax - onehot) / 2: softmax(1, 2, 3) = (0.0900306, 0.2447285, 0.6652410).
     */
    @Test
    void handWorked() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment grad = arena.allocate(6 * 4);
            double loss = SoftmaxCrossEntropyRef.loss(seg(arena, new float[] {1, 2, 3, 0, 0, 0}), labels(arena, 2, 0), grad, 2, 3);
            assertEquals(0.7531091265, loss, 1e-9);
            float[] want = {0.0900306f / 2, 0.2447285f / 2, (0.6652410f - 1) / 2, (1 / 3f - 1) / 2, 1 / 6f, 1 / 6f};
            for (int i = 0; i < 6; i++) assertEquals(want[i], grad.getAtIndex(JAVA_FLOAT, i), 1e-7, "gradient " + i);
            assertEquals(0.7531091265, SoftmaxCrossEntropyRef.loss(seg(arena, new float[] {1, 2, 3, 0, 0, 0}), labels(arena, 2, 0), null, 2, 3), 1e-9);
        }
    }

    /**
     * Logits are multiples of 1/64 and h = 2^-12, so z +- h is exact in float; central differences of the
     * double loss: truncation h^2/6 |L'''| (|L'''| <= 1 for softmax) plus rounding 2^-52 |L| / h, both below
     * 1e-7; the gradient is rounded to float (u |g|).
     */
    @Test
    void gradientMatchesFiniteDifferences() {
        Random rnd = new Random(3);
        for (int[] rc : new int[][] {{1, 1}, {3, 5}, {4, 17}, {2, 40}}) {
            int rows = rc[0], cols = rc[1];
            float[] z = new float[rows * cols];
            int[] y = new int[rows];
            for (int i = 0; i < z.length; i++) z[i] = Math.round(rnd.nextGaussian() * 2 * 64) / 64f;
            for (int r = 0; r < rows; r++) y[r] = rnd.nextInt(cols);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment logits = seg(arena, z), lab = labels(arena, y), grad = arena.allocate(z.length * 4L);
                SoftmaxCrossEntropyRef.loss(logits, lab, grad, rows, cols);
                double h = 0x1p-12;
                for (int i = 0; i < z.length; i++) {
                    logits.setAtIndex(JAVA_FLOAT, i, (float) (z[i] + h));
                    double lp = SoftmaxCrossEntropyRef.loss(logits, lab, null, rows, cols);
                    logits.setAtIndex(JAVA_FLOAT, i, (float) (z[i] - h));
                    double lm = SoftmaxCrossEntropyRef.loss(logits, lab, null, rows, cols);
                    logits.setAtIndex(JAVA_FLOAT, i, z[i]);
                    double fd = (lp - lm) / (2 * h);
                    assertEquals(fd, grad.getAtIndex(JAVA_FLOAT, i), 1e-7 + U * Math.abs(fd), rows + "x" + cols + " logit " + i);
                }
            }
        }
    }

    /** Logits of 1e4: exp would overflow without the max subtraction; the loss and gradient stay exact. */
    @Test
    void stableForHugeLogits() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment grad = arena.allocate(6 * 4);
            // row 0: label on the 0 between 1e4 and -1e4 -> loss 1e4 (+ log(1 + e^-1e4 + e^-2e4) = 0); row 1: label on the max -> 0
            double loss = SoftmaxCrossEntropyRef.loss(seg(arena, new float[] {1e4f, 0, -1e4f, 1e4f, 0, -1e4f}), labels(arena, 1, 0), grad, 2, 3);
            assertEquals(5000, loss, 0);
            float[] want = {0.5f, -0.5f, 0, 0, 0, 0};
            for (int i = 0; i < 6; i++) assertEquals(want[i], grad.getAtIndex(JAVA_FLOAT, i), 0, "gradient " + i);
        }
    }

    @Test
    void rejectsLabelsOutsideTheClasses() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment z = seg(arena, new float[6]);
            var e = assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropyRef.loss(z, labels(arena, 0, 3), null, 2, 3));
            assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("label 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropyRef.loss(z, labels(arena, -1, 0), null, 2, 3));
            assertTrue(e.getMessage().contains("row 0") && e.getMessage().contains("label -1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropyRef.loss(z, labels(arena, 0), null, 2, 3));
        }
    }
}
