package dev.alexnet.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.DropoutRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef;
import dev.alexnet.kernels.vec.ConvTrainVec;
import dev.alexnet.kernels.vec.DropoutVec;
import dev.alexnet.kernels.vec.LinearTrainVec;
import dev.alexnet.kernels.vec.LrnBackwardVec;
import dev.alexnet.kernels.vec.PoolBackwardVec;
import dev.alexnet.kernels.vec.SoftmaxCrossEntropyVec;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static dev.alexnet.golden.Golden.EPS32;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The backward kernels, scalar references ({@code kernels.ref}) and vector versions ({@code kernels.vec}, run
 * as one member and as a three-member team in turn), against PyTorch's float32 gradients on the
 * {@code grad_cases} of the golden manifest.
 *
 * <p>Tolerances come from the arithmetic, as in {@link KernelGoldenTest}:
 * <ul>
 * <li>conv, linear: every gradient element is a sum of at most m products (conv gx: (K/G) ceil(R/sh) ceil(S/sw)
 *     terms, conv gw and gb: N P Q, linear gx: out, gw and gb: n). For any summation order (blocked GEMM,
 *     col2im, FMA) a float32 sum is within gamma_m S < m eps S of the exact value, S = sum |terms|, which we
 *     compute per element by running the reference backward kernel on |inputs|. The reference sums in double
 *     and rounds once (ulp/2); a vector kernel sums in float (another m eps S). So we assert
 *     |ours - torch| <= m eps S + ulp (reference) and 2 m eps S + ulp (vector).</li>
 * <li>max pooling: each input receives the sum of at most ceil(kernel/stride)^2 output gradients (4 for 3/2):
 *     m = 4, S = the same backward on |gy|.</li>
 * <li>LRN: gx_i = g_i d_i^-beta - 2 beta scale a_i sum_j g_j a_j d_j^(-beta-1). PyTorch's float32 autograd
 *     through square, window sum (n-1 adds), /n, *alpha, +k, pow, divide, and back through them, rounds each
 *     of the two terms about 30 times (pow counted as 2 ulp, the relative error of d entering d^-beta and
 *     d^(-beta-1) with weight up to beta + 1 <= 2): under M = 24 eps relative to each term's magnitude; we
 *     assert |ours - torch| <= M eps S with S = |g_i| d_i^-beta + 2 beta scale |a_i| sum_j |g_j a_j| d_j^(-beta-1)
 *     computed in double, twice that for the vector kernel (float arithmetic of its own).</li>
 * <li>dropout: the gradient is gy times the mask's factor, one rounding on both sides: bit-exact.</li>
 * <li>softmax cross-entropy: torch's log_softmax has absolute error about (|z_i - max| + |lse| + cols) u in
 *     z_i - lse, which exp turns into that relative error in p_i; then (p_i - onehot)/rows adds a rounding.
 *     We assert |ours - torch| <= (|z_i - max| + |lse| + cols + 8) eps p_i / rows + ulp, twice for the vector
 *     kernel (float sum of cols exps), and the loss within the row average of the same factor times eps.</li>
 * </ul>
 * Besides every bound, the measured K = max |ours - torch| / (eps S) must stay below a small constant
 * (KMAX_REF, KMAX_VEC): rounding errors of long sums grow like sqrt(m), not m, in practice, so a K near
 * the worst-case m would mean a kernel that is wrong by a little rather than rounding differently.
 */
class BackwardGoldenTest {
    private static final ConcurrentLinkedQueue<String> REPORT = new ConcurrentLinkedQueue<>();
    private static final Set<String> KINDS = Set.of("conv", "maxpool", "lrn", "linear", "dropout", "softmax_ce");
    /** The LRN backward's rounding budget per term, in eps (see the class comment). */
    static final int LRN_M = 24;
    /** Measured K may not exceed these (the hard bounds allow up to m). */
    static final double KMAX_REF = 3, KMAX_VEC = 6;

    @AfterAll
    static void printReport() {
        System.out.println("[golden backward] kernels vs PyTorch float32 gradients:");
        REPORT.stream().sorted().forEach(l -> System.out.println("  " + l));
    }

    private static List<JsonNode> cases() {
        JsonNode cases = Golden.manifest().get("grad_cases");
        assertNotNull(cases, "manifest has no grad_cases: run `make golden`");
        return StreamSupport.stream(cases.spliterator(), false).toList();
    }

