package dev.alexnet.model.cli;

import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.io.AtomicFiles;
import dev.alexnet.model.onnx.OnnxModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export-onnx", mixinStandardHelpOptions = true,
        description = "Writes the network with its weights as an ONNX model (opset 13): input 'input' [N,3,S,S], output 'logits' [N,classes], any batch size N.")
final class ExportOnnxCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "safetensors weights (the paper's names, or torchvision's state_dict with --arch torchvision)")
    Path weights;

    @Option(names = "--output", required = true, paramLabel = "MODEL.onnx")
    Path output;

    @Option(names = "--arch", defaultValue = "paper", description = "paper or torchvision (default: ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--input-size", description = "227 or 224 (default: 227 for paper, 224 for torchvision)")
    Integer inputSize;

    @Option(names = "--lrn", description = "paper network's LRN window: per-tower or all (default: what the weights' metadata says, else per-tower)")
    String lrn;

    @Option(names = "--lrn-form", defaultValue = "op", description = "LRN in the graph: op (ONNX's LRN operator, the standard form) or "
            + "decomposed (Mul, a banded 1x1 Conv, Sqrt, Div: what ONNX Runtime runs fastest) (default: ${DEFAULT-VALUE})")
    String lrnForm;

    @Override
    public Integer call() throws Exception {
        // every option and path is checked before the weights load
        Arch a = Arch.parse(arch);
        OnnxModel.LrnMode mode = switch (lrnForm) {
            case "op" -> OnnxModel.LrnMode.OP;
            case "decomposed" -> OnnxModel.LrnMode.DECOMPOSED;
            default -> throw new IllegalArgumentException("--lrn-form must be op or decomposed, got '" + lrnForm + "'");
        };
        if (!Files.exists(weights)) throw new IllegalArgumentException("--weights " + weights + ": no such file");
        if (Files.isDirectory(weights)) throw new IllegalArgumentException("--weights " + weights + " is a directory, expected a safetensors file");
        AlexNetSpec spec = NetworkOptions.spec(weights, arch, lrn, inputSize); // the LRN the weights' metadata names, as forward uses
        AtomicFiles.checkWritable(output, "--output");
        if (ForwardCommand.sameFile(weights, output)) throw new IllegalArgumentException("--output " + output + " is the --weights file: it would be overwritten");
        try (AlexNetWeights w = AlexNetWeights.load(weights)) {
            if (w.arch() != a) {
                throw new IllegalArgumentException("--weights " + weights + " holds " + w.arch().cliName() + " AlexNet's parameters but --arch is "
                        + a.cliName() + ": pass --arch " + w.arch().cliName());
            }
            AlexNetSpec s = spec.withClasses(w.classes());
            OnnxModel.Built model = OnnxModel.export(w.layers(s), mode);
            OnnxModel.write(output, model);
            System.out.printf("wrote %s: %s AlexNet (%s), input '%s' [N,3,%d,%d], output '%s' [N,%d], ONNX opset %d, %,d bytes%n",
                    output, a.cliName(), w.origin(), OnnxModel.INPUT, s.inputSize(), s.inputSize(), OnnxModel.OUTPUT, s.classes(),
                    OnnxModel.OPSET, Files.size(output));
        }
        return 0;
    }
}
