package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.RunGuard;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.device.TrainingProgram;
import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.nativ.dnnl.raw.dnnl_exec_arg_t;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Layers compiled to oneDNN forward-training and backward primitives for one batch size.
 *
 * <p><b>Forward.</b> Convolution and inner product run as {@code dnnl_forward_training} primitives
 * with {@code format_tag_any} descriptors (oneDNN picks its layouts; weights are reordered into them);
 * their ReLU is a separate in-place eltwise primitive ({@code relu_use_dst_for_bwd}), so its backward
 * reads the activation the next layer also reads and no pre-activation copy is kept. Max pooling and
 * LRN keep the workspace their backward needs; per-tower LRN runs on the {N*G, C/G, H, W} view of a
 * channel-blocked or NCHW tensor, as in {@link DnnlProgram}. Dropout has no oneDNN primitive: it is a
 * Java loop over the plain (N, features) buffer with {@link LayerSpec.Dropout#mask}'s factors.
 *
 * <p><b>Backward</b>, last layer first: eltwise backward from the ReLU's output, then weights
 * (weights and bias gradients, written in PyTorch layout into the {@link TrainLayer}'s gradient
 * tensors, through a reorder when oneDNN chose another layout), then data. Every backward primitive
 * descriptor is created with its forward one as the hint; where it wants another layout than the
 * tensor at hand (source, destination gradient, weights), a reorder is inserted once, at compile.
 * The first layer's data gradient is skipped when the caller passes no {@code gradInput}.
 *
 * <p><b>Timings</b> (with a timer, after a stream wait per label): the forward under the layer's name,
 * reorders included; {@code name.bwd-weights} for the weights primitive and the reorders into the
 * gradient tensors; {@code name.bwd-data} for the rest of the layer's backward, the ReLU's backward
 * included (so a first convolution without {@code gradInput} still reports a small one).
 *
 * <p><b>Memory.</b> Every buffer (activations, workspaces, gradients, reordered weights, one shared
 * scratchpad) lives in the program's arena; the caller's input and output gradient are copied in,
 * the output and input gradient copied out, so the caller may reuse its buffers. Parameters and
 * their gradient tensors are read and written in place (they must be native segments); a weight
 * whose chosen layout is plain is read straight from the parameter tensor, others from a reordered
 * copy that {@link #parametersChanged} refreshes. Closing destroys every oneDNN object, then frees
 * the arena.
 */
public final class DnnlTrainingProgram implements TrainingProgram {
    private static final int FWD = 0, BWD_DATA = 1, BWD_WEIGHTS = 2;

    /** An activation or gradient: logical dims, its layout, the memory object over {@code data} (in the arena). */
    private record Act(long[] dims, DnnlMemoryDesc md, DnnlMemory mem, MemorySegment data) {}

    /** A primitive with its fixed arguments, or Java code on host buffers ({@code java != null}). */
    private record Step(String label, boolean inputOnly, DnnlPrimitive primitive, MemorySegment args, int nargs, String what, Runnable java) {}

    private final DnnlDevice device;
    private final List<TrainLayer> layers;
    private final int batch;
    private final int threads;
    private final DnnlEngine engine;
    private final Arena arena = Arena.ofShared();
    private final List<DnnlHandle> owned = new ArrayList<>();
    private final List<Step> forwardSteps = new ArrayList<>(), backwardSteps = new ArrayList<>(), refreshSteps = new ArrayList<>();
    private final Map<String, String> implementations = new LinkedHashMap<>();
    private final List<PendingScratch> scratch = new ArrayList<>();
    private record PendingScratch(DnnlMemoryDesc md, long bytes, MemorySegment args, int slot) {}
    private final DnnlStream stream;
    private Act input, output, gradOutput, gradInput;
    private long seed;
    private boolean forwardDone;
    private final RunGuard guard = new RunGuard("oneDNN training program"); // close waits for a pass in flight

    // Compile-time state: where new steps go and how they are labelled.
    private List<Step> target;
    private String label;
    private boolean inputOnly;
    /** Per layer: weights already reordered into some layout, reused when another primitive wants the same one. */
    private final List<List<Act>> packed = new ArrayList<>();

    DnnlTrainingProgram(DnnlDevice device, List<TrainLayer> layers, int batch, int threads) {
        this.device = device;
        this.layers = List.copyOf(layers);
        this.batch = batch;
        this.threads = threads;
        this.engine = device.engine();
        for (TrainLayer tl : this.layers) {
            if (tl.spec() instanceof LayerSpec.Softmax s) {
                throw new IllegalArgumentException(s.name() + ": softmax is not part of a training program (apply the loss to the logits outside it)");
            }
            if (tl.layer().weight() != null) {
                for (Tensor t : List.of(tl.layer().weight(), tl.layer().bias(), tl.weightGrad(), tl.biasGrad())) {
                    if (!t.data().isNative()) throw new IllegalArgumentException(tl.spec().name() + ": oneDNN trains on native (off-heap) parameter and gradient tensors");
                }
                if (tl.weightGrad().data().isReadOnly() || tl.biasGrad().data().isReadOnly()) {
                    throw new IllegalArgumentException(tl.spec().name() + ": gradient tensors are read-only");
                }
            }
        }
        try {
            this.stream = own(DnnlStream.create(engine));
            build();
            bindScratchpad();
            runSteps(refreshSteps, false, LayerTimer.NONE);
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    @Override public int batch() { return batch; }
    @Override public List<TrainLayer> layers() { return layers; }
    public int threads() { return threads; }

    /** oneDNN's implementation name for every primitive, by step name ({@code conv1}, {@code conv1.bwd-weights}, {@code conv1/relu}, ...). */
    public Map<String, String> implementations() { return Collections.unmodifiableMap(implementations); }

    private <T extends DnnlHandle> T own(T h) {
        owned.add(h);
        return h;
    }

    // ------------------------------------------------------------------ compile

    private void build() {
        List<UnaryOperator<Act>> backwards = new ArrayList<>();
        long[] inDims = dimsOf(layers.getFirst().spec(), true);
        target = forwardSteps;
        input = newAct(inDims, plain(inDims));
        Act x = input;
        for (int i = 0; i < layers.size(); i++) {
            TrainLayer tl = layers.get(i);
            packed.add(new ArrayList<>());
            label = tl.spec().name();
            inputOnly = false;
            int layer = i;
            backwards.add(switch (tl.spec()) {
                case LayerSpec.Conv c -> conv(layer, tl, c, x);
                case LayerSpec.MaxPool p -> pool(p, x);
                case LayerSpec.Lrn l -> lrn(l, x);
                case LayerSpec.Linear l -> linear(layer, tl, l, x);
                case LayerSpec.Dropout d -> dropout(d, x);
                case LayerSpec.Softmax s -> throw new AssertionError("rejected above");
            });
            x = lastOut;
        }
        // The output, plain, in the arena: copied to the caller after the forward pass.
        String lastName = layers.getLast().spec().name();
        long[] outDims = dimsOf(layers.getLast().spec(), false);
        x = withDims(x, outDims);
        output = reorder(x, plain(outDims), lastName + "/reorder-out");

        target = backwardSteps;
        gradOutput = newAct(outDims, plain(outDims));
        Act g = gradOutput;
        for (int i = layers.size() - 1; i >= 0; i--) {
            label = layers.get(i).spec().name() + ".bwd-data";
            inputOnly = i == 0;
            g = backwards.get(i).apply(g);
        }
        label = layers.getFirst().spec().name() + ".bwd-data";
        inputOnly = true;
        g = withDims(g, inDims);
        gradInput = reorder(g, plain(inDims), layers.getFirst().spec().name() + "/reorder-grad-in");
    }

    /** The output of the layer just built (its builder returns the backward builder). */
    private Act lastOut;

    private long[] dimsOf(LayerSpec s, boolean in) {
        long n = batch;
        return switch (s) {
            case LayerSpec.Conv c -> in ? new long[] {n, c.inC(), c.inH(), c.inW()} : new long[] {n, c.outC(), c.outH(), c.outW()};
            case LayerSpec.MaxPool p -> in ? new long[] {n, p.c(), p.h(), p.w()} : new long[] {n, p.c(), p.outH(), p.outW()};
            case LayerSpec.Lrn l -> new long[] {n, l.c(), l.h(), l.w()};
            case LayerSpec.Linear l -> new long[] {n, in ? l.in() : l.out()};
            case LayerSpec.Dropout d -> new long[] {n, d.features()};
            case LayerSpec.Softmax sm -> new long[] {n, sm.classes()};
        };
    }

    private static int plainTag(int ndims) {
        return switch (ndims) {
            case 1 -> dnnl_a;
            case 2 -> dnnl_ab;
            case 4 -> dnnl_abcd;
            case 5 -> dnnl_abcde;
            default -> throw new IllegalArgumentException("no plain tag for " + ndims + " dims");
        };
    }

    private DnnlMemoryDesc plain(long[] dims) { return own(DnnlMemoryDesc.of(plainTag(dims.length), dims)); }

    private Act newAct(long[] dims, DnnlMemoryDesc md) {
        MemorySegment seg = arena.allocate(Math.max(md.byteSize(), 64), 64);
        return new Act(dims, md, own(DnnlMemory.wrap(md, engine, seg)), seg);
    }

    private Act view(Act a, long[] dims, DnnlMemoryDesc md) {
        return new Act(dims, md, own(DnnlMemory.wrap(md, engine, a.data())), a.data());
    }

    /** {@code a} in layout {@code md}: itself when equal, else a reorder step (in the current list) into a new buffer. */
    private Act reorder(Act a, DnnlMemoryDesc md, String what) {
        if (a.md().sameAs(md)) return a;
        Act dst = newAct(a.dims(), md);
        addReorder(what, a.md(), a.mem(), md, dst.mem());
        return dst;
    }

    private void addReorder(String what, DnnlMemoryDesc from, DnnlMemory fromMem, DnnlMemoryDesc to, DnnlMemory toMem) {
        try (DnnlAttr attr = DnnlAttr.userScratchpad(false)) {
            DnnlPrimitiveDesc pd = own(DnnlPrimitiveDesc.reorder(engine, from, to, attr, what));
            addStep(what, pd, new int[] {DNNL_ARG_FROM, DNNL_ARG_TO}, new DnnlMemory[] {fromMem, toMem});
        }
    }

    /** {@code a} under logical dims {@code dims}: a reshaped view, or a reorder to plain then a view. */
    private Act withDims(Act a, long[] dims) {
        if (Arrays.equals(a.dims(), dims)) return a;
        DnnlMemoryDesc r = a.md().reshapeOrNull(dims);
        if (r != null) return view(a, dims, own(r));
        Act p = reorder(a, plain(a.dims()), label + "/reorder-reshape");
        return view(p, dims, plain(dims));
    }

    private void addStep(String what, DnnlPrimitiveDesc pd, int[] argKinds, DnnlMemory[] mems) {
        long spBytes = pd.scratchpadBytes();
        int nargs = argKinds.length + (spBytes > 0 ? 1 : 0);
        MemorySegment args = arena.allocate(dnnl_exec_arg_t.LAYOUT, nargs);
        for (int k = 0; k < argKinds.length; k++) {
            dnnl_exec_arg_t.arg(args, k, argKinds[k]);
            dnnl_exec_arg_t.memory(args, k, mems[k].handle());
        }
        if (spBytes > 0) {
            dnnl_exec_arg_t.arg(args, argKinds.length, DNNL_ARG_SCRATCHPAD);
            scratch.add(new PendingScratch(own(pd.queryMd(dnnl_query_scratchpad_md)), spBytes, args, argKinds.length));
        }
        implementations.put(what, pd.implInfo());
        target.add(new Step(label, inputOnly, own(DnnlPrimitive.create(pd)), args, nargs, what, null));
    }

    private void addJava(String what, Runnable code) {
        target.add(new Step(label, inputOnly, null, null, 0, what, code));
    }

    /** One scratchpad buffer, as large as the largest need: primitives run one after another. */
    private void bindScratchpad() {
        long max = scratch.stream().mapToLong(PendingScratch::bytes).max().orElse(0);
        if (max == 0) return;
        MemorySegment buf = arena.allocate(max, 64);
        for (PendingScratch s : scratch) {
            DnnlMemory m = own(DnnlMemory.wrap(s.md(), engine, buf));
            dnnl_exec_arg_t.memory(s.args(), s.slot(), m.handle());
        }
    }

    private static DnnlAttr attr() { return DnnlAttr.userScratchpad(false); }

    /**
     * The layer's weights in layout {@code chosen}: the parameter tensor itself when that is plain,
     * else a buffer that a refresh step reorders from it (shared by primitives wanting the same layout).
     */
    private DnnlMemory weights(int layer, TrainLayer tl, long[] plainDims, DnnlMemoryDesc chosen) {
        DnnlMemoryDesc plainMd = plain(plainDims);
        DnnlMemory user = own(DnnlMemory.wrap(plainMd, engine, tl.layer().weight().data()));
        if (plainMd.sameAs(chosen)) return user;
        for (Act a : packed.get(layer)) if (a.md().sameAs(chosen)) return a.mem();
        Act dst = newAct(plainDims, chosen);
        List<Step> saved = target;
        target = refreshSteps;
        addReorder(tl.spec().name() + ".weight/reorder", plainMd, user, chosen, dst.mem());
        target = saved;
        packed.get(layer).add(dst);
        return dst.mem();
    }

    private DnnlMemory bias(Tensor t) {
        return own(DnnlMemory.wrap(own(DnnlMemoryDesc.of(dnnl_x, t.size())), engine, t.data()));
    }

    /**
     * Where a weights-gradient primitive writes: the gradient tensor itself when {@code chosen} is
     * plain; else a buffer, and the returned step (to run after the primitive) reorders it into the tensor.
     */
    private DnnlMemory gradTarget(TrainLayer tl, long[] plainDims, DnnlMemoryDesc chosen, List<Runnable> after) {
        DnnlMemoryDesc plainMd = plain(plainDims);
        DnnlMemory user = own(DnnlMemory.wrap(plainMd, engine, tl.weightGrad().data()));
        if (plainMd.sameAs(chosen)) return user;
        Act buf = newAct(plainDims, chosen);
        after.add(() -> addReorder(tl.spec().name() + ".weight-grad/reorder", chosen, buf.mem(), plainMd, user));
        return buf.mem();
    }

    /** In-place ReLU after a convolution or inner product; returns its backward (gradient at the pre-activation, in place). */
    private UnaryOperator<Act> relu(Act y, String name) {
        DnnlPrimitiveDesc pd;
        try (DnnlAttr attr = attr()) {
            pd = own(DnnlPrimitiveDesc.eltwise(engine, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd, y.md(), y.md(), 0f, 0f, attr, name + "/relu"));
        }
        addStep(name + "/relu", pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new DnnlMemory[] {y.mem(), y.mem()});
        return g -> {
            g = reorder(withDims(g, y.dims()), y.md(), name + "/reorder-grad");
            DnnlPrimitiveDesc bpd;
            try (DnnlAttr attr = attr()) {
                bpd = own(DnnlPrimitiveDesc.eltwiseBackward(engine, dnnl_eltwise_relu_use_dst_for_bwd, y.md(), y.md(), y.md(), 0f, 0f, pd, attr, name + "/relu backward"));
            }
            // In place: this gradient buffer belongs to this layer's backward alone.
            addStep(name + "/relu.bwd", bpd, new int[] {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}, new DnnlMemory[] {y.mem(), g.mem(), g.mem()});
            return g;
        };
    }

    private UnaryOperator<Act> conv(int i, TrainLayer tl, LayerSpec.Conv c, Act x) {
        long n = batch;
        long[] srcDims = {n, c.inC(), c.inH(), c.inW()};
        long[] dstDims = {n, c.outC(), c.outH(), c.outW()};
        int g = c.groups();
        long[] wDims = g == 1
                ? new long[] {c.outC(), c.inC(), c.kernel(), c.kernel()}
                : new long[] {g, c.outC() / g, c.inC() / g, c.kernel(), c.kernel()};
        long[] stride = {c.stride(), c.stride()}, pad = {c.pad(), c.pad()};
        String name = c.name(), ctx = name + " " + c + " batch " + batch;
        x = withDims(x, srcDims);
        DnnlMemoryDesc srcAny = own(DnnlMemoryDesc.of(dnnl_format_tag_any, srcDims));
        DnnlMemoryDesc wAny = own(DnnlMemoryDesc.of(dnnl_format_tag_any, wDims));
        DnnlMemoryDesc dstAny = own(DnnlMemoryDesc.of(dnnl_format_tag_any, dstDims));
        DnnlMemoryDesc bMd = own(DnnlMemoryDesc.of(dnnl_x, c.outC()));
        DnnlPrimitiveDesc pd;
        try (DnnlAttr attr = attr()) {
            pd = own(DnnlPrimitiveDesc.convolution(engine, dnnl_forward_training, srcAny, wAny, bMd, dstAny, stride, pad, pad, attr, ctx));
        }
        Act src = reorder(x, own(pd.queryMd(dnnl_query_src_md)), name + "/reorder-src");
        DnnlMemory w = weights(i, tl, wDims, own(pd.queryMd(dnnl_query_weights_md)));
        DnnlMemory b = bias(tl.layer().bias());
        Act dst = newAct(dstDims, own(pd.queryMd(dnnl_query_dst_md)));
        addStep(name, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST}, new DnnlMemory[] {src.mem(), w, b, dst.mem()});
        UnaryOperator<Act> reluBack = c.relu() ? relu(dst, name) : null;
        lastOut = dst;
        boolean first = i == 0;
        return gy -> {
            if (reluBack != null) {
                inputOnly = false;
                gy = reluBack.apply(gy);
            }
            gy = withDims(gy, dstDims);
            // Weights and bias.
            label = name + ".bwd-weights";
            inputOnly = false;
            DnnlPrimitiveDesc wpd;
            try (DnnlAttr attr = attr()) {
                wpd = own(DnnlPrimitiveDesc.convolutionBackwardWeights(engine, srcAny, wAny, bMd, dstAny, stride, pad, pad, pd, attr, ctx + " backward weights"));
            }
            Act srcW = reorder(src, own(wpd.queryMd(dnnl_query_src_md)), name + "/reorder-src-bwd");
            Act gW = reorder(gy, own(wpd.queryMd(dnnl_query_diff_dst_md)), name + "/reorder-grad-bwd-weights");
            List<Runnable> after = new ArrayList<>();
            DnnlMemory dw = gradTarget(tl, wDims, own(wpd.queryMd(dnnl_query_diff_weights_md)), after);
            DnnlMemory db = bias(tl.biasGrad());
            addStep(name + ".bwd-weights", wpd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS},
                    new DnnlMemory[] {srcW.mem(), gW.mem(), dw, db});
            after.forEach(Runnable::run);
            // Data.
            label = name + ".bwd-data";
            inputOnly = first;
            DnnlPrimitiveDesc dpd;
            try (DnnlAttr attr = attr()) {
                dpd = own(DnnlPrimitiveDesc.convolutionBackwardData(engine, srcAny, wAny, dstAny, stride, pad, pad, pd, attr, ctx + " backward data"));
            }
            DnnlMemory wd = weights(i, tl, wDims, own(dpd.queryMd(dnnl_query_weights_md)));
            Act gD = reorder(gy, own(dpd.queryMd(dnnl_query_diff_dst_md)), name + "/reorder-grad-bwd-data");
            Act dx = newAct(srcDims, own(dpd.queryMd(dnnl_query_diff_src_md)));
            addStep(name + ".bwd-data", dpd, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC}, new DnnlMemory[] {gD.mem(), wd, dx.mem()});
            return dx;
        };
    }

    private UnaryOperator<Act> linear(int i, TrainLayer tl, LayerSpec.Linear l, Act x) {
        long n = batch;
        // After pooling keep the 4-D source: PyTorch's [out, C*H*W] is oihw {out, C, H, W}.
        long[] srcDims, wDims;
        if (x.dims().length == 4) {
            srcDims = x.dims();
            wDims = new long[] {l.out(), x.dims()[1], x.dims()[2], x.dims()[3]};
        } else {
            srcDims = new long[] {n, l.in()};
            wDims = new long[] {l.out(), l.in()};
        }
        long[] dstDims = {n, l.out()};
        String name = l.name(), ctx = name + " " + l + " batch " + batch;
        x = withDims(x, srcDims);
        DnnlMemoryDesc srcAny = own(DnnlMemoryDesc.of(dnnl_format_tag_any, srcDims));
        DnnlMemoryDesc wAny = own(DnnlMemoryDesc.of(dnnl_format_tag_any, wDims));
        DnnlMemoryDesc dstAny = own(DnnlMemoryDesc.of(dnnl_format_tag_any, dstDims));
        DnnlMemoryDesc bMd = own(DnnlMemoryDesc.of(dnnl_x, l.out()));
        DnnlPrimitiveDesc pd;
        try (DnnlAttr attr = attr()) {
            pd = own(DnnlPrimitiveDesc.innerProduct(engine, dnnl_forward_training, srcAny, wAny, bMd, dstAny, attr, ctx));
        }
        Act src = reorder(x, own(pd.queryMd(dnnl_query_src_md)), name + "/reorder-src");
        DnnlMemory w = weights(i, tl, wDims, own(pd.queryMd(dnnl_query_weights_md)));
        DnnlMemory b = bias(tl.layer().bias());
        Act dst = newAct(dstDims, own(pd.queryMd(dnnl_query_dst_md)));
        addStep(name, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST}, new DnnlMemory[] {src.mem(), w, b, dst.mem()});
        UnaryOperator<Act> reluBack = l.relu() ? relu(dst, name) : null;
        lastOut = dst;
        boolean first = i == 0;
        return gy -> {
            if (reluBack != null) {
                inputOnly = false;
                gy = reluBack.apply(gy);
            }
            gy = withDims(gy, dstDims);
            label = name + ".bwd-weights";
            inputOnly = false;
            DnnlPrimitiveDesc wpd;
            try (DnnlAttr attr = attr()) {
                wpd = own(DnnlPrimitiveDesc.innerProductBackwardWeights(engine, srcAny, wAny, bMd, dstAny, pd, attr, ctx + " backward weights"));
            }
            Act srcW = reorder(src, own(wpd.queryMd(dnnl_query_src_md)), name + "/reorder-src-bwd");
            Act gW = reorder(gy, own(wpd.queryMd(dnnl_query_diff_dst_md)), name + "/reorder-grad-bwd-weights");
            List<Runnable> after = new ArrayList<>();
            DnnlMemory dw = gradTarget(tl, wDims, own(wpd.queryMd(dnnl_query_diff_weights_md)), after);
            DnnlMemory db = bias(tl.biasGrad());
            addStep(name + ".bwd-weights", wpd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS},
                    new DnnlMemory[] {srcW.mem(), gW.mem(), dw, db});
            after.forEach(Runnable::run);
            label = name + ".bwd-data";
            inputOnly = first;
            DnnlPrimitiveDesc dpd;
            try (DnnlAttr attr = attr()) {
                dpd = own(DnnlPrimitiveDesc.innerProductBackwardData(engine, srcAny, wAny, dstAny, pd, attr, ctx + " backward data"));
            }
            DnnlMemory wd = weights(i, tl, wDims, own(dpd.queryMd(dnnl_query_weights_md)));
            Act gD = reorder(gy, own(dpd.queryMd(dnnl_query_diff_dst_md)), name + "/reorder-grad-bwd-data");
            Act dx = newAct(srcDims, own(dpd.queryMd(dnnl_query_diff_src_md)));
            addStep(name + ".bwd-data", dpd, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC}, new DnnlMemory[] {gD.mem(), wd, dx.mem()});
            return dx;
        };
    }

    /** The forward-training primitive's workspace, or null when its implementation keeps none (e.g. a reference LRN). */
    private DnnlMemory workspace(DnnlPrimitiveDesc pd) {
        DnnlMemoryDesc md = pd.queryMdOrNull(dnnl_query_workspace_md);
        if (md == null) return null;
        own(md);
        return newAct(new long[] {md.byteSize()}, md).mem();
    }

    /** {@code kinds}/{@code mems} with the workspace argument added when there is one. */
    private static int[] withWs(int[] kinds, DnnlMemory ws) {
        if (ws == null) return kinds;
        int[] k = Arrays.copyOf(kinds, kinds.length + 1);
        k[kinds.length] = DNNL_ARG_WORKSPACE;
        return k;
    }

    private static DnnlMemory[] withWs(DnnlMemory[] mems, DnnlMemory ws) {
        if (ws == null) return mems;
        DnnlMemory[] m = Arrays.copyOf(mems, mems.length + 1);
        m[mems.length] = ws;
        return m;
    }

    private UnaryOperator<Act> pool(LayerSpec.MaxPool p, Act x) {
        long[] srcDims = {batch, p.c(), p.h(), p.w()};
        long[] dstDims = {batch, p.c(), p.outH(), p.outW()};
        long[] stride = {p.stride(), p.stride()}, kernel = {p.kernel(), p.kernel()}, pad = {p.pad(), p.pad()};
        String name = p.name(), ctx = name + " " + p + " batch " + batch;
        Act src = withDims(x, srcDims);
        DnnlPrimitiveDesc pd;
        try (DnnlMemoryDesc dstAny = DnnlMemoryDesc.of(dnnl_format_tag_any, dstDims); DnnlAttr attr = attr()) {
            pd = own(DnnlPrimitiveDesc.maxPooling(engine, dnnl_forward_training, src.md(), dstAny, stride, kernel, pad, pad, attr, ctx));
        }
        Act dst = newAct(dstDims, own(pd.queryMd(dnnl_query_dst_md)));
        DnnlMemory ws = workspace(pd);
        addStep(name, pd, withWs(new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, ws), withWs(new DnnlMemory[] {src.mem(), dst.mem()}, ws));
        lastOut = dst;
        return gy -> {
            DnnlPrimitiveDesc bpd;
            try (DnnlAttr attr = attr()) {
                bpd = own(DnnlPrimitiveDesc.maxPoolingBackward(engine, src.md(), dst.md(), stride, kernel, pad, pad, pd, attr, ctx + " backward"));
            }
            Act g = reorder(withDims(gy, dstDims), own(bpd.queryMd(dnnl_query_diff_dst_md)), name + "/reorder-grad");
            Act dx = newAct(srcDims, own(bpd.queryMd(dnnl_query_diff_src_md)));
            addStep(name + ".bwd-data", bpd, withWs(new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}, ws), withWs(new DnnlMemory[] {g.mem(), dx.mem()}, ws));
            return dx;
        };
    }

    /** Channel-blocked layouts an LRN can be split into channel groups without moving data (tag, block). */
    private static final int[][] GROUPABLE = {{dnnl_nchw, 1}, {dnnl_nChw16c, 16}, {dnnl_nChw8c, 8}};

    /**
     * LRN across channels, confined to each of G channel groups when G > 1: the tensor {N, C, H, W} in
     * NCHW or a channel-blocked layout whose block divides C/G has the bytes of {N*G, C/G, H, W} in the
     * same layout, so one LRN over that view (forward and backward) keeps every window inside its group.
     */
    private UnaryOperator<Act> lrn(LayerSpec.Lrn l, Act x) {
        long[] dims = {batch, l.c(), l.h(), l.w()};
        x = withDims(x, dims);
        int g = l.channelGroups();
        LrnParams lp = l.params();
        String name = l.name(), ctx = name + " " + l + " batch " + batch;
        DnnlMemoryDesc fullMd = x.md();
        long[] gDims = dims;
        if (g > 1) {
            int tag = -1;
            for (int[] t : GROUPABLE) {
                if ((l.c() / g) % t[1] != 0) continue;
                try (DnnlMemoryDesc cand = DnnlMemoryDesc.of(t[0], dims)) {
                    if (cand.sameAs(x.md())) { tag = t[0]; break; }
                }
            }
            if (tag < 0) {
                int block = 0;
                for (int[] t : GROUPABLE) {
                    if ((l.c() / g) % t[1] == 0 && t[1] > block) { tag = t[0]; block = t[1]; }
                }
            }
            fullMd = own(DnnlMemoryDesc.of(tag, dims));
            x = reorder(x, fullMd, name + "/reorder-src");
            gDims = new long[] {(long) batch * g, l.c() / g, l.h(), l.w()};
        }
        DnnlMemoryDesc md = g > 1 ? own(DnnlMemoryDesc.of(tagOf(fullMd, dims), gDims)) : fullMd;
        Act src = view(x, gDims, md);
        Act out = newAct(dims, fullMd);
        Act dst = view(out, gDims, md);
        DnnlPrimitiveDesc pd;
        try (DnnlAttr attr = attr()) {
            pd = own(DnnlPrimitiveDesc.lrnAcrossChannels(engine, dnnl_forward_training, md, md, lp.size(), lp.libraryAlpha(), lp.beta(), lp.k(), attr, ctx));
        }
        DnnlMemory ws = workspace(pd);
        addStep(name, pd, withWs(new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, ws), withWs(new DnnlMemory[] {src.mem(), dst.mem()}, ws));
        lastOut = out;
        DnnlMemoryDesc fullFinal = fullMd;
        long[] gDimsFinal = gDims;
        return gy -> {
            Act gFull = reorder(withDims(gy, dims), fullFinal, name + "/reorder-grad");
            Act gv = view(gFull, gDimsFinal, md);
            Act dxFull = newAct(dims, fullFinal);
            Act dxv = view(dxFull, gDimsFinal, md);
            DnnlPrimitiveDesc bpd;
            try (DnnlAttr attr = attr()) {
                bpd = own(DnnlPrimitiveDesc.lrnBackward(engine, md, md, md, lp.size(), lp.libraryAlpha(), lp.beta(), lp.k(), pd, attr, ctx + " backward"));
            }
            addStep(name + ".bwd-data", bpd, withWs(new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}, ws),
                    withWs(new DnnlMemory[] {src.mem(), gv.mem(), dxv.mem()}, ws));
            return dxFull;
        };
    }

    private static int tagOf(DnnlMemoryDesc md, long[] dims) {
        for (int[] t : GROUPABLE) {
            try (DnnlMemoryDesc cand = DnnlMemoryDesc.of(t[0], dims)) {
                if (cand.sameAs(md)) return t[0];
            }
        }
        throw new IllegalStateException("LRN layout is not groupable");
    }

    /** Inverted dropout on the plain (N, features) buffer: y = x * mask.factor(n, i), and the same factors backward. */
    private UnaryOperator<Act> dropout(LayerSpec.Dropout d, Act x) {
        long[] dims = {batch, d.features()};
        String name = d.name();
        Act src = reorder(withDims(x, dims), plain(dims), name + "/reorder-src");
        Act out = newAct(dims, plain(dims));
        addJava(name, () -> applyMask(d, src.data(), out.data()));
        lastOut = out;
        return gy -> {
            Act g = reorder(withDims(gy, dims), plain(dims), name + "/reorder-grad");
            Act dx = newAct(dims, plain(dims));
            addJava(name + ".bwd", () -> applyMask(d, g.data(), dx.data()));
            return dx;
        };
    }

    private void applyMask(LayerSpec.Dropout d, MemorySegment in, MemorySegment out) {
        DropoutMask mask = d.mask(seed);
        int f = d.features();
        for (int n = 0; n < batch; n++) {
            long base = (long) n * f;
            for (int i = 0; i < f; i++) {
                out.setAtIndex(JAVA_FLOAT, base + i, in.getAtIndex(JAVA_FLOAT, base + i) * mask.factor(n, i));
            }
        }
    }

    // ------------------------------------------------------------------ run

    /** Runs the steps in order; with a timer, sums wall time per label (after a stream wait) and records each label once. */
    private void runSteps(List<Step> steps, boolean skipInputOnly, LayerTimer timer) {
        Dnnl.setThreadsForCallingThread(threads);
        boolean timing = timer.enabled();
        Map<String, Long> times = timing ? new LinkedHashMap<>() : null;
        String current = null;
        long t0 = 0;
        for (Step s : steps) {
            if (skipInputOnly && s.inputOnly()) continue;
            if (timing && !s.label().equals(current)) {
                if (current != null) {
                    stream.waitAll();
                    times.merge(current, System.nanoTime() - t0, Long::sum);
                }
                current = s.label();
                t0 = System.nanoTime();
            }
            if (s.java() != null) {
                stream.waitAll();
                s.java().run();
            } else {
                s.primitive().execute(stream, s.args(), s.nargs(), s.what());
            }
        }
        stream.waitAll();
        if (timing) {
            if (current != null) times.merge(current, System.nanoTime() - t0, Long::sum);
            times.forEach(timer::record);
        }
    }

    @Override
    public void forward(MemorySegment in, MemorySegment out, long seed, LayerTimer timer) {
        Checks.floats(in, inputFloats(), "training input");
        Checks.floats(out, outputFloats(), "training output");
        if (out.isReadOnly()) throw new IllegalArgumentException("training output is read-only");
        if (timer == null) throw new IllegalArgumentException("timer is null (use LayerTimer.NONE)");
        guard.enter();
        try {
            this.seed = seed;
            MemorySegment.copy(in, 0, input.data(), 0, inputFloats() * Float.BYTES);
            runSteps(forwardSteps, false, timer);
            MemorySegment.copy(output.data(), 0, out, 0, outputFloats() * Float.BYTES);
            forwardDone = true;
        } finally {
            guard.exit();
        }
    }

    @Override
    public void backward(MemorySegment gradOut, MemorySegment gradIn, LayerTimer timer) {
        Checks.floats(gradOut, outputFloats(), "gradient of the output");
        if (gradIn != null) {
            Checks.floats(gradIn, inputFloats(), "gradient of the input");
            if (gradIn.isReadOnly()) throw new IllegalArgumentException("gradient of the input is read-only");
        }
        if (timer == null) throw new IllegalArgumentException("timer is null (use LayerTimer.NONE)");
        guard.enter();
        try {
            if (!forwardDone) throw new IllegalStateException("backward before any forward");
            MemorySegment.copy(gradOut, 0, gradOutput.data(), 0, outputFloats() * Float.BYTES);
            runSteps(backwardSteps, gradIn == null, timer);
            if (gradIn != null) MemorySegment.copy(gradInput.data(), 0, gradIn, 0, inputFloats() * Float.BYTES);
        } finally {
            guard.exit();
        }
    }

    /** Re-runs the weight reorders from the parameter tensors (no primitive is re-created). */
    @Override
    public void parametersChanged() {
        guard.enter();
        try {
            runSteps(refreshSteps, false, LayerTimer.NONE);
        } finally {
            guard.exit();
        }
    }

    /** Destroys every oneDNN object this program created and frees its memory. Idempotent. */
    @Override
    public void close() {
        if (!guard.close()) return;
        try {
            release();
        } finally {
            device.forget(this);
        }
    }

    private void release() {
        forwardSteps.clear();
        backwardSteps.clear();
        refreshSteps.clear();
        try {
            DnnlHandle.closeAll(owned);
        } finally {
            if (arena.scope().isAlive()) arena.close();
        }
    }

    @Override
    public String toString() {
        return "DnnlTrainingProgram[" + device.name() + ", batch " + batch + ", " + layers.size() + " layers]";
    }
}
