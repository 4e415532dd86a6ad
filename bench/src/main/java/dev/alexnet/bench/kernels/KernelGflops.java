package dev.alexnet.bench.kernels;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.vec.ConvVec;
import dev.alexnet.kernels.vec.LinearVec;
import dev.alexnet.kernels.vec.LrnVec;
import dev.alexnet.kernels.vec.MaxPoolVec;
import dev.alexnet.kernels.vec.Nhwc;
import dev.alexnet.kernels.vec.ThreadTeam;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Kernel-level tuning harness (not JMH: quick, one JVM, side by side): GFLOP/s of each AlexNet
 * convolution and fully connected layer on the vector kernels, straight on the internal layouts (no
 * NCHW reorders), GB/s of pooling and LRN, and whole-forward images/s through {@code JavaDevice(VECTOR)}.
 * Prints the median of {@code reps} timed runs after a warm-up that must reach the steady state
 * (the first and last warm-up times are printed so a stuck, C1-only kernel would show).
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
 *      -cp ... dev.alexnet.bench.kernels.KernelGflops [batches=1,32] [threads=1,2] [reps=7] [what=conv,fc,pool,lrn,net]
 *      [layers=conv1,conv3] [ab=6:2048]
 * </pre>
 * {@code ab=MR:KC[:PACKMINRUN]} runs each convolution also with {@code ConvVec.Tuning(MR, KC, PACKMINRUN)}, alternating with the
 * default rep by rep in the same JVM, and prints the median time ratio: on these shared machines only such
 * interleaved comparisons separate a few percent from the host's drift (the FMA loop moved 113-177 GFLOP/s
 * within minutes).
 */
public final class KernelGflops {
    /** One core's FP32 FMA peak: the best `bin/alexnet peak` reading on the project's machine (docs/DESIGN.md); the probe also prints the FMA loop measured now. */
    static final double PEAK_PER_CORE = 232.8;

    /** The paper network's convolutions (whole network, groups=2 where the towers do not talk). */
    static final List<LayerSpec.Conv> CONVS = AlexNetLayers.PAPER.layers().stream()
            .filter(LayerSpec.Conv.class::isInstance).map(LayerSpec.Conv.class::cast).toList();

    /** With {@code ab=MR:KC}: each convolution also runs with ConvVec.Tuning(MR, KC), interleaved rep by rep with the default. */
    static ConvVec.Tuning abTuning = null;
    /** With {@code layers=conv1,conv3}: only those convolutions. */
    static String layers = null;

    public static void main(String[] args) {
        int[] batches = {1, 32}, threads = {1, 2};
        int reps = 7;
        String what = "conv,fc,pool,lrn,net";
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "batches" -> batches = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "threads" -> threads = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "reps" -> reps = Integer.parseInt(kv[1]);
                case "what" -> what = kv[1];
                case "ab" -> {
                    String[] t = kv[1].split(":");
                    abTuning = new ConvVec.Tuning(Integer.parseInt(t[0]), Integer.parseInt(t[1]),
                            t.length > 2 ? Integer.parseInt(t[2]) : ConvVec.Tuning.PACK_MIN_RUN);
                }
                case "layers" -> layers = kv[1];
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        System.out.printf("species %d lanes; peak %.1f GFLOP/s per core%n", jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(), PEAK_PER_CORE);
        for (int i = 0; i < 3; i++) System.out.printf("FMA loop, this thread: %.1f GFLOP/s%n", fmaNow());
        for (int t : threads) {
            try (ThreadTeam team = new ThreadTeam(t)) {
                for (int n : batches) {
                    if (what.contains("conv")) for (LayerSpec.Conv c : CONVS) if (layers == null || Arrays.asList(layers.split(",")).contains(c.name())) conv(team, c, n, reps);
                    if (what.contains("fc")) {
                        fc(team, "fc6", 9216, 4096, n, reps);
                        fc(team, "fc7", 4096, 4096, n, reps);
                        fc(team, "fc8", 4096, 1000, n, reps);
                    }
                    if (what.contains("pool")) pool(team, n, reps);
                    if (what.contains("lrn")) lrn(team, n, reps);
                    if (what.contains("net")) net(t, n, reps);
                }
            }
        }
    }

