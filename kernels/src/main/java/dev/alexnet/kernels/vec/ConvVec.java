package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Convolution (+ bias, + optional ReLU) with the semantics of {@link dev.alexnet.kernels.ref.ConvRef},
 * on channels-last activations ({@link Nhwc}) as a direct implicit GEMM:
 * M = output pixels P*Q (per image), N = output channels K/G (per group), reduction = R*S*C/G.
 * No im2col: the weights are packed once, here in the constructor; a tile of output pixels reads its
 * windows from the padded input (whose border makes every window in range) in one of two ways: through a
 * table of per-step offsets (conv1, conv3, conv4), or, for layers with long contiguous runs whose channel
 * tiles are 4 vectors wide (conv2, conv5), copied first into a per-thread panel that the tile kernels then
 * read linearly ({@link Tuning#PACK_MIN_RUN} says why; ConvTiles why the loops are flat).
 *
 * <p>Packed weights, per group g and channel tile (NB vectors of L output channels):
 * [run t][j][NB*L], where a run is a contiguous stretch of the input relative to a pixel's window
 * origin: with G = 1 one run per kernel row r (S*C floats, (s, c) merged), with G > 1 one run per (r, s)
 * (C/G floats). Output channels beyond K/G in the last tile are zero weights and masked stores.
 *
 * <p>Work units for threads: (image n, group g, channel tile, chunk of {@value #CHUNK} pixels), in that
 * order, split into contiguous ranges, so each thread walks the pixels of one weight tile while it is
 * hot in cache, threads share the packed weights, and batch 1 still has units to split (conv3-5 at
 * 13x13 have 3-4 chunks x 2-4 channel tiles per group). Different threads write disjoint (pixel, channel-tile)
 * blocks. Within a unit the reduction is blocked (equal blocks of at most {@value #KC} steps) and
 * partial sums pass through the output (only the last block applies the ReLU); a tile count that does not divide the chunk ends with one tile overhanging backwards that
 * recomputes whole pixels of its own chunk.
 */
public final class ConvVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    static final int L = ConvTiles.L;
    /** Pixels per work unit: a multiple of the tile heights 4, 6 and 8 (40 with 5-pixel tiles); an image's last unit takes the rest. */
    static final int CHUNK = 48;

    /**
     * Tuning choices, for tests and A/B runs: {@code mr4} pixels per 4-vector tile (4, 5 or 6; 0 = automatic:
     * 5 with a panel, 6 without), {@code kc} reduction steps per block, {@code packMinRun}: the tiles read a
     * packed panel when the window's contiguous runs are at least this many floats (else the input through
     * the offset table; see ConvTiles). The tests use small {@code kc} to exercise many blocks.
     */
    public record Tuning(int mr4, int kc, int packMinRun) {
        /**
         * Packed: layers whose window runs are at least this long and whose groups are not a multiple of 6
         * vectors (conv2, conv5: 4-vector tiles, 5x4 from the panel). The others read the input through the
         * table: conv1 (short 33-float runs, where packing costs more than it saves) and conv3, conv4 (4x6
         * tiles). 4-vector tiles read a panel because the 6x4 table loop can compile with accumulators on
         * the stack, depending on its first calls; the 5x4 panel loop does not (bench/RESULTS.md, "Why the
         * kernels look the way they do").
         */
        public static final int PACK_MIN_RUN = 48;
        public static final Tuning DEFAULT = new Tuning(Integer.getInteger("alexnet.conv.mr4", 0), KC,
                Integer.getInteger("alexnet.conv.packMinRun", PACK_MIN_RUN));

        public Tuning(int mr4, int kc) { this(mr4, kc, PACK_MIN_RUN); }

        public Tuning {
            if ((mr4 != 0 && (mr4 < 4 || mr4 > 6)) || kc < 1 || packMinRun < 1) {
                throw new IllegalArgumentException("bad tuning " + mr4 + ", " + kc + ", " + packMinRun);
            }
        }
    }
    /**
     * Most reduction steps per block. Large on purpose: per-block costs (partial sums reloaded and stored,
     * loop set-up, the panel packed per block) outweigh keeping a block's weights in L1, and the tile's
     * weights stream well from L2 (256 B per 20-24 FMAs). With 2048 every AlexNet layer but conv3 (2 blocks)
     * is one block (bench/RESULTS.md, "Why the kernels look the way they do", has the A/B figures).
     */
    static final int KC = 2048;

    private final ConvShape s;
    private final Nhwc inL, outL;
    private final float lo;
    private final MemorySegment w;     // packed weights
    private final MemorySegment bias;  // [G][tiles' padded channels]
    private final int[] tileK0, tileNb, tileMr; // per channel tile within a group: first channel, vectors, pixels per tile
    private final long[] tileW;        // per tile: byte offset of its packed weights within a group
    private final long groupW;         // bytes of packed weights per group
    private final int kgPad;           // padded channels per group
    private final int[] runs;          // float offsets of the runs relative to a window origin (group channel offset excluded)
    private final int runLen;
    private final int[] xoff;          // per reduction step: input float offset from a pixel's window origin (group channel offset excluded)
    private final int[] blockJ;        // block b = reduction steps [blockJ[b], blockJ[b+1])
    private final int[] zeros;         // spix for the first block: every pixel's accumulators start at the same bias
    private final int[] pix, opix;     // per output pixel m = p*Q + q: window origin in the input, position in the output (floats)
    private final int chunks, units;
    private final int mr4;             // pixels per 4-vector tile
    private final int chunk;           // pixels per work unit: a multiple of the tile heights (40 with 5-pixel tiles, else CHUNK)
    private final boolean pack;        // tiles read a packed panel (else the input through xoff)
    private final long blockStride;    // bytes between pixel rows of a chunk's panel (one block of steps)
    private final long remStride;      // bytes between pixel rows of the remainder tile's panel (all steps)
    private final long remBase;        // where the remainder tile's rows start in a member's panel
    private final long panelBytes;     // one member's panel
    private final int[][] blockPieces; // per block: what to copy into the panel (see pieces())
    private final int[] allPieces;     // the whole reduction's pieces (for the remainder tile)
    private final Arena arena;         // where panels are allocated (on first use by each team member)
    private volatile MemorySegment[] panels = new MemorySegment[0];

    /**
     * @param s      the convolution, batch included
     * @param inL    input layout: C,H,W of {@code s}, border at least the conv's padding
     * @param outL   output layout: K,P,Q of {@code s}, any border
     * @param weight [K, C/G, R, S] (OIHW), read only here
     * @param bias   [K] or {@code null}
     */
    public ConvVec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, Arena arena) {
        this(s, inL, outL, weight, bias, relu, arena, Tuning.DEFAULT);
    }

    /**
     * As above with other tuning choices (for tests and tuning runs): see {@link Tuning}.
     */
    public ConvVec(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias, boolean relu, Arena arena, Tuning tuning) {
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || inL.padH() < s.padH() || inL.padW() < s.padW()) {
            throw new IllegalArgumentException("input layout " + inL + " does not fit " + s);
        }
        if (outL.c() != s.k() || outL.h() != s.p() || outL.w() != s.q()) throw new IllegalArgumentException("output layout " + outL + " does not fit " + s);
        Checks.floats(weight, s.weightSize(), "conv weight");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
        this.s = s;
        this.inL = inL;
        this.outL = outL;
        this.lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        int G = s.groups(), cg = s.cg(), kg = s.kg(), R = s.r(), S = s.s(), C = s.c();

        int nVec = (kg + L - 1) / L;
        // the run length (see below); groups of a multiple of 6 vectors take 4x6 tiles from the table
        pack = (G == 1 ? S * C : cg) >= tuning.packMinRun() && nVec % 6 != 0;
        mr4 = tuning.mr4() != 0 ? tuning.mr4() : pack ? 5 : 6;
        // Channel tiles: 6-vector tiles (4 pixels) from the offset table when they cover the group exactly
        // (conv1's 96 channels, conv3's 384, conv4's 192: 4 broadcasts per 24 FMAs instead of 6, no panel to
        // pack); otherwise as many 4-vector tiles (mr4 pixels) as fit, then one tile of the remaining 3, 2 or
        // 1 vectors: 3-vector tiles take 6 pixels (conv1 per tower: 48 channels; with 8 pixels the tile
        // spills registers), 2- and 1-vector tiles 8 pixels.
        List<int[]> tl = new ArrayList<>();
        int main = !pack && nVec % 6 == 0 ? 6 : 4;
        int v = 0;
        while (v < nVec) {
            int nb = Math.min(main, nVec - v);
            tl.add(new int[] {v * L, nb});
            v += nb;
        }
        int nt = tl.size();
        tileK0 = new int[nt];
        tileNb = new int[nt];
        tileMr = new int[nt];
        tileW = new long[nt];
        kgPad = nVec * L;

        if (G == 1) {
            runs = new int[R];
            for (int r = 0; r < R; r++) runs[r] = r * inL.wp() * C;
            runLen = S * C;
        } else {
            runs = new int[R * S];
            for (int r = 0; r < R; r++) for (int t = 0; t < S; t++) runs[r * S + t] = (r * inL.wp() + t) * C;
            runLen = cg;
        }
        long red = (long) runs.length * runLen; // reduction length = R*S*C/G
        long off = 0;
        for (int i = 0; i < nt; i++) {
            tileK0[i] = tl.get(i)[0];
            tileNb[i] = tl.get(i)[1];
            tileMr[i] = switch (tileNb[i]) {
                case 6 -> 4;
                case 4 -> mr4;
                case 3 -> 6;
                default -> 8;
            };
            tileW[i] = off;
            off += red * tileNb[i] * L * Float.BYTES;
        }
        groupW = off;
        w = arena.allocate(groupW * G, 64);
        this.bias = arena.allocate((long) G * kgPad * Float.BYTES, 64);
        float[] panel = new float[(int) (red * main * L)];
        for (int g = 0; g < G; g++) {
            for (int i = 0; i < nt; i++) {
                int width = tileNb[i] * L;
                java.util.Arrays.fill(panel, 0f);
                for (int t = 0; t < runs.length; t++) {
                    for (int j = 0; j < runLen; j++) {
                        int r, st, c;
                        if (G == 1) { r = t; st = j / C; c = j % C; } else { r = t / S; st = t % S; c = j; }
                        int base = (t * runLen + j) * width;
                        for (int l = 0; l < width; l++) {
                            int k = tileK0[i] + l;
                            if (k >= kg) break;
                            long wi = (((long) (g * kg + k) * cg + c) * R + r) * S + st;
                            panel[base + l] = weight.getAtIndex(JAVA_FLOAT, wi);
                        }
                    }
                }
                MemorySegment.copy(panel, 0, w, JAVA_FLOAT, g * groupW + tileW[i], (int) (red * width));
            }
            for (int k = 0; k < kg; k++) {
                this.bias.setAtIndex(JAVA_FLOAT, (long) g * kgPad + k, bias == null ? 0f : bias.getAtIndex(JAVA_FLOAT, (long) g * kg + k));
            }
        }

        int P = s.p(), Q = s.q();
        pix = new int[P * Q];
        opix = new int[P * Q];
        for (int p = 0; p < P; p++) {
            for (int q = 0; q < Q; q++) {
                int y = p * s.strideH() - s.padH(), x = q * s.strideW() - s.padW();
                pix[p * Q + q] = Math.toIntExact(inL.offset(y, x));
                opix[p * Q + q] = Math.toIntExact(outL.offset(p, q));
            }
        }
        xoff = new int[Math.toIntExact(red)];
        for (int t = 0; t < runs.length; t++) for (int j = 0; j < runLen; j++) xoff[t * runLen + j] = runs[t] + j;
        for (int j = 1; j < xoff.length; j++) { // the table kernels bound a block's reads by its first and last offsets
            if (xoff[j] <= xoff[j - 1]) throw new IllegalStateException("window offsets not increasing at step " + j + " for " + s);
        }
        // Blocks of at most kc steps, of equal length (conv3's 2304 steps: 2 x 1152, not 2048 + 256).
        int nBlocks = Math.toIntExact((red + tuning.kc() - 1) / tuning.kc());
        blockJ = new int[nBlocks + 1];
        for (int b = 0; b <= nBlocks; b++) blockJ[b] = (int) (red * b / nBlocks);
        zeros = new int[P * Q];
        chunk = mr4 == 5 ? 40 : CHUNK;
        // A member's panel: the rows of a chunk (at most 2 * chunk - 1 pixels: an image's last chunk takes the
        // rest) for one block, then the remainder tile's rows for the whole reduction (it runs in one block).
        // Rows are padded to whole vectors plus one, so that consecutive rows do not share cache sets.
        int maxBlock = 0;
        for (int b = 0; b < nBlocks; b++) maxBlock = Math.max(maxBlock, blockJ[b + 1] - blockJ[b]);
        blockStride = ((maxBlock + L - 1) / L + 1) * (long) L * Float.BYTES;
        remStride = ((red + L - 1) / L + 1) * (long) L * Float.BYTES;
        remBase = (2L * chunk) * blockStride;
        panelBytes = pack ? remBase + 8 * remStride : 0;
        this.arena = arena;
        blockPieces = new int[nBlocks][];
        for (int b = 0; b < nBlocks; b++) blockPieces[b] = pieces(blockJ[b], blockJ[b + 1]);
        allPieces = pieces(0, xoff.length);
        chunks = Math.max(1, P * Q / chunk);
        units = s.n() * G * nt * chunks;
    }

    public ConvShape shape() { return s; }
    public int units() { return units; }

    /** This member's share of the whole batch. */
    public void forward(MemorySegment out, MemorySegment in, int member, int members) {
        forwardUnits(out, in, panel(member), ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** Work units [u0, u1) (see the class comment) on the calling thread; {@code (out, in, 0, units())} is the whole batch. */
    public void forwardUnits(MemorySegment out, MemorySegment in, int u0, int u1) {
        forwardUnits(out, in, panel(0), u0, u1);
    }

    /**
     * Team member {@code member}'s panel (see the constructor), allocated from the constructor's
     * arena on the member's first call (so that arena must be shared when several threads run this).
     */
    private MemorySegment panel(int member) {
        MemorySegment[] ps = panels;
        if (member < ps.length) return ps[member];
        synchronized (this) {
            ps = panels;
            if (member >= ps.length) {
                MemorySegment[] grown = java.util.Arrays.copyOf(ps, member + 1);
                for (int i = ps.length; i <= member; i++) grown[i] = arena.allocate(Math.max(panelBytes, 64), 64);
                panels = ps = grown;
            }
            return ps[member];
        }
    }

    private void forwardUnits(MemorySegment out, MemorySegment in, MemorySegment panel, int u0, int u1) {
        Checks.floats(in, s.n() * inL.imageFloats(), "conv input");
        Checks.floats(out, s.n() * outL.imageFloats(), "conv output");
        int nt = tileK0.length, M = pix.length, kg = s.kg(), cg = s.cg();
        for (int u = u0; u < u1; u++) {
            int ch = u % chunks, rest = u / chunks;
            int tile = rest % nt;
            rest /= nt;
            int g = rest % s.groups(), n = rest / s.groups();
            long a = (n * inL.imageFloats() + (long) g * cg) * Float.BYTES;
            long o = (n * outL.imageFloats() + (long) g * kg + tileK0[tile]) * Float.BYTES;
            long wo = g * groupW + tileW[tile];
            long bo = ((long) g * kgPad + tileK0[tile]) * Float.BYTES;
            int nb = tileNb[tile], mr = tileMr[tile];
            int lastLanes = kg - tileK0[tile] - (nb - 1) * L; // lanes of the tile's last vector that are real channels
            int m0 = ch * chunk, m1 = ch == chunks - 1 ? M : m0 + chunk;
            if (M < mr) {
                for (int m = m0; m < m1; m++) {
                    for (int j = 0; j < nb; j++) {
                        ConvTiles.k1x1(in, a + pix[m] * 4L, xoff, w, wo + j * ConvTiles.VB, nb, bias, bo + j * ConvTiles.VB,
                                out, o + opix[m] * 4L + j * ConvTiles.VB, lo, j == nb - 1 ? lastLanes : L);
                    }
                }
                continue;
            }
            // Whole tiles, block by block of the reduction (one block for most layers, see KC); the first
            // block starts from the bias, later ones from the partial sums in the output.
            int mEnd = m0 + (m1 - m0) / mr * mr;
            int nBlocks = blockJ.length - 1;
            for (int b = 0; b < nBlocks; b++) {
                float l = b == nBlocks - 1 ? lo : Float.NEGATIVE_INFINITY;
                MemorySegment src = b == 0 ? bias : out;
                long sb = b == 0 ? bo : o;
                int[] spix = b == 0 ? zeros : opix;
                int j0 = blockJ[b], j1 = blockJ[b + 1];
                if (pack) {
                    // the chunk's pixels once per block; every tile of the chunk then reads its rows
                    pack(in, a, m0, mEnd - m0, blockPieces[b], panel, 0, blockStride);
                    long wb = wo + j0 * (long) nb * ConvTiles.VB;
                    for (int m = m0; m < mEnd; m += mr) {
                        panelTile(nb, panel, (m - m0) * blockStride, blockStride, j1 - j0, wb, src, sb, spix, m, out, o, l, lastLanes);
                    }
                } else {
                    for (int m = m0; m < mEnd; m += mr) tile(nb, in, a, pix, m, j0, j1, wo, src, sb, spix, out, o, l, lastLanes);
                }
            }
            // The remainder: one tile ending at m1, overhanging backwards onto finished pixels of this chunk,
            // over the whole reduction at once (the overlap is rewritten with bitwise the same values; a second
            // block would read those pixels' finished outputs as partial sums).
            if (mEnd < m1) {
                if (pack) {
                    pack(in, a, m1 - mr, mr, allPieces, panel, remBase, remStride);
                    panelTile(nb, panel, remBase, remStride, xoff.length, wo, bias, bo, zeros, m1 - mr, out, o, lo, lastLanes);
                } else {
                    tile(nb, in, a, pix, m1 - mr, 0, xoff.length, wo, bias, bo, zeros, out, o, lo, lastLanes);
                }
            }
        }
    }

    /**
     * Copies the pieces of pixels m..m+rows-1 into panel rows at {@code base}, {@code stride} bytes apart: each run of the window
     * (contiguous in the channels-last input) is one vector copy, so the tile kernel then reads its
     * broadcasts at offsets linear in the step, and C2 hoists their bounds checks out of the loop.
     */
    private void pack(MemorySegment in, long a, int m, int rows, int[] piece, MemorySegment p, long base, long stride) {
        long safeEnd = in.byteSize() - ConvTiles.VB; // a whole-vector load from at most here stays in the input
        for (int i = 0; i < rows; i++) {
            long origin = a + pix[m + i] * 4L, row = base + i * stride;
            for (int q = 0; q < piece.length; q += 3) {
                long so = origin + piece[q] * 4L, d = row + piece[q + 1] * 4L;
                int len = piece[q + 2];
                // Whole vectors, the last one running past the piece: the surplus lands where the next piece (or
                // the row's spare vector) goes, and the kernels never read it. No masks in the common case.
                for (int k = 0; k < len; k += L) {
                    long sk = so + k * 4L;
                    if (sk <= safeEnd) {
                        FloatVector.fromMemorySegment(ConvTiles.S, in, sk, ConvTiles.NO).intoMemorySegment(p, d + k * 4L, ConvTiles.NO);
                    } else {
                        VectorMask<Float> msk = ConvTiles.S.indexInRange(k, len);
                        FloatVector.fromMemorySegment(ConvTiles.S, in, sk, ConvTiles.NO, msk).intoMemorySegment(p, d + k * 4L, ConvTiles.NO, msk);
                    }
                }
            }
        }
    }

    /** The contiguous pieces of reduction steps [j0, j1): (input offset from the window origin, panel offset, length) triples, in floats. */
    private int[] pieces(int j0, int j1) {
        List<Integer> q = new ArrayList<>();
        for (int j = j0; j < j1; ) {
            int t = j / runLen, off = j - t * runLen, len = Math.min(runLen - off, j1 - j);
            q.add(runs[t] + off);
            q.add(j - j0);
            q.add(len);
            j += len;
        }
        return q.stream().mapToInt(Integer::intValue).toArray();
    }

    private void panelTile(int nb, MemorySegment p, long pb, long ps, int n, long wo, MemorySegment src, long sb, int[] spix, int m,
                           MemorySegment out, long o, float l, int lastLanes) {
        switch (nb) {
            case 4 -> {
                switch (mr4) {
                    case 4 -> ConvTiles.p4x4(p, pb, ps, n, w, wo, src, sb, spix, m, out, o, opix, l, lastLanes);
                    case 5 -> ConvTiles.p5x4(p, pb, ps, n, w, wo, src, sb, spix, m, out, o, opix, l, lastLanes);
                    default -> ConvTiles.p6x4(p, pb, ps, n, w, wo, src, sb, spix, m, out, o, opix, l, lastLanes);
                }
            }
            case 3 -> ConvTiles.p6x3(p, pb, ps, n, w, wo, src, sb, spix, m, out, o, opix, l, lastLanes);
            case 2 -> ConvTiles.p8x2(p, pb, ps, n, w, wo, src, sb, spix, m, out, o, opix, l, lastLanes);
            default -> ConvTiles.p8x1(p, pb, ps, n, w, wo, src, sb, spix, m, out, o, opix, l, lastLanes);
        }
    }

    private void tile4(MemorySegment in, long a, int[] pix, int m, int j0, int j1, long wo, MemorySegment src, long sb, int[] spix,
                       MemorySegment out, long o, float l, int lastLanes) {
        switch (mr4) {
            case 4 -> ConvTiles.k4x4(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
            case 5 -> ConvTiles.k5x4(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
            default -> ConvTiles.k6x4(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
        }
    }

    private void tile(int nb, MemorySegment in, long a, int[] pix, int m, int j0, int j1, long wo, MemorySegment src, long sb, int[] spix,
                      MemorySegment out, long o, float l, int lastLanes) {
        switch (nb) {
            case 6 -> ConvTiles.k4x6(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
            case 4 -> tile4(in, a, pix, m, j0, j1, wo, src, sb, spix, out, o, l, lastLanes);
            case 3 -> ConvTiles.k6x3(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
            case 2 -> ConvTiles.k8x2(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
            default -> ConvTiles.k8x1(in, a, pix, m, xoff, j0, j1, w, wo, src, sb, spix, out, o, opix, l, lastLanes);
        }
    }
}
