package dev.alexnet.model;

import java.lang.foreign.MemorySegment;

/**
 * AlexNet ready to run on its device(s): images [N,3,S,S] in, logits [N,1000] out, both host NCHW.
 * Programs are compiled on first use of each batch size and kept. Not for concurrent use by several
 * threads (each call may use all the devices' threads). The segments passed in are read and written
 * from the network's own threads: allocate them in a shared or global arena, not a confined one.
 *
 * <pre>{@code
 * try (Network net = Networks.open(AlexNetSpec.PAPER, weights, "java:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
 *      Arena arena = Arena.ofShared()) {
 *     Tensor x = Tensor.allocate(arena, 8, 3, 227, 227), logits = Tensor.allocate(arena, 8, 1000);
 *     net.prepare(8);                                   // optional: compile and warm up before timing
 *     RunStats stats = new RunStats();
 *     net.forward(x.data(), logits.data(), 8, stats);   // stats: per-layer spans, a Perfetto trace
 * }
 * }</pre>
 */
public interface Network extends AutoCloseable {
    /** The placement as given, e.g. {@code java:2} or {@code dnnl:1,java:1}. */
    String placement();

    AlexNetSpec spec();

    void forward(MemorySegment images, MemorySegment logits, int batch, RunStats stats);

    default void forward(MemorySegment images, MemorySegment logits, int batch) {
        forward(images, logits, batch, null);
    }

    /** Compiles (and runs once, so first-run costs are paid) for {@code batch} without producing output. */
    void prepare(int batch);

    @Override
    void close();
}
