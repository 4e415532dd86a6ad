package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Cross-channel LRN with the semantics of {@link dev.alexnet.kernels.ref.LrnRef} (paper formula, window
 * clipped to each channel group) on channels-last activations, vectorised over channels.
 *
 * <p>Per pixel and group, the squares are written once into a small per-thread scratch framed by
 * size/2 zeros on each side (so the clipped window needs no branches); the window sum for L channels
 * is then the sum of {@code size} shifted vector loads from that L1-resident scratch (unrolled for the
 * paper's 5): the input is read once from memory and written once. Two such blocks alternate, the next
 * (pixel, group)'s squares stored before this one's sums are loaded: a shifted load spanning two stores
 * still in flight cannot be forwarded and waits. (A scalar running sum would serialise the lanes; along channels
 * the shifted loads are the vector form of the same window.) beta = 0.75, the paper's value, takes
 * x^-0.75 = 1/(sqrt(x) * sqrt(sqrt(x))) with correctly rounded square roots; other betas use POW.
 * Work units: (image, row); scratch: one region of {@link #scratchFloats} floats per thread.
 */
public final class LrnVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();

    private LrnVec() {}

    public static int units(LrnShape s) { return s.n() * s.h(); }

    /** Scratch floats per thread. */
    public static long scratchFloats(LrnShape s) {
        return 2L * (s.c() / s.channelGroups() + 2L * (s.params().size() / 2)) + 2L * L;
    }

    /**
     * One zeroed scratch region of {@link #scratchFloats} per team member, cut once here: a slice cut on
     * every call would be an allocation per run.
     */
    public static MemorySegment[] scratch(Arena arena, LrnShape s, int members) {
        long bytes = scratchFloats(s) * Float.BYTES;
        MemorySegment all = arena.allocate(members * bytes, 64);
        MemorySegment[] slices = new MemorySegment[members];
        for (int m = 0; m < members; m++) slices[m] = all.asSlice(m * bytes, bytes);
        return slices;
    }

    /** @param scratch from {@link #scratch}, one region per member */
    public static void forward(MemorySegment out, Nhwc outL, MemorySegment in, Nhwc inL, LrnShape s, MemorySegment[] scratch,
                               int member, int members) {
        int units = units(s);
        forwardUnits(out, outL, in, inL, s, scratch[member], ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    public static void forwardUnits(MemorySegment out, Nhwc outL, MemorySegment in, Nhwc inL, LrnShape s, MemorySegment scratch,
                                    int u0, int u1) {
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || outL.c() != s.c() || outL.h() != s.h() || outL.w() != s.w()) {
            throw new IllegalArgumentException("layouts " + inL + " -> " + outL + " do not fit " + s);
        }
        Checks.floats(in, s.n() * inL.imageFloats(), "lrn input");
        Checks.floats(out, s.n() * outL.imageFloats(), "lrn output");
        Checks.floats(scratch, scratchFloats(s), "lrn scratch");
        LrnParams lp = s.params();
        int H = s.h(), W = s.w(), C = s.c(), G = s.channelGroups(), cg = C / G, half = lp.size() / 2, n = lp.size();
        boolean paperBeta = lp.beta() == 0.75f;
        FloatVector k = FloatVector.broadcast(S, lp.k()), scale = FloatVector.broadcast(S, lp.scale());
        FloatVector negBeta = FloatVector.broadcast(S, -lp.beta());
        long sq0 = (long) half * Float.BYTES; // the squares start after half zeros
        long blkB = (cg + 2L * half) * Float.BYTES; // two blocks alternate: the squares of block b + 1 are stored before block b's sums
        int nb = W * G;
        for (int u = u0; u < u1; u++) {
            int img = u / H, y = u % H;
            long ib0 = (img * inL.imageFloats() + inL.offset(y, 0)) * Float.BYTES;
            long ob0 = (img * outL.imageFloats() + outL.offset(y, 0)) * Float.BYTES;
            for (int b = -1; b < nb; b++) {
                if (b + 1 < nb) {
                    long src = ib0 + (long) (b + 1) * cg * Float.BYTES, dst = ((b + 1) & 1) * blkB + sq0;
                    for (int c = 0; c < cg; c += L) {
                        VectorMask<Float> m = S.indexInRange(c, cg);
                        FloatVector a = FloatVector.fromMemorySegment(S, in, src + c * 4L, NO, m);
                        a.mul(a).intoMemorySegment(scratch, dst + c * 4L, NO, m);
                    }
                }
                if (b < 0) continue;
                long ib = ib0 + (long) b * cg * Float.BYTES, ob = ob0 + (long) b * cg * Float.BYTES, s0 = (b & 1) * blkB;
                for (int c = 0; c < cg; c += L) {
                    VectorMask<Float> m = S.indexInRange(c, cg);
                    // window of channel c + i is scratch[c + i .. c + i + n - 1] (shifted by half)
                    long w = s0 + c * 4L;
                    FloatVector sum;
                    if (n == 5) { // the paper's window, unrolled
                        sum = FloatVector.fromMemorySegment(S, scratch, w, NO).add(FloatVector.fromMemorySegment(S, scratch, w + 4, NO))
                                .add(FloatVector.fromMemorySegment(S, scratch, w + 8, NO))
                                .add(FloatVector.fromMemorySegment(S, scratch, w + 12, NO))
                                .add(FloatVector.fromMemorySegment(S, scratch, w + 16, NO));
                    } else {
                        sum = FloatVector.fromMemorySegment(S, scratch, w, NO);
                        for (int d = 1; d < n; d++) sum = sum.add(FloatVector.fromMemorySegment(S, scratch, w + d * 4L, NO));
                    }
                    FloatVector den = sum.fma(scale, k);
                    FloatVector a = FloatVector.fromMemorySegment(S, in, ib + c * 4L, NO, m);
                    FloatVector res;
                    if (paperBeta) {
                        FloatVector r = den.sqrt();
                        res = a.div(r.mul(r.sqrt()));
                    } else {
                        res = a.mul(den.lanewise(VectorOperators.POW, negBeta));
                    }
                    res.intoMemorySegment(out, ob + c * 4L, NO, m);
                }
            }
        }
    }
}
