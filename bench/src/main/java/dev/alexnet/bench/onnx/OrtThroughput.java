package dev.alexnet.bench.onnx;

import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Whole-network throughput of {@code ort:N} (conv1..fc8, paper weights, seed 2012): for each thread
 * count and batch, a warm-up until three consecutive runs agree within 10% (at most 3 s), then timed
 * runs for about {@code seconds} (at least 5), reported as median images/s with the quartiles.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED [-Dalexnet.ort.lrn=op|decomposed] [-Dalexnet.ort.profile=/tmp/ort] \
 *     -cp 'bench/target/classes:bench/target/lib/*' \
 *     dev.alexnet.bench.onnx.OrtThroughput [threads,...=1,2] [batches,...=1,32] [seconds=5]</pre>
 */
public final class OrtThroughput {
    private OrtThroughput() {}

    public static void main(String[] args) {
        int[] threads = args.length > 0 ? ints(args[0]) : new int[] {1, 2};
        int[] batches = args.length > 1 ? ints(args[1]) : new int[] {1, 32};
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        try (AlexNetWeights w = AlexNetWeights.paperInit(2012); Arena arena = Arena.ofShared()) {
            List<Layer> layers = w.layers(AlexNetSpec.PAPER);
            System.out.printf("%-6s %5s %6s %10s %10s %10s %9s%n", "device", "batch", "reps", "img/s p50", "img/s p25", "img/s p75", "ms p50");
            for (int t : threads) {
                try (OnnxRuntimeDevice dev = new OnnxRuntimeDevice(t)) {
                    for (int b : batches) {
                        Program p = dev.compile(layers, b);
                        MemorySegment in = arena.allocate(p.inputFloats() * Float.BYTES, 64);
                        MemorySegment out = arena.allocate(p.outputFloats() * Float.BYTES, 64);
                        SplittableRandom rng = new SplittableRandom(7);
                        for (long i = 0; i < p.inputFloats(); i++) in.setAtIndex(JAVA_FLOAT, i, (float) rng.nextGaussian());
                        long[] last = new long[3];
                        long warmStart = System.nanoTime();
                        for (int i = 0; ; i++) {
                            long t0 = System.nanoTime();
                            p.run(in, out);
                            last[i % 3] = System.nanoTime() - t0;
                            if (i >= 2) {
                                long mx = Arrays.stream(last).max().getAsLong(), mn = Arrays.stream(last).min().getAsLong();
                                if (mx - mn <= 0.10 * mn || System.nanoTime() - warmStart > 3_000_000_000L) break;
                            }
                        }
                        long[] samples = new long[100_000];
                        int n = 0;
                        long start = System.nanoTime();
                        while (n < samples.length && (n < 5 || System.nanoTime() - start < seconds * 1e9)) {
                            long t0 = System.nanoTime();
                            p.run(in, out);
                            samples[n++] = System.nanoTime() - t0;
                        }
                        long[] s = Arrays.copyOf(samples, n);
                        Arrays.sort(s);
                        double p50 = q(s, 0.5), p25 = q(s, 0.25), p75 = q(s, 0.75);
                        System.out.printf("%-6s %5d %6d %10.1f %10.1f %10.1f %9.2f  lrn=%s%n", dev.name(), b, n,
                                b / (p50 / 1e9), b / (p75 / 1e9), b / (p25 / 1e9), p50 / 1e6, dev.lrnMode());
                        p.close();
                    }
                    System.out.println("(ONNX Runtime " + dev.version() + ")");
                }
            }
        }
    }

    private static double q(long[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
    }
}
