package dev.alexnet.examples;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.tensor.Tensor;
import dev.alexnet.train.Parameters;
import dev.alexnet.train.Sgd;
import dev.alexnet.train.Trainer;
import dev.alexnet.train.TrainingNetwork;
import dev.alexnet.train.TrainingNetworks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A few steps of the paper's SGD on one fixed batch of random images for a 10-class network, on the
 * Java kernels: {@code TrainFewSteps [STEPS [LR [DROPOUT]]]} (3, 1e-4, 0). The loss on a fixed batch falls; the example
 * exits with status 1 if it does not. {@code bin/alexnet train} is the whole loop (data, checkpoints).
 */
public final class TrainFewSteps {
    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 3, batch = 2, classes = 10;
        float lr = args.length > 1 ? Float.parseFloat(args[1]) : 1e-4f; // small enough that a batch of two descends step by step
        // off, so that every step computes the same function and the losses are comparable (the paper's is 0.5)
        float dropout = args.length > 2 ? Float.parseFloat(args[2]) : 0f;
        AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(classes);
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 3, classes);
             Parameters params = new Parameters(init);
             TrainingNetwork net = TrainingNetworks.open(spec, params, "java:2", JavaDevice.Kernels.VECTOR, dropout);
             Arena arena = Arena.ofShared()) {
            Tensor images = Tensor.allocate(arena, batch, 3, spec.inputSize(), spec.inputSize());
            SplittableRandom random = new SplittableRandom(5);
            for (long i = 0; i < images.size(); i++) images.set(i, (float) random.nextGaussian());
            MemorySegment labels = arena.allocate(JAVA_INT, batch);
            for (int i = 0; i < batch; i++) labels.setAtIndex(JAVA_INT, i, 3 * i + 1);
            double first = 0, last = 0;
            for (int step = 0; step < steps; step++) {
                last = net.forwardBackward(images.data(), labels, batch, Trainer.stepSeed(7, step), null, null);
                if (step == 0) first = last;
                Sgd.PAPER.step(params, lr);
                net.parametersChanged();
                System.out.printf("step %d: loss %.4f%n", step, last);
            }
            if (!(last < first)) {
                System.out.println("the loss did not fall");
                System.exit(1);
            }
        }
    }
}
