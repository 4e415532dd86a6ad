package dev.alexnet.nativ.dnnl;

import dev.alexnet.nativ.dnnl.raw.dnnl_h;
import dev.alexnet.nativ.dnnl.raw.dnnl_version_t;
import dev.alexnet.nativ.dnnl.raw.omp_h;

import java.lang.foreign.MemorySegment;

/** Library-wide queries and settings: version, verbosity, the calling thread's OpenMP thread count. */
public final class Dnnl {
    private Dnnl() {}

    /** {@code major.minor.patch} of the loaded library, e.g. {@code 3.13.0}. */
    public static String version() {
        MemorySegment v = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.LAYOUT.byteSize());
        return dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v);
    }

    /** The git hash the library was built from. */
    public static String gitHash() {
        MemorySegment v = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.LAYOUT.byteSize());
        MemorySegment h = dnnl_version_t.hash(v);
        return h.equals(MemorySegment.NULL) ? "" : h.reinterpret(256).getString(0);
    }

    /** {@code dnnl_version()->cpu_runtime}: 2 = OpenMP. */
    public static int cpuRuntime() {
        return dnnl_version_t.cpu_runtime(dnnl_h.dnnl_version().reinterpret(dnnl_version_t.LAYOUT.byteSize()));
    }

    /** 0 = quiet, 1 = executions, 2 = creation too (printed on stdout by the library). */
    public static void setVerbose(int level) {
        DnnlException.check(dnnl_h.dnnl_set_verbose(level), "dnnl_set_verbose");
    }

    /**
     * Sets the calling thread's OpenMP team size for the parallel regions it starts from now on
     * ({@code omp_set_num_threads} is per thread: other Java threads keep theirs).
     */
    public static void setThreadsForCallingThread(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be positive: " + threads);
        omp_h.omp_set_num_threads(threads);
    }

    /** {@code omp_get_max_threads()} on the calling thread. */
    public static int threadsForCallingThread() {
        return omp_h.omp_get_max_threads();
    }
}
