package dev.alexnet.safety;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.tensor.Tensor;
import dev.alexnet.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several users of the library at once: threads sharing loaded weights, JVMs sharing the native-library cache. */
class ConcurrencyTest {
    @TempDir Path dir;

    /**
     * Loaded weights are read-only after load: threads each running their own network over them get, bitwise,
     * what each device gives alone (every device is deterministic at a fixed thread count).
     */
    @Test
    void threadsEachRunningTheirOwnNetworkOverOneLoadedWeightsGetTheSoloResults() throws Exception {
        String[] placements = {"java:1", "dnnl:1", "java:1"};
        try (AlexNetWeights w = AlexNetWeights.paperInit(5); Arena arena = Arena.ofShared()) {
            Tensor x = Tensor.allocate(arena, 1, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(8);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 200 - 100));
            float[] soloJava = run(w, "java:1", x, arena), soloDnnl = run(w, "dnnl:1", x, arena);
            CyclicBarrier start = new CyclicBarrier(placements.length);
            List<CompletableFuture<float[]>> runs = new ArrayList<>();
            for (String p : placements) {
                runs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                        float[] first = run(w, p, x, arena);
                        float[] second = run(w, p, x, arena);
                        assertArrayEquals(first, second, p + ": two passes in one thread");
                        return first;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, r2 -> Thread.ofPlatform().start(r2)));
            }
            for (int i = 0; i < placements.length; i++) {
                assertArrayEquals(placements[i].startsWith("java") ? soloJava : soloDnnl, runs.get(i).get(), placements[i] + " concurrently vs alone");
            }
        }
    }

    private static float[] run(AlexNetWeights w, String placement, Tensor x, Arena arena) {
        Tensor y = Tensor.allocate(arena, 1, AlexNetSpec.CLASSES);
        try (Network n = Networks.open(AlexNetSpec.PAPER, w, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            n.forward(x.data(), y.data(), 1);
        }
        return y.toArray();
    }

    /** Two JVMs that find the cache empty extract oneDNN at once: both load it, one complete copy is left, no temporary folders. */
    @Test
    void twoJvmsExtractingOneDnnIntoAnEmptyCacheAtOnceBothLoadIt() throws Exception {
        Path cache = dir.resolve("cache");
        List<String> flags = List.of("-Dalexnet.cache.dir=" + cache);
        var a = CompletableFuture.supplyAsync(() -> child(flags));
        var b = CompletableFuture.supplyAsync(() -> child(flags));
        for (ChildJvm.Result r : List.of(a.get(), b.get())) {
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("VERSION "), r.output());
        }
        try (Stream<Path> s = Files.list(cache)) {
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            assertEquals(1, names.size(), "one extracted copy, no temporary folders left: " + names);
            assertTrue(Files.isRegularFile(cache.resolve(names.getFirst()).resolve(".complete")), names.toString());
        }
    }

    private static ChildJvm.Result child(List<String> flags) {
        try {
            return ChildJvm.run(ExtractDnnlChild.class, 120, flags);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
