package dev.alexnet.device.java;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import dev.alexnet.device.RunGuard;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.vec.ConvVec;
import dev.alexnet.kernels.vec.LinearVec;
import dev.alexnet.kernels.vec.LrnVec;
import dev.alexnet.kernels.vec.MaxPoolVec;
import dev.alexnet.kernels.vec.NchwPoolLrn;
import dev.alexnet.kernels.vec.Nhwc;
import dev.alexnet.kernels.vec.Reorders;
import dev.alexnet.kernels.vec.SoftmaxVec;
import dev.alexnet.kernels.vec.ThreadTeam;
import dev.alexnet.kernels.vec.Winograd5Vec;
import dev.alexnet.kernels.vec.WinogradVec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point from {@link JavaDevice} to the Vector API kernels (package {@code dev.alexnet.kernels.vec}).
 *
 * <p>A compiled program is a list of steps, each a data-parallel task run on the device's
 * {@link ThreadTeam}: the layers' kernels plus the explicit reorders that the layouts need. Inside,
 * convolution, pooling and LRN exchange channels-last buffers ({@link Nhwc}) whose zero border is the
 * next convolution's padding (written once here); linear layers and softmax exchange dense [N][features]
 * rows, and a linear layer after a channels-last producer reads it directly (its weights are permuted
 * at packing). The program's input and output are NCHW as the {@link Program} contract says, with a
 * reorder step at either end when a channels-last layer sits there. Every buffer is allocated here,
 * once; {@link Program#run} allocates nothing. Pass input and output segments that the device's threads
 * may access (shared, global or auto arenas): with a confined caller's input, the steps reading it
 * run on the calling thread alone. A confined caller's output costs one copy instead: the last step
 * writes a program-owned buffer on every thread (allocated on the first such run) and the caller copies it out.
 *
 * <p>Memory safety: the steps that touch the caller's segments (the first reorder, the last layer or
 * reorder) use the JDK's checked accessors; the convolution tiles, which load through absolute addresses,
 * read only buffers of this program's arena. {@link Program#run} checks at entry that the caller's
 * segments are alive and accessible from the calling thread ({@link WrongThreadException} otherwise),
 * and a {@link RunGuard} keeps the arena open until the run in flight returns.
 */
final class VectorPrograms {
    private VectorPrograms() {}

    /** A program on a team the device owns. */
    static Program compile(List<Layer> layers, int batch, ThreadTeam team, JavaDevice.Options options) {
        return new VectorProgram(layers, batch, team, options);
    }

    /** One data-parallel step; {@code in}/{@code out} are fixed at compile time except at the program's ends. */
    abstract static class Step implements ThreadTeam.Task {
        final int layer;
        MemorySegment in, out;

        Step(int layer) { this.layer = layer; }
    }

    /** A direct convolution, kept recognisable so that it can run image by image with a reorder next to it ({@link ConvByImage}). */
    static final class ConvStep extends Step {
        final ConvVec k;

        ConvStep(int layer, ConvVec k) {
            super(layer);
            this.k = k;
        }

        @Override public void run(int m, int ms) { k.forward(out, in, m, ms); }
    }

    /**
     * A direct convolution run one image at a time on each member, with the reorders on either side done
     * for the same image while it is in cache: from the NCHW input into the member's channels-last image
     * (when the convolution reads the program's NCHW edge) and from the member's channels-last output image
     * to NCHW (when it ends the program). The batch-sized channels-last buffers between (37 MB for conv1's
     * output at batch 32) would go to memory and back, and are never allocated. The convolution runs for one
     * image at a time on the batch convolution's packed weights, and members take whole images, so it needs
     * a batch of at least the team's size.
     */
    static final class ConvByImage extends Step {
        private final ConvVec one;              // the convolution for one image
        private final Nhwc inL, outL;           // its layouts
        private final MemorySegment[] inImages; // per member: one channels-last input image (from NCHW), else null
        private final MemorySegment[] outImages;// per member: one channels-last output image (to NCHW), else null
        private final MemorySegment[] ins, outs;// else the batch buffers' images (this program's own buffers)
        private final int batch;

