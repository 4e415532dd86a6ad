package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.DropoutMask;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Inverted dropout over [rows, features], the oracle: element (n, i) is multiplied by
 * {@link DropoutMask#factor}(n, i), 0 or 1/(1-p), so inference (a null mask) is the identity. The backward
 * pass multiplies the gradient by the same factor. In place is allowed.
 */
public final class DropoutRef {
    private DropoutRef() {}

    /** out = in * mask; {@code mask == null} (inference) copies. */
    public static void forward(MemorySegment out, MemorySegment in, int rows, int features, DropoutMask mask) {
        apply(out, in, rows, features, mask, "dropout input", "dropout output");
    }

    /** gradIn = gradOut * mask, the same multiplier as the forward pass. */
    public static void backward(MemorySegment gradIn, MemorySegment gradOut, int rows, int features, DropoutMask mask) {
        apply(gradIn, gradOut, rows, features, mask, "dropout output gradient", "dropout input gradient");
    }

    private static void apply(MemorySegment dst, MemorySegment src, int rows, int features, DropoutMask mask, String srcName, String dstName) {
        if (rows <= 0 || features <= 0) throw new IllegalArgumentException("bad dropout shape: " + rows + " rows of " + features);
        long count = (long) rows * features;
        Checks.floats(src, count, srcName);
        Checks.floats(dst, count, dstName);
        if (mask == null) {
            MemorySegment.copy(src, 0, dst, 0, count * Float.BYTES); // overlap-safe, a no-op in place
            return;
        }
        if (features + mask.offset() > mask.total()) throw new IllegalArgumentException("dropout mask covers features up to " + mask.total() + ", needs " + (features + mask.offset()));
        for (int n = 0; n < rows; n++) {
            for (int i = 0; i < features; i++) {
                long e = (long) n * features + i;
                dst.setAtIndex(JAVA_FLOAT, e, src.getAtIndex(JAVA_FLOAT, e) * mask.factor(n, i));
            }
        }
    }
}
