package dev.alexnet.safety;

import dev.alexnet.device.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.nativ.dnnl.DnnlHandle;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code make soak} (not part of {@code make test}): 10,000 passes at batch 1 and 500 at batch 32 per
 * placement, times {@code alexnet.soak.scale} (SOAK_SCALE, default 1). After a tenth of the passes (the JIT
 * and the allocator have settled) it takes a baseline; at the end the resident set size is within 1% of it,
 * the JDK's count of live native bytes (every {@code Arena} allocation; BufferPoolMXBean "direct") and
 * oneDNN's live handles are unchanged, and the logits are bitwise those of the first pass.
 */
@Tag("soak")
class SoakTest {
    @ParameterizedTest
    @ValueSource(strings = {"java:2", "dnnl:2", "java:1,java:1"})
    void memoryStaysFlatAndOutputsStayBitwiseTheSame(String placement) throws IOException {
        double scale = Double.parseDouble(System.getProperty("alexnet.soak.scale", "1"));
        try (AlexNetWeights w = AlexNetWeights.paperInit(9);
             Network n = Networks.open(AlexNetSpec.PAPER, w, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            soak(n, placement, 1, Math.max(20, (int) Math.round(10_000 * scale)));
            soak(n, placement, 32, Math.max(10, (int) Math.round(500 * scale)));
        }
    }

    private static void soak(Network n, String placement, int batch, int passes) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            Tensor x = Tensor.allocate(arena, batch, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(batch);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 200 - 100));
            Tensor y = Tensor.allocate(arena, batch, AlexNetSpec.CLASSES);
            n.forward(x.data(), y.data(), batch);
            float[] first = y.toArray();
            int settle = Math.max(2, passes / 10);
            for (int i = 1; i < settle; i++) n.forward(x.data(), y.data(), batch);
            System.gc();
            long rss0 = rssBytes(), native0 = directBytes(), handles0 = DnnlHandle.liveHandles();
            long t0 = System.nanoTime();
            for (int i = settle; i < passes; i++) n.forward(x.data(), y.data(), batch);
            double ms = (System.nanoTime() - t0) / 1e6 / (passes - settle);
            System.gc();
            long rss1 = rssBytes(), native1 = directBytes(), handles1 = DnnlHandle.liveHandles();
            System.out.printf("[soak] %s batch %d: %d passes (%.1f ms each); RSS %.1f -> %.1f MB (%+.3f%%); live native bytes %d -> %d;"
                            + " oneDNN handles %d -> %d%n", placement, batch, passes, ms, rss0 / 1e6, rss1 / 1e6,
                    100.0 * (rss1 - rss0) / rss0, native0, native1, handles0, handles1);
            assertArrayEquals(first, y.toArray(), placement + " batch " + batch + ": last pass vs first, bitwise");
            assertEquals(native0, native1, "live native bytes");
            assertEquals(handles0, handles1, "live oneDNN handles");
            assertTrue(rss1 <= rss0 * 1.01, String.format("RSS grew %.3f%% (%d -> %d bytes)", 100.0 * (rss1 - rss0) / rss0, rss0, rss1));
        }
    }

    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }

    static long directBytes() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) return b.getMemoryUsed();
        }
        return -1;
    }
}
