package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.alexnet.kernels.vec.GemmTiles.F;
import static dev.alexnet.kernels.vec.GemmTiles.L;
import static dev.alexnet.kernels.vec.GemmTiles.NO;
import static dev.alexnet.kernels.vec.GemmTiles.S;

/**
 * Convolution for training, NCHW, weights in PyTorch layout [K, C/G, R, S] read as given on every call
 * (they change every step, so nothing is packed here for later). Each image and group goes through
 * {@link Gemm} with an im2col buffer col[(c, r, t)][p*Q + q] (zeros in the padding):
 * <ul>
 * <li>forward: out_g[K/G][PQ] = W_g[K/G][CRS] x col, then bias and ReLU;</li>
 * <li>backward data: col = W_g^T x gradOut_g (W transposed once per call), then col2im adds col into gradIn;</li>
 * <li>backward weights: gW_g^T[CRS+1][K/G] += col x gradOut_g^T over the member's images into the member's own
 *     buffer (col's extra last row is all ones, so the last row of the product is the bias gradient), then
 *     {@link #reduceWeights} sums the members' buffers in member order and transposes.</li>
 * </ul>
 * The GEMMs write whole panels: col rows, the forward's result rows and the weight-gradient partials are
 * padded to whole panels (the forward copies its rows into {@code out} with the bias and ReLU), so no tile
 * goes through Gemm's edge buffer.
 * Work units for threads are (image, group) pairs, contiguous ranges per member, so members write disjoint
 * parts of the outputs. Every sum runs in an order fixed by the shapes and the member count: results are
 * bitwise reproducible for a given member count.
 */
public final class ConvTrainVec {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    private final ConvShape s;
    private final int members, P, Q, PQ, cg, kg, crs, G, units;
    private final int nvPix;   // panel vectors when N = output pixels (forward, backward data)
    private final int nvOut;   // panel vectors when N = output channels of a group (backward weights)
    private final int pqp;     // row stride of col and of the forward's result rows: PQ padded to whole panels
    private final int kgp;     // row stride of the weight-gradient partials: K/G padded to whole panels
    private final MemorySegment[] col, wT, gwT, res;
    private final MemorySegment[] phases; // strided layers: a group's input (or input gradient) split by x mod strideW
    private final int wp;                 // floats per phase row: ceil(W / strideW)
    private final Gemm.Workspace[] ws;

    /**
     * @param s       the convolution, batch included
     * @param members the most team members that will call; each gets its own scratch, allocated here
     * @param arena   where scratch lives: a shared arena when members run on different threads
     */
    public ConvTrainVec(ConvShape s, int members, Arena arena) {
        if (members < 1) throw new IllegalArgumentException("members must be positive: " + members);
        this.s = s;
        this.members = members;
        P = s.p();
        Q = s.q();
        PQ = P * Q;
        cg = s.cg();
        kg = s.kg();
        G = s.groups();
        crs = cg * s.r() * s.s();
        units = s.n() * G;
        nvPix = Gemm.bestVectors(PQ);
        nvOut = Gemm.bestVectors(kg);
        pqp = Gemm.panels(PQ, nvPix) * Gemm.panelWidth(nvPix);
        kgp = Gemm.panels(kg, nvOut) * Gemm.panelWidth(nvOut);
        res = new MemorySegment[members];
        col = new MemorySegment[members];
        wT = new MemorySegment[members];
        gwT = new MemorySegment[members];
        ws = new Gemm.Workspace[members];
        phases = new MemorySegment[members];
        wp = (s.w() + s.strideW() - 1) / s.strideW();
        for (int m = 0; m < members; m++) {
            col[m] = arena.allocate((long) (crs + 1) * pqp * Float.BYTES, 64);
            for (int i = 0; i < PQ; i++) col[m].setAtIndex(F, (long) crs * pqp + i, 1f); // the ones row, which nothing overwrites
            wT[m] = arena.allocate(s.weightSize() * Float.BYTES, 64);
            gwT[m] = arena.allocate((long) G * (crs + 1) * kgp * Float.BYTES, 64);
            res[m] = arena.allocate((long) kg * pqp * Float.BYTES, 64);
            ws[m] = new Gemm.Workspace(arena);
            if (s.strideW() > 1) phases[m] = arena.allocate((long) cg * s.h() * s.strideW() * wp * Float.BYTES, 64);
        }
    }

