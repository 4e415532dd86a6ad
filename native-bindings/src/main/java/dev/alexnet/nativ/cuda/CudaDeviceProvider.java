package dev.alexnet.nativ.cuda;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@code cuda:K}: GPU K through one stream. Without a driver or GPU, {@link #create} throws
 * {@link CudaUnavailableException} ("no CUDA driver: ...") before any native call.
 */
public final class CudaDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "cuda"; }
    @Override public List<String> aliases() { return List.of("gpu"); }
    @Override public boolean numberIsThreads() { return false; }
    @Override public int defaultNumber() { return 0; }
    @Override public String usage() { return "cuda:K (GPU K)"; }

    @Override
    public Device create(int number, Options options) {
        if (number < 0) throw new IllegalArgumentException("a GPU ordinal is 0 or more, got " + number);
        return new CudaDevice(number, options.tf32() ? CudaDevice.Precision.TF32 : CudaDevice.Precision.FP32);
    }

    @Override
    public Description describe() {
        int count;
        try {
            count = Cuda.deviceCount();
        } catch (RuntimeException | LinkageError e) {
            return Description.unavailable(oneLine(e.getMessage()));
        }
        if (count == 0) return Description.unavailable("the CUDA driver loads but reports no GPU");
        List<String> d = new ArrayList<>();
        int v = Cuda.driverVersion();
        d.add("CUDA driver API " + v / 1000 + "." + v % 1000 / 10 + " (" + CudaLibraries.loadedFrom(CudaLibraries.CUDA) + ")");
        d.add("cuDNN " + lib(() -> {
            long c = Cuda.cudnnVersion(); // 9.x: major*10000 + minor*100 + patch
            return c / 10000 + "." + c % 10000 / 100 + "." + c % 100 + " (" + CudaLibraries.loadedFrom(CudaLibraries.CUDNN) + ")";
        }));
        d.add("cuBLAS " + lib(() -> cublasVersion() + " (" + CudaLibraries.loadedFrom(CudaLibraries.CUBLAS) + ")"));
        d.add("NVRTC " + lib(() -> Cuda.nvrtcVersion() + " (" + CudaLibraries.loadedFrom(CudaLibraries.NVRTC) + ")"));
        for (int i = 0; i < count; i++) {
            int cc = Cuda.computeCapability(i);
            d.add("GPU " + i + ": " + Cuda.deviceName(i) + ", compute capability " + cc / 10 + "." + cc % 10);
        }
        return Description.found(d.toArray(String[]::new));
    }

    private static String lib(Supplier<String> s) {
        try {
            return s.get();
        } catch (RuntimeException | LinkageError e) {
            return "not usable: " + oneLine(e.getMessage());
        }
    }

    /** {@code cublasGetProperty(MAJOR_VERSION | MINOR_VERSION | PATCH_LEVEL)}: needs no handle, so no GPU context. */
    private static String cublasVersion() {
        MemorySegment f = CudaLibraries.lookup(CudaLibraries.CUBLAS).find("cublasGetProperty")
                .orElseThrow(() -> new CudaUnavailableException("cuBLAS has no cublasGetProperty", null));
        MethodHandle h = Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        int[] part = new int[3];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            for (int p = 0; p < 3; p++) {
                int rc = (int) h.invokeExact(p, out);
                if (rc != 0) throw new CudaUnavailableException("cublasGetProperty failed with status " + rc, null);
                part[p] = out.get(JAVA_INT, 0);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return part[0] + "." + part[1] + "." + part[2];
    }

    private static String oneLine(String s) {
        return s == null ? "unknown reason" : s.replaceAll("\\s+", " ").strip();
    }
}
