package dev.alexnet.cli;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.ClassNames;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Images;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.model.io.Npy;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands a user types, through {@code Main} with their exit codes and the files they write: export-weights,
 * forward (from a seed and from the exported file), classify, compare on one small layer, peak, and a bad
 * argument to each. What they compute is checked against the library called directly.
 */
class CliEndToEndTest {
    private static final long SEED = 5;
    private static final Pattern TOP = Pattern.compile("^\\s+([0-9.]+)%\\s+(\\d+)\\s+(.+)$");

    @Test
    void exportForwardAndClassifyAgreeWithTheLibrary(@TempDir Path dir) throws IOException {
        Path w = dir.resolve("w.safetensors"), x = dir.resolve("x.npy"), y1 = dir.resolve("y1.npy");
        Cli.run("export-weights", "--output", w.toString(), "--seed", Long.toString(SEED)).succeeds();
        try (Arena arena = Arena.ofShared(); AlexNetWeights want = AlexNetWeights.paperInit(SEED); AlexNetWeights got = AlexNetWeights.load(w)) {
            for (String name : AlexNetSpec.paramNames()) {
                assertEquals(-1, want.get(name).data().mismatch(got.get(name).data()), name + " exported");
            }
            Tensor images = Tensor.allocate(arena, 1, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(2);
            for (long i = 0; i < images.size(); i++) images.set(i, (float) (r.nextDouble() * 255 - 120));
            Npy.write(x, images);

            // --weights (the exported file); the paper init from --seed is what export-weights wrote, checked above
            String out = Cli.run("forward", "--input", x.toString(), "--output", y1.toString(), "--device", "java:2",
                    "--weights", w.toString()).succeeds().out();
            assertTrue(out.contains("-> " + y1), out);
            float[] direct = new float[AlexNetSpec.CLASSES];
            try (Network n = Networks.open(AlexNetSpec.PAPER, want, "java:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
                MemorySegment logits = arena.allocate(AlexNetSpec.CLASSES * Float.BYTES, 64);
                n.forward(images.data(), logits, 1);
                direct = logits.toArray(JAVA_FLOAT);
            }
            Tensor fromFile = Npy.read(y1, arena);
            assertArrayEquals(new int[] {1, AlexNetSpec.CLASSES}, fromFile.shape());
            assertArrayEquals(direct, fromFile.toArray(), "forward --weights vs the network called directly");

            // classify the built-in image: the same top-3 as the library's preprocessing and network
            String text = Cli.run("classify", "--device", "java:2", "--weights", w.toString(), "--top", "3").succeeds().out();
            List<Integer> shown = new ArrayList<>();
            for (String line : text.split("\n")) {
                Matcher m = TOP.matcher(line);
                if (m.matches()) {
                    int cls = Integer.parseInt(m.group(2));
                    assertEquals(ClassNames.of(cls), m.group(3).strip(), "class name of " + cls);
                    shown.add(cls);
                }
            }
            MemorySegment in = arena.allocate(3L * 227 * 227 * Float.BYTES, 64), logits = arena.allocate(AlexNetSpec.CLASSES * Float.BYTES, 64);
            Images.preprocess(Images.demo(), 227, in, 0);
            try (Network n = Networks.open(AlexNetSpec.PAPER, want, "java:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
                n.forward(in, logits, 1);
            }
            float[] l = logits.toArray(JAVA_FLOAT);
            List<Integer> top = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                int best = -1;
                for (int i = 0; i < l.length; i++) if (!top.contains(i) && (best < 0 || l[i] > l[best])) best = i;
                top.add(best);
            }
            assertEquals(top, shown, "classify's top 3:\n" + text);
        }
        Cli.assertNoLeftovers(dir);
    }

    @Test
    void badArgumentsAreOneLineAndExitTwo(@TempDir Path dir) throws IOException {
        Path y = dir.resolve("y.npy"), x = dir.resolve("x.npy");
        try (Arena arena = Arena.ofConfined()) {
            Npy.write(x, Tensor.allocate(arena, 1, 3, 227, 227));
        }
        Cli.run("forward", "--input", dir.resolve("none.npy").toString(), "--output", y.toString()).failsWith(2, "none.npy");
        Cli.run("forward", "--input", x.toString(), "--output", y.toString(), "--device", "tpu:0").failsWith(2, "tpu:0");
        Cli.run("forward", "--input", x.toString(), "--output", y.toString(), "--input-size", "224").failsWith(2, "224");
        Cli.run("classify", "--device", "java:0").failsWith(2, "java:0");
        Cli.run("export-weights", "--output", dir.resolve("w.safetensors").toString(), "--seed", "many").failsWith(2, "--seed", "many", "alexnet export-weights --help");
        Cli.run("compare", "--backends", "nosuch", "--layers", "pool5").failsWith(2, "nosuch");
        Cli.run("compare", "--backends", "java", "--layers", "conv9").failsWith(2, "conv9");
        Cli.run("peak", "--threads", "0").failsWith(2, "threads");
        Cli.run("nosuchcommand").failsWith(2, "nosuchcommand", "alexnet --help");
        Cli.run("forward", "--input", x.toString(), "--output", y.toString(), "--bogus").failsWith(2, "--bogus", "alexnet forward --help");
        assertTrue(Files.notExists(y));
    }

    /** compare on one small layer against the oracle: exit 0, an OK row in results.csv and results.json. */
    @Test
    void compareOnOneLayerWritesItsResults(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("cmp");
        Files.createDirectory(out);
        Cli.Result r = Cli.run("compare", "--backends", "java", "--layers", "pool5", "--batch", "1", "--threads", "1", "--quick",
                "--peak-gflops", "100", "--peak-gbs", "10", "--out", out.toString()).succeeds();
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        String header = csv.getFirst();
        assertTrue(header.contains("status"), header);
        assertTrue(csv.stream().anyMatch(l -> l.contains("pool5") && l.contains("java") && l.contains(",OK,")), String.join("\n", csv));
        assertFalse(csv.stream().anyMatch(l -> l.contains("FAIL") || l.contains("ERROR")), String.join("\n", csv));
        assertTrue(Files.readString(out.resolve("results.json")).contains("\"pool5\""));
        assertTrue(r.out().contains("pool5"), r.out());
    }

    @Test
    void peakMeasuresSomething() {
        String out = Cli.run("peak", "--threads", "1", "--seconds", "0.05", "--buffer-mb", "16").succeeds().out();
        assertTrue(out.contains("GFLOP") || out.contains("GB/s"), out);
    }

    /** Every command's help prints cleanly (picocli formats descriptions: a bare % used to warn on stderr). */
    @Test
    void everyHelpPrintsWithoutWarnings() {
        for (String c : List.of("forward", "classify", "export-weights", "train", "evaluate", "compare", "peak", "compare-train")) {
            Cli.Result r = Cli.run(c, "--help");
            assertEquals(0, r.exit(), c + ": " + r.err());
            assertTrue(r.out().contains("Usage: alexnet " + c), c + ": " + r.out());
            assertEquals("", r.err(), c + " --help wrote to stderr");
        }
    }
}
