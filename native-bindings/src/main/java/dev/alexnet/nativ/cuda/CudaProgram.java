package dev.alexnet.nativ.cuda;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import dev.alexnet.device.RunGuard;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import static dev.alexnet.nativ.cuda.Cuda.check;
import static dev.alexnet.nativ.cuda.Cuda.checkCublas;
import static dev.alexnet.nativ.cuda.Cuda.checkCudnn;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Layers compiled for one batch size on a {@link CudaDevice}. At compile: cuDNN descriptors, the
 * fastest convolution algorithm per shape (cudnnFindConvolutionForwardAlgorithm, cached), one device
 * allocation for input, every layer's output, weights, biases and the largest convolution workspace,
 * the weights uploaded, pinned host staging buffers, one warm-up run, then (unless disabled) the whole
 * chain captured as a CUDA graph. At run: host input -> pinned -> device, the graph (or the layers one
 * by one), device -> pinned -> host output, one stream synchronisation. No allocation on that path.
 *
 * <p>Layouts: every activation is dense NCHW on the device too, so nothing is reordered.
 */
public final class CudaProgram implements Program {
    /** Bytes every sub-allocation in the pool is aligned to. */
    private static final long ALIGN = 256;
    private static final int THREADS = 256;

    /** The chosen algorithm per (device ordinal, precision, convolution shape): found once per process. */
    private record Algo(int algo, int mathType, float millis) {}
    private static final ConcurrentHashMap<String, Algo> ALGOS = new ConcurrentHashMap<>();

    private interface Op {
        String layer();
        void enqueue();
    }

    /** Alternative implementations of one layer; the fastest is chosen by timing after the warm-up run. */
    private static final class Choice implements Op {
        final String layer;
        final List<String> names;
        final List<Op> options;
        final boolean crossCheck; // compare every option's output with the first's before timing it
        int chosen;

        Choice(String layer, List<String> names, List<Op> options, boolean crossCheck) {
            this.layer = layer;
            this.names = names;
            this.options = options;
            this.crossCheck = crossCheck;
        }

        @Override public String layer() { return layer; }
        @Override public void enqueue() { options.get(chosen).enqueue(); }
    }

    private final CudaDevice dev;
    private final List<Layer> layers;
    private final int batch;
    private final Arena arena = Arena.ofShared(); // descriptors' out-params, kernel argument blocks
    private final List<Runnable> destroyers = new ArrayList<>();
    private final List<Op> ops = new ArrayList<>();
    private final List<String> algorithms = new ArrayList<>();
    private final MemorySegment stream;
    private final long inBytes, outBytes;
    private long pool, poolBytes, workspaceBytes;
    private long dIn, dOut;
    private long[] outputs; // device address of each layer's output
    private MemorySegment hostIn = MemorySegment.NULL, hostOut = MemorySegment.NULL;
    private MemorySegment graph = MemorySegment.NULL, graphExec = MemorySegment.NULL;
    private MemorySegment evStart = MemorySegment.NULL, evEnd = MemorySegment.NULL;
    private String graphNote = "graphs disabled";
    private final MemorySegment millis = arena.allocate(JAVA_FLOAT);
    private Launch spin;
    private final RunGuard guard = new RunGuard("cuda program");

    CudaProgram(CudaDevice dev, List<Layer> layers, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
        this.dev = dev;
        this.layers = layers;
        this.batch = batch;
        this.stream = dev.stream();
        this.inBytes = inputFloats() * Float.BYTES;
        this.outBytes = outputFloats() * Float.BYTES;
        dev.makeCurrent();
        try {
            build();
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override public int batch() { return batch; }
    @Override public List<Layer> layers() { return layers; }

    /** True when run() replays a captured CUDA graph. */
    public boolean graphed() { return !graphExec.equals(MemorySegment.NULL); }
    /** Why the program is not graphed (disabled, or the capture error), or "captured". */
    public String graphNote() { return graphNote; }
    /** The cuDNN algorithm chosen for each convolution, e.g. {@code conv2: algo 1 (math 3, 0.61 ms, ws 200 MB)}. */
    public List<String> algorithms() { return List.copyOf(algorithms); }
    /** Device bytes this program holds (activations, parameters and workspace in one allocation). */
    public long deviceBytes() { return poolBytes; }

    /**
     * The pinned staging buffers: a caller that writes its input straight into {@link #inputBuffer()}
     * and passes it to {@link #run} (and likewise reads {@link #outputBuffer()}) saves one host copy.
     */
    public MemorySegment inputBuffer() { return hostIn; }
    public MemorySegment outputBuffer() { return hostOut; }

    // ------------------------------------------------------------------ compile

    private void build() {
        List<Planned> plans = planLayers();
        PoolLayout at = layOutPool();
        allocatePool(at);
        uploadParameters(at);
        bindOps(plans, at);
        createStagingAndEvents();
        warmUp();
        chooseAlternatives();
        if (dev.options().graphs()) capture();
    }

    /** Descriptors and convolution algorithms for every layer (cuDNN allocates its own memory to time them). */
    private List<Planned> planLayers() {
        List<Planned> plans = new ArrayList<>();
        for (Layer l : layers) plans.add(plan(l));
        for (Planned p : plans) workspaceBytes = Math.max(workspaceBytes, p.workspace);
        return plans;
    }

    /** Byte offsets in the one device allocation: input, each layer's output, parameters, workspace. */
    private record PoolLayout(long input, long[] outputs, long[] weights, long[] biases, long workspace, long bytes) {}

    private PoolLayout layOutPool() {
        int n = layers.size();
        long off = 0;
        long inOff = off;
        off = align(off + inBytes);
        long[] outOff = new long[n], wOff = new long[n], bOff = new long[n];
        for (int i = 0; i < n; i++) {
            outOff[i] = off;
            off = align(off + batch * layers.get(i).spec().outputSize() * Float.BYTES);
        }
        for (int i = 0; i < n; i++) {
            Layer l = layers.get(i);
            if (l.weight() == null) continue;
            wOff[i] = off;
            off = align(off + l.weight().data().byteSize());
            bOff[i] = off;
            off = align(off + l.bias().data().byteSize());
        }
        long wsOff = off;
        off = align(off + workspaceBytes);
        return new PoolLayout(inOff, outOff, wOff, bOff, wsOff, off);
    }

    private void allocatePool(PoolLayout at) {
        poolBytes = at.bytes();
        MemorySegment d = arena.allocate(JAVA_LONG);
        check(cuda_h.cuMemAlloc(d, poolBytes), "cuMemAlloc_v2(" + poolBytes + " bytes for " + dev.name() + " batch " + batch + ")");
        pool = d.get(JAVA_LONG, 0);
    }

    /** Weights and biases, uploaded once. */
    private void uploadParameters(PoolLayout at) {
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l.weight() == null) continue;
            upload(pool + at.weights()[i], l.weight());
            upload(pool + at.biases()[i], l.bias());
        }
    }