    public ConvShape shape() { return s; }

    private void share(int member, int members) {
        if (members < 1 || members > this.members || member < 0 || member >= members) {
            throw new IllegalArgumentException("member " + member + " of " + members + " (scratch for " + this.members + ")");
        }
    }

    /** out = conv(in) + bias, ReLU if asked; this member's (image, group) units. {@code bias} may be null. */
    public void forward(MemorySegment out, MemorySegment in, MemorySegment weight, MemorySegment bias, boolean relu,
                        int member, int members) {
        share(member, members);
        Checks.floats(in, s.inputSize(), "conv input");
        Checks.floats(weight, s.weightSize(), "conv weight");
        Checks.floats(out, s.outputSize(), "conv output");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
        MemorySegment c = col[member];
        int u0 = ThreadTeam.from(units, member, members), u1 = ThreadTeam.from(units, member + 1, members);
        for (int u = u0; u < u1; u++) {
            int n = u / G, g = u % G;
            im2col(in, n, g, c, phases[member]);
            long o = ((long) n * s.k() + (long) g * kg) * PQ;
            Gemm.gemm(kg, PQ, crs, weight, (long) g * kg * crs, crs, c, 0, pqp, 1, res[member], 0, pqp, false, true, nvPix, ws[member]);
            for (int k = 0; k < kg; k++) {
                float b = bias == null ? 0f : bias.getAtIndex(F, (long) g * kg + k);
                biasRelu(out, (o + (long) k * PQ) * 4, res[member], (long) k * pqp * 4, PQ, b, relu);
            }
        }
    }

    /** gradIn = conv^T(gradOut) for this member's (image, group) units (overwritten). */
    public void backwardData(MemorySegment gradIn, MemorySegment gradOut, MemorySegment weight, int member, int members) {
        share(member, members);
        Checks.floats(gradIn, s.inputSize(), "conv input gradient");
        Checks.floats(gradOut, s.outputSize(), "conv output gradient");
        Checks.floats(weight, s.weightSize(), "conv weight");
        int u0 = ThreadTeam.from(units, member, members), u1 = ThreadTeam.from(units, member + 1, members);
        if (u0 == u1) return;
        MemorySegment c = col[member], t = wT[member];
        transposeWeights(weight, t);
        for (int u = u0; u < u1; u++) {
            int n = u / G, g = u % G;
            long go = ((long) n * s.k() + (long) g * kg) * PQ;
            Gemm.gemm(crs, PQ, kg, t, (long) g * crs * kg, kg, gradOut, go, PQ, 1, c, 0, pqp, false, true, nvPix, ws[member]);
            col2im(gradIn, n, g, c, phases[member]);
        }
    }

    /**
     * Phase 1 of the weight gradient: this member's (image, group) units summed into its own buffers (every
     * member, units or not, overwrites all of its buffers). Run {@link #reduceWeights} after all members.
     */
    public void backwardWeights(MemorySegment in, MemorySegment gradOut, int member, int members) {
        share(member, members);
        Checks.floats(in, s.inputSize(), "conv input");
        Checks.floats(gradOut, s.outputSize(), "conv output gradient");
        MemorySegment c = col[member], gw = gwT[member];
        int u0 = ThreadTeam.from(units, member, members), u1 = ThreadTeam.from(units, member + 1, members);
        long groupW = (long) (crs + 1) * kgp;
        for (int u = u0; u < u1; u++) {
            int n = u / G, g = u % G;
            im2col(in, n, g, c, phases[member]);
            long go = ((long) n * s.k() + (long) g * kg) * PQ;
            // units are (image, group) in order: this group's first unit in the range overwrites, later ones add
            boolean accumulate = u - G >= u0;
            Gemm.gemm(crs + 1, kg, PQ, c, 0, pqp, gradOut, go, 1, PQ, gw, g * groupW, kgp, accumulate, true, nvOut, ws[member]);
        }
        for (int g = 0; g < G; g++) {
            boolean touched = u1 - u0 >= G || Math.floorMod(g - u0, G) < u1 - u0;
            if (!touched) gw.asSlice(g * groupW * 4, groupW * 4).fill((byte) 0);
        }
    }

