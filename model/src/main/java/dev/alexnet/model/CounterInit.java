package dev.alexnet.model;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Weights and inputs from a counter-based generator with an exact twin in
 * {@code tests/golden/make_golden.py}, so PyTorch and Java start from bit-identical tensors without
 * committing 244 MB of weights. Element {@code i} of stream {@code t}:
 * <pre>
 *   u = uint32(i + 0x9E3779B9 * (t + 1))
 *   u ^= u >> 16; u *= 0x7feb352d; u ^= u >> 15; u *= 0x846ca68b; u ^= u >> 16   (uint32 wrap-around)
 *   value = ((u >> 8) * 2^-24 - 0.5) * scale                                    (scale a power of two)
 * </pre>
 * Every step is exact in float32, so both sides produce the same bits. Streams 0..15 are the
 * parameters in {@link AlexNetSpec#paramNames()} order; stream 16 is the input batch.
 */
public final class CounterInit {
    private CounterInit() {}

    public static final int INPUT_STREAM = 16;

    /** Power-of-two scales keeping activations of order one through the network (fan-in based). */
    static final List<Float> SCALES = List.of(
            0x1p-2f, 0x1p-4f,   // conv1
            0x1p-3f, 0x1p-4f,   // conv2
            0x1p-3f, 0x1p-4f,   // conv3
            0x1p-3f, 0x1p-4f,   // conv4
            0x1p-3f, 0x1p-4f,   // conv5
            0x1p-4f, 0x1p-4f,   // fc6
            0x1p-4f, 0x1p-4f,   // fc7
            0x1p-4f, 0x1p-4f);  // fc8
    public static final float INPUT_SCALE = 2f;

    public static float value(int stream, long i, float scale) {
        int u = (int) i + 0x9E3779B9 * (stream + 1);
        u ^= u >>> 16;
        u *= 0x7feb352d;
        u ^= u >>> 15;
        u *= 0x846ca68b;
        u ^= u >>> 16;
        return ((u >>> 8) * 0x1p-24f - 0.5f) * scale;
    }

    public static void fill(MemorySegment seg, long count, int stream, float scale) {
        for (long i = 0; i < count; i++) seg.setAtIndex(JAVA_FLOAT, i, value(stream, i, scale));
    }

    public static float scale(int paramIndex) { return SCALES.get(paramIndex); }
}