        /**
         * {@code conv}, laid out {@code inL} to {@code outL}, reading {@code in} (a channels-last buffer of the
         * program's {@code arena}) or, when null, the step's NCHW input; writing {@code out} (the same) or,
         * when null, the step's NCHW output.
         */
        ConvByImage(int layer, ConvVec conv, Nhwc inL, MemorySegment in, Nhwc outL, MemorySegment out, Arena arena, int members) {
            super(layer);
            this.one = conv.forOneImage(arena);
            this.inL = inL;
            this.outL = outL;
            this.batch = conv.shape().n();
            this.inImages = in == null ? perMember(arena, members, inL) : null;
            this.outImages = out == null ? perMember(arena, members, outL) : null;
            this.ins = in == null ? null : images(in, batch);
            this.outs = out == null ? null : images(out, batch);
        }

        private static MemorySegment[] perMember(Arena arena, int members, Nhwc l) {
            MemorySegment[] a = new MemorySegment[members];
            for (int m = 0; m < members; m++) a[m] = arena.allocate(l.imageFloats() * Float.BYTES, 64); // zero border
            return a;
        }

        private static MemorySegment[] images(MemorySegment batchBuffer, int batch) {
            long imageBytes = batchBuffer.byteSize() / batch;
            MemorySegment[] a = new MemorySegment[batch];
            for (int n = 0; n < batch; n++) a[n] = batchBuffer.asSlice(n * imageBytes, imageBytes);
            return a;
        }

        @Override public void run(int m, int ms) {
            int n0 = ThreadTeam.from(batch, m, ms), n1 = ThreadTeam.from(batch, m + 1, ms);
            for (int img = n0; img < n1; img++) {
                MemorySegment x = inImages != null ? inImages[m] : ins[img], y = outImages != null ? outImages[m] : outs[img];
                if (inImages != null) Reorders.nchwImageToNhwc(x, inL, in, img);
                one.forwardImages(y, x, m, 0, 1);
                if (outImages != null) Reorders.nhwcImageToNchw(out, img, y, outL);
            }
        }
    }

    /** The reorder of an NCHW edge to channels-last {@code want}: kept recognisable so that a direct convolution reading it can take it in. */
    static final class ToNhwc extends Step {
        final Nhwc want;
        private final int batch;

        ToNhwc(int layer, Nhwc want, int batch) {
            super(layer);
            this.want = want;
            this.batch = batch;
        }

        @Override public void run(int m, int ms) {
            int u = Reorders.units(batch, want);
            Reorders.nchwToNhwc(out, want, in, batch, ThreadTeam.from(u, m, ms), ThreadTeam.from(u, m + 1, ms));
        }
    }

    static final class VectorProgram implements Program {
        private final List<Layer> layers;
        private final int batch;
        private final ThreadTeam team;
        private final JavaDevice.Options options;
        private final Arena arena = Arena.ofShared();
        private final RunGuard guard = new RunGuard("java program");
        private final Step[] steps;
        private final long[] nanos;
        private final long inputFloats, outputFloats; // cached: the specs build shape records on every call
        private MemorySegment staging; // the last step's output when the caller's output is confined to it
        private MemorySegment inputCopy; // the caller's input, when confined to it and a ConvByImage reads it

