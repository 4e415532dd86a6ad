package dev.alexnet.bench;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The one table of benchmark cases that both the JMH benchmarks and {@code alexnet compare} use, so
 * their figures cross-check: every layer of the paper AlexNet ({@link AlexNetSpec#PAPER}, whole
 * network with groups=2 and per-tower LRN), softmax over the 1000 logits, and {@code network} (the
 * whole forward pass, images in, logits out, as {@code SingleDeviceNetwork} runs it).
 *
 * <p>Weights are seeded ({@link Init#COUNTER} by default: the golden generator, whose activations stay
 * of order one so that an error in a sum is not hidden under a large bias; or the paper's
 * initialisation from a seed). Each case's input is seeded too ({@link #fillInput}): image {@code n}
 * of a batch gets elements {@code n*inputFloats ...} of one counter stream per case, so every image
 * differs and batch-indexing mistakes show up in the agreement check.
 *
 * <p>Work per image: {@code flops = 2 * macs} for conv, fc and the network; {@code bytes = 4 * (input
 * + output floats)} for the memory-bound layers (pool, lrn, softmax: read the input once, write the
 * output once). Not in the table: ReLU (fused into conv/fc), dropout (training only).
 */
public final class LayerTable implements AutoCloseable {
    /** Compute-bound (FLOP/s is the figure of merit), memory-bound (GB/s), or the whole forward pass. */
    public enum Kind { COMPUTE, MEMORY, NETWORK }

    public enum Init { COUNTER, PAPER }

    /** Case names in table order: what {@code --layers} and JMH's {@code layer} parameter accept. */
    public static final List<String> NAMES = List.of("conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2",
            "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8", "softmax", "network");

    /** Input counter streams 100.. (the parameters use 0..15 and the golden input batch 16). */
    static final int INPUT_STREAM_BASE = 100;

    /**
     * One benchmark case: the layers a device compiles for it (one layer, or all of them for
     * {@code network}), and its work per image.
     *
     * @param flopsPerImage 2 x MACs (0 for memory-bound layers)
     * @param bytesPerImage 4 x (input + output floats): the minimum traffic of a memory-bound layer
     */
    public record Case(String name, Kind kind, List<Layer> layers, long flopsPerImage, long bytesPerImage, int stream) {
        public long inputFloats() { return layers.getFirst().spec().inputSize(); }
        public long outputFloats() { return layers.getLast().spec().outputSize(); }
        /** FLOPs for a batch (compute and network cases). */
        public double flops(int batch) { return (double) flopsPerImage * batch; }
        /** Bytes for a batch (memory-bound cases). */
        public double bytes(int batch) { return (double) bytesPerImage * batch; }
        /** The unit of this case's throughput: GFLOP/s or GB/s. */
        public String unit() { return kind == Kind.MEMORY ? "GB/s" : "GFLOP/s"; }
        /** Work in the unit's numerator (FLOPs or bytes) for a batch. */
        public double work(int batch) { return kind == Kind.MEMORY ? bytes(batch) : flops(batch); }
    }

    private final AlexNetWeights weights;
    private final Init init;
    private final long seed;
    private final Map<String, Case> cases = new LinkedHashMap<>();

    private LayerTable(AlexNetWeights weights, Init init, long seed) {
        this.weights = weights;
        this.init = init;
        this.seed = seed;
        List<Layer> all = weights.layers(AlexNetSpec.PAPER);
        int stream = INPUT_STREAM_BASE;
        for (Layer l : all) cases.put(l.spec().name(), single(l, stream++));
        Layer softmax = Layer.of(new LayerSpec.Softmax("softmax", AlexNetSpec.CLASSES));
        cases.put("softmax", single(softmax, stream++));
        long macs = all.stream().mapToLong(l -> l.spec().macs()).sum();
        cases.put("network", new Case("network", Kind.NETWORK, List.copyOf(all), 2 * macs, 0, CounterInit.INPUT_STREAM));
        if (!List.copyOf(cases.keySet()).equals(NAMES)) throw new AssertionError("table order drifted: " + cases.keySet());
    }

    private static Case single(Layer l, int stream) {
        LayerSpec s = l.spec();
        boolean memory = s.macs() == 0;
        long bytes = memory ? 4 * (s.inputSize() + s.outputSize()) : 0;
        return new Case(s.name(), memory ? Kind.MEMORY : Kind.COMPUTE, List.of(l), 2 * s.macs(), bytes, stream);
    }

    /**
     * Work per image of a case, from the layer specs alone (no weights allocated): FLOPs for compute
     * cases and the network, bytes for memory-bound ones. For reports that only need the arithmetic.
     */
    public static double workPerImage(String name) {
        List<LayerSpec> specs = AlexNetSpec.PAPER.layers();
        if (name.equals("network")) return 2.0 * specs.stream().mapToLong(LayerSpec::macs).sum();
        if (name.equals("softmax")) return 4.0 * 2 * AlexNetSpec.CLASSES;
        for (LayerSpec s : specs) {
            if (s.name().equals(name)) return s.macs() > 0 ? 2.0 * s.macs() : 4.0 * (s.inputSize() + s.outputSize());
        }
        throw new IllegalArgumentException("no benchmark case '" + name + "'; known: " + String.join(", ", NAMES));
    }

    /** GFLOP/s or GB/s, as {@link Case#unit()}, from the name alone. */
    public static String unitOf(String name) {
        return name.startsWith("pool") || name.startsWith("lrn") || name.equals("softmax") ? "GB/s" : "GFLOP/s";
    }

    /** The table with counter-initialised weights (the default). */
    public static LayerTable create() { return create(Init.COUNTER, 0); }

    /** @param seed used by {@link Init#PAPER} only */
    public static LayerTable create(Init init, long seed) {
        AlexNetWeights w = init == Init.COUNTER ? AlexNetWeights.counter() : AlexNetWeights.paperInit(seed);
        return new LayerTable(w, init, seed);
    }

    public String weightsOrigin() { return weights.origin(); }
    public Init init() { return init; }
    public long seed() { return seed; }
    public AlexNetWeights weights() { return weights; }
    public List<Case> cases() { return List.copyOf(cases.values()); }

    public Case get(String name) {
        Case c = cases.get(name);
        if (c == null) throw new IllegalArgumentException("no benchmark case '" + name + "'; known: " + String.join(", ", NAMES));
        return c;
    }

    /** Seeded input for {@code batch} images of {@code c}: values in [-1, 1), different for every image. */
    public static void fillInput(Case c, MemorySegment input, int batch) {
        long n = batch * c.inputFloats();
        float scale = CounterInit.INPUT_SCALE;
        for (long i = 0; i < n; i++) input.setAtIndex(JAVA_FLOAT, i, CounterInit.value(c.stream(), i, scale));
    }

    /** The cases named in {@code names} ("all" or empty for every one), in table order. */
    public List<Case> select(List<String> names) {
        if (names == null || names.isEmpty() || names.equals(List.of("all"))) return cases();
        List<Case> out = new ArrayList<>();
        for (String n : names) get(n.strip()); // validates
        for (Case c : cases.values()) if (names.stream().anyMatch(n -> n.strip().equals(c.name()))) out.add(c);
        return out;
    }

    @Override
    public void close() { weights.close(); }
}
