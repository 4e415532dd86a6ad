package dev.alexnet.bench.kernels;

import dev.alexnet.kernels.vec.TileLoops;

/**
 * GFLOP/s of each convolution tile loop alone ({@link TileLoops}), for n reduction steps (weights
 * n x 256 or 384 bytes: 128 steps fit L1, 2048 only L2). Each figure: the median of 5 timed batches of
 * runs (about 4 GFLOP each) after 2 s of warm-up, in one JVM.
 * <pre>
 *   java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
 *        -cp ... dev.alexnet.bench.kernels.TileLoopGflops [n=128,1152,2048]
 * </pre>
 */
public final class TileLoopGflops {
    private TileLoopGflops() {}

    public static void main(String[] args) {
        String ns = "128,1152,2048";
        for (String a : args) if (a.startsWith("n=")) ns = a.substring(2);
        for (String k : TileLoops.KERNELS) {
            for (String s : ns.split(",")) {
                int n = Integer.parseInt(s.trim());
                try (TileLoops t = new TileLoops(k, n)) {
                    long iters = Math.max(1, (long) (4e9 / t.flops()));
                    long w0 = System.nanoTime();
                    while (System.nanoTime() - w0 < 2_000_000_000L) t.run(); // C2 compiles the kernel
                    double[] timed = new double[5];
                    for (int rep = 0; rep < timed.length; rep++) {
                        long t0 = System.nanoTime();
                        for (long i = 0; i < iters; i++) t.run();
                        timed[rep] = t.flops() * iters / (System.nanoTime() - t0);
                    }
                    java.util.Arrays.sort(timed);
                    System.out.printf("%s n=%5d: %.1f GFLOP/s (median of %d)%n", k, n, timed[timed.length / 2], timed.length);
                }
            }
        }
    }
}
