package dev.alexnet.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The timer reports what it measured: repetitions, order statistics, the warm-up it did. */
class TimingTest {
    @Test
    void sleepsAreTimedAsSleeps() {
        Timing.Budget b = new Timing.Budget(50_000_000L, 2, 3, 0.5, 5, 30_000_000L, 2_000_000_000L, 100);
        Timing.Result r = Timing.measure(() -> LockSupport.parkNanos(2_000_000), b);
        assertTrue(r.reps() >= 5, "reps " + r.reps());
        assertTrue(r.warmupReps() >= 2, "warm-up reps " + r.warmupReps());
        assertTrue(r.medianMs() >= 1.9 && r.medianMs() < 50, "median " + r.medianMs());
        assertTrue(r.minMs() <= r.p25Ms() && r.p25Ms() <= r.medianMs() && r.medianMs() <= r.p75Ms() && r.p75Ms() <= r.maxMs());
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
        Timing.Budget b = new Timing.Budget(0, 0, 3, 0.1, 50, 0, 30_000_000L, 100);
        Timing.Result r = Timing.measure(() -> LockSupport.parkNanos(20_000_000), b);
        assertTrue(r.reps() < 50 && r.reps() >= 1, "reps " + r.reps());
    }
}
