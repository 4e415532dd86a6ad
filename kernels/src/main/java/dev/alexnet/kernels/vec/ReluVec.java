package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

    /**
     * Elements [from, to) of {@link dev.alexnet.kernels.ref.ReluRef#backward}: gradIn = out > 0 ? gradOut : 0
     * (a select, so bitwise equal to the reference); in place allowed (gradIn == gradOut).
     */
    public static void backward(MemorySegment gradIn, MemorySegment gradOut, MemorySegment out, long from, long to) {
        Checks.floats(out, to, "relu output");
        Checks.floats(gradOut, to, "relu output gradient");
        Checks.floats(gradIn, to, "relu input gradient");
        FloatVector zero = FloatVector.zero(S);
        long i = from;
        for (; i + 2L * L <= to; i += 2L * L) {
            long b = i * Float.BYTES;
            FloatVector o0 = FloatVector.fromMemorySegment(S, out, b, NO), o1 = FloatVector.fromMemorySegment(S, out, b + L * 4L, NO);
            FloatVector g0 = FloatVector.fromMemorySegment(S, gradOut, b, NO), g1 = FloatVector.fromMemorySegment(S, gradOut, b + L * 4L, NO);
            zero.blend(g0, o0.compare(VectorOperators.GT, 0f)).intoMemorySegment(gradIn, b, NO);
            zero.blend(g1, o1.compare(VectorOperators.GT, 0f)).intoMemorySegment(gradIn, b + L * 4L, NO);
        }
        for (; i < to; i += L) {
            var m = S.indexInRange(i, to);
            long b = i * Float.BYTES;
            FloatVector o = FloatVector.fromMemorySegment(S, out, b, NO, m), g = FloatVector.fromMemorySegment(S, gradOut, b, NO, m);
            zero.blend(g, o.compare(VectorOperators.GT, 0f)).intoMemorySegment(gradIn, b, NO, m);
        }
    }
}
