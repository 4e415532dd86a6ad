package dev.alexnet.golden;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;
import dev.alexnet.model.SingleDeviceNetwork;
import dev.alexnet.cli.Cli;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.LrnMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code alexnet export-onnx} for both networks: the file it writes, opened by ONNX Runtime from disk (no
 * project code between), runs a batch of 2 (the batch dimension is symbolic) and gives the project's
 * reference logits (ref:1, double accumulation) on the golden counter weights and input.
 *
 * <p>Bound: ONNX Runtime is one float32 path, so it is held to the golden tests' contract, 1e-4 of the
 * largest logit (8 layers times u*sqrt(9216) = 4.6e-5 for random-walk rounding in fc6's sums, times two
 * for sums that cancel; see {@link TorchvisionGoldenTest}); the reference's own error (about 1e-6) is
 * inside that. The torchvision model is also held to torchvision's own logits, with the same bound.
 */
class OnnxExportTest {
    private static final int BATCH = 2;

    @ParameterizedTest
    @EnumSource(Arch.class)
    void exportedModelRunsInOnnxRuntimeAndAgrees(Arch arch, @TempDir Path dir) throws Exception {
        AlexNetSpec spec = arch == Arch.TORCHVISION ? AlexNetSpec.TORCHVISION : AlexNetSpec.PAPER;
        int s = spec.inputSize();
        Path weightsFile = dir.resolve("w.safetensors"), onnx = dir.resolve("alexnet.onnx");
        try (Arena arena = Arena.ofShared(); AlexNetWeights w = AlexNetWeights.counter(arch)) {
            w.save(weightsFile, Map.of());
            Cli.run("export-onnx", "--weights", weightsFile.toString(), "--output", onnx.toString(), "--arch", arch.cliName()).succeeds();
            assertTrue(Files.size(onnx) > 4 * spec.parameters(), "every weight is in the file");
            Files.delete(weightsFile); // what remains is the ONNX file alone

            long n = (long) BATCH * 3 * s * s;
            MemorySegment images = arena.allocate(n * Float.BYTES, 64);
            CounterInit.fill(images, n, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
            float[] want;
            try (SingleDeviceNetwork ref = new SingleDeviceNetwork(spec, w, new JavaDevice(1, JavaDevice.Kernels.REFERENCE), true)) {
                MemorySegment logits = arena.allocate((long) BATCH * AlexNetSpec.CLASSES * Float.BYTES, 64);
                ref.forward(images, logits, BATCH);
                want = logits.toArray(ValueLayout.JAVA_FLOAT);
            }

            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                opts.setIntraOpNumThreads(2);
                try (OrtSession session = env.createSession(onnx.toString(), opts)) {
                    NodeInfo in = session.getInputInfo().get("input"), out = session.getOutputInfo().get("logits");
                    assertArrayEquals(new long[] {-1, 3, s, s}, ((TensorInfo) in.getInfo()).getShape(), "symbolic batch, NCHW input");
                    assertArrayEquals(new long[] {-1, AlexNetSpec.CLASSES}, ((TensorInfo) out.getInfo()).getShape());
                    float[] x = images.toArray(ValueLayout.JAVA_FLOAT);
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {BATCH, 3, s, s});
                         OrtSession.Result r = session.run(Map.of("input", t))) {
                        float[][] y = (float[][]) r.get("logits").orElseThrow().getValue();
                        float[] got = new float[BATCH * AlexNetSpec.CLASSES];
                        for (int b = 0; b < BATCH; b++) System.arraycopy(y[b], 0, got, b * AlexNetSpec.CLASSES, AlexNetSpec.CLASSES);
                        Golden.Diff d = Golden.Diff.of(got, want);
                        System.out.printf("[onnx export] %s: %,d bytes; ONNX Runtime from the file vs ref:1 logits: %s%n", arch.cliName(), Files.size(onnx), d);
                        assertTrue(d.rel() <= TorchvisionGoldenTest.CONTRACT, arch.cliName() + " exported model vs the project's logits: " + d);
                        if (arch == Arch.TORCHVISION) {
                            float[] torch = Golden.read(Golden.manifest().get("torchvision").get("logits").asText(), arena).toArray();
                            Golden.Diff dt = Golden.Diff.of(got, torch);
                            System.out.println("[onnx export] torchvision: ONNX Runtime from the file vs torchvision's logits: " + dt);
                            assertTrue(dt.rel() <= TorchvisionGoldenTest.CONTRACT, "exported torchvision model vs torchvision: " + dt);
                        }
                    }
                }
            }
        }
    }
    /**
     * Weights that name the LRN they were trained with (import-caffe's Caffe LRN: k=1, alpha/n, across all
     * channels) are exported with that LRN, as forward runs them; the paper's LRN on the same weights moves
     * the logits far outside the bound, so the check can fail.
     */
    @Test
    void exportUsesTheLrnTheWeightsName(@TempDir Path dir) throws Exception {
        LrnMetadata caffe = new LrnMetadata(new LrnParams(5, 1f, 1e-4f, 0.75f, true), false);
        Path weightsFile = dir.resolve("w.safetensors"), onnx = dir.resolve("alexnet.onnx");
        int s = AlexNetSpec.PAPER.inputSize();
        try (Arena arena = Arena.ofShared(); AlexNetWeights w = AlexNetWeights.counter(Arch.PAPER)) {
            w.save(weightsFile, Map.of(LrnMetadata.KEY, caffe.format()));
            Cli.run("export-onnx", "--weights", weightsFile.toString(), "--output", onnx.toString()).succeeds();
            long n = (long) BATCH * 3 * s * s;
            MemorySegment images = arena.allocate(n * Float.BYTES, 64);
            CounterInit.fill(images, n, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
            float[] got = ortLogits(onnx, images, s);
            AlexNetSpec trained = new AlexNetSpec(s, false).withLrn(caffe.params());
            Golden.Diff d = Golden.Diff.of(got, refLogits(trained, w, images, arena));
            Golden.Diff paper = Golden.Diff.of(got, refLogits(AlexNetSpec.PAPER, w, images, arena));
            System.out.printf("[onnx export] Caffe LRN metadata: vs ref:1 with that LRN %s; vs the paper's LRN %s%n", d, paper);
            assertTrue(d.rel() <= TorchvisionGoldenTest.CONTRACT, "exported model vs the LRN its weights name: " + d);
            assertTrue(paper.rel() > 100 * TorchvisionGoldenTest.CONTRACT, "the two LRNs must be told apart: " + paper);
        }
    }

    private static float[] refLogits(AlexNetSpec spec, AlexNetWeights w, MemorySegment images, Arena arena) {
        try (SingleDeviceNetwork ref = new SingleDeviceNetwork(spec, w, new JavaDevice(1, JavaDevice.Kernels.REFERENCE), true)) {
            MemorySegment logits = arena.allocate((long) BATCH * AlexNetSpec.CLASSES * Float.BYTES, 64);
            ref.forward(images, logits, BATCH);
            return logits.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private static float[] ortLogits(Path onnx, MemorySegment images, int s) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(onnx.toString(), opts);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(images.toArray(ValueLayout.JAVA_FLOAT)), new long[] {BATCH, 3, s, s});
                 OrtSession.Result r = session.run(Map.of("input", t))) {
                float[][] y = (float[][]) r.get("logits").orElseThrow().getValue();
                float[] got = new float[BATCH * AlexNetSpec.CLASSES];
                for (int b = 0; b < BATCH; b++) System.arraycopy(y[b], 0, got, b * AlexNetSpec.CLASSES, AlexNetSpec.CLASSES);
                return got;
            }
        }
    }
}
