package dev.alexnet.model.cli;

import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Network;
import dev.alexnet.model.NonFinite;
import dev.alexnet.model.RunStats;
import dev.alexnet.model.io.AtomicFiles;
import dev.alexnet.model.io.Npy;
import dev.alexnet.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Runs the network on an .npy batch [N,3,S,S] (float32) and writes the logits [N,1000] as .npy.")
final class ForwardCommand implements Callable<Integer> {
    @Mixin NetworkOptions net;

    @Option(names = "--input", required = true, paramLabel = "X.npy") Path input;
    @Option(names = "--output", required = true, paramLabel = "Y.npy") Path output;
    @Option(names = "--trace", paramLabel = "FILE", description = "write a Chrome/Perfetto trace (JSON) of the run") Path trace;

    @Override
    public Integer call() throws Exception {
        AlexNetSpec spec = net.spec();
        // every output path is checked before the weights load and the pass runs
        AtomicFiles.checkWritable(output, "--output");
        if (sameFile(input, output)) throw new IllegalArgumentException("--output " + output + " is the --input file: it would be overwritten");
        if (trace != null) {
            AtomicFiles.checkWritable(trace, "--trace");
            if (sameFile(trace, output) || sameFile(trace, input)) {
                throw new IllegalArgumentException("--trace " + trace + " is the same file as --input or --output");
            }
        }
        try (Arena arena = Arena.ofShared()) {
            Tensor x = Npy.read(input, arena);
            int s = spec.inputSize();
            if (x.rank() != 4 || x.dim(1) != 3 || x.dim(2) != s || x.dim(3) != s) {
                throw new IllegalArgumentException(input + ": shape " + Arrays.toString(x.shape()) + ", expected [N,3," + s + "," + s + "]"
                        + (x.rank() == 4 && x.dim(2) == (s == 227 ? 224 : 227) ? " (use --input-size " + x.dim(2) + ")" : ""));
            }
            NonFinite.Scan bad = NonFinite.scan(x.data(), x.size());
            if (bad.any()) {
                System.err.printf("warning: %s holds %d non-finite value(s) (NaN or Inf), the first at index %d %s:"
                        + " the logits of every image holding one are NaN, on every device%n", input, bad.count(), bad.first(),
                        Arrays.toString(unravel(bad.first(), x.shape())));
            }
            try (AlexNetWeights w = net.loadWeights(); Network n = net.open(spec, w)) {
                int batch = x.dim(0);
                Tensor y = Tensor.allocate(arena, batch, AlexNetSpec.CLASSES);
                RunStats stats = new RunStats();
                long t0 = System.nanoTime();
                n.forward(x.data(), y.data(), batch, stats);
                long ns = System.nanoTime() - t0;
                Npy.write(output, y);
                System.out.printf("%s: %d image(s) on %s (%s) in %.1f ms (first run: includes compilation and JIT warm-up) -> %s%n",
                        input, batch, n.placement(), w.origin(), ns / 1e6, output);
                Report.twoTowerSummary(stats, System.out);
                if (trace != null) {
                    stats.writeTrace(trace);
                    System.out.println("trace: " + trace + " (open in https://ui.perfetto.dev or chrome://tracing)");
                }
            }
        }
        return 0;
    }

    /** The multi-index of flat index {@code i} in an array of {@code shape} (row-major). */
    static long[] unravel(long i, int[] shape) {
        long[] at = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = i % shape[d];
            i /= shape[d];
        }
        return at;
    }

    /** True when the two paths name one file (an existing one, or the same path once normalised). */
    static boolean sameFile(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        } catch (IOException e) {
            // fall through to the path comparison
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
