package dev.alexnet.model.cli;

import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "export-weights", mixinStandardHelpOptions = true,
        description = "Writes the paper-initialised weights (or the golden counter weights) as safetensors with PyTorch names "
                + "(torchvision's state_dict names with --arch torchvision).")
final class ExportWeightsCommand implements Callable<Integer> {
    @Option(names = "--seed", defaultValue = "42", description = "seed of the paper initialisation (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--counter", description = "write the counter-generated weights the golden tests use instead")
    boolean counter;

    @Option(names = "--arch", defaultValue = "paper", description = "paper or torchvision (default: ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--output", required = true, paramLabel = "FILE")
    Path output;

    @Override
    public Integer call() throws Exception {
        Arch a = Arch.parse(arch);
        AtomicFiles.checkWritable(output, "--output"); // before the 61M parameters are drawn
        try (AlexNetWeights w = counter ? AlexNetWeights.counter(a) : AlexNetWeights.init(AlexNetWeights.Init.PAPER, seed, AlexNetSpec.CLASSES, a)) {
            w.save(output, counter ? Map.of() : Map.of("seed", Long.toString(seed)));
            long params = (a == Arch.TORCHVISION ? AlexNetSpec.TORCHVISION : AlexNetSpec.PAPER).parameters();
            System.out.printf("wrote %s: %d tensors, %,d parameters (%s, %s AlexNet)%n", output, w.tensors().size(), params, w.origin(), a.cliName());
        }
        return 0;
    }
}
