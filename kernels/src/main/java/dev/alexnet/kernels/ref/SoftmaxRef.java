package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Row-wise softmax over [rows, cols], the oracle: max-subtracted, exponentials summed in double. */
public final class SoftmaxRef {
    private SoftmaxRef() {}

    public static void forward(MemorySegment out, MemorySegment in, int rows, int cols) {
        Checks.floats(in, (long) rows * cols, "softmax input");
        Checks.floats(out, (long) rows * cols, "softmax output");
        for (int r = 0; r < rows; r++) {
            long base = (long) r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, in.getAtIndex(JAVA_FLOAT, base + c));
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.exp(in.getAtIndex(JAVA_FLOAT, base + c) - max);
            for (int c = 0; c < cols; c++) {
                out.setAtIndex(JAVA_FLOAT, base + c, (float) (Math.exp(in.getAtIndex(JAVA_FLOAT, base + c) - max) / sum));
            }
        }
    }
}
