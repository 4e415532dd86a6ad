package dev.alexnet.model.cli;

import dev.alexnet.kernels.ref.SoftmaxRef;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Images;
import dev.alexnet.model.Network;
import dev.alexnet.model.RunStats;
import dev.alexnet.model.io.AtomicFiles;
import dev.alexnet.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classifies JPEG/PNG images (shorter side to 256, centre crop, mean subtracted) and prints the top-5 classes. "
                + "Without images, classifies the demo image shipped in the jar.")
final class ClassifyCommand implements Callable<Integer> {
    @Mixin NetworkOptions net;

    @Parameters(paramLabel = "IMAGE", arity = "0..*", description = "image files (default: the built-in demo image)")
    List<Path> images = new ArrayList<>();

    @Option(names = "--top", defaultValue = "5") int top;
    @Option(names = "--timing", description = "warm up for --warmup-ms, then time --repeat passes and print median per-layer times")
    boolean timing;
    @Option(names = "--repeat", defaultValue = "10", description = "timed passes with --timing (default: ${DEFAULT-VALUE})") int repeat;
    @Option(names = "--warmup-ms", defaultValue = "3000",
            description = "with --timing, untimed passes for this long first, so the JIT reaches C2-compiled kernels (default: ${DEFAULT-VALUE})")
    long warmupMs;
    @Option(names = "--trace", paramLabel = "FILE", description = "write a Chrome/Perfetto trace (JSON) of the timed runs") Path trace;

    @Override
    public Integer call() throws Exception {
        int s = net.spec().inputSize();
        // option errors and output paths before any image is decoded or weight drawn
        if (top < 1) throw new IllegalArgumentException("--top must be at least 1, got " + top);
        if (repeat < 1) throw new IllegalArgumentException("--repeat must be at least 1, got " + repeat);
        if (warmupMs < 0) throw new IllegalArgumentException("--warmup-ms must not be negative, got " + warmupMs);
        if (trace != null) AtomicFiles.checkWritable(trace, "--trace");
        List<String> labels = new ArrayList<>();
        List<BufferedImage> pics = new ArrayList<>();
        if (images.isEmpty()) {
            pics.add(Images.demo());
            labels.add("demo.png (built in)");
        }
        for (Path p : images) {
            pics.add(Images.read(p));
            labels.add(p.toString());
        }
        int batch = pics.size();
        // the class count comes from fc8's rows, the names and preprocessing from the file's metadata (a trained run's)
        try (Arena arena = Arena.ofShared(); AlexNetWeights w = net.loadWeights(); Network n = net.open(net.spec().withClasses(w.classes()), w)) {
            AlexNetSpec spec = n.spec();
            int classes = spec.classes();
            top = Math.min(top, classes);
            TrainedLabels names = TrainedLabels.of(net.weights, classes);
            Tensor x = Tensor.allocate(arena, batch, 3, s, s);
            for (int i = 0; i < batch; i++) names.preprocess(pics.get(i), s, x.data(), (long) i * 3 * s * s);
            boolean torchvision = spec.arch() == dev.alexnet.device.AlexNetLayers.Arch.TORCHVISION;
            if (torchvision && Double.isNaN(names.greyMean())) { // torchvision's weights expect its normalisation
                for (int i = 0; i < batch; i++) Images.toTorchvision(x.data(), (long) i * 3 * s * s, s);
            }
            Tensor logits = Tensor.allocate(arena, batch, classes);
            Tensor prob = Tensor.allocate(arena, batch, classes);
            long t0 = System.nanoTime();
            n.forward(x.data(), logits.data(), batch);
            long first = System.nanoTime() - t0;
            SoftmaxRef.forward(prob.data(), logits.data(), batch, classes);
            System.out.printf("AlexNet (%s, %dx%d input%s) on %s, weights: %s%n", spec.arch().cliName(), s, s,
                    torchvision ? "" : spec.lrnPerTower() ? ", LRN per tower" : ", LRN across all channels", n.placement(), w.origin());
            if (w.random()) {
                System.out.println("NOTE: the weights are random (not trained), so the class names below are meaningless;"
                        + " pass --weights FILE.safetensors for real predictions.");
            }
            for (int i = 0; i < batch; i++) {
                System.out.println(labels.get(i) + ":");
                final int img = i;
                int[] best = IntStream.range(0, classes).boxed()
                        .sorted(Comparator.comparingDouble(c -> -prob.get((long) img * classes + c)))
                        .limit(top).mapToInt(Integer::intValue).toArray();
                for (int c : best) {
                    System.out.printf("  %6.2f%%  %4d  %s%n", 100 * prob.get((long) i * classes + c), c, names.name(c));
                }
            }
            System.out.printf("first pass: %.1f ms (includes compilation, weight packing and JIT warm-up)%n", first / 1e6);
            if (timing) {
                List<RunStats> runs = new ArrayList<>();
                RunStats all = new RunStats();
                int warm = 0;
                for (long end = System.nanoTime() + warmupMs * 1_000_000; warm < 2 || System.nanoTime() < end; warm++) {
                    n.forward(x.data(), logits.data(), batch);
                }
                long tt = System.nanoTime();
                for (int r = 0; r < repeat; r++) {
                    RunStats st = new RunStats();
                    n.forward(x.data(), logits.data(), batch, st);
                    runs.add(st);
                    for (RunStats.Span sp : st.spans()) all.span(sp.track(), sp.name(), sp.kind(), sp.startNanos(), sp.durNanos());
                    st.bytesByTrack().forEach(all::bytes);
                }
                double perPass = (System.nanoTime() - tt) / 1e6 / repeat;
                System.out.printf("%nper-layer times, batch %d, median of %d passes after %d warm-up passes:%n", batch, repeat, warm);
                Report.layerTable(runs, System.out);
                System.out.printf("wall time per pass: %.2f ms (%.1f images/s)%n", perPass, batch * 1000 / perPass);
                Report.twoTowerSummary(all, System.out);
                if (trace != null) {
                    all.writeTrace(trace);
                    System.out.println("trace: " + trace);
                }
            }
        }
        return 0;
    }
}
