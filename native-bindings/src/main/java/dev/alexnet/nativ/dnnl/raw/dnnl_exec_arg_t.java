package dev.alexnet.nativ.dnnl.raw;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * {@code typedef struct { int arg; dnnl_memory_t memory; } dnnl_exec_arg_t;} (dnnl_types.h):
 * 16 bytes, {@code arg} at 0, 4 bytes of padding, {@code memory} at 8.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class dnnl_exec_arg_t {
    private dnnl_exec_arg_t() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("arg"),
            MemoryLayout.paddingLayout(4),
            ValueLayout.ADDRESS.withName("memory")).withName("dnnl_exec_arg_t");

    public static final long arg$offset = 0;
    public static final long memory$offset = 8;

    public static void arg(MemorySegment array, long index, int arg) {
        array.set(ValueLayout.JAVA_INT, index * LAYOUT.byteSize() + arg$offset, arg);
    }

    public static void memory(MemorySegment array, long index, MemorySegment memory) {
        array.set(ValueLayout.ADDRESS, index * LAYOUT.byteSize() + memory$offset, memory);
    }

    public static int arg(MemorySegment array, long index) {
        return array.get(ValueLayout.JAVA_INT, index * LAYOUT.byteSize() + arg$offset);
    }

    public static MemorySegment memory(MemorySegment array, long index) {
        return array.get(ValueLayout.ADDRESS, index * LAYOUT.byteSize() + memory$offset);
    }
}
