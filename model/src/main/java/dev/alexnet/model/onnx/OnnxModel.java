package dev.alexnet.model.onnx;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.tensor.Tensor;

import dev.alexnet.model.io.AtomicFiles;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds an ONNX {@code ModelProto} (opset 13) for a run of {@link Layer}s at a fixed batch size,
 * encoded by hand with {@link Proto} (no protobuf or onnx library). Weights become initializers in
 * {@code raw_data}, so ONNX Runtime sees constants it can pre-pack.
 *
 * <p>Mapping: Conv (group, pads, strides) [+ Relu]; MaxPool; LRN either as ONNX's LRN with
 * {@link LrnParams#libraryAlpha()} (ONNX divides alpha by size) and bias = k, and for
 * {@code channelGroups > 1} a Split on axis 1 into equal parts, one LRN each, and a Concat, or
 * decomposed into fast operators ({@link LrnMode}); Linear as Gemm(transB=1) [+ Relu], after a Flatten(axis 1)
 * where its input is 4-D; Softmax on axis 1 of [N, classes]. Where a layer reads a shape other than
 * the one its predecessor produced (same element count), a Reshape is inserted.
 *
 * <p>{@link #export} builds the model written by {@code alexnet export-onnx}: a symbolic batch dimension
 * {@code N}, the input named {@code input} and the output {@code logits}, LRN as ONNX's operator (the
 * standard form other tools recognise). {@link #build} is the fixed-batch model the {@code ort:N} device runs.
 *
 * <p>Field numbers are those of onnx/onnx.proto (checked against the file).
 */
public final class OnnxModel {
    /** ONNX IR version 7 (the IR that opset 13 was released with). */
    static final long IR_VERSION = 7;
    public static final long OPSET = 13;
    public static final String INPUT = "input";
    /** The output's name in an exported model. */
    public static final String OUTPUT = "logits";
    /** The symbolic batch dimension of an exported model. */
    public static final String BATCH_DIM = "N";

    // onnx.proto field numbers
    private static final int MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8;
    private static final int OPSET_DOMAIN = 1, OPSET_VERSION = 2;
    private static final int GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12;
    private static final int NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5;
    private static final int ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20;
    private static final int ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS_TYPE = 7;
    private static final int TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9;
    private static final int DT_FLOAT = 1, DT_INT64 = 7;
    private static final int VALUE_NAME = 1, VALUE_TYPE = 2;
    private static final int TYPE_TENSOR = 1, TENSOR_TYPE_ELEM = 1, TENSOR_TYPE_SHAPE = 2;
    private static final int SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2;

    /** How LRN is expressed in the graph. */
    public enum LrnMode {
        /**
         * ONNX's own {@code LRN} operator (per channel group: Split, LRN, Concat). Exact, but ORT's CPU
         * kernel for it is slow: about half the whole network's time at batch 32 (ORT 1.29).
         */
        OP,
        /**
         * Plain operators ORT runs with its fast kernels: {@code z = Conv1x1(x*x)} with a banded weight
         * matrix holding {@link LrnParams#scale()} inside each window (zero across channel groups, so
         * no Split) and bias k, then {@code y = x / z^beta}, with z^0.75 as sqrt(z) * sqrt(sqrt(z)).
         */
        DECOMPOSED
    }

    private final LrnMode lrnMode;
    private final Proto.Message graph = new Proto.Message();
    private final List<Proto.Message> nodes = new ArrayList<>(), initializers = new ArrayList<>();
    private final int batch;
    private final boolean dynamicBatch; // the batch dimension is BATCH_DIM; shapes are tracked at batch 1
    private String cur = INPUT;
    private long[] curShape;
    private final long[] inputShape;
    private int unique;

    /** The model, its input's and output's shapes (batch first), and its output's name. */
    public record Built(Proto.Message model, long[] inputShape, long[] outputShape, String outputName) {
        /** The wire bytes (for tests and for saving to a file; the device encodes off-heap instead). */
        public byte[] bytes() { return Proto.encode(model); }
    }

    private OnnxModel(int batch, long[] inputShape, LrnMode lrnMode, boolean dynamicBatch) {
        this.lrnMode = lrnMode;
        this.batch = batch;
        this.dynamicBatch = dynamicBatch;
        this.inputShape = inputShape;
        this.curShape = inputShape;
    }

    public static Built build(List<Layer> layers, int batch) {
        return build(layers, batch, LrnMode.DECOMPOSED);
    }

    public static Built build(List<Layer> layers, int batch, LrnMode lrnMode) {
        Device.checkChain(layers);
        if (batch < 1) throw new IllegalArgumentException("batch must be positive: " + batch);
        OnnxModel m = new OnnxModel(batch, wantedShape(layers.getFirst().spec(), batch), lrnMode, false);
        for (Layer l : layers) m.add(l);
        return m.finish(layers, null);
    }

    /**
     * The model for other tools: inference layers only (dropout left out), any batch size ({@link #BATCH_DIM}),
     * input {@link #INPUT}, output {@link #OUTPUT}. The shapes in the result have batch 1.
     */
    public static Built export(List<Layer> layers, LrnMode lrnMode) {
        List<Layer> run = Device.inferenceLayers(layers);
        Device.checkChain(run);
        OnnxModel m = new OnnxModel(1, wantedShape(run.getFirst().spec(), 1), lrnMode, true);
        for (Layer l : run) m.add(l);
        return m.finish(run, OUTPUT);
    }

    /** Writes the model's wire bytes to {@code file} atomically (encoded off-heap, once). */
    public static void write(Path file, Built built) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = Proto.encode(built.model(), arena);
            AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, bytes.asByteBuffer()));
        }
    }

    /** The shape (batch first) that a layer reads. */
    static long[] wantedShape(LayerSpec spec, int batch) {
        return switch (spec) {
            case LayerSpec.Conv c -> new long[] {batch, c.inC(), c.inH(), c.inW()};
            case LayerSpec.MaxPool p -> new long[] {batch, p.c(), p.h(), p.w()};
            case LayerSpec.Lrn l -> new long[] {batch, l.c(), l.h(), l.w()};
            case LayerSpec.Linear l -> new long[] {batch, l.in()};
            case LayerSpec.Softmax s -> new long[] {batch, s.classes()};
            case LayerSpec.Dropout d -> new long[] {batch, d.features()};
        };
    }

    private void add(Layer layer) {
        LayerSpec spec = layer.spec();
        String name = spec.name();
        conform(name, wantedShape(spec, batch));
        switch (spec) {
            case LayerSpec.Conv c -> {
                String w = initializer(name + ".weight", layer.weight()), b = initializer(name + ".bias", layer.bias());
                String out = value(name);
                node("Conv", name, List.of(cur, w, b), List.of(out),
                        ints("kernel_shape", c.kernel(), c.kernel()), ints("strides", c.stride(), c.stride()),
                        ints("pads", c.pad(), c.pad(), c.pad(), c.pad()), ints("dilations", 1, 1), intAttr("group", c.groups()));
                cur = out;
                curShape = new long[] {batch, c.outC(), c.outH(), c.outW()};
                if (c.relu()) relu(name);
            }
            case LayerSpec.MaxPool p -> {
                String out = value(name);
                node("MaxPool", name, List.of(cur), List.of(out),
                        ints("kernel_shape", p.kernel(), p.kernel()), ints("strides", p.stride(), p.stride()),
                        ints("pads", p.pad(), p.pad(), p.pad(), p.pad()));
                cur = out;
                curShape = new long[] {batch, p.c(), p.outH(), p.outW()};
            }
            case LayerSpec.Lrn l -> {
                LrnParams lp = l.params();
                int g = l.channelGroups();
                if (g < 1 || l.c() % g != 0) throw new IllegalArgumentException(name + ": " + g + " channel groups do not divide " + l.c() + " channels");
                Proto.Message[] attrs = {intAttr("size", lp.size()), floatAttr("alpha", lp.libraryAlpha()),
                        floatAttr("beta", lp.beta()), floatAttr("bias", lp.k())};
                String out = value(name);
                if (lrnMode == LrnMode.DECOMPOSED) {
                    lrnDecomposed(name, l, out);
                } else if (g == 1) {
                    node("LRN", name, List.of(cur), List.of(out), attrs);
                } else {
                    List<String> parts = new ArrayList<>(), normed = new ArrayList<>();
                    for (int i = 0; i < g; i++) {
                        parts.add(value(name + ".part" + i));
                        normed.add(value(name + ".lrn" + i));
                    }
                    // Opset 13 Split without the optional 'split' input: equal parts, as many as outputs.
                    node("Split", name + ".split", List.of(cur), parts, intAttr("axis", 1));
                    for (int i = 0; i < g; i++) node("LRN", name + ".lrn" + i, List.of(parts.get(i)), List.of(normed.get(i)), attrs);
                    node("Concat", name + ".concat", normed, List.of(out), intAttr("axis", 1));
                }
                cur = out;
                // shape unchanged
            }
            case LayerSpec.Linear l -> {
                String w = initializer(name + ".weight", layer.weight()), b = initializer(name + ".bias", layer.bias());
                String out = value(name);
                node("Gemm", name, List.of(cur, w, b), List.of(out), intAttr("transB", 1));
                cur = out;
                curShape = new long[] {batch, l.out()};
                if (l.relu()) relu(name);
            }
            case LayerSpec.Softmax s -> {
                String out = value(name);
                node("Softmax", name, List.of(cur), List.of(out), intAttr("axis", 1));
                cur = out;
            }
            case LayerSpec.Dropout d -> { } // the identity at inference
        }
    }

    /** LRN from plain operators (see {@link LrnMode#DECOMPOSED}); writes {@code out}. */
    private void lrnDecomposed(String name, LayerSpec.Lrn l, String out) {
        LrnParams lp = l.params();
        int c = l.c(), g = l.channelGroups(), cg = c / g, half = lp.size() / 2;
        float[] band = new float[c * cg]; // [C, C/g, 1, 1]: grouped 1x1 convolution, one group per tower
        for (int o = 0; o < c; o++) {
            int g0 = (o / cg) * cg;
            for (int j = Math.max(g0, o - half); j <= Math.min(g0 + cg - 1, o + half); j++) band[o * cg + (j - g0)] = lp.scale();
        }
        float[] bias = new float[c];
        Arrays.fill(bias, lp.k());
        String w = floatInitializer(name + ".band", band, c, cg, 1, 1), b = floatInitializer(name + ".k", bias, c);
        String sq = value(name + ".sq"), z = value(name + ".z");
        node("Mul", name + ".sq", List.of(cur, cur), List.of(sq));
        node("Conv", name + ".window", List.of(sq, w, b), List.of(z),
                ints("kernel_shape", 1, 1), ints("strides", 1, 1), ints("pads", 0, 0, 0, 0), ints("dilations", 1, 1), intAttr("group", g));
        String d;
        if (lp.beta() == 0.75f) { // z^0.75 = sqrt(z) * sqrt(sqrt(z)): ORT's Pow is scalar std::pow, Sqrt is vectorised
            String r2 = value(name + ".sqrt"), r4 = value(name + ".sqrt2");
            d = value(name + ".pow");
            node("Sqrt", name + ".sqrt", List.of(z), List.of(r2));
            node("Sqrt", name + ".sqrt2", List.of(r2), List.of(r4));
            node("Mul", name + ".pow", List.of(r2, r4), List.of(d));
        } else if (lp.beta() == 0.5f) {
            d = value(name + ".pow");
            node("Sqrt", name + ".pow", List.of(z), List.of(d));
        } else if (lp.beta() == 1f) {
            d = z;
        } else {
            String beta = floatInitializer(name + ".beta", new float[] {lp.beta()});
            d = value(name + ".pow");
            node("Pow", name + ".pow", List.of(z, beta), List.of(d));
        }
        node("Div", name + ".div", List.of(cur, d), List.of(out));
    }

    /** A float initializer from heap values (no dims: a scalar). */
    private String floatInitializer(String base, float[] values, long... dims) {
        String tname = value(base);
        Proto.Message m = new Proto.Message();
        for (long d : dims) m.varint(TENSOR_DIMS, d);
        m.varint(TENSOR_DATA_TYPE, DT_FLOAT);
        m.string(TENSOR_NAME, tname);
        byte[] raw = new byte[values.length * Float.BYTES];
        java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        m.bytes(TENSOR_RAW_DATA, raw);
        initializers.add(m);
        return tname;
    }

    /** Makes the current value have {@code want} (same element count): Flatten to 2-D from 4-D, else Reshape. */
    private void conform(String layer, long[] want) {
        if (Arrays.equals(curShape, want)) return;
        String out = value(layer + ".in");
        if (want.length == 2 && curShape.length == 4) {
            node("Flatten", layer + ".flatten", List.of(cur), List.of(out), intAttr("axis", 1));
        } else {
            Proto.Message t = new Proto.Message();
            t.varint(TENSOR_DIMS, want.length);
            t.varint(TENSOR_DATA_TYPE, DT_INT64);
            String shapeName = value(layer + ".shape");
            t.string(TENSOR_NAME, shapeName);
            byte[] raw = new byte[want.length * Long.BYTES];
            long[] target = want.clone();
            if (dynamicBatch) target[0] = 0; // Reshape: 0 keeps the input's dimension, whatever the batch
            java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(target);
            t.bytes(TENSOR_RAW_DATA, raw);
            initializers.add(t);
            node("Reshape", layer + ".reshape", List.of(cur, shapeName), List.of(out));
        }
        cur = out;
        curShape = want;
    }

    private void relu(String layer) {
        String out = value(layer + ".relu");
        node("Relu", layer + ".relu", List.of(cur), List.of(out));
        cur = out;
    }

    /** A fresh value name (layer names are not required to be unique). */
    private String value(String base) {
        return base + "_" + unique++;
    }

    private String initializer(String base, Tensor t) {
        String name = value(base);
        Proto.Message m = new Proto.Message();
        for (int d : t.shape()) m.varint(TENSOR_DIMS, d);
        m.varint(TENSOR_DATA_TYPE, DT_FLOAT);
        m.string(TENSOR_NAME, name);
        MemorySegment data = t.data();
        long floats = 1;
        for (int d : t.shape()) floats *= d;
        m.rawFloats(TENSOR_RAW_DATA, data.asSlice(0, floats * Float.BYTES));
        initializers.add(m);
        return name;
    }

    private void node(String op, String name, List<String> inputs, List<String> outputs, Proto.Message... attrs) {
        Proto.Message n = new Proto.Message();
        for (String i : inputs) n.string(NODE_INPUT, i);
        for (String o : outputs) n.string(NODE_OUTPUT, o);
        n.string(NODE_NAME, name);
        n.string(NODE_OP_TYPE, op);
        for (Proto.Message a : attrs) n.message(NODE_ATTRIBUTE, a);
        nodes.add(n);
    }

    private static Proto.Message ints(String name, long... values) {
        Proto.Message a = new Proto.Message().string(ATTR_NAME, name);
        for (long v : values) a.varint(ATTR_INTS, v); // repeated int64, unpacked (parsers accept both)
        return a.varint(ATTR_TYPE, ATTR_INTS_TYPE);
    }

    private static Proto.Message intAttr(String name, long value) {
        return new Proto.Message().string(ATTR_NAME, name).varint(ATTR_I, value).varint(ATTR_TYPE, ATTR_INT);
    }

    private static Proto.Message floatAttr(String name, float value) {
        return new Proto.Message().string(ATTR_NAME, name).f32(ATTR_F, value).varint(ATTR_TYPE, ATTR_FLOAT);
    }

    private Proto.Message valueInfo(String name, long[] shape) {
        Proto.Message dims = new Proto.Message();
        for (int i = 0; i < shape.length; i++) {
            dims.message(SHAPE_DIM, i == 0 && dynamicBatch ? new Proto.Message().string(DIM_PARAM, BATCH_DIM)
                                                           : new Proto.Message().varint(DIM_VALUE, shape[i]));
        }
        Proto.Message tensorType = new Proto.Message().varint(TENSOR_TYPE_ELEM, DT_FLOAT).message(TENSOR_TYPE_SHAPE, dims);
        return new Proto.Message().string(VALUE_NAME, name).message(VALUE_TYPE, new Proto.Message().message(TYPE_TENSOR, tensorType));
    }

    private Built finish(List<Layer> layers, String outputName) {
        if (outputName != null) {
            node("Identity", outputName, List.of(cur), List.of(outputName));
            cur = outputName;
        }
        for (Proto.Message n : nodes) graph.message(GRAPH_NODE, n);
        graph.string(GRAPH_NAME, "alexnet_" + layers.getFirst().spec().name() + "_" + layers.getLast().spec().name());
        for (Proto.Message t : initializers) graph.message(GRAPH_INITIALIZER, t);
        graph.message(GRAPH_INPUT, valueInfo(INPUT, inputShape));
        graph.message(GRAPH_OUTPUT, valueInfo(cur, curShape));
        Proto.Message model = new Proto.Message()
                .varint(MODEL_IR_VERSION, IR_VERSION)
                .string(MODEL_PRODUCER_NAME, "panama-alexnet")
                .message(MODEL_GRAPH, graph)
                .message(MODEL_OPSET_IMPORT, new Proto.Message().string(OPSET_DOMAIN, "").varint(OPSET_VERSION, OPSET));
        return new Built(model, inputShape.clone(), curShape.clone(), cur);
    }
}
