package dev.alexnet.kernels;

import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.vec.ConvTrainVec;
import dev.alexnet.kernels.vec.LinearTrainVec;
import dev.alexnet.kernels.vec.ThreadTeam;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Training kernels of convolution and fully connected layers.
 *
 * <p>References against central finite differences: the loss is L = sum_j g_j * out_j with a fixed random
 * g, out from a double-precision forward (the formula of ConvRef/LinearRef, in double); L is linear in each
 * of input, weights and bias, so the central difference (L(x+h) - L(x-h)) / 2h has no truncation error and
 * differs from the exact derivative only by the double roundings of the two L: each is a sum of at most
 * T = (reduction length + 1) * outputs products, within T * 2^-53 * M of exact, M = L evaluated on
 * magnitudes; so the difference is within T * 2^-53 * M / h. The reference's result is a double sum rounded
 * to float: within u |exact| plus a double-rounding term of the same kind. Hence tol = 2u |fd| + 2 T 2^-53 M / h.
 *
 * <p>Vector kernels against the references: every element is a float sum of at most T products (T = the
 * reduction length: C/G*R*S forward, K/G*R*S backward data, N*P*Q backward weights and bias), in some
 * order, plus at most {@code members} float additions of partial sums and one bias addition. Any order of
 * float summation of T' terms is within (T' - 1) u sum|terms| of the exact sum (Higham 4.2); the reference is
 * within u |ref| of exact. So tol = c * (T + members + 2) * u * sum|a*b| with c = 1; sum|a*b| is the
 * reference run on |a| and |b|. Outputs start as NaN so an element that is never written fails.
 */
class ConvLinearBackwardTest {
    static final double U = Math.ulp(1f) / 2;

    // ---------------------------------------------------------------------------------- helpers

    static MemorySegment random(Arena arena, Random rnd, long floats) {
        MemorySegment m = arena.allocate(Math.max(1, floats) * 4, 64);
        for (long i = 0; i < floats; i++) m.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
        return m;
    }

    static MemorySegment nan(Arena arena, long floats) {
        MemorySegment m = arena.allocate(floats * 4, 64);
        for (long i = 0; i < floats; i++) m.setAtIndex(JAVA_FLOAT, i, Float.NaN);
        return m;
    }

    static MemorySegment abs(Arena arena, MemorySegment m, long floats) {
        MemorySegment a = arena.allocate(floats * 4, 64);
        for (long i = 0; i < floats; i++) a.setAtIndex(JAVA_FLOAT, i, Math.abs(m.getAtIndex(JAVA_FLOAT, i)));
        return a;
    }

    static double[] toDouble(MemorySegment m, long floats) {
        double[] d = new double[(int) floats];
        for (int i = 0; i < d.length; i++) d[i] = m.getAtIndex(JAVA_FLOAT, i);
        return d;
    }

    /** |got - want| <= factor * mag[i] everywhere, first failures reported. */
    static void assertClose(String what, MemorySegment want, MemorySegment got, MemorySegment mag, double factor, long floats) {
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (long i = 0; i < floats; i++) {
            double w = want.getAtIndex(JAVA_FLOAT, i), g = got.getAtIndex(JAVA_FLOAT, i);
            double tol = factor * mag.getAtIndex(JAVA_FLOAT, i);
            if (!(Math.abs(g - w) <= tol) && bad++ < 5) sb.append(String.format("%n  [%d] want %s got %s (tol %.3g)", i, w, g, tol));
        }
        if (bad > 0) fail(what + ": " + bad + " of " + floats + " outside tolerance" + sb);
    }

    static void assertSameBits(String what, MemorySegment a, MemorySegment b, long floats) {
        long m = a.asSlice(0, floats * 4).mismatch(b.asSlice(0, floats * 4));
        if (m >= 0) fail(what + ": differs at float " + m / 4);
    }

    // ------------------------------------------------------------- double forwards for finite differences