    /** The ops, with every pointer fixed: each layer reads the previous one's output. */
    private void bindOps(List<Planned> plans, PoolLayout at) {
        int n = layers.size();
        dIn = pool + at.input();
        dOut = pool + at.outputs()[n - 1];
        long x = dIn;
        outputs = new long[n];
        for (int i = 0; i < n; i++) {
            long y = pool + at.outputs()[i];
            outputs[i] = y;
            ops.add(plans.get(i).bind(x, y, pool + at.weights()[i], pool + at.biases()[i], pool + at.workspace()));
            x = y;
        }
    }

    /** Pinned host staging buffers, the timing events, and the spin kernel that holds the stream while timing. */
    private void createStagingAndEvents() {
        spin = Launch.of(arena, dev.kernels.function("spin"), 1, 1, 1, 500_000L);
        hostIn = pinned(inBytes);
        hostOut = pinned(outBytes);
        MemorySegment e = arena.allocate(ADDRESS);
        check(cuda_h.cuEventCreate(e, cuda_h.CU_EVENT_DEFAULT), "cuEventCreate");
        evStart = e.get(ADDRESS, 0);
        check(cuda_h.cuEventCreate(e, cuda_h.CU_EVENT_DEFAULT), "cuEventCreate");
        evEnd = e.get(ADDRESS, 0);
    }

    /** One run of every op: lazy module loading, cuDNN/cuBLAS first-call set-up, and inputs for the cross-checks. */
    private void warmUp() {
        if (ops.stream().anyMatch(o -> o instanceof Choice c && c.crossCheck)) {
            // a deterministic non-constant input, so that alternatives are cross-checked on real values
            for (long i = 0, nf = inBytes / Float.BYTES; i < nf; i++) hostIn.setAtIndex(JAVA_FLOAT, i, (float) Math.sin(i * 0.37));
            check(cuda_h.cuMemcpyHtoD(dIn, hostIn, inBytes), "cuMemcpyHtoD_v2");
        } else {
            check(cuda_h.cuMemsetD32Async(dIn, 0, inBytes / Float.BYTES, stream), "cuMemsetD32Async");
        }
        for (Op op : ops) op.enqueue();
        check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize(warm-up)");
    }

    /** For each layer with alternatives, keeps the fastest of those that agree with the first. */
    private void chooseAlternatives() {
        for (int index = 0; index < ops.size(); index++) {
            if (ops.get(index) instanceof Choice c) algorithms.add(chooseFastest(c, index));
        }
    }

    /** Times every alternative of one layer (after cross-checking it, where the choice asks so) and returns the report line. */
    private String chooseFastest(Choice c, int index) {
        StringBuilder sb = new StringBuilder(c.layer + ":");
        double best = Double.MAX_VALUE, bound = dev.precision() == CudaDevice.Precision.TF32 ? Agreement.TF32_BOUND : Agreement.FP32_BOUND;
        float[] first = null;
        for (int i = 0; i < c.options.size(); i++) {
            float[] got = c.crossCheck ? deviceFloats(c.options.get(i), index) : null;
            if (got == null) {
                // LRN: both implementations are held to the reference by the tests
            } else if (first == null) {
                first = got;
            } else {
                Agreement a = Agreement.of(got, first, bound);
                if (!a.pass()) {
                    sb.append(String.format(" %s disagrees (%.2g)", c.names.get(i), a.error()));
                    continue; // never choose an alternative that does not compute the same thing
                }
            }
            double t = gpuMillis(c.options.get(i), 20);
            sb.append(String.format(" %s %.4f ms", c.names.get(i), t));
            if (t < best) {
                best = t;
                c.chosen = i;
            }
        }
        return sb.append(" -> ").append(c.names.get(c.chosen)).toString();
    }

