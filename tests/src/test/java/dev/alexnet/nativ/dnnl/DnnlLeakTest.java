package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.LrnParams;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Repeated compile / run / close must not leak: 50 rounds of a small chain that owns every kind of
 * oneDNN object (reordered weights, blocked activations, grouped LRN views, scratchpad). Resident
 * memory after the rounds may not exceed what it was after a warm-up by more than a few MB (each
 * round allocates ~5 MB of activations and weights; a leak would add that every round).
 */
class DnnlLeakTest {
    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D+", ""));
        }
        return -1;
    }

    @Test
    void repeatedCompileRunCloseDoesNotGrow() throws IOException {
        List<LayerSpec> specs = List.of(
                new LayerSpec.Conv("conv", 16, 27, 27, 64, 5, 1, 2, 2, true),
                new LayerSpec.Lrn("lrn", 64, 27, 27, LrnParams.PAPER, 2),
                new LayerSpec.MaxPool("pool", 64, 27, 27, 3, 2, 0),
                new LayerSpec.Linear("fc", 64 * 13 * 13, 64, true),
                new LayerSpec.Linear("fc2", 64, 10, false),
                new LayerSpec.Softmax("softmax", 10));
        try (Arena arena = Arena.ofShared(); DnnlDevice dnnl = new DnnlDevice(2)) {
            List<Layer> layers = DnnlTestSupport.withParams(arena, specs, 1, 0.01f, 0.1f);
            MemorySegment in = arena.allocate(4L * 16 * 27 * 27 * 4, 64), out = arena.allocate(4L * 10 * 4, 64);
            long warm = 0, handles = DnnlHandle.liveHandles(), peakHandles = 0;
            for (int round = 0; round < 55; round++) {
                if (round == 5) { System.gc(); warm = rssKb(); }
                try (DnnlProgram p = dnnl.compile(layers, 4)) {
                    p.run(in, out);
                    p.run(in, out);
                    peakHandles = Math.max(peakHandles, DnnlHandle.liveHandles() - handles);
                }
                assertEquals(handles, DnnlHandle.liveHandles(), "every oneDNN object of round " + round + " destroyed");
            }
            System.gc();
            long after = rssKb();
            System.out.printf("RSS after warm-up %d kB, after 50 more compile/run/close rounds %d kB; %d oneDNN objects per program%n",
                    warm, after, peakHandles);
            assertTrue(peakHandles > 20, "the program should own its objects through the wrappers: " + peakHandles);
            assertEquals(0, dnnl.openPrograms());
            assertTrue(after - warm < 8 * 1024, "resident memory grew by " + (after - warm) + " kB over 50 rounds");
        }
    }
}
