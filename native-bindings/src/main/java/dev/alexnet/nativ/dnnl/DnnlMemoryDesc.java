package dev.alexnet.nativ.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/**
 * {@code dnnl_memory_desc_t}, always owned: descriptors that belong to a primitive descriptor are
 * cloned ({@link DnnlPrimitiveDesc#queryMd}) so that every Java object destroys its own.
 */
public final class DnnlMemoryDesc extends DnnlHandle {
    private DnnlMemoryDesc(MemorySegment h) { super(h); }

    /** f32 with a format tag ({@code dnnl_format_tag_any} lets a primitive choose). */
    public static DnnlMemoryDesc of(int tag, long... dims) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = dims(a, dims);
            return new DnnlMemoryDesc(create("dnnl_memory_desc_create_with_tag", "f32 dims " + Arrays.toString(dims) + " tag " + tag,
                    out -> dnnl_memory_desc_create_with_tag(out, dims.length, d, dnnl_f32, tag)));
        }
    }

    /** Takes a copy of a descriptor we do not own (e.g. one returned by {@code dnnl_primitive_desc_query_md}). */
    public static DnnlMemoryDesc copyOf(MemorySegment borrowed) {
        if (borrowed == null || borrowed.equals(MemorySegment.NULL)) throw new IllegalArgumentException("null memory descriptor");
        return new DnnlMemoryDesc(create("dnnl_memory_desc_clone", null, out -> dnnl_memory_desc_clone(out, borrowed)));
    }

    /**
     * The same memory under new dims ({@code dnnl_memory_desc_reshape}), or null where oneDNN cannot
     * express it (for example splitting a channel-blocked dimension).
     */
    public DnnlMemoryDesc reshapeOrNull(long... dims) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = dims(a, dims);
            MemorySegment out = a.allocate(C_POINTER);
            int st = dnnl_memory_desc_reshape(out, handle(), dims.length, d);
            if (st == dnnl_invalid_arguments) return null;
            DnnlException.check(st, "dnnl_memory_desc_reshape", Arrays.toString(dims));
            return new DnnlMemoryDesc(out.get(C_POINTER, 0));
        }
    }

    /** {@code dnnl_memory_desc_equal}: same dims, type and layout. */
    public boolean sameAs(DnnlMemoryDesc other) {
        return dnnl_memory_desc_equal(handle(), other.handle()) == 1;
    }

    /** Bytes of the memory it describes, padding included. */
    public long byteSize() {
        return dnnl_memory_desc_get_size(handle());
    }

    @Override int destroy(MemorySegment h) { return dnnl_memory_desc_destroy(h); }
    @Override String destroyName() { return "dnnl_memory_desc_destroy"; }
}
