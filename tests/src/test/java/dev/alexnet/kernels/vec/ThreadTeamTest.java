package dev.alexnet.kernels.vec;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Claimed shares: every member index runs exactly once per {@link ThreadTeam#run}, whoever claims it, and failures surface. */
class ThreadTeamTest {
    @Test
    void everyShareRunsExactlyOncePerRun() {
        for (int size = 1; size <= 4; size++) {
            try (ThreadTeam team = new ThreadTeam(size)) {
                AtomicIntegerArray counts = new AtomicIntegerArray(size);
                int[] wrongMembers = new int[1];
                for (int r = 1; r <= 3000; r++) {
                    int n = size;
                    team.run((m, ms) -> {
                        if (ms != n) wrongMembers[0]++;
                        counts.incrementAndGet(m);
                    });
                    for (int m = 0; m < size; m++) assertEquals(r, counts.get(m), "size " + size + " member " + m + " after run " + r);
                }
                assertEquals(0, wrongMembers[0], "members passed to the task");
            }
        }
    }

    @Test
    void aFailingShareFailsTheRunAndTheTeamGoesOn() {
        try (ThreadTeam team = new ThreadTeam(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.run((m, ms) -> {
                if (m == 1) throw new IllegalStateException("share 1 failed");
            }));
            assertEquals("share 1 failed", e.getMessage());
            AtomicIntegerArray counts = new AtomicIntegerArray(2);
            team.run((m, ms) -> counts.incrementAndGet(m));
            assertEquals(1, counts.get(0));
            assertEquals(1, counts.get(1));
        }
    }
}
