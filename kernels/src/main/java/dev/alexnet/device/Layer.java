package dev.alexnet.device;

import dev.alexnet.tensor.Tensor;

import java.util.Arrays;

/**
 * A layer and its parameters, as handed to a {@link Device}: weights in PyTorch layout (OIHW,
 * [out,in]), possibly views into a memory-mapped file or into a tower's slice of the full tensors.
 * Devices may copy or repack them (once, at compile time) but never write to them.
 */
public record Layer(LayerSpec spec, Tensor weight, Tensor bias) {
    public Layer {
        int[] ws = spec.weightShape();
        if (ws == null) {
            if (weight != null || bias != null) throw new IllegalArgumentException(spec.name() + " takes no parameters");
        } else {
            if (weight == null || bias == null) throw new IllegalArgumentException(spec.name() + " needs a weight and a bias");
            if (!Arrays.equals(weight.shape(), ws)) {
                throw new IllegalArgumentException(spec.name() + ".weight has shape " + Arrays.toString(weight.shape())
                        + ", expected " + Arrays.toString(ws));
            }
            if (bias.rank() != 1 || bias.dim(0) != ws[0]) {
                throw new IllegalArgumentException(spec.name() + ".bias has shape " + Arrays.toString(bias.shape()) + ", expected [" + ws[0] + "]");
            }
        }
    }

    public static Layer of(LayerSpec spec) { return new Layer(spec, null, null); }
}
