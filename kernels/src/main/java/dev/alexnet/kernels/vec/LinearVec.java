package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LinearShape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Fully connected (+ bias, + optional ReLU) with the semantics of {@link dev.alexnet.kernels.ref.LinearRef}:
 * out[N][O] = in[N][I] * W^T. Weights are packed once into panels of {@value #PANEL} outputs,
 * [panel][I][PANEL] (outputs beyond O are zeros; the tiles write rows padded to whole panels in an
 * internal buffer, and the real columns are copied out, so no masked vector op runs), optionally with the input features
 * permuted so the layer reads a channels-last producer directly (fc6 after pool5: no reorder).
 *
 * <p>Batch >= 6: 6 rows x 4 vectors micro-kernel (24 accumulators) over K chunks of {@value #KC}
 * (a 128 KiB panel chunk stays in L2 while every row tile of the batch uses it, so the 151 MB of fc6
 * weights stream from memory once per batch, not once per row tile). Leftover rows and batches below 6
 * (GEMV): one row x 4 vectors with the K loop unrolled twice; that path is bound by weight bandwidth.
 * Threads split the panels (disjoint weights and disjoint output columns).
 */
public final class LinearVec {
    static final int L = LinearTiles.L;
    static final int PANEL = 4 * L;
    static final int KC = 512;

    private final LinearShape s;
    private final float lo;
    private final MemorySegment w, bias;
    private final MemorySegment acc;   // [N][panels*PANEL]: rows padded to whole panels, so the tiles need no masks
    private final int panels;

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

    public void forward(MemorySegment out, MemorySegment in, int member, int members) {
        forwardUnits(out, in, ThreadTeam.from(panels, member, members), ThreadTeam.from(panels, member + 1, members));
    }

    /** Output panels [p0, p1): columns [p0*PANEL, min(O, p1*PANEL)) of every row. */
    public void forwardUnits(MemorySegment out, MemorySegment in, int p0, int p1) {
        int N = s.n(), I = s.in(), O = s.out(), oPad = panels * PANEL;
        Checks.floats(in, (long) N * I, "linear input");
        Checks.floats(out, (long) N * O, "linear output");
        long as = (long) I * Float.BYTES, cs = (long) oPad * Float.BYTES;
        int rows6 = N - N % 6;
        for (int p = p0; p < p1; p++) {
            long wp = (long) p * I * PANEL * Float.BYTES, bo = (long) p * PANEL * Float.BYTES, co = bo;
            for (int k0 = 0; k0 < I; k0 += KC) {
                int kc = Math.min(KC, I - k0);
                boolean first = k0 == 0;
                float l = k0 + kc == I ? lo : Float.NEGATIVE_INFINITY;
                long wo = wp + (long) k0 * PANEL * Float.BYTES;
                for (int n = 0; n < rows6; n += 6) {
                    LinearTiles.k6x4(in, n * as + k0 * 4L, as, kc, w, wo, acc, n * cs + co, cs, first, bias, bo, l);
                }
                for (int n = rows6; n < N; n++) {
                    LinearTiles.k1x4(in, n * as + k0 * 4L, kc, w, wo, acc, n * cs + co, first, bias, bo, l);
                }
            }
        }
        // The real columns of these panels, from the padded rows to the dense output.
        int c0 = p0 * PANEL, c1 = Math.min(O, p1 * PANEL);
        if (c1 > c0) {
            for (int n = 0; n < N; n++) {
                MemorySegment.copy(acc, ((long) n * oPad + c0) * Float.BYTES, out, ((long) n * O + c0) * Float.BYTES, (long) (c1 - c0) * Float.BYTES);
            }
        }
    }
}
