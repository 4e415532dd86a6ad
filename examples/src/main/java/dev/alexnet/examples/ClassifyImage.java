package dev.alexnet.examples;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.ClassNames;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Images;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Loads weights (a safetensors file with PyTorch names, or the paper's initialisation from a seed) and
 * classifies one image on the Java kernels: {@code ClassifyImage [WEIGHTS.safetensors] [IMAGE]}.
 * Without a weights file the top-5 is meaningless (random weights), but every step is the real one.
 */
public final class ClassifyImage {
    public static void main(String[] args) {
        AlexNetSpec spec = AlexNetSpec.PAPER;
        BufferedImage image = args.length > 1 ? Images.read(Path.of(args[1])) : Images.demo();
        try (AlexNetWeights weights = args.length > 0 ? AlexNetWeights.load(Path.of(args[0])) : AlexNetWeights.paperInit(42);
             Network net = Networks.open(spec, weights, "java:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
             Arena arena = Arena.ofShared()) {
            Tensor x = Tensor.allocate(arena, 1, 3, spec.inputSize(), spec.inputSize());
            Tensor logits = Tensor.allocate(arena, 1, weights.classes());
            Images.preprocess(image, spec.inputSize(), x.data(), 0);
            net.forward(x.data(), logits.data(), 1);
            System.out.println("weights: " + weights.origin());
            IntStream.range(0, weights.classes()).boxed()
                    .sorted(Comparator.comparingDouble((Integer c) -> logits.get(c)).reversed())
                    .limit(5)
                    .forEach(c -> System.out.printf("  %8.3f  %s%n", logits.get(c),
                            weights.classes() == ClassNames.COUNT ? ClassNames.of(c) : "class " + c));
        }
    }
}
