package dev.alexnet.nativ.dnnl.raw;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * {@code typedef struct { int major; int minor; int patch; const char *hash; unsigned cpu_runtime;
 * unsigned gpu_runtime; } dnnl_version_t;} (dnnl_common_types.h): 32 bytes, hash at 16.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class dnnl_version_t {
    private dnnl_version_t() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("major"),
            ValueLayout.JAVA_INT.withName("minor"),
            ValueLayout.JAVA_INT.withName("patch"),
            MemoryLayout.paddingLayout(4),
            ValueLayout.ADDRESS.withName("hash"),
            ValueLayout.JAVA_INT.withName("cpu_runtime"),
            ValueLayout.JAVA_INT.withName("gpu_runtime")).withName("dnnl_version_t");

    /** {@code dnnl_cpu_runtime}: DNNL_RUNTIME_OMP. */
    public static final int DNNL_RUNTIME_OMP = 2;

    public static int major(MemorySegment v) { return v.get(ValueLayout.JAVA_INT, 0); }
    public static int minor(MemorySegment v) { return v.get(ValueLayout.JAVA_INT, 4); }
    public static int patch(MemorySegment v) { return v.get(ValueLayout.JAVA_INT, 8); }
    public static MemorySegment hash(MemorySegment v) { return v.get(ValueLayout.ADDRESS, 16); }
    public static int cpu_runtime(MemorySegment v) { return v.get(ValueLayout.JAVA_INT, 24); }
}
