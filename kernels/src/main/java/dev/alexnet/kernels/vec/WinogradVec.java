package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.alexnet.kernels.vec.ConvTiles.ALL;
import static dev.alexnet.kernels.vec.ConvTiles.F;
import static dev.alexnet.kernels.vec.ConvTiles.L;
import static dev.alexnet.kernels.vec.ConvTiles.LOW62;
import static dev.alexnet.kernels.vec.ConvTiles.NO;
import static dev.alexnet.kernels.vec.ConvTiles.S;
import static dev.alexnet.kernels.vec.ConvTiles.VB;
import static dev.alexnet.kernels.vec.ConvTiles.address;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * 3x3, stride 1, pad 1 convolution (+ bias, + optional ReLU) by Winograd's minimal filtering F(2x2, 3x3) or
 * F(4x4, 3x3) ({@link Variant}), with the semantics of {@link dev.alexnet.kernels.ref.ConvRef}, on
 * channels-last activations ({@link Nhwc}).
 *
 * <p>Each m x m block of outputs (a tile) is {@code A^T [ (G g G^T) .* (B^T d B) ] A} of the tile's a x a
 * input window d (a = m + 2): a^2 multiplications per input channel instead of 9 m^2. F(2x2, 3x3): 16 for
 * 4 outputs (2.25x fewer; 1.94x on 13x13 maps, whose 7x7 tiles cover 14x14 outputs); F(4x4, 3x3): 36 for
 * 16 outputs (4x fewer; 2.64x on 13x13 maps, whose 4x4 tiles cover 16x16 outputs). Per transform position
 * xi (a^2 of them) the products summed over input channels are a GEMM: M_xi[tile][k] = sum_c V_xi[tile][c]
 * U_xi[c][k], on the weights' transforms U, made and packed into panels of 64 output channels
 * ({@link Gemm#packB}) once, here in the constructor. The GEMM's micro-kernel is this class's own (6 tiles
 * x 64 channels, reading through absolute addresses like ConvTiles): {@link Gemm}'s tiles take their
 * operands as segments, whose per-access checks C2 compiles from the JDK's shared profiles, and ran 3-4x
 * slower inside {@code compare} than alone.
 *
 * <p>Work: the batch's tiles (image, tile row, tile column) are split into contiguous ranges, one per
 * team member, and each member takes its range in chunks of {@code chunk} tiles: input transform of the
 * chunk (all channels, vectorised over channels) into its V scratch [chunk][a^2][C], the a^2 x G GEMMs
 * into its M scratch [chunk][a^2][K] (the chunk's rows rounded up to whole 6-row tiles), then the output
 * transform, bias and ReLU straight into the output. A tile's a^2 transforms lie together, so the
 * transforms walk V and M in address order (with [a^2][chunk][C], F(4x4, 3x3)'s 36 streams per tile
 * outran the hardware prefetchers and its transforms took several times F(2x2, 3x3)'s time per output);
 * the GEMMs read V and write M with a row stride of a^2 rows. Tiles are independent, so members need no barrier,
 * and the summation order of every output depends only on the shapes, never on the number of threads or
 * the chunk size: results are bitwise reproducible. Scratch for every member is allocated in the
 * constructor; {@link #forward} allocates nothing.
 *
 * <p>Tile rows and columns beyond the padded input (the last tile of a map that m does not divide) read
 * zeros, not the buffer's next image or row: garbage there would not change the exact result but would
 * enter its rounding (and a NaN would enter the result).
 *
 * <p>Rounding (why the result stays within the fp32 agreement bound): per output, with unit roundoff u,
 * the error is at most about {@code (C/G + r) u} times the output transform of the summed magnitudes
 * {@code |A^T| (sum_c |G||g||G^T| .* |B^T||d||B|) |A|}, r = {@link Variant#roundings}: the input
 * transform's two passes, U once (made in double), the GEMM C/G times, the output transform's two passes,
 * the bias once. Against the direct sum's {@code sum |w||x|} over the window that magnitude is larger by
 * the square of what a row of |A^T| |G| |B^T| adds up to per dimension where a 3-tap window adds up to 3:
 * 8 for F(2x2, 3x3) (7.1x, about 3 bits), 29.6 for F(4x4, 3x3) on its points (97x, about 7 bits; Lavin and
 * Gray's points give 48, 256x). The bound is a worst case: on conv3-conv5 with He-init weights F(4x4, 3x3)
 * measures several times F(2x2, 3x3)'s error, inside the fp32 agreement bound with room to spare
 * (WinogradVecTest prints both). WinogradVecTest holds every output to the derived bound.
 */
public final class WinogradVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload

    /** The output tile: F(m x m, 3x3) reads (m + 2) x (m + 2) input windows. */
    public enum Variant {
        /** F(2x2, 3x3): 16 transform positions. */
        F2X2(2, 8, Integer.getInteger("alexnet.winograd.chunk", 64),
                new double[][]{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}),
        /**
         * F(4x4, 3x3) on the points 0, 1, -1, 1/2, -2 and infinity: 36 transform positions. Barabasz et al.'s
         * choice over Lavin and Gray's 0, +-1, +-2: the transforms' coefficients are smaller (rows of |A^T| up
         * to 11.1 instead of 19), and on conv3-conv5 the error is 2-3x smaller (WinogradErrorTest).
         */
        F4X4(4, 14, Integer.getInteger("alexnet.winograd4.chunk", 64),
                new double[][]{{1, 0, 0}, {1 / 3.0, 1 / 3.0, 1 / 3.0}, {-1 / 3.0, 1 / 3.0, -1 / 3.0},
                        {-16 / 15.0, -8 / 15.0, -4 / 15.0}, {1 / 15.0, -2 / 15.0, 4 / 15.0}, {0, 0, 1}});

        private final int m, roundings, chunk;
        private final double[][] g;

        Variant(int m, int roundings, int chunk, double[][] g) {
            this.m = m;
            this.roundings = roundings;
            this.chunk = chunk;
            this.g = g;
        }

        /** Output tile side m. */
        public int outputTile() { return m; }
        /** Input tile side m + 2. */
        public int inputTile() { return m + 2; }
        /**
         * Roundings per output besides the GEMM's C/G: F(2x2, 3x3) 2 (input transform: two passes of one add)
         * + 1 (U) + 4 (output transform: two passes of two adds) + 1 (bias) = 8; F(4x4, 3x3) 6 (two passes,
         * each output at most three roundings deep) + 1 + 6 (two passes, three deep) + 1 = 14. Tests add one
         * for the reference's own rounding to float.
         */
        public int roundings() { return roundings; }
        /**
         * Default tiles per chunk ({@code -Dalexnet.winograd.chunk}, {@code -Dalexnet.winograd4.chunk}): every
         * packed weight block is read once per chunk and reused by the chunk's rows, while V and M of a chunk
         * (a^2 x chunk x 384 floats each at most: 1.6 MiB for F(2x2, 3x3) at 64 tiles, 3.6 MiB for F(4x4, 3x3)
         * at 64) stay in L2 and L3 between the three phases. F(4x4, 3x3) at 64 and 128 measured alike and
         * faster than at 32 (bench/RESULTS.md, "Winograd F(4x4, 3x3)").
         */
        public int chunk() { return chunk; }
    }

    /** F(2x2, 3x3)'s default tiles per chunk ({@link Variant#chunk}). */
    public static final int CHUNK = Variant.F2X2.chunk();

    /** Tile rows and vectors of output channels per GEMM micro-kernel call. */
    static final int MR = 6, NV = 4, NR = NV * 16;
    /**
     * Most reduction steps per block: a panel's block (128 steps x 64 floats, 32 KiB) stays in L1 while every
     * row tile of the chunk passes; partial sums go through M between blocks (same bits: float either way).
     */
    static final int KCB = Integer.getInteger("alexnet.winograd.kc", 128);
    /** Source of the first block's accumulators and of rows and columns past the padded input: zeros. */
    private static final MemorySegment ZEROS = Arena.global().allocate(4 * VB, 64);

    private final Variant variant;
    private final int m, a, xis;       // output tile side, input tile side, transform positions a^2
    private final ConvShape s;
    private final Nhwc inL, outL;
    private final float lo;

    private final int tilesH, tilesW, tilesPerImage, tiles, chunk;
    private final int rows;            // rows of a chunk's V and M: chunk rounded up to whole micro-kernel tiles
    private final int ldV, ldM;        // floats per tile row of V (C padded to L) and of M (room for whole panels)
    private final long panelStride;    // floats per packed panel (cg steps of NR)
    private final long groupStride;    // floats of packed U per (xi, group)
    private final long tOff;           // bytes into a member's staging area of the F(4x4) transforms' a x a vectors
    private final MemorySegment u;     // packed U: [xi][g][panel][c][NR]
    private final MemorySegment bias;  // [ldM], zeros beyond K
    private final MemorySegment[] vScratch, mScratch, stage; // per member: V, M, a staging tile (input or output)

    /** F(2x2, 3x3) with its default chunk; parameters as in the last constructor. */
    public WinogradVec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena) {
        this(Variant.F2X2, s, inL, outL, weight, bias, relu, members, arena, Variant.F2X2.chunk());
    }

    /** F(2x2, 3x3) with another chunk size (tests use small ones to exercise many chunks). */
    public WinogradVec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena, int chunk) {
        this(Variant.F2X2, s, inL, outL, weight, bias, relu, members, arena, chunk);
    }

    /** {@code variant} with its default chunk; parameters as in the last constructor. */
    public WinogradVec(Variant variant, ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, int members, Arena arena) {
        this(variant, s, inL, outL, weight, bias, relu, members, arena, variant.chunk());
    }

    /**
     * @param variant F(2x2, 3x3) or F(4x4, 3x3)
     * @param s       a 3x3, stride 1, pad 1 convolution (see {@link #supports}), batch included
     * @param inL     input layout: C,H,W of {@code s}, zero border of at least 1
     * @param outL    output layout: K,P,Q of {@code s}, any border
     * @param weight  [K, C/G, 3, 3] (OIHW), read only here
     * @param bias    [K] or {@code null}
     * @param members the most team members that will call {@link #forward} (scratch is made for each)
     * @param arena   where the packed weights and the scratch live (shared when members > 1)
     * @param chunk   tiles per chunk ({@link Variant#chunk}; tests use small ones to exercise many chunks)
     */
    public WinogradVec(Variant variant, ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu,
                       int members, Arena arena, int chunk) {
        if (variant == null) throw new IllegalArgumentException("variant is null: use F2X2 or F4X4");
        if (!supports(s)) throw new IllegalArgumentException("Winograd " + variant + " needs a 3x3, stride 1, pad 1 convolution, not " + s);
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || inL.padH() < 1 || inL.padW() < 1) {
            throw new IllegalArgumentException("input layout " + inL + " does not fit " + s);
        }
        if (outL.c() != s.k() || outL.h() != s.p() || outL.w() != s.q()) throw new IllegalArgumentException("output layout " + outL + " does not fit " + s);
        if (members < 1 || chunk < 1) throw new IllegalArgumentException("members and chunk must be positive: " + members + ", " + chunk);
        Checks.floats(weight, s.weightSize(), "conv weight");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
        this.variant = variant;
        this.m = variant.outputTile();
        this.a = variant.inputTile();
        this.xis = a * a;
        this.s = s;
        this.inL = inL;
        this.outL = outL;
        this.lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        this.tilesH = (s.p() + m - 1) / m;
        this.tilesW = (s.q() + m - 1) / m;
        this.tilesPerImage = tilesH * tilesW;
        this.tiles = s.n() * tilesPerImage;
        this.chunk = Math.min(chunk, tiles);
        int G = s.groups(), cg = s.cg(), kg = s.kg(), K = s.k();
        if (L != 16) throw new IllegalStateException("WinogradVec's micro-kernel is written for 16-float vectors, not " + L);
        this.rows = roundUp(this.chunk, MR);
        int panels = (kg + NR - 1) / NR;
        this.ldV = roundUp(s.c(), L);
        // whole panels are written: group g's last panel spills into group g+1's columns (written after it) or past K
        this.ldM = roundUp(Math.max(K, (G - 1) * kg + panels * NR), L);
        this.panelStride = (long) cg * NR;
        this.groupStride = panels * panelStride;
        this.u = arena.allocate(xis * G * groupStride * Float.BYTES, 64);
        packWeights(weight);
        this.bias = arena.allocate((long) ldM * Float.BYTES, 64);
        if (bias != null) MemorySegment.copy(bias, 0, this.bias, 0, (long) K * Float.BYTES);
        this.vScratch = new MemorySegment[members];
        this.mScratch = new MemorySegment[members];
        this.stage = new MemorySegment[members];
        this.tOff = (long) xis * Math.max(ldV, ldM) * Float.BYTES;
        for (int i = 0; i < members; i++) {
            vScratch[i] = arena.allocate((long) xis * rows * ldV * Float.BYTES, 64);
            mScratch[i] = arena.allocate((long) xis * rows * ldM * Float.BYTES, 64);
            stage[i] = arena.allocate(tOff + xis * VB, 64);
        }
    }

    public Variant variant() { return variant; }

    /** Whether this kernel computes {@code s}: a 3x3 kernel, stride 1 and pad 1 both ways. */
    public static boolean supports(ConvShape s) {
        return s.r() == 3 && s.s() == 3 && s.strideH() == 1 && s.strideW() == 1 && s.padH() == 1 && s.padW() == 1;
    }

    public ConvShape shape() { return s; }

    private static int roundUp(int x, int m) { return (x + m - 1) / m * m; }

    /**
     * U = G g G^T per (output channel, input channel), in double and rounded once to float, then packed
     * per (xi, group) as the B operand of {@link Gemm#packed} ([c][k] in panels, zeros beyond K/G).
     */
    private void packWeights(MemorySegment weight) {
        int G = s.groups(), cg = s.cg(), kg = s.kg();
        double[][] g = variant.g;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment plain = tmp.allocate((long) xis * cg * kg * Float.BYTES, 64); // one group: [xi][c][k]
            double[] w = new double[9], gw = new double[a * 3];
            for (int gr = 0; gr < G; gr++) {
                for (int k = 0; k < kg; k++) {
                    for (int c = 0; c < cg; c++) {
                        long wo = (((long) (gr * kg + k)) * cg + c) * 9;
                        for (int i = 0; i < 9; i++) w[i] = weight.getAtIndex(JAVA_FLOAT, wo + i);
                        for (int i = 0; i < a; i++) {
                            for (int j = 0; j < 3; j++) gw[i * 3 + j] = g[i][0] * w[j] + g[i][1] * w[3 + j] + g[i][2] * w[6 + j];
                        }
                        for (int i = 0; i < a; i++) {
                            for (int j = 0; j < a; j++) {
                                double v = gw[i * 3] * g[j][0] + gw[i * 3 + 1] * g[j][1] + gw[i * 3 + 2] * g[j][2];
                                plain.setAtIndex(JAVA_FLOAT, ((long) (i * a + j) * cg + c) * kg + k, (float) v);
                            }
                        }
                    }
                }
                for (int xi = 0; xi < xis; xi++) {
                    Gemm.packB(plain, (long) xi * cg * kg, kg, 1, 0, cg, 0, kg, NV, u, (xi * (long) G + gr) * groupStride, panelStride);
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
        long sb = address(st, 0, st.byteSize()) & LOW62, bb = address(bias, 0, bias.byteSize()) & LOW62;
        boolean f2 = variant == Variant.F2X2;
        for (int c0 = t0; c0 < t1; c0 += chunk) {
            int nt = Math.min(chunk, t1 - c0);
            if (f2) {
                for (int t = 0; t < nt; t++) inputTile(in, c0 + t, vb + (long) t * xis * ldV * 4, st, sb);
            } else {
                for (int t = 0; t < nt; t++) inputTile6(in, c0 + t, vb + (long) t * xis * ldV * 4, st, sb);
            }
            gemms(nt, v, m);
            if (f2) {
                for (int t = 0; t < nt; t++) outputTile(out, c0 + t, mb + (long) t * xis * ldM * 4, bb, st, sb);
            } else {
                for (int t = 0; t < nt; t++) outputTile6(out, c0 + t, mb + (long) t * xis * ldM * 4, bb, st, sb);
            }
        }
    }

    /**
     * The a^2 x G products of one chunk of {@code nt} tiles, {@value #MR} rows by {@value #NR} output channels
     * at a time (the last row tile may run past nt into rows whose results nobody reads).
     */
    private void gemms(int nt, MemorySegment v, MemorySegment m) {
        int G = s.groups(), cg = s.cg(), kg = s.kg(), panels = (kg + NR - 1) / NR, rowTiles = (nt + MR - 1) / MR;
        long vb = address(v, 0, v.byteSize()) & LOW62, mb = address(m, 0, m.byteSize()) & LOW62, ub = address(u, 0, u.byteSize()) & LOW62;
        long vs = (long) xis * ldV * 4, ms = (long) xis * ldM * 4, zb = address(ZEROS, 0, ZEROS.byteSize()) & LOW62;
        int blocks = (cg + KCB - 1) / KCB, kcb = (cg + blocks - 1) / blocks;
        for (int xi = 0; xi < xis; xi++) {
            for (int gr = 0; gr < G; gr++) {
                long va = vb + ((long) xi * ldV + gr * cg) * 4, ma = mb + ((long) xi * ldM + gr * kg) * 4;
                long ua = ub + (xi * (long) G + gr) * groupStride * 4;
                for (int jp = 0; jp < panels; jp++) {
                    long up = ua + jp * panelStride * 4, mp = ma + jp * (long) NR * 4;
                    for (int k0 = 0; k0 < cg; k0 += kcb) {
                        int kc = Math.min(kcb, cg - k0);
                        long vk = va + k0 * 4L, uk = up + k0 * (4 * VB);
                        for (int rt = 0; rt < rowTiles; rt++) {
                            long mt = mp + rt * MR * ms;
                            k6x4(vk + rt * MR * vs, vs, kc, uk, k0 == 0 ? zb : mt, k0 == 0 ? 0 : ms, mt, ms);
                        }
                    }
                }
            }
        }
    }

    /**
     * M[r][0..64) = (partial sums at sa, row stride ss) + sum_c V[r][c] U[c][0..64) for 6 rows: 24 accumulators, 4 panel vectors and a broadcast
     * in the 32 registers; one FMA chain per output over c in order, so the sum does not depend on how the
     * tiles were split. Absolute addresses through {@link ConvTiles#ALL}, checked by the caller: no access
     * check is left for the JDK's shared profiles to decide about (ConvTiles says why that matters).
     */
    static void k6x4(long va, long vs, int kc, long ua, long sa, long ss, long ma, long ms) {
        long a0 = va, a1 = va + vs, a2 = va + 2 * vs, a3 = va + 3 * vs, a4 = va + 4 * vs, a5 = va + 5 * vs;
        long s1 = sa + ss, s2 = s1 + ss, s3 = s2 + ss, s4 = s3 + ss, s5 = s4 + ss;
        FloatVector c00 = FloatVector.fromMemorySegment(S, ALL, sa, NO), c01 = FloatVector.fromMemorySegment(S, ALL, sa + VB, NO), c02 = FloatVector.fromMemorySegment(S, ALL, sa + 2 * VB, NO), c03 = FloatVector.fromMemorySegment(S, ALL, sa + 3 * VB, NO);
        FloatVector c10 = FloatVector.fromMemorySegment(S, ALL, s1, NO), c11 = FloatVector.fromMemorySegment(S, ALL, s1 + VB, NO), c12 = FloatVector.fromMemorySegment(S, ALL, s1 + 2 * VB, NO), c13 = FloatVector.fromMemorySegment(S, ALL, s1 + 3 * VB, NO);
        FloatVector c20 = FloatVector.fromMemorySegment(S, ALL, s2, NO), c21 = FloatVector.fromMemorySegment(S, ALL, s2 + VB, NO), c22 = FloatVector.fromMemorySegment(S, ALL, s2 + 2 * VB, NO), c23 = FloatVector.fromMemorySegment(S, ALL, s2 + 3 * VB, NO);
        FloatVector c30 = FloatVector.fromMemorySegment(S, ALL, s3, NO), c31 = FloatVector.fromMemorySegment(S, ALL, s3 + VB, NO), c32 = FloatVector.fromMemorySegment(S, ALL, s3 + 2 * VB, NO), c33 = FloatVector.fromMemorySegment(S, ALL, s3 + 3 * VB, NO);
        FloatVector c40 = FloatVector.fromMemorySegment(S, ALL, s4, NO), c41 = FloatVector.fromMemorySegment(S, ALL, s4 + VB, NO), c42 = FloatVector.fromMemorySegment(S, ALL, s4 + 2 * VB, NO), c43 = FloatVector.fromMemorySegment(S, ALL, s4 + 3 * VB, NO);
        FloatVector c50 = FloatVector.fromMemorySegment(S, ALL, s5, NO), c51 = FloatVector.fromMemorySegment(S, ALL, s5 + VB, NO), c52 = FloatVector.fromMemorySegment(S, ALL, s5 + 2 * VB, NO), c53 = FloatVector.fromMemorySegment(S, ALL, s5 + 3 * VB, NO);
        for (int j = 0; j < kc; j++) {
            long xj = j * 4L, wj = ua + j * (4 * VB);
            FloatVector w0 = FloatVector.fromMemorySegment(S, ALL, wj, NO);
            FloatVector w1 = FloatVector.fromMemorySegment(S, ALL, wj + VB, NO);
            FloatVector w2 = FloatVector.fromMemorySegment(S, ALL, wj + 2 * VB, NO);
            FloatVector w3 = FloatVector.fromMemorySegment(S, ALL, wj + 3 * VB, NO);
            FloatVector v0 = FloatVector.broadcast(S, ALL.get(F, a0 + xj));
            c00 = w0.fma(v0, c00); c01 = w1.fma(v0, c01); c02 = w2.fma(v0, c02); c03 = w3.fma(v0, c03);
            FloatVector v1 = FloatVector.broadcast(S, ALL.get(F, a1 + xj));
            c10 = w0.fma(v1, c10); c11 = w1.fma(v1, c11); c12 = w2.fma(v1, c12); c13 = w3.fma(v1, c13);
            FloatVector v2 = FloatVector.broadcast(S, ALL.get(F, a2 + xj));
            c20 = w0.fma(v2, c20); c21 = w1.fma(v2, c21); c22 = w2.fma(v2, c22); c23 = w3.fma(v2, c23);
            FloatVector v3 = FloatVector.broadcast(S, ALL.get(F, a3 + xj));
            c30 = w0.fma(v3, c30); c31 = w1.fma(v3, c31); c32 = w2.fma(v3, c32); c33 = w3.fma(v3, c33);
            FloatVector v4 = FloatVector.broadcast(S, ALL.get(F, a4 + xj));
            c40 = w0.fma(v4, c40); c41 = w1.fma(v4, c41); c42 = w2.fma(v4, c42); c43 = w3.fma(v4, c43);
            FloatVector v5 = FloatVector.broadcast(S, ALL.get(F, a5 + xj));
            c50 = w0.fma(v5, c50); c51 = w1.fma(v5, c51); c52 = w2.fma(v5, c52); c53 = w3.fma(v5, c53);
        }
        long m1 = ma + ms, m2 = m1 + ms, m3 = m2 + ms, m4 = m3 + ms, m5 = m4 + ms;
        c00.intoMemorySegment(ALL, ma, NO); c01.intoMemorySegment(ALL, ma + VB, NO); c02.intoMemorySegment(ALL, ma + 2 * VB, NO); c03.intoMemorySegment(ALL, ma + 3 * VB, NO);
        c10.intoMemorySegment(ALL, m1, NO); c11.intoMemorySegment(ALL, m1 + VB, NO); c12.intoMemorySegment(ALL, m1 + 2 * VB, NO); c13.intoMemorySegment(ALL, m1 + 3 * VB, NO);
        c20.intoMemorySegment(ALL, m2, NO); c21.intoMemorySegment(ALL, m2 + VB, NO); c22.intoMemorySegment(ALL, m2 + 2 * VB, NO); c23.intoMemorySegment(ALL, m2 + 3 * VB, NO);
        c30.intoMemorySegment(ALL, m3, NO); c31.intoMemorySegment(ALL, m3 + VB, NO); c32.intoMemorySegment(ALL, m3 + 2 * VB, NO); c33.intoMemorySegment(ALL, m3 + 3 * VB, NO);
        c40.intoMemorySegment(ALL, m4, NO); c41.intoMemorySegment(ALL, m4 + VB, NO); c42.intoMemorySegment(ALL, m4 + 2 * VB, NO); c43.intoMemorySegment(ALL, m4 + 3 * VB, NO);
        c50.intoMemorySegment(ALL, m5, NO); c51.intoMemorySegment(ALL, m5 + VB, NO); c52.intoMemorySegment(ALL, m5 + 2 * VB, NO); c53.intoMemorySegment(ALL, m5 + 3 * VB, NO);
    }

    /**
     * F(2x2, 3x3): V = B^T d B for global tile {@code t}, every channel, into V at absolute address {@code va} (per xi: ldV
     * floats apart). A tile inside the padded input with whole channel vectors is read in place; any other
     * goes through the member's staging tile ([4][4][ldV] at {@code sa}, zeros where the padded input ends and beyond C).
     */
    private void inputTile(MemorySegment in, int t, long va, MemorySegment stage, long sa) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * 2, x0 = tx * 2; // in conv-padded coordinates (pad 1)
        int rv = Math.min(4, s.h() + 2 - y0), cv = Math.min(4, s.w() + 2 - x0);
        int C = s.c();
        long pixB = (long) C * 4, rowB = (long) inL.wp() * C * 4;
        long o = ((long) n * inL.imageFloats() + ((long) (inL.padH() - 1 + y0) * inL.wp() + inL.padW() - 1 + x0) * C) * 4;
        long xiB = (long) ldV * 4, ia;
        if (rv < 4 || cv < 4 || C != ldV) {
            long sp = (long) ldV * 4;
            stage.fill((byte) 0);
            for (int i = 0; i < rv; i++) {
                for (int j = 0; j < cv; j++) MemorySegment.copy(in, o + i * rowB + j * pixB, stage, (i * 4 + j) * sp, pixB);
            }
            ia = sa;
            pixB = sp;
            rowB = 4 * sp;
        } else {
            ia = address(in, o, 3 * rowB + 4 * pixB) & LOW62;
        }
        for (int c = 0; c < ldV; c += L) inputVec(ia + c * 4L, rowB, pixB, va + c * 4L, xiB);
    }

    /**
     * B^T d B for L channels: B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]; rows first,
     * then columns; element (i, j) goes to xi = 4i + j. Written out in one method: a helper returning a
     * vector that C2 compiled on its own first would not inline, and every vector would be boxed.
     */
    private static void inputVec(long o, long rowB, long pixB, long vo, long xiB) {
        long o1 = o + rowB, o2 = o1 + rowB, o3 = o2 + rowB, p2 = 2 * pixB, p3 = 3 * pixB;
        FloatVector d00 = FloatVector.fromMemorySegment(S, ALL, o, NO), d01 = FloatVector.fromMemorySegment(S, ALL, o + pixB, NO);
        FloatVector d02 = FloatVector.fromMemorySegment(S, ALL, o + p2, NO), d03 = FloatVector.fromMemorySegment(S, ALL, o + p3, NO);
        FloatVector d10 = FloatVector.fromMemorySegment(S, ALL, o1, NO), d11 = FloatVector.fromMemorySegment(S, ALL, o1 + pixB, NO);
        FloatVector d12 = FloatVector.fromMemorySegment(S, ALL, o1 + p2, NO), d13 = FloatVector.fromMemorySegment(S, ALL, o1 + p3, NO);
        FloatVector d20 = FloatVector.fromMemorySegment(S, ALL, o2, NO), d21 = FloatVector.fromMemorySegment(S, ALL, o2 + pixB, NO);
        FloatVector d22 = FloatVector.fromMemorySegment(S, ALL, o2 + p2, NO), d23 = FloatVector.fromMemorySegment(S, ALL, o2 + p3, NO);
        FloatVector d30 = FloatVector.fromMemorySegment(S, ALL, o3, NO), d31 = FloatVector.fromMemorySegment(S, ALL, o3 + pixB, NO);
        FloatVector d32 = FloatVector.fromMemorySegment(S, ALL, o3 + p2, NO), d33 = FloatVector.fromMemorySegment(S, ALL, o3 + p3, NO);
        // t = B^T d
        FloatVector t00 = d00.sub(d20), t01 = d01.sub(d21), t02 = d02.sub(d22), t03 = d03.sub(d23);
        FloatVector t10 = d10.add(d20), t11 = d11.add(d21), t12 = d12.add(d22), t13 = d13.add(d23);
        FloatVector t20 = d20.sub(d10), t21 = d21.sub(d11), t22 = d22.sub(d12), t23 = d23.sub(d13);
        FloatVector t30 = d10.sub(d30), t31 = d11.sub(d31), t32 = d12.sub(d32), t33 = d13.sub(d33);
        // V = t B
        long x1 = xiB, x2 = 2 * xiB, x3 = 3 * xiB, v1 = vo + 4 * xiB, v2 = vo + 8 * xiB, v3 = vo + 12 * xiB;
        t00.sub(t02).intoMemorySegment(ALL, vo, NO);
        t01.add(t02).intoMemorySegment(ALL, vo + x1, NO);
        t02.sub(t01).intoMemorySegment(ALL, vo + x2, NO);
        t01.sub(t03).intoMemorySegment(ALL, vo + x3, NO);
        t10.sub(t12).intoMemorySegment(ALL, v1, NO);
        t11.add(t12).intoMemorySegment(ALL, v1 + x1, NO);
        t12.sub(t11).intoMemorySegment(ALL, v1 + x2, NO);
        t11.sub(t13).intoMemorySegment(ALL, v1 + x3, NO);
        t20.sub(t22).intoMemorySegment(ALL, v2, NO);
        t21.add(t22).intoMemorySegment(ALL, v2 + x1, NO);
        t22.sub(t21).intoMemorySegment(ALL, v2 + x2, NO);
        t21.sub(t23).intoMemorySegment(ALL, v2 + x3, NO);
        t30.sub(t32).intoMemorySegment(ALL, v3, NO);
        t31.add(t32).intoMemorySegment(ALL, v3 + x1, NO);
        t32.sub(t31).intoMemorySegment(ALL, v3 + x2, NO);
        t31.sub(t33).intoMemorySegment(ALL, v3 + x3, NO);
    }

    /**
     * F(2x2, 3x3): Y = A^T M A + bias (then ReLU) for global tile {@code t}, every output channel, from M at absolute
     * address {@code ma}. With K a multiple of L the vectors go straight to the output (the tile's rows and
     * columns past the map skipped); otherwise through the member's staging tile ([2][2][ldM] at {@code sa}) and copied.
     */
    private void outputTile(MemorySegment out, int t, long ma, long ba, MemorySegment stage, long sa) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * 2, x0 = tx * 2;
        int rv = Math.min(2, s.p() - y0), cv = Math.min(2, s.q() - x0);
        int K = s.k();
        long pixB = (long) K * 4, rowB = (long) outL.wp() * K * 4;
        long o = ((long) n * outL.imageFloats() + outL.offset(y0, x0)) * 4;
        long xiB = (long) ldM * 4;
        if (K % L == 0) {
            boolean r1 = rv > 1, c1 = cv > 1;
            long oa = address(out, o, (r1 ? rowB : 0) + (c1 ? pixB : 0) + pixB) & LOW62;
            for (int k = 0; k < K; k += L) outputVec(oa + k * 4L, rowB, pixB, r1, c1, ma + k * 4L, xiB, ba + k * 4L, lo);
        } else {
            long dp = (long) ldM * 4, dr = 2 * dp;
            for (int k = 0; k < K; k += L) outputVec(sa + k * 4L, dr, dp, true, true, ma + k * 4L, xiB, ba + k * 4L, lo);
            for (int i = 0; i < rv; i++) {
                for (int j = 0; j < cv; j++) MemorySegment.copy(stage, i * dr + j * dp, out, o + i * rowB + j * pixB, pixB);
            }
        }
    }

    /** A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]: rows first, then columns, then bias and the ReLU floor {@code lo}. */
    private static void outputVec(long o, long rowB, long pixB, boolean r1, boolean c1, long mo, long xiB, long bo, float lo) {
        long x1 = xiB, x2 = 2 * xiB, x3 = 3 * xiB, m1 = mo + 4 * xiB, m2 = mo + 8 * xiB, m3 = mo + 12 * xiB;
        FloatVector m00 = FloatVector.fromMemorySegment(S, ALL, mo, NO), m01 = FloatVector.fromMemorySegment(S, ALL, mo + x1, NO);
        FloatVector m02 = FloatVector.fromMemorySegment(S, ALL, mo + x2, NO), m03 = FloatVector.fromMemorySegment(S, ALL, mo + x3, NO);
        FloatVector m10 = FloatVector.fromMemorySegment(S, ALL, m1, NO), m11 = FloatVector.fromMemorySegment(S, ALL, m1 + x1, NO);
        FloatVector m12 = FloatVector.fromMemorySegment(S, ALL, m1 + x2, NO), m13 = FloatVector.fromMemorySegment(S, ALL, m1 + x3, NO);
        FloatVector m20 = FloatVector.fromMemorySegment(S, ALL, m2, NO), m21 = FloatVector.fromMemorySegment(S, ALL, m2 + x1, NO);
        FloatVector m22 = FloatVector.fromMemorySegment(S, ALL, m2 + x2, NO), m23 = FloatVector.fromMemorySegment(S, ALL, m2 + x3, NO);
        FloatVector m30 = FloatVector.fromMemorySegment(S, ALL, m3, NO), m31 = FloatVector.fromMemorySegment(S, ALL, m3 + x1, NO);
        FloatVector m32 = FloatVector.fromMemorySegment(S, ALL, m3 + x2, NO), m33 = FloatVector.fromMemorySegment(S, ALL, m3 + x3, NO);
        FloatVector s00 = m00.add(m10).add(m20), s01 = m01.add(m11).add(m21), s02 = m02.add(m12).add(m22), s03 = m03.add(m13).add(m23);
        FloatVector s10 = m10.sub(m20).sub(m30), s11 = m11.sub(m21).sub(m31), s12 = m12.sub(m22).sub(m32), s13 = m13.sub(m23).sub(m33);
        FloatVector b = FloatVector.fromMemorySegment(S, ALL, bo, NO);
        s00.add(s01).add(s02).add(b).max(lo).intoMemorySegment(ALL, o, NO);
        if (c1) s01.sub(s02).sub(s03).add(b).max(lo).intoMemorySegment(ALL, o + pixB, NO);
        if (r1) {
            s10.add(s11).add(s12).add(b).max(lo).intoMemorySegment(ALL, o + rowB, NO);
            if (c1) s11.sub(s12).sub(s13).add(b).max(lo).intoMemorySegment(ALL, o + rowB + pixB, NO);
        }
    }

    /**
     * F(4x4, 3x3): V = B^T d B for global tile {@code t}, every channel, into V at absolute address {@code va}
     * (per xi: ldV floats apart), by L channels at a time: columns first (into the member's 6x6 vectors
     * at {@link #tOff}), then rows. Rows and columns past the padded input read {@link #ZEROS}; with C not a
     * multiple of L the window goes through the member's staging tile ([6][6][ldV], zeros beyond C) first.
     */
    private void inputTile6(MemorySegment in, int t, long va, MemorySegment stage, long sa) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * 4, x0 = tx * 4; // in conv-padded coordinates (pad 1)
        int rv = Math.min(6, s.h() + 2 - y0), cv = Math.min(6, s.w() + 2 - x0);
        int C = s.c();
        long pixB = (long) C * 4, rowB = (long) inL.wp() * C * 4;
        long o = ((long) n * inL.imageFloats() + ((long) (inL.padH() - 1 + y0) * inL.wp() + inL.padW() - 1 + x0) * C) * 4;
        long xiB = (long) ldV * 4, ia;
        if (C != ldV) {
            long sp = (long) ldV * 4;
            stage.asSlice(0, 36 * sp).fill((byte) 0);
            for (int i = 0; i < rv; i++) {
                for (int j = 0; j < cv; j++) MemorySegment.copy(in, o + i * rowB + j * pixB, stage, (i * 6 + j) * sp, pixB);
            }
            ia = sa;
            pixB = sp;
            rowB = 6 * sp;
        } else {
            ia = address(in, o, (rv - 1) * rowB + cv * pixB) & LOW62;
        }
        long tb = sa + tOff, zb = address(ZEROS, 0, ZEROS.byteSize()) & LOW62;
        for (int c = 0; c < ldV; c += L) inputVec6(ia + c * 4L, rowB, pixB, rv, cv, zb, tb, va + c * 4L, xiB);
    }

    /**
     * B^T d B for L channels of the window at {@code o} ({@code rv} valid rows, {@code cv} valid columns, the
     * rest read as the zeros at {@code z}): six column passes into the 6x6 vectors at {@code tb}, then six
     * row passes into V ({@code xiB} bytes per xi): a method C2 compiles on its own (too big to inline),
     * called once per L channels.
     * B^T = [[1, -3/2, -2, 3/2, 1, 0], [0, -1, 1/2, 5/2, 1, 0], [0, 1, -5/2, 1/2, 1, 0], [0, -2, -1, 2, 1, 0],
     * [0, 1/2, -1, -1/2, 1, 0], [0, 1, -3/2, -2, 3/2, 1]], factored so that every output is at most three
     * roundings deep and no term enters an output through two rounded intermediates (so the rounding error
     * of each output is at most 3u times its row of |B^T| times |x|).
     */
    private static void inputVec6(long o, long rowB, long pixB, int rv, int cv, long z, long tb, long vo, long xiB) {
        o &= LOW62;
        z &= LOW62;
        tb &= LOW62;
        vo &= LOW62;
        FloatVector m2 = FloatVector.broadcast(S, -2f), p2 = FloatVector.broadcast(S, 2f), h = FloatVector.broadcast(S, 0.5f);
        FloatVector mh = FloatVector.broadcast(S, -0.5f), p3h = FloatVector.broadcast(S, 1.5f);
        FloatVector p5h = FloatVector.broadcast(S, 2.5f), m5h = FloatVector.broadcast(S, -2.5f);
        for (int j = 0; j < 6; j++) { // column j of the window into column j of the 6x6
            long base = o + j * pixB, dst = tb + j * VB, ds = 6 * VB;
            int valid = j < cv ? rv : 0;
            FloatVector x0 = FloatVector.fromMemorySegment(S, ALL, valid > 0 ? base : z, NO);
            FloatVector x1 = FloatVector.fromMemorySegment(S, ALL, valid > 1 ? base + rowB : z, NO);
            FloatVector x2 = FloatVector.fromMemorySegment(S, ALL, valid > 2 ? base + 2 * rowB : z, NO);
            FloatVector x3 = FloatVector.fromMemorySegment(S, ALL, valid > 3 ? base + 3 * rowB : z, NO);
            FloatVector x4 = FloatVector.fromMemorySegment(S, ALL, valid > 4 ? base + 4 * rowB : z, NO);
            FloatVector x5 = FloatVector.fromMemorySegment(S, ALL, valid > 5 ? base + 5 * rowB : z, NO);
            FloatVector e = x4.sub(x2), f = x3.sub(x1);            // d4 - d2, d3 - d1
            f.fma(p3h, x2.fma(m2, x0.add(x4))).intoMemorySegment(ALL, dst, NO);
            x2.fma(h, x4).add(x3.fma(p5h, x1.neg())).intoMemorySegment(ALL, dst + ds, NO);
            x2.fma(m5h, x4).add(x3.fma(h, x1)).intoMemorySegment(ALL, dst + 2 * ds, NO);
            f.fma(p2, e).intoMemorySegment(ALL, dst + 3 * ds, NO);
            f.fma(mh, e).intoMemorySegment(ALL, dst + 4 * ds, NO);
            e.fma(p3h, x3.fma(m2, x1.add(x5))).intoMemorySegment(ALL, dst + 5 * ds, NO);
        }
        for (int i = 0; i < 6; i++) { // row i of the 6x6 into V: the same formula
            long base = tb + 6 * i * VB, dst = vo + 6 * i * xiB, ds = xiB;
            FloatVector x0 = FloatVector.fromMemorySegment(S, ALL, base, NO), x1 = FloatVector.fromMemorySegment(S, ALL, base + VB, NO);
            FloatVector x2 = FloatVector.fromMemorySegment(S, ALL, base + 2 * VB, NO), x3 = FloatVector.fromMemorySegment(S, ALL, base + 3 * VB, NO);
            FloatVector x4 = FloatVector.fromMemorySegment(S, ALL, base + 4 * VB, NO), x5 = FloatVector.fromMemorySegment(S, ALL, base + 5 * VB, NO);
            FloatVector e = x4.sub(x2), f = x3.sub(x1);
            f.fma(p3h, x2.fma(m2, x0.add(x4))).intoMemorySegment(ALL, dst, NO);
            x2.fma(h, x4).add(x3.fma(p5h, x1.neg())).intoMemorySegment(ALL, dst + ds, NO);
            x2.fma(m5h, x4).add(x3.fma(h, x1)).intoMemorySegment(ALL, dst + 2 * ds, NO);
            f.fma(p2, e).intoMemorySegment(ALL, dst + 3 * ds, NO);
            f.fma(mh, e).intoMemorySegment(ALL, dst + 4 * ds, NO);
            e.fma(p3h, x3.fma(m2, x1.add(x5))).intoMemorySegment(ALL, dst + 5 * ds, NO);
        }
    }

    /**
     * F(4x4, 3x3): Y = A^T M A + bias (then ReLU) for global tile {@code t}, every output channel, from M at
     * absolute address {@code ma}, by L channels: columns first (into the member's 4x6 vectors at
     * {@link #tOff}), then rows straight to the output (rows and columns past the map skipped); with K not a
     * multiple of L through the member's staging tile ([4][4][ldM]) and copied.
     */
    private void outputTile6(MemorySegment out, int t, long ma, long ba, MemorySegment stage, long sa) {
        int n = t / tilesPerImage, r = t - n * tilesPerImage, ty = r / tilesW, tx = r - ty * tilesW;
        int y0 = ty * 4, x0 = tx * 4;
        int rv = Math.min(4, s.p() - y0), cv = Math.min(4, s.q() - x0);
        int K = s.k();
        long pixB = (long) K * 4, rowB = (long) outL.wp() * K * 4;
        long o = ((long) n * outL.imageFloats() + outL.offset(y0, x0)) * 4;
        long xiB = (long) ldM * 4, tb = sa + tOff, oa, dp, dr;
        int wr, wc;
        boolean direct = K % L == 0;
        if (direct) {
            oa = address(out, o, (rv - 1) * rowB + cv * pixB) & LOW62;
            dp = pixB;
            dr = rowB;
            wr = rv;
            wc = cv;
        } else {
            oa = sa;
            dp = (long) ldM * 4;
            dr = 4 * dp;
            wr = 4;
            wc = 4;
        }
        for (int k = 0; k < K; k += L) outputVec6(ma + k * 4L, xiB, tb, oa + k * 4L, dr, dp, wr, wc, ba + k * 4L, lo);
        if (!direct) {
            for (int i = 0; i < rv; i++) {
                for (int j = 0; j < cv; j++) MemorySegment.copy(stage, i * dr + j * dp, out, o + i * rowB + j * pixB, pixB);
            }
        }
    }

    /**
     * A^T M A + bias, then the floor {@code lo}, for L output channels: six column passes from M ({@code xiB}
     * bytes per xi, at {@code mo}) into the 4x6 vectors at {@code tb}, then {@code rows} row passes into the
     * output at {@code o} ({@code rowB} per row, {@code pixB} per column, the first {@code cols} of four columns
     * stored); a method C2 compiles on its own (too big to inline), called once per L channels.
     * A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 1/2, -2, 0], [0, 1, 1, 1/4, 4, 0], [0, 1, -1, 1/8, -8, 1]]: every
     * output at most three roundings deep, no term through two rounded intermediates.
     */
    private static void outputVec6(long mo, long xiB, long tb, long o, long rowB, long pixB, int rows, int cols, long bo, float lo) {
        mo &= LOW62;
        tb &= LOW62;
        o &= LOW62;
        bo &= LOW62;
        FloatVector h = FloatVector.broadcast(S, 0.5f), q = FloatVector.broadcast(S, 0.25f), e = FloatVector.broadcast(S, 0.125f);
        FloatVector m2 = FloatVector.broadcast(S, -2f), p4 = FloatVector.broadcast(S, 4f), m8 = FloatVector.broadcast(S, -8f);
        for (int j = 0; j < 6; j++) { // column j of M into column j of the 4x6
            long base = mo + j * xiB, step = 6 * xiB, dst = tb + j * VB, ds = 6 * VB;
            FloatVector x0 = FloatVector.fromMemorySegment(S, ALL, base, NO), x1 = FloatVector.fromMemorySegment(S, ALL, base + step, NO);
            FloatVector x2 = FloatVector.fromMemorySegment(S, ALL, base + 2 * step, NO), x3 = FloatVector.fromMemorySegment(S, ALL, base + 3 * step, NO);
            FloatVector x4 = FloatVector.fromMemorySegment(S, ALL, base + 4 * step, NO), x5 = FloatVector.fromMemorySegment(S, ALL, base + 5 * step, NO);
            FloatVector s12 = x1.add(x2), d12 = x1.sub(x2);
            x0.add(s12).add(x3.add(x4)).intoMemorySegment(ALL, dst, NO);
            x3.fma(h, x4.fma(m2, d12)).intoMemorySegment(ALL, dst + ds, NO);
            x3.fma(q, x4.fma(p4, s12)).intoMemorySegment(ALL, dst + 2 * ds, NO);
            x3.fma(e, x5).add(x4.fma(m8, d12)).intoMemorySegment(ALL, dst + 3 * ds, NO);
        }
        FloatVector b = FloatVector.fromMemorySegment(S, ALL, bo, NO), floor = FloatVector.broadcast(S, lo);
        for (int i = 0; i < rows; i++) { // row i of the 4x6 into the output
            long base = tb + 6 * i * VB, dst = o + i * rowB;
            FloatVector x0 = FloatVector.fromMemorySegment(S, ALL, base, NO), x1 = FloatVector.fromMemorySegment(S, ALL, base + VB, NO);
            FloatVector x2 = FloatVector.fromMemorySegment(S, ALL, base + 2 * VB, NO), x3 = FloatVector.fromMemorySegment(S, ALL, base + 3 * VB, NO);
            FloatVector x4 = FloatVector.fromMemorySegment(S, ALL, base + 4 * VB, NO), x5 = FloatVector.fromMemorySegment(S, ALL, base + 5 * VB, NO);
            FloatVector s12 = x1.add(x2), d12 = x1.sub(x2);
            x0.add(s12).add(x3.add(x4)).add(b).max(floor).intoMemorySegment(ALL, dst, NO);
            if (cols > 1) x3.fma(h, x4.fma(m2, d12)).add(b).max(floor).intoMemorySegment(ALL, dst + pixB, NO);
            if (cols > 2) x3.fma(q, x4.fma(p4, s12)).add(b).max(floor).intoMemorySegment(ALL, dst + 2 * pixB, NO);
            if (cols > 3) x3.fma(e, x5).add(x4.fma(m8, d12)).add(b).max(floor).intoMemorySegment(ALL, dst + 3 * pixB, NO);
        }
    }
}
