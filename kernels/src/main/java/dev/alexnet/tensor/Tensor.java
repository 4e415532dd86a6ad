package dev.alexnet.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense float32 tensor in row-major (C) order over a {@link MemorySegment}.
 *
 * <p>Activations are NCHW at every public boundary. A tensor never owns its memory: whoever
 * allocated the segment (an {@link Arena} the caller controls, or a memory-mapped file) owns it.
 * Views ({@link #slice}, {@link #reshape}, {@link #narrow}) share the segment and copy nothing.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared()) {
 *     Tensor x = Tensor.allocate(arena, 2, 3, 227, 227);   // zeroed, 64-byte aligned
 *     x.set(0, 1f);
 *     Tensor second = x.slice(1, 2);                      // [1, 3, 227, 227], a view of image 1
 *     MemorySegment raw = x.data();                        // what Network.forward takes
 * }
 * }</pre>
 */
public final class Tensor {
    /** Every tensor we allocate starts on a cache line (and a 512-bit vector) boundary. */
    public static final long ALIGNMENT = 64;
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private final MemorySegment data;
    private final int[] shape;

    private Tensor(MemorySegment data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /** A zeroed tensor in {@code arena}, 64-byte aligned. */
    public static Tensor allocate(Arena arena, int... shape) {
        long n = checkShape(shape);
        return new Tensor(arena.allocate(n * Float.BYTES, ALIGNMENT), shape.clone());
    }

    /** Views {@code segment} as a tensor; its byte size must be exactly the shape's. */
    public static Tensor wrap(MemorySegment segment, int... shape) {
        long n = checkShape(shape);
        if (segment.byteSize() != n * Float.BYTES) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes cannot hold shape "
                    + Arrays.toString(shape) + " (" + n * Float.BYTES + " bytes)");
        }
        return new Tensor(segment, shape.clone());
    }

    /** A tensor in {@code arena} holding a copy of {@code values}. */
    public static Tensor of(Arena arena, float[] values, int... shape) {
        Tensor t = allocate(arena, shape);
        if (values.length != t.size()) {
            throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        }
        MemorySegment.copy(values, 0, t.data, F32, 0, values.length);
        return t;
    }

    static long checkShape(int[] shape) {
        if (shape.length == 0) throw new IllegalArgumentException("a tensor needs at least one dimension");
        long n = 1;
        for (int d : shape) {
            if (d <= 0) throw new IllegalArgumentException("non-positive dimension in shape " + Arrays.toString(shape));
            if (n > Long.MAX_VALUE / Float.BYTES / d) { // the byte size, n * d * 4, would overflow a long
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more elements than a tensor can hold");
            }
            n *= d;
        }
        return n;
    }

    public MemorySegment data() { return data; }
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public int dim(int i) { return shape[i]; }
    public long size() { return data.byteSize() / Float.BYTES; }

    public float get(long index) { return data.getAtIndex(F32, index); }
    public void set(long index, float v) { data.setAtIndex(F32, index, v); }

    /** Elements [from, to) along dimension 0: contiguous, so always a view. */
    public Tensor slice(int from, int to) {
        return narrow(0, from, to);
    }

    /**
     * Elements [from, to) along {@code dim}, as a view. Only possible when the result is contiguous,
     * i.e. every dimension before {@code dim} is 1 (a channel slice of a batch-1 NCHW tensor, an
     * output-channel slice of OIHW weights); otherwise this throws rather than copy behind your back.
     */
    public Tensor narrow(int dim, int from, int to) {
        if (dim < 0 || dim >= shape.length) throw new IllegalArgumentException("no dimension " + dim + " in " + this);
        if (from < 0 || to > shape[dim] || from >= to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") outside dimension " + dim + " of " + this);
        }
        for (int i = 0; i < dim; i++) {
            if (shape[i] != 1) throw new IllegalArgumentException("narrow(" + dim + ") of " + this + " is not contiguous: copy instead");
        }
        long inner = 1;
        for (int i = dim + 1; i < shape.length; i++) inner *= shape[i];
        int[] s = shape.clone();
        s[dim] = to - from;
        return new Tensor(data.asSlice(from * inner * Float.BYTES, (to - from) * inner * Float.BYTES), s);
    }

    /** The same elements under another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        if (checkShape(newShape) != size()) {
            throw new IllegalArgumentException("cannot reshape " + this + " to " + Arrays.toString(newShape));
        }
        return new Tensor(data, newShape.clone());
    }

    public void copyFrom(Tensor src) {
        if (!Arrays.equals(shape, src.shape)) throw new IllegalArgumentException("copy " + src + " into " + this);
        MemorySegment.copy(src.data, 0, data, 0, data.byteSize());
    }

    /** A copy of the values (copied straight into the array: no heap segment, see {@code kernels.vec.Preload}). */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(data.byteSize() / Float.BYTES)];
        MemorySegment.copy(data, F32, 0, out, 0, out.length);
        return out;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
