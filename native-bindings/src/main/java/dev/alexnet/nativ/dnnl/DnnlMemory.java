package dev.alexnet.nativ.dnnl;

import java.lang.foreign.MemorySegment;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/**
 * {@code dnnl_memory_t} over a buffer we own (a segment of a program's arena) or over a caller's
 * segment bound at run time ({@link #setData}). oneDNN never owns the buffer here.
 */
public final class DnnlMemory extends DnnlHandle {
    private DnnlMemory(MemorySegment h) { super(h); }

    /**
     * @param data a native segment of at least {@code md.byteSize()} bytes, or {@link MemorySegment#NULL}
     *             to bind one later
     */
    public static DnnlMemory wrap(DnnlMemoryDesc md, DnnlEngine engine, MemorySegment data) {
        if (!data.equals(MemorySegment.NULL)) {
            if (!data.isNative()) throw new IllegalArgumentException("oneDNN memory needs a native segment");
            if (data.byteSize() < md.byteSize()) {
                throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes for a memory of " + md.byteSize());
            }
        }
        return new DnnlMemory(create("dnnl_memory_create", null, out -> dnnl_memory_create(out, md.handle(), engine.handle(), data)));
    }

    /** Points the memory at another buffer (no copy). The caller has checked its size. */
    public void setData(MemorySegment data) {
        DnnlException.check(dnnl_memory_set_data_handle(handle(), data), "dnnl_memory_set_data_handle");
    }

    @Override int destroy(MemorySegment h) { return dnnl_memory_destroy(h); }
    @Override String destroyName() { return "dnnl_memory_destroy"; }
}
