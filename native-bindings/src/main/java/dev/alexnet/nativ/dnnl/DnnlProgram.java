package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import dev.alexnet.device.RunGuard;
import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.nativ.dnnl.raw.dnnl_exec_arg_t;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/**
 * Layers compiled to oneDNN primitives for one batch size (see {@link DnnlDevice} for the plan).
 *
 * <p>Memory: everything the primitives touch lives in this program's shared {@link Arena}
 * (activations in whatever layout the primitives chose, reordered weights, biases, one scratchpad
 * sized for the hungriest primitive), and the staging buffers that the caller's input is copied into
 * and the output copied out of at each {@link #run} (native code never sees a caller's segment).
 * Closing destroys every oneDNN object, in reverse order of creation, then frees the arena.
 *
 * <p>The input is reordered from NCHW only if the first primitive wants another layout; the last
 * layer writes straight into the output staging buffer when its layout is already dense NCHW (or NC),
 * and through one reorder otherwise.
 */
public final class DnnlProgram implements Program {
    private static final int IN_ARENA = 0, CALLER_INPUT = 1, CALLER_OUTPUT = 2;

    /** An activation: logical dims, its oneDNN layout, the memory object, and where its bytes live. */
    private record Act(long[] dims, DnnlMemoryDesc md, DnnlMemory mem, MemorySegment data, int bound) {}

    /** One primitive execution with its fixed argument array; {@code layer} indexes {@link #layers}. */
    private record Step(int layer, DnnlPrimitive primitive, MemorySegment args, int nargs, String what) {}

    private final DnnlDevice device;
    private final List<Layer> layers;
    private final int batch;
    private final int threads;
    private final Arena arena = Arena.ofShared();
    private final List<DnnlHandle> owned = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<DnnlMemory> inputBound = new ArrayList<>(), outputBound = new ArrayList<>();
    private final Map<String, String> implementations = new LinkedHashMap<>();
    private final DnnlStream stream;
    private MemorySegment stagingIn, stagingOut; // the caller's input and output, copied (never bound directly)
    private final RunGuard guard;

    // Compile-time state.
    private final DnnlEngine engine;
    private final List<PendingScratch> scratch = new ArrayList<>();
    private record PendingScratch(DnnlMemoryDesc md, long bytes, MemorySegment args, int slot) {}

