package dev.alexnet.kernels.vec;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.device.java.TestPrograms;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Helpers for the vector-vs-reference tests. Tolerances are derived from the arithmetic: with unit
 * roundoff u = 2^-24, a float sum of K products accumulated with FMA (one rounding per step) differs
 * from the exact (double) sum by at most (K + 1) u sum|a*b| (Higham, recursive summation), plus u for
 * rounding the reference's double result to float: hence {@code (K + 2) * U * sum|a*b|}, where sum|a*b|
 * comes from running the reference itself on |a| and |b|.
 */
final class VecTestSupport {
    private VecTestSupport() {}

    /** Unit roundoff of float32 (half an ulp of 1). */
    static final double U = Math.ulp(1f) / 2;

    static Tensor random(Arena arena, Random rnd, float scale, int... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.size(); i++) t.set(i, (float) (rnd.nextGaussian() * scale));
        return t;
    }

    static Tensor abs(Arena arena, Tensor t) {
        Tensor a = Tensor.allocate(arena, t.shape());
        for (long i = 0; i < t.size(); i++) a.set(i, Math.abs(t.get(i)));
        return a;
    }

    /**
     * Runs {@code layers} on a fresh Java device of the given kind, NCHW in and out, twice. Input and output
     * live in a shared arena (as a multi-threaded caller's would), so every step runs split across the threads;
     * for the vector kernels the team's counters prove it: each member runs the same number of tasks, at least
     * one per layer and run. The output is refilled with NaN before each run, so a run that skips a write
     * fails, and the two runs must agree bit for bit (a program keeps no state between runs).
     * Convolutions are direct everywhere: the tolerances of these tests are derived for direct summation
     * (WinogradVecTest holds the Winograd path to its own bound).
     */
    static float[] runDevice(JavaDevice.Kernels kind, int threads, List<Layer> layers, int batch, MemorySegment input) {
        return runDevice(kind, threads, new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT), layers, batch, input);
    }

    /** As above with the given options. */
    static float[] runDevice(JavaDevice.Kernels kind, int threads, JavaDevice.Options options, List<Layer> layers, int batch, MemorySegment input) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = arena.allocate(input.byteSize(), 64).copyFrom(input);
            if (kind == JavaDevice.Kernels.REFERENCE) {
                try (JavaDevice d = new JavaDevice(threads, kind, options); Program p = d.compile(layers, batch)) {
                    return runTwice(p, in, arena);
                }
            }
            try (ThreadTeam team = new ThreadTeam(threads); Program p = TestPrograms.vector(layers, batch, team, options)) {
                float[] got = runTwice(p, in, arena);
                for (int m = 0; m < threads; m++) {
                    long tasks = team.tasksRun(m);
                    if (tasks != team.tasksRun(0) || tasks < 2L * layers.size()) {
                        fail("member " + m + " of " + threads + " ran " + tasks + " tasks, member 0 ran " + team.tasksRun(0)
                                + ", want equal counts of at least " + 2 * layers.size() + ": a step was not split");
                    }
                }
                return got;
            }
        }
    }

    private static float[] runTwice(Program p, MemorySegment in, Arena arena) {
        MemorySegment out = arena.allocate(p.outputFloats() * Float.BYTES, 64);
        out.fill((byte) 0xff); // NaN: every output must be written
        p.run(in, out);
        float[] first = out.toArray(JAVA_FLOAT);
        out.fill((byte) 0xff); // again: a second run must write everything too
        p.run(in, out);
        float[] second = out.toArray(JAVA_FLOAT);
        for (int i = 0; i < first.length; i++) {
            if (Float.floatToRawIntBits(first[i]) != Float.floatToRawIntBits(second[i])) {
                fail("run 2 differs from run 1 at [" + i + "]: " + second[i] + " vs " + first[i]);
            }
        }
        return second;
    }

    /** |got - want| <= tol[i] everywhere (tol == null: exact), with the first few failures reported. */
    static void assertClose(String what, float[] want, float[] got, double[] tol) {
        if (want.length != got.length) fail(what + ": " + got.length + " values, want " + want.length);
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < want.length; i++) {
            double t = tol == null ? 0 : tol[i];
            boolean ok = Float.isNaN(want[i]) ? Float.isNaN(got[i]) : Math.abs((double) got[i] - want[i]) <= t;
            if (!ok) {
                if (bad++ < 5) sb.append(String.format("%n  [%d] want %s got %s (tol %.3g)", i, want[i], got[i], t));
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + want.length + " outside tolerance" + sb);
    }

    static double[] scaled(float[] magnitude, double factor) {
        double[] t = new double[magnitude.length];
        for (int i = 0; i < t.length; i++) t[i] = factor * magnitude[i];
        return t;
    }

    /** Max pooling as a one-layer vector program against {@link MaxPoolRef}: exact (max does not round). */
    static void checkPool(Random rnd, int n, int c, int h, int w, int kernel, int stride, int pad, int threads) {
        try (Arena arena = Arena.ofShared()) {
            LayerSpec.MaxPool spec = new LayerSpec.MaxPool("pool", c, h, w, kernel, stride, pad);
            PoolShape s = spec.shape(n);
            Tensor x = random(arena, rnd, 1f, n, c, h, w);
            MemorySegment want = arena.allocate(s.outputSize() * 4);
            MaxPoolRef.forward(want, x.data(), s);
            assertClose(s + " threads=" + threads, want.toArray(JAVA_FLOAT),
                    runDevice(JavaDevice.Kernels.VECTOR, threads, List.of(Layer.of(spec)), n, x.data()), null);
        }
    }

    static MemorySegment segment(Arena arena, float[] v) {
        MemorySegment s = arena.allocate((long) v.length * Float.BYTES, 64);
        MemorySegment.copy(v, 0, s, JAVA_FLOAT, 0, v.length);
        return s;
    }
}
