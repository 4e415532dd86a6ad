package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** ReLU, the oracle: out[i] = max(in[i], 0). In place is allowed (out == in, gradIn == gradOut). */
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

    /** gradIn[i] = out[i] > 0 ? gradOut[i] : 0, from the forward's output (a NaN output passes no gradient). */
    public static void backward(MemorySegment gradIn, MemorySegment gradOut, MemorySegment out, long count) {
        Checks.floats(out, count, "relu output");
        Checks.floats(gradOut, count, "relu output gradient");
        Checks.floats(gradIn, count, "relu input gradient");
        for (long i = 0; i < count; i++) {
            gradIn.setAtIndex(JAVA_FLOAT, i, out.getAtIndex(JAVA_FLOAT, i) > 0 ? gradOut.getAtIndex(JAVA_FLOAT, i) : 0f);
        }
    }
}
