package dev.alexnet.kernels.vec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.alexnet.kernels.vec.GemmTiles.F;
import static dev.alexnet.kernels.vec.GemmTiles.L;
import static dev.alexnet.kernels.vec.GemmTiles.NO;
import static dev.alexnet.kernels.vec.GemmTiles.S;

/**
 * Single-threaded float GEMM for the training kernels: C[M][N] = (accumulate ? C : 0) + A[M][K] x B[K][N].
 * A is read in place (row-major, row stride {@code lda} floats, k contiguous) as broadcasts; B is packed
 * into panels of {@code nv} vectors ({@code nv * L} columns), [k][nv*L] per panel, zero beyond N; C is
 * row-major (row stride {@code ldc}). Offsets and strides are in floats.
 *
 * <p>Blocking (BLIS order): reduction blocks of {@link #KC} steps, row blocks of {@link #MC}; inside, each
 * panel's block ({@code KC * nv * L} floats, 48 KiB at KC=256 and nv=3) is reused by every 8-row tile of the
 * row block while the rows' A block stays in L2. Rows left over from the 8-row tiles take 4-row and 1-row
 * tiles; a panel narrower than {@code nv * L} columns (the N edge) is computed into a tile buffer and its
 * real columns copied, so no tile uses masks. The summation order of every element depends only on the
 * shapes and the blocking, never on threads: the results are deterministic.
 */
public final class Gemm {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    private Gemm() {}

    /** Rows of the main tile. */
    public static final int MR = 8;
    /** Reduction steps per block: a 3-vector panel block of 256 steps is 48 KiB. */
    public static final int KC = Integer.getInteger("alexnet.gemm.kc", 256);
    /** Rows per block: A's block (MC x KC floats, 256 KiB) stays in L2 while every panel passes. */
    public static final int MC = Integer.getInteger("alexnet.gemm.mc", 256);
    /** Panels packed per block by {@link #gemm} when B comes unpacked. */
    public static final int NC_PANELS = 8;

    /** One caller's scratch: a packing buffer for {@link #gemm} and the edge tile. */
    public static final class Workspace {
        final MemorySegment pack, tile;

        public Workspace(Arena arena) {
            pack = arena.allocate((long) KC * NC_PANELS * 3 * L * Float.BYTES, 64);
            tile = arena.allocate((long) MR * 3 * L * Float.BYTES, 64);
        }
    }

    /** Columns per panel of {@code nv} vectors. */
    public static int panelWidth(int nv) { return nv * L; }

    /** Panels that cover {@code n} columns. */
    public static int panels(int n, int nv) { return (n + nv * L - 1) / (nv * L); }

    /**
     * Vectors per panel for {@code n} columns: 3 unless 2-vector panels compute under 3/4 of the padded
     * columns (n = 32: 32 against 48). The 8x2 tile runs at 0.75-0.8 of the 8x3 tile's speed on reductions
     * of a few hundred steps or more (measured on AlexNet conv shapes: 117 against 155 GFLOP/s for
     * 128 x 169 x 1728, 145 against 174 for 1729 x 128 x 169), so 3 wins even where it pads more (n = 729, 128).
     */
    public static int bestVectors(int n) {
        return 4 * panels(n, 2) * 2 < 3 * panels(n, 3) * 3 ? 2 : 3;
    }

    /**
     * C = (accumulate ? C : 0) + A x B with B already packed: panel j, step k at
     * {@code bp[bpOff + j * panelStride + k * nv * L]}.
     */
    public static void packed(int m, int n, int k, MemorySegment a, long aOff, int lda,
                              MemorySegment bp, long bpOff, long panelStride, int nv,
                              MemorySegment c, long cOff, int ldc, boolean accumulate, Workspace ws) {
        packed(m, n, k, a, aOff, lda, bp, bpOff, panelStride, nv, c, cOff, ldc, accumulate, false, ws);
    }

