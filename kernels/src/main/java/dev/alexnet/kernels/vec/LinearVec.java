package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LinearShape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Fully connected (+ bias, + optional ReLU) with the semantics of {@link dev.alexnet.kernels.ref.LinearRef}:
 * out[N][O] = in[N][I] * W^T. Weights are packed once into panels of {@code panel} outputs,
 * [panel][I][panel] (outputs beyond O are zeros; the tiles write rows padded to whole panels in an
 * internal buffer, and the real columns are copied out, so no masked vector op runs), optionally with the input features
 * permuted so the layer reads a channels-last producer directly (fc6 after pool5: no reorder).
 * The panels lie one after another, so a thread that owns a run of panels reads one contiguous stream.
 *
 * <p>The batch, known at construction, picks the layout and the loop:
 * <ul>
 *   <li>Batch up to {@value LinearTiles#GEMV_MAX_ROWS} (GEMV and small GEMM): panels of 2 vectors, every row
 *       of the batch against one panel over all of I in registers ({@code LinearTiles.gNx2}), so each weight
 *       is read from memory exactly once per forward pass and nothing else is streamed; the pass is bound by
 *       read bandwidth (batch 1 fc6: 151 MB).</li>
 *   <li>Larger batches: panels of 4 vectors; 6 rows x 4 vectors micro-kernel (24 accumulators) over K chunks
 *       of {@value #KC} (a 128 KiB panel chunk stays in L2 while every row tile of the batch uses it, so the
 *       weights stream from memory once per batch, not once per row tile); the 1-5 rows left over take one
 *       tile of as many rows ({@code LinearTiles.k1x4} .. {@code k5x4}, the 1-row one with two accumulator
 *       sets), so batch 32 runs 5 tiles of 6 and one of 2, not two passes of one row each.</li>
 * </ul>
 * Threads split the panels (disjoint weights and disjoint output columns).
 */
public final class LinearVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    static final int L = LinearTiles.L;
    static final int KC = 512;

    private final LinearShape s;
    private final float lo;
    private final MemorySegment w, bias;
    private final MemorySegment acc;   // [N][panels*PANEL]: rows padded to whole panels, so the tiles need no masks
    private final int panels, panel;
    private final boolean gemv;

    /**
     * @param weight [O][I] (PyTorch)
     * @param bias   [O] or {@code null}
     * @param perm   {@code null}, or perm[i] = the PyTorch input feature that this layer's input index i holds
     */
    public LinearVec(LinearShape s, MemorySegment weight, MemorySegment bias, boolean relu, int[] perm, Arena arena) {
        Checks.floats(weight, (long) s.out() * s.in(), "linear weight");
        if (bias != null) Checks.floats(bias, s.out(), "linear bias");
        if (perm != null && perm.length != s.in()) throw new IllegalArgumentException("permutation of " + perm.length + " for " + s);
        this.s = s;
        this.lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        int I = s.in(), O = s.out();
        gemv = s.n() <= LinearTiles.GEMV_MAX_ROWS;
        panel = (gemv ? LinearTiles.GEMV_NB : LinearTiles.NB) * L;
        int PANEL = panel;
        panels = (O + PANEL - 1) / PANEL;
        w = arena.allocate((long) panels * I * PANEL * Float.BYTES, 64);
        this.bias = arena.allocate((long) panels * PANEL * Float.BYTES, 64);
        acc = arena.allocate((long) s.n() * panels * PANEL * Float.BYTES, 64);
        float[] row = new float[I];
        float[] col = new float[I];
        for (int o = 0; o < O; o++) {
            MemorySegment.copy(weight, JAVA_FLOAT, (long) o * I * Float.BYTES, row, 0, I);
            for (int i = 0; i < I; i++) col[i] = row[perm == null ? i : perm[i]];
            long base = (long) (o / PANEL) * I * PANEL + o % PANEL;
            for (int i = 0; i < I; i++) w.setAtIndex(JAVA_FLOAT, base + (long) i * PANEL, col[i]);
            this.bias.setAtIndex(JAVA_FLOAT, o, bias == null ? 0f : bias.getAtIndex(JAVA_FLOAT, o));
        }
    }

    public LinearShape shape() { return s; }
    public int units() { return panels; }
    /** Bytes of packed weights one forward pass reads (its floor at batch 1 is this over the read bandwidth). */
    public long weightBytes() { return w.byteSize(); }

    public void forward(MemorySegment out, MemorySegment in, int member, int members) {
        forwardUnits(out, in, ThreadTeam.from(panels, member, members), ThreadTeam.from(panels, member + 1, members));
    }

    /** Output panels [p0, p1): columns [p0*panel, min(O, p1*panel)) of every row. */
    public void forwardUnits(MemorySegment out, MemorySegment in, int p0, int p1) {
        int N = s.n(), I = s.in();
        Checks.floats(in, (long) N * I, "linear input");
        Checks.floats(out, (long) N * s.out(), "linear output");
        if (gemv) smallBatch(in, p0, p1);
        else chunked(in, p0, p1);
        copyOut(out, p0, p1);
    }

    /** Batch 1-8: each panel once, all rows at a time, all of I in registers; one call site per batch size. */
    private void smallBatch(MemorySegment in, int p0, int p1) {
        int I = s.in();
        long as = (long) I * Float.BYTES, cs = (long) panels * panel * Float.BYTES, pw = (long) I * panel * Float.BYTES;
        long pb = (long) panel * Float.BYTES;
        switch (s.n()) {
            case 1 -> { for (int p = p0; p < p1; p++) LinearTiles.g1x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 2 -> { for (int p = p0; p < p1; p++) LinearTiles.g2x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 3 -> { for (int p = p0; p < p1; p++) LinearTiles.g3x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 4 -> { for (int p = p0; p < p1; p++) LinearTiles.g4x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 5 -> { for (int p = p0; p < p1; p++) LinearTiles.g5x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 6 -> { for (int p = p0; p < p1; p++) LinearTiles.g6x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 7 -> { for (int p = p0; p < p1; p++) LinearTiles.g7x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            case 8 -> { for (int p = p0; p < p1; p++) LinearTiles.g8x2(in, as, I, w, p * pw, acc, p * pb, cs, bias, p * pb, lo); }
            default -> throw new IllegalStateException("batch " + s.n() + " on the small-batch path");
        }
    }

    /** Batch 9 and up: K chunks of {@value #KC}, {@value LinearTiles#MR}-row tiles, then one tile of the leftover rows. */
    private void chunked(MemorySegment in, int p0, int p1) {
        int N = s.n(), I = s.in(), PANEL = panel, MR = LinearTiles.MR;
        long as = (long) I * Float.BYTES, cs = (long) panels * PANEL * Float.BYTES;
        int full = N - N % MR;
        for (int p = p0; p < p1; p++) {
            long wp = (long) p * I * PANEL * Float.BYTES, bo = (long) p * PANEL * Float.BYTES, co = bo;
            for (int k0 = 0; k0 < I; k0 += KC) {
                int kc = Math.min(KC, I - k0);
                boolean first = k0 == 0;
                float l = k0 + kc == I ? lo : Float.NEGATIVE_INFINITY;
                long wo = wp + (long) k0 * PANEL * Float.BYTES;
                for (int n = 0; n < full; n += MR) {
                    LinearTiles.k6x4(in, n * as + k0 * 4L, as, kc, w, wo, acc, n * cs + co, cs, first, bias, bo, l);
                }
                if (full < N) tail(N - full, in, full * as + k0 * 4L, as, kc, wo, full * cs + co, cs, first, bo, l);
            }
        }
    }

    /** The leftover rows (1 to MR-1) of a chunk in one tile: one call site per row count. */
    private void tail(int rows, MemorySegment in, long ao, long as, int kc, long wo, long co, long cs, boolean first, long bo, float l) {
        switch (rows) {
            case 1 -> LinearTiles.k1x4(in, ao, as, kc, w, wo, acc, co, cs, first, bias, bo, l);
            case 2 -> LinearTiles.k2x4(in, ao, as, kc, w, wo, acc, co, cs, first, bias, bo, l);
            case 3 -> LinearTiles.k3x4(in, ao, as, kc, w, wo, acc, co, cs, first, bias, bo, l);
            case 4 -> LinearTiles.k4x4(in, ao, as, kc, w, wo, acc, co, cs, first, bias, bo, l);
            case 5 -> LinearTiles.k5x4(in, ao, as, kc, w, wo, acc, co, cs, first, bias, bo, l);
            default -> throw new IllegalStateException(rows + " leftover rows");
        }
    }

    /** The real columns of panels [p0, p1), from the padded rows to the dense output. */
    private void copyOut(MemorySegment out, int p0, int p1) {
        int N = s.n(), O = s.out(), oPad = panels * panel;
        int c0 = p0 * panel, c1 = Math.min(O, p1 * panel);
        if (c1 > c0) {
            for (int n = 0; n < N; n++) {
                MemorySegment.copy(acc, ((long) n * oPad + c0) * Float.BYTES, out, ((long) n * O + c0) * Float.BYTES, (long) (c1 - c0) * Float.BYTES);
            }
        }
    }
}
