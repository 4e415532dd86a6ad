package dev.alexnet.nativ.cuda;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One NVIDIA GPU seen through one CUDA stream: {@code cuda:<ordinal>}. Convolutions, pooling, LRN and
 * softmax run in cuDNN (legacy API), fully connected layers in cuBLAS, bias+ReLU in a small NVRTC kernel.
 *
 * <p>Each instance owns a stream (non-blocking), a cuBLAS handle and a cuDNN handle bound to it, and a
 * retain of the device's primary context, which it makes current on whichever thread calls it. Two
 * instances on the same ordinal are two independent streams (the paper's two towers on one GPU) and
 * may be driven from two threads at once. Programs own their device memory (one allocation made at
 * compile) and pinned staging buffers; {@link #close} releases everything in reverse order.
 *
 * <p>Precision: {@link Precision#FP32} is strict float32 (cuDNN FMA math, cuBLAS default math);
 * {@link Precision#TF32} lets cuDNN and cuBLAS use TF32 tensor cores (10-bit mantissa products).
 *
 * <pre>{@code
 * CudaDevice.Options options = CudaDevice.Options.defaults().withLrn(CudaDevice.Lrn.KERNEL).withGraphs(false);
 * try (CudaDevice gpu = new CudaDevice(0, CudaDevice.Precision.FP32, options)) {   // CudaUnavailableException without a GPU
 *     CudaProgram p = gpu.compile(layers, 128);
 *     p.run(input, output);
 * }
 * }</pre>
 */
public final class CudaDevice implements Device {
    public enum Precision { FP32, TF32 }

    /** Which LRN implementation: cuDNN's, the project's NVRTC kernel, or whichever is faster for the shape (timed at compile). */
    public enum Lrn { AUTO, CUDNN, KERNEL }

    /**
     * Which convolution implementation for batches up to {@link CudaProgram#GEMM_CONV_MAX_BATCH} (larger
     * batches always use cuDNN): cuDNN alone, im2col + cuBLAS GEMM alone, or both with the faster kept
     * (cross-checked, then timed at compile). The GEMM alternative is opt-in: see docs/GPU.md.
     */
    public enum Conv { CUDNN, GEMM, AUTO }

    /**
     * Which fully connected implementation: the project's GEMV kernel for batches up to
     * {@link CudaProgram#GEMV_MAX_BATCH} (weight-bandwidth bound there) and cuBLAS above, or cuBLAS always.
     */
    public enum Fc { GEMV_SMALL_BATCH, CUBLAS }

    /**
     * Everything a CUDA device can be tuned with; {@link #defaults()} fills it from system properties, and
     * nothing below the device reads a property.
     *
     * @param graphs capture each compiled program as a CUDA graph (after one warm-up run) and replay it
     * @param lrn    the LRN implementation
     * @param conv   the convolution implementation for small batches
     * @param fc     the fully connected implementation
     */
    public record Options(boolean graphs, Lrn lrn, Conv conv, Fc fc) {
        /** System property: {@code false} turns graph capture off. */
        public static final String GRAPHS_PROPERTY = "alexnet.cuda.graphs";
        /** System property: {@code auto}, {@code cudnn} or {@code kernel} (see {@link Lrn}). */
        public static final String LRN_PROPERTY = "alexnet.cuda.lrn";
        /** System property: {@code cudnn}, {@code gemm} or {@code auto} (see {@link Conv}). */
        public static final String CONV_PROPERTY = "alexnet.cuda.conv";
        /** System property: {@code gemv_small_batch} or {@code cublas} (see {@link Fc}). */
        public static final String FC_PROPERTY = "alexnet.cuda.fc";

        public Options {
            java.util.Objects.requireNonNull(lrn, "lrn");
            java.util.Objects.requireNonNull(conv, "conv");
            java.util.Objects.requireNonNull(fc, "fc");
        }

        /** Graphs and LRN as given; cuDNN convolutions and the small-batch GEMV for fully connected layers. */
        public Options(boolean graphs, Lrn lrn) {
            this(graphs, lrn, Conv.CUDNN, Fc.GEMV_SMALL_BATCH);
        }

        /** The defaults, overridden by the {@code alexnet.cuda.*} system properties that are set. */
        public static Options defaults() {
            return fromProperties(System.getProperties());
        }

        /**
         * From {@code alexnet.cuda.graphs} ({@code true}), {@code alexnet.cuda.lrn} ({@code auto}),
         * {@code alexnet.cuda.conv} ({@code cudnn}) and {@code alexnet.cuda.fc} ({@code gemv_small_batch}).
         *
         * @throws IllegalArgumentException naming the property and its accepted values for a value it does not know
         */
        public static Options fromProperties(java.util.Properties p) {
            boolean graphs = !"false".equalsIgnoreCase(p.getProperty(GRAPHS_PROPERTY, "true").strip());
            Lrn lrn = parse(p, LRN_PROPERTY, "auto", Lrn.class);
            Conv conv = parse(p, CONV_PROPERTY, "cudnn", Conv.class);
            Fc fc = parse(p, FC_PROPERTY, "gemv_small_batch", Fc.class);
            return new Options(graphs, lrn, conv, fc);
        }

        private static <E extends Enum<E>> E parse(java.util.Properties p, String property, String fallback, Class<E> type) {
            String v = p.getProperty(property, fallback).strip();
            try {
                return Enum.valueOf(type, v.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                StringBuilder accepted = new StringBuilder();
                for (E c : type.getEnumConstants()) accepted.append(accepted.isEmpty() ? "" : ", ").append(c.name().toLowerCase(java.util.Locale.ROOT));
                throw new IllegalArgumentException(property + " must be one of " + accepted + ", got '" + v + "'");
            }
        }

        public Options withGraphs(boolean graphs) { return new Options(graphs, lrn, conv, fc); }
        public Options withLrn(Lrn lrn) { return new Options(graphs, lrn, conv, fc); }
        public Options withConv(Conv conv) { return new Options(graphs, lrn, conv, fc); }
        public Options withFc(Fc fc) { return new Options(graphs, lrn, conv, fc); }
    }

    /** Bytes of device memory given to cuBLAS as its workspace (so graph capture never allocates). */
    static final long CUBLAS_WORKSPACE = 32L << 20;

    private final int ordinal;
    private final int cuDevice;
    private final Precision precision;
    private final Options options;
    private final Arena arena = Arena.ofShared();
    private final List<CudaProgram> programs = new ArrayList<>();
    private MemorySegment context = MemorySegment.NULL;
    private MemorySegment stream = MemorySegment.NULL;
    private MemorySegment cublas = MemorySegment.NULL;
    private MemorySegment cudnn = MemorySegment.NULL;
    private long cublasWorkspace;
    private boolean contextRetained;
    private boolean closed;
    final MemorySegment one, zero; // host floats 1 and 0: the alpha/beta of every cuDNN/cuBLAS call
    final Cuda.Module kernels;

    public CudaDevice(int ordinal, Precision precision) {
        this(ordinal, precision, Options.defaults());
    }

    /** @throws CudaUnavailableException when the driver, a library or the GPU is missing */
    public CudaDevice(int ordinal, Precision precision, Options options) {
        this.ordinal = ordinal;
        this.precision = precision;
        this.options = options;
        Cuda.init();
        CudaLibraries.lookup(CudaLibraries.CUBLAS);
        CudaLibraries.lookup(CudaLibraries.CUDNN);
        CudaLibraries.lookup(CudaLibraries.NVRTC);
        this.cuDevice = Cuda.device(ordinal);
        one = arena.allocateFrom(JAVA_FLOAT, 1f);
        zero = arena.allocateFrom(JAVA_FLOAT, 0f);
        try {
            MemorySegment p = arena.allocate(ADDRESS);
            Cuda.check(cuda_h.cuDevicePrimaryCtxRetain(p, cuDevice), "cuDevicePrimaryCtxRetain");
            contextRetained = true;
            context = p.get(ADDRESS, 0);
            makeCurrent();
            Cuda.check(cuda_h.cuStreamCreate(p, cuda_h.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            stream = p.get(ADDRESS, 0);
            kernels = Cuda.kernels(ordinal);

            Cuda.checkCublas(cublas_h.cublasCreate_v2(p), "cublasCreate_v2");
            cublas = p.get(ADDRESS, 0);
            Cuda.checkCublas(cublas_h.cublasSetStream_v2(cublas, stream), "cublasSetStream_v2");
            MemorySegment d = arena.allocate(JAVA_LONG);
            Cuda.check(cuda_h.cuMemAlloc(d, CUBLAS_WORKSPACE), "cuMemAlloc_v2(cuBLAS workspace)");
            cublasWorkspace = d.get(JAVA_LONG, 0);
            Cuda.checkCublas(cublas_h.cublasSetWorkspace_v2(cublas, cublasWorkspace, CUBLAS_WORKSPACE), "cublasSetWorkspace_v2");
            Cuda.checkCublas(cublas_h.cublasSetMathMode(cublas, precision == Precision.TF32
                    ? cublas_h.CUBLAS_TF32_TENSOR_OP_MATH : cublas_h.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");

            Cuda.checkCudnn(cudnn_h.cudnnCreate(p), "cudnnCreate");
            cudnn = p.get(ADDRESS, 0);
            Cuda.checkCudnn(cudnn_h.cudnnSetStream(cudnn, stream), "cudnnSetStream");
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public int ordinal() { return ordinal; }
    public Precision precision() { return precision; }
    public Options options() { return options; }

    @Override
    public String name() { return "cuda:" + ordinal; }

    /** Makes this device's primary context current on the calling thread (cheap; done on every entry). */
    void makeCurrent() {
        Cuda.check(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    MemorySegment stream() { return stream; }
    MemorySegment cublas() { return cublas; }
    MemorySegment cudnn() { return cudnn; }

    /** Waits until everything queued on this device's stream has run. */
    public void synchronize() {
        makeCurrent();
        Cuda.check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public synchronized CudaProgram compile(List<Layer> layers, int batch) {
        if (closed) throw new IllegalStateException(name() + " is closed");
        Device.checkChain(layers);
        CudaProgram p = new CudaProgram(this, Device.inferenceLayers(layers), batch);
        programs.add(p);
        return p;
    }

    synchronized void forget(CudaProgram p) {
        programs.remove(p);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (CudaProgram p : List.copyOf(programs)) p.close();
        programs.clear();
        if (contextRetained) {
            makeCurrent();
            if (!stream.equals(MemorySegment.NULL)) cuda_h.cuStreamSynchronize(stream);
            if (!cudnn.equals(MemorySegment.NULL)) cudnn_h.cudnnDestroy(cudnn);
            if (!cublas.equals(MemorySegment.NULL)) cublas_h.cublasDestroy_v2(cublas);
            if (cublasWorkspace != 0) cuda_h.cuMemFree(cublasWorkspace);
            if (!stream.equals(MemorySegment.NULL)) cuda_h.cuStreamDestroy(stream);
            cuda_h.cuDevicePrimaryCtxRelease(cuDevice);
        }
        arena.close();
    }

    @Override
    public String toString() {
        return name() + " (" + precision.name().toLowerCase() + (options.graphs() ? ", graphs" : "") + ")";
    }
}
