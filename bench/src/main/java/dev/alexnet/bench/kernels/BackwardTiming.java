package dev.alexnet.bench.kernels;

import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;
import dev.alexnet.kernels.vec.DropoutVec;
import dev.alexnet.kernels.vec.LrnBackwardVec;
import dev.alexnet.kernels.vec.NchwPoolLrn;
import dev.alexnet.kernels.vec.PoolBackwardVec;
import dev.alexnet.kernels.vec.ReluVec;
import dev.alexnet.kernels.vec.SoftmaxCrossEntropyVec;
import dev.alexnet.kernels.vec.SoftmaxVec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Backward vector kernels against their forward counterparts on AlexNet's layers, one thread, NCHW: the
 * median of {@code reps} timed runs after a warm-up, in milliseconds.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp kernels/target/classes:bench/target/classes \
 *      dev.alexnet.bench.kernels.BackwardTiming [batch=32] [reps=9] [only=NAME-PREFIX]
 * </pre>
 */
public final class BackwardTiming {
    private BackwardTiming() {}

    private static int reps = 9;
    private static String only = "";

    public static void main(String[] args) {
        int batch = 32;
        for (String a : args) {
            if (a.startsWith("batch=")) batch = Integer.parseInt(a.substring(6));
            else if (a.startsWith("reps=")) reps = Integer.parseInt(a.substring(5));
            else if (a.startsWith("only=")) only = a.substring(5);
            else throw new IllegalArgumentException("unknown argument " + a);
        }
        SplittableRandom rnd = new SplittableRandom(1);
        System.out.printf("batch %d, one thread, median of %d (ms)%n%-28s %9s %9s %7s%n", batch, reps, "layer", "forward", "backward", "ratio");
        try (Arena arena = Arena.ofShared()) {
            for (int[] d : new int[][] {{96, 55}, {256, 27}, {256, 13}}) {
                PoolShape s = new PoolShape(batch, d[0], d[1], d[1], 3, 2, 0);
                MemorySegment in = random(arena, rnd, s.inputSize()), out = random(arena, rnd, s.outputSize()), gi = random(arena, rnd, s.inputSize());
                MemorySegment[] rows = NchwPoolLrn.poolScratch(arena, s, 1);
                row("maxpool 3x3/2 " + d[0] + "x" + d[1] + "x" + d[1],
                        () -> NchwPoolLrn.pool(out, in, s, rows, 0, 1), () -> PoolBackwardVec.backward(gi, out, in, s, 0, 1));
            }
            for (int[] d : new int[][] {{96, 55}, {256, 27}}) {
                LrnShape s = new LrnShape(batch, d[0], d[1], d[1], LrnParams.PAPER, 2);
                MemorySegment in = random(arena, rnd, s.size()), out = random(arena, rnd, s.size()), gi = random(arena, rnd, s.size());
                row("lrn n=5 " + d[0] + "x" + d[1] + "x" + d[1] + " 2 groups",
                        () -> NchwPoolLrn.lrn(out, in, s, 0, 1), () -> LrnBackwardVec.backward(gi, out, in, s, 0, 1));
            }
            {
                long n = (long) batch * 96 * 55 * 55;
                MemorySegment in = random(arena, rnd, n), out = random(arena, rnd, n), gi = random(arena, rnd, n);
                row("relu 96x55x55", () -> ReluVec.forward(out, in, 0, n), () -> ReluVec.backward(gi, out, in, 0, n));
            }
            {
                DropoutMask mask = new DropoutMask(0.5f, DropoutMask.key(1, "drop6"), 4096, 0);
                long n = (long) batch * 4096;
                MemorySegment in = random(arena, rnd, n), out = random(arena, rnd, n), gi = random(arena, rnd, n);
                int b = batch;
                row("dropout 4096", () -> DropoutVec.forward(out, in, b, 4096, mask, 0, 1), () -> DropoutVec.backward(gi, out, b, 4096, mask, 0, 1));
            }
            {
                long n = (long) batch * 1000;
                MemorySegment z = random(arena, rnd, n), p = random(arena, rnd, n), g = random(arena, rnd, n), labels = arena.allocate(4L * batch, 64);
                for (int r = 0; r < batch; r++) labels.setAtIndex(JAVA_INT, r, rnd.nextInt(1000));
                int b = batch;
                row("softmax / softmax-CE 1000", () -> SoftmaxVec.forward(p, z, 1000, 0, b),
                        () -> SoftmaxCrossEntropyVec.lossSum(z, labels, g, 1000, 0, b, 1f / b));
            }
        }
    }

    private static MemorySegment random(Arena arena, SplittableRandom rnd, long n) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextDouble(-2, 2));
        return s;
    }

    private static void row(String name, Runnable forward, Runnable backward) {
        if (!name.startsWith(only)) return;
        double f = median(forward), b = median(backward);
        System.out.printf("%-28s %9.3f %9.3f %7.2f%n", name, f, b, b / f);
    }

    private static double median(Runnable r) {
        // warm-up: C2 compiles the kernels (on a loaded machine some take seconds to leave C1)
        long until = System.nanoTime() + 6_000_000_000L;
        for (int i = 0; i < 20 || System.nanoTime() < until; i++) r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }
}
