package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.PoolShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Max pooling with the semantics of {@link dev.alexnet.kernels.ref.MaxPoolRef} (padding never wins) on
 * channels-last activations: each output pixel is the lane-wise max of the window's input pixels, one
 * vector of L channels at a time; the window is clipped to the image, so the input border is ignored.
 * Exact (max is exact). Memory-bound: every input row is read from cache about kernel/stride times.
 * AlexNet's 3x3/2 without padding (C a multiple of L) shares the column maxima of neighbouring windows
 * ({@link #pool3s2}). Work units: (image, output row), contiguous ranges per thread.
 */
public final class MaxPoolVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();

    private MaxPoolVec() {}

    public static int units(PoolShape s) { return s.n() * s.p(); }

    public static void forward(MemorySegment out, Nhwc outL, MemorySegment in, Nhwc inL, PoolShape s, int member, int members) {
        int units = units(s);
        forwardUnits(out, outL, in, inL, s, ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** Output rows [u0, u1) of the batch, u = n*P + p. */
    public static void forwardUnits(MemorySegment out, Nhwc outL, MemorySegment in, Nhwc inL, PoolShape s, int u0, int u1) {
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || outL.c() != s.c() || outL.h() != s.p() || outL.w() != s.q()) {
            throw new IllegalArgumentException("layouts " + inL + " -> " + outL + " do not fit " + s);
        }
        Checks.floats(in, s.n() * inL.imageFloats(), "pool input");
        Checks.floats(out, s.n() * outL.imageFloats(), "pool output");
        int C = s.c(), P = s.p(), Q = s.q(), k = s.kernel(), st = s.stride(), pad = s.pad();
        if (k == 3 && st == 2 && pad == 0 && C % L == 0) {
            pool3s2(out, outL, in, inL, s, u0, u1);
            return;
        }
        int cMain = S.loopBound(C);
        VectorMask<Float> tail = S.indexInRange(cMain, C);
        long pixB = (long) C * Float.BYTES, rowB = (long) inL.wp() * pixB;
        for (int u = u0; u < u1; u++) {
            int n = u / P, p = u % P;
            int y0 = Math.max(0, p * st - pad), y1 = Math.min(s.h(), p * st - pad + k);
            long inImg = n * inL.imageFloats() * Float.BYTES, outImg = n * outL.imageFloats() * Float.BYTES;
            for (int q = 0; q < Q; q++) {
                int x0 = Math.max(0, q * st - pad), x1 = Math.min(s.w(), q * st - pad + k);
                long ib = inImg + inL.offset(y0, x0) * Float.BYTES;
                long ob = outImg + outL.offset(p, q) * Float.BYTES;
                int ny = y1 - y0, nx = x1 - x0;
                for (int c = 0; c < cMain; c += L) {
                    long cb = ib + (long) c * Float.BYTES;
                    FloatVector m = FloatVector.fromMemorySegment(S, in, cb, NO);
                    for (int y = 0; y < ny; y++) {
                        long rb = cb + y * rowB;
                        for (int x = 0; x < nx; x++) m = m.max(FloatVector.fromMemorySegment(S, in, rb + x * pixB, NO));
                    }
                    m.intoMemorySegment(out, ob + (long) c * Float.BYTES, NO);
                }
                if (cMain < C) {
                    long cb = ib + (long) cMain * Float.BYTES;
                    FloatVector m = FloatVector.fromMemorySegment(S, in, cb, NO, tail);
                    for (int y = 0; y < ny; y++) {
                        long rb = cb + y * rowB;
                        for (int x = 0; x < nx; x++) m = m.max(FloatVector.fromMemorySegment(S, in, rb + x * pixB, NO, tail));
                    }
                    m.intoMemorySegment(out, ob + (long) cMain * Float.BYTES, NO, tail);
                }
            }
        }
    }

    /**
     * 3x3/2 without padding, C a multiple of L (every AlexNet pooling): per output row and vector of
     * channels, the column maxima of the three input rows at pixels 2q, 2q+1, 2q+2, the last carried to
     * q + 1 as the next one's first: 6 loads and 6 max per output vector instead of 9 and 8.
     */
    private static void pool3s2(MemorySegment out, Nhwc outL, MemorySegment in, Nhwc inL, PoolShape s, int u0, int u1) {
        int C = s.c(), P = s.p(), Q = s.q();
        long pixB = (long) C * Float.BYTES, rowB = (long) inL.wp() * pixB, outPixB = (long) outL.c() * Float.BYTES;
        for (int u = u0; u < u1; u++) {
            int n = u / P, p = u % P;
            long ib = (n * inL.imageFloats() + inL.offset(2 * p, 0)) * Float.BYTES;
            long ob = (n * outL.imageFloats() + outL.offset(p, 0)) * Float.BYTES;
            for (int c = 0; c < C; c += L) {
                long cb = ib + c * 4L, o = ob + c * 4L;
                FloatVector v0 = FloatVector.fromMemorySegment(S, in, cb, NO);
                for (int r = 1; r < 3; r++) v0 = v0.max(FloatVector.fromMemorySegment(S, in, cb + r * rowB, NO));
                for (int q = 0; q < Q; q++, o += outPixB) {
                    long x = cb + (2L * q + 1) * pixB;
                    FloatVector v1 = FloatVector.fromMemorySegment(S, in, x, NO), v2 = FloatVector.fromMemorySegment(S, in, x + pixB, NO);
                    for (int r = 1; r < 3; r++) {
                        v1 = v1.max(FloatVector.fromMemorySegment(S, in, x + r * rowB, NO));
                        v2 = v2.max(FloatVector.fromMemorySegment(S, in, x + r * rowB + pixB, NO));
                    }
                    v0.max(v1).max(v2).intoMemorySegment(out, o, NO);
                    v0 = v2;
                }
            }
        }
    }
}
