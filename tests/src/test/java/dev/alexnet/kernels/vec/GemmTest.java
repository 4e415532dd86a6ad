package dev.alexnet.kernels.vec;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link Gemm} against a double-precision product. Tolerance per element: (k + 2) * u * (|C0| + sum_k |a*b|),
 * u = 2^-24: a float sum of k products with one rounding per FMA, plus the starting value when accumulating,
 * is within (k + 1) u of the exact sum times the sum of magnitudes (Higham's bound for recursive summation,
 * which also covers blocked sums whose partials are stored as floats); one more u for the final rounding.
 */
class GemmTest {
    static final double U = Math.ulp(1f) / 2;

    static MemorySegment random(Arena arena, Random rnd, long floats) {
        MemorySegment m = arena.allocate(floats * 4, 64);
        for (long i = 0; i < floats; i++) m.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
        return m;
    }

    /** One case: A [m][k] with row stride lda, B [k][n] read as b[k*brs + n*bcs] (row-major or transposed), C [m][n] with stride ldc. */
    static void check(Random rnd, int m, int n, int k, int nv, boolean transposedB, boolean accumulate) {
        try (Arena arena = Arena.ofConfined()) {
            int lda = k + rnd.nextInt(3), ldc = n + rnd.nextInt(3);
            long brs, bcs, bFloats;
            if (transposedB) { brs = 1; bcs = k + 1; bFloats = (long) n * (k + 1); }
            else { brs = n + 2; bcs = 1; bFloats = (long) k * (n + 2); }
            long aOff = 3, bOff = 5, cOff = 7;
            MemorySegment a = random(arena, rnd, aOff + (long) m * lda);
            MemorySegment b = random(arena, rnd, bOff + bFloats);
            MemorySegment c = arena.allocate((cOff + (long) m * ldc) * 4, 64);
            float[] c0 = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    float v = j < n ? (float) rnd.nextGaussian() : 12345f;
                    if (j < n) c0[i * n + j] = v;
                    c.setAtIndex(JAVA_FLOAT, cOff + (long) i * ldc + j, accumulate || j >= n ? v : Float.NaN);
                }
            }
            Gemm.gemm(m, n, k, a, aOff, lda, b, bOff, brs, bcs, c, cOff, ldc, accumulate, nv, new Gemm.Workspace(arena));
            int bad = 0;
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    float got = c.getAtIndex(JAVA_FLOAT, cOff + (long) i * ldc + j);
                    if (j >= n) {
                        assertEquals(12345f, got, "padding column written at " + i + "," + j);
                        continue;
                    }
                    double exact = accumulate ? c0[i * n + j] : 0, mag = accumulate ? Math.abs(c0[i * n + j]) : 0;
                    for (int x = 0; x < k; x++) {
                        double p = (double) a.getAtIndex(JAVA_FLOAT, aOff + (long) i * lda + x)
                                * b.getAtIndex(JAVA_FLOAT, bOff + x * brs + j * bcs);
                        exact += p;
                        mag += Math.abs(p);
                    }
                    double tol = (k + 2) * U * mag;
                    if (!(Math.abs(got - exact) <= tol) && bad++ < 5) {
                        sb.append(String.format("%n  [%d,%d] want %s got %s tol %.3g", i, j, exact, got, tol));
                    }
                }
            }
            if (bad > 0) fail(String.format("m=%d n=%d k=%d nv=%d transposed=%b acc=%b: %d bad%s", m, n, k, nv, transposedB, accumulate, bad, sb));
        }
    }

    @Test
    void matchesDoubleProductOnOddShapes() {
        Random rnd = new Random(7);
        int[][] shapes = {{1, 1, 1}, {8, 48, 16}, {9, 49, 17}, {3, 5, 7}, {13, 100, 300}, {17, 33, 513}, {261, 50, 20},
                {4, 16, 1}, {12, 97, 257}, {35, 17, 2}, {8, 400, 9}, {5, 1, 600}};
        for (int[] sh : shapes) {
            for (int nv = 1; nv <= 3; nv++) {
                check(rnd, sh[0], sh[1], sh[2], nv, false, false);
                check(rnd, sh[0], sh[1], sh[2], nv, true, true);
            }
            check(rnd, sh[0], sh[1], sh[2], 3, false, true);
            check(rnd, sh[0], sh[1], sh[2], 2, true, false);
        }
    }

    @Test
    void packedPanelsMatchUnpacked() {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            int m = 19, n = 70, k = 300, nv = 3;
            MemorySegment a = random(arena, rnd, (long) m * k), b = random(arena, rnd, (long) k * n);
            long panelStride = (long) k * Gemm.panelWidth(nv);
            MemorySegment bp = arena.allocate(Gemm.panels(n, nv) * panelStride * 4, 64);
            Gemm.packB(b, 0, n, 1, 0, k, 0, n, nv, bp, 0, panelStride);
            MemorySegment c1 = arena.allocate((long) m * n * 4, 64), c2 = arena.allocate((long) m * n * 4, 64);
            c1.fill((byte) 0xff);
            c2.fill((byte) 0xff);
            Gemm.Workspace ws = new Gemm.Workspace(arena);
            Gemm.packed(m, n, k, a, 0, k, bp, 0, panelStride, nv, c1, 0, n, false, ws);
            Gemm.gemm(m, n, k, a, 0, k, b, 0, n, 1, c2, 0, n, false, nv, ws);
            // Same blocks, same order: bitwise equal (the unpacked path only adds a column split at NC_PANELS panels).
            assertTrue(c1.mismatch(c2) < 0, "packed and unpacked B differ");
        }
    }

    /** B read in place ({@link Gemm#direct}) sums in the same order as B packed: bitwise the same, on shapes with and without an edge panel. */
    @Test
    void directEqualsPacked() {
        Random rnd = new Random(13);
        int[][] shapes = {{32, 96, 300}, {9, 100, 513}, {3, 17, 5}, {20, 48, 260}, {1, 1, 1}};
        try (Arena arena = Arena.ofConfined()) {
            Gemm.Workspace ws = new Gemm.Workspace(arena);
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2], ldb = n + 3;
                MemorySegment a = random(arena, rnd, (long) m * k), b = random(arena, rnd, (long) k * ldb + 2);
                for (int nv = 1; nv <= 3; nv++) {
                    for (boolean acc : new boolean[]{false, true}) {
                        MemorySegment c1 = random(arena, rnd, (long) m * n), c2 = arena.allocate((long) m * n * 4, 64);
                        c2.copyFrom(c1);
                        Gemm.direct(m, n, k, a, 0, k, b, 2, ldb, c1, 0, n, acc, nv, ws);
                        Gemm.gemm(m, n, k, a, 0, k, b, 2, ldb, 1, c2, 0, n, acc, nv, ws);
                        assertTrue(c1.mismatch(c2) < 0, "direct and packed differ: m=" + m + " n=" + n + " k=" + k + " nv=" + nv + " acc=" + acc);
                    }
                }
            }
        }
    }

    /** Whole panels written into padded C rows: the real columns are bitwise those of the edge-buffer path. */
    @Test
    void wholePanelsEqualEdgeBuffer() {
        Random rnd = new Random(17);
        try (Arena arena = Arena.ofConfined()) {
            Gemm.Workspace ws = new Gemm.Workspace(arena);
            for (int nv = 1; nv <= 3; nv++) {
                int m = 13, n = 57, k = 300, ldp = Gemm.panels(n, nv) * Gemm.panelWidth(nv);
                MemorySegment a = random(arena, rnd, (long) m * k), b = random(arena, rnd, (long) k * n);
                MemorySegment c1 = arena.allocate((long) m * n * 4, 64), c2 = arena.allocate((long) m * ldp * 4, 64);
                Gemm.gemm(m, n, k, a, 0, k, b, 0, n, 1, c1, 0, n, false, nv, ws);
                Gemm.gemm(m, n, k, a, 0, k, b, 0, n, 1, c2, 0, ldp, false, true, nv, ws);
                for (int i = 0; i < m; i++) {
                    long diff = c1.asSlice((long) i * n * 4, n * 4L).mismatch(c2.asSlice((long) i * ldp * 4, n * 4L));
                    assertTrue(diff < 0, "row " + i + " differs at byte " + diff + " with nv=" + nv);
                }
            }
            MemorySegment a = arena.allocate(4 * 4, 64), c = arena.allocate(4 * 4, 64);
            assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(1, 3, 1, a, 0, 1, a, 0, 3, 1, c, 0, 3, false, true, 1, ws));
        }
    }

    @Test
    void emptyReductionZeroesOrKeeps() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(6 * 4, 64);
            c.fill((byte) 0x40);
            MemorySegment a = arena.allocate(4, 64), b = arena.allocate(4, 64);
            Gemm.Workspace ws = new Gemm.Workspace(arena);
            Gemm.gemm(2, 3, 0, a, 0, 0, b, 0, 3, 1, c, 0, 3, true, 3, ws);
            assertEquals(Float.intBitsToFloat(0x40404040), c.getAtIndex(JAVA_FLOAT, 5));
            Gemm.gemm(2, 3, 0, a, 0, 0, b, 0, 3, 1, c, 0, 3, false, 3, ws);
            for (int i = 0; i < 6; i++) assertEquals(0f, c.getAtIndex(JAVA_FLOAT, i));
        }
    }
}
