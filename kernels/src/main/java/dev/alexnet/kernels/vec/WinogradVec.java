package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.alexnet.kernels.vec.GemmTiles.L;
import static dev.alexnet.kernels.vec.GemmTiles.NO;
import static dev.alexnet.kernels.vec.GemmTiles.S;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * 3x3, stride 1, pad 1 convolution (+ bias, + optional ReLU) by Winograd's minimal filtering F(2x2, 3x3),
 * with the semantics of {@link dev.alexnet.kernels.ref.ConvRef}, on channels-last activations ({@link Nhwc}).
 *
 * <p>Each 2x2 block of outputs (a tile) is {@code A^T [ (G g G^T) .* (B^T d B) ] A} of the tile's 4x4 input
 * window d: 16 multiplications per input channel instead of 36 (2.25x fewer; 1.94x on 13x13 maps, whose
 * 7x7 tiles cover 14x14 outputs). Per transform position xi (16 of them) the products summed over input
 * channels are a GEMM: M_xi[tile][k] = sum_c V_xi[tile][c] U_xi[c][k], run by {@link Gemm#packed} on the
 * weights' transforms U, made and packed into panels once, here in the constructor.
 *
 * <p>Work: the batch's tiles (image, tile row, tile column) are split into contiguous ranges, one per
 * team member, and each member takes its range in chunks of {@code chunk} tiles: input transform of the
 * chunk (all channels, vectorised over channels) into its V scratch [16][chunk][C], the 16 x G GEMMs into
 * its M scratch [16][chunk][K], then the output transform, bias and ReLU straight into the output. Tiles
 * are independent, so members need no barrier, and the summation order of every output depends only on
 * the shapes and the chunk size, never on the number of threads: results are bitwise reproducible.
 * Scratch for every member is allocated in the constructor; {@link #forward} allocates nothing.
 *
 * <p>Tile rows and columns beyond the padded input (the last tile of an odd map) read zeros, not the
 * buffer's next image or row: garbage there would not change the exact result but would enter its
 * rounding (and a NaN would enter the result).
 *
 * <p>Rounding (why the result stays within the fp32 agreement bound): per output, with unit roundoff u,
 * the error is at most about {@code (C/G + 10) u} times the output transform of the summed magnitudes
 * {@code |A^T| (sum_c |G||g||G^T| .* |B^T||d||B|) |A|} (the input transform rounds twice, U once, the
 * GEMM C/G times, the output transform four times plus the bias); against the direct sum's
 * {@code sum |w||x|} over the window that magnitude is at most (8/3)^2 = 7.1 times larger (rows of
 * |A^T| |G| and |B^T| add up to 8 per dimension where a 3-tap window adds up to 3), so F(2x2, 3x3) costs
 * at most about 3 bits against the direct loop. WinogradVecTest holds every output to that bound.
 */
public final class WinogradVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload

    /** Output tile side (F(2x2, 3x3)) and input tile side. */
    public static final int M = 2, A = 4, XI = A * A;
    /**
     * Tiles per chunk: V and M scratch of a chunk (16 x 64 x 384 floats each at most, 1.5 MiB) stay in L2 and
     * L3 between the three phases, and every packed weight panel is reused by 64 rows of the GEMM.
     */
    public static final int CHUNK = Integer.getInteger("alexnet.winograd.chunk", 64);

    private final ConvShape s;
    private final Nhwc inL, outL;
    private final float lo;
    private final int tilesH, tilesW, tilesPerImage, tiles, chunk;
    private final int ldV, ldM;        // floats per tile row of V (C padded to L) and of M (room for whole panels)
    private final int nv;              // vectors per GEMM panel
    private final long panelStride;    // floats per packed panel (cg steps of nv * L)
    private final long groupStride;    // floats of packed U per (xi, group)
    private final MemorySegment u;     // packed U: [xi][g][panel][c][nv*L]
    private final MemorySegment bias;  // [ldM], zeros beyond K
    private final MemorySegment[] vScratch, mScratch;
    private final Gemm.Workspace[] ws;

    /**
     * @param s       a 3x3, stride 1, pad 1 convolution (see {@link #supports}), batch included
     * @param inL     input layout: C,H,W of {@code s}, zero border of at least 1
     * @param outL    output layout: K,P,Q of {@code s}, any border
     * @param weight  [K, C/G, 3, 3] (OIHW), read only here
     * @param bias    [K] or {@code null}
     * @param members the most team members that will call {@link #forward} (scratch is made for each)
     * @param arena   where the packed weights and the scratch live (shared when members > 1)
     */
    public WinogradVec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena) {
        this(s, inL, outL, weight, bias, relu, members, arena, CHUNK);
    }

    /** As above with another chunk size (tests use small ones to exercise many chunks). */
    public WinogradVec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena, int chunk) {
        if (!supports(s)) throw new IllegalArgumentException("Winograd F(2x2,3x3) needs a 3x3, stride 1, pad 1 convolution, not " + s);
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || inL.padH() < 1 || inL.padW() < 1) {
            throw new IllegalArgumentException("input layout " + inL + " does not fit " + s);
        }
        if (outL.c() != s.k() || outL.h() != s.p() || outL.w() != s.q()) throw new IllegalArgumentException("output layout " + outL + " does not fit " + s);
        if (members < 1 || chunk < 1) throw new IllegalArgumentException("members and chunk must be positive: " + members + ", " + chunk);
        Checks.floats(weight, s.weightSize(), "conv weight");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
        this.s = s;
        this.inL = inL;
        this.outL = outL;
        this.lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        this.tilesH = (s.p() + M - 1) / M;
        this.tilesW = (s.q() + M - 1) / M;
        this.tilesPerImage = tilesH * tilesW;
        this.tiles = s.n() * tilesPerImage;
        this.chunk = Math.min(chunk, tiles);
        int G = s.groups(), cg = s.cg(), kg = s.kg(), K = s.k();
        this.nv = Gemm.bestVectors(kg);
        int panels = Gemm.panels(kg, nv);
        this.ldV = roundUp(s.c(), L);
        // Gemm writes whole panels: group g's last panel spills into group g+1's columns (written after it) or past K
        this.ldM = roundUp(Math.max(K, (G - 1) * kg + panels * nv * L), L);
        this.panelStride = (long) cg * nv * L;
        this.groupStride = panels * panelStride;
        this.u = arena.allocate(XI * G * groupStride * Float.BYTES, 64);
        packWeights(weight);
        this.bias = arena.allocate((long) ldM * Float.BYTES, 64);
        if (bias != null) MemorySegment.copy(bias, 0, this.bias, 0, (long) K * Float.BYTES);
        this.vScratch = new MemorySegment[members];
        this.mScratch = new MemorySegment[members];
        this.ws = new Gemm.Workspace[members];
        for (int i = 0; i < members; i++) {
            vScratch[i] = arena.allocate((long) XI * this.chunk * ldV * Float.BYTES, 64);
            mScratch[i] = arena.allocate((long) XI * this.chunk * ldM * Float.BYTES, 64);
            ws[i] = new Gemm.Workspace(arena);
        }
    }

    /** Whether this kernel computes {@code s}: a 3x3 kernel, stride 1 and pad 1 both ways. */
    public static boolean supports(ConvShape s) {
        return s.r() == 3 && s.s() == 3 && s.strideH() == 1 && s.strideW() == 1 && s.padH() == 1 && s.padW() == 1;
    }

    public ConvShape shape() { return s; }

    private static int roundUp(int x, int m) { return (x + m - 1) / m * m; }

    /**
     * U = G g G^T per (output channel, input channel), in double and rounded once to float, then packed
     * per (xi, group) as the B operand of {@link Gemm#packed} ([c][k] in panels, zeros beyond K/G).
     * G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
     */
    private void packWeights(MemorySegment weight) {
        int G = s.groups(), cg = s.cg(), kg = s.kg();
        double[][] g = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment plain = tmp.allocate((long) XI * cg * kg * Float.BYTES, 64); // one group: [xi][c][k]
            double[] w = new double[9], gw = new double[12];
            for (int gr = 0; gr < G; gr++) {
                for (int k = 0; k < kg; k++) {
                    for (int c = 0; c < cg; c++) {
                        long wo = (((long) (gr * kg + k)) * cg + c) * 9;
                        for (int i = 0; i < 9; i++) w[i] = weight.getAtIndex(JAVA_FLOAT, wo + i);
                        for (int i = 0; i < 4; i++) {
                            for (int j = 0; j < 3; j++) gw[i * 3 + j] = g[i][0] * w[j] + g[i][1] * w[3 + j] + g[i][2] * w[6 + j];
                        }
                        for (int i = 0; i < 4; i++) {
                            for (int j = 0; j < 4; j++) {
                                double v = gw[i * 3] * g[j][0] + gw[i * 3 + 1] * g[j][1] + gw[i * 3 + 2] * g[j][2];
                                plain.setAtIndex(JAVA_FLOAT, ((long) (i * 4 + j) * cg + c) * kg + k, (float) v);
                            }
                        }
                    }
                }
                for (int xi = 0; xi < XI; xi++) {
                    Gemm.packB(plain, (long) xi * cg * kg, kg, 1, 0, cg, 0, kg, nv, u, (xi * (long) G + gr) * groupStride, panelStride);
                }
            }
        }
    }

    /** This member's share of the batch's tiles. */
    public void forward(MemorySegment out, MemorySegment in, int member, int members) {
        if (member >= vScratch.length) throw new IllegalArgumentException("member " + member + " of a kernel made for " + vScratch.length);
        Checks.floats(in, s.n() * inL.imageFloats(), "conv input");
        Checks.floats(out, s.n() * outL.imageFloats(), "conv output");
        int t0 = ThreadTeam.from(tiles, member, members), t1 = ThreadTeam.from(tiles, member + 1, members);
        MemorySegment v = vScratch[member], m = mScratch[member];
        for (int c0 = t0; c0 < t1; c0 += chunk) {
            int nt = Math.min(chunk, t1 - c0);
            for (int t = 0; t < nt; t++) inputTile(in, c0 + t, v, (long) t * ldV * 4);
            gemms(nt, v, m, ws[member]);
            for (int t = 0; t < nt; t++) outputTile(out, c0 + t, m, (long) t * ldM * 4);
        }
    }

    /** The 16 x G products of one chunk of {@code nt} tiles. */
    private void gemms(int nt, MemorySegment v, MemorySegment m, Gemm.Workspace w) {
        int G = s.groups(), cg = s.cg(), kg = s.kg();
        for (int xi = 0; xi < XI; xi++) {
            for (int gr = 0; gr < G; gr++) {
                Gemm.packed(nt, kg, cg, v, (long) xi * chunk * ldV + gr * cg, ldV, u, (xi * (long) G + gr) * groupStride, panelStride, nv,
                        m, (long) xi * chunk * ldM + gr * kg, ldM, false, true, w);
            }
        }
    }

    /** V = B^T d B for global tile {@code t}, every channel, into V at byte offset {@code vo} (per xi: chunk * ldV floats apart). */
    private void inputTile(MemorySegment in, int t, MemorySegment v, long vo) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * M, x0 = tx * M; // in conv-padded coordinates (pad 1)
        int rv = Math.min(A, s.h() + 2 - y0), cv = Math.min(A, s.w() + 2 - x0);
        int C = s.c();
        long pixB = (long) C * 4, rowB = (long) inL.wp() * C * 4;
        long o = ((long) n * inL.imageFloats() + ((long) (inL.padH() - 1 + y0) * inL.wp() + inL.padW() - 1 + x0) * C) * 4;
        long xiB = (long) chunk * ldV * 4;
        int full = C / L * L;
        for (int c = 0; c < full; c += L) {
            inputVec(in, o + c * 4L, rowB, pixB, rv, cv, S.maskAll(true), v, vo + c * 4L, xiB);
        }
        if (full < C) inputVec(in, o + full * 4L, rowB, pixB, rv, cv, S.indexInRange(0, C - full), v, vo + full * 4L, xiB);
    }

    /** One input element vector: zero outside the padded input (row >= rv or column >= cv). */
    private static FloatVector ld(MemorySegment in, long o, boolean ok, VectorMask<Float> mk) {
        return ok ? FloatVector.fromMemorySegment(S, in, o, NO, mk) : FloatVector.zero(S);
    }

    /**
     * B^T d B for L channels: B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]; rows first,
     * then columns; element (i, j) goes to xi = 4i + j.
     */
    private static void inputVec(MemorySegment in, long o, long rowB, long pixB, int rv, int cv, VectorMask<Float> mk,
                                 MemorySegment v, long vo, long xiB) {
        long o1 = o + rowB, o2 = o1 + rowB, o3 = o2 + rowB;
        boolean c1 = cv > 1, c2 = cv > 2, c3 = cv > 3;
        boolean r1 = rv > 1, r2 = rv > 2, r3 = rv > 3;
        FloatVector d00 = ld(in, o, true, mk), d01 = ld(in, o + pixB, c1, mk), d02 = ld(in, o + 2 * pixB, c2, mk), d03 = ld(in, o + 3 * pixB, c3, mk);
        FloatVector d10 = ld(in, o1, r1, mk), d11 = ld(in, o1 + pixB, r1 && c1, mk), d12 = ld(in, o1 + 2 * pixB, r1 && c2, mk), d13 = ld(in, o1 + 3 * pixB, r1 && c3, mk);
        FloatVector d20 = ld(in, o2, r2, mk), d21 = ld(in, o2 + pixB, r2 && c1, mk), d22 = ld(in, o2 + 2 * pixB, r2 && c2, mk), d23 = ld(in, o2 + 3 * pixB, r2 && c3, mk);
        FloatVector d30 = ld(in, o3, r3, mk), d31 = ld(in, o3 + pixB, r3 && c1, mk), d32 = ld(in, o3 + 2 * pixB, r3 && c2, mk), d33 = ld(in, o3 + 3 * pixB, r3 && c3, mk);
        // t = B^T d
        FloatVector t00 = d00.sub(d20), t01 = d01.sub(d21), t02 = d02.sub(d22), t03 = d03.sub(d23);
        FloatVector t10 = d10.add(d20), t11 = d11.add(d21), t12 = d12.add(d22), t13 = d13.add(d23);
        FloatVector t20 = d20.sub(d10), t21 = d21.sub(d11), t22 = d22.sub(d12), t23 = d23.sub(d13);
        FloatVector t30 = d10.sub(d30), t31 = d11.sub(d31), t32 = d12.sub(d32), t33 = d13.sub(d33);
        // V = t B
        row(v, vo, xiB, t00, t01, t02, t03);
        row(v, vo + 4 * xiB, xiB, t10, t11, t12, t13);
        row(v, vo + 8 * xiB, xiB, t20, t21, t22, t23);
        row(v, vo + 12 * xiB, xiB, t30, t31, t32, t33);
    }

    private static void row(MemorySegment v, long o, long xiB, FloatVector a, FloatVector b, FloatVector c, FloatVector d) {
        a.sub(c).intoMemorySegment(v, o, NO);
        b.add(c).intoMemorySegment(v, o + xiB, NO);
        c.sub(b).intoMemorySegment(v, o + 2 * xiB, NO);
        b.sub(d).intoMemorySegment(v, o + 3 * xiB, NO);
    }

    /** Y = A^T M A + bias (then ReLU) for global tile {@code t}, every output channel, from M at byte offset {@code mo}. */
    private void outputTile(MemorySegment out, int t, MemorySegment m, long mo) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * M, x0 = tx * M;
        boolean r1 = y0 + 1 < s.p(), c1 = x0 + 1 < s.q();
        int K = s.k();
        long pixB = (long) K * 4, rowB = (long) outL.wp() * K * 4;
        long o = ((long) n * outL.imageFloats() + outL.offset(y0, x0)) * 4;
        long xiB = (long) chunk * ldM * 4;
        int full = K / L * L;
        for (int k = 0; k < full; k += L) outputVec(out, o + k * 4L, rowB, pixB, r1, c1, S.maskAll(true), m, mo + k * 4L, xiB, bias, k * 4L, lo);
        if (full < K) outputVec(out, o + full * 4L, rowB, pixB, r1, c1, S.indexInRange(0, K - full), m, mo + full * 4L, xiB, bias, full * 4L, lo);
    }

    /** A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]: rows first, then columns, then bias and the ReLU floor {@code lo}. */
    private static void outputVec(MemorySegment out, long o, long rowB, long pixB, boolean r1, boolean c1, VectorMask<Float> mk,
                                  MemorySegment m, long mo, long xiB, MemorySegment bias, long bo, float lo) {
        FloatVector m00 = mv(m, mo, 0, xiB), m01 = mv(m, mo, 1, xiB), m02 = mv(m, mo, 2, xiB), m03 = mv(m, mo, 3, xiB);
        FloatVector m10 = mv(m, mo, 4, xiB), m11 = mv(m, mo, 5, xiB), m12 = mv(m, mo, 6, xiB), m13 = mv(m, mo, 7, xiB);
        FloatVector m20 = mv(m, mo, 8, xiB), m21 = mv(m, mo, 9, xiB), m22 = mv(m, mo, 10, xiB), m23 = mv(m, mo, 11, xiB);
        FloatVector m30 = mv(m, mo, 12, xiB), m31 = mv(m, mo, 13, xiB), m32 = mv(m, mo, 14, xiB), m33 = mv(m, mo, 15, xiB);
        FloatVector s00 = m00.add(m10).add(m20), s01 = m01.add(m11).add(m21), s02 = m02.add(m12).add(m22), s03 = m03.add(m13).add(m23);
        FloatVector s10 = m10.sub(m20).sub(m30), s11 = m11.sub(m21).sub(m31), s12 = m12.sub(m22).sub(m32), s13 = m13.sub(m23).sub(m33);
        FloatVector b = FloatVector.fromMemorySegment(S, bias, bo, NO);
        FloatVector y00 = s00.add(s01).add(s02).add(b).max(lo), y01 = s01.sub(s02).sub(s03).add(b).max(lo);
        FloatVector y10 = s10.add(s11).add(s12).add(b).max(lo), y11 = s11.sub(s12).sub(s13).add(b).max(lo);
        y00.intoMemorySegment(out, o, NO, mk);
        if (c1) y01.intoMemorySegment(out, o + pixB, NO, mk);
        if (r1) {
            y10.intoMemorySegment(out, o + rowB, NO, mk);
            if (c1) y11.intoMemorySegment(out, o + rowB + pixB, NO, mk);
        }
    }

    private static FloatVector mv(MemorySegment m, long mo, int xi, long xiB) {
        return FloatVector.fromMemorySegment(S, m, mo + xi * xiB, NO);
    }
}
