package dev.alexnet.bench.kernels;

import dev.alexnet.bench.Peak;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.vec.LinearVec;
import dev.alexnet.kernels.vec.ThreadTeam;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The fully connected layers at small batch against this machine's read bandwidth, measured in the same
 * JVM, on the same threads, rep by rep next to them: a batch-1 fc6 reads its 151 MB of weights once, so
 * its floor is the time to stream them. Each rep times a read-only sum over a buffer of the same size as
 * the packed weights (as {@code Peak}'s read figure: the threads sum contiguous slices), then one forward
 * pass of the layer; the figure is the median of the per-rep ratios (on a shared host the load changes
 * between reps, and a ratio of two runs a few milliseconds apart is what survives it), with the median
 * GB/s of each.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
 *      -cp ... dev.alexnet.bench.kernels.GemvBandwidth [batches=1,2,4,8] [threads=1,2] [reps=21] [layers=fc6,fc7,fc8]
 * </pre>
 */
public final class GemvBandwidth {
    private GemvBandwidth() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    public static void main(String[] args) {
        int[] batches = {1, 2, 4, 8}, threads = {1, 2};
        int reps = 21;
        String layers = "fc6,fc7,fc8";
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "batches" -> batches = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "threads" -> threads = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "reps" -> reps = Integer.parseInt(kv[1]);
                case "layers" -> layers = kv[1];
                default -> throw new IllegalArgumentException("unknown argument " + a + ": use batches=, threads=, reps=, layers=");
            }
        }
        for (int t : threads) {
            try (ThreadTeam team = new ThreadTeam(t)) {
                for (int n : batches) {
                    for (int[] l : new int[][] {{6, 9216, 4096}, {7, 4096, 4096}, {8, 4096, 1000}}) {
                        if (Arrays.asList(layers.split(",")).contains("fc" + l[0])) layer(team, "fc" + l[0], new LinearShape(n, l[1], l[2]), reps);
                    }
                }
            }
        }
    }

    /** One layer (ReLU, bias) on the team, each rep next to a read-only stream of as many bytes. */
    static void layer(ThreadTeam team, String name, LinearShape s, int reps) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate((long) s.n() * s.in() * 4, 64), y = arena.allocate((long) s.n() * s.out() * 4, 64);
            MemorySegment w = arena.allocate((long) s.in() * s.out() * 4, 64), b = arena.allocate(s.out() * 4L, 64);
            KernelGflops.fill(x, 3, 2f);
            KernelGflops.fill(w, 4, 0.01f);
            LinearVec k = new LinearVec(s, w, b, true, null, arena);
            long bytes = k.weightBytes();
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1);
            long floats = bytes / Float.BYTES / L * L;
            ThreadTeam.Task layer = (m, ms) -> k.forward(y, x, m, ms);
            ThreadTeam.Task stream = (m, ms) -> Peak.sum(buf, floats * m / ms / L * L, m == ms - 1 ? floats : floats * (m + 1) / ms / L * L);
            long end = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; i < 20 || System.nanoTime() < end; i++) { // C2 compiles both before the timed reps
                team.run(layer);
                team.run(stream);
            }
            double[] tl = new double[reps], ts = new double[reps], ratio = new double[reps];
            for (int i = 0; i < reps; i++) {
                ts[i] = seconds(team, stream);
                tl[i] = seconds(team, layer);
                ratio[i] = ts[i] / tl[i];
            }
            Arrays.sort(tl);
            Arrays.sort(ts);
            Arrays.sort(ratio);
            System.out.printf("%s batch %d threads %d: weights %.1f MB at %.1f GB/s, read stream %.1f GB/s: %.0f%% of read (median of %d rep ratios; quartiles %.0f-%.0f%%)%n",
                    name, s.n(), team.size(), bytes / 1e6, bytes / tl[reps / 2] / 1e9, floats * 4.0 / ts[reps / 2] / 1e9,
                    100 * ratio[reps / 2], reps, 100 * ratio[reps / 4], 100 * ratio[3 * reps / 4]);
        }
    }

    private static double seconds(ThreadTeam team, ThreadTeam.Task task) {
        long t0 = System.nanoTime();
        team.run(task);
        return (System.nanoTime() - t0) / 1e9;
    }
}
