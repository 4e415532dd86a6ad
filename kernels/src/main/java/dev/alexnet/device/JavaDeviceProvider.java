package dev.alexnet.device;

import java.util.List;

/** {@code java:N}: the project's kernels (Vector API unless {@code --kernels reference}) on N threads. */
public final class JavaDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "java"; }
    @Override public String usage() { return "java:N (Vector API kernels on N threads)"; }
    @Override public Device create(int number, Options options) { return new JavaDevice(number, options.javaKernels()); }

    /** {@code ref:N}: the scalar reference kernels, whatever {@code --kernels} says. */
    public static final class Reference implements DeviceProvider {
        @Override public String kind() { return "ref"; }
        @Override public List<String> aliases() { return List.of("reference"); }
        @Override public String usage() { return "ref:1 (scalar reference kernels)"; }
        @Override public Device create(int number, Options options) { return new JavaDevice(number, JavaDevice.Kernels.REFERENCE); }
    }
}
