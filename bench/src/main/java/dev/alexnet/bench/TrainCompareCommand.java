package dev.alexnet.bench;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.RunStats;
import dev.alexnet.tensor.Tensor;
import dev.alexnet.train.Parameters;
import dev.alexnet.train.Sgd;
import dev.alexnet.train.TrainingNetwork;
import dev.alexnet.train.TrainingNetworks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@code compare-train}: the paper AlexNet's training step (forward, loss, backward, the paper's SGD
 * update) on each backend side by side in one JVM: images per second, GFLOP/s (4.35 GFLOP per image,
 * three times the forward's multiply-adds), per-layer forward / backward-data / backward-weights times,
 * and the agreement of every backend's parameter gradients with the first one's from the same
 * starting point. Warm-up steps are shown and excluded.
 */
@Command(name = "compare-train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Training-step speed and gradient agreement of the paper AlexNet on each backend, side by side in one JVM.")
public final class TrainCompareCommand implements Callable<Integer> {
    @Option(names = "--backends", defaultValue = "java,dnnl", split = ",", description = "java, dnnl, ref (default: ${DEFAULT-VALUE})")
    List<String> backends;
    @Option(names = "--batch", defaultValue = "32,128", split = ",") List<Integer> batches;
    @Option(names = "--threads", defaultValue = "1,2", split = ",") List<Integer> threads;
    @Option(names = "--classes", defaultValue = "1000") int classes;
    @Option(names = "--dropout", defaultValue = "0.5") float dropout;
    @Option(names = "--warmup", defaultValue = "2", description = "warm-up steps per case (default: ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--steps", defaultValue = "3", description = "timed steps per case; the median is reported (default: ${DEFAULT-VALUE})") int steps;
    @Option(names = "--out", paramLabel = "DIR", description = "also write train_compare.csv and train_layers.csv here") Path out;

    /** Multiply-adds of one image's forward pass, times 2 for FLOP, times 3 for forward + backward data + weights. */
    static double flopsPerImage(AlexNetSpec spec) {
        return 3.0 * 2 * spec.layers().stream().mapToLong(l -> l.macs()).sum();
    }

    record Result(String placement, int batch, double[] warmupMs, double medianMs, double imagesPerSecond, double gflops,
                  double maxRelGrad, String worstTensor, double l2RelGrad, long heapBytesPerStep, Map<String, double[]> layers) {}

    @Override
    public Integer call() throws IOException {
        AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(classes);
        System.out.printf(Locale.ROOT, "training step of the paper AlexNet (%d classes, dropout %.2f, paper SGD): %.3f GFLOP per image%n",
                classes, dropout, flopsPerImage(spec) / 1e9);
        List<Result> results = new ArrayList<>();
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 1, classes)) {
            for (int batch : batches) {
                // the first case's gradients at this batch size, which every later case is compared with
                try (Arena keep = Arena.ofConfined()) {
                    Map<String, Tensor> baseline = new LinkedHashMap<>();
                    String baselineName = null;
                    for (String backend : backends) {
                        for (int t : threads) {
                            if (backend.equals("ref") && t != 1) continue;
                            String placement = backend + ":" + t;
                            Result r = run(spec, init, placement, batch, baseline, keep);
                            results.add(r);
                            System.out.printf(Locale.ROOT, "%-8s batch %3d: warm-up %s ms; step %.0f ms, %.2f images/s, %.1f GFLOP/s, %,d heap bytes per step%s%n",
                                    placement, batch, Arrays.toString(Arrays.stream(r.warmupMs()).map(Math::rint).toArray()), r.medianMs(), r.imagesPerSecond(),
                                    r.gflops(), r.heapBytesPerStep(), baselineName == null ? " (gradient baseline)" : String.format(Locale.ROOT, ", gradients vs %s: max rel %.2e (%s), 2-norm rel %.2e", baselineName, r.maxRelGrad(), r.worstTensor(), r.l2RelGrad()));
                            if (baselineName == null) baselineName = placement;
                        }
                    }
                }
            }
        }
        printTables(results);
        if (out != null) writeCsv(results);
        return 0;
    }

    /** One case; with an empty {@code baseline} its first-step gradients are copied there (into {@code keep}), else compared. */
    private Result run(AlexNetSpec spec, AlexNetWeights init, String placement, int batch, Map<String, Tensor> baseline, Arena keep) {
        try (Parameters p = new Parameters(init);
             TrainingNetwork net = TrainingNetworks.open(spec, p, placement, JavaDevice.Kernels.VECTOR, dropout);
             Arena arena = Arena.ofShared()) {
            long imageFloats = 3L * spec.inputSize() * spec.inputSize();
            MemorySegment x = arena.allocate(batch * imageFloats * Float.BYTES, 64), y = arena.allocate(batch * 4L, 4);
            SplittableRandom rnd = new SplittableRandom(5);
            for (long i = 0; i < batch * imageFloats; i++) x.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
            for (int i = 0; i < batch; i++) y.setAtIndex(JAVA_INT, i, rnd.nextInt(spec.classes()));
            // the first step's gradients, from the shared starting point, for the agreement column
            net.forwardBackward(x, y, batch, 1, null, null);
            double maxRel = 0, l2Rel = 0;
            String worst = "";
            if (baseline.isEmpty()) {
                for (var e : p.grads().entrySet()) {
                    Tensor c = Tensor.allocate(keep, e.getValue().shape());
                    c.copyFrom(e.getValue());
                    baseline.put(e.getKey(), c);
                }
            } else {
                for (var e : baseline.entrySet()) {
                    double r = maxRel(e.getValue(), p.grads().get(e.getKey()));
                    l2Rel = Math.max(l2Rel, l2Rel(e.getValue(), p.grads().get(e.getKey())));
                    if (r > maxRel) {
                        maxRel = r;
                        worst = e.getKey();
                    }
                }
            }
            Sgd.PAPER.step(p, 0.01f);
            net.parametersChanged();
            double[] warm = new double[warmup];
            for (int i = 0; i < warmup; i++) warm[i] = timedStep(net, p, x, y, batch, i + 2, null);
            double[] ms = new double[steps];
            RunStats stats = new RunStats();
            long heap0 = heapAllocated();
            for (int i = 0; i < steps - 1; i++) ms[i] = timedStep(net, p, x, y, batch, 100 + i, null);
            long heapPerStep = steps > 1 ? (heapAllocated() - heap0) / (steps - 1) : -1;
            ms[steps - 1] = timedStep(net, p, x, y, batch, 100 + steps, stats); // with per-layer timing
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = sorted[steps / 2];
            Map<String, double[]> layers = new LinkedHashMap<>(); // name -> forward, backward data, backward weights (ms)
            for (RunStats.Span s : stats.spans()) {
                if (s.kind() != RunStats.Kind.LAYER) continue;
                String n = s.name();
                int col = n.endsWith(".bwd-data") ? 1 : n.endsWith(".bwd-weights") ? 2 : n.endsWith(".bwd") ? 1 : 0;
                String layer = col == 0 ? n : n.substring(0, n.lastIndexOf('.'));
                layers.computeIfAbsent(layer, k -> new double[3])[col] += s.durNanos() / 1e6;
            }
            double ips = batch / (median / 1e3);
            return new Result(placement, batch, warm, median, ips, ips * flopsPerImage(spec) / 1e9, maxRel, worst, l2Rel, heapPerStep, layers);
        }
    }

    /** Heap bytes allocated so far by all live threads (the device's team included). */
    private static long heapAllocated() {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        return mx.getTotalThreadAllocatedBytes();
    }

    private static double timedStep(TrainingNetwork net, Parameters p, MemorySegment x, MemorySegment y, int batch, long seed, RunStats stats) {
        long t0 = System.nanoTime();
        net.forwardBackward(x, y, batch, seed, null, stats);
        Sgd.PAPER.step(p, 0.01f);
        net.parametersChanged();
        return (System.nanoTime() - t0) / 1e6;
    }

    /** ||a - b|| / ||a|| over a gradient tensor (2-norms): insensitive to a single unit on the other side of its ReLU. */
    private static double l2Rel(Tensor a, Tensor b) {
        double d = 0, n = 0;
        for (long i = 0; i < a.size(); i++) {
            double x = a.get(i), y = b.get(i);
            d += (x - y) * (x - y);
            n += x * x;
        }
        return n == 0 ? Math.sqrt(d) : Math.sqrt(d / n);
    }

    /** The largest |a - b| of a gradient tensor, relative to its largest |a|. */
    private static double maxRel(Tensor a, Tensor b) {
        double scale = 0, diff = 0;
        for (long i = 0; i < a.size(); i++) {
            scale = Math.max(scale, Math.abs(a.get(i)));
            diff = Math.max(diff, Math.abs(a.get(i) - b.get(i)));
        }
        return scale == 0 ? diff : diff / scale;
    }

    private static void printTables(List<Result> results) {
        System.out.println();
        System.out.println("| placement | batch | step ms | images/s | GFLOP/s | gradients: worst tensor's max rel | gradients: worst 2-norm rel |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.2f | %.1f | %s | %s |%n", r.placement(), r.batch(), r.medianMs(), r.imagesPerSecond(),
                    r.gflops(), r.worstTensor().isEmpty() ? "baseline" : String.format(Locale.ROOT, "%.1e (%s)", r.maxRelGrad(), r.worstTensor()),
                    r.worstTensor().isEmpty() ? "baseline" : String.format(Locale.ROOT, "%.1e", r.l2RelGrad()));
        }
        System.out.println();
        System.out.println("Per layer, last timed step, ms (forward / backward data / backward weights):");
        List<String> names = new ArrayList<>(results.getFirst().layers().keySet());
        StringBuilder head = new StringBuilder("| layer |");
        StringBuilder rule = new StringBuilder("|---|");
        for (Result r : results) {
            head.append(' ').append(r.placement()).append(" b").append(r.batch()).append(" |");
            rule.append("---|");
        }
        System.out.println(head);
        System.out.println(rule);
        for (String n : names) {
            StringBuilder row = new StringBuilder("| " + n + " |");
            for (Result r : results) {
                double[] v = r.layers().getOrDefault(n, new double[3]);
                row.append(String.format(Locale.ROOT, " %.1f / %.1f / %.1f |", v[0], v[1], v[2]));
            }
            System.out.println(row);
        }
    }

    private void writeCsv(List<Result> results) throws IOException {
        Files.createDirectories(out);
        StringBuilder s = new StringBuilder("placement,batch,step_ms,images_per_s,gflops,grad_max_rel,grad_worst_tensor,grad_l2_rel\n");
        for (Result r : results) {
            s.append(String.format(Locale.ROOT, "%s,%d,%.3f,%.3f,%.2f,%.3e,%s,%.3e%n", r.placement(), r.batch(), r.medianMs(), r.imagesPerSecond(), r.gflops(),
                    r.maxRelGrad(), r.worstTensor(), r.l2RelGrad()));
        }
        Files.writeString(out.resolve("train_compare.csv"), s);
        StringBuilder l = new StringBuilder("placement,batch,layer,forward_ms,backward_data_ms,backward_weights_ms\n");
        for (Result r : results) {
            for (var e : r.layers().entrySet()) {
                double[] v = e.getValue();
                l.append(String.format(Locale.ROOT, "%s,%d,%s,%.3f,%.3f,%.3f%n", r.placement(), r.batch(), e.getKey(), v[0], v[1], v[2]));
            }
        }
        Files.writeString(out.resolve("train_layers.csv"), l);
        System.out.println("wrote " + out.resolve("train_compare.csv") + " and " + out.resolve("train_layers.csv"));
    }
}
