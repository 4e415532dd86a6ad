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
 * table of per-step offsets (conv1, conv2: short runs, where packing costs more than it saves), or copied
 * first into a per-thread panel whose rows lie a constant stride apart, so that the tile loop addresses
 * every pixel off one register ({@link Tuning#PACK_MIN_RUN}; ConvTiles says why the loops are flat).
 *
 * <p>Packed weights, per group g and channel tile (NB vectors of L output channels):
 * [run t][j][NB*L], where a run is a contiguous stretch of the input relative to a pixel's window
 * origin: with G = 1 one run per kernel row r (S*C floats, (s, c) merged), with G > 1 one run per (r, s)
 * (C/G floats). Output channels beyond K/G in the last tile are zero weights and masked stores.
 *
 * <p>Work units for threads: (image n, group g, chunk of {@value #CHUNK} pixels, channel tile) with a
 * panel, so that a member packs a chunk once for all its channel tiles; (n, g, channel tile, chunk)
 * without, so that a member walks the pixels of one weight tile while it is hot in cache. Units are split
 * into contiguous ranges; threads share the packed weights, and batch 1 still has units to split (conv3-5
 * at 13x13 have 3 chunks x 2-6 channel tiles per group). Different threads write disjoint (pixel,
 * channel-tile) blocks. Within a unit the reduction is blocked (equal blocks of at most {@value #KC} steps)
 * and partial sums pass through the output (only the last block applies the ReLU). A chunk whose pixel count
 * is not a multiple of the tile height ends in a tile over copies of its last pixel (see {@link Rows}).
 */
public final class ConvVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    static final int L = ConvTiles.L;
    /** Pixels per work unit: a multiple of the tile heights 4, 6 and 8 (40 with 5-pixel tiles); an image's last unit takes the rest. */
    static final int CHUNK = 48;

    /**
     * Tuning choices, for tests and A/B runs: {@code mr4} pixels per 4-vector tile (4, 5 or 6; 0 = automatic:
     * 5 from a panel, 6 from the table), {@code kc} reduction steps per block (at most {@link #KC} with a panel),
     * {@code packMinRun}: the tiles read a packed panel when the window's contiguous runs are at least this
     * many floats (else the input through the offset table; see ConvTiles). The tests use small {@code kc} to
     * exercise many blocks.
     */
    public record Tuning(int mr4, int kc, int packMinRun) {
        /**
         * Packed: conv3-conv5 (runs of 192-768 floats), whose panel loops keep every address in a register
         * and whose chunks feed 2-4 channel tiles per packing. conv1 (33-float runs) and conv2 (48) read the
         * input through the table: their packing costs more than it saves, measured in interleaved A/B runs
         * (bench/RESULTS.md, "Direct convolution loops").
         */
        public static final int PACK_MIN_RUN = 64;
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
     * weights stream well from L2 (256-384 B per 24 FMAs). With 2304 every AlexNet layer is one block (conv3
     * as one block ran 4-12% faster than as two, which are packed again for each channel tile), and one
     * block fits a panel row ({@link ConvTiles#PS}); bench/RESULTS.md, "Why the kernels
     * look the way they do", has the A/B figures.
     */
    static final int KC = 2304;

    private final ConvShape s;
    private final Nhwc inL, outL;
    private final float lo;
    private final boolean pack;        // tiles read a packed panel (else the input through xoff)
    private final int mr4;             // pixels per 4-vector tile
    private final ChannelTile[] tiles; // a group's output channels, tile by tile
    private final int kgPad;           // padded channels per group
    private final long groupW;         // bytes of packed weights per group
    private final MemorySegment w;     // packed weights: [G][tile][step][nb * L]
    private final MemorySegment bias;  // [G][kgPad]
    private final int[] runs;          // float offsets of the runs relative to a window origin (group channel offset excluded)
    private final int runLen;
    private final int[] xoff;          // per reduction step: input float offset from a pixel's window origin (group channel offset excluded)
    private final int[] blockJ;        // block b = reduction steps [blockJ[b], blockJ[b+1])
    private final int[][] blockPieces; // per block: what to copy into the panel (see pieces())
    private final int chunk;           // pixels per work unit (an image's last unit takes the rest)
    private final int chunks, units;
    private final Rows rows;           // the chunks' pixels as tile rows
    private final Arena arena;         // where the members' scratch is allocated (on first use by each)
    private volatile Scratch[] scratch = new Scratch[0];

    /** NB vectors of output channels from channel {@code k0} of a group, in tiles of {@code mr} pixels; weights at {@code wOff} within the group. */
    private record ChannelTile(int k0, int nb, int mr, long wOff) {}

    /**
     * The pixels of each chunk as rows of tiles: chunk c's rows start at {@code first[c]}; its
     * {@code pixels[c]} pixels come first, then copies of its last pixel up to a whole number of tiles of any
     * height. A tile over copies computes the last pixel again, bitwise alike, and stores the same values to
     * the same place, so no tile needs a tail case and none touches another chunk's pixels.
     */
    private record Rows(int[] origin, int[] out, int[] zeros, int[] first, int[] pixels) {}

    /** A team member's working memory: the panel, what it holds, and the tiles' result addresses. */
    private static final class Scratch {
        final MemorySegment panel;
        final ConvTiles.TileIo io = new ConvTiles.TileIo();
        long packed = -1; // (image, group, chunk, block) whose rows the panel holds; -1: none

        Scratch(MemorySegment panel) { this.panel = panel; }
    }

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
        checkOperands(s, inL, outL, weight, bias);
        this.s = s;
        this.inL = inL;
        this.outL = outL;
        this.lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        this.arena = arena;
        int nVec = (s.kg() + L - 1) / L;
        runLen = s.groups() == 1 ? s.s() * s.c() : s.cg();
        runs = windowRuns(s, inL);
        pack = runLen >= tuning.packMinRun();
        mr4 = tuning.mr4() != 0 ? tuning.mr4() : pack ? 5 : 6;
        kgPad = nVec * L;
        xoff = stepOffsets(runs, runLen, s);
        tiles = channelTiles(nVec, mr4, xoff.length, pack);
        ChannelTile last = tiles[tiles.length - 1];
        groupW = last.wOff() + (long) xoff.length * last.nb() * L * Float.BYTES;
        w = packWeights(weight, arena);
        this.bias = packBias(bias, arena);
        // the panel holds one block per row: at most KC steps
        blockJ = reductionBlocks(xoff.length, pack ? Math.min(tuning.kc(), KC) : tuning.kc());
        blockPieces = new int[blockJ.length - 1][];
        for (int b = 0; b < blockPieces.length; b++) blockPieces[b] = pieces(blockJ[b], blockJ[b + 1]);
        chunk = mr4 == 5 ? 40 : CHUNK;
        chunks = Math.max(1, s.p() * s.q() / chunk);
        rows = tileRows();
        units = s.n() * s.groups() * tiles.length * chunks;
    }

    /** {@code o} for a batch of one image, sharing its packed weights and bias; scratch of its own, from {@code arena}. */
    private ConvVec(ConvVec o, Arena arena) {
        this.s = new ConvShape(1, o.s.c(), o.s.h(), o.s.w(), o.s.k(), o.s.r(), o.s.s(), o.s.strideH(), o.s.strideW(),
                o.s.padH(), o.s.padW(), o.s.groups());
        this.inL = o.inL;
        this.outL = o.outL;
        this.lo = o.lo;
        this.arena = arena;
        this.runLen = o.runLen;
        this.runs = o.runs;
        this.pack = o.pack;
        this.mr4 = o.mr4;
        this.kgPad = o.kgPad;
        this.xoff = o.xoff;
        this.tiles = o.tiles;
        this.groupW = o.groupW;
        this.w = o.w;
        this.bias = o.bias;
        this.blockJ = o.blockJ;
        this.blockPieces = o.blockPieces;
        this.chunk = o.chunk;
        this.chunks = o.chunks;
        this.rows = o.rows; // the rows of one image's chunks: the same for every image
        this.units = s.groups() * tiles.length * chunks;
    }

    /**
     * This convolution for one image at a time (same weights, same results per image), for a caller that
     * runs the batch image by image into a buffer of one image; its scratch comes from {@code arena}, which
     * must outlive it and be shared when several threads run it.
     */
    public ConvVec forOneImage(Arena arena) {
        return new ConvVec(this, arena);
    }

    private static void checkOperands(ConvShape s, Nhwc inL, Nhwc outL, MemorySegment weight, MemorySegment bias) {
        if (inL.c() != s.c() || inL.h() != s.h() || inL.w() != s.w() || inL.padH() < s.padH() || inL.padW() < s.padW()) {
            throw new IllegalArgumentException("input layout " + inL + " does not fit " + s);
        }
        if (outL.c() != s.k() || outL.h() != s.p() || outL.w() != s.q()) throw new IllegalArgumentException("output layout " + outL + " does not fit " + s);
        Checks.floats(weight, s.weightSize(), "conv weight");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
    }

    /**
     * The window's contiguous runs in the channels-last input, as float offsets from its origin: with G = 1
     * one per kernel row r (S*C floats, (s, c) merged), with G > 1 one per (r, s) (C/G floats).
     */
    private static int[] windowRuns(ConvShape s, Nhwc inL) {
        int R = s.r(), S = s.s(), C = s.c();
        if (s.groups() == 1) {
            int[] runs = new int[R];
            for (int r = 0; r < R; r++) runs[r] = r * inL.wp() * C;
            return runs;
        }
        int[] runs = new int[R * S];
        for (int r = 0; r < R; r++) for (int t = 0; t < S; t++) runs[r * S + t] = (r * inL.wp() + t) * C;
        return runs;
    }

    /** Per reduction step, the input's float offset from the window origin; increasing, which the table kernels rely on. */
    private static int[] stepOffsets(int[] runs, int runLen, ConvShape s) {
        int[] xoff = new int[runs.length * runLen];
        for (int t = 0; t < runs.length; t++) for (int j = 0; j < runLen; j++) xoff[t * runLen + j] = runs[t] + j;
        for (int j = 1; j < xoff.length; j++) { // the table kernels bound a block's reads by its first and last offsets
            if (xoff[j] <= xoff[j - 1]) throw new IllegalStateException("window offsets not increasing at step " + j + " for " + s);
        }
        return xoff;
    }

    /**
     * A group's channel tiles: from the table, 6-vector tiles of 4 pixels where they cover the group exactly
     * (conv1's 96 channels: 4 broadcasts per 24 FMAs); from a panel, and otherwise, 4-vector tiles of
     * {@code mr4} pixels (from a panel they load fewer weight bytes per FMA than 4 x 6, and ran conv3 and
     * conv4 up to 1.5x faster: bench/RESULTS.md), then one tile of the remaining 3 vectors (6 pixels: with 8
     * the tile spills registers), 2 or 1 vectors (8 pixels).
     */
    private static ChannelTile[] channelTiles(int nVec, int mr4, int steps, boolean panel) {
        // 5 x 4 from a panel: its loop needs at most 20 accumulators + 4 weights + 5 broadcasts = 29 vector
        // registers however C2 schedules the loads; 6 x 4 (34 if all six broadcasts are loaded first) came
        // out of C2 with 3 accumulators on the stack in 2 of 6 fresh JVMs and ran 1.4x slower for the
        // whole run, 5 x 4 clean in 6 of 6 and on average 1-3% slower than a clean 6 x 4 (bench/RESULTS.md)
        int main = nVec % 6 == 0 && !panel ? 6 : 4;
        List<ChannelTile> tl = new ArrayList<>();
        long wOff = 0;
        for (int v = 0; v < nVec; ) {
            int nb = Math.min(main, nVec - v);
            int mr = switch (nb) {
                case 6 -> 4;
                case 4 -> mr4;
                case 3 -> 6;
                default -> 8;
            };
            tl.add(new ChannelTile(v * L, nb, mr, wOff));
            wOff += (long) steps * nb * L * Float.BYTES;
            v += nb;
        }
        return tl.toArray(ChannelTile[]::new);
    }

    /** Packed weights, per group and channel tile: [run t][j][nb * L], channels beyond K/G zero. */
    private MemorySegment packWeights(MemorySegment weight, Arena arena) {
        MemorySegment packed = arena.allocate(groupW * s.groups(), 64);
        float[] panel = new float[xoff.length * 6 * L];
        for (int g = 0; g < s.groups(); g++) {
            for (ChannelTile t : tiles) {
                int width = t.nb() * L;
                java.util.Arrays.fill(panel, 0f);
                for (int step = 0; step < xoff.length; step++) {
                    for (int l = 0; l < width && t.k0() + l < s.kg(); l++) {
                        panel[step * width + l] = weight.getAtIndex(JAVA_FLOAT, weightIndex(g, t.k0() + l, step));
                    }
                }
                MemorySegment.copy(panel, 0, packed, JAVA_FLOAT, g * groupW + t.wOff(), xoff.length * width);
            }
        }
        return packed;
    }

    /** Index in the OIHW weights of group g's output channel k at reduction step {@code step}. */
    private long weightIndex(int g, int k, int step) {
        int t = step / runLen, j = step % runLen, r, st, c;
        if (s.groups() == 1) { r = t; st = j / s.c(); c = j % s.c(); } else { r = t / s.s(); st = t % s.s(); c = j; }
        return (((long) (g * s.kg() + k) * s.cg() + c) * s.r() + r) * s.s() + st;
    }

    /** The bias per group, padded to whole vectors with zeros. */
    private MemorySegment packBias(MemorySegment b, Arena arena) {
        MemorySegment packed = arena.allocate((long) s.groups() * kgPad * Float.BYTES, 64);
        for (int g = 0; g < s.groups(); g++) {
            for (int k = 0; k < s.kg(); k++) {
                packed.setAtIndex(JAVA_FLOAT, (long) g * kgPad + k, b == null ? 0f : b.getAtIndex(JAVA_FLOAT, (long) g * s.kg() + k));
            }
        }
        return packed;
    }

    /** Equal blocks of at most kc steps (2560 steps with kc = 2304 make 2 x 1280, not 2304 + 256): block b is [blockJ[b], blockJ[b+1]). */
    private static int[] reductionBlocks(int steps, int kc) {
        int nBlocks = (steps + kc - 1) / kc;
        int[] blockJ = new int[nBlocks + 1];
        for (int b = 0; b <= nBlocks; b++) blockJ[b] = (int) ((long) steps * b / nBlocks);
        return blockJ;
    }

    /** The chunks' pixels as tile rows (see {@link Rows}): window origins in the input, positions in the output. */
    private Rows tileRows() {
        int M = s.p() * s.q(), pad = 8; // the tallest tile
        int[] first = new int[chunks], pixels = new int[chunks];
        for (int c = 0; c < chunks; c++) {
            first[c] = c * (chunk + pad);
            pixels[c] = c == chunks - 1 ? M - c * chunk : chunk;
        }
        int total = first[chunks - 1] + pixels[chunks - 1] + pad;
        int[] origin = new int[total], out = new int[total];
        for (int c = 0; c < chunks; c++) {
            for (int r = 0; r < pixels[c] + pad; r++) {
                int m = c * chunk + Math.min(r, pixels[c] - 1), p = m / s.q(), q = m % s.q();
                origin[first[c] + r] = Math.toIntExact(inL.offset(p * s.strideH() - s.padH(), q * s.strideW() - s.padW()));
                out[first[c] + r] = Math.toIntExact(outL.offset(p, q));
            }
        }
        return new Rows(origin, out, new int[total], first, pixels);
    }

    public ConvShape shape() { return s; }
    public int units() { return units; }

    /** This member's share of the whole batch. */
    public void forward(MemorySegment out, MemorySegment in, int member, int members) {
        forwardUnits(out, in, scratch(member), ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /**
     * Images [n0, n1) of the batch on team member {@code member}'s scratch (units are image-major), for a
     * caller that splits the batch by images itself, e.g. to reorder each image's output while it is in cache.
     */
    public void forwardImages(MemorySegment out, MemorySegment in, int member, int n0, int n1) {
        if (n0 < 0 || n1 > s.n() || n0 > n1) throw new IndexOutOfBoundsException("images [" + n0 + ", " + n1 + ") of " + s.n());
        int perImage = units / s.n();
        forwardUnits(out, in, scratch(member), n0 * perImage, n1 * perImage);
    }

    /** Work units [u0, u1) (see the class comment) on the calling thread; {@code (out, in, 0, units())} is the whole batch. */
    public void forwardUnits(MemorySegment out, MemorySegment in, int u0, int u1) {
        forwardUnits(out, in, scratch(0), u0, u1);
    }

    /**
     * Team member {@code member}'s scratch, allocated from the constructor's arena on the member's first
     * call (so that arena must be shared when several threads run this).
     */
    private Scratch scratch(int member) {
        Scratch[] ss = scratch;
        if (member < ss.length) return ss[member];
        synchronized (this) {
            ss = scratch;
            if (member >= ss.length) {
                Scratch[] grown = java.util.Arrays.copyOf(ss, member + 1);
                // a chunk's rows: an image's last chunk has at most 2 * chunk - 1 pixels, padded by up to 7
                long panelBytes = pack ? (2L * chunk + 8) * ConvTiles.PS : 64;
                for (int i = ss.length; i <= member; i++) grown[i] = new Scratch(arena.allocate(panelBytes, 64));
                scratch = ss = grown;
            }
            return ss[member];
        }
    }

    private void forwardUnits(MemorySegment out, MemorySegment in, Scratch sc, int u0, int u1) {
        Checks.floats(in, s.n() * inL.imageFloats(), "conv input");
        Checks.floats(out, s.n() * outL.imageFloats(), "conv output");
        sc.packed = -1; // the input may differ from the last call's
        int nt = tiles.length;
        for (int u = u0; u < u1; u++) {
            // with a panel, the tiles of one chunk are consecutive units, so they share the chunk's packing;
            // without, the chunks of one tile are, so they share its weights in cache
            int ch, tile;
            if (pack) { tile = u % nt; ch = (u / nt) % chunks; } else { ch = u % chunks; tile = (u / chunks) % nt; }
            int ng = u / (nt * chunks), g = ng % s.groups(), n = ng / s.groups();
            unit(out, in, sc, n, g, ch, tiles[tile]);
        }
    }

    /** One work unit: channel tile t of group g of image n, over the pixels of chunk ch, block by block of the reduction. */
    private void unit(MemorySegment out, MemorySegment in, Scratch sc, int n, int g, int ch, ChannelTile t) {
        long a = (n * inL.imageFloats() + (long) g * s.cg()) * Float.BYTES;
        long wo = g * groupW + t.wOff();
        int r0 = rows.first()[ch], tileRows = (rows.pixels()[ch] + t.mr() - 1) / t.mr() * t.mr();
        ConvTiles.TileIo io = sc.io;
        io.out = out;
        io.outBase = (n * outL.imageFloats() + (long) g * s.kg() + t.k0()) * Float.BYTES;
        io.outPix = rows.out();
        io.lastLanes = s.kg() - t.k0() - (t.nb() - 1) * L;
        int nBlocks = blockJ.length - 1;
        for (int b = 0; b < nBlocks; b++) {
            // the first block starts from the bias, later ones from the partial sums in the output; the last applies the ReLU
            io.src = b == 0 ? bias : out;
            io.srcBase = b == 0 ? ((long) g * kgPad + t.k0()) * Float.BYTES : io.outBase;
            io.srcPix = b == 0 ? rows.zeros() : rows.out();
            io.lo = b == nBlocks - 1 ? lo : Float.NEGATIVE_INFINITY;
            int j0 = blockJ[b], j1 = blockJ[b + 1];
            if (pack) {
                long key = (((long) n * s.groups() + g) * chunks + ch) * nBlocks + b;
                if (sc.packed != key) {
                    pack(in, a, r0, packedRows(ch), blockPieces[b], sc.panel);
                    sc.packed = key;
                }
                long wb = wo + j0 * (long) t.nb() * ConvTiles.VB;
                for (int r = 0; r < tileRows; r += t.mr()) panelTile(t.nb(), sc.panel, r * ConvTiles.PS, j1 - j0, wb, r0 + r, io);
            } else {
                for (int r = 0; r < tileRows; r += t.mr()) tableTile(t.nb(), in, a, r0 + r, j0, j1, wo, io);
            }
        }
    }

    /** Rows of chunk ch that some tile reads: its pixels rounded up to the tallest tile's multiple. */
    private int packedRows(int ch) {
        int most = 0;
        for (ChannelTile t : tiles) most = Math.max(most, (rows.pixels()[ch] + t.mr() - 1) / t.mr() * t.mr());
        return most;
    }

    /**
     * Copies the pieces of tile rows r0.. r0+count-1 into the panel's rows, {@link ConvTiles#PS} bytes apart:
     * each run of the window (contiguous in the channels-last input) is one vector copy, so the tile kernel
     * then reads its broadcasts at offsets linear in the step, and C2 hoists their bounds checks out of the loop.
     */
    private void pack(MemorySegment in, long a, int r0, int count, int[] piece, MemorySegment p) {
        long safeEnd = in.byteSize() - ConvTiles.VB; // a whole-vector load from at most here stays in the input
        for (int i = 0; i < count; i++) {
            long origin = a + rows.origin()[r0 + i] * 4L, row = i * ConvTiles.PS;
            for (int q = 0; q < piece.length; q += 3) {
                long so = origin + piece[q] * 4L, d = row + piece[q + 1] * 4L;
                int len = piece[q + 2];
                // Whole vectors, the last one running past the piece: the surplus lands where the next piece (or
                // the row's spare room) goes, and the kernels never read it. No masks in the common case.
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

    private void panelTile(int nb, MemorySegment p, long pb, int n, long wo, int r, ConvTiles.TileIo io) {
        switch (nb) {
            case 6 -> ConvTiles.p4x6(p, pb, n, w, wo, r, io);
            case 4 -> {
                switch (mr4) {
                    case 4 -> ConvTiles.p4x4(p, pb, n, w, wo, r, io);
                    case 5 -> ConvTiles.p5x4(p, pb, n, w, wo, r, io);
                    default -> ConvTiles.p6x4(p, pb, n, w, wo, r, io);
                }
            }
            case 3 -> ConvTiles.p6x3(p, pb, n, w, wo, r, io);
            case 2 -> ConvTiles.p8x2(p, pb, n, w, wo, r, io);
            default -> ConvTiles.p8x1(p, pb, n, w, wo, r, io);
        }
    }

    private void tableTile(int nb, MemorySegment in, long a, int r, int j0, int j1, long wo, ConvTiles.TileIo io) {
        int[] pix = rows.origin();
        switch (nb) {
            case 6 -> ConvTiles.k4x6(in, a, pix, xoff, j0, j1, w, wo, r, io);
            case 4 -> {
                switch (mr4) {
                    case 4 -> ConvTiles.k4x4(in, a, pix, xoff, j0, j1, w, wo, r, io);
                    case 5 -> ConvTiles.k5x4(in, a, pix, xoff, j0, j1, w, wo, r, io);
                    default -> ConvTiles.k6x4(in, a, pix, xoff, j0, j1, w, wo, r, io);
                }
            }
            case 3 -> ConvTiles.k6x3(in, a, pix, xoff, j0, j1, w, wo, r, io);
            case 2 -> ConvTiles.k8x2(in, a, pix, xoff, j0, j1, w, wo, r, io);
            default -> ConvTiles.k8x1(in, a, pix, xoff, j0, j1, w, wo, r, io);
        }
    }
}
