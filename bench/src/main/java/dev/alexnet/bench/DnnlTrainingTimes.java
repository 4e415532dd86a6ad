package dev.alexnet.bench;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.nativ.dnnl.DnnlDevice;
import dev.alexnet.nativ.dnnl.DnnlTrainingProgram;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Forward and backward time per layer of the AlexNet training network
 * ({@code AlexNetSpec.PAPER.withClasses(classes).trainingLayers(0.5)}, He initialisation) on
 * {@code dnnl:T}: one untimed step, then the median over {@code reps} timed steps of each layer's
 * forward, backward-data and backward-weights time (a stream wait after each, so per-layer times add
 * up to a little more than an untimed step).
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp "bench/target/alexnet-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*" \
 *        dev.alexnet.bench.DnnlTrainingTimes [batch=32] [threads=1,2] [reps=3] [classes=10]
 * </pre>
 */
public final class DnnlTrainingTimes {
    private DnnlTrainingTimes() {}

    public static void main(String[] args) {
        int batch = 32, reps = 3, classes = 10;
        String threads = "1,2";
        for (String a : args) {
            if (a.startsWith("batch=")) batch = Integer.parseInt(a.substring(6));
            else if (a.startsWith("threads=")) threads = a.substring(8);
            else if (a.startsWith("reps=")) reps = Integer.parseInt(a.substring(5));
            else if (a.startsWith("classes=")) classes = Integer.parseInt(a.substring(8));
            else throw new IllegalArgumentException("unknown argument " + a + " (batch=, threads=, reps=, classes=)");
        }
        AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(classes);
        List<LayerSpec> specs = spec.trainingLayers(AlexNetSpec.PAPER_DROPOUT);
        try (AlexNetWeights w = AlexNetWeights.init(AlexNetWeights.Init.HE, 1, classes); Arena arena = Arena.ofShared()) {
            List<TrainLayer> layers = new ArrayList<>();
            for (Layer l : w.bindWhole(specs)) {
                layers.add(l.weight() == null ? new TrainLayer(l, null, null)
                        : new TrainLayer(l, Tensor.allocate(arena, l.weight().shape()), Tensor.allocate(arena, l.bias().shape())));
            }
            for (String t : threads.split(",")) {
                run(layers, batch, Integer.parseInt(t.trim()), reps, arena);
            }
        }
    }

    private static void run(List<TrainLayer> layers, int batch, int threads, int reps, Arena arena) {
        try (DnnlDevice dev = new DnnlDevice(threads); DnnlTrainingProgram p = dev.compileTraining(layers, batch)) {
            MemorySegment in = gaussian(arena, p.inputFloats(), 1), gOut = gaussian(arena, p.outputFloats(), 2);
            MemorySegment out = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            p.forward(in, out, 0, LayerTimer.NONE);
            p.backward(gOut, null, LayerTimer.NONE);
            Map<String, long[]> times = new LinkedHashMap<>();
            int[] rep = {0};
            int n = reps;
            LayerTimer timer = (layer, nanos) -> times.computeIfAbsent(layer, k -> new long[n])[rep[0]] = nanos;
            long[] steps = new long[reps];
            for (rep[0] = 0; rep[0] < reps; rep[0]++) {
                long t0 = System.nanoTime();
                p.forward(in, out, rep[0] + 1, timer);
                p.backward(gOut, null, timer);
                steps[rep[0]] = System.nanoTime() - t0;
            }
            System.out.printf("dnnl:%d (oneDNN %s), AlexNet training layers, batch %d, median of %d steps, ms%n",
                    threads, DnnlDevice.version(), batch, reps);
            System.out.printf("%-8s %10s %10s %12s %10s%n", "layer", "forward", "bwd-data", "bwd-weights", "total");
            double[] sum = new double[3];
            for (TrainLayer tl : layers) {
                String name = tl.spec().name();
                double f = median(times.get(name)), d = median(times.get(name + ".bwd-data")), wt = median(times.get(name + ".bwd-weights"));
                sum[0] += f;
                sum[1] += d;
                sum[2] += wt;
                System.out.printf("%-8s %10.2f %10.2f %12s %10.2f%n", name, f, d, tl.weightGrad() == null ? "-" : String.format("%.2f", wt), f + d + wt);
            }
            System.out.printf("%-8s %10.2f %10.2f %12.2f %10.2f   (whole step: %.1f ms median)%n%n",
                    "sum", sum[0], sum[1], sum[2], sum[0] + sum[1] + sum[2], median(steps));
        }
    }

    /** Median in ms; 0 for a label never recorded (conv1's data gradient, skipped without gradInput). */
    private static double median(long[] nanos) {
        if (nanos == null) return 0;
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }

    private static MemorySegment gaussian(Arena arena, long n, long seed) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        return s;
    }
}
