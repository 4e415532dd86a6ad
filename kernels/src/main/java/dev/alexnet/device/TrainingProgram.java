package dev.alexnet.device;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Compiled layers for training at one batch size on one device: a forward pass that keeps what the
 * backward pass needs, and a backward pass from the gradient of the loss with respect to the output to
 * the gradient with respect to the input and every parameter.
 *
 * <p>One step is {@code forward}, then {@code backward}, then the optimizer changes the parameters in
 * place and calls {@link #parametersChanged}. Inputs, outputs and gradients are host segments in dense
 * NCHW ([batch, inputSize], [batch, outputSize] floats), as for {@link Program}. The program copies what
 * it keeps, so the caller may reuse its buffers between forward and backward. Used by one thread at a time.
 *
 * <p>Layer timings go to the timer under the layer's name for the forward pass and under
 * {@code name + ".bwd-data"} and {@code name + ".bwd-weights"} for the two halves of the backward pass
 * (a backend that cannot separate them reports {@code name + ".bwd"}).
 */
public interface TrainingProgram extends AutoCloseable {
    int batch();
    List<TrainLayer> layers();
    default long inputFloats() { return batch() * layers().getFirst().spec().inputSize(); }
    default long outputFloats() { return batch() * layers().getLast().spec().outputSize(); }

    /**
     * The forward pass in training mode: dropout active, its masks a pure function of {@code seed}, each
     * dropout layer's name and the element's position in the whole network (see
     * {@link dev.alexnet.kernels.DropoutMask}), so that threads, towers and resumed runs draw the same masks.
     */
    void forward(MemorySegment input, MemorySegment output, long seed, LayerTimer timer);

    /**
     * The backward pass through the last {@link #forward}: overwrites every layer's parameter gradients
     * with the sum over the batch of {@code gradOutput}'s contributions (so a mean loss gives mean
     * gradients), and {@code gradInput} with the gradient of the input.
     *
     * @param gradInput {@code null} when nothing upstream needs it (the network's first layer): a backend
     *                  then skips the first layer's backward-data work
     */
    void backward(MemorySegment gradOutput, MemorySegment gradInput, LayerTimer timer);

    /** The parameters changed in place (an optimizer step): refresh any copy the device keeps before the next forward. */
    void parametersChanged();

    @Override
    void close();
}
