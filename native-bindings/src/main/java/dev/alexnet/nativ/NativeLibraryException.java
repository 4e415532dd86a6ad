package dev.alexnet.nativ;

/**
 * A native library could not be found, extracted or loaded. The message names every place that was
 * tried and what to do about it; nothing has been called in the library when this is thrown.
 */
public final class NativeLibraryException extends RuntimeException {
    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