    DnnlProgram(DnnlDevice device, List<Layer> layers, int batch, int threads) {
        this.device = device;
        this.layers = layers;
        this.batch = batch;
        this.threads = threads;
        this.engine = device.engine();
        this.guard = new RunGuard(device.name() + " program");
        try {
            this.stream = own(DnnlStream.create(engine));
            build();
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    @Override public int batch() { return batch; }
    @Override public List<Layer> layers() { return layers; }
    public int threads() { return threads; }

    /**
     * oneDNN's implementation name ({@code impl_info_str}) for each layer, by layer name, plus the
     * reorders the program runs, as {@code <layer>/reorder-src} and {@code <layer>/reorder-out}.
     */
    public Map<String, String> implementations() { return Collections.unmodifiableMap(implementations); }

    private <T extends DnnlHandle> T own(T h) {
        owned.add(h);
        return h;
    }

    // ------------------------------------------------------------------ compile

    private void build() {
        long[] inDims = dimsOf(layers.getFirst().spec(), true);
        DnnlMemoryDesc inMd = own(DnnlMemoryDesc.of(plainTag(inDims.length), inDims));
        DnnlMemory inMem = own(DnnlMemory.wrap(inMd, engine, DNNL_MEMORY_NONE));
        inputBound.add(inMem);
        Act x = new Act(inDims, inMd, inMem, null, CALLER_INPUT);

        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            boolean last = i == layers.size() - 1;
            x = switch (layer.spec()) {
                case LayerSpec.Conv c -> conv(i, layer, c, x, last);
                case LayerSpec.MaxPool p -> pool(i, p, x, last);
                case LayerSpec.Lrn l -> lrn(i, l, x, last);
                case LayerSpec.Linear l -> linear(i, layer, l, x, last);
                case LayerSpec.Softmax s -> softmax(i, s, x, last);
                case LayerSpec.Dropout d -> throw new IllegalStateException("dropout reached an inference program");
            };
        }
        if (x.bound() != CALLER_OUTPUT) {
            long[] outDims = x.dims();
            DnnlMemoryDesc outMd = own(DnnlMemoryDesc.of(plainTag(outDims.length), outDims));
            reorder(layers.size() - 1, "reorder-out", x, outMd, true);
        }
        bindScratchpad();
    }

    /** Per-image NCHW dims of a layer's input ({@code input}) or output, with the batch in front. */
    private long[] dimsOf(LayerSpec s, boolean input) {
        long n = batch;
        return switch (s) {
            case LayerSpec.Conv c -> input ? new long[] {n, c.inC(), c.inH(), c.inW()} : new long[] {n, c.outC(), c.outH(), c.outW()};
            case LayerSpec.MaxPool p -> input ? new long[] {n, p.c(), p.h(), p.w()} : new long[] {n, p.c(), p.outH(), p.outW()};
            case LayerSpec.Lrn l -> new long[] {n, l.c(), l.h(), l.w()};
            case LayerSpec.Linear l -> new long[] {n, input ? l.in() : l.out()};
            case LayerSpec.Softmax sm -> new long[] {n, sm.classes()};
            case LayerSpec.Dropout d -> new long[] {n, d.features()};
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

    /** A buffer for {@code md}: the caller's output when this is the program's last write and the layout is plain. */
    private Act newAct(long[] dims, DnnlMemoryDesc md, boolean toOutput) {
        if (toOutput) {
            DnnlMemory mem = own(DnnlMemory.wrap(md, engine, DNNL_MEMORY_NONE));
            outputBound.add(mem);
            return new Act(dims, md, mem, null, CALLER_OUTPUT);
        }
        MemorySegment seg = arena.allocate(Math.max(md.byteSize(), 64), 64);
        return new Act(dims, md, own(DnnlMemory.wrap(md, engine, seg)), seg, IN_ARENA);
    }

    /** The same bytes as {@code a} under another descriptor. */
    private Act view(Act a, long[] dims, DnnlMemoryDesc md) {
        DnnlMemory mem = own(DnnlMemory.wrap(md, engine, a.bound() == IN_ARENA ? a.data() : DNNL_MEMORY_NONE));
        if (a.bound() == CALLER_INPUT) inputBound.add(mem);
        if (a.bound() == CALLER_OUTPUT) outputBound.add(mem);
        return new Act(dims, md, mem, a.data(), a.bound());
    }

    /** Whether this layer's result may go straight into the caller's output: last layer, plain layout. */
    private boolean plainOutput(boolean last, long[] dims, DnnlMemoryDesc md) {
        if (!last) return false;
        try (DnnlMemoryDesc plain = DnnlMemoryDesc.of(plainTag(dims.length), dims)) {
            return plain.sameAs(md);
        }
    }

    /** {@code a} in layout {@code md}: itself when equal, else a reorder step into a new buffer. */
    private Act reorder(int layer, String what, Act a, DnnlMemoryDesc md, boolean toOutput) {
        if (!toOutput && a.md().sameAs(md)) return a;
        if (toOutput && a.bound() == CALLER_OUTPUT) return a;
        Act dst = newAct(a.dims(), md, toOutput);
        String name = layers.get(layer).spec().name() + "/" + what;
        try (DnnlAttr attr = DnnlAttr.userScratchpad(false)) {
            DnnlPrimitiveDesc pd = own(DnnlPrimitiveDesc.reorder(engine, a.md(), md, attr, name));
            addStep(layer, name, pd, new int[] {DNNL_ARG_FROM, DNNL_ARG_TO}, new DnnlMemory[] {a.mem(), dst.mem()});
        }
        return dst;
    }

    /** {@code a} with logical dims {@code dims} (same element count): a reshaped view, or a reorder to plain then a view. */
    private Act withDims(int layer, Act a, long[] dims) {
        if (Arrays.equals(a.dims(), dims)) return a;
        DnnlMemoryDesc r = a.md().reshapeOrNull(dims);
        if (r != null) return view(a, dims, own(r));
        // A blocked layout cannot be reshaped across its blocked dimension: go through plain.
        DnnlMemoryDesc plain = own(DnnlMemoryDesc.of(plainTag(a.dims().length), a.dims()));
        Act p = reorder(layer, "reorder-src", a, plain, false);
        return view(p, dims, own(DnnlMemoryDesc.of(plainTag(dims.length), dims)));
    }

    private void addStep(int layer, String name, DnnlPrimitiveDesc pd, int[] argKinds, DnnlMemory[] mems) {
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
        implementations.put(name, pd.implInfo());
        steps.add(new Step(layer, own(DnnlPrimitive.create(pd)), args, nargs, name));
    }

    /** One scratchpad buffer, as large as the largest need; primitives run one after another. */
    private void bindScratchpad() {
        long max = scratch.stream().mapToLong(PendingScratch::bytes).max().orElse(0);
        if (max == 0) return;
        MemorySegment buf = arena.allocate(max, 64);
        for (PendingScratch s : scratch) {
            DnnlMemory m = own(DnnlMemory.wrap(s.md(), engine, buf));
            dnnl_exec_arg_t.memory(s.args(), s.slot(), m.handle());
        }
    }

    /**
     * Weights in the layout the primitive chose: reordered (or copied) once, now, from the caller's
     * PyTorch-layout tensor, which is not referenced afterwards.
     */
    private DnnlMemory packWeights(String name, MemorySegment src, long[] plainDims, int plainTag, DnnlMemoryDesc chosen) {
        MemorySegment dst = arena.allocate(Math.max(chosen.byteSize(), 64), 64);
        DnnlMemory out = own(DnnlMemory.wrap(chosen, engine, dst));
        try (Arena tmp = Arena.ofConfined();
             DnnlMemoryDesc plain = DnnlMemoryDesc.of(plainTag, plainDims)) {
            if (plain.sameAs(chosen)) {
                MemorySegment.copy(src, 0, dst, 0, plain.byteSize());
                return out;
            }
            MemorySegment from = src;
            if (!src.isNative()) {
                from = tmp.allocate(src.byteSize(), 64);
                MemorySegment.copy(src, 0, from, 0, src.byteSize());
            }
            try (DnnlMemory fromMem = DnnlMemory.wrap(plain, engine, from);
                 DnnlPrimitiveDesc pd = DnnlPrimitiveDesc.reorder(engine, plain, chosen, null, name + ".weight");
                 DnnlPrimitive p = DnnlPrimitive.create(pd)) {
                MemorySegment args = tmp.allocate(dnnl_exec_arg_t.LAYOUT, 2);
                dnnl_exec_arg_t.arg(args, 0, DNNL_ARG_FROM);
                dnnl_exec_arg_t.memory(args, 0, fromMem.handle());
                dnnl_exec_arg_t.arg(args, 1, DNNL_ARG_TO);
                dnnl_exec_arg_t.memory(args, 1, out.handle());
                p.execute(stream, args, 2, name + ".weight reorder");
                stream.waitAll();
            }
        }
        return out;
    }

    private DnnlMemory copyBias(MemorySegment src, long n) {
        DnnlMemoryDesc md = own(DnnlMemoryDesc.of(dnnl_x, n));
        MemorySegment dst = arena.allocate(Math.max(md.byteSize(), 64), 64);
        MemorySegment.copy(src, 0, dst, 0, n * Float.BYTES);
        return own(DnnlMemory.wrap(md, engine, dst));
    }

    private Act conv(int i, Layer layer, LayerSpec.Conv c, Act x, boolean last) {
        long n = batch;
        long[] srcDims = {n, c.inC(), c.inH(), c.inW()};
        long[] dstDims = {n, c.outC(), c.outH(), c.outW()};
        int g = c.groups();
        long[] wDims = g == 1
                ? new long[] {c.outC(), c.inC(), c.kernel(), c.kernel()}
                : new long[] {g, c.outC() / g, c.inC() / g, c.kernel(), c.kernel()};
        x = withDims(i, x, srcDims);
        String ctx = c.name() + " " + c + " batch " + batch;
        DnnlPrimitiveDesc pd;
        try (DnnlMemoryDesc srcAny = DnnlMemoryDesc.of(dnnl_format_tag_any, srcDims);
             DnnlMemoryDesc wAny = DnnlMemoryDesc.of(dnnl_format_tag_any, wDims);
             DnnlMemoryDesc bMd = DnnlMemoryDesc.of(dnnl_x, c.outC());
             DnnlMemoryDesc dstAny = DnnlMemoryDesc.of(dnnl_format_tag_any, dstDims);
             DnnlAttr attr = DnnlAttr.userScratchpad(c.relu())) {
            // Symmetric padding; oneDNN sizes the output with floor division, as ConvShape does.
            long[] stride = {c.stride(), c.stride()}, pad = {c.pad(), c.pad()};
            pd = own(DnnlPrimitiveDesc.convolution(engine, srcAny, wAny, bMd, dstAny, stride, pad, pad, attr, ctx));
        }
        Act src = reorder(i, "reorder-src", x, own(pd.queryMd(dnnl_query_src_md)), false);
        DnnlMemory w = packWeights(c.name(), layer.weight().data(), wDims, g == 1 ? dnnl_oihw : dnnl_goihw, own(pd.queryMd(dnnl_query_weights_md)));
        DnnlMemory b = copyBias(layer.bias().data(), c.outC());
        DnnlMemoryDesc dstMd = own(pd.queryMd(dnnl_query_dst_md));
        Act dst = newAct(dstDims, dstMd, plainOutput(last, dstDims, dstMd));
        addStep(i, c.name(), pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                new DnnlMemory[] {src.mem(), w, b, dst.mem()});
        return dst;
    }

    private Act pool(int i, LayerSpec.MaxPool p, Act x, boolean last) {
        long[] srcDims = {batch, p.c(), p.h(), p.w()};
        long[] dstDims = {batch, p.c(), p.outH(), p.outW()};
        x = withDims(i, x, srcDims);
        DnnlPrimitiveDesc pd;
        try (DnnlMemoryDesc dstAny = DnnlMemoryDesc.of(dnnl_format_tag_any, dstDims);
             DnnlAttr attr = DnnlAttr.userScratchpad(false)) {
            long[] pad = {p.pad(), p.pad()};
            pd = own(DnnlPrimitiveDesc.maxPooling(engine, x.md(), dstAny, new long[] {p.stride(), p.stride()},
                    new long[] {p.kernel(), p.kernel()}, pad, pad, attr, p.name() + " " + p + " batch " + batch));
        }
        DnnlMemoryDesc dstMd = own(pd.queryMd(dnnl_query_dst_md));
        Act dst = newAct(dstDims, dstMd, plainOutput(last, dstDims, dstMd));
        addStep(i, p.name(), pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new DnnlMemory[] {x.mem(), dst.mem()});
        return dst;
    }

    /** Channel-blocked layouts an LRN can be split into channel groups without moving data (block size by tag). */
    private static final int[][] GROUPABLE = {{dnnl_nchw, 1}, {dnnl_nChw16c, 16}, {dnnl_nChw8c, 8}};

    private static int blockOf(int tag) {
        for (int[] t : GROUPABLE) if (t[0] == tag) return t[1];
        throw new IllegalArgumentException("tag " + tag);
    }

    /**
     * LRN across channels. With {@code channelGroups = G > 1} the window must stay inside each group
     * of C/G channels: in NCHW, and in nChw16c/nChw8c when C/G is a multiple of the block, the
     * tensor {N, C, H, W} has exactly the bytes of {N*G, C/G, H, W} in the same layout, so one LRN
     * over that view does every group of every image. Other layouts (nhwc, which brgemm convolutions
     * like to produce) are reordered first, to nChw16c when C/G allows, else nChw8c, else NCHW.
     */
    private Act lrn(int i, LayerSpec.Lrn l, Act x, boolean last) {
        long[] dims = {batch, l.c(), l.h(), l.w()};
        x = withDims(i, x, dims);
        int g = l.channelGroups();
        LrnParams lp = l.params();
        String ctx = l.name() + " " + l + " batch " + batch;
        if (g == 1) {
            DnnlPrimitiveDesc pd;
            try (DnnlAttr attr = DnnlAttr.userScratchpad(false)) {
                pd = own(DnnlPrimitiveDesc.lrnAcrossChannels(engine, x.md(), x.md(), lp.size(), lp.libraryAlpha(), lp.beta(), lp.k(), attr, ctx));
            }
            DnnlMemoryDesc dstMd = own(pd.queryMd(dnnl_query_dst_md));
            Act dst = newAct(dims, dstMd, plainOutput(last, dims, dstMd));
            addStep(i, l.name(), pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new DnnlMemory[] {x.mem(), dst.mem()});
            return dst;
        }
        int tag = -1;
        for (int[] t : GROUPABLE) {
            if ((l.c() / g) % t[1] != 0) continue;
            try (DnnlMemoryDesc cand = DnnlMemoryDesc.of(t[0], dims)) {
                if (cand.sameAs(x.md())) { tag = t[0]; break; }
            }
        }
        if (tag < 0) {
            // E.g. nhwc, where a group's channels are interleaved with the other group's: reorder
            // to the widest groupable block (the JIT LRN and pooling prefer blocked layouts).
            for (int[] t : GROUPABLE) {
                if ((l.c() / g) % t[1] == 0 && (tag < 0 || t[1] > blockOf(tag))) tag = t[0];
            }
            x = reorder(i, "reorder-src", x, own(DnnlMemoryDesc.of(tag, dims)), false);
        }
        long[] gDims = {(long) batch * g, l.c() / g, l.h(), l.w()};
        DnnlMemoryDesc gMd = own(DnnlMemoryDesc.of(tag, gDims));
        Act src = view(x, gDims, gMd);
        DnnlPrimitiveDesc pd;
        try (DnnlAttr attr = DnnlAttr.userScratchpad(false)) {
            pd = own(DnnlPrimitiveDesc.lrnAcrossChannels(engine, gMd, gMd, lp.size(), lp.libraryAlpha(), lp.beta(), lp.k(), attr, ctx));
        }
        DnnlMemoryDesc fullMd = own(DnnlMemoryDesc.of(tag, dims));
        Act out = newAct(dims, fullMd, plainOutput(last, dims, fullMd));
        Act dst = view(out, gDims, gMd);
        addStep(i, l.name(), pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new DnnlMemory[] {src.mem(), dst.mem()});
        return out;
    }

    private Act linear(int i, Layer layer, LayerSpec.Linear l, Act x, boolean last) {
        long n = batch;
        // fc6 after pool5: keep the 4-D source {N,C,H,W} (PyTorch's [out, C*H*W] is oihw {out,C,H,W}).
        long[] srcDims, wDims;
        int wTag;
        if (x.dims().length == 4) {
            srcDims = x.dims();
            wDims = new long[] {l.out(), x.dims()[1], x.dims()[2], x.dims()[3]};
            wTag = dnnl_oihw;
        } else {
            srcDims = new long[] {n, l.in()};
            wDims = new long[] {l.out(), l.in()};
            wTag = dnnl_oi;
        }
        x = withDims(i, x, srcDims);
        long[] dstDims = {n, l.out()};
        DnnlPrimitiveDesc pd;
        try (DnnlMemoryDesc srcAny = DnnlMemoryDesc.of(dnnl_format_tag_any, srcDims);
             DnnlMemoryDesc wAny = DnnlMemoryDesc.of(dnnl_format_tag_any, wDims);
             DnnlMemoryDesc bMd = DnnlMemoryDesc.of(dnnl_x, l.out());
             DnnlMemoryDesc dstAny = DnnlMemoryDesc.of(dnnl_format_tag_any, dstDims);
             DnnlAttr attr = DnnlAttr.userScratchpad(l.relu())) {
            pd = own(DnnlPrimitiveDesc.innerProduct(engine, srcAny, wAny, bMd, dstAny, attr, l.name() + " " + l + " batch " + batch));
        }
        Act src = reorder(i, "reorder-src", x, own(pd.queryMd(dnnl_query_src_md)), false);
        DnnlMemory w = packWeights(l.name(), layer.weight().data(), wDims, wTag, own(pd.queryMd(dnnl_query_weights_md)));
        DnnlMemory b = copyBias(layer.bias().data(), l.out());
        DnnlMemoryDesc dstMd = own(pd.queryMd(dnnl_query_dst_md));
        Act dst = newAct(dstDims, dstMd, plainOutput(last, dstDims, dstMd));
        addStep(i, l.name(), pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                new DnnlMemory[] {src.mem(), w, b, dst.mem()});
        return dst;
    }

    private Act softmax(int i, LayerSpec.Softmax s, Act x, boolean last) {
        long[] dims = {batch, s.classes()};
        x = withDims(i, x, dims);
        DnnlPrimitiveDesc pd;
        try (DnnlMemoryDesc dstAny = DnnlMemoryDesc.of(dnnl_format_tag_any, dims);
             DnnlAttr attr = DnnlAttr.userScratchpad(false)) {
            pd = own(DnnlPrimitiveDesc.softmax(engine, x.md(), dstAny, 1, attr, s.name() + " " + s + " batch " + batch));
        }
        DnnlMemoryDesc dstMd = own(pd.queryMd(dnnl_query_dst_md));
        Act dst = newAct(dims, dstMd, plainOutput(last, dims, dstMd));
        addStep(i, s.name(), pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new DnnlMemory[] {x.mem(), dst.mem()});
        return dst;
    }

    // ------------------------------------------------------------------ run

    /**
     * Runs every primitive on the calling thread's OpenMP team of {@link #threads()} threads. With a
     * timer, each layer's time includes the reorders done for it (its source reorder; the output
     * reorder for the last layer), measured after a stream wait.
     *
     * @throws IllegalArgumentException before any native call when a segment is null, too small or
     *                                  (output) read-only
     */
    @Override
    public void run(MemorySegment input, MemorySegment output, LayerTimer timer) {
        Checks.floats(input, inputFloats(), "program input");
        Checks.floats(output, outputFloats(), "program output");
        if (output.isReadOnly()) throw new IllegalArgumentException("program output is read-only");
        if (timer == null) throw new IllegalArgumentException("timer is null (use LayerTimer.NONE)");
        guard.enter();
        try {
            Checks.accessible(input, "program input");
            Checks.accessible(output, "program output");
            runStaged(input, output, timer);
        } finally {
            guard.exit();
        }
    }

    /**
     * oneDNN reads and writes only this program's arena: the input is copied in and the output out with the
     * JDK's checked copy, so a caller's segment that is confined to another thread, or whose arena closes
     * during the run, gives the JDK's exception instead of a native read of freed memory.
     */
    private void runStaged(MemorySegment input, MemorySegment output, LayerTimer timer) {
        if (stagingIn == null) stagingIn = arena.allocate(inputFloats() * Float.BYTES, 64);
        if (stagingOut == null) stagingOut = arena.allocate(outputFloats() * Float.BYTES, 64);
        MemorySegment.copy(input, 0, stagingIn, 0, stagingIn.byteSize());
        MemorySegment in = stagingIn, out = stagingOut;
        for (DnnlMemory m : inputBound) m.setData(in);
        for (DnnlMemory m : outputBound) m.setData(out);
        Dnnl.setThreadsForCallingThread(threads);

        boolean timing = timer.enabled();
        int current = -1;
        long t0 = 0;
        for (Step s : steps) {
            if (timing && s.layer() != current) {
                if (current >= 0) {
                    stream.waitAll();
                    timer.record(layers.get(current).spec().name(), System.nanoTime() - t0);
                }
                current = s.layer();
                t0 = System.nanoTime();
            }
            s.primitive().execute(stream, s.args(), s.nargs(), s.what());
        }
        stream.waitAll();
        if (timing && current >= 0) timer.record(layers.get(current).spec().name(), System.nanoTime() - t0);
        MemorySegment.copy(out, 0, output, 0, outputFloats() * Float.BYTES);
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
        steps.clear();
        inputBound.clear();
        outputBound.clear();
        try {
            DnnlHandle.closeAll(owned);
        } finally {
            if (arena.scope().isAlive()) arena.close();
        }
    }

    @Override
    public String toString() {
        return "DnnlProgram[" + device.name() + ", batch " + batch + ", " + layers.size() + " layers]";
    }
}
