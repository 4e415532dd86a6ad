package dev.alexnet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Option values and input files that used to fail late, with a stack trace or a misleading reason: one line, before any work. */
class CliSmallInputsTest {
    @TempDir Path dir;

    @Test
    void classifyOptionsAreCheckedFirst() {
        Cli.run("classify", "--top", "-1").failsWith(2, "--top must be at least 1, got -1");
        Cli.run("classify", "--top", "0").failsWith(2, "--top must be at least 1");
        // above the class count (known once the weights are read) --top lists every class
        Cli.run("classify", "--timing", "--repeat", "0").failsWith(2, "--repeat must be at least 1, got 0");
        Cli.run("classify", "--timing", "--warmup-ms", "-5").failsWith(2, "--warmup-ms must not be negative");
    }

    @Test
    void aDirectoryAsWeightsOrImageSaysSo() throws IOException {
        Path weights = Files.createDirectory(dir.resolve("w.safetensors"));
        Cli.run("classify", "--weights", weights.toString(), "--device", "dnnl:1").failsWith(2, "w.safetensors", "is a directory");
        Path image = Files.createDirectory(dir.resolve("cat.jpg"));
        Cli.run("classify", image.toString()).failsWith(2, "cat.jpg", "is a directory");
        Cli.run("classify", dir.resolve("dog.jpg").toString()).failsWith(2, "dog.jpg", "no such file");
    }

    @Test
    void aForwardInputThatCannotBeReadIsRefusedBeforeTheWeights() throws IOException {
        Path bad = Files.writeString(dir.resolve("x.npy"), "\u001b[31mnot numpy");
        Cli.run("forward", "--input", bad.toString(), "--output", dir.resolve("y.npy").toString())
                .failsWith(2, "x.npy", "not a .npy file");
        Cli.run("forward", "--input", dir.resolve("nothing.npy").toString(), "--output", dir.resolve("y.npy").toString())
                .failsWith(2, "nothing.npy", "no such file");
        Cli.run("forward", "--device", "java:1000", "--input", bad.toString(), "--output", dir.resolve("y.npy").toString())
                .failsWith(2, "not a .npy file"); // the input is read before any device starts
    }

    @Test
    void tooManyThreadsIsOneLine() throws IOException {
        Path x = dir.resolve("x.npy");
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofShared()) {
            dev.alexnet.model.io.Npy.write(x, dev.alexnet.tensor.Tensor.allocate(a, 1, 3, 227, 227));
        }
        Cli.run("forward", "--device", "java:1000", "--input", x.toString(), "--output", dir.resolve("y.npy").toString())
                .failsWith(2, "java:1000", "asks for 1000 threads", "at most");
    }
}
