package dev.alexnet.nativ.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static dev.alexnet.nativ.cuda.CudaLibraries.CUDNN;
import static dev.alexnet.nativ.cuda.CudaLibraries.downcall;
import static dev.alexnet.nativ.cuda.CudaLibraries.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw binding to cuDNN 9's legacy (descriptor) API ({@code cudnn_graph_v9.h}, {@code cudnn_ops_v9.h},
 * {@code cudnn_cnn_v9.h}), through the {@code libcudnn.so.9} shim that re-exports the sub-libraries.
 * C names; {@code cudnnStatus_t} and all enums = int; device pointers as long; alpha/beta blend
 * factors are host pointers to float. Only what is used.
 */
@SuppressWarnings("unused")
public final class cudnn_h {
    private cudnn_h() {}

    public static final int CUDNN_STATUS_SUCCESS = 0;
    public static final int CUDNN_DATA_FLOAT = 0;
    public static final int CUDNN_TENSOR_NCHW = 0;
    public static final int CUDNN_CROSS_CORRELATION = 1;
    public static final int CUDNN_POOLING_MAX = 0;
    public static final int CUDNN_NOT_PROPAGATE_NAN = 0;
    public static final int CUDNN_LRN_CROSS_CHANNEL_DIM1 = 0;
    public static final int CUDNN_DEFAULT_MATH = 0;
    public static final int CUDNN_TENSOR_OP_MATH = 1;
    public static final int CUDNN_FMA_MATH = 3;
    public static final int CUDNN_SOFTMAX_ACCURATE = 1;
    public static final int CUDNN_SOFTMAX_MODE_INSTANCE = 0;
    public static final int CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8;

