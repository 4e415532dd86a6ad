package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** {@code dnnl:N}: oneDNN on N OpenMP threads. The library loads when the first device is made, not when this class is found. */
public final class DnnlDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "dnnl"; }
    @Override public List<String> aliases() { return List.of("onednn"); }
    @Override public String usage() { return "dnnl:N (oneDNN on N threads)"; }
    @Override public Device create(int number, Options options) { return new DnnlDevice(number); }

    @Override
    public Description describe() {
        try {
            DnnlLibrary.Loaded lib = DnnlLibrary.load();
            String hash = Dnnl.gitHash();
            return Description.found(
                    "oneDNN " + Dnnl.version() + (hash.isEmpty() || hash.equals("N/A") ? "" : " (git " + hash + ")") + ", CPU runtime " + runtime(Dnnl.cpuRuntime()),
                    "ISA in use: " + effectiveIsa(lib),
                    "library: " + lib.library() + (lib.overridden() ? " (from " + DnnlLibrary.PROPERTY + " / " + DnnlLibrary.ENV + ")" : ""));
        } catch (RuntimeException | LinkageError e) {
            return Description.unavailable(String.valueOf(e.getMessage()).replaceAll("\\s+", " ").strip());
        }
    }

    private static String runtime(int r) {
        return switch (r) {
            case 1 -> "sequential";
            case 2 -> "OpenMP";
            case 4 -> "TBB";
            case 8 -> "threadpool";
            default -> "#" + r;
        };
    }

    /** {@code dnnl_get_effective_cpu_isa()}: the instruction set oneDNN's JIT generates code for on this CPU. */
    static String effectiveIsa(DnnlLibrary.Loaded lib) {
        Optional<MemorySegment> f = lib.lookup().find("dnnl_get_effective_cpu_isa");
        if (f.isEmpty()) return "unknown (no dnnl_get_effective_cpu_isa)";
        try {
            MethodHandle h = Linker.nativeLinker().downcallHandle(f.get(), FunctionDescriptor.of(JAVA_INT));
            int isa = (int) h.invokeExact();
            return isaName(isa);
        } catch (Throwable t) {
            return "unknown (" + t.getMessage() + ")";
        }
    }

    /** dnnl_cpu_isa_t of oneDNN 3.x (dnnl_types.h). */
    static String isaName(int isa) {
        return switch (isa) {
            case 0x0 -> "default";
            case 0x1 -> "SSE4.1";
            case 0x3 -> "AVX";
            case 0x7 -> "AVX2";
            case 0xf -> "AVX2 + VNNI";
            case 0x1f -> "AVX2 + VNNI-2";
            case 0x27 -> "AVX-512 (core)";
            case 0x67 -> "AVX-512 + VNNI";
            case 0xe7 -> "AVX-512 + VNNI + BF16";
            case 0x1ef -> "AVX10.1/512 (AVX-512 + FP16)";
            case 0xfef -> "AVX10.1/512 + AMX";
            case 0x1fef -> "AVX10.1/512 + AMX-FP16";
            default -> "0x" + Integer.toHexString(isa);
        };
    }
}
