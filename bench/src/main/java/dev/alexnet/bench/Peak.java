package dev.alexnet.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.function.IntToDoubleFunction;

/**
 * This machine's measured ceilings, from Java: the denominators of "% of peak" in {@code compare}.
 *
 * <ul>
 *   <li>FMA throughput: {@code FloatVector} of {@code SPECIES_PREFERRED} (512-bit on AVX-512), 16
 *       independent accumulators (dependent FMA latency is ~4 cycles and two FMA pipes need 8 in
 *       flight: 16 leaves margin), on 1..N platform threads started together. Best of several trials:
 *       a ceiling, not a typical figure.</li>
 *   <li>Memory bandwidth: STREAM-style triad {@code a = b + s*c} (counted as 3 x 4 bytes per element:
 *       two reads, one write, write-allocate not counted) and a read-only sum, over off-heap buffers
 *       far larger than the last-level cache, split in contiguous chunks across threads.</li>
 * </ul>
 * Everything is warmed up on small sizes first, so C2 has compiled the kernels before the timed
 * calls (interpreted vector code is thousands of times slower and would poison a ceiling).
 */
public final class Peak {
    private Peak() {}

    // Species and accumulators must be JIT constants and locals (docs/DESIGN.md, "Rules for Vector API kernels"): static final, no arrays.
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Ceilings for one thread count. */
    public record Figures(int threads, double fmaGflops, double triadGbs, double readGbs) {}

    /** Figures for each thread count, plus the vector width used. */
    public record Result(int vectorBits, List<Figures> figures, String source) {
        public Figures at(int threads) {
            for (Figures f : figures) if (f.threads == threads) return f;
            // Not measured at this count: scale the 1-thread FMA figure (a ceiling anyway), keep the widest bandwidth.
            Figures one = figures.getFirst();
            return new Figures(threads, one.fmaGflops * threads / one.threads, figures.getLast().triadGbs, figures.getLast().readGbs);
        }
    }