    /** {@code cudnnConvolutionFwdAlgoPerf_t}: 48 bytes. */
    public static final StructLayout cudnnConvolutionFwdAlgoPerf_t = MemoryLayout.structLayout(
            JAVA_INT.withName("algo"), JAVA_INT.withName("status"), JAVA_FLOAT.withName("time"), MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("memory"), JAVA_INT.withName("determinism"), JAVA_INT.withName("mathType"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("reserved"), MemoryLayout.paddingLayout(4));
    public static final VarHandle perf$algo = field("algo");
    public static final VarHandle perf$status = field("status");
    public static final VarHandle perf$time = field("time");
    public static final VarHandle perf$memory = field("memory");
    public static final VarHandle perf$mathType = field("mathType");

    private static VarHandle field(String name) {
        // (segment, long base offset) -> value; the base offset selects the element of an array
        return cudnnConvolutionFwdAlgoPerf_t.varHandle(MemoryLayout.PathElement.groupElement(name));
    }

    private static MethodHandle h(FunctionDescriptor fd, String... names) { return downcall(CUDNN, fd, names); }
    private static FunctionDescriptor ints(int n, boolean address) {
        var args = new java.lang.foreign.MemoryLayout[n + (address ? 1 : 0)];
        int i = 0;
        if (address) args[i++] = ADDRESS;
        for (; i < args.length; i++) args[i] = JAVA_INT;
        return FunctionDescriptor.of(JAVA_INT, args);
    }

    private static final MethodHandle cudnnGetVersion$MH = h(FunctionDescriptor.of(JAVA_LONG), "cudnnGetVersion");
    private static final MethodHandle cudnnGetErrorString$MH = h(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cudnnGetErrorString");
    private static final MethodHandle cudnnCreate$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnCreate");
    private static final MethodHandle cudnnDestroy$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnDestroy");
    private static final MethodHandle cudnnSetStream$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cudnnSetStream");
    private static final MethodHandle cudnnCreateTensorDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnCreateTensorDescriptor");
    private static final MethodHandle cudnnSetTensor4dDescriptor$MH = h(ints(6, true), "cudnnSetTensor4dDescriptor");
    private static final MethodHandle cudnnSetTensor4dDescriptorEx$MH = h(ints(9, true), "cudnnSetTensor4dDescriptorEx");
    private static final MethodHandle cudnnDestroyTensorDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnDestroyTensorDescriptor");
    private static final MethodHandle cudnnCreateFilterDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnCreateFilterDescriptor");
    private static final MethodHandle cudnnSetFilter4dDescriptor$MH = h(ints(6, true), "cudnnSetFilter4dDescriptor");
    private static final MethodHandle cudnnDestroyFilterDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnDestroyFilterDescriptor");
    private static final MethodHandle cudnnCreateConvolutionDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnCreateConvolutionDescriptor");
    private static final MethodHandle cudnnSetConvolution2dDescriptor$MH = h(ints(8, true), "cudnnSetConvolution2dDescriptor");
    private static final MethodHandle cudnnSetConvolutionGroupCount$MH = h(ints(1, true), "cudnnSetConvolutionGroupCount");
    private static final MethodHandle cudnnSetConvolutionMathType$MH = h(ints(1, true), "cudnnSetConvolutionMathType");
    private static final MethodHandle cudnnGetConvolution2dForwardOutputDim$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS), "cudnnGetConvolution2dForwardOutputDim");
    private static final MethodHandle cudnnDestroyConvolutionDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnDestroyConvolutionDescriptor");
    private static final MethodHandle cudnnFindConvolutionForwardAlgorithm$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, ADDRESS, ADDRESS), "cudnnFindConvolutionForwardAlgorithm");
    private static final MethodHandle cudnnGetConvolutionForwardWorkspaceSize$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, JAVA_INT, ADDRESS), "cudnnGetConvolutionForwardWorkspaceSize");
    private static final MethodHandle cudnnConvolutionForward$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
            ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG), "cudnnConvolutionForward");
    private static final MethodHandle cudnnCreatePoolingDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnCreatePoolingDescriptor");
    private static final MethodHandle cudnnSetPooling2dDescriptor$MH = h(ints(8, true), "cudnnSetPooling2dDescriptor");
    private static final MethodHandle cudnnPoolingForward$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
            ADDRESS, ADDRESS, JAVA_LONG), "cudnnPoolingForward");
    private static final MethodHandle cudnnDestroyPoolingDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnDestroyPoolingDescriptor");
    private static final MethodHandle cudnnCreateLRNDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnCreateLRNDescriptor");
    private static final MethodHandle cudnnSetLRNDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_DOUBLE, JAVA_DOUBLE, JAVA_DOUBLE), "cudnnSetLRNDescriptor");
    private static final MethodHandle cudnnLRNCrossChannelForward$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS,
            JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG), "cudnnLRNCrossChannelForward");
    private static final MethodHandle cudnnDestroyLRNDescriptor$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cudnnDestroyLRNDescriptor");
    private static final MethodHandle cudnnSoftmaxForward$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
            JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG), "cudnnSoftmaxForward");

    public static long cudnnGetVersion() { try { return (long) cudnnGetVersion$MH.invokeExact(); } catch (Throwable t) { throw rethrow(t); } }
    public static MemorySegment cudnnGetErrorString(int status) { try { return (MemorySegment) cudnnGetErrorString$MH.invokeExact(status); } catch (Throwable t) { throw rethrow(t); } }
    /** cudnnHandle_t* handle */
    public static int cudnnCreate(MemorySegment handle) { try { return (int) cudnnCreate$MH.invokeExact(handle); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnDestroy(MemorySegment handle) { try { return (int) cudnnDestroy$MH.invokeExact(handle); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSetStream(MemorySegment handle, MemorySegment stream) { try { return (int) cudnnSetStream$MH.invokeExact(handle, stream); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnCreateTensorDescriptor(MemorySegment desc) { try { return (int) cudnnCreateTensorDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSetTensor4dDescriptor(MemorySegment desc, int format, int dataType, int n, int c, int h, int w) {
        try { return (int) cudnnSetTensor4dDescriptor$MH.invokeExact(desc, format, dataType, n, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnSetTensor4dDescriptorEx(MemorySegment desc, int dataType, int n, int c, int h, int w, int nStride, int cStride, int hStride, int wStride) {
        try { return (int) cudnnSetTensor4dDescriptorEx$MH.invokeExact(desc, dataType, n, c, h, w, nStride, cStride, hStride, wStride); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnDestroyTensorDescriptor(MemorySegment desc) { try { return (int) cudnnDestroyTensorDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnCreateFilterDescriptor(MemorySegment desc) { try { return (int) cudnnCreateFilterDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSetFilter4dDescriptor(MemorySegment desc, int dataType, int format, int k, int c, int h, int w) {
        try { return (int) cudnnSetFilter4dDescriptor$MH.invokeExact(desc, dataType, format, k, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnDestroyFilterDescriptor(MemorySegment desc) { try { return (int) cudnnDestroyFilterDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnCreateConvolutionDescriptor(MemorySegment desc) { try { return (int) cudnnCreateConvolutionDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSetConvolution2dDescriptor(MemorySegment desc, int padH, int padW, int u, int v, int dilationH, int dilationW, int mode, int computeType) {
        try { return (int) cudnnSetConvolution2dDescriptor$MH.invokeExact(desc, padH, padW, u, v, dilationH, dilationW, mode, computeType); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnSetConvolutionGroupCount(MemorySegment desc, int groups) { try { return (int) cudnnSetConvolutionGroupCount$MH.invokeExact(desc, groups); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSetConvolutionMathType(MemorySegment desc, int mathType) { try { return (int) cudnnSetConvolutionMathType$MH.invokeExact(desc, mathType); } catch (Throwable t) { throw rethrow(t); } }
    /** int* n, c, h, w */
    public static int cudnnGetConvolution2dForwardOutputDim(MemorySegment conv, MemorySegment x, MemorySegment w, MemorySegment n, MemorySegment c, MemorySegment h, MemorySegment wOut) {
        try { return (int) cudnnGetConvolution2dForwardOutputDim$MH.invokeExact(conv, x, w, n, c, h, wOut); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnDestroyConvolutionDescriptor(MemorySegment desc) { try { return (int) cudnnDestroyConvolutionDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    /** int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults */
    public static int cudnnFindConvolutionForwardAlgorithm(MemorySegment handle, MemorySegment x, MemorySegment w, MemorySegment conv, MemorySegment y,
                                                           int requested, MemorySegment returned, MemorySegment perf) {
        try { return (int) cudnnFindConvolutionForwardAlgorithm$MH.invokeExact(handle, x, w, conv, y, requested, returned, perf); } catch (Throwable t) { throw rethrow(t); }
    }
    /** size_t* sizeInBytes */
    public static int cudnnGetConvolutionForwardWorkspaceSize(MemorySegment handle, MemorySegment x, MemorySegment w, MemorySegment conv, MemorySegment y, int algo, MemorySegment size) {
        try { return (int) cudnnGetConvolutionForwardWorkspaceSize$MH.invokeExact(handle, x, w, conv, y, algo, size); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnConvolutionForward(MemorySegment handle, MemorySegment alpha, MemorySegment xDesc, long x, MemorySegment wDesc, long w,
                                              MemorySegment convDesc, int algo, long workspace, long workspaceBytes, MemorySegment beta, MemorySegment yDesc, long y) {
        try { return (int) cudnnConvolutionForward$MH.invokeExact(handle, alpha, xDesc, x, wDesc, w, convDesc, algo, workspace, workspaceBytes, beta, yDesc, y); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnCreatePoolingDescriptor(MemorySegment desc) { try { return (int) cudnnCreatePoolingDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSetPooling2dDescriptor(MemorySegment desc, int mode, int nanOpt, int windowH, int windowW, int padV, int padH, int strideV, int strideH) {
        try { return (int) cudnnSetPooling2dDescriptor$MH.invokeExact(desc, mode, nanOpt, windowH, windowW, padV, padH, strideV, strideH); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnPoolingForward(MemorySegment handle, MemorySegment pool, MemorySegment alpha, MemorySegment xDesc, long x, MemorySegment beta, MemorySegment yDesc, long y) {
        try { return (int) cudnnPoolingForward$MH.invokeExact(handle, pool, alpha, xDesc, x, beta, yDesc, y); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnDestroyPoolingDescriptor(MemorySegment desc) { try { return (int) cudnnDestroyPoolingDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnCreateLRNDescriptor(MemorySegment desc) { try { return (int) cudnnCreateLRNDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    /** cuDNN divides alpha by n: pass {@code LrnParams.libraryAlpha()}. */
    public static int cudnnSetLRNDescriptor(MemorySegment desc, int n, double alpha, double beta, double k) {
        try { return (int) cudnnSetLRNDescriptor$MH.invokeExact(desc, n, alpha, beta, k); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnLRNCrossChannelForward(MemorySegment handle, MemorySegment lrn, int mode, MemorySegment alpha, MemorySegment xDesc, long x,
                                                  MemorySegment beta, MemorySegment yDesc, long y) {
        try { return (int) cudnnLRNCrossChannelForward$MH.invokeExact(handle, lrn, mode, alpha, xDesc, x, beta, yDesc, y); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cudnnDestroyLRNDescriptor(MemorySegment desc) { try { return (int) cudnnDestroyLRNDescriptor$MH.invokeExact(desc); } catch (Throwable t) { throw rethrow(t); } }
    public static int cudnnSoftmaxForward(MemorySegment handle, int algo, int mode, MemorySegment alpha, MemorySegment xDesc, long x, MemorySegment beta, MemorySegment yDesc, long y) {
        try { return (int) cudnnSoftmaxForward$MH.invokeExact(handle, algo, mode, alpha, xDesc, x, beta, yDesc, y); } catch (Throwable t) { throw rethrow(t); }
    }
}
