package dev.alexnet.model;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * Non-finite input values (NaN, +-Inf). The backends disagree about them (a max-pooling or ReLU may drop
 * a NaN on one and keep it on another), so the networks make the answer the same everywhere: the logits
 * of an image whose input holds any non-finite value are NaN on every device, and the other images of the
 * batch are unaffected. The command line warns once per run with {@link #scan}.
 */
public final class NonFinite {
    private NonFinite() {}

    private static final int EXPONENT = 0x7f800000; // all exponent bits set: Inf or NaN

    /** How many of the first {@code floats} values are non-finite, and the index of the first (-1 if none). */
    public record Scan(long count, long first) {
        public boolean any() { return count > 0; }
    }

    public static Scan scan(MemorySegment seg, long floats) {
        long count = 0, first = -1;
        for (long i = 0; i < floats; i++) {
            if ((seg.getAtIndex(JAVA_INT_UNALIGNED, i) & EXPONENT) == EXPONENT) {
                if (count++ == 0) first = i;
            }
        }
        return new Scan(count, first);
    }

    /** Whether floats [from, from + n) hold a non-finite value. */
    static boolean anyIn(MemorySegment seg, long from, long n) {
        for (long i = from; i < from + n; i++) {
            if ((seg.getAtIndex(JAVA_INT_UNALIGNED, i) & EXPONENT) == EXPONENT) return true;
        }
        return false;
    }

    /**
     * Sets row {@code n} of {@code logits} ([batch, classes]) to NaN for every image {@code n} of {@code images}
     * ([batch, perImage]) that holds a non-finite value; returns how many rows it set.
     */
    static int poisonRows(MemorySegment images, long perImage, MemorySegment logits, long classes, int batch) {
        int rows = 0;
        for (int n = 0; n < batch; n++) {
            if (anyIn(images, n * perImage, perImage)) {
                for (long k = 0; k < classes; k++) logits.setAtIndex(JAVA_FLOAT_UNALIGNED, n * classes + k, Float.NaN);
                rows++;
            }
        }
        return rows;
    }
}
