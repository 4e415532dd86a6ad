package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.ref.DropoutRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.ReluRef;
import dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.alexnet.kernels.vec.VecTestSupport.U;
import static dev.alexnet.kernels.vec.VecTestSupport.assertClose;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The backward vector kernels (and DropoutVec's forward) against their scalar references on many shapes:
 * odd widths, tails, pads, strides 1-3, kernels 2-3; each kernel run as 1, 2 and 3 members one after
 * another, and once on a real ThreadTeam with a shared arena; outputs pre-filled with NaN, segments cut
 * to their exact sizes (a read past the end throws). Pooling, ReLU and dropout are bitwise; LRN and the
 * loss have tolerances derived from their arithmetic (see each check).
 */
class BackwardVecTest {
    private static int pick(Random r, int... v) { return v[r.nextInt(v.length)]; }

    private static MemorySegment floats(Arena arena, long n) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        return s;
    }

    private static MemorySegment nan(Arena arena, long n) {
        MemorySegment s = floats(arena, n);
        for (long i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, Float.NaN);
        return s;
    }

    private static MemorySegment gaussian(Arena arena, Random rnd, long n, double scale) {
        MemorySegment s = floats(arena, n);
        for (long i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, (float) (rnd.nextGaussian() * scale));
        return s;
    }

    private static MemorySegment copy(Arena arena, MemorySegment s) {
        MemorySegment c = arena.allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }

    /** A kernel slice: member of members. */
    interface Sliced { void run(int member, int members); }

    /** tol == null: bitwise (NaN equal to NaN, infinities to themselves); otherwise assertClose. */
    private static void check(String what, float[] want, float[] got, double[] tol) {
        if (tol != null) {
            assertClose(what, want, got, tol);
            return;
        }
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) fail(what + ": [" + i + "] want " + want[i] + " got " + got[i] + " (bitwise)");
        }
    }

    /** Runs the kernel as 1, 2 and 3 members in a loop (output refilled with NaN each time), then on a 3-thread team. */
    private static void members(Arena arena, MemorySegment out, float[] want, double[] tol, String what, Sliced k) {
        for (int members = 1; members <= 3; members++) {
            for (long i = 0; i < out.byteSize() / 4; i++) out.setAtIndex(JAVA_FLOAT, i, Float.NaN);
            for (int m = 0; m < members; m++) k.run(m, members);
            check(what + " members=" + members, want, out.toArray(JAVA_FLOAT), tol);
        }
        for (long i = 0; i < out.byteSize() / 4; i++) out.setAtIndex(JAVA_FLOAT, i, Float.NaN);
        try (ThreadTeam team = new ThreadTeam(3)) {
            team.run(k::run);
        }
        check(what + " team of 3", want, out.toArray(JAVA_FLOAT), tol);
    }

    // ---------------------------------------------------------------- pooling

    /**
     * Bitwise: the kernel picks the reference's winners and adds in its order. Inputs are rounded to
     * multiples of 1/2 of a unit Gaussian, so windows often hold ties (the first maximum must win).
     */
    private static void checkPool(Random rnd, PoolShape s, boolean ties) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = gaussian(arena, rnd, s.inputSize(), 1), go = gaussian(arena, rnd, s.outputSize(), 1);
            if (ties) for (long i = 0; i < s.inputSize(); i++) in.setAtIndex(JAVA_FLOAT, i, Math.round(in.getAtIndex(JAVA_FLOAT, i) * 2) / 2f);
            MemorySegment want = nan(arena, s.inputSize()), got = nan(arena, s.inputSize());
            MaxPoolRef.backward(want, go, in, s);
            members(arena, got, want.toArray(JAVA_FLOAT), null, s + " ties=" + ties, (m, ms) -> PoolBackwardVec.backward(got, go, in, s, m, ms));
        }
    }

    @Test
    void poolingMatchesTheReference() {
        Random rnd = new Random(21);
        for (int i = 0; i < 60; i++) {
            int k = pick(rnd, 2, 3), st = pick(rnd, 1, 2, 3), pad = rnd.nextInt(k / 2 + 1);
            int h = k + rnd.nextInt(12), w = pick(rnd, k, k + 1, 7, 13, 16, 17, 27, 31, 32, 33, 40, 55, 70);
            checkPool(rnd, new PoolShape(1 + rnd.nextInt(2), 1 + rnd.nextInt(4), h, w, k, st, pad), i % 2 == 0);
        }
    }

    @Test
    void poolingAlexNetShapesAtBatchTwo() {
        Random rnd = new Random(22);
        for (int[] d : new int[][] {{96, 55}, {256, 27}, {256, 13}}) checkPool(rnd, new PoolShape(2, d[0], d[1], d[1], 3, 2, 0), true);
    }

    @Test
    void poolingNonFiniteInputs() {
        Random rnd = new Random(23);
        PoolShape s = new PoolShape(1, 2, 9, 37, 3, 2, 0);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = gaussian(arena, rnd, s.inputSize(), 1), go = gaussian(arena, rnd, s.outputSize(), 1);
            for (long i = 0; i < s.inputSize(); i++) {
                int r = rnd.nextInt(10);
                if (r == 0) in.setAtIndex(JAVA_FLOAT, i, Float.NaN);
                else if (r < 6) in.setAtIndex(JAVA_FLOAT, i, Float.NEGATIVE_INFINITY);
            }
            MemorySegment want = nan(arena, s.inputSize()), got = nan(arena, s.inputSize());
            MaxPoolRef.backward(want, go, in, s);
            members(arena, got, want.toArray(JAVA_FLOAT), null, s + " with NaN and -inf", (m, ms) -> PoolBackwardVec.backward(got, go, in, s, m, ms));
        }
    }

    // ---------------------------------------------------------------- LRN

    /**
     * Tolerance per element, from the kernel's float arithmetic against the reference's double one (u = 2^-24,
     * n = window size): d = k + scale sum a^2 (FMA chain of n positive terms) is within (n + 2) u relatively;
     * d^-beta then within beta (n + 2) u + 7 u (two square roots, two products, a division, or POW's ulp and
     * a division) and d^(-beta-1) within (beta + 1)(n + 2) u + 7 u; t = g a d^(-beta-1) adds 2 u, their sum
     * of up to n terms (n - 1) u, and coef = 2 scale beta, its two products 4 u; the subtraction and the
     * reference's rounding to float 2 u more. So |got - want| <= ((beta + 1)(n + 2) + n + 16) u
     * (|g d^-beta| + 2 scale beta |a| sum |t|), the magnitudes computed in double.
     */
    private static double[] lrnTol(MemorySegment gradOut, MemorySegment in, LrnShape s) {
        LrnParams lp = s.params();
        int C = s.c(), half = lp.size() / 2, gc = C / s.channelGroups(), hw = s.h() * s.w();
        double scale = lp.scale(), beta = lp.beta(), f = ((beta + 1) * (lp.size() + 2) + lp.size() + 16) * U;
        double[] tol = new double[(int) s.size()], d = new double[C], t = new double[C];
        for (int n = 0; n < s.n(); n++)
            for (int i = 0; i < hw; i++) {
                for (int c = 0; c < C; c++) {
                    double sum = 0;
                    for (int j = lo(c, half, gc); j <= hi(c, half, gc); j++) { double a = in.getAtIndex(JAVA_FLOAT, (long) (n * C + j) * hw + i); sum += a * a; }
                    d[c] = lp.k() + scale * sum;
                    long e = (long) (n * C + c) * hw + i;
                    t[c] = Math.abs(gradOut.getAtIndex(JAVA_FLOAT, e) * in.getAtIndex(JAVA_FLOAT, e)) * Math.pow(d[c], -beta - 1);
                }
                for (int c = 0; c < C; c++) {
                    double sum = 0;
                    for (int j = lo(c, half, gc); j <= hi(c, half, gc); j++) sum += t[j];
                    long e = (long) (n * C + c) * hw + i;
                    tol[(int) e] = f * (Math.abs(gradOut.getAtIndex(JAVA_FLOAT, e)) * Math.pow(d[c], -beta)
                            + 2 * scale * beta * Math.abs(in.getAtIndex(JAVA_FLOAT, e)) * sum);
                }
            }
        return tol;
    }

    private static int lo(int c, int half, int gc) { return Math.max(c / gc * gc, c - half); }

    private static int hi(int c, int half, int gc) { return Math.min(c / gc * gc + gc - 1, c + half); }

    private static void checkLrn(Random rnd, LrnShape s) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = gaussian(arena, rnd, s.size(), 2), go = gaussian(arena, rnd, s.size(), 1);
            MemorySegment want = nan(arena, s.size()), got = nan(arena, s.size());
            LrnRef.backward(want, go, in, s);
            members(arena, got, want.toArray(JAVA_FLOAT), lrnTol(go, in, s), s.toString(), (m, ms) -> LrnBackwardVec.backward(got, go, in, s, m, ms));
        }
    }

    @Test
    void lrnMatchesTheReference() {
        Random rnd = new Random(31);
        LrnParams[] params = {LrnParams.PAPER, new LrnParams(3, 1f, 0.3f, 0.6f, true), new LrnParams(5, 2f, 0.5f, 0.75f, false),
                new LrnParams(7, 1.5f, 0.2f, 0.75f, true), new LrnParams(1, 1f, 0.4f, 0.9f, false)};
        for (int i = 0; i < 25; i++) {
            int groups = pick(rnd, 1, 2), c = groups * pick(rnd, 1, 2, 3, 5, 8, 13);
            int h = pick(rnd, 1, 3, 5, 13, 27), w = pick(rnd, 1, 4, 7, 16, 17, 29, 41);
            checkLrn(rnd, new LrnShape(1 + rnd.nextInt(2), c, h, w, params[i % params.length], groups));
        }
    }

    @Test
    void lrnAlexNetShapesAtBatchTwo() {
        Random rnd = new Random(32);
        for (int groups : new int[] {1, 2}) {
            checkLrn(rnd, new LrnShape(2, 96, 55, 55, LrnParams.PAPER, groups));
            checkLrn(rnd, new LrnShape(2, 256, 27, 27, LrnParams.PAPER, groups));
        }
    }

    // ---------------------------------------------------------------- ReLU, dropout

    @Test
    void reluMatchesTheReferenceBitwise() {
        Random rnd = new Random(41);
        for (int count : new int[] {1, 15, 16, 17, 33, 64, 1000, 4099}) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment out = gaussian(arena, rnd, count, 1), go = gaussian(arena, rnd, count, 1);
                for (int i = 0; i < count; i += 7) out.setAtIndex(JAVA_FLOAT, i, i % 2 == 0 ? 0f : Float.NaN);
                MemorySegment want = nan(arena, count), got = nan(arena, count);
                ReluRef.backward(want, go, out, count);
                members(arena, got, want.toArray(JAVA_FLOAT), null, "relu " + count,
                        (m, ms) -> ReluVec.backward(got, go, out, (long) count * m / ms, (long) count * (m + 1) / ms));
                MemorySegment inPlace = copy(arena, go);
                ReluVec.backward(inPlace, inPlace, out, 0, count);
                check("relu in place " + count, want.toArray(JAVA_FLOAT), inPlace.toArray(JAVA_FLOAT), null);
            }
        }
    }

    @Test
    void dropoutMatchesTheReferenceBitwise() {
        Random rnd = new Random(51);
        int[][] shapes = {{1, 1}, {3, 7}, {2, 16}, {5, 17}, {4, 33}, {32, 4096}, {3, 1000}};
        for (int[] d : shapes) {
            int rows = d[0], features = d[1];
            for (float p : new float[] {0f, 0.5f, 0.3f, 0.9f}) {
                int total = features + rnd.nextInt(3) * features, offset = total == features ? 0 : rnd.nextInt(total - features + 1);
                DropoutMask mask = new DropoutMask(p, DropoutMask.key(rnd.nextLong(), "drop" + features), total, offset);
                try (Arena arena = Arena.ofShared()) {
                    long n = (long) rows * features;
                    MemorySegment x = gaussian(arena, rnd, n, 1), want = nan(arena, n), got = nan(arena, n);
                    x.setAtIndex(JAVA_FLOAT, 0, Float.POSITIVE_INFINITY); // inf * 0 = NaN in both
                    String what = "dropout " + rows + "x" + features + " " + mask;
                    DropoutRef.forward(want, x, rows, features, mask);
                    float[] w = want.toArray(JAVA_FLOAT);
                    members(arena, got, w, null, what, (m, ms) -> DropoutVec.forward(got, x, rows, features, mask, m, ms));
                    members(arena, got, w, null, what + " backward", (m, ms) -> DropoutVec.backward(got, x, rows, features, mask, m, ms));
                    MemorySegment inPlace = copy(arena, x);
                    DropoutVec.forward(inPlace, inPlace, rows, features, mask, 0, 1);
                    check(what + " in place", w, inPlace.toArray(JAVA_FLOAT), null);
                    members(arena, got, x.toArray(JAVA_FLOAT), null, what + " inference", (m, ms) -> DropoutVec.forward(got, x, rows, features, null, m, ms));
                }
            }
        }
    }

    // ---------------------------------------------------------------- softmax cross-entropy

    /**
     * Against the double reference, with p_c = softmax(z)_c and m = max z (u = 2^-24, L lanes): the kernel
     * rounds z_c - m to float (|z_c - m| u, which moves exp by that much relatively) and EXP is within 1 ulp
     * (2 u), so e_c is within delta_c = (|z_c - m| + 2) u of exp(z_c - m); the float sum of cols/L lanes then
     * a reduction over log2 L levels is within eps = (ceil(cols/L) + log2 L) u + sum_c p_c delta_c. The row's
     * loss log(sum) - (z_y - m) (in double) is within eps + 1e-15 |loss|; the gradient scale (p_c - [c = y])
     * within |scale| p_c (delta_c + eps + 2 u) (the factor scale/sum and the product) + 2 u |want| (the
     * subtraction and the reference's rounding), plus 3 Float.MIN_VALUE for results in the subnormal range,
     * where the relative bounds do not hold (half an ulp each for exp, the product and the reference's rounding,
     * with exp's 1 ulp there).
     */
    private static void checkLoss(Random rnd, int rows, int cols, double spread, int members) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment z = gaussian(arena, rnd, (long) rows * cols, spread), labels = arena.allocate(4L * rows, 64);
            for (int r = 0; r < rows; r++) labels.setAtIndex(JAVA_INT, r, rnd.nextInt(cols));
            MemorySegment want = nan(arena, (long) rows * cols), got = nan(arena, (long) rows * cols);
            double wantLoss = SoftmaxCrossEntropyRef.loss(z, labels, want, rows, cols) * rows;
            float scale = 1f / rows;
            double gotLoss = 0;
            for (int m = 0; m < members; m++) {
                gotLoss += SoftmaxCrossEntropyVec.lossSum(z, labels, got, cols, ThreadTeam.from(rows, m, members), ThreadTeam.from(rows, m + 1, members), scale);
            }
            int L = FloatVector_L();
            double lossTol = 0;
            double[] tol = new double[rows * cols];
            float[] w = want.toArray(JAVA_FLOAT);
            for (int r = 0; r < rows; r++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int c = 0; c < cols; c++) max = Math.max(max, z.getAtIndex(JAVA_FLOAT, (long) r * cols + c));
                for (int c = 0; c < cols; c++) sum += Math.exp(z.getAtIndex(JAVA_FLOAT, (long) r * cols + c) - max);
                double eps = ((cols + L - 1) / L + Math.log(L) / Math.log(2)) * U;
                double[] p = new double[cols], delta = new double[cols];
                for (int c = 0; c < cols; c++) {
                    double zc = z.getAtIndex(JAVA_FLOAT, (long) r * cols + c);
                    p[c] = Math.exp(zc - max) / sum;
                    delta[c] = (Math.abs(zc - max) + 2) * U;
                    eps += p[c] * delta[c];
                }
                lossTol += eps;
                for (int c = 0; c < cols; c++) tol[r * cols + c] = scale * p[c] * (delta[c] + eps + 2 * U) + 2 * U * Math.abs(w[r * cols + c]) + 3 * Float.MIN_VALUE;
            }
            String what = rows + "x" + cols + " spread " + spread + " members " + members;
            assertEquals(wantLoss, gotLoss, lossTol + 1e-15 * Math.abs(wantLoss) * rows, what + " loss");
            assertClose(what + " gradient", w, got.toArray(JAVA_FLOAT), tol);
        }
    }

    private static int FloatVector_L() { return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(); }

    @Test
    void softmaxCrossEntropyMatchesTheReference() {
        Random rnd = new Random(61);
        int[][] shapes = {{1, 1}, {2, 7}, {3, 16}, {5, 17}, {32, 1000}, {4, 1001}, {7, 40}};
        for (int[] d : shapes) for (double spread : new double[] {1, 30, 1e4}) checkLoss(rnd, d[0], d[1], spread, 1 + rnd.nextInt(3));
    }

    @Test
    void softmaxCrossEntropyRejectsBadLabels() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment z = floats(arena, 6), labels = arena.allocate(8, 64);
            labels.setAtIndex(JAVA_INT, 1, 3);
            var e = assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropyVec.lossSum(z, labels, null, 3, 0, 2, 0.5f));
            assertEquals("label 3 of row 1 is outside [0, 3)", e.getMessage());
        }
    }
}
