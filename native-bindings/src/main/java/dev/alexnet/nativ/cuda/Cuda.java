package dev.alexnet.nativ.cuda;

import dev.alexnet.device.JvmFlags;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The safe layer over the raw bindings: status checks that throw {@link CudaException} with the call
 * and the library's own status name, driver initialisation, device queries, and NVRTC compilation of
 * the project's CUDA C sources (resources next to this class), compiled once per architecture and
 * loaded once per device ordinal.
 */
public final class Cuda {
    private Cuda() {}

    // ---------------------------------------------------------------- status checks

    /** Throws unless a driver call succeeded; the message carries cuGetErrorName and cuGetErrorString. */
    public static void check(int status, String call) {
        if (status != cuda_h.CUDA_SUCCESS) throw new CudaException(call, status, driverErrorName(status), driverErrorString(status));
    }

    public static void checkCublas(int status, String call) {
        if (status != cublas_h.CUBLAS_STATUS_SUCCESS) {
            String name = safe(() -> CudaLibraries.string(cublas_h.cublasGetStatusName(status)));
            throw new CudaException(call, status, name == null ? "CUBLAS_STATUS_" + status : name,
                    safe(() -> CudaLibraries.string(cublas_h.cublasGetStatusString(status))));
        }
    }

    public static void checkCudnn(int status, String call) {
        if (status != cudnn_h.CUDNN_STATUS_SUCCESS) {
            String name = safe(() -> CudaLibraries.string(cudnn_h.cudnnGetErrorString(status)));
            throw new CudaException(call, status, name == null ? "CUDNN_STATUS_" + status : name, null);
        }
    }

    public static void checkNvrtc(int status, String call, String log) {
        if (status != nvrtc_h.NVRTC_SUCCESS) {
            String name = safe(() -> CudaLibraries.string(nvrtc_h.nvrtcGetErrorString(status)));
            throw new CudaException(call, status, name == null ? "NVRTC_ERROR_" + status : name, log);
        }
    }

    static String driverErrorName(int status) {
        String s = driverString(status, true);
        return s == null ? "CUresult " + status : s;
    }

    static String driverErrorString(int status) {
        return driverString(status, false);
    }

    private static String driverString(int status, boolean name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = name ? cuda_h.cuGetErrorName(status, p) : cuda_h.cuGetErrorString(status, p);
            return rc == 0 ? CudaLibraries.string(p.get(ADDRESS, 0)) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String safe(java.util.function.Supplier<String> s) {
        try {
            return s.get();
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- driver and devices

    private static volatile boolean initialised;

    /**
     * Loads the driver and calls {@code cuInit(0)} once.
     *
     * @throws CudaUnavailableException when libcuda cannot be loaded or the driver sees no GPU
     */
    public static synchronized void init() {
        if (initialised) return;
        JvmFlags.requireNativeAccess(Cuda.class, "the CUDA device");
        CudaLibraries.lookup(CudaLibraries.CUDA); // a clean exception here, before any binding class loads
        int rc = cuda_h.cuInit(0);
        if (rc != 0) {
            throw new CudaUnavailableException("no usable CUDA device: cuInit failed with " + driverErrorName(rc)
                    + " (" + rc + ")" + (driverErrorString(rc) == null ? "" : ": " + driverErrorString(rc)), null);
        }
        initialised = true;
    }

    /** True when the driver loads and reports at least one device (never throws). */
    public static boolean available() {
        try {
            return deviceCount() > 0;
        } catch (CudaException e) {
            return false;
        }
    }

    public static int deviceCount() {
        init();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_INT);
            check(cuda_h.cuDeviceGetCount(n), "cuDeviceGetCount");
            return n.get(JAVA_INT, 0);
        }
    }

    public static int driverVersion() {
        init();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check(cuda_h.cuDriverGetVersion(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        }
    }

    /** The CUdevice handle of an ordinal. */
    static int device(int ordinal) {
        init();
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaUnavailableException("no CUDA device " + ordinal + ": the driver reports " + count + " device(s)", null);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(JAVA_INT);
            check(cuda_h.cuDeviceGet(d, ordinal), "cuDeviceGet");
            return d.get(JAVA_INT, 0);
        }
    }

    public static String deviceName(int ordinal) {
        int dev = device(ordinal);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(256);
            check(cuda_h.cuDeviceGetName(s, 256, dev), "cuDeviceGetName");
            return s.getString(0);
        }
    }

