package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Convolution (+ bias, + optional ReLU) with the semantics of {@link dev.alexnet.kernels.ref.ConvRef},
 * on channels-last activations ({@link Nhwc}) as a direct implicit GEMM:
 * M = output pixels P*Q (per image), N = output channels K/G (per group), reduction = R*S*C/G.
 * No im2col: a tile of output pixels broadcasts straight from the padded input, whose border makes every
 * window in range; only the weights are packed, once, here in the constructor.
 *
 * <p>Packed weights, per group g and channel tile (NB vectors of L output channels):
 * [run t][j][NB*L], where a run is a contiguous stretch of the input relative to a pixel's window
 * origin: with G = 1 one run per kernel row r (S*C floats, (s, c) merged), with G > 1 one run per (r, s)
 * (C/G floats). Output channels beyond K/G in the last tile are zero weights and masked stores.
 *
 * <p>Work units for threads: (image n, group g, channel tile, chunk of {@value #CHUNK} pixels), in that
 * order, split into contiguous ranges, so each thread walks the pixels of one weight tile while it is
 * hot in cache, threads share the packed weights, and batch 1 still has units to split (conv3-5 at
 * 13x13 have 3 chunks x 6-8 tiles per group). Different threads write disjoint (pixel, channel-tile)
 * blocks. Within a unit the reduction is blocked (at most {@value #KC} steps; runs longer than that
 * are cut into equal segments) and partial sums pass through the output (only the last block applies
 * the ReLU); a tile count that does not divide the chunk ends with one tile overhanging backwards that
 * recomputes whole pixels of its own chunk.
 */
public final class ConvVec {
    static final int L = ConvTiles.L;
    /** Pixels per work unit: a multiple of both tile heights (6 and 8); an image's last unit takes the rest. */
    static final int CHUNK = 48;

    /**
     * Tuning choices, for tests and A/B runs: {@code mr4} pixels per 4-vector tile (4, 5 or 6), {@code kc}
     * reduction steps per block. Measured (KernelGflops ab=, interleaved in one JVM): 6 pixels beat 5 by 2-5%
     * and 4 by 10-25% on conv1/3/5 despite one accumulator spilled in 6x4's inner loop. The tests use small
     * {@code kc} to exercise many blocks and cut runs. Unit order (n, g, chunk, tile) instead of
     * (n, g, tile, chunk) measured the same (within 3%) and was dropped.
     */
    public record Tuning(int mr4, int kc) {
        public static final Tuning DEFAULT = new Tuning(6, KC);

        public Tuning {
            if (mr4 < 4 || mr4 > 6 || kc < 1) throw new IllegalArgumentException("bad tuning " + mr4 + ", " + kc);
        }
    }
    /**
     * Most reduction steps per block. Blocking for L1 (128 steps = 32 KiB of a 4-vector tile's weights) lost
     * to the per-block costs: each block start re-runs C2's loop set-up (~250 instructions per segment),
     * reloads and stores the 24 partial sums, and 192-channel runs were cut 128 + 64. With 2048 every AlexNet
     * layer but conv3 (2 blocks) is one block; the tile's weights stream from L2 (at most 256 B per 24 FMAs).
     * Measured against 128, interleaved in one JVM (KernelGflops ab=6:2048, batch 32/1, one thread):
     * conv1 +5/+7%, conv2 +12/+16%, conv3 +21/+25%, conv4 +12/+9%, conv5 +17/+22% (1024 and 4096 alike).
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
    private final int[] segOff, segLen; // the runs cut into segments of at most KC floats
    private final int[] blockT, blockStep; // block b = segments [blockT[b], blockT[b+1]), starting at reduction step blockStep[b]
    private final int[] pix, opix;     // per output pixel m = p*Q + q: window origin in the input, position in the output (floats)
    private final int chunks, units;
    private final int mr4;             // pixels per 4-vector tile
    private final int chunk;           // pixels per work unit: a multiple of the tile heights (40 with 5-pixel tiles, else CHUNK)

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

        // Channel tiles: as many 4-vector tiles (6 pixels) as fit, unless 3-vector tiles (8 pixels)
        // cover the group exactly (96 and 48 channels: conv1 whole and per tower); remainder 3, 2 or 1 vectors.
        int nVec = (kg + L - 1) / L;
        List<int[]> tl = new ArrayList<>();
        int main = 4; // 6x4 measured ahead of 8x3 (96 channels: 4 + 2 vectors)
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
            tileMr[i] = tileNb[i] == 4 ? tuning.mr4() : 8;
            tileW[i] = off;
            off += red * tileNb[i] * L * Float.BYTES;
        }
        groupW = off;
        w = arena.allocate(groupW * G, 64);
        this.bias = arena.allocate((long) G * kgPad * Float.BYTES, 64);
        float[] panel = new float[(int) (red * 4 * L)];
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
        // Segments of at most kc floats, grouped into blocks of at most kc reduction steps.
        List<int[]> segs = new ArrayList<>();
        // A run longer than KC is cut into equal parts (conv4/5's 192 channels per tower: 2 x 96, not 128 + 64),
        // so no block is short: each block start costs the kernel's set-up and a pass of the partial sums.
        int kc = tuning.kc();
        int parts = (runLen + kc - 1) / kc;
        for (int r : runs) {
            for (int i = 0; i < parts; i++) {
                int j0 = (int) ((long) runLen * i / parts), j1 = (int) ((long) runLen * (i + 1) / parts);
                segs.add(new int[] {r + j0, j1 - j0});
            }
        }
        segOff = segs.stream().mapToInt(x -> x[0]).toArray();
        segLen = segs.stream().mapToInt(x -> x[1]).toArray();
        List<Integer> bt = new ArrayList<>(), bs = new ArrayList<>();
        int steps = 0, inBlock = kc;
        for (int t = 0; t < segLen.length; t++) {
            if (inBlock + segLen[t] > kc) {
                bt.add(t);
                bs.add(steps);
                inBlock = 0;
            }
            inBlock += segLen[t];
            steps += segLen[t];
        }
        bt.add(segLen.length);
        blockT = bt.stream().mapToInt(Integer::intValue).toArray();
        blockStep = bs.stream().mapToInt(Integer::intValue).toArray();
        mr4 = tuning.mr4();
        chunk = mr4 == 5 ? 40 : CHUNK;
        chunks = Math.max(1, P * Q / chunk);
        units = s.n() * G * nt * chunks;
    }

    public ConvShape shape() { return s; }
    public int units() { return units; }

    /** This member's share of the whole batch. */
    public void forward(MemorySegment out, MemorySegment in, int member, int members) {
        forwardUnits(out, in, ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));
    }

    /** Work units [u0, u1) (see the class comment); {@code forwardUnits(out, in, 0, units())} is the whole batch. */
    public void forwardUnits(MemorySegment out, MemorySegment in, int u0, int u1) {
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
                        ConvTiles.k1x1(in, a + pix[m] * 4L, segOff, segLen, w, wo + j * ConvTiles.VB, nb, bias, bo + j * ConvTiles.VB,
                                out, o + opix[m] * 4L + j * ConvTiles.VB, lo, j == nb - 1 ? lastLanes : L);
                    }
                }
                continue;
            }
            // Whole tiles, block by block of the reduction (one block for most layers, see KC).
            int mEnd = m0 + (m1 - m0) / mr * mr;
            int nBlocks = blockStep.length;
            long stepB = (long) nb * L * Float.BYTES;
            for (int b = 0; b < nBlocks; b++) {
                long wb = wo + blockStep[b] * stepB;
                float l = b == nBlocks - 1 ? lo : Float.NEGATIVE_INFINITY;
                for (int m = m0; m < mEnd; m += mr) tile(nb, in, a, pix, m, blockT[b], blockT[b + 1], wb, b == 0, bo, out, o, l, lastLanes);
            }
            // The remainder: one tile ending at m1, overhanging backwards onto finished pixels of this chunk,
            // over the whole reduction at once (the overlap is rewritten with bitwise the same values).
            if (mEnd < m1) tile(nb, in, a, pix, m1 - mr, 0, segOff.length, wo, true, bo, out, o, lo, lastLanes);
        }
    }

    private void tile4(MemorySegment in, long a, int[] pix, int m, int t0, int t1, long wo, boolean first, long bo,
                       MemorySegment out, long o, float l, int lastLanes) {
        switch (mr4) {
            case 4 -> ConvTiles.k4x4(in, a, pix, m, segOff, segLen, t0, t1, w, wo, first, bias, bo, out, o, opix, l, lastLanes);
            case 5 -> ConvTiles.k5x4(in, a, pix, m, segOff, segLen, t0, t1, w, wo, first, bias, bo, out, o, opix, l, lastLanes);
            default -> ConvTiles.k6x4(in, a, pix, m, segOff, segLen, t0, t1, w, wo, first, bias, bo, out, o, opix, l, lastLanes);
        }
    }

    private void tile(int nb, MemorySegment in, long a, int[] pix, int m, int t0, int t1, long wo, boolean first, long bo,
                      MemorySegment out, long o, float l, int lastLanes) {
        switch (nb) {
            case 4 -> tile4(in, a, pix, m, t0, t1, wo, first, bo, out, o, l, lastLanes);
            case 3 -> ConvTiles.k8x3(in, a, pix, m, segOff, segLen, t0, t1, w, wo, first, bias, bo, out, o, opix, l, lastLanes);
            case 2 -> ConvTiles.k8x2(in, a, pix, m, segOff, segLen, t0, t1, w, wo, first, bias, bo, out, o, opix, l, lastLanes);
            default -> ConvTiles.k8x1(in, a, pix, m, segOff, segLen, t0, t1, w, wo, first, bias, bo, out, o, opix, l, lastLanes);
        }
    }
}
