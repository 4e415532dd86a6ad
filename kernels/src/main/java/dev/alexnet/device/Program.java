package dev.alexnet.device;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Compiled layers for one batch size on one device. Input and output are host segments in dense
 * NCHW ([batch, inputSize] and [batch, outputSize] floats); whatever layouts the device uses inside
 * stay inside. {@link #run} is synchronous: when it returns, {@code output} holds the result.
 * A program is used by one thread at a time.
 */
public interface Program extends AutoCloseable {
    int batch();
    List<Layer> layers();
    default long inputFloats() { return batch() * layers().getFirst().spec().inputSize(); }
    default long outputFloats() { return batch() * layers().getLast().spec().outputSize(); }

    /** Runs the layers; per-layer wall times go to {@code timer} (use {@link LayerTimer#NONE} to skip). */
    void run(MemorySegment input, MemorySegment output, LayerTimer timer);

    default void run(MemorySegment input, MemorySegment output) { run(input, output, LayerTimer.NONE); }

    @Override
    void close();
}