    static void fill(MemorySegment s, long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < s.byteSize() / 4; i++) s.setAtIndex(Tensor.F32, i, (float) (r.nextDouble() - 0.5) * scale);
    }

    static final jdk.incubator.vector.VectorSpecies<Float> SP = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;

    /**
     * The FMA throughput this thread gets right now (16 independent chains, no memory): the machines are
     * shared, so each kernel figure is also given as a fraction of this, measured next to it.
     */
    static double fmaNow() {
        double best = 0;
        for (int r = 0; r < 5; r++) {
            long n = 2_000_000;
            long t0 = System.nanoTime();
            float f = fmaLoop(n);
            double s = (System.nanoTime() - t0) / 1e9;
            if (f == 42f) System.out.print("");
            best = Math.max(best, n * 16.0 * 2 * SP.length() / s / 1e9);
        }
        return best;
    }

    static float fmaLoop(long n) {
        var a = jdk.incubator.vector.FloatVector.broadcast(SP, 1.0001f);
        var b = jdk.incubator.vector.FloatVector.broadcast(SP, 0.9999f);
        var c0 = b; var c1 = b; var c2 = b; var c3 = b; var c4 = b; var c5 = b; var c6 = b; var c7 = b;
        var c8 = b; var c9 = b; var c10 = b; var c11 = b; var c12 = b; var c13 = b; var c14 = b; var c15 = b;
        for (long i = 0; i < n; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
            c12 = c12.fma(a, b); c13 = c13.fma(a, b); c14 = c14.fma(a, b); c15 = c15.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .add(c12).add(c13).add(c14).add(c15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** Runs {@code step} warm-up + reps times; returns the median seconds. */
    static double time(String label, int reps, Runnable step) {
        int warm = Math.max(3, reps);
        long first = 0, lastWarm = 0;
        for (int i = 0; i < warm; i++) {
            long t0 = System.nanoTime();
            step.run();
            long dt = System.nanoTime() - t0;
            if (i == 0) first = dt;
            lastWarm = dt;
        }
        double[] ts = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            step.run();
            ts[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(ts);
        System.out.printf("  %-34s warm-up first %.1f ms last %.2f ms; min %.2f ms median %.2f ms%n",
                label, first / 1e6, lastWarm / 1e6, ts[0] * 1e3, ts[reps / 2] * 1e3);
        return ts[reps / 2];
    }

    static void conv(ThreadTeam team, LayerSpec.Conv c, int n, int reps) {
        ConvShape s = c.shape(n);
        try (Arena arena = Arena.ofShared()) {
            Nhwc inL = new Nhwc(s.c(), s.h(), s.w(), s.padH(), s.padW()), outL = Nhwc.of(s.k(), s.p(), s.q());
            MemorySegment in = arena.allocate(n * inL.imageFloats() * 4, 64), out = arena.allocate(n * outL.imageFloats() * 4, 64);
            MemorySegment w = arena.allocate(s.weightSize() * 4, 64), b = arena.allocate(s.k() * 4L, 64);
            fill(in, 1, 2f);
            fill(w, 2, 0.1f);
            ConvVec k = new ConvVec(s, inL, outL, w, b, true, arena);
            ThreadTeam.Task task = (m, ms) -> k.forward(out, in, m, ms);
            if (abTuning != null) {
                ConvVec k2 = new ConvVec(s, inL, outL, w, b, true, arena, abTuning);
                ThreadTeam.Task task2 = (m, ms) -> k2.forward(out, in, m, ms);
                for (int i = 0; i < Math.max(3, reps); i++) { team.run(task); team.run(task2); }
                double[] ta = new double[reps], tb = new double[reps], ratio = new double[reps];
                for (int i = 0; i < reps; i++) {
                    long t0 = System.nanoTime();
                    team.run(task);
                    long t1 = System.nanoTime();
                    team.run(task2);
                    long t2 = System.nanoTime();
                    ta[i] = (t1 - t0) / 1e9;
                    tb[i] = (t2 - t1) / 1e9;
                    ratio[i] = ta[i] / tb[i];
                }
                Arrays.sort(ta);
                Arrays.sort(tb);
                Arrays.sort(ratio);
                System.out.printf("%s batch %d threads %d A/B: default %.1f GFLOP/s, %s %.1f GFLOP/s, median time ratio default/B %.3f; FMA loop now %.0f/core%n",
                        c.name(), n, team.size(), s.flops() / ta[reps / 2] / 1e9, abTuning, s.flops() / tb[reps / 2] / 1e9, ratio[reps / 2], fmaNow());
                return;
            }
            double sec = time(c.name() + " b" + n + " t" + team.size(), reps, () -> team.run(task));
            double gf = s.flops() / sec / 1e9, now = fmaNow();
            System.out.printf("%s batch %d threads %d: %.1f GFLOP/s = %.0f%% of %d-core peak; FMA loop now %.0f/core -> %.0f%% of that%n",
                    c.name(), n, team.size(), gf, 100 * gf / (PEAK_PER_CORE * team.size()), team.size(), now, 100 * gf / (now * team.size()));
        }
    }

    static void fc(ThreadTeam team, String name, int in, int out, int n, int reps) {
        try (Arena arena = Arena.ofShared()) {
            var s = new dev.alexnet.kernels.LinearShape(n, in, out);
            MemorySegment x = arena.allocate((long) n * in * 4, 64), y = arena.allocate((long) n * out * 4, 64);
            MemorySegment w = arena.allocate((long) in * out * 4, 64), b = arena.allocate(out * 4L, 64);
            fill(x, 3, 2f);
            fill(w, 4, 0.01f);
            LinearVec k = new LinearVec(s, w, b, true, null, arena);
            ThreadTeam.Task task = (m, ms) -> k.forward(y, x, m, ms);
            double sec = time(name + " b" + n + " t" + team.size(), reps, () -> team.run(task));
            System.out.printf("%s batch %d threads %d: %.1f GFLOP/s, weights %.1f GB/s%n", name, n, team.size(), s.flops() / sec / 1e9,
                    (double) in * out * 4 / sec / 1e9);
        }
    }

    /** The paper network's layer {@code name} (whole network). */
    static <T extends LayerSpec> T paperLayer(String name, Class<T> kind) {
        return AlexNetLayers.PAPER.layers().stream().filter(l -> l.name().equals(name)).map(kind::cast).findFirst().orElseThrow();
    }

    static void pool(ThreadTeam team, int n, int reps) {
        PoolShape s = paperLayer("pool1", LayerSpec.MaxPool.class).shape(n);
        try (Arena arena = Arena.ofShared()) {
            Nhwc inL = Nhwc.of(s.c(), s.h(), s.w()), outL = Nhwc.of(s.c(), s.p(), s.q());
            MemorySegment in = arena.allocate(n * inL.imageFloats() * 4, 64), out = arena.allocate(n * outL.imageFloats() * 4, 64);
            fill(in, 5, 2f);
            ThreadTeam.Task task = (m, ms) -> MaxPoolVec.forward(out, outL, in, inL, s, m, ms);
            double sec = time("pool1 b" + n + " t" + team.size(), reps, () -> team.run(task));
            System.out.printf("pool1 batch %d threads %d: %.1f GB/s (input read once + output written)%n", n, team.size(),
                    (s.inputSize() + s.outputSize()) * 4 / sec / 1e9);
        }
    }

    static void lrn(ThreadTeam team, int n, int reps) {
        LrnShape s = paperLayer("lrn1", LayerSpec.Lrn.class).shape(n); // 96x55x55, per tower
        try (Arena arena = Arena.ofShared()) {
            Nhwc l = Nhwc.of(s.c(), s.h(), s.w());
            MemorySegment in = arena.allocate(n * l.imageFloats() * 4, 64), out = arena.allocate(n * l.imageFloats() * 4, 64);
            MemorySegment[] scratch = LrnVec.scratch(arena, s, team.size());
            fill(in, 6, 4f);
            ThreadTeam.Task task = (m, ms) -> LrnVec.forward(out, l, in, l, s, scratch, m, ms);
            double sec = time("lrn1 b" + n + " t" + team.size(), reps, () -> team.run(task));
            System.out.printf("lrn1 batch %d threads %d: %.1f GB/s%n", n, team.size(), 2.0 * s.size() * 4 / sec / 1e9);
        }
    }

    /** The paper AlexNet ({@link AlexNetLayers#PAPER}: LRN per tower) and a softmax, with random weights. */
    public static List<Layer> alexnet(Arena arena) {
        List<LayerSpec> specs = new ArrayList<>(AlexNetLayers.PAPER.layers());
        specs.add(new LayerSpec.Softmax("prob", AlexNetLayers.PAPER.classes()));
        List<Layer> layers = new ArrayList<>();
        long seed = 10;
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) {
                layers.add(Layer.of(s));
                continue;
            }
            Tensor w = Tensor.allocate(arena, ws), b = Tensor.allocate(arena, ws[0]);
            fill(w.data(), seed++, 0.02f);
            fill(b.data(), seed++, 0.2f);
            layers.add(new Layer(s, w, b));
        }
        return layers;
    }

    static void net(int threads, int n, int reps) {
        try (Arena arena = Arena.ofShared(); JavaDevice d = new JavaDevice(threads, JavaDevice.Kernels.VECTOR)) {
            List<Layer> layers = alexnet(arena);
            Program p = d.compile(layers, n);
            MemorySegment in = arena.allocate(p.inputFloats() * 4, 64), out = arena.allocate(p.outputFloats() * 4, 64);
            fill(in, 99, 2f);
            double sec = time("alexnet b" + n + " t" + threads, reps, () -> p.run(in, out));
            System.out.printf("alexnet batch %d threads %d: %.1f images/s (%.1f GFLOP/s)%n", n, threads, n / sec, n * 1.449 / sec);
            // Per-layer split of one run (wall time per layer, reorders included in their layer).
            StringBuilder sb = new StringBuilder("  per layer ms:");
            p.run(in, out, (layer, nanos) -> sb.append(String.format(" %s %.2f", layer, nanos / 1e6)));
            System.out.println(sb);
        }
    }
}
