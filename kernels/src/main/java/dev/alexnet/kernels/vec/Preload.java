package dev.alexnet.kernels.vec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Loads, before any kernel gets hot, the JDK classes that kernels or their callers load later anyway.
 *
 * <p>Why: C2 compiles the kernels' segment accesses assuming the class hierarchy it sees (with only
 * native segments loaded, {@code AbstractMemorySegmentImpl} has one concrete subclass). The first heap
 * segment anywhere in the JVM ({@code MemorySegment.ofArray}, {@code toArray}, or the JDK building a
 * {@link VectorShuffle}) loads {@code HeapMemorySegmentImpl}, and C2 throws away every method compiled on
 * the old assumption. Measured in a {@code compare} run (NCHW pooling builds its shuffles after conv1
 * had run): 66 methods deoptimized at once, conv kernels included, and the recompiled panel kernel came
 * out at 339 instructions per step instead of 37 (conv2 at batch 1: 4 ms before, 220-520 ms after).
 * The same happens when the first {@code IntVector} operation (LRN's {@link Pow34}) loads the JDK's
 * int-vector operation classes. So this creates heap segments of every kind (without touching them:
 * the JDK's accessors keep one type profile for all their callers, and a heap segment in it costs the
 * kernels their hoisted checks, see below) and runs, once, every kind of vector operation the kernels
 * use on a native segment, in the interpreter (whose fallback code loads those classes); it costs a
 * few milliseconds. Checked with {@code -XX:+PrintCompilation}: no kernel is "marked for
 * deoptimization" after it in a full {@code compare} run.
 *
 * <p>What it cannot prevent: code elsewhere in the JVM that accesses heap segments (or other segment
 * kinds) through the same JDK accessors. When C2 then cannot speculate on the segment class, a tile
 * kernel's loop keeps a class check, a liveness check and a bounds check per access (249 instructions
 * per step instead of 37, seen in one JMH fork in five).
 */
public final class Preload {
    private Preload() {}

    private static volatile boolean done;

    /** Every operation kind the kernels use, once, so that the JDK loads their implementation classes now. */
    private static float exercise() {
        VectorSpecies<Float> f = ConvTiles.S;
        VectorSpecies<Integer> i = IntVector.SPECIES_PREFERRED;
        ByteOrder no = ByteOrder.nativeOrder();
        float acc = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (MemorySegment m : new MemorySegment[] {arena.allocate(4L * f.length() * Float.BYTES, 64)}) {
                VectorMask<Float> half = f.indexInRange(0, f.length() / 2);
                FloatVector a = FloatVector.fromMemorySegment(f, m, 0, no).add(1f);
                FloatVector b = FloatVector.fromMemorySegment(f, m, (long) f.length() * Float.BYTES, no, half).add(2f);
                FloatVector c = a.fma(b, a).max(b).min(a).mul(b).sub(a).div(b).sqrt().neg().abs();
                c = c.lanewise(VectorOperators.EXP).lanewise(VectorOperators.POW, b).blend(a, half);
                c = c.rearrange(VectorShuffle.iota(f, 0, 2, true), b).rearrange(VectorShuffle.iota(f, 1, 1, true));
                c = c.add(Pow34.invPow34(a.add(1f)));
                c.intoMemorySegment(m, 0, no);
                c.intoMemorySegment(m, (long) f.length() * Float.BYTES, no, half);
                IntVector v = IntVector.fromMemorySegment(i, m, 0, no).add(1).lanewise(VectorOperators.LSHR, 1)
                        .lanewise(VectorOperators.ASHR, 1).lanewise(VectorOperators.LSHL, 1).and(3).or(4);
                v.intoMemorySegment(m, 2L * f.length() * Float.BYTES, no);
                acc += c.reduceLanes(VectorOperators.ADD) + c.reduceLanes(VectorOperators.MAX) + v.reduceLanes(VectorOperators.ADD)
                        + v.reinterpretAsFloats().lane(0) + ((FloatVector) v.convert(VectorOperators.I2F, 0)).lane(0)
                        + (c.compare(VectorOperators.GT, a).anyTrue() ? 1 : 0);
            }
        }
        return acc;
    }

    public static void classes() {
        if (done) return;
        // every heap segment flavour (one class per array type): created, never accessed, so that no
        // access path's type profile (shared by every caller of the JDK's accessors) records a heap segment
        long sum = 0;
        Object[] heap = {MemorySegment.ofArray(new byte[8]), MemorySegment.ofArray(new short[4]), MemorySegment.ofArray(new char[4]),
                MemorySegment.ofArray(new int[2]), MemorySegment.ofArray(new float[2]), MemorySegment.ofArray(new long[1]),
                MemorySegment.ofArray(new double[1])};
        sum += heap.length;
        // shuffles and int vectors of every shape (NchwPoolLrn and Pow34 use them)
        VectorShuffle<Float> s = VectorShuffle.iota(ConvTiles.S, 0, 1, true);
        sum += s.toVector().length() + IntVector.SPECIES_PREFERRED.length();
        sum += NchwPoolLrn.L;
        sum += (long) exercise();
        done = sum != Long.MIN_VALUE;
    }
}
