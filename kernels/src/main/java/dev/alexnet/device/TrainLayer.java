package dev.alexnet.device;

import dev.alexnet.tensor.Tensor;

import java.util.Arrays;

/**
 * A layer as handed to {@link Device#compileTraining}: its parameters (read at every forward, changed in
 * place by the optimizer between steps) and the tensors that {@link TrainingProgram#backward} overwrites
 * with their gradients. Both belong to the model's parameter store, not to the device.
 *
 * @param weightGrad same shape as {@code layer.weight()}, {@code null} for layers without parameters
 * @param biasGrad   same shape as {@code layer.bias()}, {@code null} for layers without parameters
 */
public record TrainLayer(Layer layer, Tensor weightGrad, Tensor biasGrad) {
    public TrainLayer {
        if (layer.weight() == null) {
            if (weightGrad != null || biasGrad != null) throw new IllegalArgumentException(layer.spec().name() + " takes no parameters, so no gradients");
        } else {
            if (weightGrad == null || biasGrad == null) throw new IllegalArgumentException(layer.spec().name() + " needs weight and bias gradient tensors");
            if (!Arrays.equals(weightGrad.shape(), layer.weight().shape()) || !Arrays.equals(biasGrad.shape(), layer.bias().shape())) {
                throw new IllegalArgumentException(layer.spec().name() + ": gradient shapes " + Arrays.toString(weightGrad.shape())
                        + "/" + Arrays.toString(biasGrad.shape()) + " differ from the parameters' "
                        + Arrays.toString(layer.weight().shape()) + "/" + Arrays.toString(layer.bias().shape()));
            }
        }
    }

    public LayerSpec spec() { return layer.spec(); }

    /** A parameterless layer (pooling, LRN, dropout, softmax). */
    public static TrainLayer of(LayerSpec spec) { return new TrainLayer(Layer.of(spec), null, null); }
}
