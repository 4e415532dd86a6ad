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
 * LRN backward on NCHW, the semantics of {@link dev.alexnet.kernels.ref.LrnRef#backward}, vectorised over
 * pixels: dL/da_j = g_j d_j^-beta - 2 scale beta a_j sum_{i in W(j)} t_i with t_i = g_i a_i d_i^(-beta-1).
 *
 * <p>Per (image, channel group, block of up to {@value #BLOCK} pixels) the channels stream by once: step c
 * computes d_c from input rows c-n/2..c+n/2 (FMA chain, as the forward), writes t_c and d_c^-beta to two
 * per-thread ring buffers of block rows (n rows of t, n/2 + 1 of d^-beta), and finishes output channel
 * c - n/2, whose window of t is then complete in the ring. The rings and the window's input rows stay in L1.
 * For the paper's beta (0.75) d^-1.75 = 1 / (d sqrt(d) sqrt(sqrt(d))) and d^-0.75 = d * d^-1.75: one
 * division; POW otherwise (and for rows shorter than L, under masks). Rows of at least L pixels go by whole
 * vectors, the last one overlapping its predecessor, as in the forward kernel. Work units: (image, group, block). The rings live in a per-thread segment made
 * on a thread's first call (none per run after that).
 */
public final class LrnBackwardVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Most pixels per block: about 16 block rows (input window, gradients, rings) stay within L1. */
    static final int BLOCK = 512;

    private static final ThreadLocal<MemorySegment> RINGS = new ThreadLocal<>();

    private LrnBackwardVec() {}

    public static int units(LrnShape s) { return s.n() * s.channelGroups() * blocks(s); }

    private static int blocks(LrnShape s) { return (s.h() * s.w() + BLOCK - 1) / BLOCK; }

    public static void backward(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, LrnShape s, int member, int members) {
        Checks.floats(in, s.size(), "lrn input");
        Checks.floats(gradOut, s.size(), "lrn output gradient");
        Checks.floats(gradIn, s.size(), "lrn input gradient");
        LrnParams lp = s.params();
        int size = lp.size(), half = size / 2, cg = s.c() / s.channelGroups(), nb = blocks(s), hw = s.h() * s.w();
        int units = units(s), u0 = ThreadTeam.from(units, member, members), u1 = ThreadTeam.from(units, member + 1, members);
        if (u0 == u1) return;
        MemorySegment rings = rings((long) (size + half + 1) * BLOCK);
        long planeB = (long) hw * Float.BYTES, ringB = BLOCK * 4L, dRing = size * ringB;
        boolean paper = lp.beta() == 0.75f;
        float k = lp.k(), scale = lp.scale(), beta = lp.beta(), coef = 2 * scale * beta;
        for (int u = u0; u < u1; u++) {
            int blk = u % nb, ig = u / nb; // ig = image * groups + group: groups are contiguous channel ranges
            int x0 = blk * BLOCK, xn = Math.min(BLOCK, hw - x0);
            long base = (long) ig * cg * planeB + x0 * 4L;
            for (int c = 0; c < cg + half; c++) {
                if (c < cg) {
                    int lo = Math.max(0, c - half) - c, hi = Math.min(cg - 1, c + half) - c;
                    forwardRow(in, gradOut, base + c * planeB, planeB, lo, hi, xn, k, scale, beta, paper,
                            rings, (c % size) * ringB, dRing + (c % (half + 1)) * ringB);
                }
                int j = c - half;
                if (j >= 0) {
                    int lo = Math.max(0, j - half), hi = Math.min(cg - 1, j + half);
                    outputRow(in, gradOut, gradIn, base + j * planeB, xn, coef, rings, lo, hi, size, ringB, dRing + (j % (half + 1)) * ringB);
                }
            }
        }
    }

    private static MemorySegment rings(long floats) {
        MemorySegment r = RINGS.get();
        if (r == null || r.byteSize() < floats * Float.BYTES) {
            r = Arena.ofAuto().allocate(floats * Float.BYTES, 64);
            RINGS.set(r);
        }
        return r;
    }

    /**
     * Channel row cb: t = g a d^(-beta-1) to ring offset tb, d^-beta to ring offset db. Two copies (the paper's
     * beta by square roots, any beta by POW) rather than a branch that merges vectors: C2 may box those.
     */
    private static void forwardRow(MemorySegment in, MemorySegment gradOut, long cb, long planeB, int lo, int hi, int xn,
                                   float k, float scale, float beta, boolean paper, MemorySegment rings, long tb, long db) {
        if (paper && xn >= L) forwardRowPaper(in, gradOut, cb, planeB, lo, hi, xn, k, scale, rings, tb, db);
        else forwardRowPow(in, gradOut, cb, planeB, lo, hi, xn, k, scale, beta, rings, tb, db);
    }

    /**
     * d^-1.75 = 1 / (d sqrt(d) sqrt(sqrt(d))), d^-0.75 = d * d^-1.75; xn >= L: whole vectors, the last one
     * overlapping its predecessor (it rewrites equal values), as the forward kernel.
     */
    private static void forwardRowPaper(MemorySegment in, MemorySegment gradOut, long cb, long planeB, int lo, int hi, int xn,
                                        float k, float scale, MemorySegment rings, long tb, long db) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int x0 = 0; x0 < xn; x0 += L) {
            long x = Math.min(x0, xn - L) * 4L, o = cb + x;
            FloatVector v = FloatVector.fromMemorySegment(S, in, o + lo * planeB, NO);
            FloatVector sum = v.mul(v);
            for (int d = lo + 1; d <= hi; d++) {
                v = FloatVector.fromMemorySegment(S, in, o + d * planeB, NO);
                sum = v.fma(v, sum);
            }
            FloatVector den = sum.fma(scale, k), r = den.sqrt();
            FloatVector dPow1 = one.div(den.mul(r).mul(r.sqrt()));
            FloatVector a = FloatVector.fromMemorySegment(S, in, o, NO), g = FloatVector.fromMemorySegment(S, gradOut, o, NO);
            g.mul(a).mul(dPow1).intoMemorySegment(rings, tb + x, NO);
            dPow1.mul(den).intoMemorySegment(rings, db + x, NO);
        }
    }

    private static void forwardRowPow(MemorySegment in, MemorySegment gradOut, long cb, long planeB, int lo, int hi, int xn,
                                      float k, float scale, float beta, MemorySegment rings, long tb, long db) {
        FloatVector negBeta = FloatVector.broadcast(S, -beta);
        for (int x = 0; x < xn; x += L) {
            VectorMask<Float> m = S.indexInRange(x, xn);
            long o = cb + x * 4L;
            FloatVector v = FloatVector.fromMemorySegment(S, in, o + lo * planeB, NO, m);
            FloatVector sum = v.mul(v);
            for (int d = lo + 1; d <= hi; d++) {
                v = FloatVector.fromMemorySegment(S, in, o + d * planeB, NO, m);
                sum = v.fma(v, sum);
            }
            FloatVector den = sum.fma(scale, k), dPow = den.lanewise(VectorOperators.POW, negBeta);
            FloatVector a = FloatVector.fromMemorySegment(S, in, o, NO, m), g = FloatVector.fromMemorySegment(S, gradOut, o, NO, m);
            g.mul(a).mul(dPow.div(den)).intoMemorySegment(rings, tb + x * 4L, NO, m);
            dPow.intoMemorySegment(rings, db + x * 4L, NO, m);
        }
    }

    /** Channel row cb of gradIn: g d^-beta - coef a sum of the t ring rows for channels lo..hi. */
    private static void outputRow(MemorySegment in, MemorySegment gradOut, MemorySegment gradIn, long cb, int xn, float coef,
                                  MemorySegment rings, int lo, int hi, int size, long ringB, long db) {
        if (xn < L) {
            outputRowMasked(in, gradOut, gradIn, cb, xn, coef, rings, lo, hi, size, ringB, db);
            return;
        }
        for (int x0 = 0; x0 < xn; x0 += L) { // whole vectors, the last overlapping: it rewrites equal values
            long xb = Math.min(x0, xn - L) * 4L, o = cb + xb;
            FloatVector sum = FloatVector.fromMemorySegment(S, rings, (lo % size) * ringB + xb, NO);
            for (int i = lo + 1; i <= hi; i++) sum = sum.add(FloatVector.fromMemorySegment(S, rings, (i % size) * ringB + xb, NO));
            FloatVector a = FloatVector.fromMemorySegment(S, in, o, NO), g = FloatVector.fromMemorySegment(S, gradOut, o, NO);
            FloatVector dPow = FloatVector.fromMemorySegment(S, rings, db + xb, NO);
            g.mul(dPow).sub(a.mul(coef).mul(sum)).intoMemorySegment(gradIn, o, NO);
        }
    }

    /** outputRow for rows shorter than L. */
    private static void outputRowMasked(MemorySegment in, MemorySegment gradOut, MemorySegment gradIn, long cb, int xn, float coef,
                                        MemorySegment rings, int lo, int hi, int size, long ringB, long db) {
        VectorMask<Float> m = S.indexInRange(0, xn);
        FloatVector sum = FloatVector.fromMemorySegment(S, rings, (lo % size) * ringB, NO, m);
        for (int i = lo + 1; i <= hi; i++) sum = sum.add(FloatVector.fromMemorySegment(S, rings, (i % size) * ringB, NO, m));
        FloatVector a = FloatVector.fromMemorySegment(S, in, cb, NO, m), g = FloatVector.fromMemorySegment(S, gradOut, cb, NO, m);
        FloatVector dPow = FloatVector.fromMemorySegment(S, rings, db, NO, m);
        g.mul(dPow).sub(a.mul(coef).mul(sum)).intoMemorySegment(gradIn, cb, NO, m);
    }
}
