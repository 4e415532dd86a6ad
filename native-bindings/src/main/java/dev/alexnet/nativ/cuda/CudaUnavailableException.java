package dev.alexnet.nativ.cuda;

/**
 * No usable CUDA stack here: a library is missing (no driver, no cuDNN ...), or the driver finds
 * no GPU. Thrown before any native call can crash the JVM; tests turn it into a skipped assumption.
 */
public final class CudaUnavailableException extends CudaException {
    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
