package dev.alexnet.nativ.dnnl.raw;

import dev.alexnet.nativ.dnnl.DnnlLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Raw bindings to the two {@code omp.h} functions we need, from the OpenMP runtime libdnnl was
 * linked against (the bundled GNU {@code libgomp.so.1}), found through libdnnl's lookup, which also
 * searches its dependencies. Both act on the calling thread's ICVs ({@code nthreads-var} is per
 * thread in OpenMP), which is why {@code DnnlDevice} calls {@link #omp_set_num_threads} on every
 * thread that compiles or runs.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class omp_h {
    private omp_h() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        MemorySegment addr = DnnlLibrary.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "symbol " + name + " not found in " + DnnlLibrary.load().library() + " or its dependencies: "
                        + "this oneDNN build does not use an OpenMP runtime"));
        return Linker.nativeLinker().downcallHandle(addr, fd);
    }

    private static final MethodHandle omp_set_num_threads$MH = downcall("omp_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
    /** {@code void omp_set_num_threads(int num_threads);} */
    public static void omp_set_num_threads(int num_threads) {
        try {
            omp_set_num_threads$MH.invokeExact(num_threads);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle omp_get_max_threads$MH = downcall("omp_get_max_threads", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    /** {@code int omp_get_max_threads(void);} */
    public static int omp_get_max_threads() {
        try {
            return (int) omp_get_max_threads$MH.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }
}
