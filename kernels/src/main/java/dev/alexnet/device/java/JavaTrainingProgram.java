package dev.alexnet.device.java;

import dev.alexnet.device.Device;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.RunGuard;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.device.TrainingProgram;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.DropoutRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.kernels.ref.ReluRef;
import dev.alexnet.kernels.vec.ConvTrainVec;
import dev.alexnet.kernels.vec.DropoutVec;
import dev.alexnet.kernels.vec.LinearTrainVec;
import dev.alexnet.kernels.vec.LrnBackwardVec;
import dev.alexnet.kernels.vec.NchwPoolLrn;
import dev.alexnet.kernels.vec.PoolBackwardVec;
import dev.alexnet.kernels.vec.ReluVec;
import dev.alexnet.kernels.vec.ThreadTeam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Training on the Java device: every layer between NCHW buffers the program owns, the forward pass
 * keeping each layer's output for the backward pass.
 *
 * <p>With {@link JavaDevice.Kernels#VECTOR} each pass of each layer is one data-parallel task on the
 * device's {@link ThreadTeam}; with {@link JavaDevice.Kernels#REFERENCE} the scalar oracles run on the
 * caller. All buffers and tasks are made here, once. The caller's input and
 * output gradient are copied in (with the JDK's checked copy), so the kernels read only memory this
 * program owns and the caller's segments may be confined to its thread.
 *
 * <p>A convolution or linear layer with a fused ReLU keeps only its output: the ReLU's gradient mask is
 * {@code output > 0}, applied in place to the incoming gradient before the layer's own backward.
 */
final class JavaTrainingProgram implements TrainingProgram {
    private final List<TrainLayer> layers;
    private final int batch;
    private final ThreadTeam team; // null for the reference kernels
    private final Arena arena = Arena.ofShared();
    private final RunGuard guard = new RunGuard("java training program");
    private final MemorySegment input;       // the caller's input, copied
    private final MemorySegment[] acts;      // acts[i] = output of layer i
    private final MemorySegment gradA, gradB; // gradients of activations, alternating layer by layer
    private final LayerPasses[] passes;
    private final long inputFloats, outputFloats;
    private long seed;
    private boolean forwardDone;

    JavaTrainingProgram(List<TrainLayer> layers, int batch, ThreadTeam team) {
        if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
        Device.checkTrainingChain(layers);
        this.layers = List.copyOf(layers);
        this.batch = batch;
        this.team = team;
        this.inputFloats = TrainingProgram.super.inputFloats();
        this.outputFloats = TrainingProgram.super.outputFloats();
        try {
            input = floats(inputFloats);
            acts = new MemorySegment[layers.size()];
            long maxGrad = inputFloats;
            for (int i = 0; i < layers.size(); i++) {
                long size = batch * layers.get(i).spec().outputSize();
                acts[i] = floats(size);
                maxGrad = Math.max(maxGrad, size);
            }
            gradA = floats(maxGrad);
            gradB = floats(maxGrad);
            passes = new LayerPasses[layers.size()];
            for (int i = 0; i < layers.size(); i++) passes[i] = passes(i);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private MemorySegment floats(long n) {
        return arena.allocate(n * Float.BYTES, 64);
    }

    @Override public int batch() { return batch; }
    @Override public List<TrainLayer> layers() { return layers; }
    @Override public long inputFloats() { return inputFloats; }
    @Override public long outputFloats() { return outputFloats; }

    @Override
    public void forward(MemorySegment in, MemorySegment out, long seed, LayerTimer timer) {
        Checks.floats(in, inputFloats, "training input");
        Checks.floats(out, outputFloats, "training output");
        guard.enter();
        try {
            this.seed = seed;
            MemorySegment.copy(in, 0, input, 0, inputFloats * Float.BYTES);
            for (int i = 0; i < passes.length; i++) {
                long t0 = System.nanoTime();
                passes[i].forward();
                if (timer.enabled()) timer.record(layers.get(i).spec().name(), System.nanoTime() - t0);
            }
            MemorySegment.copy(acts[acts.length - 1], 0, out, 0, outputFloats * Float.BYTES);
            forwardDone = true;
        } finally {
            guard.exit();
        }
    }

    @Override
    public void backward(MemorySegment gradOutput, MemorySegment gradInput, LayerTimer timer) {
        Checks.floats(gradOutput, outputFloats, "output gradient");
        if (gradInput != null) Checks.floats(gradInput, inputFloats, "input gradient");
        guard.enter();
        try {
            if (!forwardDone) throw new IllegalStateException("backward needs a forward pass first");
            MemorySegment g = gradA, other = gradB;
            MemorySegment.copy(gradOutput, 0, g, 0, outputFloats * Float.BYTES);
            for (int i = passes.length - 1; i >= 0; i--) {
                boolean needData = i > 0 || gradInput != null;
                passes[i].backward(g, needData ? other : null, timer);
                MemorySegment t = g;
                g = other;
                other = t;
            }
            if (gradInput != null) MemorySegment.copy(g, 0, gradInput, 0, inputFloats * Float.BYTES);
        } finally {
            guard.exit();
        }
    }

    @Override
    public void parametersChanged() {
        // The kernels read the parameter tensors directly at every pass: nothing is kept to refresh.
    }

    @Override
    public void close() {
        if (guard.close()) arena.close(); // waits for a pass in flight: the kernels read this arena at absolute addresses
    }

    private void run(ThreadTeam.Task t) {
        if (team == null) t.run(0, 1);
        else team.run(t);
    }

    // ---- per-layer passes ------------------------------------------------------------------------------------

    /** One layer's forward and backward, bound to the program's buffers at compile time. */
    private abstract class LayerPasses {
        final String name;
        final MemorySegment x, y; // the layer's input and output
        MemorySegment gOut, gIn;  // set before each backward

        LayerPasses(int i) {
            this.name = layers.get(i).spec().name();
            this.x = i == 0 ? input : acts[i - 1];
            this.y = acts[i];
        }

        abstract void forward();

        /** @param gIn null when no one needs the input gradient */
        void backward(MemorySegment gOut, MemorySegment gIn, LayerTimer timer) {
            this.gOut = gOut;
            this.gIn = gIn;
            long t0 = System.nanoTime();
            backwardWeights();
            long t1 = System.nanoTime();
            if (gIn != null) backwardData();
            long t2 = System.nanoTime();
            if (timer.enabled()) {
                if (hasWeights()) timer.record(name + ".bwd-weights", t1 - t0);
                timer.record(name + ".bwd-data", t2 - t1);
            }
        }

        boolean hasWeights() { return false; }
        void backwardWeights() {}
        abstract void backwardData();
    }

    private LayerPasses passes(int i) {
        TrainLayer tl = layers.get(i);
        return switch (tl.spec()) {
            case LayerSpec.Conv c -> conv(i, tl, c);
            case LayerSpec.Linear l -> linear(i, tl, l);
            case LayerSpec.MaxPool p -> pool(i, p.shape(batch));
            case LayerSpec.Lrn l -> lrn(i, l.shape(batch));
            case LayerSpec.Dropout d -> dropout(i, d);
            case LayerSpec.Softmax s -> throw new IllegalArgumentException(
                    "softmax is not a training layer: the loss (softmax with cross-entropy) is computed on the logits");
        };
    }

    private LayerPasses conv(int i, TrainLayer tl, LayerSpec.Conv spec) {
        ConvShape s = spec.shape(batch);
        MemorySegment w = tl.layer().weight().data(), b = tl.layer().bias().data();
        MemorySegment gw = tl.weightGrad().data(), gb = tl.biasGrad().data();
        boolean relu = spec.relu();
        long outFloats = s.outputSize();
        if (team == null) {
            return new LayerPasses(i) {
                void forward() { ConvRef.forward(y, x, w, b, s, relu); }
                boolean hasWeights() { return true; }
                void backwardWeights() {
                    if (relu) ReluRef.backward(gOut, gOut, y, outFloats);
                    ConvRef.backwardWeights(gw, gb, x, gOut, s);
                }
                void backwardData() { ConvRef.backwardData(gIn, gOut, w, s); }
            };
        }
        ConvTrainVec k = new ConvTrainVec(s, team.size(), arena);
        return new LayerPasses(i) {
            final ThreadTeam.Task fwd = (m, ms) -> k.forward(y, x, w, b, relu, m, ms);
            final ThreadTeam.Task mask = (m, ms) -> ReluVec.backward(gOut, gOut, y, slice(outFloats, m, ms), slice(outFloats, m + 1, ms));
            final ThreadTeam.Task partial = (m, ms) -> k.backwardWeights(x, gOut, m, ms);
            final ThreadTeam.Task reduce = (m, ms) -> k.reduceWeights(gw, gb, m, ms);
            final ThreadTeam.Task data = (m, ms) -> k.backwardData(gIn, gOut, w, m, ms);
            void forward() { run(fwd); }
            boolean hasWeights() { return true; }
            void backwardWeights() {
                if (relu) run(mask);
                run(partial);
                run(reduce);
            }
            void backwardData() { run(data); }
        };
    }

    private LayerPasses linear(int i, TrainLayer tl, LayerSpec.Linear spec) {
        LinearShape s = spec.shape(batch);
        MemorySegment w = tl.layer().weight().data(), b = tl.layer().bias().data();
        MemorySegment gw = tl.weightGrad().data(), gb = tl.biasGrad().data();
        boolean relu = spec.relu();
        long outFloats = (long) batch * s.out();
        if (team == null) {
            return new LayerPasses(i) {
                void forward() { LinearRef.forward(y, x, w, b, s, relu); }
                boolean hasWeights() { return true; }
                void backwardWeights() {
                    if (relu) ReluRef.backward(gOut, gOut, y, outFloats);
                    LinearRef.backwardWeights(gw, gb, x, gOut, s);
                }
                void backwardData() { LinearRef.backwardData(gIn, gOut, w, s); }
            };
        }
        LinearTrainVec k = new LinearTrainVec(s, team.size(), arena);
        return new LayerPasses(i) {
            final ThreadTeam.Task fwd = (m, ms) -> k.forward(y, x, w, b, relu, m, ms);
            final ThreadTeam.Task mask = (m, ms) -> ReluVec.backward(gOut, gOut, y, slice(outFloats, m, ms), slice(outFloats, m + 1, ms));
            final ThreadTeam.Task weights = (m, ms) -> k.backwardWeights(gw, gb, x, gOut, m, ms);
            final ThreadTeam.Task data = (m, ms) -> k.backwardData(gIn, gOut, w, m, ms);
            void forward() { run(fwd); }
            boolean hasWeights() { return true; }
            void backwardWeights() {
                if (relu) run(mask);
                run(weights);
            }
            void backwardData() { run(data); }
        };
    }

    private LayerPasses pool(int i, PoolShape s) {
        if (team == null) {
            return new LayerPasses(i) {
                void forward() { MaxPoolRef.forward(y, x, s); }
                void backwardData() { MaxPoolRef.backward(gIn, gOut, x, s); }
            };
        }
        MemorySegment[] rows = NchwPoolLrn.poolScratch(arena, s, team.size());
        return new LayerPasses(i) {
            final ThreadTeam.Task fwd = (m, ms) -> NchwPoolLrn.pool(y, x, s, rows, m, ms);
            final ThreadTeam.Task data = (m, ms) -> PoolBackwardVec.backward(gIn, gOut, x, s, m, ms);
            void forward() { run(fwd); }
            void backwardData() { run(data); }
        };
    }

    private LayerPasses lrn(int i, LrnShape s) {
        if (team == null) {
            return new LayerPasses(i) {
                void forward() { LrnRef.forward(y, x, s); }
                void backwardData() { LrnRef.backward(gIn, gOut, x, s); }
            };
        }
        return new LayerPasses(i) {
            final ThreadTeam.Task fwd = (m, ms) -> NchwPoolLrn.lrn(y, x, s, m, ms);
            final ThreadTeam.Task data = (m, ms) -> LrnBackwardVec.backward(gIn, gOut, x, s, m, ms);
            void forward() { run(fwd); }
            void backwardData() { run(data); }
        };
    }

    private LayerPasses dropout(int i, LayerSpec.Dropout d) {
        int features = d.features();
        if (team == null) {
            return new LayerPasses(i) {
                void forward() { DropoutRef.forward(y, x, batch, features, d.mask(seed)); }
                void backwardData() { DropoutRef.backward(gIn, gOut, batch, features, d.mask(seed)); }
            };
        }
        return new LayerPasses(i) {
            DropoutMask mask;
            final ThreadTeam.Task fwd = (m, ms) -> DropoutVec.forward(y, x, batch, features, mask, m, ms);
            final ThreadTeam.Task data = (m, ms) -> DropoutVec.backward(gIn, gOut, batch, features, mask, m, ms);
            void forward() {
                mask = d.mask(seed);
                run(fwd);
            }
            void backwardData() { run(data); }
        };
    }

    /** Start of member {@code m}'s share of {@code count} elements, in whole 64-byte lines. */
    private static long slice(long count, int m, int ms) {
        long lines = (count + 15) / 16;
        return Math.min(count, lines * m / ms * 16);
    }
}
