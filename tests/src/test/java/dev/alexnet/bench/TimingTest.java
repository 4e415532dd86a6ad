package dev.alexnet.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The timer reports what it measured: repetitions, order statistics, the warm-up it did. */
class TimingTest {
    @Test
    void sleepsAreTimedAsSleeps() {
        Timing.Budget b = new Timing.Budget(0, 50_000_000L, 2, 3, 0.5, 5, 30_000_000L, 2_000_000_000L, 100);
        Timing.Result r = Timing.measure(() -> LockSupport.parkNanos(2_000_000), b);
        assertTrue(r.reps() >= 5, "reps " + r.reps());
        assertTrue(r.warmupReps() >= 2, "warm-up reps " + r.warmupReps());
        assertTrue(r.medianMs() >= 1.9 && r.medianMs() < 50, "median " + r.medianMs());
        assertTrue(r.minMs() <= r.p25Ms() && r.p25Ms() <= r.medianMs() && r.medianMs() <= r.p75Ms() && r.p75Ms() <= r.maxMs());
    }

    /**
     * A run of slow calls that agree (the interpreter, before C2) is not steady once a faster call has
     * been seen; nor does the warm-up end before its minimum time.
     */
    @Test
    void steadyMeansAgreeingAndNearTheBest() {
        assertTrue(Timing.agree(new long[]{100, 102, 98}, 97, 0.1));
        assertFalse(Timing.agree(new long[]{100, 102, 98}, 50, 0.1), "agreeing but twice the best run");
        assertFalse(Timing.agree(new long[]{100, 130, 98}, 97, 0.1), "spread 32%");
        int[] calls = {0};
        // slow (2 ms) calls until the 6th, then fast ones: steady only after the switch, and not before 30 ms
        Timing.Budget b = new Timing.Budget(30_000_000L, 5_000_000_000L, 1, 3, 0.1, 1, 0, 1_000_000_000L, 1);
        Timing.Result r = Timing.measure(() -> spin(calls[0]++ < 6 ? 2_000_000 : 100_000), b);
        assertTrue(r.steady(), "never steady");
        assertTrue(r.warmupReps() >= 9, "warm-up stopped on agreeing slow runs after " + r.warmupReps());
        assertTrue(r.warmupNanos() >= 30_000_000L, "warm-up shorter than its minimum: " + r.warmupNanos());
        assertTrue(r.medianMs() < 1.5, "timed a slow run: " + r.medianMs() + " ms");
    }

    private static void spin(long nanos) { // exact, unlike a sleep's timer slack
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }

    @Test
    void singleBudgetRunsOnce() {
        int[] calls = {0};
        Timing.Result r = Timing.measure(() -> calls[0]++, Timing.Budget.single());
        assertEquals(1, calls[0]);
        assertEquals(1, r.reps());
        assertEquals(0, r.warmupReps());
    }

    @Test
    void hardLimitStopsSlowCases() {
        Timing.Budget b = new Timing.Budget(0, 0, 0, 3, 0.1, 50, 0, 30_000_000L, 100);
        Timing.Result r = Timing.measure(() -> LockSupport.parkNanos(20_000_000), b);
        assertTrue(r.reps() < 50 && r.reps() >= 1, "reps " + r.reps());
    }
}
