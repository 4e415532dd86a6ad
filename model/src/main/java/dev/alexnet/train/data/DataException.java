package dev.alexnet.train.data;

/** Training data that cannot be used as given: the one-line message names the file or folder and the problem. */
public class DataException extends IllegalArgumentException {
    public DataException(String message) { super(message); }
    public DataException(String message, Throwable cause) { super(message, cause); }
}