        VectorProgram(List<Layer> layers, int batch, ThreadTeam team, JavaDevice.Options options) {
            if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
            this.layers = Device.inferenceLayers(layers);
            this.batch = batch;
            this.team = team;
            this.options = options;
            this.nanos = new long[layers.size()];
            this.inputFloats = Program.super.inputFloats();
            this.outputFloats = Program.super.outputFloats();
            try {
                this.steps = build().toArray(new Step[0]);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }

        /** Channels-last geometry a layer wants for its input, or null for dense rows. */
        private static Nhwc wants(LayerSpec spec) {
            return switch (spec) {
                case LayerSpec.Conv c -> new Nhwc(c.inC(), c.inH(), c.inW(), c.pad(), c.pad());
                case LayerSpec.MaxPool p -> Nhwc.of(p.c(), p.h(), p.w());
                case LayerSpec.Lrn l -> Nhwc.of(l.c(), l.h(), l.w());
                case LayerSpec.Linear l -> null;
                case LayerSpec.Softmax s -> null;
                case LayerSpec.Dropout d -> null;
            };
        }

        /** Channels-last geometry (no border) of a layer's output, or null when it writes dense rows. */
        private static Nhwc produces(LayerSpec spec) {
            return switch (spec) {
                case LayerSpec.Conv c -> Nhwc.of(c.outC(), c.outH(), c.outW());
                case LayerSpec.MaxPool p -> Nhwc.of(p.c(), p.outH(), p.outW());
                case LayerSpec.Lrn l -> Nhwc.of(l.c(), l.h(), l.w());
                case LayerSpec.Linear l -> null;
                case LayerSpec.Softmax s -> null;
                case LayerSpec.Dropout d -> null;
            };
        }

        private static boolean sameGeometry(Nhwc a, Nhwc b) {
            return a != null && b != null && a.c() == b.c() && a.h() == b.h() && a.w() == b.w();
        }

        private MemorySegment buffer(long floatsPerImage) {
            return arena.allocate(batch * floatsPerImage * Float.BYTES, 64);
        }

        private MemorySegment nhwcBuffer(Nhwc l, float border) {
            MemorySegment seg = buffer(l.imageFloats());
            if (border != 0f) Reorders.fillBorder(seg, l, batch, border);
            return seg;
        }

        private List<Step> build() {
            StepBuilder b = new StepBuilder();
            for (int i = 0; i < layers.size(); i++) b.add(i);
            return b.finish();
        }

        /**
         * Turns the layers into steps one at a time, tracking the current edge between them: its layout
         * ({@code cur}: null = dense rows, NCHW order for spatial data, else channels-last) and its buffer
         * ({@code curSeg}: null = the program's input, or its output at the end).
         */
        private final class StepBuilder {
            private final List<Step> steps = new ArrayList<>();
            private Nhwc cur;
            private MemorySegment curSeg;

            void add(int i) {
                LayerSpec spec = layers.get(i).spec();
                LayerSpec next = i + 1 < layers.size() ? layers.get(i + 1).spec() : null;
                if (cur == null && nchwBetweenRows(spec, next)) {
                    addNchwStep(i, spec, next == null);
                } else {
                    int[] perm = prepareInput(i, spec);
                    addLayerStep(i, outputLayout(spec, next), perm);
                }
            }

            List<Step> finish() {
                if (cur != null) toRows(layers.size() - 1, true);
                return steps;
            }

            /** Pooling or LRN between NCHW rows on both sides: run on NCHW, no reorders. */
            private void addNchwStep(int li, LayerSpec spec, boolean last) {
                MemorySegment dst = last ? null : buffer(spec.outputSize());
                append(nchwStep(li, spec), dst);
            }

            /**
             * Appends the reorders that make the current edge what layer {@code li} reads. Returns the feature
             * permutation of a linear layer that reads a channels-last edge directly, else null.
             */
            private int[] prepareInput(int li, LayerSpec spec) {
                Nhwc want = wants(spec);
                if (spec instanceof LayerSpec.Linear && cur != null) {
                    if (cur.padH() == 0 && cur.padW() == 0) return Reorders.nhwcToNchwFeatures(cur.c(), cur.h(), cur.w());
                    toRows(li, false);
                } else if (want == null && cur != null) {
                    toRows(li, false);
                } else if (want != null && !(sameGeometry(cur, want) && cur.padH() == want.padH() && cur.padW() == want.padW())) {
                    if (cur != null) toRows(li, false);
                    toNhwc(li, want);
                }
                return null;
            }

            /** Where a layer writes: channels-last with the next layer's border if both sides allow it, else null (rows). */
            private Nhwc outputLayout(LayerSpec spec, LayerSpec next) {
                Nhwc prod = produces(spec);
                if (prod != null && next != null) {
                    Nhwc n = wants(next);
                    if (sameGeometry(prod, n)) return n;
                }
                return prod;
            }

            private void addLayerStep(int li, Nhwc outL, int[] perm) {
                boolean last = li == layers.size() - 1;
                // The convolution tiles read through absolute addresses: only buffers this program owns, never
                // the caller's input (prepareInput always puts a checked reorder first, which a ConvByImage
                // takes in: it reorders each image into a buffer of its own).
                Step before = steps.isEmpty() ? null : steps.get(steps.size() - 1);
                ToNhwc reorder = before instanceof ToNhwc t && t.layer == li ? t : null; // its buffer not yet allocated
                if (layers.get(li).spec() instanceof LayerSpec.Conv && curSeg == null && reorder == null) {
                    throw new IllegalStateException("a convolution step would read the caller's input directly");
                }
                Step s = layerStep(li, layers.get(li), cur, outL, perm);
                boolean toRows = last && outL != null;
                if (s instanceof ConvStep conv && (reorder != null || toRows) && batch >= team.size()) {
                    // a direct convolution next to a reorder: both run image by image (ConvByImage)
                    MemorySegment in = curSeg;
                    if (reorder != null) {
                        steps.remove(steps.size() - 1);
                        curSeg = reorder.in;
                        in = null;
                    }
                    MemorySegment dst = toRows ? null : nhwcBuffer(outL, 0f);
                    append(new ConvByImage(li, conv.k, cur, in, outL, dst, arena, team.size()), dst);
                    cur = toRows ? null : outL;
                    return;
                }
                if (reorder != null) curSeg = reorder.out = nhwcBuffer(reorder.want, 0f); // the reorder writes the batch
                MemorySegment dst = last && outL == null ? null
                        : outL != null ? nhwcBuffer(outL, 0f) : buffer(layers.get(li).spec().outputSize());
                append(s, dst);
                cur = outL;
            }

            /** Appends an NCHW to channels-last reorder of the current edge. */
            private void toNhwc(int li, Nhwc want) {
                append(new ToNhwc(li, want, batch), null); // its buffer: addLayerStep, unless the layer takes the reorder in
                cur = want;
            }

            /** Appends a channels-last to NCHW reorder of the current edge (into the program's output when {@code toOutput}). */
            private void toRows(int li, boolean toOutput) {
                Nhwc from = cur;
                Step s = new Step(li) {
                    @Override public void run(int m, int ms) {
                        int u = Reorders.units(batch, from);
                        Reorders.nhwcToNchw(out, in, from, batch, ThreadTeam.from(u, m, ms), ThreadTeam.from(u, m + 1, ms));
                    }
                };
                append(s, toOutput ? null : buffer(from.interior()));
                cur = null;
            }

            /** Adds {@code s} reading the current edge and writing {@code dst}, which becomes the current edge. */
            private void append(Step s, MemorySegment dst) {
                s.in = curSeg;
                s.out = dst;
                steps.add(s);
                curSeg = dst;
            }
        }

        /** Whether {@code spec} is pooling or LRN and its consumer ({@code next}, null at the end) reads dense rows. */
        private static boolean nchwBetweenRows(LayerSpec spec, LayerSpec next) {
            boolean memoryBound = spec instanceof LayerSpec.MaxPool || spec instanceof LayerSpec.Lrn;
            return memoryBound && (next == null || wants(next) == null);
        }

        /** A pooling or LRN step on NCHW rows ({@link NchwPoolLrn}); pooling's per-thread scratch allocated here. */
        private Step nchwStep(int li, LayerSpec spec) {
            if (spec instanceof LayerSpec.MaxPool p) {
                PoolShape sh = p.shape(batch);
                MemorySegment[] rows = NchwPoolLrn.poolScratch(arena, sh, team.size());
                return new Step(li) {
                    @Override public void run(int m, int ms) { NchwPoolLrn.pool(out, in, sh, rows, m, ms); }
                };
            }
            LrnShape sh = ((LayerSpec.Lrn) spec).shape(batch);
            return new Step(li) {
                @Override public void run(int m, int ms) { NchwPoolLrn.lrn(out, in, sh, m, ms); }
            };
        }

        private Step layerStep(int li, Layer layer, Nhwc inL, Nhwc outL, int[] perm) {
            switch (layer.spec()) {
                case LayerSpec.Conv c -> {
                    ConvShape sh = c.shape(batch);
                    WinogradVec.Variant wv = options.winogradVariant(sh);
                    if (wv != null) {
                        WinogradVec k = new WinogradVec(wv, sh, inL, outL, layer.weight().data(), layer.bias().data(), c.relu(), team.size(), arena);
                        return new Step(li) {
                            @Override public void run(int m, int ms) { k.forward(out, in, m, ms); }
                        };
                    }
                    if (options.winograd5(sh)) {
                        Winograd5Vec k = new Winograd5Vec(sh, inL, outL, layer.weight().data(), layer.bias().data(), c.relu(), team.size(), arena);
                        return new Step(li) {
                            @Override public void run(int m, int ms) { k.forward(out, in, m, ms); }
                        };
                    }
                    return new ConvStep(li, new ConvVec(sh, inL, outL, layer.weight().data(), layer.bias().data(), c.relu(), arena));
                }
                case LayerSpec.MaxPool p -> {
                    PoolShape sh = p.shape(batch);
                    return new Step(li) {
                        @Override public void run(int m, int ms) { MaxPoolVec.forward(out, outL, in, inL, sh, m, ms); }
                    };
                }
                case LayerSpec.Lrn l -> {
                    LrnShape sh = l.shape(batch);
                    MemorySegment[] scratch = LrnVec.scratch(arena, sh, team.size());
                    return new Step(li) {
                        @Override public void run(int m, int ms) { LrnVec.forward(out, outL, in, inL, sh, scratch, m, ms); }
                    };
                }
                case LayerSpec.Linear l -> {
                    LinearVec k = new LinearVec(l.shape(batch), layer.weight().data(), layer.bias().data(), l.relu(), perm, arena);
                    return new Step(li) {
                        @Override public void run(int m, int ms) { k.forward(out, in, m, ms); }
                    };
                }
                case LayerSpec.Dropout d -> throw new IllegalStateException("dropout reached an inference program");
                case LayerSpec.Softmax s -> {
                    int cols = s.classes();
                    return new Step(li) {
                        @Override public void run(int m, int ms) {
                            SoftmaxVec.forward(out, in, cols, ThreadTeam.from(batch, m, ms), ThreadTeam.from(batch, m + 1, ms));
                        }
                    };
                }
            }
        }

        @Override public int batch() { return batch; }
        @Override public List<Layer> layers() { return layers; }

        /** The steps' kinds in order (tests see which steps a program was built from). */
        List<String> stepKinds() {
            return java.util.Arrays.stream(steps).map(st -> st.getClass().getSimpleName().isEmpty() ? "Step" : st.getClass().getSimpleName()).toList();
        }

        @Override public long inputFloats() { return inputFloats; }
        @Override public long outputFloats() { return outputFloats; }

        @Override
        public void run(MemorySegment input, MemorySegment output, LayerTimer timer) {
            Checks.floats(input, inputFloats, "program input");
            Checks.floats(output, outputFloats, "program output");
            guard.enter();
            try {
                Checks.accessible(input, "program input");
                Checks.accessible(output, "program output");
                runSteps(input, output, timer);
            } finally {
                steps[0].in = null; // hold no caller segment between runs (an auto arena's could not be freed)
                steps[steps.length - 1].out = null;
                java.util.Arrays.fill(nanos, 0); // a step that threw leaves its partial time behind
                guard.exit();
            }
        }

        private void runSteps(MemorySegment input, MemorySegment output, LayerTimer timer) {
            Step lastStep = steps[steps.length - 1];
            MemorySegment target = team.shares(output) ? output : staging();
            boolean timed = timer.enabled();
            for (int i = 0; i < steps.length; i++) {
                Step s = steps[i];
                if (i == 0) s.in = input;
                if (i == steps.length - 1) s.out = target;
                long t0 = timed ? System.nanoTime() : 0;
                if (s.in == input && !team.shares(input)) {
                    if (s instanceof ConvByImage) { // the whole convolution: worth a copy that every member can read
                        MemorySegment copy = inputCopy();
                        MemorySegment.copy(input, 0, copy, 0, inputFloats * Float.BYTES);
                        s.in = copy;
                        team.run(s);
                    } else {
                        s.run(0, 1); // a confined caller segment: only this thread may touch it
                    }
                } else {
                    team.run(s);
                }
                if (s == lastStep && target != output) MemorySegment.copy(target, 0, output, 0, outputFloats * Float.BYTES);
                if (timed) {
                    nanos[s.layer] += System.nanoTime() - t0;
                    if (s == lastStep || steps[i + 1].layer != s.layer) {
                        timer.record(layers.get(s.layer).spec().name(), nanos[s.layer]);
                        nanos[s.layer] = 0;
                    }
                }
            }
        }

        private MemorySegment inputCopy() {
            if (inputCopy == null) inputCopy = arena.allocate(inputFloats * Float.BYTES, 64);
            return inputCopy;
        }

        private MemorySegment staging() {
            if (staging == null) staging = arena.allocate(outputFloats * Float.BYTES, 64);
            return staging;
        }

        @Override
        public void close() {
            if (!guard.close()) return;
            arena.close();
        }
    }
}
