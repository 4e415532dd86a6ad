package dev.alexnet.model.cli;

import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.LrnMetadata;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every command that runs the network shares: weights, placement, kernels, precision, variant. */
public final class NetworkOptions {
    @Option(names = "--weights", paramLabel = "FILE", description = "safetensors weights with PyTorch names (default: the paper's initialisation from --seed)")
    Path weights;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the paper initialisation when no --weights (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--device", paramLabel = "DEV", description = "one device for the whole network: java:N, ref:1, dnnl:N, cuda:K (default: java:<cores>)")
    String device;

    @Option(names = "--towers", paramLabel = "A,B", description = "the paper's two towers on two devices, e.g. java:1,java:1  dnnl:1,java:1  cuda:0,cuda:0")
    String towers;

    @Option(names = "--kernels", defaultValue = "vector", description = "Java kernels for java:N devices: vector or reference (default: ${DEFAULT-VALUE})")
    String kernels;

    @Option(names = "--precision", defaultValue = "fp32", description = "CUDA math: fp32 or tf32 (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--input-size", description = "227 (conv1 pad 0) or 224 (conv1 pad 2) (default: 227 for paper, 224 for torchvision)")
    Integer inputSize;

    @Option(names = "--arch", defaultValue = "paper", description = "paper (the 2012 network) or torchvision (torchvision.models.alexnet; weights named features.0.weight ...) (default: ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--lrn", description = "LRN window: per-tower (the paper's two-GPU net) or all (across all channels) (default: what the weights' metadata says, else per-tower)")
    String lrn;

    AlexNetSpec spec() {
        return spec(weights, arch, lrn, inputSize);
    }

    /**
     * The network the options describe, shared with commands that take the same options without running
     * a network (export-onnx): weights converted from elsewhere (import-caffe) name the LRN they were
     * trained with, and {@code --lrn} (when given) still chooses the window.
     */
    static AlexNetSpec spec(Path weights, String arch, String lrn, Integer inputSize) {
        LrnMetadata trained = weights == null ? null : LrnMetadata.of(weights);
        String window = lrn != null ? lrn : trained != null && !trained.perTower() ? "all" : "per-tower";
        boolean perTower = switch (window) {
            case "per-tower", "tower" -> true;
            case "all", "all-channels" -> false;
            default -> throw new IllegalArgumentException("--lrn must be per-tower or all, got '" + lrn + "'");
        };
        Arch a = Arch.parse(arch);
        AlexNetSpec spec = new AlexNetSpec(inputSize != null ? inputSize : a == Arch.TORCHVISION ? 224 : 227, perTower, AlexNetSpec.CLASSES, a);
        return trained == null ? spec : spec.withLrn(trained.params());
    }

    Arch arch() {
        return Arch.parse(arch);
    }

    AlexNetWeights loadWeights() {
        Arch a = arch();
        if (weights == null) return AlexNetWeights.init(AlexNetWeights.Init.PAPER, seed, AlexNetSpec.CLASSES, a);
        AlexNetWeights w = AlexNetWeights.load(weights);
        if (w.arch() != a) {
            w.close();
            throw new IllegalArgumentException("--weights " + weights + " holds " + w.arch().cliName() + " AlexNet's parameters but --arch is "
                    + a.cliName() + ": pass --arch " + w.arch().cliName());
        }
        return w;
    }

    String placement() {
        if (device != null && towers != null) throw new IllegalArgumentException("give --device or --towers, not both");
        if (towers != null) {
            if (towers.split(",").length != 2) throw new IllegalArgumentException("--towers needs two devices separated by a comma, e.g. java:1,java:1");
            return towers;
        }
        return device != null ? device : "java:" + Runtime.getRuntime().availableProcessors();
    }

    JavaDevice.Kernels javaKernels() {
        return switch (kernels) {
            case "vector", "vec" -> JavaDevice.Kernels.VECTOR;
            case "reference", "ref" -> JavaDevice.Kernels.REFERENCE;
            default -> throw new IllegalArgumentException("--kernels must be vector or reference, got '" + kernels + "'");
        };
    }

    Devices.Precision precision() {
        return switch (precision) {
            case "fp32" -> Devices.Precision.FP32;
            case "tf32" -> Devices.Precision.TF32;
            default -> throw new IllegalArgumentException("--precision must be fp32 or tf32, got '" + precision + "'");
        };
    }

    Network open(AlexNetSpec spec, AlexNetWeights w) {
        return Networks.open(spec, w, placement(), javaKernels(), precision());
    }
}
