package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LinearShape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.alexnet.kernels.vec.GemmTiles.F;

/**
 * Fully connected layer for training, weights [out][in] (PyTorch) read as given on every call, through
 * {@link Gemm}:
 * <ul>
 * <li>forward: out^T[O][N] = W[O][I] x in^T (W read in place, once; the batch is the vector dimension), then
 *     transposed into out with bias and ReLU; members split the output features;</li>
 * <li>backward data: gradIn[N][I] = gradOut[N][O] x W (W's rows read in place: with N rows of A, packing W
 *     would cost about as much as the product); members split the input features;</li>
 * <li>backward weights: gW[O][I] = gradOut^T x in, gB[o] = sum_n gradOut[n][o]; members split the output
 *     features (disjoint rows of gW), so there is no reduction phase.</li>
 * </ul>
 * Splits are in whole tiles (8 rows, or one panel of columns), so the summation order of every element does
 * not depend on the member count.
 */
public final class LinearTrainVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    private final LinearShape s;
    private final int members;
    private final int nvBatch, nvIn;
    private final MemorySegment outT;  // [O][N]: forward results before the transpose
    private final MemorySegment goT;   // [O][N]: gradOut transposed
    private final Gemm.Workspace[] ws;

    public LinearTrainVec(LinearShape s, int members, Arena arena) {
        if (members < 1) throw new IllegalArgumentException("members must be positive: " + members);
        this.s = s;
        this.members = members;
        nvBatch = Gemm.bestVectors(s.n());
        nvIn = Gemm.bestVectors(s.in());
        outT = arena.allocate((long) s.out() * s.n() * Float.BYTES, 64);
        goT = arena.allocate((long) s.out() * s.n() * Float.BYTES, 64);
        ws = new Gemm.Workspace[members];
        for (int m = 0; m < members; m++) ws[m] = new Gemm.Workspace(arena);
    }

    public LinearShape shape() { return s; }

    private void share(int member, int members) {
        if (members < 1 || members > this.members || member < 0 || member >= members) {
            throw new IllegalArgumentException("member " + member + " of " + members + " (scratch for " + this.members + ")");
        }
    }

    /** First output feature of a member's share: whole 8-row tiles. */
    private int rowFrom(int member, int members) {
        int tiles = (s.out() + Gemm.MR - 1) / Gemm.MR;
        return Math.min(s.out(), ThreadTeam.from(tiles, member, members) * Gemm.MR);
    }

    /** out[n][o] = bias[o] + sum_i in[n][i] * w[o][i], ReLU if asked; this member's output features. */
    public void forward(MemorySegment out, MemorySegment in, MemorySegment weight, MemorySegment bias, boolean relu,
                        int member, int members) {
        share(member, members);
        int N = s.n(), I = s.in(), O = s.out();
        Checks.floats(in, (long) N * I, "linear input");
        Checks.floats(weight, (long) O * I, "linear weight");
        Checks.floats(out, (long) N * O, "linear output");
        if (bias != null) Checks.floats(bias, O, "linear bias");
        int o0 = rowFrom(member, members), o1 = rowFrom(member + 1, members);
        if (o0 == o1) return;
        Gemm.gemm(o1 - o0, N, I, weight, (long) o0 * I, I, in, 0, 1, I, outT, (long) o0 * N, N, false, nvBatch, ws[member]);
        for (int o = o0; o < o1; o++) {
            float b = bias == null ? 0f : bias.getAtIndex(F, o);
            for (int n = 0; n < N; n++) {
                float v = outT.getAtIndex(F, (long) o * N + n) + b;
                out.setAtIndex(F, (long) n * O + o, relu && v < 0 ? 0f : v);
            }
        }
    }

    /** gradIn[n][i] = sum_o gradOut[n][o] * w[o][i] (overwritten); this member's input features. */
    public void backwardData(MemorySegment gradIn, MemorySegment gradOut, MemorySegment weight, int member, int members) {
        share(member, members);
        int N = s.n(), I = s.in(), O = s.out();
        Checks.floats(gradIn, (long) N * I, "linear input gradient");
        Checks.floats(gradOut, (long) N * O, "linear output gradient");
        Checks.floats(weight, (long) O * I, "linear weight");
        int panels = Gemm.panels(I, nvIn), nr = Gemm.panelWidth(nvIn);
        int i0 = Math.min(I, ThreadTeam.from(panels, member, members) * nr);
        int i1 = Math.min(I, ThreadTeam.from(panels, member + 1, members) * nr);
        if (i0 == i1) return;
        Gemm.direct(N, i1 - i0, O, gradOut, 0, O, weight, i0, I, gradIn, i0, I, false, nvIn, ws[member]);
    }

    /**
     * gradWeight[o][i] = sum_n gradOut[n][o] * in[n][i], gradBias[o] = sum_n gradOut[n][o] ({@code gradBias}
     * may be null), overwritten; this member's output features.
     */
    public void backwardWeights(MemorySegment gradWeight, MemorySegment gradBias, MemorySegment in, MemorySegment gradOut,
                                int member, int members) {
        share(member, members);
        int N = s.n(), I = s.in(), O = s.out();
        Checks.floats(gradWeight, (long) O * I, "linear weight gradient");
        if (gradBias != null) Checks.floats(gradBias, O, "linear bias gradient");
        Checks.floats(in, (long) N * I, "linear input");
        Checks.floats(gradOut, (long) N * O, "linear output gradient");
        int o0 = rowFrom(member, members), o1 = rowFrom(member + 1, members);
        if (o0 == o1) return;
        for (int o = o0; o < o1; o++) {
            double sum = 0;
            for (int n = 0; n < N; n++) {
                float g = gradOut.getAtIndex(F, (long) n * O + o);
                goT.setAtIndex(F, (long) o * N + n, g);
                sum += g;
            }
            if (gradBias != null) gradBias.setAtIndex(F, o, (float) sum);
        }
        // 2-vector panels: over a reduction as short as a batch, the 8x2 tile measured faster than 8x3 (112 against 81 GFLOP/s at 512 x 4096 x 32)
        Gemm.gemm(o1 - o0, I, N, goT, (long) o0 * N, N, in, 0, I, 1, gradWeight, (long) o0 * I, I, false, 2, ws[member]);
    }
}
