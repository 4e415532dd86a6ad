package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.DropoutMask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Inverted dropout over [rows, features] with the semantics of {@link dev.alexnet.kernels.ref.DropoutRef}:
 * the masks of {@link DropoutMask} computed in vectors (SplitMix64's finaliser on 64-bit lanes), bitwise
 * equal to the reference. {@link DropoutMask#keep} compares (h >>> 40) * 2^-24 >= p in float; with h >>> 40
 * an integer below 2^24 that is exactly (h >>> 40) >= ceil(p * 2^24), a compare of longs here. The floats
 * go in chunks of as many lanes as a long vector has (8 of 16 on AVX-512), so the long mask casts to a float
 * mask lane for lane. A null mask (inference) copies. In place allowed. Work units: elements, split evenly.
 */
public final class DropoutVec {
    static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> FS = VectorSpecies.of(float.class, VectorShape.forBitSize(LS.length() * Float.SIZE));
    static final int N = LS.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private DropoutVec() {}

    public static void forward(MemorySegment out, MemorySegment in, int rows, int features, DropoutMask mask, int member, int members) {
        apply(out, in, rows, features, mask, member, members, "dropout input", "dropout output");
    }

    public static void backward(MemorySegment gradIn, MemorySegment gradOut, int rows, int features, DropoutMask mask, int member, int members) {
        apply(gradIn, gradOut, rows, features, mask, member, members, "dropout output gradient", "dropout input gradient");
    }

    private static void apply(MemorySegment dst, MemorySegment src, int rows, int features, DropoutMask mask, int member, int members,
                              String srcName, String dstName) {
        if (rows <= 0 || features <= 0) throw new IllegalArgumentException("bad dropout shape: " + rows + " rows of " + features);
        long count = (long) rows * features;
        Checks.floats(src, count, srcName);
        Checks.floats(dst, count, dstName);
        long e0 = count * member / members, e1 = count * (member + 1) / members;
        if (mask == null) {
            MemorySegment.copy(src, e0 * Float.BYTES, dst, e0 * Float.BYTES, (e1 - e0) * Float.BYTES);
            return;
        }
        if (features + mask.offset() > mask.total()) throw new IllegalArgumentException("dropout mask covers features up to " + mask.total() + ", needs " + (features + mask.offset()));
        long threshold = (long) Math.ceil(mask.p() * 0x1p24);
        for (int n = (int) (e0 / features); n < rows && (long) n * features < e1; n++) {
            long rowStart = (long) n * features;
            int i0 = (int) Math.max(0, e0 - rowStart), i1 = (int) Math.min(features, e1 - rowStart);
            row(dst, src, rowStart, i0, i1, mask.key() + ((long) n * mask.total() + mask.offset()) * GOLDEN, threshold, mask.scale());
        }
    }

    /** Elements [i0, i1) of the row starting at element rowStart; element i hashes key0 + i * GOLDEN. */
    private static void row(MemorySegment dst, MemorySegment src, long rowStart, int i0, int i1, long key0, long threshold, float scale) {
        FloatVector zero = FloatVector.zero(FS), keepScale = FloatVector.broadcast(FS, scale);
        LongVector step = LongVector.zero(LS).addIndex(1).mul(GOLDEN);
        for (int i = i0; i < i1; i += N) {
            LongVector z = step.add(key0 + i * GOLDEN);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
            VectorMask<Float> keep = z.lanewise(VectorOperators.LSHR, 40).compare(VectorOperators.GE, threshold).cast(FS);
            FloatVector factor = zero.blend(keepScale, keep);
            long b = (rowStart + i) * Float.BYTES;
            if (i + N <= i1) {
                FloatVector.fromMemorySegment(FS, src, b, NO).mul(factor).intoMemorySegment(dst, b, NO);
            } else {
                VectorMask<Float> m = FS.indexInRange(i, i1);
                FloatVector.fromMemorySegment(FS, src, b, NO, m).mul(factor).intoMemorySegment(dst, b, NO, m);
            }
        }
    }
}
