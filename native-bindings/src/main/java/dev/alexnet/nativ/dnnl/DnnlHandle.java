package dev.alexnet.nativ.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.ToIntFunction;

/**
 * One owned oneDNN object (engine, stream, memory descriptor, memory, primitive descriptor,
 * primitive, attributes, post-ops). {@link #close()} destroys it exactly once; later calls do
 * nothing, and {@link #handle()} on a closed object throws {@link IllegalStateException} instead of
 * handing a dangling pointer to native code. Not thread-safe: one owner closes it.
 */
public abstract class DnnlHandle implements AutoCloseable {
    private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();
    private MemorySegment handle;

    /** oneDNN objects created through these wrappers and not yet destroyed, process-wide (for leak checks). */
    public static long liveHandles() { return LIVE.get(); }

    /**
     * Closes {@code owned} in reverse order of creation (users before what they use) and empties it; every
     * handle is closed even when one fails, and the first failure is rethrown.
     */
    static void closeAll(java.util.List<DnnlHandle> owned) {
        RuntimeException first = null;
        for (int k = owned.size() - 1; k >= 0; k--) {
            try {
                owned.get(k).close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        owned.clear();
        if (first != null) throw first;
    }

    DnnlHandle(MemorySegment handle) {
        if (handle == null || handle.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " from a null handle");
        }
        this.handle = handle;
        LIVE.incrementAndGet();
    }

    /** The native handle; throws once closed. */
    public final MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        return h;
    }

    public final boolean isClosed() { return handle == null; }

    /** The {@code dnnl_*_destroy} call for this kind of object. */
    abstract int destroy(MemorySegment handle);

    abstract String destroyName();

    @Override
    public final void close() {
        MemorySegment h = handle;
        if (h == null) return;
        handle = null;
        LIVE.decrementAndGet();
        DnnlException.check(destroy(h), destroyName());
    }

    /** Calls a {@code dnnl_*_create(T *out, ...)} function and returns {@code *out}, checking the status. */
    static MemorySegment create(String function, String context, ToIntFunction<MemorySegment> call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            DnnlException.check(call.applyAsInt(out), function, context);
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** A {@code dnnl_dims_t} (int64[12]) holding {@code dims} in {@code arena}. */
    static MemorySegment dims(Arena arena, long... dims) {
        if (dims.length > dev.alexnet.nativ.dnnl.raw.dnnl_h.DNNL_MAX_NDIMS) throw new IllegalArgumentException("too many dims");
        MemorySegment s = arena.allocate(dev.alexnet.nativ.dnnl.raw.dnnl_h.DIMS_BYTES, 8);
        MemorySegment.copy(dims, 0, s, ValueLayout.JAVA_LONG, 0, dims.length);
        return s;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + (handle == null ? "[closed]" : "[0x" + Long.toHexString(handle.address()) + "]");
    }
}