    static double[] convForward(double[] in, double[] w, double[] b, ConvShape s) {
        int P = s.p(), Q = s.q(), cg = s.cg(), kg = s.kg();
        double[] out = new double[(int) s.outputSize()];
        for (int n = 0; n < s.n(); n++)
            for (int k = 0; k < s.k(); k++) {
                int c0 = (k / kg) * cg;
                for (int p = 0; p < P; p++)
                    for (int q = 0; q < Q; q++) {
                        double acc = b == null ? 0 : b[k];
                        for (int c = 0; c < cg; c++)
                            for (int r = 0; r < s.r(); r++) {
                                int y = p * s.strideH() - s.padH() + r;
                                if (y < 0 || y >= s.h()) continue;
                                for (int t = 0; t < s.s(); t++) {
                                    int x = q * s.strideW() - s.padW() + t;
                                    if (x < 0 || x >= s.w()) continue;
                                    acc += in[((n * s.c() + c0 + c) * s.h() + y) * s.w() + x] * w[((k * cg + c) * s.r() + r) * s.s() + t];
                                }
                            }
                        out[((n * s.k() + k) * P + p) * Q + q] = acc;
                    }
            }
        return out;
    }

    static double[] linearForward(double[] in, double[] w, double[] b, LinearShape s) {
        double[] out = new double[s.n() * s.out()];
        for (int n = 0; n < s.n(); n++)
            for (int o = 0; o < s.out(); o++) {
                double acc = b == null ? 0 : b[o];
                for (int i = 0; i < s.in(); i++) acc += in[n * s.in() + i] * w[o * s.in() + i];
                out[n * s.out() + o] = acc;
            }
        return out;
    }

