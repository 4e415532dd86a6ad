package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;
import dev.alexnet.device.java.JavaDevice;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Makes devices from their command-line names: {@code java:N} (Vector API kernels on N threads),
 * {@code ref:1} (scalar reference kernels), {@code dnnl:N} (oneDNN on N OpenMP threads),
 * {@code cuda:K} (GPU K), {@code ort:N} (ONNX Runtime's CPU provider on N intra-op threads, the external
 * anchor; in the bench module).
 *
 * <p>Each kind comes from a {@link DeviceProvider} that its module lists in
 * {@code META-INF/services/dev.alexnet.device.DeviceProvider}, found with {@link ServiceLoader}. A provider
 * touches its device class only when a device is made, so a missing native library is reported here,
 * with the reason, not when the registry is read.
 *
 * <pre>{@code
 * try (Device d = Devices.create("dnnl:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
 *     Program p = d.compile(layers, 32);
 * }
 * }</pre>
 */
public final class Devices {
    private Devices() {}

    public enum Precision { FP32, TF32 }

    /** Threads one device may ask for, per core: more only oversubscribes (override: {@code -Dalexnet.maxThreadsPerCore}). */
    static final int THREADS_PER_CORE = 4;

    private static final class Registry {
        static final Map<String, DeviceProvider> BY_NAME;
        static final List<DeviceProvider> PROVIDERS;

        static {
            Map<String, DeviceProvider> byName = new LinkedHashMap<>();
            List<DeviceProvider> all = new ArrayList<>();
            try {
                for (DeviceProvider p : ServiceLoader.load(DeviceProvider.class, Devices.class.getClassLoader())) {
                    all.add(p);
                    List<String> names = new ArrayList<>();
                    names.add(p.kind());
                    names.addAll(p.aliases());
                    for (String n : names) {
                        DeviceProvider before = byName.putIfAbsent(n.toLowerCase(Locale.ROOT), p);
                        if (before != null) {
                            throw new IllegalStateException("two device providers claim '" + n + "': "
                                    + before.getClass().getName() + " and " + p.getClass().getName());
                        }
                    }
                }
            } catch (ServiceConfigurationError e) {
                throw new IllegalStateException("a device provider cannot be loaded: " + e.getMessage(), e);
            }
            BY_NAME = Collections.unmodifiableMap(byName);
            PROVIDERS = List.copyOf(all);
        }
    }

    /** The registered providers, in class-path order. */
    public static List<DeviceProvider> providers() {
        return Registry.PROVIDERS;
    }

    /** The most threads one device may use here: {@value #THREADS_PER_CORE} per available core. */
    public static int maxThreads() {
        int perCore = Integer.getInteger("alexnet.maxThreadsPerCore", THREADS_PER_CORE);
        return Math.max(1, perCore) * Runtime.getRuntime().availableProcessors();
    }

    /**
     * @param name      {@code kind:number}, or {@code kind} for the kind's default number
     * @param kernels   which Java kernels {@code java:N} runs (the {@code --kernels} option)
     * @param precision for CUDA (FP32 strict by default; TF32 opt-in)
     * @throws IllegalArgumentException for an unknown kind, a bad number or too many threads
     * @throws IllegalStateException    when the device's classes cannot be loaded
     */
    public static Device create(String name, JavaDevice.Kernels kernels, Precision precision) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("empty device name: use " + usage());
        String[] p = name.strip().split(":", 2);
        String kind = p[0].strip().toLowerCase(Locale.ROOT);
        DeviceProvider provider = Registry.BY_NAME.get(kind);
        if (provider == null) {
            throw new IllegalArgumentException("unknown device kind '" + kind + "' in '" + name + "': use " + usage());
        }
        int n;
        try {
            n = p.length == 2 ? Integer.parseInt(p[1].strip()) : provider.defaultNumber();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + name + "': expected kind:number, e.g. java:2, dnnl:1, cuda:0");
        }
        if (provider.numberIsThreads()) {
            if (n < 1) throw new IllegalArgumentException("device '" + name + "' needs at least one thread");
            int max = maxThreads();
            if (n > max) {
                throw new IllegalArgumentException("device '" + name + "' asks for " + n + " threads; this machine has "
                        + Runtime.getRuntime().availableProcessors() + " cores, so at most " + max + " are allowed");
            }
        }
        DeviceProvider.Options options = new DeviceProvider.Options(kernels == JavaDevice.Kernels.REFERENCE, precision == Precision.TF32);
        try {
            return provider.create(n, options);
        } catch (LinkageError e) {
            throw new IllegalStateException("device '" + name + "' cannot start: " + e, e);
        }
    }

    private static String usage() {
        StringBuilder b = new StringBuilder();
        for (DeviceProvider p : Registry.PROVIDERS) b.append(b.isEmpty() ? "" : ", ").append(p.usage());
        return b.isEmpty() ? "(no device providers found on the class path)" : b.toString();
    }
}
