package dev.alexnet.nativ.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.alexnet.nativ.cuda.CudaLibraries.NVRTC;
import static dev.alexnet.nativ.cuda.CudaLibraries.downcall;
import static dev.alexnet.nativ.cuda.CudaLibraries.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Raw binding to NVRTC ({@code nvrtc.h}): C names, {@code nvrtcResult} = int, no checking. Only what is used. */
@SuppressWarnings("unused")
public final class nvrtc_h {
    private nvrtc_h() {}

    public static final int NVRTC_SUCCESS = 0;
    public static final int NVRTC_ERROR_COMPILATION = 6;

    private static MethodHandle h(FunctionDescriptor fd, String... names) { return downcall(NVRTC, fd, names); }

    private static final MethodHandle nvrtcVersion$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "nvrtcVersion");
    private static final MethodHandle nvrtcGetErrorString$MH = h(FunctionDescriptor.of(ADDRESS, JAVA_INT), "nvrtcGetErrorString");
    private static final MethodHandle nvrtcCreateProgram$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), "nvrtcCreateProgram");
    private static final MethodHandle nvrtcCompileProgram$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), "nvrtcCompileProgram");
    private static final MethodHandle nvrtcGetProgramLogSize$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "nvrtcGetProgramLogSize");
    private static final MethodHandle nvrtcGetProgramLog$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "nvrtcGetProgramLog");
    private static final MethodHandle nvrtcGetCUBINSize$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "nvrtcGetCUBINSize");
    private static final MethodHandle nvrtcGetCUBIN$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "nvrtcGetCUBIN");
    private static final MethodHandle nvrtcDestroyProgram$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "nvrtcDestroyProgram");

    /** int* major, int* minor */
    public static int nvrtcVersion(MemorySegment major, MemorySegment minor) { try { return (int) nvrtcVersion$MH.invokeExact(major, minor); } catch (Throwable t) { throw rethrow(t); } }
    /** returns const char* */
    public static MemorySegment nvrtcGetErrorString(int result) { try { return (MemorySegment) nvrtcGetErrorString$MH.invokeExact(result); } catch (Throwable t) { throw rethrow(t); } }
    /** nvrtcProgram* prog, const char* src, const char* name, int numHeaders, const char* const* headers, const char* const* includeNames */
    public static int nvrtcCreateProgram(MemorySegment prog, MemorySegment src, MemorySegment name, int numHeaders, MemorySegment headers, MemorySegment includeNames) {
        try { return (int) nvrtcCreateProgram$MH.invokeExact(prog, src, name, numHeaders, headers, includeNames); } catch (Throwable t) { throw rethrow(t); }
    }
    /** const char* const* options */
    public static int nvrtcCompileProgram(MemorySegment prog, int numOptions, MemorySegment options) { try { return (int) nvrtcCompileProgram$MH.invokeExact(prog, numOptions, options); } catch (Throwable t) { throw rethrow(t); } }
    public static int nvrtcGetProgramLogSize(MemorySegment prog, MemorySegment size) { try { return (int) nvrtcGetProgramLogSize$MH.invokeExact(prog, size); } catch (Throwable t) { throw rethrow(t); } }
    public static int nvrtcGetProgramLog(MemorySegment prog, MemorySegment log) { try { return (int) nvrtcGetProgramLog$MH.invokeExact(prog, log); } catch (Throwable t) { throw rethrow(t); } }
    public static int nvrtcGetCUBINSize(MemorySegment prog, MemorySegment size) { try { return (int) nvrtcGetCUBINSize$MH.invokeExact(prog, size); } catch (Throwable t) { throw rethrow(t); } }
    public static int nvrtcGetCUBIN(MemorySegment prog, MemorySegment cubin) { try { return (int) nvrtcGetCUBIN$MH.invokeExact(prog, cubin); } catch (Throwable t) { throw rethrow(t); } }
    /** nvrtcProgram* prog */
    public static int nvrtcDestroyProgram(MemorySegment prog) { try { return (int) nvrtcDestroyProgram$MH.invokeExact(prog); } catch (Throwable t) { throw rethrow(t); } }
}
