package dev.alexnet.device;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Compiled layers for one batch size on one device. Input and output are host segments in dense
 * NCHW ([batch, inputSize] and [batch, outputSize] floats); whatever layouts the device uses inside
 * stay inside. {@link #run} is synchronous: when it returns, {@code output} holds the result.
 * A program is used by one thread at a time (a second concurrent run throws {@link IllegalStateException}).
 *
 * <p>Every implementation keeps native code and absolute-address kernels off the caller's memory: {@code run}
 * checks that the caller's segments are alive and accessible from the calling thread
 * ({@link WrongThreadException} otherwise) and reads and writes them only with the JDK's checked accessors;
 * {@link #close} from another thread waits for the run in flight before it frees anything, and a run after
 * close throws {@link IllegalStateException} ({@link RunGuard}; docs/ffm-audit.md).
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
