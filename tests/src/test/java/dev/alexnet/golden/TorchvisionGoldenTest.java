package dev.alexnet.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.model.SingleDeviceNetwork;
import dev.alexnet.model.TwoTowerNetwork;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * torchvision's AlexNet at batch 2 against {@code torchvision.models.alexnet()}'s own forward (eval mode):
 * counter weights ({@link AlexNetWeights#counter(Arch)}: stream i is parameter i of
 * {@link AlexNetSpec#paramNames()}, torchvision's shapes, the paper network's scales), counter input
 * (stream 16, scale 2, [2,3,224,224]), logits [2,1000] in {@code tv_logits.npy}.
 *
 * <p>Bounds, from the float32 arithmetic: a K-term float32 sum whose roundings behave like a random walk
 * is off by about u*sqrt(K) of its magnitude (u = 2^-24); the longest sums here are fc6's 9216 terms, and
 * errors of the eight layers add, so one float32 path is within 8 * 2^-24 * sqrt(9216) = 4.6e-5 of the exact
 * logits, relative to their largest. {@link #CONTRACT} = 1e-4 is that with a factor of two for sums that
 * cancel (ReLU zeroes, mixed signs), the same contract as the paper network's golden test. The reference
 * kernels accumulate in double and round once per stored value, so against PyTorch they see PyTorch's own
 * float32 error (measured against a float64 run of the same module: {@link #TORCH_F32_ERROR}) plus about
 * u per layer; {@link #REFERENCE_BOUND} is ten times the measured figure.
 */
class TorchvisionGoldenTest {
    private static final int BATCH = 2, SIZE = 224;
    static final double CONTRACT = 1e-4;
    /** max|f32 - f64| / max|f64| of torchvision's float32 logits on these inputs (make_golden.py --check-f64, torch 1.13: 2.49e-6). */
    static final double TORCH_F32_ERROR = 2.5e-6;
    static final double REFERENCE_BOUND = 10 * TORCH_F32_ERROR;
    static final AlexNetSpec SPEC = AlexNetSpec.TORCHVISION;

    private static Arena arena;
    private static AlexNetWeights weights;
    private static MemorySegment images;
    private static float[] golden, referenceLogits;

    @BeforeAll
    static void runReferenceOnce() {
        arena = Arena.ofShared();
        weights = AlexNetWeights.counter(Arch.TORCHVISION);
        JsonNode tv = Golden.manifest().get("torchvision");
        assertEquals(BATCH, tv.get("batch").asInt());
        long n = (long) BATCH * 3 * SIZE * SIZE;
        images = arena.allocate(n * Float.BYTES, 64);
        CounterInit.fill(images, n, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
        Tensor g = Golden.read(tv.get("logits").asText(), arena);
        assertArrayEquals(new int[] {BATCH, AlexNetSpec.CLASSES}, g.shape());
        golden = g.toArray();
        referenceLogits = run(new SingleDeviceNetwork(SPEC, weights, new JavaDevice(1, JavaDevice.Kernels.REFERENCE), true));
    }

    @AfterAll
    static void close() {
        if (weights != null) weights.close();
        if (arena != null) arena.close();
    }

    private static float[] run(Network net) {
        try (net; Arena a = Arena.ofShared()) {
            MemorySegment logits = a.allocate((long) BATCH * AlexNetSpec.CLASSES * Float.BYTES, 64);
            long t0 = System.nanoTime();
            net.forward(images, logits, BATCH);
            System.out.printf("[golden torchvision] %s: forward at batch %d took %.2f s%n", net.placement(), BATCH, (System.nanoTime() - t0) / 1e9);
            return logits.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    @Test
    void torchvisionStateDictNamesAreTheManifests() {
        JsonNode names = Golden.manifest().get("torchvision").get("param_names");
        for (String name : AlexNetSpec.paramNames()) assertEquals(names.get(name).asText(), SPEC.fileName(name), name);
    }

    @Test
    void referenceLogitsMatchTorchvision() {
        Golden.Diff d = Golden.Diff.of(referenceLogits, golden);
        System.out.println("[golden torchvision] ref:1 vs torchvision logits: " + d);
        assertTrue(d.rel() <= REFERENCE_BOUND, "reference logits vs torchvision: " + d);
        for (int b = 0; b < BATCH; b++) assertEquals(argmax(golden, b), argmax(referenceLogits, b), "top-1 of image " + b);
    }

    /** Every CPU backend, on one device and on two towers (each tower half of every layer's output channels). */
    @ParameterizedTest
    @ValueSource(strings = {"java:2", "dnnl:2", "ort:2", "java:1,java:1", "dnnl:1,java:1"})
    void everyCpuBackendMatchesTorchvision(String placement) {
        float[] got = run(Networks.open(SPEC, weights, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32));
        Golden.Diff d = Golden.Diff.of(got, golden);
        System.out.println("[golden torchvision] " + placement + " vs torchvision logits: " + d + "; vs ref:1 " + Golden.Diff.of(got, referenceLogits));
        assertTrue(d.rel() <= CONTRACT, placement + " logits vs torchvision: " + d);
    }

    @Test
    void twoTowersEqualOneDeviceBitForBit() {
        float[] t = run(new TwoTowerNetwork(SPEC, weights,
                new JavaDevice(1, JavaDevice.Kernels.REFERENCE), new JavaDevice(1, JavaDevice.Kernels.REFERENCE), true));
        for (int i = 0; i < t.length; i++) {
            if (Float.floatToRawIntBits(t[i]) != Float.floatToRawIntBits(referenceLogits[i])) {
                fail("two-tower logit " + i + " is " + t[i] + ", single device " + referenceLogits[i] + " (" + Golden.Diff.of(t, referenceLogits) + ")");
            }
        }
    }

    /** Localises a failure: the features alone (conv1 ... pool5, where torchvision's average pooling is the identity). */
    @Test
    void featuresMatchTorchvisionsPool5() {
        List<Layer> layers = weights.layers(SPEC);
        int fc6 = 0;
        while (!layers.get(fc6).spec().name().equals("fc6")) fc6++;
        try (Arena a = Arena.ofShared(); Device dev = new JavaDevice(2, JavaDevice.Kernels.VECTOR);
             Program p = dev.compile(layers.subList(0, fc6), BATCH)) {
            Tensor want = Golden.read(Golden.manifest().get("torchvision").get("pool5").asText(), a);
            assertArrayEquals(new int[] {BATCH, 256 * 6 * 6}, want.shape());
            Tensor got = Tensor.allocate(a, BATCH, 256 * 6 * 6);
            p.run(images, got.data());
            Golden.Diff d = Golden.Diff.of(got.toArray(), want.toArray());
            System.out.println("[golden torchvision] java:2 pool5 vs torchvision's avgpool output: " + d);
            assertTrue(d.rel() <= CONTRACT, "pool5: " + d);
        }
    }

    /** Written with torchvision's state_dict names, read back as torchvision's network without renaming. */
    @Test
    void weightsRoundTripUnderTorchvisionNames(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("alexnet-tv.safetensors");
        weights.save(file, Map.of());
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> raw = Safetensors.read(file, a);
            assertTrue(raw.containsKey("features.0.weight") && raw.containsKey("classifier.6.bias"), raw.keySet().toString());
            assertArrayEquals(new int[] {192, 64, 5, 5}, raw.get("features.3.weight").shape());
            assertEquals(16, raw.size());
        }
        try (AlexNetWeights back = AlexNetWeights.load(file)) {
            assertEquals(Arch.TORCHVISION, back.arch());
            for (String name : AlexNetSpec.paramNames()) {
                assertEquals(-1, weights.get(name).data().mismatch(back.get(name).data()), name + " differs after save/load");
            }
        }
    }

    private static int argmax(float[] logits, int image) {
        int best = 0;
        for (int i = 1; i < AlexNetSpec.CLASSES; i++) {
            if (logits[image * AlexNetSpec.CLASSES + i] > logits[image * AlexNetSpec.CLASSES + best]) best = i;
        }
        return best;
    }
}
