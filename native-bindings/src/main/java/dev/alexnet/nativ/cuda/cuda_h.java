package dev.alexnet.nativ.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.alexnet.nativ.cuda.CudaLibraries.CUDA;
import static dev.alexnet.nativ.cuda.CudaLibraries.downcall;
import static dev.alexnet.nativ.cuda.CudaLibraries.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw binding to the CUDA driver API ({@code cuda.h}, CUDA 12/13), shaped like jextract's output: C
 * names, C types ({@code CUresult} = int, {@code CUdeviceptr} = long, handles and pointers =
 * MemorySegment), no checking. Only what the project uses. The exported symbol names are the ones
 * {@code cuda.h}'s macros map to ({@code cuMemAlloc} is {@code cuMemAlloc_v2} in the library).
 *
 * <p>Touch this class only after {@link CudaLibraries#lookup} has found the driver (as {@link Cuda} does).
 */
@SuppressWarnings("unused")
public final class cuda_h {
    private cuda_h() {}

    // CUresult
    public static final int CUDA_SUCCESS = 0;
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    // CUdevice_attribute
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    // CUstream_flags
    public static final int CU_STREAM_DEFAULT = 0;
    public static final int CU_STREAM_NON_BLOCKING = 1;
    // CUevent_flags
    public static final int CU_EVENT_DEFAULT = 0;
    // CUstreamCaptureMode
    public static final int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    public static final int CU_STREAM_CAPTURE_MODE_RELAXED = 2;

    private static MethodHandle h(FunctionDescriptor fd, String... names) { return downcall(CUDA, fd, names); }

    private static final MethodHandle cuInit$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuInit");
    private static final MethodHandle cuDriverGetVersion$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuDriverGetVersion");
    private static final MethodHandle cuGetErrorName$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cuGetErrorName");
    private static final MethodHandle cuGetErrorString$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cuGetErrorString");
    private static final MethodHandle cuDeviceGetCount$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuDeviceGetCount");
    private static final MethodHandle cuDeviceGet$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceGet");
    private static final MethodHandle cuDeviceGetName$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetName");
    private static final MethodHandle cuDeviceGetAttribute$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetAttribute");
    private static final MethodHandle cuDevicePrimaryCtxRetain$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDevicePrimaryCtxRetain");
    private static final MethodHandle cuDevicePrimaryCtxRelease$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
    private static final MethodHandle cuCtxSetCurrent$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuCtxSetCurrent");
    private static final MethodHandle cuCtxGetCurrent$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuCtxGetCurrent");
    private static final MethodHandle cuStreamCreate$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamCreate");
    private static final MethodHandle cuStreamDestroy$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuStreamDestroy_v2", "cuStreamDestroy");
    private static final MethodHandle cuStreamSynchronize$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuStreamSynchronize");
    private static final MethodHandle cuStreamBeginCapture$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamBeginCapture_v2");
    private static final MethodHandle cuStreamEndCapture$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuStreamEndCapture");
    private static final MethodHandle cuEventCreate$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuEventCreate");
    private static final MethodHandle cuEventDestroy$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuEventDestroy_v2", "cuEventDestroy");
    private static final MethodHandle cuEventRecord$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuEventRecord");
    private static final MethodHandle cuEventSynchronize$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuEventSynchronize");
    private static final MethodHandle cuEventElapsedTime$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuEventElapsedTime_v2", "cuEventElapsedTime");
    private static final MethodHandle cuMemGetInfo$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuMemGetInfo_v2");
    private static final MethodHandle cuMemAlloc$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), "cuMemAlloc_v2");
    private static final MethodHandle cuMemFree$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_LONG), "cuMemFree_v2");
    private static final MethodHandle cuMemAllocHost$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), "cuMemAllocHost_v2");
    private static final MethodHandle cuMemFreeHost$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuMemFreeHost");
    private static final MethodHandle cuMemcpyHtoD$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG), "cuMemcpyHtoD_v2");
    private static final MethodHandle cuMemcpyDtoH$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), "cuMemcpyDtoH_v2");
    private static final MethodHandle cuMemcpyHtoDAsync$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS), "cuMemcpyHtoDAsync_v2");
    private static final MethodHandle cuMemcpyDtoHAsync$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS), "cuMemcpyDtoHAsync_v2");
    private static final MethodHandle cuMemsetD32Async$MH = h(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS), "cuMemsetD32Async");
    private static final MethodHandle cuModuleLoadData$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuModuleLoadData");
    private static final MethodHandle cuModuleUnload$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuModuleUnload");
    private static final MethodHandle cuModuleGetFunction$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuModuleGetFunction");
    private static final MethodHandle cuLaunchKernel$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuLaunchKernel");
    private static final MethodHandle cuGraphInstantiateWithFlags$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), "cuGraphInstantiateWithFlags");
    private static final MethodHandle cuGraphLaunch$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuGraphLaunch");
    private static final MethodHandle cuGraphExecDestroy$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuGraphExecDestroy");
    private static final MethodHandle cuGraphDestroy$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuGraphDestroy");

    public static int cuInit(int flags) { try { return (int) cuInit$MH.invokeExact(flags); } catch (Throwable t) { throw rethrow(t); } }
    /** int* driverVersion */
    public static int cuDriverGetVersion(MemorySegment version) { try { return (int) cuDriverGetVersion$MH.invokeExact(version); } catch (Throwable t) { throw rethrow(t); } }
    /** const char** pStr */
    public static int cuGetErrorName(int error, MemorySegment pStr) { try { return (int) cuGetErrorName$MH.invokeExact(error, pStr); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuGetErrorString(int error, MemorySegment pStr) { try { return (int) cuGetErrorString$MH.invokeExact(error, pStr); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuDeviceGetCount(MemorySegment count) { try { return (int) cuDeviceGetCount$MH.invokeExact(count); } catch (Throwable t) { throw rethrow(t); } }
    /** CUdevice* device (int) */
    public static int cuDeviceGet(MemorySegment device, int ordinal) { try { return (int) cuDeviceGet$MH.invokeExact(device, ordinal); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuDeviceGetName(MemorySegment name, int len, int dev) { try { return (int) cuDeviceGetName$MH.invokeExact(name, len, dev); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuDeviceGetAttribute(MemorySegment pi, int attrib, int dev) { try { return (int) cuDeviceGetAttribute$MH.invokeExact(pi, attrib, dev); } catch (Throwable t) { throw rethrow(t); } }
    /** CUcontext* pctx */
    public static int cuDevicePrimaryCtxRetain(MemorySegment pctx, int dev) { try { return (int) cuDevicePrimaryCtxRetain$MH.invokeExact(pctx, dev); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuDevicePrimaryCtxRelease(int dev) { try { return (int) cuDevicePrimaryCtxRelease$MH.invokeExact(dev); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuCtxSetCurrent(MemorySegment ctx) { try { return (int) cuCtxSetCurrent$MH.invokeExact(ctx); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuCtxGetCurrent(MemorySegment pctx) { try { return (int) cuCtxGetCurrent$MH.invokeExact(pctx); } catch (Throwable t) { throw rethrow(t); } }
    /** CUstream* phStream */
    public static int cuStreamCreate(MemorySegment phStream, int flags) { try { return (int) cuStreamCreate$MH.invokeExact(phStream, flags); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuStreamDestroy(MemorySegment stream) { try { return (int) cuStreamDestroy$MH.invokeExact(stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuStreamSynchronize(MemorySegment stream) { try { return (int) cuStreamSynchronize$MH.invokeExact(stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuStreamBeginCapture(MemorySegment stream, int mode) { try { return (int) cuStreamBeginCapture$MH.invokeExact(stream, mode); } catch (Throwable t) { throw rethrow(t); } }
    /** CUgraph* phGraph */
    public static int cuStreamEndCapture(MemorySegment stream, MemorySegment phGraph) { try { return (int) cuStreamEndCapture$MH.invokeExact(stream, phGraph); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuEventCreate(MemorySegment phEvent, int flags) { try { return (int) cuEventCreate$MH.invokeExact(phEvent, flags); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuEventDestroy(MemorySegment event) { try { return (int) cuEventDestroy$MH.invokeExact(event); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuEventRecord(MemorySegment event, MemorySegment stream) { try { return (int) cuEventRecord$MH.invokeExact(event, stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuEventSynchronize(MemorySegment event) { try { return (int) cuEventSynchronize$MH.invokeExact(event); } catch (Throwable t) { throw rethrow(t); } }
    /** float* pMilliseconds */
    public static int cuEventElapsedTime(MemorySegment ms, MemorySegment start, MemorySegment end) { try { return (int) cuEventElapsedTime$MH.invokeExact(ms, start, end); } catch (Throwable t) { throw rethrow(t); } }
    /** size_t* free, size_t* total */
    public static int cuMemGetInfo(MemorySegment free, MemorySegment total) { try { return (int) cuMemGetInfo$MH.invokeExact(free, total); } catch (Throwable t) { throw rethrow(t); } }
    /** CUdeviceptr* dptr (8 bytes) */
    public static int cuMemAlloc(MemorySegment dptr, long bytes) { try { return (int) cuMemAlloc$MH.invokeExact(dptr, bytes); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemFree(long dptr) { try { return (int) cuMemFree$MH.invokeExact(dptr); } catch (Throwable t) { throw rethrow(t); } }
    /** void** pp: page-locked host memory */
    public static int cuMemAllocHost(MemorySegment pp, long bytes) { try { return (int) cuMemAllocHost$MH.invokeExact(pp, bytes); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemFreeHost(MemorySegment p) { try { return (int) cuMemFreeHost$MH.invokeExact(p); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemcpyHtoD(long dst, MemorySegment src, long bytes) { try { return (int) cuMemcpyHtoD$MH.invokeExact(dst, src, bytes); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemcpyDtoH(MemorySegment dst, long src, long bytes) { try { return (int) cuMemcpyDtoH$MH.invokeExact(dst, src, bytes); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) { try { return (int) cuMemcpyHtoDAsync$MH.invokeExact(dst, src, bytes, stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) { try { return (int) cuMemcpyDtoHAsync$MH.invokeExact(dst, src, bytes, stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuMemsetD32Async(long dst, int value, long count, MemorySegment stream) { try { return (int) cuMemsetD32Async$MH.invokeExact(dst, value, count, stream); } catch (Throwable t) { throw rethrow(t); } }
    /** CUmodule* module, const void* image (cubin or PTX) */
    public static int cuModuleLoadData(MemorySegment module, MemorySegment image) { try { return (int) cuModuleLoadData$MH.invokeExact(module, image); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuModuleUnload(MemorySegment module) { try { return (int) cuModuleUnload$MH.invokeExact(module); } catch (Throwable t) { throw rethrow(t); } }
    /** CUfunction* hfunc, CUmodule, const char* name */
    public static int cuModuleGetFunction(MemorySegment hfunc, MemorySegment module, MemorySegment name) { try { return (int) cuModuleGetFunction$MH.invokeExact(hfunc, module, name); } catch (Throwable t) { throw rethrow(t); } }
    /** kernelParams: void*[n], each pointing at one argument's value; extra: NULL */
    public static int cuLaunchKernel(MemorySegment f, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                                     int sharedMemBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment extra) {
        try {
            return (int) cuLaunchKernel$MH.invokeExact(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, kernelParams, extra);
        } catch (Throwable t) { throw rethrow(t); }
    }
    /** CUgraphExec* phGraphExec, CUgraph, unsigned long long flags */
    public static int cuGraphInstantiateWithFlags(MemorySegment phGraphExec, MemorySegment graph, long flags) { try { return (int) cuGraphInstantiateWithFlags$MH.invokeExact(phGraphExec, graph, flags); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuGraphLaunch(MemorySegment exec, MemorySegment stream) { try { return (int) cuGraphLaunch$MH.invokeExact(exec, stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuGraphExecDestroy(MemorySegment exec) { try { return (int) cuGraphExecDestroy$MH.invokeExact(exec); } catch (Throwable t) { throw rethrow(t); } }
    public static int cuGraphDestroy(MemorySegment graph) { try { return (int) cuGraphDestroy$MH.invokeExact(graph); } catch (Throwable t) { throw rethrow(t); } }
}
