package dev.alexnet.train;

import dev.alexnet.kernels.vec.SgdVec;
import dev.alexnet.tensor.Tensor;

/**
 * The paper's optimiser (section 5), exactly: {@code v <- momentum * v - decay * lr * w - lr * dL/dw},
 * {@code w <- w + v}, with momentum 0.9 and weight decay 0.0005 by default. Unlike PyTorch's SGD the
 * velocity carries the learning rate, so a learning-rate drop takes effect gradually, as in the paper.
 *
 * <p>The paper's formula decays every parameter; {@code decayBiases = false} exempts the biases, as
 * Caffe's bvlc_alexnet solver does.
 */
public record Sgd(float momentum, float decay, boolean decayBiases) {
    public static final Sgd PAPER = new Sgd(0.9f, 0.0005f, true);

    public Sgd {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0,1): " + momentum);
        if (!(decay >= 0)) throw new IllegalArgumentException("weight decay must be non-negative: " + decay);
    }

    /** One step at learning rate {@code lr} over every parameter of the store. */
    public void step(Parameters p, float lr) {
        if (!(lr >= 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and non-negative: " + lr);
        for (var e : p.values().tensors().entrySet()) {
            String name = e.getKey();
            Tensor w = e.getValue(), v = p.momentum().get(name), g = p.grads().get(name);
            float d = name.endsWith(".bias") && !decayBiases ? 0f : decay;
            SgdVec.update(w.data(), v.data(), g.data(), 0, w.size(), lr, momentum, d);
        }
    }
}
