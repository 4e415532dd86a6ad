package dev.alexnet.bench.kernels;

import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.vec.ConvTrainVec;
import dev.alexnet.kernels.vec.LinearTrainVec;
import dev.alexnet.kernels.vec.ThreadTeam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * GFLOP/s of the training kernels ({@link ConvTrainVec}, {@link LinearTrainVec}) on every AlexNet convolution
 * and fully connected layer: forward, backward data, backward weights (both phases), NCHW, one or more
 * threads. Prints the median of {@code reps} timed runs after {@code warmup} untimed ones, the percentage of
 * the one-core peak ({@code peak=} GFLOP/s per core, default {@link KernelGflops#PEAK_PER_CORE}), and the
 * sum over all layers as training-step images/s (these layers only: no pooling, LRN, ReLU masks or update).
 * The CPU time of the calling thread (member 0, which also spins briefly while it waits for the others) is
 * printed beside the wall time, with GFLOP/s per thread from it (flop / threads / CPU time): on a host shared
 * with other jobs it is the figure that the other jobs disturb less (they still share the caches).
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
 *      -cp ... dev.alexnet.bench.kernels.TrainKernelGflops [batch=32] [threads=1,2] [reps=5] [warmup=3] [layers=conv1,fc6]
 * </pre>
 */
public final class TrainKernelGflops {
    private TrainKernelGflops() {}

    record Layer(String name, ConvShape conv, LinearShape fc) {}

    static List<Layer> layers(int n) {
        return List.of(
                new Layer("conv1", ConvShape.of(n, 3, 227, 227, 96, 11, 4, 0, 1), null),
                new Layer("conv2", ConvShape.of(n, 96, 27, 27, 256, 5, 1, 2, 2), null),
                new Layer("conv3", ConvShape.of(n, 256, 13, 13, 384, 3, 1, 1, 1), null),
                new Layer("conv4", ConvShape.of(n, 384, 13, 13, 384, 3, 1, 1, 2), null),
                new Layer("conv5", ConvShape.of(n, 384, 13, 13, 256, 3, 1, 1, 2), null),
                new Layer("fc6", null, new LinearShape(n, 9216, 4096)),
                new Layer("fc7", null, new LinearShape(n, 4096, 4096)),
                new Layer("fc8", null, new LinearShape(n, 4096, 1000)));
    }

    static MemorySegment random(Arena arena, long floats, SplittableRandom rnd, double scale) {
        MemorySegment m = arena.allocate(floats * Float.BYTES, 64);
        for (long i = 0; i < floats; i++) m.setAtIndex(JAVA_FLOAT, i, (float) ((rnd.nextDouble() * 2 - 1) * scale));
        return m;
    }

    static double median(double[] t) {
        double[] c = t.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    interface Step { void run(); }

    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /** Median wall time and median CPU time of the calling thread (member 0), in ms. */
    static double[] time(Step s, int warmup, int reps) {
        for (int i = 0; i < warmup; i++) s.run();
        double[] t = new double[reps], c = new double[reps];
        for (int i = 0; i < reps; i++) {
            long c0 = MX.getCurrentThreadCpuTime(), t0 = System.nanoTime();
            s.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
            c[i] = (MX.getCurrentThreadCpuTime() - c0) / 1e6;
        }
        return new double[]{median(t), median(c)};
    }

    public static void main(String[] args) {
        int batch = 32, reps = 5, warmup = 3;
        int[] threads = {1, 2};
        double peak = KernelGflops.PEAK_PER_CORE;
        List<String> only = null;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "batch" -> batch = Integer.parseInt(kv[1]);
                case "reps" -> reps = Integer.parseInt(kv[1]);
                case "warmup" -> warmup = Integer.parseInt(kv[1]);
                case "peak" -> peak = Double.parseDouble(kv[1]);
                case "threads" -> threads = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "layers" -> only = List.of(kv[1].split(","));
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        SplittableRandom rnd = new SplittableRandom(42);
        System.out.printf("batch %d, median of %d after %d warm-up runs, peak %.1f GFLOP/s per core%n", batch, reps, warmup, peak);
        System.out.printf("%-6s %3s %-9s %10s %9s %7s %10s %9s%n", "layer", "thr", "pass", "ms", "GFLOP/s", "%peak", "cpu ms", "GFLOP/s");
        for (int th : threads) {
            double totalMs = 0, totalCpu = 0, totalFlop = 0;
            try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(th)) {
                for (Layer l : layers(batch)) {
                    if (only != null && !only.contains(l.name())) continue;
                    List<String> names = new ArrayList<>();
                    List<Step> steps = new ArrayList<>();
                    double flop;
                    if (l.conv() != null) {
                        ConvShape s = l.conv();
                        flop = s.flops();
                        ConvTrainVec k = new ConvTrainVec(s, th, arena);
                        MemorySegment in = random(arena, s.inputSize(), rnd, 1), w = random(arena, s.weightSize(), rnd, 0.01);
                        MemorySegment b = random(arena, s.k(), rnd, 1), out = random(arena, s.outputSize(), rnd, 1);
                        MemorySegment go = random(arena, s.outputSize(), rnd, 1), gi = random(arena, s.inputSize(), rnd, 1);
                        MemorySegment gw = random(arena, s.weightSize(), rnd, 1), gb = random(arena, s.k(), rnd, 1);
                        names.add("forward");
                        steps.add(() -> team.run((m, ms) -> k.forward(out, in, w, b, true, m, ms)));
                        names.add("bwd-data");
                        steps.add(() -> team.run((m, ms) -> k.backwardData(gi, go, w, m, ms)));
                        names.add("bwd-wts");
                        steps.add(() -> {
                            team.run((m, ms) -> k.backwardWeights(in, go, m, ms));
                            team.run((m, ms) -> k.reduceWeights(gw, gb, m, ms));
                        });
                    } else {
                        LinearShape s = l.fc();
                        flop = s.flops();
                        LinearTrainVec k = new LinearTrainVec(s, th, arena);
                        long ni = (long) s.n() * s.in(), no = (long) s.n() * s.out(), nw = (long) s.in() * s.out();
                        MemorySegment in = random(arena, ni, rnd, 1), w = random(arena, nw, rnd, 0.01);
                        MemorySegment b = random(arena, s.out(), rnd, 1), out = random(arena, no, rnd, 1);
                        MemorySegment go = random(arena, no, rnd, 1), gi = random(arena, ni, rnd, 1);
                        MemorySegment gw = random(arena, nw, rnd, 1), gb = random(arena, s.out(), rnd, 1);
                        names.add("forward");
                        steps.add(() -> team.run((m, ms) -> k.forward(out, in, w, b, true, m, ms)));
                        names.add("bwd-data");
                        steps.add(() -> team.run((m, ms) -> k.backwardData(gi, go, w, m, ms)));
                        names.add("bwd-wts");
                        steps.add(() -> team.run((m, ms) -> k.backwardWeights(gw, gb, in, go, m, ms)));
                    }
                    for (int i = 0; i < steps.size(); i++) {
                        double[] t = time(steps.get(i), warmup, reps);
                        double ms = t[0], gf = flop / ms / 1e6;
                        totalMs += ms;
                        totalCpu += t[1];
                        totalFlop += flop;
                        System.out.printf("%-6s %3d %-9s %10.2f %9.1f %6.1f%% %10.2f %9.1f%n", l.name(), th, names.get(i), ms, gf,
                                100 * gf / (peak * th), t[1], flop / th / t[1] / 1e6);
                    }
                }
            }
            System.out.printf("all    %3d %-9s %10.2f %9.1f %6.1f%% %10.2f %9.1f  -> %.2f images/s by wall time, %.2f with member 0's CPU time as the wall time (these layers only)%n",
                    th, "step", totalMs, totalFlop / totalMs / 1e6, 100 * totalFlop / totalMs / 1e6 / (peak * th), totalCpu,
                    totalFlop / th / totalCpu / 1e6, batch * 1000.0 / totalMs, batch * 1000.0 / totalCpu);
        }
    }
}
