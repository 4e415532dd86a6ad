package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Softmax fused with cross-entropy, the semantics of {@link dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef}
 * for a slice of rows: per row a max pass, then exp(z - max) summed in float lanes (and stored as the
 * unnormalised gradient), then the scale pass. The loss log(sum) - (z_y - max) is formed in double from the
 * float sum. Differs from the reference by the rounding of z - max in float, exp's ulp and the float sum.
 */
public final class SoftmaxCrossEntropyVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();

    private SoftmaxCrossEntropyVec() {}

    /**
     * Rows [r0, r1) of [rows][cols] logits with one JAVA_INT label per row (gradLogits may be the logits): returns the SUM of their losses
     * -log softmax(z)[y]; when {@code gradLogits} is not null it receives (softmax(z) - onehot(y)) * gradScale
     * (1/rows for the gradient of the mean).
     */
    public static double lossSum(MemorySegment logits, MemorySegment labels, MemorySegment gradLogits, int cols, int r0, int r1, float gradScale) {
        if (cols <= 0 || r0 < 0 || r1 < r0) throw new IllegalArgumentException("bad softmax cross-entropy rows [" + r0 + ", " + r1 + ") of " + cols);
        Checks.floats(logits, (long) r1 * cols, "logits");
        if (labels == null || labels.byteSize() < (long) r1 * Integer.BYTES) throw new IllegalArgumentException("labels need " + r1 + " ints");
        if (gradLogits != null) Checks.floats(gradLogits, (long) r1 * cols, "logit gradient");
        for (int r = r0; r < r1; r++) {
            int y = labels.getAtIndex(JAVA_INT, r);
            if (y < 0 || y >= cols) throw new IllegalArgumentException("label " + y + " of row " + r + " is outside [0, " + cols + ")");
        }
        double total = 0;
        for (int r = r0; r < r1; r++) {
            int y = labels.getAtIndex(JAVA_INT, r);
            long base = (long) r * cols * Float.BYTES;
            float max = rowMax(logits, base, cols), zy = logits.get(JAVA_FLOAT, base + 4L * y); // read before the gradient may overwrite it
            float sum = expSum(logits, gradLogits, base, cols, max);
            total += Math.log(sum) - ((double) zy - max);
            if (gradLogits != null) {
                scale(gradLogits, base, cols, gradScale / sum);
                long yb = base + 4L * y;
                gradLogits.set(JAVA_FLOAT, yb, gradLogits.get(JAVA_FLOAT, yb) - gradScale);
            }
        }
        return total;
    }

    private static float rowMax(MemorySegment in, long base, int cols) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < cols; c += L) {
            VectorMask<Float> m = S.indexInRange(c, cols);
            mx = mx.max(FloatVector.fromMemorySegment(S, in, base + c * 4L, NO, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return mx.reduceLanes(VectorOperators.MAX);
    }

    /** Sum of exp(z - max); the exponentials go to {@code out} when it is not null. */
    private static float expSum(MemorySegment in, MemorySegment out, long base, int cols, float max) {
        FloatVector sum = FloatVector.zero(S);
        for (int c = 0; c < cols; c += L) {
            VectorMask<Float> m = S.indexInRange(c, cols);
            FloatVector e = FloatVector.fromMemorySegment(S, in, base + c * 4L, NO, m).sub(max).lanewise(VectorOperators.EXP);
            e = e.blend(0f, m.not());
            sum = sum.add(e);
            if (out != null) e.intoMemorySegment(out, base + c * 4L, NO, m);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    private static void scale(MemorySegment out, long base, int cols, float f) {
        for (int c = 0; c < cols; c += L) {
            VectorMask<Float> m = S.indexInRange(c, cols);
            FloatVector.fromMemorySegment(S, out, base + c * 4L, NO, m).mul(f).intoMemorySegment(out, base + c * 4L, NO, m);
        }
    }
}
