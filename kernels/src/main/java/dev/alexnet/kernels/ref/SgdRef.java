package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The paper's update rule (section 5), the oracle, in double:
 * {@code v <- momentum * v - decay * lr * w - lr * g}, then {@code w <- w + v}.
 */
public final class SgdRef {
    private SgdRef() {}

    public static void update(MemorySegment w, MemorySegment v, MemorySegment g, long count, float lr, float momentum, float decay) {
        Checks.floats(w, count, "parameters");
        Checks.floats(v, count, "momentum");
        Checks.floats(g, count, "gradients");
        for (long i = 0; i < count; i++) {
            double wi = w.getAtIndex(JAVA_FLOAT, i);
            double vi = (double) momentum * v.getAtIndex(JAVA_FLOAT, i) - (double) decay * lr * wi - (double) lr * g.getAtIndex(JAVA_FLOAT, i);
            v.setAtIndex(JAVA_FLOAT, i, (float) vi);
            w.setAtIndex(JAVA_FLOAT, i, (float) (wi + (float) vi));
        }
    }
}
