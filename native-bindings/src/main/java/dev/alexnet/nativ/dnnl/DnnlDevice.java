package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.nativ.NativeLibraryException;

import java.util.ArrayList;
import java.util.List;

/**
 * The oneDNN CPU device, {@code dnnl:N}: every layer kind runs as a oneDNN 3.x primitive, called
 * through hand-written FFM bindings ({@link dev.alexnet.nativ.dnnl.raw.dnnl_h}).
 *
 * <p><b>What compile does</b> ({@link DnnlProgram}): convolution and inner product get
 * {@code format_tag_any} descriptors so oneDNN picks its preferred (usually channel-blocked) layouts;
 * weights are reordered into them once; pooling and LRN take the previous layer's layout, so
 * activations stay in oneDNN's formats from layer to layer and are reordered only where a consumer
 * wants another layout and at the program's NCHW boundaries. ReLU is a fused eltwise post-op; LRN
 * gets {@link dev.alexnet.kernels.LrnParams#libraryAlpha()} (oneDNN divides alpha by n, the paper
 * does not). Every primitive is created once per compile, with a user-managed scratchpad shared by
 * the program's primitives.
 *
 * <p><b>Threads.</b> This oneDNN build uses GNU OpenMP (the bundled {@code libgomp.so.1}), which
 * reads {@code OMP_NUM_THREADS} only when it initialises, and every Java thread that calls into
 * oneDNN becomes the master of its own OpenMP team. The team size ({@code nthreads-var}) is a
 * per-thread setting, so the device calls {@code omp_set_num_threads(N)} (bound from libgomp) on the
 * calling thread at the start of every {@code compile} and {@code run}: {@code dnnl:1} really runs on
 * one thread, and two towers on two Java threads get N threads each rather than a full-machine team
 * each. The setting stays on that thread afterwards. {@code OMP_WAIT_POLICY=passive} in the
 * environment (set before the JVM starts) stops idle workers from spinning when Java kernels share
 * the cores.
 *
 * <p><b>Training</b> ({@link #compileTraining}, {@link DnnlTrainingProgram}): forward-training
 * primitives that keep what their backward needs (pooling and LRN workspaces, the ReLU's output),
 * backward-data and backward-weights primitives created with the forward ones as hints, and dropout
 * as a Java loop with {@link dev.alexnet.kernels.DropoutMask}'s masks.
 *
 * <p>Construction loads the library (once per JVM; the first time on a machine extracts it into
 * {@code ~/.cache/alexnet-jvm}, see {@link DnnlLibrary}) and creates the engine: it is cheap
 * afterwards, and a missing library fails here with a {@link NativeLibraryException}. Closing the
 * device closes every program it compiled, then the engine.
 */
public final class DnnlDevice implements Device {
    private final int threads;
    private final DnnlEngine engine;
    private final List<DnnlProgram> programs = new ArrayList<>();
    private final List<DnnlTrainingProgram> trainingPrograms = new ArrayList<>();
    private boolean closed;

    /**
     * @param threads OpenMP threads per run (per calling thread)
     * @throws NativeLibraryException when oneDNN cannot be found or loaded
     */
    public DnnlDevice(int threads) {
        if (threads < 1) throw new IllegalArgumentException("a oneDNN device needs at least one thread, got " + threads);
        this.threads = threads;
        DnnlLibrary.Loaded lib = DnnlLibrary.load();
        String v = Dnnl.version();
        if (!v.startsWith("3.")) {
            throw new NativeLibraryException("oneDNN " + v + " loaded from " + lib.library() + ", but these bindings are for 3.x (checked against 3.13)");
        }
        this.engine = DnnlEngine.cpu();
    }

    /** The loaded oneDNN's version, e.g. {@code 3.13.0} (loads the library). */
    public static String version() {
        DnnlLibrary.load();
        return Dnnl.version();
    }

    public int threads() { return threads; }

    @Override
    public String name() { return "dnnl:" + threads; }

    DnnlEngine engine() { return engine; }

    @Override
    public synchronized DnnlProgram compile(List<Layer> layers, int batch) {
        if (closed) throw new IllegalStateException(name() + " is closed");
        if (layers == null) throw new IllegalArgumentException("layers is null");
        Device.checkChain(layers);
        if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
        Dnnl.setThreadsForCallingThread(threads);
        DnnlProgram p = new DnnlProgram(this, Device.inferenceLayers(layers), batch, threads);
        programs.add(p);
        return p;
    }

    /**
     * @throws IllegalArgumentException for a softmax layer (the loss belongs outside the program), a chain
     *                                  whose sizes do not fit, a non-positive batch, or parameter/gradient
     *                                  tensors that are not native segments
     */
    @Override
    public synchronized DnnlTrainingProgram compileTraining(List<TrainLayer> layers, int batch) {
        if (closed) throw new IllegalStateException(name() + " is closed");
        if (layers == null) throw new IllegalArgumentException("layers is null");
        Device.checkTrainingChain(layers);
        for (TrainLayer tl : layers) {
            if (tl.spec() instanceof LayerSpec.Softmax s) {
                throw new IllegalArgumentException(s.name() + ": softmax is not part of a training program (apply the loss to the logits outside it)");
            }
        }
        if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
        Dnnl.setThreadsForCallingThread(threads);
        DnnlTrainingProgram p = new DnnlTrainingProgram(this, layers, batch, threads);
        trainingPrograms.add(p);
        return p;
    }

    synchronized void forget(DnnlProgram p) {
        programs.remove(p);
    }

    synchronized void forget(DnnlTrainingProgram p) {
        trainingPrograms.remove(p);
    }

    /** Programs (inference and training) compiled and not yet closed. */
    public synchronized int openPrograms() { return programs.size() + trainingPrograms.size(); }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (DnnlProgram p : List.copyOf(programs)) p.close();
        programs.clear();
        for (DnnlTrainingProgram p : List.copyOf(trainingPrograms)) p.close();
        trainingPrograms.clear();
        engine.close();
    }

    @Override
    public String toString() { return name(); }
}
