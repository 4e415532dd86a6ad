package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The explicit reorders between the public NCHW boundary and the internal channels-last {@link Nhwc}
 * layout: both directions are L x L tile transposes in registers (L = 16 on AVX-512). A tile is L
 * channels x L pixels of one row: L vector loads along one side (x for NCHW, channels for NHWC), four
 * perfect-shuffle stages of two-source permutes ({@code selectFrom}, vpermi2ps), L vector stores along
 * the other. Partial tiles (C or W not a multiple of L, e.g. conv1's C = 3 and W = 227) use masked
 * loads and stores and repeated rows, so there is no scalar tail. With another vector length the scalar
 * blocked loops run. Work units: (image, row y); a team splits them. Within a member's rows of one image
 * the channel blocks are the outer loop, so the NCHW side streams through L planes at a time rather than
 * through all C planes per row (96 streams for conv1's output), which the hardware prefetchers cannot
 * follow. Three channels (the network's RGB input) have their own interleave ({@link #interleave3}).
 */
public final class Reorders {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    static final int CB = 16;
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final boolean TILED = L == 16;
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Perfect-shuffle indices: lane p of lo = a[p/2] or b[p/2] (p odd); hi the same from the upper halves. */
    static final float[] LO = new float[L], HI = new float[L];
    static {
        for (int p = 0; p < L; p++) {
            LO[p] = (p >> 1) + (p & 1) * L;
            HI[p] = L / 2 + (p >> 1) + (p & 1) * L;
        }
    }

    /**
     * Three-channel interleave (the network's RGB input): output vector o, lane j holds float f = L*o + j of
     * the pixels' channels-last run, i.e. channel f % 3 of pixel f / 3. Channels 0 and 1 come from one
     * two-source permute ({@code I01}: pixel, or L + pixel), channel 2 from a one-source permute blended in.
     */
    static final float[][] I01 = new float[3][L], I2 = new float[3][L];
    static final boolean[][] FROM2 = new boolean[3][L];
    static {
        for (int o = 0; o < 3; o++) for (int j = 0; j < L; j++) {
            int f = L * o + j, p = f / 3, ch = f % 3;
            I01[o][j] = ch == 1 ? L + p : p;
            I2[o][j] = p;
            FROM2[o][j] = ch == 2;
        }
    }

    private Reorders() {}

    public static int units(int n, Nhwc l) { return n * l.h(); }

    /** NCHW [n][C][H][W] to the interior of {@code outL} (its border untouched), rows [u0, u1) of the batch. */
    public static void nchwToNhwc(MemorySegment out, Nhwc outL, MemorySegment in, int n, int u0, int u1) {
        Checks.floats(in, n * outL.interior(), "reorder input");
        Checks.floats(out, n * outL.imageFloats(), "reorder output");
        if (TILED) nchwToNhwcTiled(out, outL, in, u0, u1, 0);
        else nchwToNhwcScalar(out, outL, in, u0, u1, 0);
    }

    /**
     * Image {@code img} of NCHW {@code in} to the interior of the one channels-last image in {@code out}
     * (its border untouched): for a consumer that runs a batch image by image from a buffer of one image.
     */
    public static void nchwImageToNhwc(MemorySegment out, Nhwc outL, MemorySegment in, int img) {
        Checks.floats(in, (img + 1L) * outL.interior(), "reorder input");
        Checks.floats(out, outL.imageFloats(), "reorder output");
        int h = outL.h();
        if (TILED) nchwToNhwcTiled(out, outL, in, img * h, (img + 1) * h, img);
        else nchwToNhwcScalar(out, outL, in, img * h, (img + 1) * h, img);
    }

    /** The interior of {@code inL} to NCHW [n][C][H][W], rows [u0, u1) of the batch. */
    public static void nhwcToNchw(MemorySegment out, MemorySegment in, Nhwc inL, int n, int u0, int u1) {
        Checks.floats(in, n * inL.imageFloats(), "reorder input");
        Checks.floats(out, n * inL.interior(), "reorder output");
        if (TILED) nhwcToNchwTiled(out, in, inL, u0, u1, 0);
        else nhwcToNchwScalar(out, in, inL, u0, u1, 0);
    }

    /**
     * The interior of the one channels-last image in {@code in} to image {@code img} of NCHW {@code out}: for
     * a producer that computes a batch image by image into a buffer of one image.
     */
    public static void nhwcImageToNchw(MemorySegment out, int img, MemorySegment in, Nhwc inL) {
        Checks.floats(in, inL.imageFloats(), "reorder input");
        Checks.floats(out, (img + 1L) * inL.interior(), "reorder output");
        int h = inL.h();
        if (TILED) nhwcToNchwTiled(out, in, inL, img * h, (img + 1) * h, img);
        else nhwcToNchwScalar(out, in, inL, img * h, (img + 1) * h, img);
    }

    /** Rows [u0, u1) of the batch; image i of the input goes to image i - {@code outShift} of {@code out}. */
    private static void nchwToNhwcTiled(MemorySegment out, Nhwc outL, MemorySegment in, int u0, int u1, int outShift) {
        int C = outL.c(), H = outL.h(), W = outL.w();
        long plane = (long) H * W * Float.BYTES, pix = (long) C * Float.BYTES;
        for (int u = u0; u < u1; ) { // per image: channel blocks outside, rows inside (see the class comment)
            int img = u / H, y0 = u % H, y1 = Math.min(H, y0 + (u1 - u));
            for (int c0 = 0; c0 < C; c0 += L) {
                int cb = Math.min(L, C - c0);
                for (int y = y0; y < y1; y++) {
                    long ic = (img * outL.interior() + (long) y * W) * Float.BYTES + c0 * plane;
                    long oc = ((img - outShift) * outL.imageFloats() + outL.offset(y, 0)) * Float.BYTES + c0 * 4L;
                    int x0 = 0;
                    if (C == 3) for (; x0 + L <= W; x0 += L) interleave3(in, ic + x0 * 4L, plane, out, oc + x0 * pix);
                    for (; x0 < W; x0 += L) {
                        int xb = Math.min(L, W - x0);
                        tile(in, ic + x0 * 4L, plane, cb, xb, out, oc + x0 * pix, pix, xb, cb);
                    }
                }
            }
            u += y1 - y0;
        }
    }

    /** Rows [u0, u1) of the batch; image i of the output reads image i - {@code inShift} of {@code in}. */
    private static void nhwcToNchwTiled(MemorySegment out, MemorySegment in, Nhwc inL, int u0, int u1, int inShift) {
        int C = inL.c(), H = inL.h(), W = inL.w();
        long plane = (long) H * W * Float.BYTES, pix = (long) C * Float.BYTES;
        for (int u = u0; u < u1; ) { // per image: channel blocks outside, rows inside (see the class comment)
            int img = u / H, y0 = u % H, y1 = Math.min(H, y0 + (u1 - u));
            for (int c0 = 0; c0 < C; c0 += L) {
                int cb = Math.min(L, C - c0);
                for (int y = y0; y < y1; y++) {
                    long ic = ((img - inShift) * inL.imageFloats() + inL.offset(y, 0)) * Float.BYTES + c0 * 4L;
                    long oc = (img * inL.interior() + (long) y * W) * Float.BYTES + c0 * plane;
                    for (int x0 = 0; x0 < W; x0 += L) {
                        int xb = Math.min(L, W - x0);
                        tile(in, ic + x0 * pix, pix, xb, cb, out, oc + x0 * 4L, plane, cb, xb);
                    }
                }
            }
            u += y1 - y0;
        }
    }

    /**
     * One tile: loads rows r < nIn (stride {@code is} bytes) of up to L lanes ({@code mi}), repeats the
     * last row beyond (no vector phi); transposes L x L in registers (4 perfect-shuffle stages of two-source permutes);
     * stores rows r < nOut (stride {@code os} bytes) under {@code mo}.
     */
    static void tile(MemorySegment in, long io, long is, int nIn, int lanesIn,
                     MemorySegment out, long oo, long os, int nOut, int lanesOut) {
        VectorMask<Float> mi = S.indexInRange(0, lanesIn), mo = S.indexInRange(0, lanesOut);
        FloatVector lo = FloatVector.fromArray(S, LO, 0), hi = FloatVector.fromArray(S, HI, 0);
        int last = nIn - 1; // rows beyond nIn repeat the last one: they land in lanes that are not stored
        FloatVector a0 = FloatVector.fromMemorySegment(S, in, io + Math.min(0, last) * is, NO, mi);
        FloatVector a1 = FloatVector.fromMemorySegment(S, in, io + Math.min(1, last) * is, NO, mi);
        FloatVector a2 = FloatVector.fromMemorySegment(S, in, io + Math.min(2, last) * is, NO, mi);
        FloatVector a3 = FloatVector.fromMemorySegment(S, in, io + Math.min(3, last) * is, NO, mi);
        FloatVector a4 = FloatVector.fromMemorySegment(S, in, io + Math.min(4, last) * is, NO, mi);
        FloatVector a5 = FloatVector.fromMemorySegment(S, in, io + Math.min(5, last) * is, NO, mi);
        FloatVector a6 = FloatVector.fromMemorySegment(S, in, io + Math.min(6, last) * is, NO, mi);
        FloatVector a7 = FloatVector.fromMemorySegment(S, in, io + Math.min(7, last) * is, NO, mi);
        FloatVector a8 = FloatVector.fromMemorySegment(S, in, io + Math.min(8, last) * is, NO, mi);
        FloatVector a9 = FloatVector.fromMemorySegment(S, in, io + Math.min(9, last) * is, NO, mi);
        FloatVector a10 = FloatVector.fromMemorySegment(S, in, io + Math.min(10, last) * is, NO, mi);
        FloatVector a11 = FloatVector.fromMemorySegment(S, in, io + Math.min(11, last) * is, NO, mi);
        FloatVector a12 = FloatVector.fromMemorySegment(S, in, io + Math.min(12, last) * is, NO, mi);
        FloatVector a13 = FloatVector.fromMemorySegment(S, in, io + Math.min(13, last) * is, NO, mi);
        FloatVector a14 = FloatVector.fromMemorySegment(S, in, io + Math.min(14, last) * is, NO, mi);
        FloatVector a15 = FloatVector.fromMemorySegment(S, in, io + Math.min(15, last) * is, NO, mi);
        FloatVector b0 = lo.selectFrom(a0, a8), b1 = hi.selectFrom(a0, a8);
        FloatVector b2 = lo.selectFrom(a1, a9), b3 = hi.selectFrom(a1, a9);
        FloatVector b4 = lo.selectFrom(a2, a10), b5 = hi.selectFrom(a2, a10);
        FloatVector b6 = lo.selectFrom(a3, a11), b7 = hi.selectFrom(a3, a11);
        FloatVector b8 = lo.selectFrom(a4, a12), b9 = hi.selectFrom(a4, a12);
        FloatVector b10 = lo.selectFrom(a5, a13), b11 = hi.selectFrom(a5, a13);
        FloatVector b12 = lo.selectFrom(a6, a14), b13 = hi.selectFrom(a6, a14);
        FloatVector b14 = lo.selectFrom(a7, a15), b15 = hi.selectFrom(a7, a15);
        FloatVector c0 = lo.selectFrom(b0, b8), c1 = hi.selectFrom(b0, b8);
        FloatVector c2 = lo.selectFrom(b1, b9), c3 = hi.selectFrom(b1, b9);
        FloatVector c4 = lo.selectFrom(b2, b10), c5 = hi.selectFrom(b2, b10);
        FloatVector c6 = lo.selectFrom(b3, b11), c7 = hi.selectFrom(b3, b11);
        FloatVector c8 = lo.selectFrom(b4, b12), c9 = hi.selectFrom(b4, b12);
        FloatVector c10 = lo.selectFrom(b5, b13), c11 = hi.selectFrom(b5, b13);
        FloatVector c12 = lo.selectFrom(b6, b14), c13 = hi.selectFrom(b6, b14);
        FloatVector c14 = lo.selectFrom(b7, b15), c15 = hi.selectFrom(b7, b15);
        FloatVector d0 = lo.selectFrom(c0, c8), d1 = hi.selectFrom(c0, c8);
        FloatVector d2 = lo.selectFrom(c1, c9), d3 = hi.selectFrom(c1, c9);
        FloatVector d4 = lo.selectFrom(c2, c10), d5 = hi.selectFrom(c2, c10);
        FloatVector d6 = lo.selectFrom(c3, c11), d7 = hi.selectFrom(c3, c11);
        FloatVector d8 = lo.selectFrom(c4, c12), d9 = hi.selectFrom(c4, c12);
        FloatVector d10 = lo.selectFrom(c5, c13), d11 = hi.selectFrom(c5, c13);
        FloatVector d12 = lo.selectFrom(c6, c14), d13 = hi.selectFrom(c6, c14);
        FloatVector d14 = lo.selectFrom(c7, c15), d15 = hi.selectFrom(c7, c15);
        FloatVector e0 = lo.selectFrom(d0, d8), e1 = hi.selectFrom(d0, d8);
        FloatVector e2 = lo.selectFrom(d1, d9), e3 = hi.selectFrom(d1, d9);
        FloatVector e4 = lo.selectFrom(d2, d10), e5 = hi.selectFrom(d2, d10);
        FloatVector e6 = lo.selectFrom(d3, d11), e7 = hi.selectFrom(d3, d11);
        FloatVector e8 = lo.selectFrom(d4, d12), e9 = hi.selectFrom(d4, d12);
        FloatVector e10 = lo.selectFrom(d5, d13), e11 = hi.selectFrom(d5, d13);
        FloatVector e12 = lo.selectFrom(d6, d14), e13 = hi.selectFrom(d6, d14);
        FloatVector e14 = lo.selectFrom(d7, d15), e15 = hi.selectFrom(d7, d15);
        if (0 < nOut) e0.intoMemorySegment(out, oo + 0 * os, NO, mo);
        if (1 < nOut) e1.intoMemorySegment(out, oo + 1 * os, NO, mo);
        if (2 < nOut) e2.intoMemorySegment(out, oo + 2 * os, NO, mo);
        if (3 < nOut) e3.intoMemorySegment(out, oo + 3 * os, NO, mo);
        if (4 < nOut) e4.intoMemorySegment(out, oo + 4 * os, NO, mo);
        if (5 < nOut) e5.intoMemorySegment(out, oo + 5 * os, NO, mo);
        if (6 < nOut) e6.intoMemorySegment(out, oo + 6 * os, NO, mo);
        if (7 < nOut) e7.intoMemorySegment(out, oo + 7 * os, NO, mo);
        if (8 < nOut) e8.intoMemorySegment(out, oo + 8 * os, NO, mo);
        if (9 < nOut) e9.intoMemorySegment(out, oo + 9 * os, NO, mo);
        if (10 < nOut) e10.intoMemorySegment(out, oo + 10 * os, NO, mo);
        if (11 < nOut) e11.intoMemorySegment(out, oo + 11 * os, NO, mo);
        if (12 < nOut) e12.intoMemorySegment(out, oo + 12 * os, NO, mo);
        if (13 < nOut) e13.intoMemorySegment(out, oo + 13 * os, NO, mo);
        if (14 < nOut) e14.intoMemorySegment(out, oo + 14 * os, NO, mo);
        if (15 < nOut) e15.intoMemorySegment(out, oo + 15 * os, NO, mo);
    }

    /**
     * L pixels of a three-channel NCHW row (planes {@code plane} bytes apart) to their 3L channels-last
     * floats: three loads, three permute-and-blend steps, three whole stores (the general tile would do
     * L masked three-lane stores).
     */
    static void interleave3(MemorySegment in, long io, long plane, MemorySegment out, long oo) {
        FloatVector a0 = FloatVector.fromMemorySegment(S, in, io, NO);
        FloatVector a1 = FloatVector.fromMemorySegment(S, in, io + plane, NO);
        FloatVector a2 = FloatVector.fromMemorySegment(S, in, io + 2 * plane, NO);
        for (int o = 0; o < 3; o++) {
            FloatVector ab = FloatVector.fromArray(S, I01[o], 0).selectFrom(a0, a1);
            FloatVector c = FloatVector.fromArray(S, I2[o], 0).selectFrom(a2);
            ab.blend(c, VectorMask.fromArray(S, FROM2[o], 0)).intoMemorySegment(out, oo + (long) o * L * Float.BYTES, NO);
        }
    }

    private static void nchwToNhwcScalar(MemorySegment out, Nhwc outL, MemorySegment in, int u0, int u1, int outShift) {
        int C = outL.c(), H = outL.h(), W = outL.w();
        long hw = (long) H * W;
        for (int u = u0; u < u1; u++) {
            int img = u / H, y = u % H;
            long ib = img * outL.interior() + (long) y * W;
            long ob = (img - outShift) * outL.imageFloats() + outL.offset(y, 0);
            for (int c0 = 0; c0 < C; c0 += CB) {
                int c1 = Math.min(C, c0 + CB);
                for (int x = 0; x < W; x++) {
                    long o = ob + (long) x * C;
                    for (int c = c0; c < c1; c++) out.setAtIndex(JAVA_FLOAT, o + c, in.getAtIndex(JAVA_FLOAT, ib + c * hw + x));
                }
            }
        }
    }

    private static void nhwcToNchwScalar(MemorySegment out, MemorySegment in, Nhwc inL, int u0, int u1, int inShift) {
        int C = inL.c(), H = inL.h(), W = inL.w();
        long hw = (long) H * W;
        for (int u = u0; u < u1; u++) {
            int img = u / H, y = u % H;
            long ib = (img - inShift) * inL.imageFloats() + inL.offset(y, 0);
            long ob = img * inL.interior() + (long) y * W;
            for (int c0 = 0; c0 < C; c0 += CB) {
                int c1 = Math.min(C, c0 + CB);
                for (int x = 0; x < W; x++) {
                    long i = ib + (long) x * C;
                    for (int c = c0; c < c1; c++) out.setAtIndex(JAVA_FLOAT, ob + c * hw + x, in.getAtIndex(JAVA_FLOAT, i + c));
                }
            }
        }
    }

    /** Sets the border of every image of {@code l} (not the interior) to {@code value}; once, at compile time. */
    public static void fillBorder(MemorySegment seg, Nhwc l, int n, float value) {
        if (l.padH() == 0 && l.padW() == 0) return;
        Checks.floats(seg, n * l.imageFloats(), "border");
        long rowF = (long) l.wp() * l.c(), sideF = (long) l.padW() * l.c();
        for (int img = 0; img < n; img++) {
            long base = img * l.imageFloats();
            for (int y = 0; y < l.hp(); y++) {
                long r = base + y * rowF;
                if (y < l.padH() || y >= l.padH() + l.h()) {
                    fill(seg, r, r + rowF, value);
                } else {
                    fill(seg, r, r + sideF, value);
                    fill(seg, r + rowF - sideF, r + rowF, value);
                }
            }
        }
    }

    /** Floats [from, to) of {@code seg} set to {@code value}, whole vectors then one masked store. */
    static void fill(MemorySegment seg, long from, long to, float value) {
        FloatVector v = FloatVector.broadcast(S, value);
        long i = from;
        for (; i + L <= to; i += L) v.intoMemorySegment(seg, i * Float.BYTES, NO);
        if (i < to) v.intoMemorySegment(seg, i * Float.BYTES, NO, S.indexInRange(0, (int) (to - i)));
    }

    /** perm[i] = the NCHW feature index held at channels-last index i of an unpadded C,H,W image (for {@link LinearVec}). */
    public static int[] nhwcToNchwFeatures(int c, int h, int w) {
        int[] perm = new int[c * h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int ch = 0; ch < c; ch++) {
            perm[(y * w + x) * c + ch] = (ch * h + y) * w + x;
        }
        return perm;
    }
}
