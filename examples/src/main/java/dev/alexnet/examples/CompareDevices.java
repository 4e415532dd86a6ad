package dev.alexnet.examples;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * Runs one batch through the network on the Java kernels ({@code java:2}) and on oneDNN ({@code dnnl:2})
 * and compares the logits with the project's agreement measure: {@code CompareDevices [BATCH]} (default 2).
 * Exits with status 1 when they disagree.
 */
public final class CompareDevices {
    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        AlexNetSpec spec = AlexNetSpec.PAPER;
        try (AlexNetWeights weights = AlexNetWeights.paperInit(42);
             Network java = Networks.open(spec, weights, "java:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
             Network dnnl = Networks.open(spec, weights, "dnnl:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
             Arena arena = Arena.ofShared()) {
            Tensor images = Tensor.allocate(arena, batch, 3, spec.inputSize(), spec.inputSize());
            SplittableRandom random = new SplittableRandom(1);
            for (long i = 0; i < images.size(); i++) images.set(i, (float) random.nextGaussian(0, 50));
            Tensor a = Tensor.allocate(arena, batch, weights.classes()), b = Tensor.allocate(arena, batch, weights.classes());
            long t0 = System.nanoTime();
            java.forward(images.data(), a.data(), batch);
            long t1 = System.nanoTime();
            dnnl.forward(images.data(), b.data(), batch);
            long t2 = System.nanoTime();
            Agreement agreement = Agreement.of(a.data(), 0, b.data(), 0, a.size(), Agreement.FP32_BOUND);
            System.out.printf("batch %d: java:2 %.1f ms, dnnl:2 %.1f ms (first runs: compile and warm-up included)%n",
                    batch, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
            System.out.printf("logits agree: %s (largest relative difference %.2g, bound %.0e)%n",
                    agreement.pass(), agreement.error(), agreement.bound());
            if (!agreement.pass()) System.exit(1);
        }
    }
}