    /**
     * As {@link #packed(int, int, int, MemorySegment, long, int, MemorySegment, long, long, int, MemorySegment, long, int, boolean, Workspace)};
     * with {@code wholePanels} C's rows have room for whole panels ({@code ldc >= panels(n, nv) * nv * L}) and
     * the columns beyond n may be overwritten, so the last panel needs no tile buffer.
     */
    public static void packed(int m, int n, int k, MemorySegment a, long aOff, int lda,
                              MemorySegment bp, long bpOff, long panelStride, int nv,
                              MemorySegment c, long cOff, int ldc, boolean accumulate, boolean wholePanels, Workspace ws) {
        if (nv < 1 || nv > 3) throw new IllegalArgumentException("panel vectors must be 1..3: " + nv);
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) for (int i = 0; i < m; i++) c.asSlice((cOff + (long) i * ldc) * 4, (long) n * 4).fill((byte) 0);
            return;
        }
        int nr = nv * L, panels = panels(n, nv);
        if (wholePanels && ldc < panels * nr) throw new IllegalArgumentException("C rows of " + ldc + " floats cannot hold " + panels + " whole panels");
        long as = (long) lda * 4, cs = (long) ldc * 4;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            boolean first = !accumulate && pc == 0;
            for (int ic = 0; ic < m; ic += MC) {
                int mc = Math.min(MC, m - ic);
                for (int jp = 0; jp < panels; jp++) {
                    int n0 = jp * nr, w = wholePanels ? nr : Math.min(nr, n - n0);
                    long bo = (bpOff + jp * panelStride + (long) pc * nr) * 4;
                    rows(ic, ic + mc, nv, w, kc, a, (aOff + pc) * 4, as, bp, bo, nr * 4L, c, (cOff + n0) * 4, cs, first, ws.tile);
                }
            }
        }
    }

    /** Rows [i0, i1) of one panel: 8-row tiles, then 4, then 1. */
    private static void rows(int i0, int i1, int nv, int w, int kc, MemorySegment a, long ao, long as,
                             MemorySegment bp, long bo, long bs, MemorySegment c, long co, long cs, boolean first, MemorySegment tile) {
        int i = i0;
        boolean full = w == nv * L;
        for (; i + MR <= i1; i += MR) {
            if (full) GemmTiles.tile(MR, nv, a, ao + i * as, as, kc, bp, bo, bs, c, co + i * cs, cs, first);
            else edge(MR, nv, w, kc, a, ao + i * as, as, bp, bo, bs, c, co + i * cs, cs, first, tile);
        }
        if (i + 4 <= i1) {
            if (full) GemmTiles.tile(4, nv, a, ao + i * as, as, kc, bp, bo, bs, c, co + i * cs, cs, first);
            else edge(4, nv, w, kc, a, ao + i * as, as, bp, bo, bs, c, co + i * cs, cs, first, tile);
            i += 4;
        }
        for (; i < i1; i++) {
            if (full) GemmTiles.tile(1, nv, a, ao + i * as, as, kc, bp, bo, bs, c, co + i * cs, cs, first);
            else edge(1, nv, w, kc, a, ao + i * as, as, bp, bo, bs, c, co + i * cs, cs, first, tile);
        }
    }

    /** A tile whose panel has only {@code w} real columns: through the tile buffer. */
    private static void edge(int mr, int nv, int w, int kc, MemorySegment a, long ao, long as,
                             MemorySegment bp, long bo, long bs, MemorySegment c, long co, long cs, boolean first, MemorySegment tile) {
        long ts = (long) nv * L * 4, wb = (long) w * 4;
        if (!first) for (int r = 0; r < mr; r++) MemorySegment.copy(c, co + r * cs, tile, r * ts, wb);
        GemmTiles.tile(mr, nv, a, ao, as, kc, bp, bo, bs, tile, 0, ts, first);
        for (int r = 0; r < mr; r++) MemorySegment.copy(tile, r * ts, c, co + r * cs, wb);
    }

    /**
     * Packs B[k][n] = src[off + k * rs + n * cs] for k in [k0, k0+kc), n in [n0, n0+nc) into panels of
     * {@code nv} vectors at {@code dst[dstOff + j * panelStride + (k - k0) * nv * L]}, zeros beyond nc.
     * Contiguous rows ({@code cs == 1}) copy vectors; anything else copies floats.
     */
    public static void packB(MemorySegment src, long off, long rs, long cs, int k0, int kc, int n0, int nc, int nv,
                             MemorySegment dst, long dstOff, long panelStride) {
        int nr = nv * L, panels = panels(nc, nv);
        for (int jp = 0; jp < panels; jp++) {
            int w = Math.min(nr, nc - jp * nr);
            long d = dstOff + jp * panelStride;
            long s = off + (long) k0 * rs + (long) (n0 + jp * nr) * cs;
            if (cs == 1) packRows(src, s * 4, rs * 4, kc, w, nr, dst, d * 4);
            else if (rs == 1) packColumns(src, s, cs, kc, w, nr, dst, d);
            else {
                for (int kk = 0; kk < kc; kk++) {
                    for (int j = 0; j < nr; j++) {
                        float v = j < w ? src.getAtIndex(F, s + kk * rs + j * cs) : 0f;
                        dst.setAtIndex(F, d + (long) kk * nr + j, v);
                    }
                }
            }
        }
    }

    /** Rows of B contiguous: each step copies {@code w} floats (whole vectors, a masked last one) and zeros the rest. */
    private static void packRows(MemorySegment src, long so, long rsb, int kc, int w, int nr, MemorySegment dst, long db) {
        long nrb = (long) nr * 4;
        for (int kk = 0; kk < kc; kk++, so += rsb, db += nrb) {
            for (int j = 0; j < nr; j += L) {
                int lanes = w - j;
                FloatVector v;
                if (lanes >= L) v = FloatVector.fromMemorySegment(S, src, so + j * 4L, NO);
                else if (lanes > 0) v = FloatVector.fromMemorySegment(S, src, so + j * 4L, NO, S.indexInRange(0, lanes));
                else v = FloatVector.zero(S);
                v.intoMemorySegment(dst, db + j * 4L, NO);
            }
        }
    }

    /** Columns of B contiguous (B is a transposed source): reads each column along k, writes with stride nr. */
    private static void packColumns(MemorySegment src, long s, long cs, int kc, int w, int nr, MemorySegment dst, long d) {
        for (int j = 0; j < w; j++) {
            long sj = s + j * cs, dj = d + j;
            for (int kk = 0; kk < kc; kk++) dst.setAtIndex(F, dj + (long) kk * nr, src.getAtIndex(F, sj + kk));
        }
        for (int j = w; j < nr; j++) {
            for (int kk = 0; kk < kc; kk++) dst.setAtIndex(F, d + j + (long) kk * nr, 0f);
        }
    }

    /**
     * C = (accumulate ? C : 0) + A x B with B read through strides ({@code B[k][n] = b[bOff + k * brs + n * bcs]}),
     * packed a block at a time into the workspace.
     */
    public static void gemm(int m, int n, int k, MemorySegment a, long aOff, int lda,
                            MemorySegment b, long bOff, long brs, long bcs,
                            MemorySegment c, long cOff, int ldc, boolean accumulate, int nv, Workspace ws) {
        gemm(m, n, k, a, aOff, lda, b, bOff, brs, bcs, c, cOff, ldc, accumulate, false, nv, ws);
    }

    /** As the other gemm; {@code wholePanels} as in {@link #packed}: C's padding columns may be overwritten. */
    public static void gemm(int m, int n, int k, MemorySegment a, long aOff, int lda,
                            MemorySegment b, long bOff, long brs, long bcs,
                            MemorySegment c, long cOff, int ldc, boolean accumulate, boolean wholePanels, int nv, Workspace ws) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            packed(m, n, 0, a, aOff, lda, ws.pack, 0, 0, nv, c, cOff, ldc, accumulate, ws);
            return;
        }
        int nr = nv * L, ncMax = NC_PANELS * nr;
        for (int jc = 0; jc < n; jc += ncMax) {
            int nc = Math.min(ncMax, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                long panelStride = (long) kc * nr;
                packB(b, bOff, brs, bcs, pc, kc, jc, nc, nv, ws.pack, 0, panelStride);
                packed(m, nc, kc, a, aOff + pc, lda, ws.pack, 0, panelStride, nv, c, cOff + jc, ldc, accumulate || pc > 0, wholePanels, ws);
            }
        }
    }

    /**
     * C = (accumulate ? C : 0) + A x B with B row-major (row stride {@code ldb}, columns contiguous) read in
     * place by the tiles for every whole panel; only the last, narrower panel is packed. For few rows of A
     * (a fully connected layer's batch), where packing B would cost about as much as the tiles.
     */
    public static void direct(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                              MemorySegment c, long cOff, int ldc, boolean accumulate, int nv, Workspace ws) {
        if (nv < 1 || nv > 3) throw new IllegalArgumentException("panel vectors must be 1..3: " + nv);
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            packed(m, n, 0, a, aOff, lda, ws.pack, 0, 0, nv, c, cOff, ldc, accumulate, ws);
            return;
        }
        int nr = nv * L, panels = panels(n, nv), full = n / nr;
        long as = (long) lda * 4, cs = (long) ldc * 4, bs = (long) ldb * 4;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            boolean first = !accumulate && pc == 0;
            if (full < panels) packB(b, bOff, ldb, 1, pc, kc, full * nr, n - full * nr, nv, ws.pack, 0, (long) kc * nr);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = Math.min(MC, m - ic);
                for (int jp = 0; jp < panels; jp++) {
                    int n0 = jp * nr;
                    if (jp < full) {
                        rows(ic, ic + mc, nv, nr, kc, a, (aOff + pc) * 4, as, b, (bOff + (long) pc * ldb + n0) * 4, bs,
                                c, (cOff + n0) * 4, cs, first, ws.tile);
                    } else {
                        rows(ic, ic + mc, nv, n - n0, kc, a, (aOff + pc) * 4, as, ws.pack, 0, nr * 4L,
                                c, (cOff + n0) * 4, cs, first, ws.tile);
                    }
                }
            }
        }
    }

    /** dst[i] += src[i] for {@code len} floats (byte offsets): whole vectors, then a masked one. */
    static void addRun(MemorySegment dst, long db, MemorySegment src, long sb, int len) {
        int j = 0;
        for (; j + L <= len; j += L) {
            long o = j * 4L;
            FloatVector.fromMemorySegment(S, dst, db + o, NO).add(FloatVector.fromMemorySegment(S, src, sb + o, NO))
                    .intoMemorySegment(dst, db + o, NO);
        }
        if (j < len) {
            VectorMask<Float> mk = S.indexInRange(0, len - j);
            long o = j * 4L;
            FloatVector.fromMemorySegment(S, dst, db + o, NO, mk).add(FloatVector.fromMemorySegment(S, src, sb + o, NO, mk))
                    .intoMemorySegment(dst, db + o, NO, mk);
        }
    }

    /** dst[i] = src[i] for {@code len} floats (byte offsets). */
    static void copyRun(MemorySegment dst, long db, MemorySegment src, long sb, int len) {
        int j = 0;
        for (; j + L <= len; j += L) {
            long o = j * 4L;
            FloatVector.fromMemorySegment(S, src, sb + o, NO).intoMemorySegment(dst, db + o, NO);
        }
        if (j < len) {
            VectorMask<Float> mk = S.indexInRange(0, len - j);
            long o = j * 4L;
            FloatVector.fromMemorySegment(S, src, sb + o, NO, mk).intoMemorySegment(dst, db + o, NO, mk);
        }
    }
}
