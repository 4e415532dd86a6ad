package dev.alexnet.device.java;

import dev.alexnet.device.Device;
import dev.alexnet.device.JvmFlags;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import dev.alexnet.device.RunGuard;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.device.TrainingProgram;

import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.SoftmaxRef;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.vec.ThreadTeam;
import dev.alexnet.kernels.vec.Winograd5Vec;
import dev.alexnet.kernels.vec.WinogradVec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The pure-Java device: the project's kernels on a fixed number of threads.
 * {@link Kernels#REFERENCE} runs the scalar oracles (single-threaded, NCHW, layer by layer);
 * {@link Kernels#VECTOR} runs the Vector API kernels on {@code threads} threads.
 */
public final class JavaDevice implements Device {
    public enum Kernels { REFERENCE, VECTOR }

    /** How the Vector API kernels compute a convolution. */
    public enum ConvAlgorithm {
        /** The direct implicit GEMM ({@code ConvVec}). */
        DIRECT,
        /** Winograd F(2x2, 3x3) ({@link WinogradVec}) wherever it applies (3x3, stride 1, pad 1), direct elsewhere. */
        WINOGRAD,
        /** Winograd F(4x4, 3x3) ({@link WinogradVec.Variant#F4X4}) wherever it applies, direct elsewhere. */
        WINOGRAD4,
        /** Per layer and batch by a fixed rule from measurements (see {@link Options#winogradVariant}): the same choice on every run. */
        AUTO
    }

    /**
     * Choices of the Vector API kernels.
     *
     * @param conv3x3 the algorithm for 3x3, stride 1, pad 1 convolutions
     * @param conv5x5 the algorithm for 5x5, stride 1, pad 2 convolutions (WINOGRAD: F(2x2, 5x5), {@link Winograd5Vec});
     *                all other convolutions are direct
     */
    public record Options(ConvAlgorithm conv3x3, ConvAlgorithm conv5x5) {
        /** The system properties that {@link #fromSystemProperties} reads: direct, winograd, winograd4 (3x3 only) or auto. */
        public static final String CONV3X3_PROPERTY = "alexnet.java.conv3x3", CONV5X5_PROPERTY = "alexnet.java.conv5x5";
        public static final Options DEFAULT = new Options(ConvAlgorithm.AUTO, ConvAlgorithm.AUTO);
        /** The smallest batch at which AUTO picks F(4x4, 3x3) over F(2x2, 3x3) (see {@link #winogradVariant}). */
        public static final int WINOGRAD4_MIN_BATCH = 8;

        public Options {
            if (conv3x3 == null) throw new IllegalArgumentException("conv3x3 is null: use DIRECT, WINOGRAD, WINOGRAD4 or AUTO");
            if (conv5x5 == null || conv5x5 == ConvAlgorithm.WINOGRAD4) {
                throw new IllegalArgumentException("conv5x5 is " + conv5x5 + ": use DIRECT, WINOGRAD or AUTO");
            }
        }

        /** {@code conv3x3} for the 3x3 convolutions and what it implies for the 5x5 ones ({@link #implied5x5}). */
        public Options(ConvAlgorithm conv3x3) {
            this(conv3x3, implied5x5(conv3x3));
        }

        /** The 5x5 choice that goes with a 3x3 one: AUTO with AUTO; a forced 3x3 algorithm leaves 5x5 direct. */
        static ConvAlgorithm implied5x5(ConvAlgorithm conv3x3) {
            return conv3x3 == ConvAlgorithm.AUTO ? ConvAlgorithm.AUTO : ConvAlgorithm.DIRECT;
        }

        /** {@link #DEFAULT}, with {@code -Dalexnet.java.conv3x3=direct|winograd|winograd4|auto} and {@code -Dalexnet.java.conv5x5=direct|winograd|auto} if set. */
        public static Options fromSystemProperties() {
            return new Options(property(CONV3X3_PROPERTY), property(CONV5X5_PROPERTY));
        }

        private static ConvAlgorithm property(String key) {
            String v = System.getProperty(key);
            if (v == null || v.isBlank()) return ConvAlgorithm.AUTO;
            return switch (v.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "direct" -> ConvAlgorithm.DIRECT;
                case "winograd" -> ConvAlgorithm.WINOGRAD;
                case "winograd4" -> { if (key.equals(CONV3X3_PROPERTY)) yield ConvAlgorithm.WINOGRAD4; throw notAnAlgorithm(key, v); }
                case "auto" -> ConvAlgorithm.AUTO;
                default -> throw notAnAlgorithm(key, v);
            };
        }

        private static IllegalArgumentException notAnAlgorithm(String key, String v) {
            return new IllegalArgumentException("-D" + key + "=" + v + " is not an algorithm: use "
                    + (key.equals(CONV3X3_PROPERTY) ? "direct, winograd, winograd4" : "direct, winograd") + " or auto");
        }

        /** Whether convolution {@code s} runs as Winograd (either variant): {@link #winogradVariant} is not null. */
        public boolean winograd(ConvShape s) { return winogradVariant(s) != null; }

        /**
         * The Winograd variant convolution {@code s} runs as, or {@code null} for the direct loop. AUTO: every 3x3,
         * stride 1, pad 1 convolution with at least 16 input and output channels per group runs as Winograd (with
         * few channels the transforms would outweigh the GEMMs): F(4x4, 3x3) from batch {@value #WINOGRAD4_MIN_BATCH}
         * up, F(2x2, 3x3) below. F(4x4, 3x3)'s transformed weights are 2.25x F(2x2, 3x3)'s and are read once per
         * chunk of tiles; with a batch's few tiles (16 per 13x13 image) that read decides, with many the 1.36x
         * fewer multiply-adds do. On conv3, conv4 and conv5 side by side at batch 8 and 32 F(4x4, 3x3) measured
         * faster than F(2x2, 3x3), and both faster than the direct loop (bench/RESULTS.md, "Winograd F(4x4, 3x3)").
         * A static rule, not a timing at run time, so the choice and the results are the same on every run.
         */
        public WinogradVec.Variant winogradVariant(ConvShape s) {
            if (!WinogradVec.supports(s)) return null;
            return switch (conv3x3) {
                case DIRECT -> null;
                case WINOGRAD -> WinogradVec.Variant.F2X2;
                case WINOGRAD4 -> WinogradVec.Variant.F4X4;
                case AUTO -> s.cg() < 16 || s.kg() < 16 ? null
                        : s.n() >= WINOGRAD4_MIN_BATCH ? WinogradVec.Variant.F4X4 : WinogradVec.Variant.F2X2;
            };
        }

        /**
         * Whether convolution {@code s} runs as Winograd F(2x2, 5x5). AUTO: every 5x5, stride 1, pad 2 convolution
         * with at least 48 input and output channels per group. On conv2 (the paper's 48 -> 128 per group and
         * torchvision's 64 -> 192) it measured 1.5-2.5x faster than the direct loop at batch 1 and 32 on one
         * thread (bench/RESULTS.md, "Winograd F(2x2,5x5) for conv2"); at 16 channels it was slower (0.88x) and
         * at 32 even (1.05x): the transforms' cost does not shrink with the channel count. A static rule, so the
         * choice and the results are the same on every run.
         */
        public boolean winograd5(ConvShape s) {
            if (!Winograd5Vec.supports(s)) return false;
            return switch (conv5x5) {
                case DIRECT, WINOGRAD4 -> false; // the constructor refuses WINOGRAD4 for 5x5
                case WINOGRAD -> true;
                case AUTO -> s.cg() >= 48 && s.kg() >= 48;
            };
        }

        /** The name's suffix: the 3x3 algorithm unless AUTO, then the 5x5 one where it is not what the 3x3 choice implies. */
        String suffix() {
            return (conv3x3 == ConvAlgorithm.AUTO ? "" : "/" + conv3x3.name().toLowerCase(java.util.Locale.ROOT))
                    + (conv5x5 == implied5x5(conv3x3) ? "" : "/" + conv5x5.name().toLowerCase(java.util.Locale.ROOT) + "5");
        }
    }

    private final int threads;
    private final Kernels kernels;
    private final Options options;
    private final List<AutoCloseable> programs = new ArrayList<>();
    private boolean closed;
    private ThreadTeam team; // VECTOR only: the device's threads (the caller of run() is member 0), made on first compile

    /** With {@link Options#fromSystemProperties()}. */
    public JavaDevice(int threads, Kernels kernels) {
        this(threads, kernels, Options.fromSystemProperties());
    }

    public JavaDevice(int threads, Kernels kernels, Options options) {
        if (threads < 1) throw new IllegalArgumentException("a Java device needs at least one thread, got " + threads);
        if (kernels == Kernels.VECTOR) JvmFlags.requireJavaKernels("java:" + threads);
        if (options == null) throw new IllegalArgumentException("options is null: use JavaDevice.Options.DEFAULT");
        this.threads = threads;
        this.kernels = kernels;
        this.options = options;
    }

    public int threads() { return threads; }
    public Kernels kernels() { return kernels; }
    public Options options() { return options; }

    @Override
    public String name() {
        if (kernels == Kernels.REFERENCE) return "ref:" + threads;
        return "java:" + threads + options.suffix();
    }

    @Override
    public synchronized Program compile(List<Layer> layers, int batch) {
        ensureOpen();
        Device.checkChain(layers);
        Program p = switch (kernels) {
            case REFERENCE -> new ReferenceProgram(Device.inferenceLayers(layers), batch);
            case VECTOR -> {
                if (team == null) team = new ThreadTeam(threads);
                yield VectorPrograms.compile(List.copyOf(layers), batch, team, options);
            }
        };
        programs.add(p);
        return p;
    }

    @Override
    public synchronized TrainingProgram compileTraining(List<TrainLayer> layers, int batch) {
        ensureOpen();
        if (kernels == Kernels.VECTOR && team == null) team = new ThreadTeam(threads);
        TrainingProgram p = new JavaTrainingProgram(layers, batch, kernels == Kernels.VECTOR ? team : null);
        programs.add(p);
        return p;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(name() + " is closed");
    }

    /** Closes every program (each waits for a run in flight on another thread), then the threads. */
    @Override
    public synchronized void close() {
        closed = true;
        for (AutoCloseable p : programs) {
            try {
                p.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a program of " + name() + ": " + e.getMessage(), e);
            }
        }
        programs.clear();
        if (team != null) {
            team.close();
            team = null;
        }
    }

    /** Layer by layer with the scalar reference kernels, between NCHW buffers it owns. */
    static final class ReferenceProgram implements Program {
        private final List<Layer> layers;
        private final int batch;
        private final Arena arena = Arena.ofShared();
        private final RunGuard guard = new RunGuard("ref program");
        private final MemorySegment[] buffers; // buffers[i] = output of layer i (the last one writes to the caller's)

        ReferenceProgram(List<Layer> layers, int batch) {
            if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
            this.layers = layers;
            this.batch = batch;
            this.buffers = new MemorySegment[layers.size()];
            for (int i = 0; i < layers.size() - 1; i++) {
                buffers[i] = arena.allocate(batch * layers.get(i).spec().outputSize() * Float.BYTES, 64);
            }
        }

        @Override public int batch() { return batch; }
        @Override public List<Layer> layers() { return layers; }

        @Override
        public void run(MemorySegment input, MemorySegment output, LayerTimer timer) {
            dev.alexnet.kernels.Checks.floats(input, inputFloats(), "program input");
            dev.alexnet.kernels.Checks.floats(output, outputFloats(), "program output");
            guard.enter();
            try {
                dev.alexnet.kernels.Checks.accessible(input, "program input");
                dev.alexnet.kernels.Checks.accessible(output, "program output");
                runLayers(input, output, timer);
            } finally {
                guard.exit();
            }
        }

        private void runLayers(MemorySegment input, MemorySegment output, LayerTimer timer) {
            MemorySegment in = input;
            for (int i = 0; i < layers.size(); i++) {
                MemorySegment out = i == layers.size() - 1 ? output : buffers[i];
                long t0 = System.nanoTime();
                runLayer(layers.get(i), out, in, batch);
                if (timer.enabled()) timer.record(layers.get(i).spec().name(), System.nanoTime() - t0);
                in = out;
            }
        }

        static void runLayer(Layer layer, MemorySegment out, MemorySegment in, int batch) {
            switch (layer.spec()) {
                case LayerSpec.Conv c -> ConvRef.forward(out, in, layer.weight().data(), layer.bias().data(), c.shape(batch), c.relu());
                case LayerSpec.MaxPool p -> MaxPoolRef.forward(out, in, p.shape(batch));
                case LayerSpec.Lrn l -> LrnRef.forward(out, in, l.shape(batch));
                case LayerSpec.Linear l -> LinearRef.forward(out, in, layer.weight().data(), layer.bias().data(), l.shape(batch), l.relu());
                case LayerSpec.Softmax s -> SoftmaxRef.forward(out, in, batch, s.classes());
                case LayerSpec.Dropout d -> throw new IllegalStateException("dropout reached an inference program");
            }
        }

        @Override
        public void close() {
            if (guard.close()) arena.close();
        }
    }
}