    /**
     * GPU time of one op in milliseconds, averaged over {@code reps}: a spin kernel first holds the stream
     * for 0.5 ms so the host has queued all reps before the first starts (no launch gaps in the figure).
     */
    private double gpuMillis(Op op, int reps) {
        op.enqueue();
        spin.enqueue(stream);
        check(cuda_h.cuEventRecord(evStart, stream), "cuEventRecord");
        for (int i = 0; i < reps; i++) op.enqueue();
        check(cuda_h.cuEventRecord(evEnd, stream), "cuEventRecord");
        check(cuda_h.cuEventSynchronize(evEnd), "cuEventSynchronize");
        check(cuda_h.cuEventElapsedTime(millis, evStart, evEnd), "cuEventElapsedTime");
        return millis.get(JAVA_FLOAT, 0) / (double) reps;
    }

    /** Runs one op (after the warm-up has filled its input) and returns its output, for cross-checking alternatives. */
    private float[] deviceFloats(Op op, int index) {
        op.enqueue();
        check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
        long floats = batch * layers.get(index).spec().outputSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(floats * Float.BYTES, 64);
            check(cuda_h.cuMemcpyDtoH(host, outputs[index], floats * Float.BYTES), "cuMemcpyDtoH_v2");
            return host.toArray(JAVA_FLOAT);
        }
    }

    private static long align(long v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

    private MemorySegment pinned(long bytes) {
        MemorySegment p = arena.allocate(ADDRESS);
        check(cuda_h.cuMemAllocHost(p, bytes), "cuMemAllocHost_v2(" + bytes + " bytes)");
        return p.get(ADDRESS, 0).reinterpret(bytes);
    }

    private void upload(long dst, Tensor t) {
        MemorySegment src = t.data();
        if (!src.isNative()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment copy = a.allocate(src.byteSize(), 64);
                copy.copyFrom(src);
                check(cuda_h.cuMemcpyHtoD(dst, copy, src.byteSize()), "cuMemcpyHtoD_v2");
            }
        } else {
            check(cuda_h.cuMemcpyHtoD(dst, src, src.byteSize()), "cuMemcpyHtoD_v2");
        }
    }

    private void capture() {
        MemorySegment p = arena.allocate(ADDRESS);
        check(cuda_h.cuStreamBeginCapture(stream, cuda_h.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture_v2");
        RuntimeException failed = null;
        try {
            for (Op op : ops) op.enqueue();
        } catch (RuntimeException e) {
            failed = e;
        }
        int rc = cuda_h.cuStreamEndCapture(stream, p);
        if (rc == 0) graph = p.get(ADDRESS, 0);
        if (failed == null && rc != 0) failed = new CudaException("cuStreamEndCapture", rc, Cuda.driverErrorName(rc), Cuda.driverErrorString(rc));
        if (failed == null) {
            rc = cuda_h.cuGraphInstantiateWithFlags(p, graph, 0);
            if (rc == 0) graphExec = p.get(ADDRESS, 0);
            else failed = new CudaException("cuGraphInstantiateWithFlags", rc, Cuda.driverErrorName(rc), Cuda.driverErrorString(rc));
        }
        if (failed != null) {
            if (!graph.equals(MemorySegment.NULL)) cuda_h.cuGraphDestroy(graph);
            graph = MemorySegment.NULL;
            graphNote = "capture failed, running layer by layer: " + failed.getMessage();
            return;
        }
        graphNote = "captured";
        check(cuda_h.cuGraphLaunch(graphExec, stream), "cuGraphLaunch");
        check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize(graph warm-up)");
    }

    // ------------------------------------------------------------------ descriptors

    private MemorySegment out() { return arena.allocate(ADDRESS); }

    private MemorySegment tensor(int n, int c, int h, int w) {
        return tensor(n, c, h, w, c * h * w, h * w, w, 1);
    }

    private MemorySegment tensor(int n, int c, int h, int w, int ns, int cs, int hs, int ws) {
        MemorySegment p = out();
        checkCudnn(cudnn_h.cudnnCreateTensorDescriptor(p), "cudnnCreateTensorDescriptor");
        MemorySegment d = p.get(ADDRESS, 0);
        destroyers.add(() -> cudnn_h.cudnnDestroyTensorDescriptor(d));
        checkCudnn(cudnn_h.cudnnSetTensor4dDescriptorEx(d, cudnn_h.CUDNN_DATA_FLOAT, n, c, h, w, ns, cs, hs, ws),
                "cudnnSetTensor4dDescriptorEx(" + n + "," + c + "," + h + "," + w + ")");
        return d;
    }

    /** What a layer needs before memory exists (descriptors, workspace), and how it binds to pointers. */
    private record Planned(long workspace, Binder binder) {
        Op bind(long x, long y, long w, long b, long ws) { return binder.bind(x, y, w, b, ws); }
    }

    private interface Binder {
        Op bind(long x, long y, long w, long b, long ws);
    }

    private static Op op(String layer, Runnable r) {
        return new Op() {
            @Override public String layer() { return layer; }
            @Override public void enqueue() { r.run(); }
        };
    }

    private Planned plan(Layer layer) {
        return switch (layer.spec()) {
            case LayerSpec.Conv c -> planConv(c);
            case LayerSpec.MaxPool p -> planPool(p);
            case LayerSpec.Lrn l -> planLrn(l);
            case LayerSpec.Linear l -> planLinear(l);
            case LayerSpec.Softmax s -> planSoftmax(s);
            case LayerSpec.Dropout d -> throw new IllegalStateException("dropout reached an inference program");
        };
    }

    /**
     * cuDNN's convolution with the fastest algorithm for the shape, then the bias and ReLU kernel; for small
     * batches, as {@link CudaDevice.Options#conv()} says, im2col + cuBLAS GEMM instead or as an alternative.
     */
    private Planned planConv(LayerSpec.Conv c) {
        ConvShape s = c.shape(batch);
        boolean tf32 = dev.precision() == CudaDevice.Precision.TF32;
        ConvDescriptors d = convDescriptors(c, s, tf32);
        Algo algo = fastestAlgorithm(c, s, d, tf32);
        long ws = forwardWorkspace(d, algo);
        algorithms.add(String.format("%s: algo %d (math %d, %.3f ms in Find, workspace %.1f MB)", c.name(), algo.algo(),
                tf32 ? algo.mathType() : cudnn_h.CUDNN_FMA_MATH, algo.millis(), ws / 1e6));
        Binder cudnn = cudnnConvolution(c, s, d, algo, ws);
        CudaDevice.Conv impl = dev.options().conv();
        if (batch > GEMM_CONV_MAX_BATCH || impl == CudaDevice.Conv.CUDNN) return new Planned(ws, cudnn);
        // small batches: cuDNN's legacy kernels leave the GPU mostly idle on 13x13 maps, and im2col + one GEMM
        // per image and group is the alternative (opt-in until it has run on a GPU: docs/GPU.md)
        long colBytes = (long) s.n() * s.c() * s.r() * s.s() * s.p() * s.q() * Float.BYTES;
        Binder gemm = im2colGemmConvolution(c, s, tf32, colBytes);
        if (impl == CudaDevice.Conv.GEMM) return new Planned(Math.max(ws, colBytes), gemm);
        return new Planned(Math.max(ws, colBytes), (x, y, w, b, wsp) -> new Choice(c.name(), List.of("cudnn", "im2col+gemm"),
                List.of(cudnn.bind(x, y, w, b, wsp), gemm.bind(x, y, w, b, wsp)), true));
    }

    /** cuDNN's descriptors of one convolution: input, filter, the convolution itself, output. */
    private record ConvDescriptors(MemorySegment x, MemorySegment w, MemorySegment conv, MemorySegment y) {}

    private ConvDescriptors convDescriptors(LayerSpec.Conv c, ConvShape s, boolean tf32) {
        MemorySegment xd = tensor(s.n(), s.c(), s.h(), s.w());
        MemorySegment yd = tensor(s.n(), s.k(), s.p(), s.q());
        MemorySegment wd = filter(s);
        MemorySegment cd = convolution(s, tf32);
        checkOutputDims(c, s, xd, wd, cd);
        return new ConvDescriptors(xd, wd, cd, yd);
    }

    private MemorySegment filter(ConvShape s) {
        MemorySegment p = out();
        checkCudnn(cudnn_h.cudnnCreateFilterDescriptor(p), "cudnnCreateFilterDescriptor");
        MemorySegment wd = p.get(ADDRESS, 0);
        destroyers.add(() -> cudnn_h.cudnnDestroyFilterDescriptor(wd));
        checkCudnn(cudnn_h.cudnnSetFilter4dDescriptor(wd, cudnn_h.CUDNN_DATA_FLOAT, cudnn_h.CUDNN_TENSOR_NCHW, s.k(), s.cg(), s.r(), s.s()),
                "cudnnSetFilter4dDescriptor");
        return wd;
    }

    private MemorySegment convolution(ConvShape s, boolean tf32) {
        MemorySegment p = out();
        checkCudnn(cudnn_h.cudnnCreateConvolutionDescriptor(p), "cudnnCreateConvolutionDescriptor");
        MemorySegment cd = p.get(ADDRESS, 0);
        destroyers.add(() -> cudnn_h.cudnnDestroyConvolutionDescriptor(cd));
        checkCudnn(cudnn_h.cudnnSetConvolution2dDescriptor(cd, s.padH(), s.padW(), s.strideH(), s.strideW(), 1, 1,
                cudnn_h.CUDNN_CROSS_CORRELATION, cudnn_h.CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor");
        if (s.groups() > 1) checkCudnn(cudnn_h.cudnnSetConvolutionGroupCount(cd, s.groups()), "cudnnSetConvolutionGroupCount");
        checkCudnn(cudnn_h.cudnnSetConvolutionMathType(cd, tf32 ? cudnn_h.CUDNN_TENSOR_OP_MATH : cudnn_h.CUDNN_FMA_MATH),
                "cudnnSetConvolutionMathType");
        return cd;
    }

    /** Throws unless cuDNN computes the output shape the layer declares. */
    private void checkOutputDims(LayerSpec.Conv c, ConvShape s, MemorySegment xd, MemorySegment wd, MemorySegment cd) {
        MemorySegment dims = arena.allocate(JAVA_INT, 4);
        checkCudnn(cudnn_h.cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, dims, dims.asSlice(4), dims.asSlice(8), dims.asSlice(12)),
                "cudnnGetConvolution2dForwardOutputDim");
        int[] got = dims.toArray(JAVA_INT);
        if (got[0] != s.n() || got[1] != s.k() || got[2] != s.p() || got[3] != s.q()) {
            throw new IllegalStateException(c.name() + ": cuDNN computes output " + java.util.Arrays.toString(got) + " for " + s);
        }
    }

    /**
     * The fastest forward algorithm for this device, precision and shape (found once per process), with
     * the descriptor's math type set to match: strict fp32 keeps FMA math whatever the timing run
     * reported; tf32 takes the winner's.
     */
    private Algo fastestAlgorithm(LayerSpec.Conv c, ConvShape s, ConvDescriptors d, boolean tf32) {
        String key = dev.ordinal() + "/" + dev.precision() + "/" + s;
        Algo algo = ALGOS.computeIfAbsent(key, k -> {
            Algo best = find(c.name(), d.x(), d.w(), d.conv(), d.y());
            if (tf32) { // tf32 permits tensor cores, it does not require them: FMA kernels win some small shapes
                checkCudnn(cudnn_h.cudnnSetConvolutionMathType(d.conv(), cudnn_h.CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
                Algo fma = find(c.name(), d.x(), d.w(), d.conv(), d.y());
                if (fma.millis() < best.millis()) best = new Algo(fma.algo(), cudnn_h.CUDNN_FMA_MATH, fma.millis());
            }
            return best;
        });
        checkCudnn(cudnn_h.cudnnSetConvolutionMathType(d.conv(), tf32 ? algo.mathType() : cudnn_h.CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
        return algo;
    }

    private long forwardWorkspace(ConvDescriptors d, Algo algo) {
        MemorySegment wsz = arena.allocate(JAVA_LONG);
        checkCudnn(cudnn_h.cudnnGetConvolutionForwardWorkspaceSize(dev.cudnn(), d.x(), d.w(), d.conv(), d.y(), algo.algo(), wsz),
                "cudnnGetConvolutionForwardWorkspaceSize");
        return wsz.get(JAVA_LONG, 0);
    }

    /** The bias and ReLU kernel over a convolution's NCHW output, one block row per (image, channel) plane. */
    private Launch convBias(LayerSpec.Conv c, ConvShape s, long y, long b) {
        int planes = s.n() * s.k(), hw = s.p() * s.q();
        int gy = Math.max(1, Math.min((hw + THREADS - 1) / THREADS, 16));
        return Launch.of(arena, dev.kernels.function("bias_act_nchw"), planes, gy, THREADS, y, b, s.k(), hw, c.relu() ? 1 : 0);
    }

    private Binder cudnnConvolution(LayerSpec.Conv c, ConvShape s, ConvDescriptors d, Algo algo, long ws) {
        MemorySegment h = dev.cudnn();
        String call = "cudnnConvolutionForward(" + c.name() + ")";
        return (x, y, w, b, wsp) -> {
            Launch bias = convBias(c, s, y, b);
            return op(c.name(), () -> {
                checkCudnn(cudnn_h.cudnnConvolutionForward(h, dev.one, d.x(), x, d.w(), w, d.conv(), algo.algo(), wsp, ws, dev.zero, d.y(), y), call);
                bias.enqueue(stream);
            });
        };
    }

    /** im2col of the whole batch into the workspace, one GEMM per image and group, then bias and ReLU. */
    private Binder im2colGemmConvolution(LayerSpec.Conv c, ConvShape s, boolean tf32, long colBytes) {
        return (x, y, w, b, wsp) -> {
            Launch bias = convBias(c, s, y, b);
            long total = colBytes / Float.BYTES;
            Launch im2col = Launch.of(arena, Cuda.module(dev.ordinal(), "alexnet_conv_gemm.cu").function("im2col"), (int) Math.min((total + THREADS - 1) / THREADS, 1 << 20), 1, THREADS,
                    wsp, x, s.n(), s.c(), s.h(), s.w(), s.r(), s.strideH(), s.padH(), s.p(), s.q());
            String gcall = (tf32 ? "cublasGemmEx(" : "cublasSgemm_v2(") + c.name() + ")";
            return op(c.name(), () -> {
                im2col.enqueue(stream);
                gemmPerImageAndGroup(s, tf32, wsp, w, y, gcall);
                bias.enqueue(stream);
            });
        };
    }

    private void gemmPerImageAndGroup(ConvShape s, boolean tf32, long col, long w, long y, String call) {
        int hw = s.p() * s.q();
        int m = hw, kk = s.cg() * s.r() * s.s(), nn = s.kg();
        MemorySegment hb = dev.cublas();
        for (int img = 0; img < s.n(); img++) {
            for (int g = 0; g < s.groups(); g++) {
                long a = col + ((long) img * s.c() + (long) g * s.cg()) * s.r() * s.s() * hw * Float.BYTES;
                long wg = w + (long) g * nn * kk * Float.BYTES;
                long yg = y + ((long) img * s.k() + (long) g * nn) * hw * Float.BYTES;
                // column-major C[hw, kg] = col[hw, cg*r*s] * W_g^T: that is row-major y[kg, hw] for this image and group
                if (tf32) {
                    checkCublas(cublas_h.cublasGemmEx(hb, cublas_h.CUBLAS_OP_N, cublas_h.CUBLAS_OP_N, m, nn, kk, dev.one, a, cublas_h.CUDA_R_32F, m,
                            wg, cublas_h.CUDA_R_32F, kk, dev.zero, yg, cublas_h.CUDA_R_32F, m, cublas_h.CUBLAS_COMPUTE_32F_FAST_TF32,
                            cublas_h.CUBLAS_GEMM_DEFAULT), call);
                } else {
                    checkCublas(cublas_h.cublasSgemm_v2(hb, cublas_h.CUBLAS_OP_N, cublas_h.CUBLAS_OP_N, m, nn, kk, dev.one, a, m, wg, kk,
                            dev.zero, yg, m), call);
                }
            }
        }
    }

    /** Batches up to this size may run convolutions as im2col + cuBLAS ({@link CudaDevice.Conv}). */
    public static final int GEMM_CONV_MAX_BATCH = 4;

    private Algo find(String name, MemorySegment xd, MemorySegment wd, MemorySegment cd, MemorySegment yd) {
        try (Arena a = Arena.ofConfined()) {
            int req = cudnn_h.CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
            MemorySegment perf = a.allocate(cudnn_h.cudnnConvolutionFwdAlgoPerf_t, req);
            MemorySegment count = a.allocate(JAVA_INT);
            checkCudnn(cudnn_h.cudnnFindConvolutionForwardAlgorithm(dev.cudnn(), xd, wd, cd, yd, req, count, perf),
                    "cudnnFindConvolutionForwardAlgorithm(" + name + ")");
            long size = cudnn_h.cudnnConvolutionFwdAlgoPerf_t.byteSize();
            for (int i = 0; i < count.get(JAVA_INT, 0); i++) {
                if ((int) cudnn_h.perf$status.get(perf, i * size) == 0) {
                    return new Algo((int) cudnn_h.perf$algo.get(perf, i * size), (int) cudnn_h.perf$mathType.get(perf, i * size),
                            (float) cudnn_h.perf$time.get(perf, i * size));
                }
            }
            throw new CudaException("cudnnFindConvolutionForwardAlgorithm(" + name + ")", 0, "no algorithm ran", null);
        }
    }

    private Planned planPool(LayerSpec.MaxPool mp) {
        PoolShape s = mp.shape(batch);
        MemorySegment p = out();
        checkCudnn(cudnn_h.cudnnCreatePoolingDescriptor(p), "cudnnCreatePoolingDescriptor");
        MemorySegment pd = p.get(ADDRESS, 0);
        destroyers.add(() -> cudnn_h.cudnnDestroyPoolingDescriptor(pd));
        checkCudnn(cudnn_h.cudnnSetPooling2dDescriptor(pd, cudnn_h.CUDNN_POOLING_MAX, cudnn_h.CUDNN_NOT_PROPAGATE_NAN,
                s.kernel(), s.kernel(), s.pad(), s.pad(), s.stride(), s.stride()), "cudnnSetPooling2dDescriptor");
        MemorySegment xd = tensor(s.n(), s.c(), s.h(), s.w());
        MemorySegment yd = tensor(s.n(), s.c(), s.p(), s.q());
        String call = "cudnnPoolingForward(" + mp.name() + ")";
        MemorySegment h = dev.cudnn();
        return new Planned(0, (x, y, w, b, ws) -> op(mp.name(),
                () -> checkCudnn(cudnn_h.cudnnPoolingForward(h, pd, dev.one, xd, x, dev.zero, yd, y), call)));
    }

    private Planned planLrn(LayerSpec.Lrn l) {
        LrnParams lp = l.params();
        int n = batch, c = l.c(), hw = l.h() * l.w(), groups = l.channelGroups(), gc = c / groups;
        CudaDevice.Lrn impl = dev.options().lrn();
        boolean cudnnFits = lp.size() >= 1 && lp.size() <= 16 && lp.k() >= 1e-5 && lp.beta() >= 0.01;
        if (!cudnnFits) impl = CudaDevice.Lrn.KERNEL;
        long total = (long) n * c * hw;
        int grid = (int) Math.min((total + THREADS - 1) / THREADS, 1 << 20);
        Binder kernel = (x, y, w, b, ws) -> {
            Launch k = Launch.of(arena, dev.kernels.function("lrn_nchw"), grid, 1, THREADS, y, x, n, c, hw, gc, lp.size(),
                    lp.k(), lp.scale(), lp.beta());
            return op(l.name(), () -> k.enqueue(stream));
        };
        if (impl == CudaDevice.Lrn.KERNEL) return new Planned(0, kernel);
        MemorySegment p = out();
        checkCudnn(cudnn_h.cudnnCreateLRNDescriptor(p), "cudnnCreateLRNDescriptor");
        MemorySegment ld = p.get(ADDRESS, 0);
        destroyers.add(() -> cudnn_h.cudnnDestroyLRNDescriptor(ld));
        // cuDNN divides alpha by n, as PyTorch does; the paper does not: libraryAlpha() converts
        checkCudnn(cudnn_h.cudnnSetLRNDescriptor(ld, lp.size(), lp.libraryAlpha(), lp.beta(), lp.k()), "cudnnSetLRNDescriptor");
        // each channel group (tower) as its own strided [N, C/G, H, W] view, so windows never cross groups
        MemorySegment d = tensor(n, gc, l.h(), l.w(), c * hw, hw, l.w(), 1);
        long groupBytes = (long) gc * hw * Float.BYTES;
        String call = "cudnnLRNCrossChannelForward(" + l.name() + ")";
        MemorySegment h = dev.cudnn();
        Binder cudnn = (x, y, w, b, ws) -> op(l.name(), () -> {
            for (int g = 0; g < groups; g++) {
                checkCudnn(cudnn_h.cudnnLRNCrossChannelForward(h, ld, cudnn_h.CUDNN_LRN_CROSS_CHANNEL_DIM1, dev.one, d, x + g * groupBytes,
                        dev.zero, d, y + g * groupBytes), call);
            }
        });
        if (impl == CudaDevice.Lrn.CUDNN) return new Planned(0, cudnn);
        return new Planned(0, (x, y, w, b, ws) -> new Choice(l.name(), List.of("cudnn", "kernel"),
                List.of(cudnn.bind(x, y, w, b, ws), kernel.bind(x, y, w, b, ws)), false));
    }

    /** Batches up to this size run fully connected layers in the project's GEMV kernel (weight-bandwidth bound) unless {@link CudaDevice.Fc#CUBLAS}. */
    public static final int GEMV_MAX_BATCH = 4;

    private Planned planLinear(LayerSpec.Linear l) {
        int in = l.in(), outs = l.out(), rows = batch;
        boolean tf32 = dev.precision() == CudaDevice.Precision.TF32;
        if (rows <= GEMV_MAX_BATCH && in % 4 == 0 && dev.options().fc() == CudaDevice.Fc.GEMV_SMALL_BATCH) {
            int grid = (int) (((long) outs * 32 + THREADS - 1) / THREADS);
            return new Planned(0, (x, y, w, b, ws) -> {
                Launch k = Launch.of(arena, dev.kernels.function("gemv_bias_act"), grid, 1, THREADS, y, w, x, b, rows, in, outs, l.relu() ? 1 : 0);
                return op(l.name(), () -> k.enqueue(stream));
            });
        }
        long total = (long) rows * outs;
        int grid = (int) Math.min((total + THREADS - 1) / THREADS, 8192);
        MemorySegment h = dev.cublas();
        String call = (tf32 ? "cublasGemmEx(" : "cublasSgemm_v2(") + l.name() + ")";
        return new Planned(0, (x, y, w, b, ws) -> {
            Launch bias = Launch.of(arena, dev.kernels.function("bias_act_rows"), grid, 1, THREADS, y, b, rows, outs, l.relu() ? 1 : 0);
            // row-major Y[rows,out] = X[rows,in] W^T is column-major Y^T = W^T(as stored: op T) X^T
            return op(l.name(), () -> {
                if (tf32) {
                    checkCublas(cublas_h.cublasGemmEx(h, cublas_h.CUBLAS_OP_T, cublas_h.CUBLAS_OP_N, outs, rows, in, dev.one,
                            w, cublas_h.CUDA_R_32F, in, x, cublas_h.CUDA_R_32F, in, dev.zero, y, cublas_h.CUDA_R_32F, outs,
                            cublas_h.CUBLAS_COMPUTE_32F_FAST_TF32, cublas_h.CUBLAS_GEMM_DEFAULT), call);
                } else {
                    checkCublas(cublas_h.cublasSgemm_v2(h, cublas_h.CUBLAS_OP_T, cublas_h.CUBLAS_OP_N, outs, rows, in, dev.one,
                            w, in, x, in, dev.zero, y, outs), call);
                }
                bias.enqueue(stream);
            });
        });
    }

    private Planned planSoftmax(LayerSpec.Softmax s) {
        MemorySegment d = tensor(batch, s.classes(), 1, 1);
        String call = "cudnnSoftmaxForward(" + s.name() + ")";
        MemorySegment h = dev.cudnn();
        return new Planned(0, (x, y, w, b, ws) -> op(s.name(), () -> checkCudnn(cudnn_h.cudnnSoftmaxForward(h,
                cudnn_h.CUDNN_SOFTMAX_ACCURATE, cudnn_h.CUDNN_SOFTMAX_MODE_INSTANCE, dev.one, d, x, dev.zero, d, y), call)));
    }

    /** A kernel launch with its argument block built once (the driver copies the values at each launch). */
    private record Launch(MemorySegment function, int gridX, int gridY, int block, MemorySegment params) {
        static Launch of(Arena arena, MemorySegment function, int gridX, int gridY, int block, Object... args) {
            MemorySegment params = arena.allocate(ADDRESS, args.length);
            for (int i = 0; i < args.length; i++) {
                MemorySegment slot = switch (args[i]) {
                    case Long v -> arena.allocateFrom(JAVA_LONG, v);
                    case Integer v -> arena.allocateFrom(JAVA_INT, v);
                    case Float v -> arena.allocateFrom(JAVA_FLOAT, v);
                    default -> throw new IllegalArgumentException("kernel argument " + args[i]);
                };
                params.setAtIndex(ADDRESS, i, slot);
            }
            return new Launch(function, gridX, gridY, block, params);
        }

        void enqueue(MemorySegment stream) {
            check(cuda_h.cuLaunchKernel(function, gridX, gridY, 1, block, 1, 1, 0, stream, params, MemorySegment.NULL), "cuLaunchKernel");
        }
    }

    // ------------------------------------------------------------------ run

    private void ensureOpen() {
        if (guard.isClosed()) throw new IllegalStateException("program closed");
    }

    private static boolean same(MemorySegment a, MemorySegment b) {
        return a.isNative() && a.address() == b.address();
    }

    private void enqueueForward() {
        if (graphed()) check(cuda_h.cuGraphLaunch(graphExec, stream), "cuGraphLaunch");
        else for (Op op : ops) op.enqueue();
    }

    @Override
    public void run(MemorySegment input, MemorySegment output, LayerTimer timer) {
        Checks.floats(input, inputFloats(), "program input");
        Checks.floats(output, outputFloats(), "program output");
        guard.enter(); // close() waits for this run before it frees the device and pinned buffers
        try {
            Checks.accessible(input, "program input");
            Checks.accessible(output, "program output");
            runGuarded(input, output, timer);
        } finally {
            guard.exit();
        }
    }

    private void runGuarded(MemorySegment input, MemorySegment output, LayerTimer timer) {
        dev.makeCurrent();
        if (!same(input, hostIn)) MemorySegment.copy(input, 0, hostIn, 0, inBytes);
        check(cuda_h.cuMemcpyHtoDAsync(dIn, hostIn, inBytes, stream), "cuMemcpyHtoDAsync_v2");
        if (timer.enabled()) {
            check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
            for (Op op : ops) {
                long t0 = System.nanoTime();
                op.enqueue();
                check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize(" + op.layer() + ")");
                timer.record(op.layer(), System.nanoTime() - t0);
            }
        } else {
            enqueueForward();
        }
        check(cuda_h.cuMemcpyDtoHAsync(hostOut, dOut, outBytes, stream), "cuMemcpyDtoHAsync_v2");
        check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
        if (!same(output, hostOut)) MemorySegment.copy(hostOut, 0, output, 0, outBytes);
    }

    /**
     * Device time of one forward pass on whatever input is already on the device (no host copies),
     * in milliseconds: {@code iterations} passes back to back between two CUDA events, averaged.
     */
    public double timeForward(int warmup, int iterations) {
        ensureOpen();
        dev.makeCurrent();
        for (int i = 0; i < warmup; i++) enqueueForward();
        check(cuda_h.cuEventRecord(evStart, stream), "cuEventRecord");
        for (int i = 0; i < iterations; i++) enqueueForward();
        check(cuda_h.cuEventRecord(evEnd, stream), "cuEventRecord");
        check(cuda_h.cuEventSynchronize(evEnd), "cuEventSynchronize");
        check(cuda_h.cuEventElapsedTime(millis, evStart, evEnd), "cuEventElapsedTime");
        return millis.get(JAVA_FLOAT, 0) / (double) iterations;
    }

    /**
     * GPU time per layer in milliseconds, averaged over {@code iterations} layer-by-layer passes with a
     * CUDA event after each layer; a spin kernel holds the stream first so the host queues the whole pass
     * ahead of the GPU (launch gaps are not counted, as in a graph).
     */
    public java.util.LinkedHashMap<String, Double> profile(int iterations) {
        ensureOpen();
        dev.makeCurrent();
        MemorySegment[] ev = new MemorySegment[ops.size() + 1];
        double[] sum = new double[ops.size()];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS), ms = a.allocate(JAVA_FLOAT);
            for (int i = 0; i < ev.length; i++) {
                check(cuda_h.cuEventCreate(p, cuda_h.CU_EVENT_DEFAULT), "cuEventCreate");
                ev[i] = p.get(ADDRESS, 0);
            }
            try {
                for (int it = 0; it < iterations; it++) {
                    spin.enqueue(stream);
                    check(cuda_h.cuEventRecord(ev[0], stream), "cuEventRecord");
                    for (int i = 0; i < ops.size(); i++) {
                        ops.get(i).enqueue();
                        check(cuda_h.cuEventRecord(ev[i + 1], stream), "cuEventRecord");
                    }
                    check(cuda_h.cuEventSynchronize(ev[ev.length - 1]), "cuEventSynchronize");
                    for (int i = 0; i < ops.size(); i++) {
                        check(cuda_h.cuEventElapsedTime(ms, ev[i], ev[i + 1]), "cuEventElapsedTime");
                        sum[i] += ms.get(JAVA_FLOAT, 0);
                    }
                }
            } finally {
                for (MemorySegment e : ev) if (e != null) cuda_h.cuEventDestroy(e);
            }
        }
        var out = new java.util.LinkedHashMap<String, Double>();
        for (int i = 0; i < ops.size(); i++) out.put(ops.get(i).layer(), sum[i] / iterations);
        return out;
    }

    @Override
    public void close() {
        if (!guard.close()) return;
        RuntimeException first = null;
        try {
            dev.makeCurrent();
            cuda_h.cuStreamSynchronize(stream);
        } catch (RuntimeException e) {
            first = e;
        }
        if (!graphExec.equals(MemorySegment.NULL)) cuda_h.cuGraphExecDestroy(graphExec);
        if (!graph.equals(MemorySegment.NULL)) cuda_h.cuGraphDestroy(graph);
        if (!evStart.equals(MemorySegment.NULL)) cuda_h.cuEventDestroy(evStart);
        if (!evEnd.equals(MemorySegment.NULL)) cuda_h.cuEventDestroy(evEnd);
        for (int i = destroyers.size() - 1; i >= 0; i--) destroyers.get(i).run();
        if (!hostIn.equals(MemorySegment.NULL)) cuda_h.cuMemFreeHost(hostIn);
        if (!hostOut.equals(MemorySegment.NULL)) cuda_h.cuMemFreeHost(hostOut);
        if (pool != 0) cuda_h.cuMemFree(pool);
        graphExec = graph = evStart = evEnd = hostIn = hostOut = MemorySegment.NULL;
        pool = 0;
        arena.close();
        dev.forget(this);
        if (first != null) throw first;
    }
}
