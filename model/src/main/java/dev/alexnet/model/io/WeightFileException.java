package dev.alexnet.model.io;

/** A weight or data file that cannot be used as given: the message names the file, the tensor and what was expected. */
public class WeightFileException extends RuntimeException {
    public WeightFileException(String message) { super(message); }
    public WeightFileException(String message, Throwable cause) { super(message, cause); }
}
