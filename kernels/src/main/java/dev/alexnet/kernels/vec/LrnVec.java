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
 * <p>The window of five (the paper's and Caffe's size) over groups of whole vectors (every AlexNet group:
 * 48, 96, 128, 256 channels) is summed in registers on 16-lane vectors: per pixel and group the squares of consecutive
 * vectors prev, cur, next give the shifted neighbours by two-source permutes ({@code selectFrom},
 * vpermi2ps, constant indices), zero vectors standing for the channels outside the group. The five terms
 * are added in the scratch path's order (channel c-2 first) and the normalisation is the same, so both
 * paths give the same bits. The input is read once and the
 * output written once, with no store to reload (a shifted load spanning two recent stores cannot be
 * forwarded and waits).
 *
 * <p>Other sizes and group widths: per pixel and group, the squares are written once into a small
 * per-thread scratch framed by size/2 zeros on each side (so the clipped window needs no branches); the
 * window sum for L channels is then the sum of {@code size} shifted vector loads from that L1-resident
 * scratch. Two such blocks alternate, the next (pixel, group)'s squares stored before this one's sums are
 * loaded. beta = 0.75, the paper's value, takes x^-0.75 = 1/(sqrt(x) * sqrt(sqrt(x))) with correctly
 * rounded square roots; other betas use POW. Work units: (image, row); scratch: one region of
 * {@link #scratchFloats} floats per thread (unused by the window of five over whole vectors).
 */
public final class LrnVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /**
     * selectFrom indices of the window's shifted terms: lane i of term d holds channel c + i + d, from
     * (prev, cur) for d = -2, -1 (lanes L.. are cur's) and from (cur, next) for d = 1, 2.
     */
    private static final float[] M2 = lanes(L - 2), M1 = lanes(L - 1), P1 = lanes(1), P2 = lanes(2);

    private LrnVec() {}

    private static float[] lanes(int first) {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) a[i] = first + i;
        return a;
    }

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
        forwardUnits(out, outL, in, inL, s, scratch, u0, u1, inRegisters(s));
    }

    /**
     * Whether {@code s} takes the in-register window: size 5 over groups of whole vectors, on 16-lane
     * vectors (AVX-512, where the two-source permute is one instruction and the path was measured).
     */
    static boolean inRegisters(LrnShape s) {
        return L == 16 && s.params().size() == 5 && (s.c() / s.channelGroups()) % L == 0;
    }

    /** @param registers the in-register window (only where {@link #inRegisters}), else the scratch path */
    static void forwardUnits(MemorySegment out, Nhwc outL, MemorySegment in, Nhwc inL, LrnShape s, MemorySegment scratch,
                             int u0, int u1, boolean registers) {
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || outL.c() != s.c() || outL.h() != s.h() || outL.w() != s.w()) {
            throw new IllegalArgumentException("layouts " + inL + " -> " + outL + " do not fit " + s);
        }
        Checks.floats(in, s.n() * inL.imageFloats(), "lrn input");
        Checks.floats(out, s.n() * outL.imageFloats(), "lrn output");
        Checks.floats(scratch, scratchFloats(s), "lrn scratch");
        LrnParams lp = s.params();
        int H = s.h(), W = s.w(), C = s.c(), G = s.channelGroups(), cg = C / G, half = lp.size() / 2, n = lp.size();
        boolean paperBeta = lp.beta() == 0.75f;
        if (registers) {
            if (!inRegisters(s)) throw new IllegalArgumentException("no in-register window for " + s);
            for (int u = u0; u < u1; u++) {
                int img = u / H, y = u % H;
                long ib = (img * inL.imageFloats() + inL.offset(y, 0)) * Float.BYTES;
                long ob = (img * outL.imageFloats() + outL.offset(y, 0)) * Float.BYTES;
                row5(out, ob, in, ib, W * G, cg / L, lp.k(), lp.scale(), lp.beta(), paperBeta);
            }
            return;
        }
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

    /**
     * One row of the window of five: {@code blocks} (pixel, group) blocks of {@code nv} whole vectors,
     * back to back from byte offsets ib (input) and ob (output).
     */
    private static void row5(MemorySegment out, long ob, MemorySegment in, long ib, int blocks, int nv,
                             float kf, float scalef, float beta, boolean paperBeta) {
        FloatVector m2 = FloatVector.fromArray(S, M2, 0), m1 = FloatVector.fromArray(S, M1, 0);
        FloatVector p1 = FloatVector.fromArray(S, P1, 0), p2 = FloatVector.fromArray(S, P2, 0);
        FloatVector zero = FloatVector.zero(S), k = FloatVector.broadcast(S, kf), scale = FloatVector.broadcast(S, scalef);
        FloatVector negBeta = FloatVector.broadcast(S, -beta);
        long vb = (long) L * Float.BYTES;
        for (int b = 0; b < blocks; b++) {
            long i = ib + (long) b * nv * vb, o = ob + (long) b * nv * vb;
            FloatVector a = FloatVector.fromMemorySegment(S, in, i, NO), sq = a.mul(a), prev = zero;
            for (int j = 1; j < nv; j++, o += vb) {
                FloatVector an = FloatVector.fromMemorySegment(S, in, i + j * vb, NO), next = an.mul(an);
                // the scratch path's order: channels c-2, c-1, c, c+1, c+2
                FloatVector sum = m2.selectFrom(prev, sq).add(m1.selectFrom(prev, sq)).add(sq).add(p1.selectFrom(sq, next)).add(p2.selectFrom(sq, next));
                normalise(a, sum, k, scale, negBeta, paperBeta).intoMemorySegment(out, o, NO);
                prev = sq;
                sq = next;
                a = an;
            }
            FloatVector sum = m2.selectFrom(prev, sq).add(m1.selectFrom(prev, sq)).add(sq).add(p1.selectFrom(sq, zero)).add(p2.selectFrom(sq, zero));
            normalise(a, sum, k, scale, negBeta, paperBeta).intoMemorySegment(out, o, NO);
        }
    }

    /** a * (k + scale * sum)^-beta, for the paper's beta as a / (sqrt(d) sqrt(sqrt(d))). */
    private static FloatVector normalise(FloatVector a, FloatVector sum, FloatVector k, FloatVector scale, FloatVector negBeta, boolean paperBeta) {
        FloatVector den = sum.fma(scale, k);
        if (paperBeta) {
            FloatVector r = den.sqrt();
            return a.div(r.mul(r.sqrt()));
        }
        return a.mul(den.lanewise(VectorOperators.POW, negBeta));
    }
}
