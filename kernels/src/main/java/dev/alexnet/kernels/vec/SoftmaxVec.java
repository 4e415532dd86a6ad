package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Row-wise softmax with the semantics of {@link dev.alexnet.kernels.ref.SoftmaxRef} (max subtracted):
 * three vector passes per row (max, exp and sum with the exponentials stored, scale by 1/sum).
 * Differs from the reference by the float sum (L lane sums of cols/L terms, then a lane reduction)
 * and exp's 1 ulp.
 */
public final class SoftmaxVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();

    private SoftmaxVec() {}

    /** Rows [r0, r1) of [rows][cols]; in place allowed. */
    public static void forward(MemorySegment out, MemorySegment in, int cols, int r0, int r1) {
        Checks.floats(in, (long) r1 * cols, "softmax input");
        Checks.floats(out, (long) r1 * cols, "softmax output");
        for (int r = r0; r < r1; r++) {
            long base = (long) r * cols * Float.BYTES;
            FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int c = 0; c < cols; c += L) {
                VectorMask<Float> m = S.indexInRange(c, cols);
                mx = mx.max(FloatVector.fromMemorySegment(S, in, base + c * 4L, NO, m).blend(Float.NEGATIVE_INFINITY, m.not()));
            }
            float max = mx.reduceLanes(VectorOperators.MAX);
            FloatVector sum = FloatVector.zero(S);
            for (int c = 0; c < cols; c += L) {
                VectorMask<Float> m = S.indexInRange(c, cols);
                FloatVector e = FloatVector.fromMemorySegment(S, in, base + c * 4L, NO, m).sub(max).lanewise(VectorOperators.EXP);
                e = e.blend(0f, m.not());
                sum = sum.add(e);
                e.intoMemorySegment(out, base + c * 4L, NO, m);
            }
            float inv = 1f / sum.reduceLanes(VectorOperators.ADD);
            for (int c = 0; c < cols; c += L) {
                VectorMask<Float> m = S.indexInRange(c, cols);
                FloatVector.fromMemorySegment(S, out, base + c * 4L, NO, m).mul(inv).intoMemorySegment(out, base + c * 4L, NO, m);
            }
        }
    }

    public static void forward(MemorySegment out, MemorySegment in, int rows, int cols) {
        forward(out, in, cols, 0, rows);
    }
}