    @Test
    void manifestCoversEveryBackwardKernel() {
        Set<String> seen = new TreeSet<>();
        for (JsonNode c : cases()) seen.add(c.get("kind").asText());
        assertEquals(new TreeSet<>(KINDS), seen, "golden backward kinds");
        assertTrue(cases().size() >= 12, "expected at least 12 gradient cases, found " + cases().size());
    }

    @TestFactory
    Stream<DynamicTest> backwardKernelsAgreeWithPyTorch() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            try (Arena arena = Arena.ofConfined()) {
                switch (c.get("kind").asText()) {
                    case "conv" -> conv(c, arena);
                    case "linear" -> linear(c, arena);
                    case "maxpool" -> pool(c, arena);
                    case "lrn" -> lrn(c, arena);
                    case "dropout" -> dropout(c, arena);
                    case "softmax_ce" -> softmaxCe(c, arena);
                    default -> fail("unknown gradient case kind " + c.get("kind"));
                }
            }
        }));
    }

    private static Tensor file(JsonNode c, String role, Arena arena) {
        JsonNode f = c.get("files").get(role);
        assertNotNull(f, c.get("name").asText() + " has no " + role + " file");
        return Golden.read(f.asText(), arena);
    }

    private static Tensor abs(Tensor t, Arena arena) {
        float[] v = t.toArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
        return Tensor.of(arena, v, t.shape());
    }

    private static Tensor like(Tensor t, Arena arena) { return Tensor.allocate(arena, t.shape()); }

    /**
     * Asserts |got - want| <= factor*m*eps*S + ulp(want) per element and K = max |diff|/(eps*S) <= kmax;
     * records the figures. {@code s} is the per-element magnitude, {@code m} the term count.
     */
    private static void check(String what, float[] got, float[] want, float[] s, double m, double factor, double kmax) {
        assertEquals(want.length, got.length, what + ": size");
        double worstK = 0, maxAbs = 0, maxRef = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            double tol = factor * m * EPS32 * s[i] + Math.ulp(want[i]);
            if (!(d <= tol)) {
                fail(String.format("%s: element %d is %s, PyTorch %s: |diff| %.3e > bound %.3e (m=%.0f, S=%.4g)",
                        what, i, got[i], want[i], d, tol, m, s[i]));
            }
            if (s[i] > 0) worstK = Math.max(worstK, d / (EPS32 * s[i]));
            maxAbs = Math.max(maxAbs, d);
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        assertTrue(worstK <= kmax, String.format("%s: measured K = max|diff|/(eps*S) = %.3f exceeds %.1f", what, worstK, kmax));
        REPORT.add(String.format("%-34s max|diff| %.2e  rel %.2e  K %.3f (bound K <= %.0f, asserted <= %.0f)",
                what, maxAbs, maxRef == 0 ? maxAbs : maxAbs / maxRef, worstK, factor * m, kmax));
    }

    private static void conv(JsonNode c, Arena arena) {
        String name = c.get("name").asText();
        ConvShape s = new ConvShape(c.get("n").asInt(), c.get("c").asInt(), c.get("h").asInt(), c.get("w").asInt(),
                c.get("k").asInt(), c.get("r").asInt(), c.get("s").asInt(), c.get("strideH").asInt(), c.get("strideW").asInt(),
                c.get("padH").asInt(), c.get("padW").asInt(), c.get("groups").asInt());
        Tensor x = file(c, "x", arena), w = file(c, "w", arena), gy = file(c, "gy", arena);
        Tensor gx = file(c, "gx", arena), gw = file(c, "gw", arena), gb = file(c, "gb", arena);
        assertArrayEquals(new int[] {s.n(), s.k(), s.p(), s.q()}, gy.shape(), name + ": upstream gradient shape vs ConvShape");
        assertArrayEquals(x.shape(), gx.shape(), name + " gx shape");
        assertArrayEquals(w.shape(), gw.shape(), name + " gw shape");
        // Magnitudes: the same sums over |terms|.
        Tensor sx = like(gx, arena), sw = like(gw, arena), sb = like(gb, arena);
        ConvRef.backwardData(sx.data(), abs(gy, arena).data(), abs(w, arena).data(), s);
        ConvRef.backwardWeights(sw.data(), sb.data(), abs(x, arena).data(), abs(gy, arena).data(), s);
        double mx = (double) s.k() / s.groups() * ceilDiv(s.r(), s.strideH()) * ceilDiv(s.s(), s.strideW());
        double mw = (double) s.n() * s.p() * s.q();

        Tensor rx = like(gx, arena), rw = like(gw, arena), rb = like(gb, arena);
        ConvRef.backwardData(rx.data(), gy.data(), w.data(), s);
        ConvRef.backwardWeights(rw.data(), rb.data(), x.data(), gy.data(), s);
        check(name + " ref gx", rx.toArray(), gx.toArray(), sx.toArray(), mx, 1, KMAX_REF);
        check(name + " ref gw", rw.toArray(), gw.toArray(), sw.toArray(), mw, 1, KMAX_REF);
        check(name + " ref gb", rb.toArray(), gb.toArray(), sb.toArray(), mw, 1, KMAX_REF);

        for (int members : new int[] {1, 3}) {
            ConvTrainVec v = new ConvTrainVec(s, members, arena);
            Tensor vx = like(gx, arena), vw = like(gw, arena), vb = like(gb, arena);
            for (int m = 0; m < members; m++) v.backwardData(vx.data(), gy.data(), w.data(), m, members);
            for (int m = 0; m < members; m++) v.backwardWeights(x.data(), gy.data(), m, members);
            for (int m = 0; m < members; m++) v.reduceWeights(vw.data(), vb.data(), m, members);
            String tag = name + " vec/" + members;
            check(tag + " gx", vx.toArray(), gx.toArray(), sx.toArray(), mx, 2, KMAX_VEC);
            check(tag + " gw", vw.toArray(), gw.toArray(), sw.toArray(), mw, 2, KMAX_VEC);
            check(tag + " gb", vb.toArray(), gb.toArray(), sb.toArray(), mw, 2, KMAX_VEC);
        }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    private static void linear(JsonNode c, Arena arena) {
        String name = c.get("name").asText();
        LinearShape s = new LinearShape(c.get("n").asInt(), c.get("in").asInt(), c.get("out").asInt());
        Tensor x = file(c, "x", arena), w = file(c, "w", arena), gy = file(c, "gy", arena);
        Tensor gx = file(c, "gx", arena), gw = file(c, "gw", arena), gb = file(c, "gb", arena);
        assertArrayEquals(new int[] {s.n(), s.out()}, gy.shape(), name + " gy shape");
        Tensor sx = like(gx, arena), sw = like(gw, arena), sb = like(gb, arena);
        LinearRef.backwardData(sx.data(), abs(gy, arena).data(), abs(w, arena).data(), s);
        LinearRef.backwardWeights(sw.data(), sb.data(), abs(x, arena).data(), abs(gy, arena).data(), s);

        Tensor rx = like(gx, arena), rw = like(gw, arena), rb = like(gb, arena);
        LinearRef.backwardData(rx.data(), gy.data(), w.data(), s);
        LinearRef.backwardWeights(rw.data(), rb.data(), x.data(), gy.data(), s);
        check(name + " ref gx", rx.toArray(), gx.toArray(), sx.toArray(), s.out(), 1, KMAX_REF);
        check(name + " ref gw", rw.toArray(), gw.toArray(), sw.toArray(), s.n(), 1, KMAX_REF);
        check(name + " ref gb", rb.toArray(), gb.toArray(), sb.toArray(), s.n(), 1, KMAX_REF);

        for (int members : new int[] {1, 3}) {
            LinearTrainVec v = new LinearTrainVec(s, members, arena);
            Tensor vx = like(gx, arena), vw = like(gw, arena), vb = like(gb, arena);
            for (int m = 0; m < members; m++) v.backwardData(vx.data(), gy.data(), w.data(), m, members);
            for (int m = 0; m < members; m++) v.backwardWeights(vw.data(), vb.data(), x.data(), gy.data(), m, members);
            String tag = name + " vec/" + members;
            check(tag + " gx", vx.toArray(), gx.toArray(), sx.toArray(), s.out(), 2, KMAX_VEC);
            check(tag + " gw", vw.toArray(), gw.toArray(), sw.toArray(), s.n(), 2, KMAX_VEC);
            check(tag + " gb", vb.toArray(), gb.toArray(), sb.toArray(), s.n(), 2, KMAX_VEC);
        }
    }

    private static void pool(JsonNode c, Arena arena) {
        String name = c.get("name").asText();
        PoolShape s = new PoolShape(c.get("n").asInt(), c.get("c").asInt(), c.get("h").asInt(), c.get("w").asInt(),
                c.get("kernel").asInt(), c.get("stride").asInt(), c.get("pad").asInt());
        Tensor x = file(c, "x", arena), gy = file(c, "gy", arena), gx = file(c, "gx", arena);
        assertArrayEquals(new int[] {s.n(), s.c(), s.p(), s.q()}, gy.shape(), name + ": gy shape vs PoolShape");
        Tensor sx = like(gx, arena);
        MaxPoolRef.backward(sx.data(), abs(gy, arena).data(), x.data(), s); // the winners depend on x only
        int per = ceilDiv(s.kernel(), s.stride());
        double m = (double) per * per;
        Tensor rx = like(gx, arena);
        MaxPoolRef.backward(rx.data(), gy.data(), x.data(), s);
        check(name + " ref gx", rx.toArray(), gx.toArray(), sx.toArray(), m, 1, KMAX_REF);
        for (int members : new int[] {1, 3}) {
            Tensor vx = like(gx, arena);
            for (int k = 0; k < members; k++) PoolBackwardVec.backward(vx.data(), gy.data(), x.data(), s, k, members);
            check(name + " vec/" + members + " gx", vx.toArray(), gx.toArray(), sx.toArray(), m, 1, KMAX_REF);
        }
    }

    private static void lrn(JsonNode c, Arena arena) {
        String name = c.get("name").asText();
        int size = c.get("size").asInt();
        float k = (float) c.get("k").asDouble(), alpha = (float) c.get("alpha").asDouble(), beta = (float) c.get("beta").asDouble();
        LrnShape s = new LrnShape(c.get("n").asInt(), c.get("c").asInt(), c.get("h").asInt(), c.get("w").asInt(),
                new LrnParams(size, k, alpha, beta, false), c.get("channelGroups").asInt());
        Tensor x = file(c, "x", arena), gy = file(c, "gy", arena), gx = file(c, "gx", arena);
        float[] mag = lrnMagnitude(x.toArray(), gy.toArray(), s);
        Tensor rx = like(gx, arena);
        LrnRef.backward(rx.data(), gy.data(), x.data(), s);
        check(name + " ref gx", rx.toArray(), gx.toArray(), mag, LRN_M, 1, KMAX_REF);
        for (int members : new int[] {1, 3}) {
            Tensor vx = like(gx, arena);
            for (int m = 0; m < members; m++) LrnBackwardVec.backward(vx.data(), gy.data(), x.data(), s, m, members);
            check(name + " vec/" + members + " gx", vx.toArray(), gx.toArray(), mag, LRN_M, 2, KMAX_VEC);
        }
        // The case must exercise the alpha term: the second term at least 1% of the first somewhere.
        double share = maxSecondTermShare(x.toArray(), gy.toArray(), s);
        assertTrue(share > 0.01, name + ": the alpha term is negligible (at most " + share + " of S)");
    }

    /** S_i = |g_i| d_i^-beta + 2 beta scale |a_i| sum_{j in W(i)} |g_j a_j| d_j^(-beta-1), in double. */
    static float[] lrnMagnitude(float[] a, float[] g, LrnShape s) {
        return lrnTerms(a, g, s, false);
    }

    private static double maxSecondTermShare(float[] a, float[] g, LrnShape s) {
        float[] second = lrnTerms(a, g, s, true), all = lrnTerms(a, g, s, false);
        double share = 0;
        for (int i = 0; i < all.length; i++) if (all[i] > 0) share = Math.max(share, second[i] / all[i]);
        return share;
    }

    private static float[] lrnTerms(float[] a, float[] g, LrnShape s, boolean secondOnly) {
        int C = s.c(), half = s.params().size() / 2, groupC = C / s.channelGroups();
        int hw = s.h() * s.w();
        double scale = s.params().scale(), beta = s.params().beta(), k = s.params().k();
        float[] out = new float[a.length];
        double[] d = new double[C];
        for (int n = 0; n < s.n(); n++) {
            for (int i = 0; i < hw; i++) {
                for (int c = 0; c < C; c++) {
                    int g0 = c / groupC * groupC;
                    double sum = 0;
                    for (int j = Math.max(g0, c - half); j <= Math.min(g0 + groupC - 1, c + half); j++) {
                        double v = a[(n * C + j) * hw + i];
                        sum += v * v;
                    }
                    d[c] = k + scale * sum;
                }
                for (int c = 0; c < C; c++) {
                    int g0 = c / groupC * groupC, at = (n * C + c) * hw + i;
                    double sum = 0;
                    for (int j = Math.max(g0, c - half); j <= Math.min(g0 + groupC - 1, c + half); j++) {
                        int aj = (n * C + j) * hw + i;
                        sum += Math.abs((double) g[aj] * a[aj]) * Math.pow(d[j], -beta - 1);
                    }
                    double second = 2 * beta * scale * Math.abs(a[at]) * sum;
                    out[at] = (float) (secondOnly ? second : Math.abs(g[at]) * Math.pow(d[c], -beta) + second);
                }
            }
        }
        return out;
    }

    private static void dropout(JsonNode c, Arena arena) {
        String name = c.get("name").asText();
        int rows = c.get("rows").asInt(), features = c.get("features").asInt();
        DropoutMask mask = new DropoutMask((float) c.get("p").asDouble(), c.get("key").asLong(), features, 0);
        Tensor stored = file(c, "mask", arena), gy = file(c, "gy", arena), gx = file(c, "gx", arena);
        int kept = 0;
        for (int n = 0; n < rows; n++) {
            for (int i = 0; i < features; i++) {
                float f = stored.get((long) n * features + i);
                assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits(mask.factor(n, i)),
                        name + ": the Python twin of DropoutMask disagrees at [" + n + "," + i + "]");
                if (f != 0) kept++;
            }
        }
        assertTrue(kept > 0 && kept < rows * features, name + ": the mask keeps " + kept + " of " + rows * features);
        Tensor rx = like(gx, arena);
        DropoutRef.backward(rx.data(), gy.data(), rows, features, mask);
        exact(name + " ref gx", rx.toArray(), gx.toArray());
        for (int members : new int[] {1, 3}) {
            Tensor vx = like(gx, arena);
            for (int m = 0; m < members; m++) DropoutVec.backward(vx.data(), gy.data(), rows, features, mask, m, members);
            exact(name + " vec/" + members + " gx", vx.toArray(), gx.toArray());
        }
    }

    private static void exact(String what, float[] got, float[] want) {
        assertEquals(want.length, got.length, what + ": size");
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", PyTorch " + want[i] + " (one rounding of the same product: must be exact)");
            }
        }
        REPORT.add(String.format("%-34s bit-exact (%d values)", what, got.length));
    }

    private static void softmaxCe(JsonNode c, Arena arena) {
        String name = c.get("name").asText();
        int rows = c.get("rows").asInt(), cols = c.get("cols").asInt();
        Tensor z = file(c, "z", arena), gz = file(c, "gz", arena);
        double torchLoss = c.get("loss").asDouble();
        MemorySegment labels = arena.allocate((long) rows * Integer.BYTES, 4);
        for (int r = 0; r < rows; r++) labels.setAtIndex(JAVA_INT, r, c.get("labels").get(r).asInt());
        float[] zs = z.toArray();
        // Per element: S_i = (|z_i - max| + |lse| + cols + 8) p_i / rows, so that m = 1 below; the loss's bound
        // is the row average of (|z_y - max| + |lse| + cols + 8) eps.
        float[] mag = new float[zs.length];
        double lossTol = 0;
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < cols; j++) max = Math.max(max, zs[r * cols + j]);
            for (int j = 0; j < cols; j++) sum += Math.exp(zs[r * cols + j] - max);
            double lse = Math.log(sum);
            for (int j = 0; j < cols; j++) {
                double t = zs[r * cols + j] - max;
                mag[r * cols + j] = (float) ((Math.abs(t) + Math.abs(lse) + cols + 8) * Math.exp(t - lse) / rows);
            }
            int y = c.get("labels").get(r).asInt();
            lossTol += (Math.abs(zs[r * cols + y] - max) + Math.abs(lse) + cols + 8) * EPS32 / rows;
        }
        Tensor rz = like(gz, arena);
        double loss = SoftmaxCrossEntropyRef.loss(z.data(), labels, rz.data(), rows, cols);
        assertEquals(torchLoss, loss, lossTol + Math.ulp((float) torchLoss), name + " ref loss");
        check(name + " ref gz", rz.toArray(), gz.toArray(), mag, 1, 1, KMAX_REF);
        Tensor vz = like(gz, arena);
        double vloss = SoftmaxCrossEntropyVec.lossSum(z.data(), labels, vz.data(), cols, 0, rows, 1f / rows) / rows;
        assertEquals(torchLoss, vloss, 2 * lossTol + Math.ulp((float) torchLoss), name + " vec loss");
        check(name + " vec gz", vz.toArray(), gz.toArray(), mag, 1, 2, KMAX_VEC);
        REPORT.add(String.format("%-34s loss torch %.9f ref %.9f (|d| %.2e) vec %.9f (|d| %.2e), bound %.2e", name + " loss",
                torchLoss, loss, Math.abs(loss - torchLoss), vloss, Math.abs(vloss - torchLoss), lossTol));
    }
}