    /**
     * Phase 2: gradWeight [K, C/G, R, S] and gradBias [K] (may be null) = the members' partial sums added in
     * member order (overwritten); this member's share of the output channels.
     */
    public void reduceWeights(MemorySegment gradWeight, MemorySegment gradBias, int member, int members) {
        share(member, members);
        Checks.floats(gradWeight, s.weightSize(), "conv weight gradient");
        if (gradBias != null) Checks.floats(gradBias, s.k(), "conv bias gradient");
        int k0 = ThreadTeam.from(s.k(), member, members), k1 = ThreadTeam.from(s.k(), member + 1, members);
        for (int k = k0; k < k1; k++) {
            int g = k / kg, kk = k % kg;
            long src = (long) g * (crs + 1) * kgp + kk, dst = (long) k * crs;
            for (int i = 0; i < crs; i++) {
                long si = src + (long) i * kgp;
                float v = gwT[0].getAtIndex(F, si);
                for (int m = 1; m < members; m++) v += gwT[m].getAtIndex(F, si);
                gradWeight.setAtIndex(F, dst + i, v);
            }
            if (gradBias != null) {
                long si = src + (long) crs * kgp;
                float v = gwT[0].getAtIndex(F, si);
                for (int m = 1; m < members; m++) v += gwT[m].getAtIndex(F, si);
                gradBias.setAtIndex(F, k, v);
            }
        }
    }

    /** t[g][crs][k] = w[g*kg + k][crs]. */
    private void transposeWeights(MemorySegment w, MemorySegment t) {
        for (int g = 0; g < G; g++) {
            long base = (long) g * kg * crs;
            for (int k = 0; k < kg; k++) {
                long src = base + (long) k * crs;
                for (int i = 0; i < crs; i++) t.setAtIndex(F, base + (long) i * kg + k, w.getAtIndex(F, src + i));
            }
        }
    }

    /**
     * col[(c*R + r)*S + t][p*Q + q] = in[n, g*cg + c, p*sh - ph + r, q*sw - pw + t], zero in the padding.
     * With a horizontal stride, the group's input is first split into phases (x mod sw; each input float read
     * once), so that every run of a col row is contiguous in one phase row and copies as vectors.
     */
    private void im2col(MemorySegment in, int n, int g, MemorySegment col, MemorySegment phase) {
        int H = s.h(), W = s.w(), R = s.r(), S = s.s(), sh = s.strideH(), sw = s.strideW(), ph = s.padH(), pw = s.padW();
        if (sw > 1) splitPhases(in, n, g, phase);
        for (int c = 0; c < cg; c++) {
            long plane = (((long) n * s.c() + (long) g * cg + c) * H) * W;
            for (int r = 0; r < R; r++) {
                for (int t = 0; t < S; t++) {
                    long row = ((long) (c * R + r) * S + t) * pqp;
                    // q with x = q*sw - pw + t inside [0, W)
                    int qlo = Math.min(Q, Math.max(0, (pw - t + sw - 1) / sw));
                    int qhi = Math.max(qlo, Math.min(Q, Math.floorDiv(W - 1 + pw - t, sw) + 1));
                    for (int p = 0; p < P; p++) {
                        int y = p * sh - ph + r;
                        long d = row + (long) p * Q;
                        if (y < 0 || y >= H) {
                            zero(col, d, Q);
                            continue;
                        }
                        zero(col, d, qlo);
                        if (qhi > qlo) {
                            if (sw == 1) Gemm.copyRun(col, (d + qlo) * 4, in, (plane + (long) y * W + qlo - pw + t) * 4, qhi - qlo);
                            else Gemm.copyRun(col, (d + qlo) * 4, phase, phaseAt(c, y, qlo * sw - pw + t) * 4, qhi - qlo);
                        }
                        zero(col, d + qhi, Q - qhi);
                    }
                }
            }
        }
    }

