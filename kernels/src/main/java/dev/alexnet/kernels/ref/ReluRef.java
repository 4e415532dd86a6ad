package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** ReLU, the oracle: out[i] = max(in[i], 0). In place is allowed (out == in). */
public final class ReluRef {
    private ReluRef() {}

    public static void forward(MemorySegment out, MemorySegment in, long count) {
        Checks.floats(in, count, "relu input");
        Checks.floats(out, count, "relu output");
        for (long i = 0; i < count; i++) {
            float v = in.getAtIndex(JAVA_FLOAT, i);
            out.setAtIndex(JAVA_FLOAT, i, v < 0 ? 0 : v);
        }
    }
}
