package dev.alexnet.nativ.cuda;

/**
 * A CUDA, cuBLAS, cuDNN or NVRTC call that returned an error status. Carries the C function that
 * failed, the numeric status and its name as the library decodes it (cuGetErrorName,
 * cublasGetStatusString, cudnnGetErrorString, nvrtcGetErrorString), and for NVRTC the program log.
 */
public class CudaException extends RuntimeException {
    private final String call;
    private final int status;
    private final String statusName;

    public CudaException(String call, int status, String statusName, String detail) {
        super(call + " failed: " + statusName + " (" + status + ")" + (detail == null || detail.isBlank() ? "" : "\n" + detail));
        this.call = call;
        this.status = status;
        this.statusName = statusName;
    }

    /** For failures that have no status code (a library or symbol that cannot be found). */
    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.call = null;
        this.status = 0;
        this.statusName = null;
    }

    /** The C function that failed, e.g. {@code cuMemAlloc_v2}; null when no call was made. */
    public String call() { return call; }
    public int status() { return status; }
    /** The library's own name for the status, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String statusName() { return statusName; }
}