    /**
     * gradIn[n, g*cg + c] = sum of col's entries over the windows that cover each input pixel. With a
     * horizontal stride the sums run in the phase layout (contiguous runs, as in im2col) and are then
     * interleaved into gradIn.
     */
    private void col2im(MemorySegment gradIn, int n, int g, MemorySegment col, MemorySegment phase) {
        int H = s.h(), W = s.w(), R = s.r(), S = s.s(), sh = s.strideH(), sw = s.strideW(), ph = s.padH(), pw = s.padW();
        if (sw > 1) phase.fill((byte) 0);
        for (int c = 0; c < cg; c++) {
            long plane = (((long) n * s.c() + (long) g * cg + c) * H) * W;
            if (sw == 1) zero(gradIn, plane, H * W);
            for (int r = 0; r < R; r++) {
                for (int t = 0; t < S; t++) {
                    long row = ((long) (c * R + r) * S + t) * pqp;
                    int qlo = Math.min(Q, Math.max(0, (pw - t + sw - 1) / sw));
                    int qhi = Math.max(qlo, Math.min(Q, Math.floorDiv(W - 1 + pw - t, sw) + 1));
                    if (qhi <= qlo) continue;
                    for (int p = 0; p < P; p++) {
                        int y = p * sh - ph + r;
                        if (y < 0 || y >= H) continue;
                        long d = row + (long) p * Q, drow = plane + (long) y * W;
                        if (sw == 1) Gemm.addRun(gradIn, (drow + qlo - pw + t) * 4, col, (d + qlo) * 4, qhi - qlo);
                        else Gemm.addRun(phase, phaseAt(c, y, qlo * sw - pw + t) * 4, col, (d + qlo) * 4, qhi - qlo);
                    }
                }
            }
        }
        if (sw > 1) joinPhases(gradIn, n, g, phase);
    }

    /** Float index of input column x (>= 0) of group channel c, row y, in the phase layout [c][y][x mod sw][x / sw]. */
    private long phaseAt(int c, int y, int x) {
        int sw = s.strideW();
        return (((long) c * s.h() + y) * sw + x % sw) * wp + x / sw;
    }

    /** phase[c][y][x mod sw][x / sw] = in[n, g*cg + c, y, x]. */
    private void splitPhases(MemorySegment in, int n, int g, MemorySegment phase) {
        int H = s.h(), W = s.w(), sw = s.strideW();
        for (int c = 0; c < cg; c++) {
            for (int y = 0; y < H; y++) {
                long src = (((long) n * s.c() + (long) g * cg + c) * H + y) * W, dst = ((long) c * H + y) * sw * wp;
                for (int f = 0; f < sw; f++) {
                    long d = dst + (long) f * wp;
                    for (int j = 0, x = f; x < W; j++, x += sw) phase.setAtIndex(F, d + j, in.getAtIndex(F, src + x));
                }
            }
        }
    }

    /** gradIn[n, g*cg + c, y, x] = phase[c][y][x mod sw][x / sw] (overwrites). */
    private void joinPhases(MemorySegment gradIn, int n, int g, MemorySegment phase) {
        int H = s.h(), W = s.w(), sw = s.strideW();
        for (int c = 0; c < cg; c++) {
            for (int y = 0; y < H; y++) {
                long dst = (((long) n * s.c() + (long) g * cg + c) * H + y) * W, src = ((long) c * H + y) * sw * wp;
                for (int f = 0; f < sw; f++) {
                    long d = src + (long) f * wp;
                    for (int j = 0, x = f; x < W; j++, x += sw) gradIn.setAtIndex(F, dst + x, phase.getAtIndex(F, d + j));
                }
            }
        }
    }

    /** Zeros {@code floats} floats at float offset {@code off}: vector stores (a masked last one), as the runs are short. */
    private static void zero(MemorySegment m, long off, int floats) {
        FloatVector z = FloatVector.zero(S);
        long ob = off * 4;
        int i = 0;
        for (; i + L <= floats; i += L) z.intoMemorySegment(m, ob + i * 4L, NO);
        if (i < floats) z.intoMemorySegment(m, ob + i * 4L, NO, S.indexInRange(0, floats - i));
    }

    /** out row (byte offset ob) = max(res row (byte offset rb) + b, lo), lo = 0 with ReLU, else -inf; {@code len} floats. */
    private static void biasRelu(MemorySegment out, long ob, MemorySegment res, long rb, int len, float b, boolean relu) {
        float lo = relu ? 0f : Float.NEGATIVE_INFINITY;
        int i = 0;
        for (; i + L <= len; i += L) {
            long o = i * 4L;
            FloatVector.fromMemorySegment(S, res, rb + o, NO).add(b).max(lo).intoMemorySegment(out, ob + o, NO);
        }
        if (i < len) {
            VectorMask<Float> mk = S.indexInRange(0, len - i);
            long o = i * 4L;
            FloatVector.fromMemorySegment(S, res, rb + o, NO, mk).add(b).max(lo).intoMemorySegment(out, ob + o, NO, mk);
        }
    }
}