    public static int attribute(int ordinal, int attribute) {
        int dev = device(ordinal);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check(cuda_h.cuDeviceGetAttribute(v, attribute, dev), "cuDeviceGetAttribute");
            return v.get(JAVA_INT, 0);
        }
    }

    /** Compute capability as major*10+minor, e.g. 90 for the H100. */
    public static int computeCapability(int ordinal) {
        return attribute(ordinal, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                + attribute(ordinal, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    }

    public static long cudnnVersion() {
        CudaLibraries.lookup(CudaLibraries.CUDNN);
        return cudnn_h.cudnnGetVersion();
    }

    public static String nvrtcVersion() {
        CudaLibraries.lookup(CudaLibraries.NVRTC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ma = a.allocate(JAVA_INT), mi = a.allocate(JAVA_INT);
            checkNvrtc(nvrtc_h.nvrtcVersion(ma, mi), "nvrtcVersion", null);
            return ma.get(JAVA_INT, 0) + "." + mi.get(JAVA_INT, 0);
        }
    }

    // ---------------------------------------------------------------- NVRTC

    private static final ConcurrentHashMap<String, byte[]> CUBINS = new ConcurrentHashMap<>();

    /** The text of a CUDA C resource in this package, e.g. {@code alexnet_kernels.cu}. */
    public static String source(String resource) {
        try (InputStream in = Cuda.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("resource " + resource + " missing next to " + Cuda.class.getName());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Compiles CUDA C to SASS for {@code sm_<arch>} (no driver JIT at load), once per (source, arch).
     * A compilation error carries NVRTC's program log.
     */
    public static byte[] compile(String name, String source, int arch) {
        return CUBINS.computeIfAbsent(name + "@" + arch + "#" + source.hashCode(), k -> compileNow(name, source, arch));
    }

    private static byte[] compileNow(String name, String source, int arch) {
        CudaLibraries.lookup(CudaLibraries.NVRTC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment prog = a.allocate(ADDRESS);
            checkNvrtc(nvrtc_h.nvrtcCreateProgram(prog, a.allocateFrom(source), a.allocateFrom(name), 0, MemorySegment.NULL, MemorySegment.NULL),
                    "nvrtcCreateProgram", null);
            MemorySegment p = prog.get(ADDRESS, 0);
            try {
                String[] opts = {"--gpu-architecture=sm_" + arch, "-default-device", "-std=c++17"};
                MemorySegment optv = a.allocate(ADDRESS, opts.length);
                for (int i = 0; i < opts.length; i++) optv.setAtIndex(ADDRESS, i, a.allocateFrom(opts[i]));
                int rc = nvrtc_h.nvrtcCompileProgram(p, opts.length, optv);
                if (rc != 0) checkNvrtc(rc, "nvrtcCompileProgram(" + name + ", sm_" + arch + ")", log(a, p));
                MemorySegment size = a.allocate(JAVA_LONG);
                checkNvrtc(nvrtc_h.nvrtcGetCUBINSize(p, size), "nvrtcGetCUBINSize", null);
                long n = size.get(JAVA_LONG, 0);
                if (n == 0) throw new CudaException("nvrtcGetCUBINSize", 0, "empty CUBIN", "sm_" + arch + " gave no SASS");
                MemorySegment cubin = a.allocate(n);
                checkNvrtc(nvrtc_h.nvrtcGetCUBIN(p, cubin), "nvrtcGetCUBIN", null);
                return cubin.toArray(JAVA_BYTE);
            } finally {
                nvrtc_h.nvrtcDestroyProgram(prog);
            }
        }
    }

    private static String log(Arena a, MemorySegment prog) {
        MemorySegment size = a.allocate(JAVA_LONG);
        if (nvrtc_h.nvrtcGetProgramLogSize(prog, size) != 0) return null;
        long n = size.get(JAVA_LONG, 0);
        if (n <= 1) return null;
        MemorySegment log = a.allocate(n);
        return nvrtc_h.nvrtcGetProgramLog(prog, log) == 0 ? log.getString(0) : null;
    }

    /** A module loaded into the current context (the caller has made its primary context current). */
    public record Module(MemorySegment handle) {
        /** A kernel by its {@code extern "C"} name. */
        public MemorySegment function(String name) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment f = a.allocate(ADDRESS);
                check(cuda_h.cuModuleGetFunction(f, handle, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
                return f.get(ADDRESS, 0);
            }
        }
    }

    /**
     * One extra retain of the primary context that is never released, so the context (and the modules
     * loaded into it) outlives every CudaDevice: closing the last device would otherwise destroy it.
     */
    private static void pinPrimaryContext(int ordinal) {
        int dev = device(ordinal);
        try (Arena a = Arena.ofConfined()) {
            check(cuda_h.cuDevicePrimaryCtxRetain(a.allocate(ADDRESS), dev), "cuDevicePrimaryCtxRetain");
        }
    }

    private static final ConcurrentHashMap<String, Module> MODULES = new ConcurrentHashMap<>();

    /**
     * The project's kernels ({@code alexnet_kernels.cu}) for device {@code ordinal}, compiled and loaded
     * on first use. Modules live in the device's primary context, which is shared by every
     * {@link CudaDevice} on that ordinal, and stay loaded for the life of the process.
     */
    static Module kernels(int ordinal) {
        return module(ordinal, "alexnet_kernels.cu");
    }

    /** A CUDA C resource next to this class, compiled for the device's architecture and loaded once per ordinal. */
    static Module module(int ordinal, String resource) {
        return MODULES.computeIfAbsent(ordinal + ":" + resource, k -> {
            pinPrimaryContext(ordinal);
            byte[] cubin = compile(resource, source(resource), computeCapability(ordinal));
            try (Arena a = Arena.ofConfined()) {
                MemorySegment image = a.allocate(cubin.length + 1L, 16);
                MemorySegment.copy(cubin, 0, image, JAVA_BYTE, 0, cubin.length);
                MemorySegment m = a.allocate(ADDRESS);
                check(cuda_h.cuModuleLoadData(m, image), "cuModuleLoadData(" + resource + ")");
                return new Module(m.get(ADDRESS, 0));
            }
        });
    }
}