    /** Measures FMA peak and bandwidth at each thread count; about 1-2 s per count. */
    public static Result measure(List<Integer> threadCounts, double secondsPerFigure, long bufferBytes) {
        warmFma();
        List<Figures> out = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            long n = bufferBytes / Float.BYTES / L * L;
            MemorySegment a = arena.allocate(n * Float.BYTES, 64), b = arena.allocate(n * Float.BYTES, 64),
                    c = arena.allocate(n * Float.BYTES, 64);
            b.fill((byte) 1);
            c.fill((byte) 2);
            a.fill((byte) 0);
            warmStream(a, b, c);
            for (int t : threadCounts) {
                double fma = fmaGflops(t, secondsPerFigure);
                double triad = best(3, k -> parallelGbs(t, n, (lo, hi) -> triad(a, b, c, lo, hi), 3L * Float.BYTES));
                double read = best(3, k -> parallelGbs(t, n, (lo, hi) -> sum(b, lo, hi), Float.BYTES));
                out.add(new Figures(t, fma, triad, read));
            }
        }
        return new Result(S.vectorBitSize(), List.copyOf(out), "measured");
    }

    /** Figures given on the command line ({@code --peak-gflops} per core, {@code --peak-gbs}). */
    public static Result given(List<Integer> threadCounts, double gflopsPerCore, double gbs) {
        List<Figures> f = new ArrayList<>();
        for (int t : threadCounts) f.add(new Figures(t, gflopsPerCore * t, gbs, gbs));
        return new Result(S.vectorBitSize(), List.copyOf(f), "given");
    }

    // ---- FMA -------------------------------------------------------------------------------------

    /** Results go here so that C2 cannot drop the loops as dead code. */
    static volatile float fmaSink;

    private static void warmFma() {
        long end = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < end) fmaSink = fmaLoop(2_000, 1f);
    }

    private static double fmaGflops(int threads, double seconds) {
        // One call is ~10 GFLOP (~45 ms at 230 GFLOP/s per core); the best of several trials wins.
        int iters = 20_000_000;
        long flopsPerCall = (long) iters * 16 * 2 * L;
        int trials = Math.max(3, (int) (seconds / 0.05));
        return best(trials, k -> flopsPerCall * threads / parallelRun(threads, () -> fmaSink = fmaLoop(iters, 1f + k)) / 1e9);
    }

    /** 16 independent accumulators, a = a * x + y; x ~ 1 keeps the values finite. Returns a checksum. */
    static float fmaLoop(int iters, float seed) {
        FloatVector x = FloatVector.broadcast(S, 0.999999f), y = FloatVector.broadcast(S, 1e-6f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = FloatVector.broadcast(S, seed + 1),
                a2 = FloatVector.broadcast(S, seed + 2), a3 = FloatVector.broadcast(S, seed + 3),
                a4 = FloatVector.broadcast(S, seed + 4), a5 = FloatVector.broadcast(S, seed + 5),
                a6 = FloatVector.broadcast(S, seed + 6), a7 = FloatVector.broadcast(S, seed + 7),
                a8 = FloatVector.broadcast(S, seed + 8), a9 = FloatVector.broadcast(S, seed + 9),
                a10 = FloatVector.broadcast(S, seed + 10), a11 = FloatVector.broadcast(S, seed + 11),
                a12 = FloatVector.broadcast(S, seed + 12), a13 = FloatVector.broadcast(S, seed + 13),
                a14 = FloatVector.broadcast(S, seed + 14), a15 = FloatVector.broadcast(S, seed + 15);
        for (int i = 0; i < iters; i++) {
            a0 = a0.fma(x, y); a1 = a1.fma(x, y); a2 = a2.fma(x, y); a3 = a3.fma(x, y);
            a4 = a4.fma(x, y); a5 = a5.fma(x, y); a6 = a6.fma(x, y); a7 = a7.fma(x, y);
            a8 = a8.fma(x, y); a9 = a9.fma(x, y); a10 = a10.fma(x, y); a11 = a11.fma(x, y);
            a12 = a12.fma(x, y); a13 = a13.fma(x, y); a14 = a14.fma(x, y); a15 = a15.fma(x, y);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7)
                .add(a8).add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15);
        return s.reduceLanes(VectorOperators.ADD);
    }

    // ---- memory ----------------------------------------------------------------------------------

    private interface Chunk { void run(long lo, long hi); }

    private static void warmStream(MemorySegment a, MemorySegment b, MemorySegment c) {
        long end = System.nanoTime() + 300_000_000L;
        long small = 16 * 1024;
        while (System.nanoTime() < end) {
            triad(a, b, c, 0, small);
            sum(b, 0, small);
        }
    }

    static void triad(MemorySegment a, MemorySegment b, MemorySegment c, long lo, long hi) {
        FloatVector s = FloatVector.broadcast(S, 3f);
        ByteOrder o = ByteOrder.nativeOrder();
        for (long i = lo; i < hi; i += L) {
            long off = i * Float.BYTES;
            FloatVector.fromMemorySegment(S, c, off, o).fma(s, FloatVector.fromMemorySegment(S, b, off, o))
                    .intoMemorySegment(a, off, o);
        }
    }

    static volatile float sumSink;

    /** The read-only stream: floats [lo, hi) summed into 4 independent accumulators (also GemvBandwidth's yardstick). */
    public static void sum(MemorySegment b, long lo, long hi) {
        ByteOrder o = ByteOrder.nativeOrder();
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        long i = lo;
        for (; i + 4L * L <= hi; i += 4L * L) {
            long off = i * Float.BYTES;
            s0 = s0.add(FloatVector.fromMemorySegment(S, b, off, o));
            s1 = s1.add(FloatVector.fromMemorySegment(S, b, off + (long) L * Float.BYTES, o));
            s2 = s2.add(FloatVector.fromMemorySegment(S, b, off + 2L * L * Float.BYTES, o));
            s3 = s3.add(FloatVector.fromMemorySegment(S, b, off + 3L * L * Float.BYTES, o));
        }
        for (; i < hi; i += L) s0 = s0.add(FloatVector.fromMemorySegment(S, b, i * Float.BYTES, o));
        sumSink = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }

    /** Sweeps per bandwidth trial: one sweep of 64 MiB is only a few ms, too short to time alone. */
    private static final int SWEEPS = 4;

    /** Splits [0, n) floats into {@code threads} lane-aligned chunks, sweeps them together, returns GB/s. */
    private static double parallelGbs(int threads, long n, Chunk chunk, long bytesPerFloat) {
        long per = n / threads / L * L;
        double wall = parallelRun(threads, t -> {
            for (int k = 0; k < SWEEPS; k++) chunk.run(t * per, t == threads - 1 ? n : (t + 1) * per);
        });
        return SWEEPS * n * bytesPerFloat / wall / 1e9;
    }

    // ---- running on several threads -----------------------------------------------------------

    private static double parallelRun(int threads, Runnable body) {
        return parallelRun(threads, t -> body.run());
    }

    private interface PerThread { void run(int t); }

    /**
     * Runs {@code body} on {@code threads} platform threads released together; returns the wall
     * seconds from the first thread's start to the last one's end, as the threads themselves saw them
     * (the main thread's own wake-up latency, milliseconds on a loaded machine, must not count).
     */
    private static double parallelRun(int threads, PerThread body) {
        CyclicBarrier start = new CyclicBarrier(threads);
        long[] begin = new long[threads], finish = new long[threads];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().name("peak-" + t).start(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                begin[id] = System.nanoTime();
                body.run(id);
                finish[id] = System.nanoTime();
            }));
        }
        try {
            for (Thread th : ts) th.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("peak measurement interrupted", e);
        }
        long b = Long.MAX_VALUE, f = Long.MIN_VALUE;
        for (int t = 0; t < threads; t++) {
            b = Math.min(b, begin[t]);
            f = Math.max(f, finish[t]);
        }
        return (f - b) / 1e9;
    }

    private static double best(int trials, IntToDoubleFunction f) {
        double best = 0;
        for (int k = 0; k < trials; k++) best = Math.max(best, f.applyAsDouble(k));
        return best;
    }
}
