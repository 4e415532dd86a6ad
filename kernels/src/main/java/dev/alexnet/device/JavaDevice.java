package dev.alexnet.device;

import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.SoftmaxRef;
import dev.alexnet.kernels.vec.ThreadTeam;

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

    private final int threads;
    private final Kernels kernels;
    private final List<AutoCloseable> programs = new ArrayList<>();
    private boolean closed;
    private ThreadTeam team; // VECTOR only: the device's threads (the caller of run() is member 0), made on first compile

    public JavaDevice(int threads, Kernels kernels) {
        if (threads < 1) throw new IllegalArgumentException("a Java device needs at least one thread, got " + threads);
        this.threads = threads;
        this.kernels = kernels;
    }

    public int threads() { return threads; }
    public Kernels kernels() { return kernels; }

    @Override
    public String name() { return (kernels == Kernels.REFERENCE ? "ref:" : "java:") + threads; }

    @Override
    public synchronized Program compile(List<Layer> layers, int batch) {
        ensureOpen();
        Device.checkChain(layers);
        Program p = switch (kernels) {
            case REFERENCE -> new ReferenceProgram(Device.inferenceLayers(layers), batch);
            case VECTOR -> {
                if (team == null) team = new ThreadTeam(threads);
                yield VectorPrograms.compile(List.copyOf(layers), batch, team);
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
