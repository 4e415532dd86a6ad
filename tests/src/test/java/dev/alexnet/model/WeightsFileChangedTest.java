package dev.alexnet.model;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Loaded weights belong to the program: truncating and scribbling over the file after
 * {@link AlexNetWeights#load} changes nothing, on the Java kernels and in oneDNN's native weight reorder
 * (which, reading a shrunk mapping, used to kill the JVM with SIGBUS). The logits are compared bitwise
 * with those of the same weights kept in memory: each device is deterministic at a fixed thread count.
 */
class WeightsFileChangedTest {
    @TempDir Path dir;

    @Test
    void truncatingOrRewritingTheFileAfterLoadChangesNothing() throws IOException {
        Path file = dir.resolve("w.safetensors");
        try (Arena arena = Arena.ofShared(); AlexNetWeights original = AlexNetWeights.paperInit(11)) {
            original.save(file, Map.of());
            Tensor x = Tensor.allocate(arena, 1, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(5);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 255 - 120));
            try (AlexNetWeights loaded = AlexNetWeights.load(file)) {
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(1 << 20);
                    byte[] junk = new byte[1 << 20];
                    Arrays.fill(junk, (byte) 0x7f); // NaN bit patterns wherever a float was
                    f.seek(0);
                    f.write(junk);
                }
                for (String device : new String[] {"dnnl:1", "java:1"}) {
                    float[] expected = logits(original, device, x, arena);
                    float[] got = logits(loaded, device, x, arena);
                    assertFalse(Float.isNaN(got[0]), device);
                    assertArrayEquals(expected, got, device + ": logits after the file changed");
                }
            }
        }
    }

    private static float[] logits(AlexNetWeights w, String device, Tensor x, Arena arena) {
        Tensor y = Tensor.allocate(arena, 1, AlexNetSpec.CLASSES);
        try (Network n = Networks.open(AlexNetSpec.PAPER, w, device, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            n.forward(x.data(), y.data(), 1);
        }
        return y.toArray();
    }
}
