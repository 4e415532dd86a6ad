package dev.alexnet.bench;

import jdk.incubator.vector.FloatVector;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a result was measured on: CPU, cores, memory, load, JDK and JIT flags, and the native
 * libraries' versions when they load. Every lookup is best effort: a missing file or library gives
 * "unknown" (or is left out), never an exception, because a description must not stop a run.
 */
public final class Machine {
    private Machine() {}

    public static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu_model", cpuinfo("model name"));
        m.put("logical_cpus", Runtime.getRuntime().availableProcessors());
        String flags = cpuinfo("flags");
        m.put("avx512f", flags.contains("avx512f"));
        m.put("memory_total", meminfo());
        m.put("load_average", loadavg());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("jdk_version", System.getProperty("java.runtime.version", System.getProperty("java.version")));
        m.put("jdk_vendor", System.getProperty("java.vendor") + " (" + System.getProperty("java.vm.name") + ")");
        m.put("jvm_arguments", jvmArgs());
        m.put("jit_flags", jitFlags());
        m.put("vector_species_preferred_bits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
        return m;
    }

    /** The oneDNN version (and git hash) if the library loads, else why not. */
    public static String dnnlVersion() {
        try {
            Class<?> c = Class.forName("dev.alexnet.nativ.dnnl.Dnnl");
            String v = (String) c.getMethod("version").invoke(null);
            String h = "";
            try {
                h = " (" + c.getMethod("gitHash").invoke(null) + ")";
            } catch (ReflectiveOperationException ignored) {
                // version alone is enough
            }
            return v + h;
        } catch (Throwable t) {
            return "unavailable: " + rootMessage(t);
        }
    }

    /** Where each CUDA library loaded from, if the bindings find them. */
    public static Map<String, String> cudaLibraries() {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            Class<?> libs = Class.forName("dev.alexnet.nativ.cuda.CudaLibraries");
            for (String f : List.of("CUDA", "CUDNN", "CUBLAS", "NVRTC")) {
                Object lib = libs.getField(f).get(null);
                try {
                    boolean ok = (Boolean) libs.getMethod("available", lib.getClass()).invoke(null, lib);
                    m.put(f.toLowerCase(), ok ? String.valueOf(libs.getMethod("loadedFrom", lib.getClass()).invoke(null, lib)) : "not found");
                } catch (Throwable t) {
                    m.put(f.toLowerCase(), "unavailable: " + rootMessage(t));
                }
            }
        } catch (Throwable t) {
            m.put("cuda", "unavailable: " + rootMessage(t));
        }
        return m;
    }

    /** A device's own description, if its class offers one ({@code description()} or {@code info()}). */
    public static String deviceDescription(Object device) {
        for (String name : List.of("description", "info", "describe")) {
            try {
                Object o = device.getClass().getMethod(name).invoke(device);
                if (o != null) return o.toString();
            } catch (Throwable ignored) {
                // try the next name
            }
        }
        return null;
    }

    static String rootMessage(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.lang.reflect.InvocationTargetException || c.getMessage() == null) && c.getCause() != null) c = c.getCause();
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }

    static String cpuinfo(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int i = line.indexOf(':');
                if (i > 0 && line.substring(0, i).strip().equals(key)) return line.substring(i + 1).strip();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return "unknown";
    }

    static String meminfo() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format("%.1f GiB", kb / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return "unknown";
    }

    /** 1, 5 and 15 minute load averages: a busy shared machine shows here. */
    public static String loadavg() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
            return p[0] + " " + p[1] + " " + p[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static List<String> jvmArgs() {
        try {
            return ManagementFactory.getRuntimeMXBean().getInputArguments();
        } catch (Throwable t) {
            return List.of("unknown");
        }
    }

    /** The JIT settings that change kernel speed, as the running VM reports them. */
    static Map<String, String> jitFlags() {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            for (String f : List.of("TieredCompilation", "UseAVX", "MaxVectorSize", "UseSuperWord", "UseCompressedOops", "UseLargePages")) {
                try {
                    m.put(f, bean.getVMOption(f).getValue());
                } catch (RuntimeException ignored) {
                    // not on this VM
                }
            }
        } catch (Throwable t) {
            m.put("unknown", rootMessage(t));
        }
        return m;
    }
}
