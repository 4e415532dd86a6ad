package dev.alexnet.model.cli;

import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Network;
import dev.alexnet.model.RunStats;
import dev.alexnet.model.io.Npy;
import dev.alexnet.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.lang.foreign.Arena;
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
        try (Arena arena = Arena.ofShared(); AlexNetWeights w = net.loadWeights(); Network n = net.open(spec, w)) {
            Tensor x = Npy.read(input, arena);
            int s = spec.inputSize();
            if (x.rank() != 4 || x.dim(1) != 3 || x.dim(2) != s || x.dim(3) != s) {
                throw new IllegalArgumentException(input + ": shape " + Arrays.toString(x.shape()) + ", expected [N,3," + s + "," + s + "]"
                        + (x.rank() == 4 && x.dim(2) == (s == 227 ? 224 : 227) ? " (use --input-size " + x.dim(2) + ")" : ""));
            }
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
        return 0;
    }
}
