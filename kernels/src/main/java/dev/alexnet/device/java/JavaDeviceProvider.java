package dev.alexnet.device.java;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code java:N}: the project's kernels (Vector API unless {@code --kernels reference}) on N threads. */
public final class JavaDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "java"; }
    @Override public String usage() { return "java:N (Vector API kernels on N threads)"; }
    @Override public Device create(int number, Options options) { return new JavaDevice(number, options.referenceKernels() ? JavaDevice.Kernels.REFERENCE : JavaDevice.Kernels.VECTOR); }

    /** The SIMD flags of /proc/cpuinfo the kernels and the JIT care about, in this order. */
    static final List<String> CPU_FLAGS = List.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl",
            "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "sve");

    @Override
    public Description describe() {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        List<String> d = new ArrayList<>();
        d.add("CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " hardware threads, "
                + System.getProperty("os.arch"));
        d.add("CPU features: " + String.join(" ", cpuFlags()));
        d.add("Vector API preferred species: " + s + " (" + s.length() + " float lanes, " + s.vectorBitSize() + " bits)");
        d.add("JVM: " + System.getProperty("java.vm.name") + " " + Runtime.version() + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
        return Description.found(d.toArray(String[]::new));
    }

    static String cpuModel() {
        for (String line : cpuinfo()) {
            if (line.startsWith("model name") || line.startsWith("Model") || line.startsWith("cpu model")) {
                return line.substring(line.indexOf(':') + 1).strip();
            }
        }
        return "unknown model";
    }

    /** The flags of {@link #CPU_FLAGS} the first processor of /proc/cpuinfo lists; "(no /proc/cpuinfo)" elsewhere. */
    static List<String> cpuFlags() {
        for (String line : cpuinfo()) {
            if (line.startsWith("flags") || line.startsWith("Features")) {
                List<String> have = Arrays.asList(line.substring(line.indexOf(':') + 1).strip().split("\\s+"));
                List<String> out = CPU_FLAGS.stream().filter(have::contains).toList();
                return out.isEmpty() ? List.of("(none of " + String.join(", ", CPU_FLAGS) + ")") : out;
            }
        }
        return List.of("(no /proc/cpuinfo)");
    }

    private static List<String> cpuinfo() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** {@code ref:N}: the scalar reference kernels, whatever {@code --kernels} says. */
    public static final class Reference implements DeviceProvider {
        @Override public String kind() { return "ref"; }
        @Override public List<String> aliases() { return List.of("reference"); }
        @Override public String usage() { return "ref:1 (scalar reference kernels)"; }
        @Override public Device create(int number, Options options) { return new JavaDevice(number, JavaDevice.Kernels.REFERENCE); }

        @Override
        public Description describe() {
            return Description.found("scalar Java kernels, double accumulation (the oracle every backend is tested against); always available");
        }
    }
}
