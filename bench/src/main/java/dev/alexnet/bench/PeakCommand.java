package dev.alexnet.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code alexnet peak}: this machine's FMA throughput and memory bandwidth measured from Java, the
 * denominators of "% of peak" in {@code compare} (which measures them itself at start, or takes
 * {@code --peak-gflops}/{@code --peak-gbs}).
 */
@Command(name = "peak", mixinStandardHelpOptions = true,
        description = {"Measures FP32 FMA throughput (FloatVector, preferred species, 16 accumulators) and memory bandwidth",
                "(triad and read over large off-heap buffers) on 1..N threads: the ceilings `compare` reports %% of."})
public final class PeakCommand implements Callable<Integer> {
    @Option(names = "--threads", split = ",", description = "thread counts (default: 1 and the number of cores)")
    List<Integer> threads;

    @Option(names = "--seconds", defaultValue = "0.3", description = "time spent on each FMA figure; best trial wins (default: ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--buffer-mb", defaultValue = "64", description = "size of each of the three bandwidth buffers, MiB; keep it far above the last-level cache (default: ${DEFAULT-VALUE})")
    long bufferMb;

    @Override
    public Integer call() {
        if (threads == null || threads.isEmpty()) {
            int cores = Runtime.getRuntime().availableProcessors();
            threads = cores > 1 ? List.of(1, cores) : List.of(1);
        }
        for (int t : threads) if (t < 1) throw new IllegalArgumentException("--threads must be positive, got " + t);
        if (!(seconds > 0)) throw new IllegalArgumentException("--seconds must be positive, got " + seconds);
        if (bufferMb < 1) throw new IllegalArgumentException("--buffer-mb must be at least 1, got " + bufferMb);
        System.out.println("CPU: " + Machine.cpuinfo("model name") + ", " + Runtime.getRuntime().availableProcessors()
                + " logical CPUs, load " + Machine.loadavg());
        Peak.Result r = Peak.measure(threads, seconds, bufferMb << 20);
        System.out.println("FloatVector.SPECIES_PREFERRED: " + r.vectorBits() + " bits; 16 FMA accumulators; buffers 3 x " + bufferMb + " MiB");
        System.out.printf("%-8s %14s %12s %12s%n", "threads", "FMA GFLOP/s", "triad GB/s", "read GB/s");
        for (Peak.Figures f : r.figures()) {
            System.out.printf("%-8d %14.1f %12.1f %12.1f%n", f.threads(), f.fmaGflops(), f.triadGbs(), f.readGbs());
        }
        System.out.println("(best of several trials: ceilings. triad counts 12 bytes per element, write-allocate not counted.)");
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new PeakCommand()).execute(args));
    }
}
