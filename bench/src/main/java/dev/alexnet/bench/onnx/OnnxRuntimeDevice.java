package dev.alexnet.bench.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.alexnet.device.Device;
import dev.alexnet.device.JvmFlags;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Checks;
import dev.alexnet.model.onnx.OnnxModel;
import dev.alexnet.model.onnx.Proto;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime's CPU execution provider as a {@link Device} ({@code ort:N}): the external anchor the
 * project's CPU speed is compared with, run behind the same SPI as the project's own devices.
 *
 * <p>{@link #compile} builds an ONNX model for exactly the given layers and batch ({@link OnnxModel},
 * weights as initializers) and opens a session on it with N intra-op threads, one inter-op thread,
 * sequential execution and every graph optimisation (ORT fuses Conv+Relu and pre-packs the constant
 * weights). A program's input and output tensors sit over direct buffers allocated once; each run copies
 * the caller's input in, runs the session with the output pinned to its buffer, and copies the result out.
 *
 * <p>ORT runs the graph in one call, so there are no per-layer times: with a timer, a run records one
 * entry named after its layers ({@code conv1..fc8}). ORT's own per-node profile is available through
 * {@link Options#profilePrefix()}.
 */
public final class OnnxRuntimeDevice implements Device {
    /**
     * System property: when set to a file-name prefix, every session writes ORT's own per-node profile
     * (Chrome trace JSON, {@code <prefix>_<date>.json}), closed and named on stderr when its program closes.
     */
    public static final String PROFILE_PROPERTY = "alexnet.ort.profile";

    /** System property choosing how LRN is expressed: {@code op} or {@code decomposed} (see {@link OnnxModel.LrnMode}). */
    public static final String LRN_PROPERTY = "alexnet.ort.lrn";

    /**
     * Everything an ONNX Runtime device can be tuned with; {@link #defaults()} fills it from system
     * properties, and nothing below the device reads a property.
     *
     * @param lrn           how LRN is expressed in the ONNX graph
     * @param profilePrefix where ORT writes its per-node profile ({@code <prefix>_<date>.json}), or null for none
     */
    public record Options(OnnxModel.LrnMode lrn, String profilePrefix) {
        public Options {
            java.util.Objects.requireNonNull(lrn, "lrn");
            if (profilePrefix != null && profilePrefix.isBlank()) profilePrefix = null;
        }

        /** From {@link #LRN_PROPERTY} ({@code decomposed} by default) and {@link #PROFILE_PROPERTY} (no profile by default). */
        public static Options defaults() {
            return fromProperties(System.getProperties());
        }

        /** @throws IllegalArgumentException naming the property and its accepted values for an LRN mode it does not know */
        public static Options fromProperties(java.util.Properties p) {
            String v = p.getProperty(LRN_PROPERTY, "decomposed").strip().toLowerCase(java.util.Locale.ROOT);
            OnnxModel.LrnMode lrn = switch (v) {
                case "op", "lrn" -> OnnxModel.LrnMode.OP;
                case "decomposed" -> OnnxModel.LrnMode.DECOMPOSED;
                default -> throw new IllegalArgumentException(LRN_PROPERTY + " must be 'op' or 'decomposed', got '" + v + "'");
            };
            return new Options(lrn, p.getProperty(PROFILE_PROPERTY));
        }

        public Options withLrn(OnnxModel.LrnMode lrn) { return new Options(lrn, profilePrefix); }
        public Options withProfilePrefix(String profilePrefix) { return new Options(lrn, profilePrefix); }
    }

    private final int threads;
    private final Options options;
    private final OrtEnvironment env;
    private final List<OrtProgram> programs = new ArrayList<>();

    /** Options from the system properties ({@link Options#defaults()}). */
    public OnnxRuntimeDevice(int threads) {
        this(threads, Options.defaults());
    }

    /** The given LRN mode; the profile as {@link #PROFILE_PROPERTY} says. */
    public OnnxRuntimeDevice(int threads, OnnxModel.LrnMode lrnMode) {
        this(threads, new Options(lrnMode, System.getProperty(PROFILE_PROPERTY)));
    }

    public OnnxRuntimeDevice(int threads, Options options) {
        if (threads < 1) throw new IllegalArgumentException("an ONNX Runtime device needs at least one thread, got " + threads);
        JvmFlags.requireNativeAccess(OrtEnvironment.class, "ort:" + threads); // ORT loads its JNI library, a restricted call
        this.threads = threads;
        this.options = java.util.Objects.requireNonNull(options);
        this.env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "alexnet");
    }

    @Override
    public String name() { return "ort:" + threads; }

    public int threads() { return threads; }
    public Options options() { return options; }
    public OnnxModel.LrnMode lrnMode() { return options.lrn(); }

    /** The ONNX Runtime library version, e.g. {@code 1.29.0}. */
    public String version() { return env.getVersion(); }

    @Override
    public synchronized OrtProgram compile(List<Layer> layers, int batch) {
        OrtProgram p = new OrtProgram(dev.alexnet.device.Device.inferenceLayers(layers), batch);
        programs.add(p);
        return p;
    }

    @Override
    public synchronized void close() {
        for (OrtProgram p : programs) p.close();
        programs.clear();
    }

    /** One ORT session for a run of layers at one batch size. */
    public final class OrtProgram implements Program {
        private final List<Layer> layers;
        private final int batch;
        private final String timerName;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment inSeg, outSeg; // the memory under the input and output tensors
        private final OrtSession session;
        private final OnnxTensor inTensor, outTensor;
        private final Map<String, OnnxTensor> inputs, pinnedOutputs;
        private final dev.alexnet.device.RunGuard guard = new dev.alexnet.device.RunGuard("ort program");

        OrtProgram(List<Layer> layers, int batch) {
            Device.checkChain(layers);
            if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
            this.layers = layers;
            this.batch = batch;
            this.timerName = layers.size() == 1 ? layers.getFirst().spec().name()
                    : layers.getFirst().spec().name() + ".." + layers.getLast().spec().name();
            OnnxModel.Built built = OnnxModel.build(layers, batch, options.lrn());
            OrtSession s = null;
            OnnxTensor in = null, out = null;
            try {
                try (Arena modelArena = Arena.ofConfined();
                     OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                    opts.setIntraOpNumThreads(threads);
                    opts.setInterOpNumThreads(1);
                    opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                    opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    if (options.profilePrefix() != null) opts.enableProfiling(options.profilePrefix());
                    // The model bytes live off-heap only until the session has parsed them.
                    MemorySegment model = Proto.encode(built.model(), modelArena);
                    s = env.createSession(model.asByteBuffer(), opts);
                }
                inSeg = arena.allocate(inputFloats() * Float.BYTES, 64);
                outSeg = arena.allocate(outputFloats() * Float.BYTES, 64);
                in = OnnxTensor.createTensor(env, floats(inSeg), built.inputShape());
                out = OnnxTensor.createTensor(env, floats(outSeg), built.outputShape());
                this.session = s;
                this.inTensor = in;
                this.outTensor = out;
                this.inputs = Map.of(OnnxModel.INPUT, in);
                this.pinnedOutputs = Map.of(built.outputName(), out);
            } catch (OrtException | RuntimeException e) {
                if (in != null) in.close();
                if (out != null) out.close();
                if (s != null) closeQuietly(s);
                arena.close();
                throw e instanceof RuntimeException r ? r
                        : new IllegalStateException("ONNX Runtime could not load the model for " + timerName + ": " + e.getMessage(), e);
            }
        }

        private static FloatBuffer floats(MemorySegment seg) {
            return seg.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        @Override public int batch() { return batch; }
        @Override public List<Layer> layers() { return layers; }

        @Override
        public void run(MemorySegment input, MemorySegment output, LayerTimer timer) {
            Checks.floats(input, inputFloats(), "program input");
            Checks.floats(output, outputFloats(), "program output");
            guard.enter(); // close() waits for this run: ORT reads inSeg and writes outSeg natively
            try {
                long t0 = System.nanoTime();
                MemorySegment.copy(input, 0, inSeg, 0, inSeg.byteSize());
                try (OrtSession.Result r = session.run(inputs, pinnedOutputs)) {
                    // the output is pinned: ORT wrote it into outSeg, and the result does not own it
                } catch (OrtException e) {
                    throw new IllegalStateException("ONNX Runtime failed running " + timerName + ": " + e.getMessage(), e);
                }
                MemorySegment.copy(outSeg, 0, output, 0, outSeg.byteSize());
                if (timer.enabled()) timer.record(timerName, System.nanoTime() - t0);
            } finally {
                guard.exit();
            }
        }

        @Override
        public void close() {
            if (!guard.close()) return;
            if (options.profilePrefix() != null) {
                try {
                    System.err.println("ONNX Runtime profile of " + timerName + " (batch " + batch + "): " + session.endProfiling());
                } catch (OrtException e) {
                    System.err.println("ONNX Runtime profile of " + timerName + " not written: " + e.getMessage());
                }
            }
            inTensor.close();
            outTensor.close();
            closeQuietly(session);
            arena.close();
        }

        private static void closeQuietly(OrtSession s) {
            try {
                s.close();
            } catch (OrtException e) {
                // nothing to do: the native session is gone either way
            }
        }
    }
}
