package dev.alexnet.kernels.vec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Loads, before any kernel gets hot, the JDK classes that kernels or their callers load later anyway.
 *
 * <p>Why: C2 compiles the kernels' segment accesses assuming the class hierarchy it sees (with only
 * native segments loaded, {@code AbstractMemorySegmentImpl} has one concrete subclass). The first heap
 * segment anywhere in the JVM ({@code MemorySegment.ofArray}, {@code toArray}, or the JDK building a
 * {@link VectorShuffle}) loads {@code HeapMemorySegmentImpl}, and C2 throws away every method compiled on
 * the old assumption, tile kernels included, which may then recompile into slower code; so does the first
 * {@code IntVector} operation. Loading those classes first makes the later events harmless.
 *
 * <p>So this creates heap segments of every kind without touching them (the JDK's accessors keep one
 * type profile for all their callers, and a heap segment recorded there costs the tile kernels their
 * hoisted checks), and runs once, on a native segment, every kind of vector operation the kernels use, in
 * the interpreter, whose fallback code loads the operation classes. It costs a few milliseconds.
 *
 * <p>The same profile is why no kernel may use the Vector API's reinterpret casts ({@code reinterpretAs*},
 * {@code viewAs*}, {@code REINTERPRET_*} conversions): their interpreter fallback writes the vector into a
 * fresh heap byte segment and reads it back, before C2 compiles the caller. {@code KernelBytecodeTest}
 * keeps them out. The runs that showed each effect are in bench/RESULTS.md, "Why the kernels look the way
 * they do".
 */
public final class Preload {
    private Preload() {}

    private static volatile boolean done;

    /** Idempotent; called from the static initialisers of {@link ThreadTeam} and {@link ConvVec}. */
    public static void classes() {
        if (done) return;
        JitDirectives.install(); // before any tile kernel is called: see JitDirectives
        Object[] heap = {MemorySegment.ofArray(new byte[8]), MemorySegment.ofArray(new short[4]), MemorySegment.ofArray(new char[4]),
                MemorySegment.ofArray(new int[2]), MemorySegment.ofArray(new float[2]), MemorySegment.ofArray(new long[1]),
                MemorySegment.ofArray(new double[1])};
        VectorSpecies<Float> f = ConvTiles.S;
        VectorSpecies<Integer> i = IntVector.SPECIES_PREFERRED;
        ByteOrder no = ByteOrder.nativeOrder();
        int unused = NchwPoolLrn.L + heap.length; // NchwPoolLrn's class initialiser builds its shuffles
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(4L * f.length() * Float.BYTES, 64);
            long second = (long) f.length() * Float.BYTES;
            VectorMask<Float> half = f.indexInRange(0, f.length() / 2);
            FloatVector a = FloatVector.fromMemorySegment(f, m, 0, no).add(1f);
            FloatVector b = FloatVector.fromMemorySegment(f, m, second, no, half).add(2f);
            FloatVector c = a.fma(b, a).max(b).min(a).mul(b).sub(a).div(b).sqrt().neg().abs();
            c = c.lanewise(VectorOperators.EXP).lanewise(VectorOperators.POW, b).blend(a, half);
            c = c.rearrange(VectorShuffle.iota(f, 0, 2, true), b).rearrange(VectorShuffle.iota(f, 1, 1, true));
            c.intoMemorySegment(m, 0, no);
            c.intoMemorySegment(m, second, no, half);
            IntVector v = IntVector.fromMemorySegment(i, m, 0, no).add(1 + unused).lanewise(VectorOperators.LSHR, 1)
                    .lanewise(VectorOperators.ASHR, 1).lanewise(VectorOperators.LSHL, 1).and(3).or(4);
            v.intoMemorySegment(m, 2 * second, no);
            // DropoutVec's mask: 64-bit lanes, the long mask cast to a float species of as many lanes
            LongVector lv = LongVector.zero(DropoutVec.LS).addIndex(1).mul(3L).add(5L);
            lv = lv.lanewise(VectorOperators.XOR, lv.lanewise(VectorOperators.LSHR, 3));
            FloatVector lf = FloatVector.zero(DropoutVec.FS).blend(1f, lv.compare(VectorOperators.GE, 7L).cast(DropoutVec.FS));
            lf.mul(FloatVector.fromMemorySegment(DropoutVec.FS, m, 0, no)).intoMemorySegment(m, 3 * second, no,
                    DropoutVec.FS.indexInRange(0, DropoutVec.FS.length() / 2));
            float sink = c.reduceLanes(VectorOperators.ADD) + c.reduceLanes(VectorOperators.MAX) + v.reduceLanes(VectorOperators.ADD)
                    + ((FloatVector) v.convert(VectorOperators.I2F, 0)).lane(0)
                    + (c.compare(VectorOperators.GT, a).anyTrue() ? 1 : 0);
            m.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, sink);
        }
        done = true;
    }
}