    interface Forward { double[] run(double[] in, double[] w, double[] b); }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Central differences of L = g . f(in, w, b) for every element of {@code which} (0 in, 1 w, 2 b) vs {@code got}. */
    static void checkFd(String what, Forward f, double[] in, double[] w, double[] b, double[] g, int which, MemorySegment got, double terms) {
        double h = 1.0 / 64;
        double mag = dot(abs(g), f.run(abs(in), abs(w), b == null ? null : abs(b)));
        double fdTol = 2 * terms * Math.ulp(1.0) / 2 * mag / h;
        double[] x = which == 0 ? in : which == 1 ? w : b;
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double lp = dot(g, f.run(in, w, b));
            x[i] = keep - h;
            double lm = dot(g, f.run(in, w, b));
            x[i] = keep;
            double fd = (lp - lm) / (2 * h);
            double v = got.getAtIndex(JAVA_FLOAT, i);
            double tol = 2 * U * Math.abs(fd) + fdTol;
            if (!(Math.abs(v - fd) <= tol) && bad++ < 5) sb.append(String.format("%n  [%d] fd %s got %s (tol %.3g)", i, fd, v, tol));
        }
        if (bad > 0) fail(what + ": " + bad + " of " + x.length + " off the finite differences" + sb);
    }

    static double[] abs(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = Math.abs(a[i]);
        return r;
    }

    // --------------------------------------------------------------------- references vs finite differences

    @Test
    void convReferenceMatchesFiniteDifferences() {
        Random rnd = new Random(1);
        List<ConvShape> shapes = List.of(
                new ConvShape(2, 3, 7, 6, 4, 3, 2, 1, 1, 1, 0, 1),
                new ConvShape(1, 4, 9, 8, 6, 3, 3, 2, 3, 1, 2, 2),
                new ConvShape(2, 6, 5, 5, 3, 2, 2, 1, 1, 0, 1, 3),
                ConvShape.of(1, 2, 11, 11, 2, 5, 4, 0, 1));
        for (ConvShape s : shapes) {
            for (boolean withBias : new boolean[]{true, false}) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment in = random(arena, rnd, s.inputSize()), w = random(arena, rnd, s.weightSize());
                    MemorySegment b = withBias ? random(arena, rnd, s.k()) : null, go = random(arena, rnd, s.outputSize());
                    MemorySegment gi = nan(arena, s.inputSize()), gw = nan(arena, s.weightSize()), gb = withBias ? nan(arena, s.k()) : null;
                    ConvRef.backwardData(gi, go, w, s);
                    ConvRef.backwardWeights(gw, gb, in, go, s);
                    double[] din = toDouble(in, s.inputSize()), dw = toDouble(w, s.weightSize()), dg = toDouble(go, s.outputSize());
                    double[] db = withBias ? toDouble(b, s.k()) : null;
                    double terms = (double) (s.cg() * s.r() * s.s() + 1) * s.outputSize();
                    Forward f = (x, y, z) -> convForward(x, y, z, s);
                    checkFd(s + " data", f, din, dw, db, dg, 0, gi, terms);
                    checkFd(s + " weights", f, din, dw, db, dg, 1, gw, terms);
                    if (withBias) checkFd(s + " bias", f, din, dw, db, dg, 2, gb, terms);
                }
            }
        }
    }

    @Test
    void linearReferenceMatchesFiniteDifferences() {
        Random rnd = new Random(2);
        for (LinearShape s : List.of(new LinearShape(3, 7, 5), new LinearShape(1, 4, 9))) {
            for (boolean withBias : new boolean[]{true, false}) {
                try (Arena arena = Arena.ofConfined()) {
                    long ni = (long) s.n() * s.in(), no = (long) s.n() * s.out(), nw = (long) s.in() * s.out();
                    MemorySegment in = random(arena, rnd, ni), w = random(arena, rnd, nw), go = random(arena, rnd, no);
                    MemorySegment b = withBias ? random(arena, rnd, s.out()) : null;
                    MemorySegment gi = nan(arena, ni), gw = nan(arena, nw), gb = withBias ? nan(arena, s.out()) : null;
                    LinearRef.backwardData(gi, go, w, s);
                    LinearRef.backwardWeights(gw, gb, in, go, s);
                    double[] din = toDouble(in, ni), dw = toDouble(w, nw), dg = toDouble(go, no), db = withBias ? toDouble(b, s.out()) : null;
                    double terms = (double) (s.in() + 1) * s.n() * s.out();
                    Forward f = (x, y, z) -> linearForward(x, y, z, s);
                    checkFd(s + " data", f, din, dw, db, dg, 0, gi, terms);
                    checkFd(s + " weights", f, din, dw, db, dg, 1, gw, terms);
                    if (withBias) checkFd(s + " bias", f, din, dw, db, dg, 2, gb, terms);
                }
            }
        }
    }

    // ------------------------------------------------------------------------ vector vs reference

    /** All four conv passes for one member count, members run one after another. */
    record ConvResults(MemorySegment out, MemorySegment gi, MemorySegment gw, MemorySegment gb) {}

    static ConvResults runConv(Arena arena, ConvTrainVec k, ConvShape s, MemorySegment in, MemorySegment w, MemorySegment b,
                               MemorySegment go, boolean relu, int members, ThreadTeam team) {
        MemorySegment out = nan(arena, s.outputSize()), gi = nan(arena, s.inputSize()), gw = nan(arena, s.weightSize());
        MemorySegment gb = b == null ? null : nan(arena, s.k());
        if (team != null) {
            team.run((m, ms) -> k.forward(out, in, w, b, relu, m, ms));
            team.run((m, ms) -> k.backwardData(gi, go, w, m, ms));
            team.run((m, ms) -> k.backwardWeights(in, go, m, ms));
            team.run((m, ms) -> k.reduceWeights(gw, gb, m, ms));
        } else {
            for (int m = 0; m < members; m++) k.forward(out, in, w, b, relu, m, members);
            for (int m = 0; m < members; m++) k.backwardData(gi, go, w, m, members);
            for (int m = 0; m < members; m++) k.backwardWeights(in, go, m, members);
            for (int m = 0; m < members; m++) k.reduceWeights(gw, gb, m, members);
        }
        return new ConvResults(out, gi, gw, gb);
    }

    static void checkConv(Random rnd, ConvShape s, boolean withBias, boolean relu, int... memberCounts) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = random(arena, rnd, s.inputSize()), w = random(arena, rnd, s.weightSize());
            MemorySegment b = withBias ? random(arena, rnd, s.k()) : null, go = random(arena, rnd, s.outputSize());
            MemorySegment rOut = nan(arena, s.outputSize()), rGi = nan(arena, s.inputSize()), rGw = nan(arena, s.weightSize());
            MemorySegment rGb = nan(arena, s.k());
            ConvRef.forward(rOut, in, w, b, s, relu);
            ConvRef.backwardData(rGi, go, w, s);
            ConvRef.backwardWeights(rGw, rGb, in, go, s);
            // sums of |products|: the references on magnitudes (the ReLU only lowers the error)
            MemorySegment aIn = abs(arena, in, s.inputSize()), aW = abs(arena, w, s.weightSize()), aGo = abs(arena, go, s.outputSize());
            MemorySegment aB = withBias ? abs(arena, b, s.k()) : null;
            MemorySegment mOut = nan(arena, s.outputSize()), mGi = nan(arena, s.inputSize()), mGw = nan(arena, s.weightSize()), mGb = nan(arena, s.k());
            ConvRef.forward(mOut, aIn, aW, aB, s, false);
            ConvRef.backwardData(mGi, aGo, aW, s);
            ConvRef.backwardWeights(mGw, mGb, aIn, aGo, s);
            int maxMembers = 0;
            for (int m : memberCounts) maxMembers = Math.max(maxMembers, m);
            ConvTrainVec k = new ConvTrainVec(s, maxMembers, arena);
            for (int members : memberCounts) {
                String what = s + " bias=" + withBias + " relu=" + relu + " members=" + members;
                ConvResults r = runConv(arena, k, s, in, w, b, go, relu, members, null);
                assertClose(what + " forward", rOut, r.out(), mOut, (s.cg() * s.r() * s.s() + members + 2) * U, s.outputSize());
                assertClose(what + " backward data", rGi, r.gi(), mGi, (s.kg() * s.r() * s.s() + members + 2) * U, s.inputSize());
                double tw = ((double) s.n() * s.p() * s.q() + members + 2) * U;
                assertClose(what + " backward weights", rGw, r.gw(), mGw, tw, s.weightSize());
                if (withBias) assertClose(what + " bias gradient", rGb, r.gb(), mGb, tw, s.k());
                // the same member count again: bitwise the same (no state kept between calls)
                ConvResults again = runConv(arena, k, s, in, w, b, go, relu, members, null);
                assertSameBits(what + " forward repeat", r.out(), again.out(), s.outputSize());
                assertSameBits(what + " data repeat", r.gi(), again.gi(), s.inputSize());
                assertSameBits(what + " weights repeat", r.gw(), again.gw(), s.weightSize());
                if (withBias) assertSameBits(what + " bias repeat", r.gb(), again.gb(), s.k());
            }
        }
    }

    @Test
    void convVectorMatchesReference() {
        Random rnd = new Random(3);
        List<ConvShape> shapes = List.of(
                new ConvShape(3, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1),     // odd sizes, pad 1
                new ConvShape(2, 4, 17, 15, 6, 5, 4, 2, 2, 2, 1, 2),    // stride 2, groups 2, rectangular kernel
                new ConvShape(1, 6, 23, 23, 9, 11, 11, 4, 4, 0, 0, 3),  // conv1-like stride 4, groups 3
                new ConvShape(2, 9, 6, 7, 12, 1, 1, 1, 1, 0, 0, 3),     // 1x1
                new ConvShape(2, 5, 5, 5, 3, 5, 5, 1, 1, 2, 2, 1),      // kernel = input, pad 2
                new ConvShape(1, 16, 14, 13, 40, 3, 3, 1, 1, 1, 1, 2),  // full tiles and tails over several panels
                new ConvShape(3, 2, 40, 9, 7, 3, 2, 1, 2, 0, 1, 1));    // more pixels than a panel block
        for (ConvShape s : shapes) {
            checkConv(rnd, s, true, true, 1, 2, 3);
            checkConv(rnd, s, false, false, 2);
        }
        // batch 1, many members: members without units must still overwrite their partial sums
        checkConv(rnd, new ConvShape(1, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 2), true, false, 3, 1);
    }

    @Test
    void convOnThreadTeamEqualsSequentialMembers() {
        Random rnd = new Random(4);
        ConvShape s = new ConvShape(3, 6, 13, 12, 10, 3, 3, 1, 1, 1, 1, 2);
        try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(2)) {
            MemorySegment in = random(arena, rnd, s.inputSize()), w = random(arena, rnd, s.weightSize());
            MemorySegment b = random(arena, rnd, s.k()), go = random(arena, rnd, s.outputSize());
            ConvTrainVec k = new ConvTrainVec(s, 2, arena);
            ConvResults seq = runConv(arena, k, s, in, w, b, go, true, 2, null);
            ConvResults par = runConv(arena, k, s, in, w, b, go, true, 2, team);
            assertSameBits("forward", seq.out(), par.out(), s.outputSize());
            assertSameBits("backward data", seq.gi(), par.gi(), s.inputSize());
            assertSameBits("backward weights", seq.gw(), par.gw(), s.weightSize());
            assertSameBits("bias gradient", seq.gb(), par.gb(), s.k());
        }
    }

    record LinearResults(MemorySegment out, MemorySegment gi, MemorySegment gw, MemorySegment gb) {}

    static LinearResults runLinear(Arena arena, LinearTrainVec k, LinearShape s, MemorySegment in, MemorySegment w, MemorySegment b,
                                   MemorySegment go, boolean relu, int members, ThreadTeam team) {
        long ni = (long) s.n() * s.in(), no = (long) s.n() * s.out(), nw = (long) s.in() * s.out();
        MemorySegment out = nan(arena, no), gi = nan(arena, ni), gw = nan(arena, nw), gb = b == null ? null : nan(arena, s.out());
        if (team != null) {
            team.run((m, ms) -> k.forward(out, in, w, b, relu, m, ms));
            team.run((m, ms) -> k.backwardData(gi, go, w, m, ms));
            team.run((m, ms) -> k.backwardWeights(gw, gb, in, go, m, ms));
        } else {
            for (int m = 0; m < members; m++) k.forward(out, in, w, b, relu, m, members);
            for (int m = 0; m < members; m++) k.backwardData(gi, go, w, m, members);
            for (int m = 0; m < members; m++) k.backwardWeights(gw, gb, in, go, m, members);
        }
        return new LinearResults(out, gi, gw, gb);
    }

    static void checkLinear(Random rnd, LinearShape s, boolean withBias, boolean relu, int... memberCounts) {
        try (Arena arena = Arena.ofShared()) {
            long ni = (long) s.n() * s.in(), no = (long) s.n() * s.out(), nw = (long) s.in() * s.out();
            MemorySegment in = random(arena, rnd, ni), w = random(arena, rnd, nw), go = random(arena, rnd, no);
            MemorySegment b = withBias ? random(arena, rnd, s.out()) : null;
            MemorySegment rOut = nan(arena, no), rGi = nan(arena, ni), rGw = nan(arena, nw), rGb = nan(arena, s.out());
            LinearRef.forward(rOut, in, w, b, s, relu);
            LinearRef.backwardData(rGi, go, w, s);
            LinearRef.backwardWeights(rGw, rGb, in, go, s);
            MemorySegment aIn = abs(arena, in, ni), aW = abs(arena, w, nw), aGo = abs(arena, go, no), aB = withBias ? abs(arena, b, s.out()) : null;
            MemorySegment mOut = nan(arena, no), mGi = nan(arena, ni), mGw = nan(arena, nw), mGb = nan(arena, s.out());
            LinearRef.forward(mOut, aIn, aW, aB, s, false);
            LinearRef.backwardData(mGi, aGo, aW, s);
            LinearRef.backwardWeights(mGw, mGb, aIn, aGo, s);
            int maxMembers = 0;
            for (int m : memberCounts) maxMembers = Math.max(maxMembers, m);
            LinearTrainVec k = new LinearTrainVec(s, maxMembers, arena);
            LinearResults first = null;
            for (int members : memberCounts) {
                String what = s + " bias=" + withBias + " relu=" + relu + " members=" + members;
                LinearResults r = runLinear(arena, k, s, in, w, b, go, relu, members, null);
                assertClose(what + " forward", rOut, r.out(), mOut, (s.in() + members + 2) * U, no);
                assertClose(what + " backward data", rGi, r.gi(), mGi, (s.out() + members + 2) * U, ni);
                assertClose(what + " backward weights", rGw, r.gw(), mGw, (s.n() + members + 2) * U, nw);
                if (withBias) assertClose(what + " bias gradient", rGb, r.gb(), mGb, (s.n() + members + 2) * U, s.out());
                // splits are in whole tiles: every member count gives the same bits
                if (first == null) first = r;
                else {
                    assertSameBits(what + " forward vs first", first.out(), r.out(), no);
                    assertSameBits(what + " data vs first", first.gi(), r.gi(), ni);
                    assertSameBits(what + " weights vs first", first.gw(), r.gw(), nw);
                }
            }
        }
    }

    @Test
    void linearVectorMatchesReference() {
        Random rnd = new Random(5);
        List<LinearShape> shapes = List.of(new LinearShape(1, 1, 1), new LinearShape(3, 37, 19), new LinearShape(32, 300, 70),
                new LinearShape(7, 513, 9), new LinearShape(33, 100, 257), new LinearShape(50, 17, 40));
        for (LinearShape s : shapes) {
            checkLinear(rnd, s, true, true, 1, 2, 3);
            checkLinear(rnd, s, false, false, 2);
        }
    }

    @Test
    void linearOnThreadTeamEqualsSequentialMembers() {
        Random rnd = new Random(6);
        LinearShape s = new LinearShape(20, 130, 90);
        try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(2)) {
            long ni = (long) s.n() * s.in(), no = (long) s.n() * s.out(), nw = (long) s.in() * s.out();
            MemorySegment in = random(arena, rnd, ni), w = random(arena, rnd, nw), go = random(arena, rnd, no), b = random(arena, rnd, s.out());
            LinearTrainVec k = new LinearTrainVec(s, 2, arena);
            LinearResults seq = runLinear(arena, k, s, in, w, b, go, true, 2, null);
            LinearResults par = runLinear(arena, k, s, in, w, b, go, true, 2, team);
            assertSameBits("forward", seq.out(), par.out(), no);
            assertSameBits("backward data", seq.gi(), par.gi(), ni);
            assertSameBits("backward weights", seq.gw(), par.gw(), nw);
            assertSameBits("bias gradient", seq.gb(), par.gb(), s.out());
        }
    }

    /** AlexNet-sized layers at batch 2: conv1 (stride 4), conv2 (groups 2, pad 2), fc8, with 2 members. */
    @Test
    void alexNetLayersAtBatchTwo() {
        Random rnd = new Random(8);
        checkConv(rnd, ConvShape.of(2, 3, 227, 227, 96, 11, 4, 0, 1), true, true, 2);
        checkConv(rnd, ConvShape.of(2, 96, 27, 27, 256, 5, 1, 2, 2), true, true, 2);
        checkLinear(rnd, new LinearShape(2, 4096, 1000), true, false, 2);
    }

    /** fc6's reduction (9216 inputs, many K blocks) at a training batch of 32, on a slice of its outputs. */
    @Test
    void fc6ReductionAtBatch32() {
        checkLinear(new Random(9), new LinearShape(32, 9216, 136), true, true, 2);
    }

    @Test
    void badArgumentsAreRefused() {
        ConvShape s = new ConvShape(1, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1);
        try (Arena arena = Arena.ofConfined()) {
            ConvTrainVec k = new ConvTrainVec(s, 2, arena);
            MemorySegment small = arena.allocate(4, 64), ok = arena.allocate(s.inputSize() * 4, 64);
            MemorySegment w = arena.allocate(s.weightSize() * 4, 64), out = arena.allocate(s.outputSize() * 4, 64);
            assertThrows(IllegalArgumentException.class, () -> k.forward(out, small, w, null, false, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> k.forward(out, ok, w, null, false, 0, 3));
            assertThrows(IllegalArgumentException.class, () -> k.backwardData(small, out, w, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> ConvRef.backwardWeights(small, null, ok, out, s));
            LinearShape ls = new LinearShape(2, 3, 4);
            LinearTrainVec lk = new LinearTrainVec(ls, 1, arena);
            assertThrows(IllegalArgumentException.class, () -> lk.backwardWeights(small, null, ok, ok, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> LinearRef.backwardData(small, ok, ok, ls));
            assertThrows(IllegalArgumentException.class, () -> new ConvTrainVec(s, 0, arena));
        }
        assertTrue(true);
    }
}
