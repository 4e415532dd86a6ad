package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Max pooling and LRN directly on NCHW rows, for a pooling or LRN layer whose input and output are both
 * NCHW (a program's boundary, e.g. a single-layer program): two reorders around the channels-last
 * kernels would cost more than the layer itself.
 *
 * <p>Pooling ({@link dev.alexnet.kernels.ref.MaxPoolRef} semantics: padding never wins). AlexNet's 3x3
 * stride 2 without padding reads the input directly, no scratch: per output row and chunk of L outputs,
 * the vertical maxima of three rows over 2L (+ L) input columns (the last L carried to the next chunk), then
 * even lanes, odd lanes and even lanes shifted by one (constant permutes) give the windows' three columns;
 * narrow planes (Q < L: pool2, pool5) take one masked chunk per row and carry row 2p + 2 to the next output
 * row, with one-vector permutes when 2Q + 1 <= L (pool5's 13 columns). Other shapes (and the last planes of the input, where whole-vector reads would
 * pass its end): the lane-wise max of the window's rows into a per-thread scratch row framed by -inf
 * ({@link #poolScratchFloats}, filled once by {@link #poolScratch}), then the horizontal max from it:
 * stride 1 directly, stride 2 by even-lane permutes, other strides lane by lane. Exact. Work units:
 * (image, channel) planes.
 *
 * <p>LRN ({@link dev.alexnet.kernels.ref.LrnRef} semantics): LRN is pointwise over the H*W plane, so it
 * vectorises over pixels. Per (image, channel group, block of up to {@value #LRN_BLOCK} pixels) the
 * channels stream by: output channel c sums the squares of input rows c-2..c+2 (clipped to the group) as
 * an FMA chain straight from the input, whose block rows stay in L1/L2 while they are in the window (no
 * scratch, no second pass), then x * (k + s * sum)^-beta: for the paper's beta x / (sqrt(d) sqrt(sqrt(d))),
 * POW otherwise. (A polynomial d^-0.75 on the integer bits of d was 0-15% faster in cache, but the Vector
 * API's reinterpret casts, run in the interpreter before C2 compiles them, go through heap byte segments
 * and leave those in the JDK accessors' type profile, which slows every convolution kernel compiled
 * afterwards: see {@link Preload}. Kernels here use no reinterpret.) Row ends
 * are a last whole vector overlapping the one before; rows shorter than L use masks. Work units: (image,
 * group, block).
 */
public final class NchwPoolLrn {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /**
     * Constant two-vector shuffles (lanes L.. are the second vector's): even and odd lanes, and a shift by
     * one. A constant shuffle compiles to two permutes and a blend; selectFrom with an index vector
     * measured several times slower here.
     */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i), ODD = VectorShuffle.fromOp(S, i -> 2 * i + 1),
            NEXT = VectorShuffle.fromOp(S, i -> i + 1);

    private NchwPoolLrn() {}

    // ---------------------------------------------------------------- pooling

    public static int poolUnits(PoolShape s) { return s.n() * s.c(); }

    /** Scratch floats per thread: one row framed by pad + 2L on either side. */
    public static long poolScratchFloats(PoolShape s) { return s.w() + 2L * s.pad() + 4L * L + s.kernel(); }

    /**
     * One scratch row of {@link #poolScratchFloats} per team member, filled with -inf and cut once here
     * (when the program is compiled): a slice cut on every call would be an allocation per run.
     */
    public static MemorySegment[] poolScratch(Arena arena, PoolShape s, int members) {
        long bytes = poolScratchFloats(s) * Float.BYTES;
        MemorySegment all = arena.allocate(members * bytes, 64);
        Reorders.fill(all, 0, all.byteSize() / Float.BYTES, Float.NEGATIVE_INFINITY);
        MemorySegment[] rows = new MemorySegment[members];
        for (int m = 0; m < members; m++) rows[m] = all.asSlice(m * bytes, bytes);
        return rows;
    }

    /** @param rows from {@link #poolScratch}, one per member */
    public static void pool(MemorySegment out, MemorySegment in, PoolShape s, MemorySegment[] rows, int member, int members) {
        int units = poolUnits(s);
        poolUnits(out, in, s, rows[member], ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** (image, channel) planes [u0, u1). */
    public static void poolUnits(MemorySegment out, MemorySegment in, PoolShape s, MemorySegment row, int u0, int u1) {
        Checks.floats(in, s.inputSize(), "pool input");
        Checks.floats(out, s.outputSize(), "pool output");
        Checks.floats(row, poolScratchFloats(s), "pool scratch");
        int H = s.h(), W = s.w(), P = s.p(), Q = s.q(), k = s.kernel(), st = s.stride(), pad = s.pad();
        long rowB = (long) W * Float.BYTES, rb0 = (long) (L + pad) * Float.BYTES; // scratch x = -pad sits at L
        boolean k3s2 = k == 3 && st == 2 && pad == 0;
        // the 3x3/2 path reads whole vectors up to 3L floats past a row's start: planes that close to the end go the general way
        long safe = in.byteSize() - (3L * L + 2 * W) * Float.BYTES;
        int uFast = u0;
        if (k3s2) {
            uFast = (int) Math.max(u0, Math.min(u1, safe / (H * rowB)));
            if (Q >= L) for (int u = u0; u < uFast; u++) pool3s2Wide(out, in, u * H * rowB, (long) u * P * Q * Float.BYTES, rowB, P, Q);
            else pool3s2Narrow(out, in, s, u0, uFast);
        }
        for (int u = uFast; u < u1; u++) {
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

    /**
     * 3x3/2 without padding, Q >= L: per output row, chunks of L outputs from the vertical maxima v0, v1, v2
     * of input columns 2q0 .. 2q0 + 3L - 1 (v2 is the next chunk's v0): even and odd lanes of (v0, v1) are
     * the windows' first two columns, the even lanes shifted by one (lane 0 of v2 entering) their third.
     * The last chunk is stored under a mask. (Rows are loops, not unrolled source: C2 stops inlining in a
     * method with many segment loads, and a vector returned by a call that is not inlined is boxed.)
     */
    private static void pool3s2Wide(MemorySegment out, MemorySegment in, long ib, long ob, long rowB, int P, int Q) {
        VectorMask<Float> tail = S.indexInRange(Q - Q % L, Q % L == 0 ? 0 : Q);
        int qFull = Q - Q % L;
        for (int p = 0; p < P; p++) {
            long x = ib + 2 * p * rowB, o = ob + (long) p * Q * Float.BYTES;
            FloatVector v0 = FloatVector.fromMemorySegment(S, in, x, NO);
            for (int r = 1; r < 3; r++) v0 = v0.max(FloatVector.fromMemorySegment(S, in, x + r * rowB, NO));
            for (int q0 = 0; q0 < Q; q0 += L, x += 8L * L) {
                FloatVector v1 = FloatVector.fromMemorySegment(S, in, x + 4L * L, NO), v2 = FloatVector.fromMemorySegment(S, in, x + 8L * L, NO);
                for (int r = 1; r < 3; r++) {
                    v1 = v1.max(FloatVector.fromMemorySegment(S, in, x + r * rowB + 4L * L, NO));
                    v2 = v2.max(FloatVector.fromMemorySegment(S, in, x + r * rowB + 8L * L, NO));
                }
                FloatVector e = v0.rearrange(EVEN, v1);
                FloatVector m = e.max(v0.rearrange(ODD, v1)).max(e.rearrange(NEXT, v2));
                if (q0 < qFull) m.intoMemorySegment(out, o + 4L * q0, NO);
                else m.intoMemorySegment(out, o + 4L * q0, NO, tail);
                v0 = v2;
            }
        }
    }

    /** Lanes (2i, 2i + 1, i + 1) mod L: the permutes of pool3s2Narrow when one vector holds a row's 2Q + 1 columns. */
    private static final VectorShuffle<Float> EVEN1 = VectorShuffle.fromOp(S, i -> (2 * i) & (L - 1)),
            ODD1 = VectorShuffle.fromOp(S, i -> (2 * i + 1) & (L - 1)), NEXT1 = VectorShuffle.fromOp(S, i -> (i + 1) & (L - 1));

    /**
     * 3x3/2 without padding, Q < L: one masked chunk per output row; row 2p + 2 is carried to row p + 1.
     * 2Q + 1 <= L (pool5's 13 columns): one vector per row and one-vector permutes.
     */
    private static void pool3s2Narrow(MemorySegment out, MemorySegment in, PoolShape s, int u0, int u1) {
        int P = s.p(), Q = s.q();
        long rowB = (long) s.w() * Float.BYTES, planeB = s.h() * rowB, qB = (long) Q * Float.BYTES;
        VectorMask<Float> m = S.indexInRange(0, Q);
        if (2 * Q + 1 <= L) {
            for (int u = u0; u < u1; u++) {
                long ib = u * planeB, ob = u * P * qB;
                FloatVector r0 = FloatVector.fromMemorySegment(S, in, ib, NO);
                for (int p = 0; p < P; p++) {
                    long x = ib + (2 * p + 1) * rowB;
                    FloatVector r2 = FloatVector.fromMemorySegment(S, in, x + rowB, NO);
                    FloatVector v = r0.max(FloatVector.fromMemorySegment(S, in, x, NO)).max(r2);
                    FloatVector e = v.rearrange(EVEN1);
                    e.max(v.rearrange(ODD1)).max(e.rearrange(NEXT1)).intoMemorySegment(out, ob + p * qB, NO, m);
                    r0 = r2;
                }
            }
            return;
        }
        for (int u = u0; u < u1; u++) {
            long ib = u * planeB, ob = u * P * qB;
            FloatVector a0 = FloatVector.fromMemorySegment(S, in, ib, NO), b0 = FloatVector.fromMemorySegment(S, in, ib + 4L * L, NO);
            for (int p = 0; p < P; p++) {
                long x = ib + (2 * p + 1) * rowB;
                FloatVector a2 = FloatVector.fromMemorySegment(S, in, x + rowB, NO), b2 = FloatVector.fromMemorySegment(S, in, x + rowB + 4L * L, NO);
                FloatVector a = a0.max(FloatVector.fromMemorySegment(S, in, x, NO)).max(a2);
                FloatVector b = b0.max(FloatVector.fromMemorySegment(S, in, x + 4L * L, NO)).max(b2);
                FloatVector e = a.rearrange(EVEN, b);
                e.max(a.rearrange(ODD, b)).max(e.rearrange(NEXT, e)).intoMemorySegment(out, ob + p * qB, NO, m);
                a0 = a2;
                b0 = b2;
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
        for (int q = 0; q < Q; q += L) {
            long b = (long) (L + 2 * q) * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, row, b, NO).rearrange(EVEN, FloatVector.fromMemorySegment(S, row, b + L * 4L, NO));
            for (int d = 1; d < k; d++) {
                long bd = b + d * 4L;
                v = v.max(FloatVector.fromMemorySegment(S, row, bd, NO).rearrange(EVEN, FloatVector.fromMemorySegment(S, row, bd + L * 4L, NO)));
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

    /** Most pixels per LRN block: the window's rows (size of them) stay in L1/L2 while the channels stream by. */
    static final int LRN_BLOCK = 1024;

    public static int lrnUnits(LrnShape s) {
        return s.n() * s.channelGroups() * lrnBlocks(s);
    }

    /**
     * Blocks per plane: LRN_BLOCK pixels at most, and at least two units in all where the plane allows
     * (batch 1 with one channel group, two threads); more blocks than needed cost about 6% at batch 1.
     */
    private static int lrnBlocks(LrnShape s) {
        long hw = (long) s.h() * s.w();
        int nb = (int) ((hw + LRN_BLOCK - 1) / LRN_BLOCK), planes = s.n() * s.channelGroups();
        if ((long) planes * nb < 2 && hw >= 8L * L) nb = 2;
        return nb;
    }

    /** Pixels per block: hw split evenly into lrnBlocks, rounded up to whole vectors. */
    private static int lrnBlockPixels(LrnShape s) {
        int hw = s.h() * s.w(), nb = lrnBlocks(s);
        int b = (hw + nb - 1) / nb;
        return (b + L - 1) / L * L;
    }

    public static void lrn(MemorySegment out, MemorySegment in, LrnShape s, int member, int members) {
        int units = lrnUnits(s);
        lrnUnits(out, in, s, ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** (image, channel group, block of pixels) [u0, u1). */
    public static void lrnUnits(MemorySegment out, MemorySegment in, LrnShape s, int u0, int u1) {
        Checks.floats(in, s.size(), "lrn input");
        Checks.floats(out, s.size(), "lrn output");
        LrnParams lp = s.params();
        int C = s.c(), G = s.channelGroups(), cg = C / G, half = lp.size() / 2, nb = lrnBlocks(s), B = lrnBlockPixels(s);
        int hw = s.h() * s.w();
        long planeB = (long) hw * Float.BYTES;
        boolean paper = lp.beta() == 0.75f && lp.k() >= Float.MIN_NORMAL; // d >= k > 0: the square roots are finite
        float k = lp.k(), scale = lp.scale(), beta = lp.beta();
        for (int u = u0; u < u1; u++) {
            int blk = u % nb, ig = u / nb; // ig = img * G + g: groups are contiguous channel ranges
            int x0 = blk * B, xn = Math.min(B, hw - x0);
            long base = (long) ig * cg * planeB + x0 * 4L;
            for (int c = 0; c < cg; c++) {
                int lo = Math.max(0, c - half) - c, hi = Math.min(cg - 1, c + half) - c;
                long cb = base + c * planeB;
                if (paper && xn >= L) lrnPaper(in, out, cb, planeB, lo, hi, xn, k, scale);
                else lrnGeneral(in, out, cb, planeB, lo, hi, xn, k, scale, beta, paper);
            }
        }
    }

    /**
     * Channel row cb, pixels [0, xn), xn >= L: whole vectors, the last one overlapping its predecessor (the
     * output is a pure function of the input, so the overlap rewrites equal values). One copy of the body
     * keeps the method small for C2, which stops inlining in a method with many nodes (segment accesses
     * and vector operations are costly in nodes) and then boxes the vectors passed through the calls.
     */
    private static void lrnPaper(MemorySegment in, MemorySegment out, long cb, long planeB, int lo, int hi, int xn, float k, float scale) {
        if (lo == -2 && hi == 2) {
            lrnPaper5(in, out, cb, planeB, xn, k, scale);
            return;
        }
        for (int x = 0; x < xn; x += L) {
            long o = cb + Math.min(x, xn - L) * 4L;
            FloatVector v = FloatVector.fromMemorySegment(S, in, o + lo * planeB, NO);
            FloatVector sum = v.mul(v);
            for (int d = lo + 1; d <= hi; d++) {
                v = FloatVector.fromMemorySegment(S, in, o + d * planeB, NO);
                sum = v.fma(v, sum);
            }
            FloatVector r = sum.fma(scale, k).sqrt();
            FloatVector.fromMemorySegment(S, in, o, NO).div(r.mul(r.sqrt())).intoMemorySegment(out, o, NO);
        }
    }

    /**
     * lrnPaper for the full window of five channels (the interior of every group), unrolled, two vectors
     * per step so the two square-root chains overlap on the divider.
     */
    private static void lrnPaper5(MemorySegment in, MemorySegment out, long cb, long planeB, int xn, float k, float scale) {
        long m2 = cb - 2 * planeB, m1 = cb - planeB, p1 = cb + planeB, p2 = cb + 2 * planeB;
        for (int x = 0; x < xn; x += 2 * L) {
            long xa = Math.min(x, xn - L) * 4L, xb = Math.min(x + L, xn - L) * 4L;
            FloatVector a = FloatVector.fromMemorySegment(S, in, cb + xa, NO);
            FloatVector v0 = FloatVector.fromMemorySegment(S, in, m2 + xa, NO), v1 = FloatVector.fromMemorySegment(S, in, m1 + xa, NO);
            FloatVector v3 = FloatVector.fromMemorySegment(S, in, p1 + xa, NO), v4 = FloatVector.fromMemorySegment(S, in, p2 + xa, NO);
            FloatVector sum = v4.fma(v4, v3.fma(v3, a.fma(a, v1.fma(v1, v0.mul(v0)))));
            FloatVector b = FloatVector.fromMemorySegment(S, in, cb + xb, NO);
            FloatVector w0 = FloatVector.fromMemorySegment(S, in, m2 + xb, NO), w1 = FloatVector.fromMemorySegment(S, in, m1 + xb, NO);
            FloatVector w3 = FloatVector.fromMemorySegment(S, in, p1 + xb, NO), w4 = FloatVector.fromMemorySegment(S, in, p2 + xb, NO);
            FloatVector sumB = w4.fma(w4, w3.fma(w3, b.fma(b, w1.fma(w1, w0.mul(w0)))));
            FloatVector r = sum.fma(scale, k).sqrt(), rb = sumB.fma(scale, k).sqrt();
            a.div(r.mul(r.sqrt())).intoMemorySegment(out, cb + xa, NO);
            b.div(rb.mul(rb.sqrt())).intoMemorySegment(out, cb + xb, NO);
        }
    }

    /** Any beta and rows shorter than L: masked vectors, x^-beta by POW (by square roots for beta = 0.75). */
    private static void lrnGeneral(MemorySegment in, MemorySegment out, long cb, long planeB, int lo, int hi, int xn,
                                   float k, float scale, float beta, boolean paper) {
        FloatVector negBeta = FloatVector.broadcast(S, -beta);
        for (int x = 0; x < xn; x += L) {
            long o = cb + x * 4L;
            VectorMask<Float> m = S.indexInRange(x, xn);
            FloatVector v = FloatVector.fromMemorySegment(S, in, o + lo * planeB, NO, m);
            FloatVector sum = v.mul(v);
            for (int d = lo + 1; d <= hi; d++) {
                v = FloatVector.fromMemorySegment(S, in, o + d * planeB, NO, m);
                sum = v.fma(v, sum);
            }
            FloatVector den = sum.fma(scale, k), a = FloatVector.fromMemorySegment(S, in, o, NO, m);
            FloatVector r = den.sqrt();
            (paper ? a.div(r.mul(r.sqrt())) : a.mul(den.lanewise(VectorOperators.POW, negBeta))).intoMemorySegment(out, o, NO, m);
        }
    }
}
