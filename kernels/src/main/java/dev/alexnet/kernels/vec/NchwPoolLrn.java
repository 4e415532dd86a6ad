package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Max pooling and LRN directly on NCHW rows, for a pooling or LRN layer whose input and output are both
 * NCHW (a program's boundary, e.g. a single-layer program): two reorders around the channels-last
 * kernels would cost more than the layer itself.
 *
 * <p>Pooling ({@link dev.alexnet.kernels.ref.MaxPoolRef} semantics: padding never wins): per (image,
 * channel, output row) the lane-wise max of the window's input rows goes into a per-thread scratch row
 * framed by -inf ({@link #poolScratchFloats}, filled once by {@link #initPoolScratch}); the horizontal
 * max then reads it with vector loads: stride 1 directly, stride 2 as even-lane compressions
 * ({@code selectFrom}) of two loads, other strides lane by lane. Exact. Work units: (image, channel).
 *
 * <p>LRN ({@link dev.alexnet.kernels.ref.LrnRef} semantics): LRN is pointwise over the H*W plane, so it
 * vectorises over blocks of {@value #LB} contiguous pixels: the squares of a group's channels go into
 * a scratch [half zeros | cg | half zeros][LB] and each output sums {@code size} loads of it, then
 * x * (k + s * sum)^-beta as in {@link LrnVec}. Work units: (image, pixel block).
 */
public final class NchwPoolLrn {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Pixels per LRN block (a multiple of L). */
    static final int LB = 4 * L;
    static final float[] EVEN = new float[L];
    static {
        for (int p = 0; p < L; p++) EVEN[p] = 2 * p; // lanes 0..L-1 of a, then b (index L..2L-1)
    }

    private NchwPoolLrn() {}

    // ---------------------------------------------------------------- pooling

    public static int poolUnits(PoolShape s) { return s.n() * s.c(); }

    /** Scratch floats per thread: one row framed by pad + 2L on either side. */
    public static long poolScratchFloats(PoolShape s) { return s.w() + 2L * s.pad() + 4L * L + s.kernel(); }

    /** Fills every thread's scratch with -inf (once, when the program is compiled). */
    public static void initPoolScratch(MemorySegment scratch) {
        Reorders.fill(scratch, 0, scratch.byteSize() / Float.BYTES, Float.NEGATIVE_INFINITY);
    }

    public static void pool(MemorySegment out, MemorySegment in, PoolShape s, MemorySegment scratch, int member, int members) {
        int units = poolUnits(s);
        long sf = poolScratchFloats(s) * Float.BYTES;
        poolUnits(out, in, s, scratch.asSlice(member * sf, sf), ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** (image, channel) planes [u0, u1). */
    public static void poolUnits(MemorySegment out, MemorySegment in, PoolShape s, MemorySegment row, int u0, int u1) {
        Checks.floats(in, s.inputSize(), "pool input");
        Checks.floats(out, s.outputSize(), "pool output");
        Checks.floats(row, poolScratchFloats(s), "pool scratch");
        int H = s.h(), W = s.w(), P = s.p(), Q = s.q(), k = s.kernel(), st = s.stride(), pad = s.pad();
        long rowB = (long) W * Float.BYTES, rb0 = (long) (L + pad) * Float.BYTES; // scratch x = -pad sits at L
        for (int u = u0; u < u1; u++) {
            long ib = (long) u * H * rowB, ob = (long) u * P * Q * Float.BYTES;
            for (int p = 0; p < P; p++) {
                int y0 = Math.max(0, p * st - pad), y1 = Math.min(H, p * st - pad + k);
                verticalMax(in, ib + y0 * rowB, rowB, y1 - y0, W, row, rb0);
                long o = ob + (long) p * Q * Float.BYTES;
                if (st == 1) horizontal1(row, k, Q, out, o);
                else if (st == 2) horizontal2(row, k, Q, out, o);
                else horizontalScalar(row, k, st, Q, out, o);
            }
        }
    }

    private static void verticalMax(MemorySegment in, long ib, long rowB, int rows, int W, MemorySegment row, long rb0) {
        for (int x = 0; x < W; x += L) {
            VectorMask<Float> m = S.indexInRange(x, W);
            long xb = ib + x * 4L;
            FloatVector v = FloatVector.fromMemorySegment(S, in, xb, NO, m);
            for (int y = 1; y < rows; y++) v = v.max(FloatVector.fromMemorySegment(S, in, xb + y * rowB, NO, m));
            v.intoMemorySegment(row, rb0 + x * 4L, NO, m);
        }
    }

    /** Output q reads scratch floats L + q .. L + q + k - 1. */
    private static void horizontal1(MemorySegment row, int k, int Q, MemorySegment out, long o) {
        for (int q = 0; q < Q; q += L) {
            long b = (long) (L + q) * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, row, b, NO);
            for (int d = 1; d < k; d++) v = v.max(FloatVector.fromMemorySegment(S, row, b + d * 4L, NO));
            v.intoMemorySegment(out, o + q * 4L, NO, S.indexInRange(q, Q));
        }
    }

    /** Output q reads scratch floats L + 2q .. L + 2q + k - 1: lane i of a compression of two loads. */
    private static void horizontal2(MemorySegment row, int k, int Q, MemorySegment out, long o) {
        FloatVector even = FloatVector.fromArray(S, EVEN, 0);
        for (int q = 0; q < Q; q += L) {
            long b = (long) (L + 2 * q) * Float.BYTES;
            FloatVector v = even.selectFrom(FloatVector.fromMemorySegment(S, row, b, NO), FloatVector.fromMemorySegment(S, row, b + L * 4L, NO));
            for (int d = 1; d < k; d++) {
                long bd = b + d * 4L;
                v = v.max(even.selectFrom(FloatVector.fromMemorySegment(S, row, bd, NO), FloatVector.fromMemorySegment(S, row, bd + L * 4L, NO)));
            }
            v.intoMemorySegment(out, o + q * 4L, NO, S.indexInRange(q, Q));
        }
    }

    private static void horizontalScalar(MemorySegment row, int k, int st, int Q, MemorySegment out, long o) {
        for (int q = 0; q < Q; q++) {
            long b = (long) (L + q * st) * Float.BYTES;
            float m = row.get(LinearTiles.F, b);
            for (int d = 1; d < k; d++) m = Math.max(m, row.get(LinearTiles.F, b + d * 4L));
            out.set(LinearTiles.F, o + q * 4L, m);
        }
    }

    // ---------------------------------------------------------------- LRN

    public static int lrnUnits(LrnShape s) {
        return s.n() * blocks(s);
    }

    private static int blocks(LrnShape s) {
        long hw = (long) s.h() * s.w();
        return (int) ((hw + LB - 1) / LB);
    }

    /** Scratch floats per thread, zeroed once by its allocator (the frame of half channels each side stays zero). */
    public static long lrnScratchFloats(LrnShape s) {
        return ((long) s.c() / s.channelGroups() + 2L * (s.params().size() / 2)) * LB;
    }

    public static void lrn(MemorySegment out, MemorySegment in, LrnShape s, MemorySegment scratch, int member, int members) {
        int units = lrnUnits(s);
        long sf = lrnScratchFloats(s) * Float.BYTES;
        lrnUnits(out, in, s, scratch.asSlice(member * sf, sf), ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** (image, block of LB pixels) [u0, u1). */
    public static void lrnUnits(MemorySegment out, MemorySegment in, LrnShape s, MemorySegment sq, int u0, int u1) {
        Checks.floats(in, s.size(), "lrn input");
        Checks.floats(out, s.size(), "lrn output");
        Checks.floats(sq, lrnScratchFloats(s), "lrn scratch");
        LrnParams lp = s.params();
        int C = s.c(), G = s.channelGroups(), cg = C / G, half = lp.size() / 2, nb = blocks(s);
        int hw = s.h() * s.w();
        long plane = (long) hw * Float.BYTES;
        for (int u = u0; u < u1; u++) {
            int img = u / nb, x0 = (u % nb) * LB, xn = Math.min(LB, hw - x0);
            for (int g = 0; g < G; g++) {
                long base = ((long) img * C + (long) g * cg) * plane + x0 * 4L;
                squares(in, base, plane, cg, xn, sq, (long) half * LB * Float.BYTES);
                if (lp.beta() == 0.75f) normalisePaper(in, out, base, plane, cg, xn, sq, lp.size(), lp.k(), lp.scale());
                else normalise(in, out, base, plane, cg, xn, sq, lp.size(), lp.k(), lp.scale(), lp.beta());
            }
        }
    }

    private static void squares(MemorySegment in, long base, long plane, int cg, int xn, MemorySegment sq, long s0) {
        for (int c = 0; c < cg; c++) {
            long ib = base + c * plane, sb = s0 + (long) c * LB * Float.BYTES;
            for (int x = 0; x < xn; x += L) {
                FloatVector a = FloatVector.fromMemorySegment(S, in, ib + x * 4L, NO, S.indexInRange(x, xn));
                a.mul(a).intoMemorySegment(sq, sb + x * 4L, NO);
            }
        }
    }

    private static void normalisePaper(MemorySegment in, MemorySegment out, long base, long plane, int cg, int xn, MemorySegment sq,
                                       int n, float k, float scale) {
        long rowB = (long) LB * Float.BYTES;
        for (int c = 0; c < cg; c++) {
            long ib = base + c * plane, sb = c * rowB;
            for (int x = 0; x < xn; x += L) {
                long w = sb + x * 4L;
                FloatVector sum = FloatVector.fromMemorySegment(S, sq, w, NO);
                for (int d = 1; d < n; d++) sum = sum.add(FloatVector.fromMemorySegment(S, sq, w + d * rowB, NO));
                FloatVector den = sum.fma(scale, k);
                VectorMask<Float> m = S.indexInRange(x, xn);
                FloatVector a = FloatVector.fromMemorySegment(S, in, ib + x * 4L, NO, m);
                FloatVector r = den.sqrt();
                a.div(r.mul(r.sqrt())).intoMemorySegment(out, ib + x * 4L, NO, m);
            }
        }
    }

    private static void normalise(MemorySegment in, MemorySegment out, long base, long plane, int cg, int xn, MemorySegment sq,
                                  int n, float k, float scale, float beta) {
        long rowB = (long) LB * Float.BYTES;
        FloatVector negBeta = FloatVector.broadcast(S, -beta);
        for (int c = 0; c < cg; c++) {
            long ib = base + c * plane, sb = c * rowB;
            for (int x = 0; x < xn; x += L) {
                long w = sb + x * 4L;
                FloatVector sum = FloatVector.fromMemorySegment(S, sq, w, NO);
                for (int d = 1; d < n; d++) sum = sum.add(FloatVector.fromMemorySegment(S, sq, w + d * rowB, NO));
                FloatVector den = sum.fma(scale, k);
                VectorMask<Float> m = S.indexInRange(x, xn);
                FloatVector a = FloatVector.fromMemorySegment(S, in, ib + x * 4L, NO, m);
                a.mul(den.lanewise(VectorOperators.POW, negBeta)).intoMemorySegment(out, ib + x * 4L, NO, m);
            }
        }
    }
}
