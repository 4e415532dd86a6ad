package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;
import java.util.random.RandomGenerator;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Dropout (inverted): at inference the identity; in training each element is zeroed with probability
 * {@code p} and the survivors scaled by 1/(1-p), so inference needs no rescaling. The mask (0 or
 * 1/(1-p) per element) is written to {@code mask} when given, for the backward pass.
 */
public final class DropoutRef {
    private DropoutRef() {}

    public static void forward(MemorySegment out, MemorySegment in, MemorySegment mask, long count,
                               float p, boolean training, RandomGenerator rng) {
        Checks.floats(in, count, "dropout input");
        Checks.floats(out, count, "dropout output");
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout probability must be in [0,1): " + p);
        if (!training) {
            MemorySegment.copy(in, 0, out, 0, count * Float.BYTES); // overlap-safe, a no-op in place
            return;
        }
        if (mask != null) Checks.floats(mask, count, "dropout mask");
        float keep = 1f / (1f - p);
        for (long i = 0; i < count; i++) {
            float m = rng.nextFloat() < p ? 0f : keep;
            if (mask != null) mask.setAtIndex(JAVA_FLOAT, i, m);
            out.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) * m);
        }
    }
}
