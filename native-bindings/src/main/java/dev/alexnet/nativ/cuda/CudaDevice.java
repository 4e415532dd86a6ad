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
 */
public final class CudaDevice implements Device {
    public enum Precision { FP32, TF32 }

    /** Which LRN implementation: cuDNN's, the project's NVRTC kernel, or whichever is faster for the shape (timed at compile). */
    public enum Lrn { AUTO, CUDNN, KERNEL }

    /**
     * @param graphs capture each compiled program as a CUDA graph (after one warm-up run) and replay it
     * @param lrn    the LRN implementation
     */
    public record Options(boolean graphs, Lrn lrn) {
        /** Graphs on unless {@code -Dalexnet.cuda.graphs=false}; LRN from {@code -Dalexnet.cuda.lrn=auto|cudnn|kernel} (auto). */
        public static Options defaults() {
            return new Options(!"false".equalsIgnoreCase(System.getProperty("alexnet.cuda.graphs", "true")),
                    Lrn.valueOf(System.getProperty("alexnet.cuda.lrn", "auto").toUpperCase(java.util.Locale.ROOT)));
        }
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
