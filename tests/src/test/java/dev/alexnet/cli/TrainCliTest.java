package dev.alexnet.cli;

import dev.alexnet.model.AlexNetWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train} and {@code evaluate} end to end through {@code Main}, and their refusals of bad input. */
class TrainCliTest {
    static final int N = 8;

    @TempDir
    static Path data;
    static Path x, labels;

    /** Eight images [N,3,227,227] (a bright band whose row depends on the class) and int32 labels 0..3. */
    @BeforeAll
    static void writeData() throws IOException {
        x = data.resolve("x.npy");
        labels = data.resolve("labels.npy");
        int size = 3 * 227 * 227;
        ByteBuffer b = ByteBuffer.allocate(N * size * 4).order(ByteOrder.LITTLE_ENDIAN);
        SplittableRandom r = new SplittableRandom(9);
        for (int n = 0; n < N; n++) {
            for (int i = 0; i < size; i++) {
                int row = i / 227 % 227;
                b.putFloat((float) (0.2 * r.nextGaussian() + (row / 57 == n % 4 ? 1.0 : -0.3)));
            }
        }
        writeNpy(x, "<f4", "(" + N + ", 3, 227, 227)", b.array());
        ByteBuffer l = ByteBuffer.allocate(N * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int n = 0; n < N; n++) l.putInt(n % 4);
        writeNpy(labels, "<i4", "(" + N + ",)", l.array());
    }

    static void writeNpy(Path p, String dtype, String shape, byte[] payload) throws IOException {
        String h = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + h.length() + 1;
        h = h + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer out = ByteBuffer.allocate(10 + h.length() + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0).putShort((short) h.length());
        out.put(h.getBytes(StandardCharsets.US_ASCII)).put(payload);
        Files.write(p, out.array());
    }

    /** A deterministic train command; {@code extra} adds options or replaces the defaults' values. */
    static String[] train(Path out, String... extra) {
        java.util.Map<String, String> o = new java.util.LinkedHashMap<>();
        String[] base = {"--data", x.toString(), "--labels", labels.toString(), "--epochs", "1", "--batch", "4",
                "--device", "java:2", "--dropout", "0", "--augment", "none", "--shuffle", "none", "--seed", "3", "--out", out.toString()};
        for (int i = 0; i < base.length; i += 2) o.put(base[i], base[i + 1]);
        for (int i = 0; i < extra.length; i += 2) o.put(extra[i], extra[i + 1]);
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("train"));
        o.forEach((k, v) -> {
            all.add(k);
            all.add(v);
        });
        return all.toArray(new String[0]);
    }

    /**
     * A deterministic run writes its checkpoint, metrics (CSV and PNG) and final weights; the same
     * command again writes a bitwise identical final file; evaluate reads it back.
     */
    @Test
    void trainsDeterministicallyAndEvaluates(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        Cli.Result r = Cli.run(train(a)).succeeds();
        assertTrue(r.out().contains("epoch 1/1"), r.out());
        for (String f : new String[] {"checkpoint.safetensors", "metrics.csv", "metrics.png", "final.safetensors"}) {
            assertTrue(Files.size(a.resolve(f)) > 0, f);
        }
        Cli.assertNoLeftovers(a);
        try (AlexNetWeights w = AlexNetWeights.load(a.resolve("final.safetensors"))) {
            assertEquals(4, w.classes(), "fc8 sized from the data's classes");
        }
        Cli.run(train(b)).succeeds();
        assertEquals(-1L, Files.mismatch(a.resolve("final.safetensors"), b.resolve("final.safetensors")), "two identical runs differ");
        Cli.Result e = Cli.run("evaluate", "--weights", a.resolve("final.safetensors").toString(), "--data", x.toString(),
                "--labels", labels.toString(), "--device", "java:2").succeeds();
        assertTrue(e.out().contains("top-1") && e.out().contains("8 images"), e.out());
        // classify takes the class count and names from the trained file: four lines, none an ImageNet class
        Cli.Result c = Cli.run("classify", "--weights", a.resolve("final.safetensors").toString(), "--device", "java:2").succeeds();
        assertEquals(4, c.out().lines().filter(l -> l.contains("%")).count(), c.out());
        assertTrue(!c.out().contains("tench"), c.out());
        // a finished run is not overwritten by accident
        Cli.run(train(a)).failsWith(2, "already holds a run", "--resume");
    }

    @Test
    void refusesBadInput(@TempDir Path dir) throws IOException {
        Cli.run(train(dir.resolve("r"), "--device", "cuda:0")).failsWith(2, "CUDA", "not there yet");
        Cli.run("train", "--data", dir.resolve("missing").toString(), "--out", dir.resolve("r").toString()).failsWith(2, "missing");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Cli.run("train", "--data", empty.toString(), "--out", dir.resolve("r").toString()).failsWith(2, "empty");
        Cli.run("train", "--data", x.toString(), "--out", dir.resolve("r").toString()).failsWith(2, "--labels");
        Cli.run(train(dir.resolve("r"), "--epochs", "0")).failsWith(2, "--epochs");
        Cli.run(train(dir.resolve("r"), "--resume", dir.resolve("nothing").toString())).failsWith(2, "--resume");
        Path noRun = Files.createDirectories(dir.resolve("norun"));
        Cli.run(train(noRun, "--resume", noRun.toString())).failsWith(2, "no checkpoint");
        // weights with fewer classes than the data has labels
        Path w2 = dir.resolve("w2.safetensors");
        try (AlexNetWeights w = AlexNetWeights.init(AlexNetWeights.Init.HE, 1, 2)) {
            w.save(w2, null);
        }
        Cli.run(train(dir.resolve("r2"), "--weights", w2.toString())).failsWith(2, "2 classes", "4");
        // a truncated checkpoint: one line, nothing half-written
        Path run = Files.createDirectories(dir.resolve("trunc"));
        Files.copy(w2, run.resolve("checkpoint.safetensors"));
        try (var ch = java.nio.channels.FileChannel.open(run.resolve("checkpoint.safetensors"), java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        Cli.run(train(run, "--resume", run.toString())).failsWith(2, "checkpoint.safetensors");
        // a checkpoint of another kind (plain weights, no training state)
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.copy(w2, other.resolve("checkpoint.safetensors"));
        Cli.run(train(other, "--resume", other.toString())).failsWith(2, "not a training checkpoint");
        Cli.assertNoLeftovers(run);
    }
}
