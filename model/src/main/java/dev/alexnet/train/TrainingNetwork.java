package dev.alexnet.train;

import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.RunStats;

import java.lang.foreign.MemorySegment;

/**
 * AlexNet ready to train on its device(s): one call runs the forward pass in training mode, the loss
 * (softmax with cross-entropy, averaged over the batch) and the backward pass, leaving the gradients of
 * the mean loss in the {@link Parameters} store. The optimizer then updates the store and calls
 * {@link #parametersChanged}. Programs are compiled on first use of each batch size and kept.
 */
public interface TrainingNetwork extends AutoCloseable {
    /** The placement as given, e.g. {@code java:2} or {@code dnnl:1,java:1}. */
    String placement();

    AlexNetSpec spec();

    /**
     * @param images [batch, 3, S, S] preprocessed
     * @param labels [batch] int32 class indices in [0, classes)
     * @param seed   the dropout masks' seed for this step
     * @param logits [batch, classes], receives the training-mode logits (may be null)
     * @param stats  per-layer spans (forward, backward data, backward weights) and exchanges, or null
     * @return the mean loss over the batch
     */
    double forwardBackward(MemorySegment images, MemorySegment labels, int batch, long seed, MemorySegment logits, RunStats stats);

    /** The optimizer changed the parameters in place. */
    void parametersChanged();

    @Override
    void close();
}
