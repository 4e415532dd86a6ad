package dev.alexnet.nativ.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.alexnet.nativ.cuda.CudaLibraries.CUBLAS;
import static dev.alexnet.nativ.cuda.CudaLibraries.downcall;
import static dev.alexnet.nativ.cuda.CudaLibraries.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw binding to cuBLAS ({@code cublas_api.h}, cuBLAS 12/13): C names, {@code cublasStatus_t} = int,
 * device pointers as long, host pointers (alpha, beta) as MemorySegment. Column-major, as cuBLAS is.
 */
@SuppressWarnings("unused")
public final class cublas_h {
    private cublas_h() {}

    public static final int CUBLAS_STATUS_SUCCESS = 0;
    // cublasOperation_t
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    // cublasMath_t
    public static final int CUBLAS_DEFAULT_MATH = 0;
    public static final int CUBLAS_TF32_TENSOR_OP_MATH = 3;
    // cublasComputeType_t
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    // cublasGemmAlgo_t
    public static final int CUBLAS_GEMM_DEFAULT = -1;
    // cudaDataType
    public static final int CUDA_R_32F = 0;

    private static MethodHandle h(FunctionDescriptor fd, String... names) { return downcall(CUBLAS, fd, names); }

    private static final MethodHandle cublasCreate$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasCreate_v2");
    private static final MethodHandle cublasDestroy$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasDestroy_v2");
    private static final MethodHandle cublasSetStream$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasSetStream_v2");
    private static final MethodHandle cublasSetWorkspace$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), "cublasSetWorkspace_v2");
    private static final MethodHandle cublasSetMathMode$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cublasSetMathMode");
    private static final MethodHandle cublasGetStatusName$MH = h(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusName");
    private static final MethodHandle cublasGetStatusString$MH = h(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusString");
    private static final MethodHandle cublasSgemm$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), "cublasSgemm_v2");
    private static final MethodHandle cublasGemmEx$MH = h(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), "cublasGemmEx");

    /** cublasHandle_t* handle */
    public static int cublasCreate_v2(MemorySegment handle) { try { return (int) cublasCreate$MH.invokeExact(handle); } catch (Throwable t) { throw rethrow(t); } }
    public static int cublasDestroy_v2(MemorySegment handle) { try { return (int) cublasDestroy$MH.invokeExact(handle); } catch (Throwable t) { throw rethrow(t); } }
    public static int cublasSetStream_v2(MemorySegment handle, MemorySegment stream) { try { return (int) cublasSetStream$MH.invokeExact(handle, stream); } catch (Throwable t) { throw rethrow(t); } }
    /** void* workspace (device), size_t bytes */
    public static int cublasSetWorkspace_v2(MemorySegment handle, long workspace, long bytes) { try { return (int) cublasSetWorkspace$MH.invokeExact(handle, workspace, bytes); } catch (Throwable t) { throw rethrow(t); } }
    public static int cublasSetMathMode(MemorySegment handle, int mode) { try { return (int) cublasSetMathMode$MH.invokeExact(handle, mode); } catch (Throwable t) { throw rethrow(t); } }
    public static MemorySegment cublasGetStatusName(int status) { try { return (MemorySegment) cublasGetStatusName$MH.invokeExact(status); } catch (Throwable t) { throw rethrow(t); } }
    public static MemorySegment cublasGetStatusString(int status) { try { return (MemorySegment) cublasGetStatusString$MH.invokeExact(status); } catch (Throwable t) { throw rethrow(t); } }
    /** C = alpha op(A) op(B) + beta C, column-major; alpha and beta are host float pointers. */
    public static int cublasSgemm_v2(MemorySegment handle, int transa, int transb, int m, int n, int k, MemorySegment alpha,
                                     long a, int lda, long b, int ldb, MemorySegment beta, long c, int ldc) {
        try { return (int) cublasSgemm$MH.invokeExact(handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); } catch (Throwable t) { throw rethrow(t); }
    }
    public static int cublasGemmEx(MemorySegment handle, int transa, int transb, int m, int n, int k, MemorySegment alpha,
                                   long a, int aType, int lda, long b, int bType, int ldb, MemorySegment beta,
                                   long c, int cType, int ldc, int computeType, int algo) {
        try {
            return (int) cublasGemmEx$MH.invokeExact(handle, transa, transb, m, n, k, alpha, a, aType, lda, b, bType, ldb, beta, c, cType, ldc, computeType, algo);
        } catch (Throwable t) { throw rethrow(t); }
    }
}
