package dev.alexnet.model.cli;

import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "export-weights", mixinStandardHelpOptions = true,
        description = "Writes the paper-initialised weights (or the golden counter weights) as safetensors with PyTorch names.")
final class ExportWeightsCommand implements Callable<Integer> {
    @Option(names = "--seed", defaultValue = "42", description = "seed of the paper initialisation (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--counter", description = "write the counter-generated weights the golden tests use instead")
    boolean counter;

    @Option(names = "--output", required = true, paramLabel = "FILE")
    Path output;

    @Override
    public Integer call() throws Exception {
        AtomicFiles.checkWritable(output, "--output"); // before the 61M parameters are drawn
        try (AlexNetWeights w = counter ? AlexNetWeights.counter() : AlexNetWeights.paperInit(seed)) {
            w.save(output, counter ? Map.of() : Map.of("seed", Long.toString(seed)));
            System.out.printf("wrote %s: %d tensors, %,d parameters (%s)%n", output, w.tensors().size(), AlexNetSpec.parameterCount(), w.origin());
        }
        return 0;
    }
}
