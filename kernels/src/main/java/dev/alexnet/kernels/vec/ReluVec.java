package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * ReLU with the semantics of {@link dev.alexnet.kernels.ref.ReluRef} (in place allowed). The networks
 * fuse ReLU into the convolution and linear stores; this standalone form is for other layer lists.
 * Unrolled 4x: a pure load-max-store stream is bound by memory, the unroll only hides loop overhead.
 */
public final class ReluVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();

    private ReluVec() {}

    /** Elements [from, to). */
    public static void forward(MemorySegment out, MemorySegment in, long from, long to) {
        Checks.floats(in, to, "relu input");
        Checks.floats(out, to, "relu output");
        long i = from;
        for (; i + 4L * L <= to; i += 4L * L) {
            long b = i * Float.BYTES;
            FloatVector v0 = FloatVector.fromMemorySegment(S, in, b, NO);
            FloatVector v1 = FloatVector.fromMemorySegment(S, in, b + L * 4L, NO);
            FloatVector v2 = FloatVector.fromMemorySegment(S, in, b + L * 8L, NO);
            FloatVector v3 = FloatVector.fromMemorySegment(S, in, b + L * 12L, NO);
            v0.max(0f).intoMemorySegment(out, b, NO);
            v1.max(0f).intoMemorySegment(out, b + L * 4L, NO);
            v2.max(0f).intoMemorySegment(out, b + L * 8L, NO);
            v3.max(0f).intoMemorySegment(out, b + L * 12L, NO);
        }
        for (; i < to; i += L) {
            var m = S.indexInRange(i, to);
            FloatVector.fromMemorySegment(S, in, i * Float.BYTES, NO, m).max(0f).intoMemorySegment(out, i * Float.BYTES, NO, m);
        }
    }

    public static void forward(MemorySegment out, MemorySegment in, long count) {
        forward(out, in, 0, count);
    }
}
