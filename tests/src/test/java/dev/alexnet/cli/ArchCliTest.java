package dev.alexnet.cli;

import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;
import dev.alexnet.model.io.Npy;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --arch torchvision} on forward and classify, {@code export-weights --arch}, and {@code export-onnx}'s checks. */
class ArchCliTest {
    @TempDir static Path dir;
    static Path tvWeights;

    @BeforeAll
    static void torchvisionWeightsFile() throws Exception {
        tvWeights = dir.resolve("tv.safetensors");
        try (AlexNetWeights w = AlexNetWeights.counter(Arch.TORCHVISION)) {
            w.save(tvWeights, Map.of());
        }
    }

    @Test
    void forwardRunsTorchvisionWeightsAtItsInputSize() throws Exception {
        Path x = dir.resolve("x224.npy"), y = dir.resolve("y.npy");
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(a, 1, 3, 224, 224);
            CounterInit.fill(t.data(), t.size(), CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
            Npy.write(x, t);
        }
        Cli.run("forward", "--arch", "torchvision", "--weights", tvWeights.toString(), "--device", "java:1",
                "--input", x.toString(), "--output", y.toString()).succeeds();
        try (Arena a = Arena.ofConfined()) {
            assertArrayEquals(new int[] {1, AlexNetSpec.CLASSES}, Npy.read(y, a).shape());
        }
        // two towers of torchvision's layers
        Cli.run("forward", "--arch", "torchvision", "--weights", tvWeights.toString(), "--towers", "java:1,java:1",
                "--input", x.toString(), "--output", y.toString()).succeeds();
        // the paper network reads 227x227 by default: the message names the option
        Cli.run("forward", "--weights", tvWeights.toString(), "--input", x.toString(), "--output", y.toString())
                .failsWith(2, "expected [N,3,227,227]", "--input-size 224");
    }

    @Test
    void weightsOfTheOtherNetworkNameTheFix() {
        Cli.run("classify", "--weights", tvWeights.toString(), "--device", "java:1").failsWith(2, "torchvision AlexNet", "pass --arch torchvision");
        Cli.run("classify", "--arch", "alexnet2").failsWith(2, "--arch must be paper or torchvision");
        Cli.run("classify", "--arch", "torchvision", "--input-size", "256").failsWith(2, "224");
    }

    @Test
    void classifyWithTorchvisionWeightsSaysWhichNetwork() {
        Cli.Result r = Cli.run("classify", "--arch", "torchvision", "--weights", tvWeights.toString(), "--device", "java:1").succeeds();
        assertTrue(r.out().contains("AlexNet (torchvision, 224x224 input)"), r.out());
    }

    @Test
    void exportWeightsWritesTorchvisionNames() throws Exception {
        Path out = dir.resolve("tv-init.safetensors");
        Cli.run("export-weights", "--arch", "torchvision", "--output", out.toString()).succeeds();
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> t = dev.alexnet.model.io.Safetensors.read(out, a);
            assertArrayEquals(new int[] {64, 3, 11, 11}, t.get("features.0.weight").shape());
            assertArrayEquals(new int[] {1000, 4096}, t.get("classifier.6.weight").shape());
            assertFalse(t.containsKey("conv1.weight"));
        }
    }

    @Test
    void exportOnnxChecksItsOptionsAndPathsFirst() throws Exception {
        Path onnx = dir.resolve("m.onnx");
        Cli.run("export-onnx", "--weights", tvWeights.toString(), "--output", dir.resolve("no/such/dir/m.onnx").toString(), "--arch", "torchvision")
                .failsWith(2, "--output", "does not exist");
        Cli.run("export-onnx", "--weights", dir.resolve("missing.safetensors").toString(), "--output", onnx.toString())
                .failsWith(2, "missing.safetensors", "no such file");
        Cli.run("export-onnx", "--weights", tvWeights.toString(), "--output", tvWeights.toString(), "--arch", "torchvision")
                .failsWith(2, "is the --weights file");
        Cli.run("export-onnx", "--weights", tvWeights.toString(), "--output", onnx.toString(), "--lrn-form", "fast")
                .failsWith(2, "--lrn-form must be op or decomposed");
        Cli.run("export-onnx", "--weights", tvWeights.toString(), "--output", onnx.toString())
                .failsWith(2, "torchvision AlexNet", "pass --arch torchvision");
        assertFalse(Files.exists(onnx), "nothing written after a refusal");
        Cli.assertNoLeftovers(dir);
    }
}
