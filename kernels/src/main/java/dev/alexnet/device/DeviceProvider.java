package dev.alexnet.device;

import java.util.List;

/**
 * Makes the devices of one kind ({@code java}, {@code dnnl}, {@code cuda} ...) from their command-line
 * number. Each module that holds a backend lists its provider in
 * {@code META-INF/services/dev.alexnet.device.DeviceProvider}; {@code dev.alexnet.model.Devices} finds them
 * with {@link java.util.ServiceLoader}, so the model needs no compile-time link to the bench module and
 * a provider's factory is an ordinary constructor call the compiler checks.
 */
public interface DeviceProvider {
    /** The canonical kind, lower case, e.g. {@code dnnl}. */
    String kind();

    /** Other names accepted for the kind, lower case, e.g. {@code onednn}. */
    default List<String> aliases() { return List.of(); }

    /** True when the number after the colon counts threads (and so is bounded by the cores); false for a GPU ordinal. */
    default boolean numberIsThreads() { return true; }

    /** The number used when the name has none ({@code dnnl} means {@code dnnl:1}). */
    default int defaultNumber() { return 1; }

    /** One line for the usage message, e.g. {@code dnnl:N (oneDNN on N threads)}. */
    String usage();

    /**
     * @param number  the number after the colon (threads, or the GPU ordinal)
     * @param options what the command line says about kernels and precision
     */
    Device create(int number, Options options);

    /**
     * What this backend finds on this machine, for {@code bin/alexnet devices}: library versions, the CPU's
     * or GPUs' features, or why it cannot run here. Loads the backend's libraries if needed; never throws
     * for a missing library (that is an unavailable description).
     */
    default Description describe() { return Description.found(); }

    /**
     * @param available whether {@link #create} can be expected to work here
     * @param details   one short line each, e.g. {@code oneDNN 3.13.0} or, when unavailable, the reason
     */
    record Description(boolean available, List<String> details) {
        public Description {
            details = List.copyOf(details);
        }

        public static Description found(String... details) { return new Description(true, List.of(details)); }

        public static Description unavailable(String reason) { return new Description(false, List.of(reason)); }
    }

    /**
     * @param referenceKernels {@code java:N} runs the scalar reference kernels instead of the Vector API ones
     *                         ({@code --kernels reference}); a plain flag, so the SPI names no backend's types
     * @param tf32             whether a GPU may use TF32 tensor cores (FP32 strict otherwise)
     */
    record Options(boolean referenceKernels, boolean tf32) {}
}
