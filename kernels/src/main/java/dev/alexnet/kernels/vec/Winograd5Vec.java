package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.alexnet.kernels.vec.ConvTiles.ALL;
import static dev.alexnet.kernels.vec.ConvTiles.L;
import static dev.alexnet.kernels.vec.ConvTiles.LOW62;
import static dev.alexnet.kernels.vec.ConvTiles.NO;
import static dev.alexnet.kernels.vec.ConvTiles.S;
import static dev.alexnet.kernels.vec.ConvTiles.VB;
import static dev.alexnet.kernels.vec.ConvTiles.address;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * 5x5, stride 1, pad 2 convolution (+ bias, + optional ReLU) by Winograd's minimal filtering F(2x2, 5x5),
 * with the semantics of {@link dev.alexnet.kernels.ref.ConvRef}, on channels-last activations ({@link Nhwc}).
 *
 * <p>Each 2x2 block of outputs (a tile) is {@code A^T [ (G g G^T) .* (B^T d B) ] A} of the tile's 6x6 input
 * window d: 36 multiplications per input channel instead of 100 (2.8x fewer; 2.6x on 27x27 maps, whose
 * 14x14 tiles cover 28x28 outputs). The matrices, for the points 0, 1, -1, 2, -2 and infinity:
 * <pre>
 * B^T = [[4,  0, -5,  0, 1, 0],     G = [[ 1/4,     0,    0,     0,    0],    A^T = [[1, 1,  1, 1,  1, 0],
 *        [0, -4, -4,  1, 1, 0],          [-1/6,  -1/6, -1/6,  -1/6, -1/6],           [0, 1, -1, 2, -2, 1]]
 *        [0,  4, -4, -1, 1, 0],          [-1/6,   1/6, -1/6,   1/6, -1/6],
 *        [0, -2, -1,  2, 1, 0],          [1/24,  1/12,  1/6,   1/3,  2/3],
 *        [0,  2, -1, -2, 1, 0],          [1/24, -1/12,  1/6,  -1/3,  2/3],
 *        [0,  4,  0, -5, 0, 1]]          [   0,     0,    0,     0,    1]]
 * </pre>
 * Derivation (Toom-Cook, as Lavin and Gray's F(4x4, 3x3), which shares B^T): the 1D correlation
 * {@code y_i = sum_k g_k d_(i+k)} (i &lt; 2, k &lt; 5) is the transpose of the product of the polynomials
 * g(x) (degree 4) and h(x) (degree 1), which is exact from its values at 6 points. For a finite point p_j,
 * row j of G is {@code c_j (1, p_j, ..., p_j^4)} (g evaluated at p_j) with the Lagrange denominator
 * {@code c_j = 1 / prod_(o != j) (p_j - p_o)} over the other finite points (1/4, -1/6, -1/6, 1/24, 1/24),
 * column j of A^T is {@code (1, p_j)} (h evaluated at p_j), and row j of B^T holds the coefficients of
 * {@code prod_(o != j) (x - p_o)}; the point at infinity takes the leading coefficients: G row (0, 0, 0, 0, 1),
 * A^T column (0, 1) and B^T row {@code x prod (x^2 - p^2)}. Checked exactly in rational arithmetic:
 * {@code sum_j A^T[i][j] G[j][k] B^T[j][l] = [l == i + k]} for every i, k, l; Winograd5VecTest checks the 1D
 * and 2D algorithms in double on random data.
 *
 * <p>Work, as in {@link WinogradVec}: the batch's tiles are split into contiguous ranges, one per team
 * member, taken in chunks of {@code chunk} tiles: the input transform of the chunk (all channels,
 * vectorised over channels) into the member's V scratch [36][chunk][C]; then per panel of 64 output
 * channels (per group) the 36 GEMMs {@code M_xi[tile][k] = sum_c V_xi[tile][c] U_xi[c][k]} on
 * {@link WinogradVec}'s 6x4 micro-kernel into the M scratch [36][chunk][64], and at once that panel's
 * output transform, bias and ReLU into the output. Taking M one panel at a time keeps V and M of a chunk
 * of 24 tiles (C = 96) in about 550 KiB, inside a core's L2. The packed U is ordered as the GEMMs read it
 * ([group][panel][xi][c][64]). The summation order of every output depends only on the shapes, never on
 * the number of threads or the chunk size: results are bitwise reproducible. Scratch is made in the
 * constructor; {@link #forward} allocates nothing.
 *
 * <p>Tiles that reach past the input layout (the last tile row and column of an odd map), and every tile
 * when C is not a multiple of 16, go through a zeroed staging tile; others are read in
 * place, including rows and columns of the layout's zero border beyond the convolution's pad of 2.
 *
 * <p>Rounding (why the result stays within the fp32 agreement bound): per output, with unit roundoff u,
 * the error is at most about {@code (C/G + 13) u} times the output transform of the summed magnitudes
 * {@code |A^T| (sum_c |G||g||G^T| .* |B^T||d||B|) |A|}: each pass of the input transform rounds twice
 * (a fused multiply-add of a partial sum; multiplications by 2 and 4 are exact), U once (made in double), the
 * GEMM C/G times, each pass of the output transform three times, the bias once. Against the direct
 * sum's {@code sum |w||x|} over the window that magnitude is at most 48 times larger for output (0, 0)
 * and 133 times for output (1, 1): per dimension the rows of |A^T| weighted by the row sums of |G| and
 * |B^T| add up to 104/3 and 173/3 where a 5-tap window adds up to 5 (F(2x2, 3x3): 8 against 3, 7.1 times;
 * F(4x4, 3x3): 256 times). Winograd5VecTest holds every output to that bound and measures the error on
 * conv2 and the whole network.
 */
public final class Winograd5Vec {
    static { Preload.classes(); } // before anything here gets hot: see Preload

    /** Output tile side, filter side, input tile side (F(2x2, 5x5)) and transform positions. */
    public static final int M = 2, R = 5, A = 6, XI = A * A;
    /**
     * Tiles per chunk: V and M of a chunk (36 x 24 x (96 + 64) floats for AlexNet's conv2, 550 KiB) stay in
     * L2 between the phases, and every packed weight block is reused by 4 row tiles of the GEMM.
     */
    public static final int CHUNK = Integer.getInteger("alexnet.winograd5.chunk", 24);

    private static final int MR = WinogradVec.MR, NR = WinogradVec.NR, KCB = WinogradVec.KCB;
    /** Source of the first block's accumulators: four vectors of zeros, read with row stride 0. */
    private static final MemorySegment ZEROS = Arena.global().allocate(4 * VB, 64);

    private final ConvShape s;
    private final Nhwc inL, outL;
    private final float lo;

    private final int tilesH, tilesW, tilesPerImage, tiles, chunk, panels;
    private final int rows;            // rows of a chunk's V and M: chunk rounded up to whole micro-kernel tiles
    private final int ldV;             // floats per tile row of V (C padded to L)
    private final long panelStride;    // floats per packed (panel, xi) block: cg steps of NR
    private final MemorySegment u;     // packed U: [g][panel][xi][c][NR]
    private final MemorySegment bias;  // [K + NR], zeros beyond K
    private final MemorySegment[] vScratch, mScratch, stage; // per member: V, M, staging tile + transform rows

    /**
     * @param s       a 5x5, stride 1, pad 2 convolution (see {@link #supports}), batch included
     * @param inL     input layout: C,H,W of {@code s}, a zero border of at least 2 (all of it zero)
     * @param outL    output layout: K,P,Q of {@code s}, any border
     * @param weight  [K, C/G, 5, 5] (OIHW), read only here
     * @param bias    [K] or {@code null}
     * @param members the most team members that will call {@link #forward} (scratch is made for each)
     * @param arena   where the packed weights and the scratch live (shared when members > 1)
     */
    public Winograd5Vec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena) {
        this(s, inL, outL, weight, bias, relu, members, arena, CHUNK);
    }

    /** As above with another chunk size (tests use small ones to exercise many chunks). */
    public Winograd5Vec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena, int chunk) {
        if (!supports(s)) throw new IllegalArgumentException("Winograd F(2x2,5x5) needs a 5x5, stride 1, pad 2 convolution, not " + s);
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || inL.padH() < 2 || inL.padW() < 2) {
            throw new IllegalArgumentException("input layout " + inL + " does not fit " + s);
        }
        if (outL.c() != s.k() || outL.h() != s.p() || outL.w() != s.q()) throw new IllegalArgumentException("output layout " + outL + " does not fit " + s);
        if (members < 1 || chunk < 1) throw new IllegalArgumentException("members and chunk must be positive: " + members + ", " + chunk);
        Checks.floats(weight, s.weightSize(), "conv weight");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
        if (L != 16) throw new IllegalStateException("Winograd5Vec's micro-kernel is written for 16-float vectors, not " + L);
        this.s = s;
        this.inL = inL;
        this.outL = outL;
        this.lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        this.tilesH = (s.p() + M - 1) / M;
        this.tilesW = (s.q() + M - 1) / M;
        this.tilesPerImage = tilesH * tilesW;
        this.tiles = s.n() * tilesPerImage;
        this.chunk = Math.min(chunk, tiles);
        this.rows = roundUp(this.chunk, MR);
        this.panels = (s.kg() + NR - 1) / NR;
        this.ldV = roundUp(s.c(), L);
        this.panelStride = (long) s.cg() * NR;
        this.u = arena.allocate((long) s.groups() * panels * XI * panelStride * Float.BYTES, 64);
        packWeights(weight);
        this.bias = arena.allocate((long) (s.k() + NR) * Float.BYTES, 64);
        if (bias != null) MemorySegment.copy(bias, 0, this.bias, 0, (long) s.k() * Float.BYTES);
        this.vScratch = new MemorySegment[members];
        this.mScratch = new MemorySegment[members];
        this.stage = new MemorySegment[members];
        for (int i = 0; i < members; i++) {
            vScratch[i] = arena.allocate((long) XI * rows * ldV * Float.BYTES, 64);
            mScratch[i] = arena.allocate((long) XI * rows * NR * Float.BYTES, 64);
            stage[i] = arena.allocate(((long) XI * ldV + XI * L) * Float.BYTES, 64);
        }
    }

    /** Whether this kernel computes {@code s}: a 5x5 kernel, stride 1 and pad 2 both ways. */
    public static boolean supports(ConvShape s) {
        return s.r() == R && s.s() == R && s.strideH() == 1 && s.strideW() == 1 && s.padH() == 2 && s.padW() == 2;
    }

    public ConvShape shape() { return s; }

    private static int roundUp(int x, int m) { return (x + m - 1) / m * m; }

    /** G of the class comment, one row per transform position. */
    static final double[][] G = {
            {1 / 4.0, 0, 0, 0, 0},
            {-1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0},
            {-1 / 6.0, 1 / 6.0, -1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0, 1 / 3.0, 2 / 3.0},
            {1 / 24.0, -1 / 12.0, 1 / 6.0, -1 / 3.0, 2 / 3.0},
            {0, 0, 0, 0, 1}};

    /**
     * U = G g G^T per (output channel, input channel), in double and rounded once to float, then packed per
     * (group, panel, xi) as the B operand of the micro-kernel ([c][NR], zeros beyond K/G).
     */
    private void packWeights(MemorySegment weight) {
        int groups = s.groups(), cg = s.cg(), kg = s.kg();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment plain = tmp.allocate((long) XI * cg * kg * Float.BYTES, 64); // one group: [xi][c][k]
            double[] w = new double[R * R], gw = new double[A * R];
            for (int gr = 0; gr < groups; gr++) {
                for (int k = 0; k < kg; k++) {
                    for (int c = 0; c < cg; c++) {
                        long wo = (((long) (gr * kg + k)) * cg + c) * (R * R);
                        for (int i = 0; i < R * R; i++) w[i] = weight.getAtIndex(JAVA_FLOAT, wo + i);
                        for (int i = 0; i < A; i++) {
                            for (int j = 0; j < R; j++) {
                                double acc = 0;
                                for (int r = 0; r < R; r++) acc += G[i][r] * w[r * R + j];
                                gw[i * R + j] = acc;
                            }
                        }
                        for (int i = 0; i < A; i++) {
                            for (int j = 0; j < A; j++) {
                                double v = 0;
                                for (int t = 0; t < R; t++) v += gw[i * R + t] * G[j][t];
                                plain.setAtIndex(JAVA_FLOAT, ((long) (i * A + j) * cg + c) * kg + k, (float) v);
                            }
                        }
                    }
                }
                for (int xi = 0; xi < XI; xi++) {
                    long dst = ((long) gr * panels * XI + xi) * panelStride;
                    Gemm.packB(plain, (long) xi * cg * kg, kg, 1, 0, cg, 0, kg, WinogradVec.NV, u, dst, XI * panelStride);
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
        MemorySegment v = vScratch[member], m = mScratch[member], st = stage[member];
        long vb = address(v, 0, v.byteSize()) & LOW62, mb = address(m, 0, m.byteSize()) & LOW62;
        long sb = address(st, 0, st.byteSize()) & LOW62, tb = sb + (long) XI * ldV * 4;
        long bb = address(bias, 0, bias.byteSize()) & LOW62, ub = address(u, 0, u.byteSize()) & LOW62;
        int groups = s.groups(), kg = s.kg();
        for (int c0 = t0; c0 < t1; c0 += chunk) {
            int nt = Math.min(chunk, t1 - c0);
            for (int t = 0; t < nt; t++) inputTile(in, c0 + t, vb + (long) t * ldV * 4, st, sb, tb);
            for (int gr = 0; gr < groups; gr++) {
                for (int jp = 0; jp < panels; jp++) {
                    gemms(nt, gr, jp, vb, mb, ub);
                    int k0 = gr * kg + jp * NR, nk = Math.min(NR, kg - jp * NR);
                    for (int t = 0; t < nt; t++) outputTile(out, c0 + t, k0, nk, mb + (long) t * NR * 4, bb + k0 * 4L, tb);
                }
            }
        }
    }

    /**
     * The 36 products of one chunk of {@code nt} tiles for panel {@code jp} of group {@code gr}, {@value #MR}
     * rows at a time (the last row tile may run past nt into rows whose results nobody reads).
     */
    private void gemms(int nt, int gr, int jp, long vb, long mb, long ub) {
        int cg = s.cg(), rowTiles = (nt + MR - 1) / MR;
        long vs = (long) ldV * 4, ms = (long) NR * 4, zb = address(ZEROS, 0, ZEROS.byteSize()) & LOW62;
        int blocks = (cg + KCB - 1) / KCB, kcb = (cg + blocks - 1) / blocks;
        long ua = ub + ((long) gr * panels + jp) * XI * panelStride * 4;
        for (int xi = 0; xi < XI; xi++) {
            long va = vb + ((long) xi * rows * ldV + gr * cg) * 4, ma = mb + (long) xi * rows * NR * 4, up = ua + xi * panelStride * 4;
            for (int k0 = 0; k0 < cg; k0 += kcb) {
                int kc = Math.min(kcb, cg - k0);
                long vk = va + k0 * 4L, uk = up + k0 * (4 * VB);
                for (int rt = 0; rt < rowTiles; rt++) {
                    long mt = ma + rt * MR * ms;
                    WinogradVec.k6x4(vk + rt * MR * vs, vs, kc, uk, k0 == 0 ? zb : mt, k0 == 0 ? 0 : ms, mt, ms);
                }
            }
        }
    }

    /**
     * V = B^T d B for global tile {@code t}, every channel, into V at absolute address {@code va} (per xi:
     * rows * ldV floats apart). A tile inside the input layout with whole channel vectors is read in place;
     * any other goes through the member's staging tile ([6][6][ldV] at {@code sa}, zeros where the layout
     * ends and beyond C). The rows of B^T d go through {@code ta} (36 vectors).
     */
    private void inputTile(MemorySegment in, int t, long va, MemorySegment stage, long sa, long ta) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int ly = inL.padH() - 2 + ty * M, lx = inL.padW() - 2 + tx * M; // the tile's first layout row and column
        int rv = Math.min(A, inL.hp() - ly), cv = Math.min(A, inL.wp() - lx);
        int C = s.c();
        long pixB = (long) C * 4, rowB = (long) inL.wp() * C * 4;
        long o = ((long) n * inL.imageFloats() + ((long) ly * inL.wp() + lx) * C) * 4;
        long xiB = (long) rows * ldV * 4, ia;
        if (rv < A || cv < A || C != ldV) {
            long sp = (long) ldV * 4;
            stage.fill((byte) 0);
            for (int i = 0; i < rv; i++) {
                if (C == ldV) MemorySegment.copy(in, o + i * rowB, stage, i * A * sp, cv * pixB);
                else for (int j = 0; j < cv; j++) MemorySegment.copy(in, o + i * rowB + j * pixB, stage, (i * A + j) * sp, pixB);
            }
            ia = sa;
            pixB = sp;
            rowB = A * sp;
        } else {
            ia = address(in, o, 5 * rowB + 6 * pixB) & LOW62;
        }
        long t6 = A * VB, x6 = A * xiB;
        for (int c = 0; c < ldV; c += L) {
            long ic = ia + c * 4L, vc = va + c * 4L;
            for (int e = 0; e < A; e++) inputLine(ic + e * pixB, rowB, ta + e * VB, t6);  // columns: B^T d
            for (int i = 0; i < A; i++) inputLine(ta + i * t6, VB, vc + i * x6, xiB);       // rows: (B^T d) B
        }
    }

    /**
     * Six vectors at {@code src} ({@code ss} bytes apart) times B^T, to six at {@code dst} ({@code ds} apart).
     * Each result is two roundings deep (the products by 2 and 4 are exact inside the fused multiply-adds).
     */
    private static void inputLine(long src, long ss, long dst, long ds) {
        FloatVector d0 = FloatVector.fromMemorySegment(S, ALL, src, NO), d1 = FloatVector.fromMemorySegment(S, ALL, src + ss, NO);
        FloatVector d2 = FloatVector.fromMemorySegment(S, ALL, src + 2 * ss, NO), d3 = FloatVector.fromMemorySegment(S, ALL, src + 3 * ss, NO);
        FloatVector d4 = FloatVector.fromMemorySegment(S, ALL, src + 4 * ss, NO), d5 = FloatVector.fromMemorySegment(S, ALL, src + 5 * ss, NO);
        FloatVector m5 = FloatVector.broadcast(S, -5f), m4 = FloatVector.broadcast(S, -4f), p4 = FloatVector.broadcast(S, 4f);
        FloatVector p2 = FloatVector.broadcast(S, 2f), m2 = FloatVector.broadcast(S, -2f);
        FloatVector a = d2.fma(m4, d4), b = d1.fma(m4, d3), c = d4.sub(d2), e = d3.sub(d1);
        d0.fma(p4, d2.fma(m5, d4)).intoMemorySegment(ALL, dst, NO);          //  4 d0       - 5 d2        + d4
        a.add(b).intoMemorySegment(ALL, dst + ds, NO);                       //     - 4 d1 - 4 d2 +   d3 + d4
        a.sub(b).intoMemorySegment(ALL, dst + 2 * ds, NO);                   //       4 d1 - 4 d2 -   d3 + d4
        e.fma(p2, c).intoMemorySegment(ALL, dst + 3 * ds, NO);               //     - 2 d1 -   d2 + 2 d3 + d4
        e.fma(m2, c).intoMemorySegment(ALL, dst + 4 * ds, NO);               //       2 d1 -   d2 - 2 d3 + d4
        d1.fma(p4, d3.fma(m5, d5)).intoMemorySegment(ALL, dst + 5 * ds, NO); //       4 d1        - 5 d3      + d5
    }

    /**
     * Y = A^T M A + bias (then ReLU) for global tile {@code t}, output channels [k0, k0 + nk) (one panel), from M
     * at absolute address {@code ma}, the panel's bias at {@code ba}; the rows A^T M go through {@code ta}
     * (12 vectors). The tile's rows and columns past the map are skipped, the lanes past nk masked off.
     */
    private void outputTile(MemorySegment out, int t, int k0, int nk, long ma, long ba, long ta) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * M, x0 = tx * M;
        boolean r1 = s.p() - y0 > 1, c1 = s.q() - x0 > 1;
        long pixB = (long) s.k() * 4, rowB = (long) outL.wp() * s.k() * 4;
        long o = ((long) n * outL.imageFloats() + outL.offset(y0, x0) + k0) * 4;
        long oa = address(out, o, (r1 ? rowB : 0) + (c1 ? pixB : 0) + nk * 4L) & LOW62;
        long xiB = (long) rows * NR * 4, x6 = A * xiB, t6 = A * VB;
        for (int k = 0; k < nk; k += L) {
            int lanes = Math.min(L, nk - k);
            long mk = ma + k * 4L, bk = ba + k * 4L, ok = oa + k * 4L;
            for (int e = 0; e < A; e++) outputLine(mk + e * xiB, x6, ta + e * VB, t6);
            outputRow(ta, VB, bk, lo, ok, c1, pixB, lanes);
            if (r1) outputRow(ta + t6, VB, bk, lo, ok + rowB, c1, pixB, lanes);
        }
    }

    /**
     * Six vectors at {@code src} ({@code ss} bytes apart) times A^T, to two at {@code dst} ({@code ds} apart),
     * each three roundings deep.
     */
    private static void outputLine(long src, long ss, long dst, long ds) {
        FloatVector m0 = FloatVector.fromMemorySegment(S, ALL, src, NO), m1 = FloatVector.fromMemorySegment(S, ALL, src + ss, NO);
        FloatVector m2 = FloatVector.fromMemorySegment(S, ALL, src + 2 * ss, NO), m3 = FloatVector.fromMemorySegment(S, ALL, src + 3 * ss, NO);
        FloatVector m4 = FloatVector.fromMemorySegment(S, ALL, src + 4 * ss, NO), m5 = FloatVector.fromMemorySegment(S, ALL, src + 5 * ss, NO);
        FloatVector two = FloatVector.broadcast(S, 2f);
        m0.add(m1.add(m2)).add(m3.add(m4)).intoMemorySegment(ALL, dst, NO);          // m0 + m1 + m2 + m3 + m4
        m3.sub(m4).fma(two, m1.sub(m2)).add(m5).intoMemorySegment(ALL, dst + ds, NO); // m1 - m2 + 2 (m3 - m4) + m5
    }

    /** outputLine on one row of A^T M, then the bias, the ReLU floor {@code lo}, and the two pixels' stores. */
    private static void outputRow(long src, long ss, long bo, float lo, long o, boolean c1, long pixB, int lanes) {
        FloatVector m0 = FloatVector.fromMemorySegment(S, ALL, src, NO), m1 = FloatVector.fromMemorySegment(S, ALL, src + ss, NO);
        FloatVector m2 = FloatVector.fromMemorySegment(S, ALL, src + 2 * ss, NO), m3 = FloatVector.fromMemorySegment(S, ALL, src + 3 * ss, NO);
        FloatVector m4 = FloatVector.fromMemorySegment(S, ALL, src + 4 * ss, NO), m5 = FloatVector.fromMemorySegment(S, ALL, src + 5 * ss, NO);
        FloatVector b = FloatVector.fromMemorySegment(S, ALL, bo, NO);
        FloatVector y0 = m0.add(m1.add(m2)).add(m3.add(m4)).add(b).max(lo);
        FloatVector y1 = m3.sub(m4).fma(FloatVector.broadcast(S, 2f), m1.sub(m2)).add(m5).add(b).max(lo);
        if (lanes == L) {
            y0.intoMemorySegment(ALL, o, NO);
            if (c1) y1.intoMemorySegment(ALL, o + pixB, NO);
        } else {
            y0.intoMemorySegment(ALL, o, NO, S.indexInRange(0, lanes));
            if (c1) y1.intoMemorySegment(ALL, o + pixB, NO, S.indexInRange(0, lanes));
        }
    }
}
