package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Softmax fused with cross-entropy over [rows, cols] logits and one JAVA_INT label per row, the oracle:
 * everything in double, max-subtracted, so logits of any finite size give finite losses and gradients.
 */
public final class SoftmaxCrossEntropyRef {
    private SoftmaxCrossEntropyRef() {}

    /**
     * The mean over rows of -log softmax(z)[y] = log sum_c exp(z_c - max) - (z_y - max). When
     * {@code gradLogits} is not null it receives (softmax(z) - onehot(y)) / rows, the gradient of that mean.
     */
    public static double loss(MemorySegment logits, MemorySegment labels, MemorySegment gradLogits, int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("bad softmax cross-entropy shape: " + rows + " rows of " + cols);
        Checks.floats(logits, (long) rows * cols, "logits");
        if (labels == null || labels.byteSize() < (long) rows * Integer.BYTES) throw new IllegalArgumentException("labels need " + rows + " ints");
        if (gradLogits != null) Checks.floats(gradLogits, (long) rows * cols, "logit gradient");
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int y = label(labels, r, cols);
            long base = (long) r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, logits.getAtIndex(JAVA_FLOAT, base + c));
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.exp(logits.getAtIndex(JAVA_FLOAT, base + c) - max);
            total += Math.log(sum) - (logits.getAtIndex(JAVA_FLOAT, base + y) - max);
            if (gradLogits != null) {
                for (int c = 0; c < cols; c++) {
                    double p = Math.exp(logits.getAtIndex(JAVA_FLOAT, base + c) - max) / sum;
                    gradLogits.setAtIndex(JAVA_FLOAT, base + c, (float) ((p - (c == y ? 1 : 0)) / rows));
                }
            }
        }
        return total / rows;
    }

    /** Row r's label, checked to lie in [0, cols). */
    public static int label(MemorySegment labels, int r, int cols) {
        int y = labels.getAtIndex(JAVA_INT, r);
        if (y < 0 || y >= cols) throw new IllegalArgumentException("label " + y + " of row " + r + " is outside [0, " + cols + ")");
        return y;
    }
}
