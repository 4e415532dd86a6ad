package dev.alexnet.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Wall-clock timing of a synchronous action: a time-boxed warm-up, then timed repetitions until a time
 * budget is spent and a minimum count is reached. The warm-up ends when the last {@link Budget#steadyWindow}
 * runs agree within {@link Budget#steadyTolerance}, their median is within that tolerance of the fastest
 * run seen, and no JIT compilation has finished for {@link Budget#warmupMinNanos} (nor has the warm-up
 * been shorter); or when its time is up. Why all three: runs in the interpreter agree with each other, and
 * so do runs of an on-stack-replacement compile, which for the tile kernels is 10-15x slower than the
 * method's normal compile that C2 finishes later (three 150 ms runs of conv1 once ended a 1 s warm-up as
 * "steady", timed at 70x its compiled speed; with only the first two conditions, OSR code was timed). Reports
 * order statistics, never a mean (a single slow run from a JIT or a neighbour's process would drag it).
 *
 * <p>Not JMH: no forking, no blackholes. The action writes its result to memory the caller reads
 * afterwards, so nothing can be optimised away; what this loses against JMH is isolation from the
 * JIT state of earlier cases in the same JVM, which is why {@code compare} records whether each case
 * reached a steady state and how wide its spread was.
 */
public final class Timing {
    private Timing() {}

    /**
     * @param warmupMinNanos  warm up at least this long, and until no JIT compilation has ended for this long
     * @param warmupMaxNanos  stop warming up after this long even if not steady
     * @param warmupMinReps   at least this many warm-up runs (0 allowed: tests)
     * @param steadyWindow    runs that must agree to call the warm-up steady
     * @param steadyTolerance (max - min) / median of that window
     * @param minReps         timed runs wanted at least ...
     * @param targetNanos     ... and timed runs until this much time is spent
     * @param hardNanos       stop timing after this long even below minReps (the row then says so)
     * @param maxReps         never more timed runs than this
     */
    public record Budget(long warmupMinNanos, long warmupMaxNanos, int warmupMinReps, int steadyWindow, double steadyTolerance,
                         int minReps, long targetNanos, long hardNanos, int maxReps) {
        public Budget {
            if (minReps < 1 || maxReps < minReps) throw new IllegalArgumentException("need 1 <= minReps <= maxReps");
            if (steadyWindow < 2) throw new IllegalArgumentException("steady window must be >= 2");
            if (warmupMinNanos > warmupMaxNanos) throw new IllegalArgumentException("minimum warm-up longer than the maximum");
        }

        /** What {@code compare} uses by default: 1-5 s of warm-up, then 1 s (at least 5 runs) timed. */
        public static Budget defaults() {
            return new Budget(1_000_000_000L, 5_000_000_000L, 2, 3, 0.10, 5, 1_000_000_000L, 6_000_000_000L, 10_000);
        }

        /** One untimed-warm-up-free run: the oracle's own run, or a unit test. */
        public static Budget single() {
            return new Budget(0, 0, 0, 3, 0.10, 1, 0, Long.MAX_VALUE, 1);
        }
    }

    /** Timed samples (nanoseconds, sorted) plus what the warm-up did. */
    public record Result(int warmupReps, long warmupNanos, boolean steady, long[] sorted, boolean drift) {
        public int reps() { return sorted.length; }
        public double medianMs() { return quantile(0.5) / 1e6; }
        public double minMs() { return sorted[0] / 1e6; }
        public double maxMs() { return sorted[sorted.length - 1] / 1e6; }
        public double p25Ms() { return quantile(0.25) / 1e6; }
        public double p75Ms() { return quantile(0.75) / 1e6; }
        /** Interquartile range over the median, in percent. */
        public double iqrPercent() { return 100 * (quantile(0.75) - quantile(0.25)) / quantile(0.5); }

        /** Linear interpolation between order statistics. */
        public double quantile(double q) {
            if (sorted.length == 1) return sorted[0];
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    public static Result measure(Runnable action, Budget b) {
        // Warm-up: until the last `steadyWindow` runs agree, or the warm-up time is spent.
        long[] recent = new long[b.steadyWindow()];
        int wreps = 0;
        boolean steady = false;
        long best = Long.MAX_VALUE;
        long w0 = System.nanoTime(), quietSince = w0, jit = jitMillis();
        while (true) {
            long now = System.nanoTime(), spent = now - w0;
            if (wreps >= b.warmupMinReps() && ((steady && now - quietSince >= b.warmupMinNanos()) || spent >= b.warmupMaxNanos())) break;
            long t0 = System.nanoTime();
            action.run();
            long dt = System.nanoTime() - t0;
            long jitNow = jitMillis();
            if (jitNow != jit) { // a compilation finished: the code just timed may be replaced
                jit = jitNow;
                quietSince = System.nanoTime();
            }
            best = Math.min(best, dt);
            recent[wreps % recent.length] = dt;
            wreps++;
            if (wreps >= recent.length) steady = agree(recent, best, b.steadyTolerance());
        }
        long warmupNanos = System.nanoTime() - w0;

        long[] samples = new long[Math.min(b.maxReps(), 1024)];
        int n = 0;
        long m0 = System.nanoTime();
        while (n < b.maxReps()) {
            long spent = System.nanoTime() - m0;
            if (n >= b.minReps() && spent >= b.targetNanos()) break;
            if (n >= 1 && spent >= b.hardNanos()) break;
            long t0 = System.nanoTime();
            action.run();
            long dt = System.nanoTime() - t0;
            if (n == samples.length) samples = Arrays.copyOf(samples, samples.length * 2);
            samples[n++] = dt;
        }
        long[] timed = Arrays.copyOf(samples, n);
        // Drift: the two halves of the timed run disagree by more than 20% (the JIT or a neighbour changed things).
        boolean drift = false;
        if (n >= 6) {
            long[] a = Arrays.copyOfRange(timed, 0, n / 2), c = Arrays.copyOfRange(timed, n / 2, n);
            Arrays.sort(a);
            Arrays.sort(c);
            double ma = a[a.length / 2], mc = c[c.length / 2];
            drift = Math.abs(ma - mc) / Math.min(ma, mc) > 0.20;
        }
        Arrays.sort(timed);
        return new Result(wreps, warmupNanos, steady, timed, drift);
    }

    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    /** The JIT's total compilation time so far (it moves when a compilation ends); 0 where not monitored. */
    private static long jitMillis() {
        return JIT != null && JIT.isCompilationTimeMonitoringSupported() ? JIT.getTotalCompilationTime() : 0;
    }

    /** The window's runs agree within tol of their median, and that median is within tol of the best run. */
    static boolean agree(long[] window, long best, double tol) {
        long[] s = window.clone();
        Arrays.sort(s);
        double median = s[s.length / 2];
        return (s[s.length - 1] - s[0]) / median <= tol && median <= (1 + tol) * best;
    }
}
