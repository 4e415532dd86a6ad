package dev.alexnet.cli;

import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.io.AtomicFiles;
import dev.alexnet.model.io.Npy;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Output paths through {@code bin/alexnet}: every bad one is refused before any work (nothing on stdout,
 * the input untouched) with one line and a non-zero exit; good ones are written whole through a
 * temporary file that never stays behind.
 */
class CliOutputTest {
    @TempDir Path dir;
    Path input;
    byte[] inputBytes;

    @BeforeEach
    void writeInput() throws IOException {
        input = dir.resolve("x.npy");
        try (Arena arena = Arena.ofShared()) {
            Tensor x = Tensor.allocate(arena, 1, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(1);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 255 - 120));
            Npy.write(input, x);
        }
        inputBytes = Files.readAllBytes(input);
    }

    private Cli.Result forward(String... extra) {
        String[] base = {"forward", "--input", input.toString(), "--device", "dnnl:1", "--seed", "1"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return Cli.run(all);
    }

    @Test
    void badOutputPathsAreRefusedBeforeTheWork() throws IOException {
        forward("--output", dir.resolve("missing/y.npy").toString()).failsWith(2, "--output", "missing", "does not exist");
        Path sub = Files.createDirectory(dir.resolve("y.npy"));
        forward("--output", sub.toString()).failsWith(2, "--output", "is a directory");
        // /sys refuses new files even to root (permission bits alone would not stop root)
        forward("--output", "/sys/alexnet-y.npy").failsWith(2, "--output", "cannot write in /sys");
        forward("--output", input.toString()).failsWith(2, "is the --input file");
        forward("--output", dir.resolve(".").resolve("x.npy").toString()).failsWith(2, "is the --input file");
        forward("--output", dir.resolve("y2.npy").toString(), "--trace", dir.resolve("nowhere/t.json").toString())
                .failsWith(2, "--trace", "nowhere", "does not exist");
        assertArrayEquals(inputBytes, Files.readAllBytes(input), "the input was touched");
        assertTrue(Files.notExists(dir.resolve("y2.npy")));
        Cli.assertNoLeftovers(dir);
    }

    @Test
    void otherCommandsCheckTheirOutputsFirst() throws IOException {
        Cli.run("export-weights", "--output", dir.resolve("missing/w.safetensors").toString())
                .failsWith(2, "--output", "does not exist");
        Cli.run("export-weights", "--output", dir.toString()).failsWith(2, "is a directory");
        Cli.run("classify", "--timing", "--trace", dir.resolve("missing/t.json").toString())
                .failsWith(2, "--trace", "does not exist");
        Cli.assertNoLeftovers(dir);
    }

    @Test
    void goodOutputsAreWrittenWholeAndReplaceOldOnes() throws IOException {
        Path y = dir.resolve("y.npy"), trace = dir.resolve("t.json");
        Files.writeString(y, "an older result");
        Cli.Result r = forward("--output", y.toString(), "--trace", trace.toString()).succeeds();
        assertTrue(r.out().contains("-> " + y), r.out());
        try (Arena arena = Arena.ofShared()) {
            Tensor logits = Npy.read(y, arena);
            assertArrayEquals(new int[] {1, AlexNetSpec.CLASSES}, logits.shape());
        }
        assertTrue(Files.readString(trace).contains("\"traceEvents\""));
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(trace)));
        Cli.assertNoLeftovers(dir);
    }

    @Test
    void aFailedWriteLeavesThePreviousFileAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("keep.bin");
        Files.writeString(target, "previous");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[4096]));
            throw new IOException("No space left on device"); // what a full disk reports mid-write
        }));
        assertTrue(e.getMessage().contains("keep.bin") && e.getMessage().contains("No space left on device"), e.getMessage());
        assertEquals("previous", Files.readString(target));
        Cli.assertNoLeftovers(dir);
        // a writer that fails with a runtime exception cleans up too
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, ch -> { throw new IllegalStateException("bug"); }));
        assertEquals("previous", Files.readString(target));
        Cli.assertNoLeftovers(dir);
        // and a write into a directory that vanished is a one-line IOException naming the file
        IOException gone = assertThrows(IOException.class, () -> AtomicFiles.write(dir.resolve("gone/f.bin"), ch -> { }));
        assertTrue(gone.getMessage().startsWith(dir.resolve("gone/f.bin") + ": cannot write"), gone.getMessage());
    }

    @Test
    void cudaWithoutAGpuIsOneLineFromTheCommandLine() {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.alexnet.nativ.cuda.Cuda.available(), "a GPU is present");
        Cli.run("forward", "--input", input.toString(), "--output", dir.resolve("y.npy").toString(), "--device", "cuda:0")
                .failsWith(2, "no CUDA");
    }
}
