package dev.alexnet.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;
import dev.alexnet.model.Network;
import dev.alexnet.model.SingleDeviceNetwork;
import dev.alexnet.model.TwoTowerNetwork;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole paper AlexNet at batch 2 against PyTorch: counter weights ({@link AlexNetWeights#counter()}),
 * counter input (stream 16, scale 2, [2,3,227,227]), logits [2,1000].
 *
 * <p>Bounds: derived from PyTorch's own float32 noise (its distance from a float64 run of the same network,
 * recorded per tap by the generator): see {@link #vectorBound} and {@link #referenceBound}. The vector network is
 * checked at pool5, fc7 and the logits, at 224x224 and with LRN across all channels too.
 *
 * <p>Contract: max|a-b| / max|b| <= 1e-4 for every Java path. PyTorch's own float32 logits differ from a
 * float64 run of the same network by 2.0e-6 relative (measured when the golden was made), and the
 * reference kernels accumulate in double, so the reference path is also held to 2e-5: ten times the
 * float32 noise, and well below what a wrong LRN convention does to these logits (alpha/n instead of
 * alpha moves them by 2.8e-4, dropping LRN by 3.5e-4, pooling before LRN by 2.9e-4). LRN per tower vs across all channels moves them
 * by only 6e-6 here (small activations): that difference is caught by the LRN kernel cases and by
 * the two-tower run, which is per tower by construction and must equal the single-device run.
 *
 * <p>The reference conv over the full network takes seconds (5 s warm, 15-25 s for the first, cold pass
 * on a busy 2-core machine: the JIT compiles ConvRef while conv1 runs), so the reference logits are
 * computed once and shared. Warming up on small shapes does not help: C2 then compiles with a profile
 * of small loops and the big layers run as slowly as cold (measured).
 */
class NetworkGoldenTest {
    private static final int BATCH = 2;
    static final double CONTRACT = 1e-4, REFERENCE_BOUND = 2e-5;

    private static Arena arena;
    private static AlexNetWeights weights;
    private static MemorySegment images;
    private static float[] golden;
    private static float[] referenceLogits;

    @BeforeAll
    static void runReferenceOnce() {
        arena = Arena.ofShared();
        weights = AlexNetWeights.counter();
        JsonNode net = Golden.manifest().get("network");
        assertEquals(BATCH, net.get("batch").asInt());
        long n = (long) BATCH * 3 * 227 * 227;
        images = arena.allocate(n * Float.BYTES, 64);
        CounterInit.fill(images, n, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
        Tensor g = Golden.read(net.get("logits").asText(), arena);
        assertArrayEquals(new int[] {BATCH, AlexNetSpec.CLASSES}, g.shape());
        golden = g.toArray();
        referenceLogits = run(new SingleDeviceNetwork(AlexNetSpec.PAPER, weights, new JavaDevice(1, JavaDevice.Kernels.REFERENCE), true));
    }

    @AfterAll
    static void close() {
        if (weights != null) weights.close();
        if (arena != null) arena.close();
    }

    private static float[] run(Network net) {
        try (net; Arena a = Arena.ofShared()) { // shared: the two towers write the logits from their own threads
            MemorySegment logits = a.allocate((long) BATCH * AlexNetSpec.CLASSES * Float.BYTES, 64);
            long t0 = System.nanoTime();
            net.forward(images, logits, BATCH);
            System.out.printf("[golden network] %s: forward at batch %d took %.2f s%n", net.placement(), BATCH, (System.nanoTime() - t0) / 1e9);
            return logits.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        }
    }

    private static Golden.Diff report(String what, float[] got) {
        Golden.Diff d = Golden.Diff.of(got, golden);
        System.out.println("[golden network] " + what + " vs PyTorch logits: " + d);
        return d;
    }

    @Test
    void referenceLogitsMatchPyTorch() {
        Golden.Diff d = report("ref:1", referenceLogits);
        assertTrue(d.rel() <= CONTRACT, "reference logits vs PyTorch: " + d);
        assertTrue(d.rel() <= REFERENCE_BOUND, "reference logits vs PyTorch (double accumulation, bound 2e-5): " + d);
        double bound = referenceBound(torchNoise("logits"));
        assertTrue(d.rel() <= bound, "reference logits vs PyTorch, bound " + bound + ": " + d);
        for (int b = 0; b < BATCH; b++) assertEquals(argmax(golden, b), argmax(referenceLogits, b), "top-1 of image " + b);
    }

    /**
     * PyTorch's own float32 noise at a tap: max|f32 - f64| / max|f64| of the same network, measured by the
     * generator (about 2e-6 on the logits, 6e-7 on pool5, 2.6e-6 on fc7).
     */
    private static double torchNoise(String tap) {
        return Golden.manifest().get("network").get("f32_vs_f64_rel").get(tap).asDouble();
    }

    /**
     * The vector kernels' bound against PyTorch at a tap whose PyTorch float32 noise is {@code noise}. Both are
     * float32 networks with the same sums (same lengths, FMA, blocked in different orders), so each is within
     * about {@code noise} of the float64 network and the two within 2 noise; a factor 2 on each for a less lucky
     * summation order gives 4 noise: 8e-6 on the logits, which a per-tower LRN grouping error (6e-6 on these
     * logits, on top of the noise) or a wrong alpha (2.8e-4) does not fit in.
     */
    static double vectorBound(double noise) { return 4 * noise; }

    /** The reference accumulates in double, so it is within a few u of float64 per layer: PyTorch's noise, times 2. */
    static double referenceBound(double noise) { return 2 * noise; }

    @Test
    void vectorDeviceLogitsMatchPyTorch() {
        float[] v = run(new SingleDeviceNetwork(AlexNetSpec.PAPER, weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR), true));
        Golden.Diff d = report("java:2 (VECTOR)", v);
        Golden.Diff vr = Golden.Diff.of(v, referenceLogits);
        System.out.println("[golden network] java:2 vs ref:1: " + vr);
        double bound = vectorBound(torchNoise("logits"));
        assertTrue(d.rel() <= bound, "java:2 logits vs PyTorch, bound " + bound + ": " + d);
        assertTrue(vr.rel() <= bound, "java:2 logits vs ref:1, bound " + bound + ": " + vr);
        // Per-tower LRN: image 0 nearer its golden than the across-channel network's (see the variants test).
        float[] image0 = java.util.Arrays.copyOf(v, AlexNetSpec.CLASSES);
        Golden.Diff own = Golden.Diff.of(image0, java.util.Arrays.copyOf(golden, AlexNetSpec.CLASSES));
        Golden.Diff other = Golden.Diff.of(image0, Golden.read(Golden.manifest().get("network_variants").get("net_lrn_all").get("logits").asText(), arena).toArray());
        assertTrue(own.rel() < other.rel(), "per-tower LRN is nearer the across-channel golden: " + own + " vs " + other);
    }

    /** pool5 and fc7 of the vector network (programs of the layers up to each) against PyTorch's taps. */
    @Test
    void vectorDeviceTapsMatchPyTorch() {
        JsonNode net = Golden.manifest().get("network");
        List<Layer> layers = weights.layers(AlexNetSpec.PAPER);
        try (Arena a = Arena.ofShared(); Device dev = new JavaDevice(2, JavaDevice.Kernels.VECTOR)) {
            for (String tap : List.of("pool5", "fc7")) {
                Tensor want = Golden.read(net.get(tap).asText(), a);
                MemorySegment got = a.allocate(want.size() * Float.BYTES, 64);
                try (Program p = dev.compile(layers.subList(0, indexOf(layers, tap) + 1), BATCH)) {
                    assertEquals(want.size(), p.outputFloats(), tap + " size");
                    p.run(images, got);
                }
                Golden.Diff d = Golden.Diff.of(got.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), want.toArray());
                double bound = vectorBound(torchNoise(tap));
                System.out.println("[golden network] java:2 " + tap + " vs PyTorch: " + d + " (bound " + bound + ")");
                assertTrue(d.rel() <= bound, "java:2 " + tap + " vs PyTorch, bound " + bound + ": " + d);
            }
        }
    }

    /**
     * The 224-input network (conv1 pad 2) and LRN across all channels (`--lrn all`), batch 1, on the vector
     * kernels against PyTorch. Image 0 of the paper network's input is the same image, and the two LRN groupings
     * move its logits by only 6.4e-6 here (small activations), about twice the float32 noise: so besides the
     * bound, the across-channel run must be nearer its own golden than the per-tower one (the paper network's
     * test checks the converse), which a network that ignored the grouping cannot be.
     */
    @Test
    void inputSize224AndLrnAcrossAllChannelsMatchPyTorch() {
        JsonNode variants = Golden.manifest().get("network_variants");
        float[] perTower0 = java.util.Arrays.copyOf(golden, AlexNetSpec.CLASSES);
        for (var v : List.of(java.util.Map.entry("net224", new AlexNetSpec(224, true)), java.util.Map.entry("net_lrn_all", new AlexNetSpec(227, false)))) {
            JsonNode g = variants.get(v.getKey());
            AlexNetSpec spec = v.getValue();
            try (Arena a = Arena.ofShared(); Network n = new SingleDeviceNetwork(spec, weights, new JavaDevice(2, JavaDevice.Kernels.VECTOR), true)) {
                long count = 3L * spec.inputSize() * spec.inputSize();
                MemorySegment x = a.allocate(count * Float.BYTES, 64), y = a.allocate(AlexNetSpec.CLASSES * Float.BYTES, 64);
                CounterInit.fill(x, count, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
                n.forward(x, y, 1);
                float[] want = Golden.read(g.get("logits").asText(), a).toArray();
                Golden.Diff d = Golden.Diff.of(y.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), want);
                double bound = vectorBound(g.get("f32_vs_f64_rel").asDouble());
                System.out.println("[golden network] java:2 " + v.getKey() + " vs PyTorch: " + d + " (bound " + bound + ")");
                assertTrue(d.rel() <= bound, "java:2 " + v.getKey() + " vs PyTorch, bound " + bound + ": " + d);
                if (v.getKey().equals("net_lrn_all")) {
                    Golden.Diff other = Golden.Diff.of(y.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), perTower0);
                    System.out.println("[golden network] java:2 net_lrn_all vs the per-tower golden: " + other);
                    assertTrue(d.rel() < other.rel(), "across-channel LRN is nearer the per-tower golden: " + d + " vs " + other);
                }
            }
        }
    }

    @Test
    void twoTowersEqualOneDeviceBitForBit() {
        float[] t = run(new TwoTowerNetwork(AlexNetSpec.PAPER, weights,
                new JavaDevice(1, JavaDevice.Kernels.REFERENCE), new JavaDevice(1, JavaDevice.Kernels.REFERENCE), true));
        report("ref:1,ref:1 (two towers)", t);
        for (int i = 0; i < t.length; i++) {
            if (Float.floatToRawIntBits(t[i]) != Float.floatToRawIntBits(referenceLogits[i])) {
                fail("two-tower logit " + i + " is " + t[i] + ", single device " + referenceLogits[i]
                        + ": same deterministic kernels must give the same bits (" + Golden.Diff.of(t, referenceLogits) + ")");
            }
        }
    }

    /** Localises a failure: the classifier alone, fed PyTorch's own pool5 and fc7. */
    @Test
    void fullyConnectedLayersFromPyTorchActivations() {
        JsonNode net = Golden.manifest().get("network");
        List<Layer> layers = weights.layers(AlexNetSpec.PAPER);
        int fc6 = indexOf(layers, "fc6"), fc8 = indexOf(layers, "fc8");
        try (Arena a = Arena.ofConfined(); Device dev = new JavaDevice(1, JavaDevice.Kernels.REFERENCE)) {
            Tensor pool5 = Golden.read(net.get("pool5").asText(), a), fc7 = Golden.read(net.get("fc7").asText(), a);
            Tensor gotFc7 = Tensor.allocate(a, BATCH, 4096), gotLogits = Tensor.allocate(a, BATCH, AlexNetSpec.CLASSES);
            try (Program p = dev.compile(layers.subList(fc6, fc8), BATCH)) { p.run(pool5.data(), gotFc7.data()); }
            try (Program p = dev.compile(layers.subList(fc8, fc8 + 1), BATCH)) { p.run(fc7.data(), gotLogits.data()); }
            Golden.Diff d7 = Golden.Diff.of(gotFc7.toArray(), fc7.toArray());
            Golden.Diff d8 = report("fc8 alone (from PyTorch's fc7)", gotLogits.toArray());
            System.out.println("[golden network] fc6+fc7 alone (from PyTorch's pool5) vs PyTorch fc7: " + d7);
            assertTrue(d7.rel() <= REFERENCE_BOUND, "fc6+fc7 from PyTorch's pool5: " + d7);
            assertTrue(d8.rel() <= REFERENCE_BOUND, "fc8 from PyTorch's fc7: " + d8);
        }
    }

    @Test
    void counterWeightsAreTheGeneratorsStreams() {
        JsonNode counter = Golden.manifest().get("counter");
        List<String> names = AlexNetSpec.paramNames();
        try (Arena a = Arena.ofConfined()) {
            Tensor check = Golden.read(counter.get("file").asText(), a);
            int cols = check.dim(1), checked = 0;
            for (int r = 0; r < check.dim(0); r++) {
                JsonNode row = counter.get("rows").get(r);
                int stream = row.get("stream").asInt();
                long start = row.get("start").asLong();
                if (stream >= names.size()) continue;
                Tensor t = weights.get(names.get(stream));
                if (start + cols > t.size()) continue;
                for (int j = 0; j < cols; j++) {
                    assertEquals(Float.floatToRawIntBits(check.get((long) r * cols + j)), Float.floatToRawIntBits(t.get(start + j)),
                            names.get(stream) + "[" + (start + j) + "]");
                }
                checked++;
            }
            assertTrue(checked >= 4, "only " + checked + " rows checked");
        }
    }

    @Test
    void weightsSurviveASafetensorsRoundTrip(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("alexnet-counter.safetensors");
        weights.save(file, Map.of("test", "round trip"));
        try (AlexNetWeights back = AlexNetWeights.load(file)) {
            assertEquals("file alexnet-counter.safetensors", back.origin());
            for (String name : AlexNetSpec.paramNames()) {
                Tensor a = weights.get(name), b = back.get(name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertEquals(-1, a.data().mismatch(b.data()), name + " differs after save/load");
                assertEquals(0, b.data().address() % 4, name + " is not float-aligned in the mapping");
            }
        }
    }

    private static int indexOf(List<Layer> layers, String name) {
        for (int i = 0; i < layers.size(); i++) if (layers.get(i).spec().name().equals(name)) return i;
        throw new AssertionError("no layer " + name);
    }

    private static int argmax(float[] logits, int image) {
        int best = 0;
        for (int i = 1; i < AlexNetSpec.CLASSES; i++) {
            if (logits[image * AlexNetSpec.CLASSES + i] > logits[image * AlexNetSpec.CLASSES + best]) best = i;
        }
        return best;
    }
}
