package dev.alexnet.device.java;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;

import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.vec.ThreadTeam;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A vector program splits every step across its team whatever arena the caller's output lives in: a confined
 * output (the natural choice for a single-threaded library user) goes through the program's own buffer and one
 * copy, instead of serialising the last layer on the caller. The programs here have exactly one step each (NCHW
 * pooling and LRN between rows, a linear layer, softmax), so the team's counters must show one task per member
 * and run; the output must match a run into a shared segment bit for bit.
 */
class VectorProgramThreadsTest {
    private static final int RUNS = 3;

    private static Layer linear(Arena arena, Random rnd, int in, int out) {
        LayerSpec.Linear spec = new LayerSpec.Linear("fc", in, out, true);
        dev.alexnet.tensor.Tensor w = dev.alexnet.tensor.Tensor.allocate(arena, spec.weightShape());
        dev.alexnet.tensor.Tensor b = dev.alexnet.tensor.Tensor.allocate(arena, out);
        for (long i = 0; i < w.size(); i++) w.set(i, (float) rnd.nextGaussian());
        for (long i = 0; i < b.size(); i++) b.set(i, (float) rnd.nextGaussian());
        return new Layer(spec, w, b);
    }

    private static void check(String what, Layer layer, int batch, int threads) {
        Random rnd = new Random(what.hashCode());
        try (Arena shared = Arena.ofShared(); ThreadTeam team = new ThreadTeam(threads);
             Program p = TestPrograms.vector(List.of(layer), batch, team)) {
            MemorySegment in = shared.allocate(p.inputFloats() * Float.BYTES, 64);
            for (long i = 0; i < p.inputFloats(); i++) in.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
            MemorySegment sharedOut = shared.allocate(p.outputFloats() * Float.BYTES, 64);
            p.run(in, sharedOut);
            long[] before = new long[threads];
            for (int m = 0; m < threads; m++) before[m] = team.tasksRun(m);
            try (Arena confined = Arena.ofConfined()) {
                MemorySegment out = confined.allocate(p.outputFloats() * Float.BYTES, 64);
                for (int r = 0; r < RUNS; r++) {
                    out.fill((byte) 0xff);
                    p.run(in, out);
                    assertArrayEquals(sharedOut.toArray(JAVA_FLOAT), out.toArray(JAVA_FLOAT), what + ": confined output, run " + r);
                }
            }
            for (int m = 0; m < threads; m++) {
                assertEquals(RUNS, team.tasksRun(m) - before[m], what + ": tasks member " + m + " ran into a confined output");
            }
        }
    }

    @Test
    void confinedOutputStillSplitsTheLastStep() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofShared()) {
            for (int threads : new int[] {2, 3}) {
                check("pool", Layer.of(new LayerSpec.MaxPool("pool", 13, 27, 27, 3, 2, 0)), 2, threads);
                check("lrn", Layer.of(new LayerSpec.Lrn("lrn", 24, 13, 13, LrnParams.PAPER, 2)), 2, threads);
                check("softmax", Layer.of(new LayerSpec.Softmax("prob", 1000)), 5, threads);
                check("fc", linear(arena, rnd, 300, 77), 3, threads);
            }
        }
    }

    /** A team runs every task on every member, and its counters say so (member 0 is the caller). */
    @Test
    void teamCountersCountEveryMember() {
        try (ThreadTeam team = new ThreadTeam(3)) {
            long[] seen = new long[3];
            ThreadTeam.Task t = (m, ms) -> { synchronized (seen) { seen[m]++; } };
            for (int i = 0; i < 5; i++) team.run(t);
            for (int m = 0; m < 3; m++) {
                assertEquals(5, seen[m], "member " + m + " ran");
                assertEquals(5, team.tasksRun(m), "counter of member " + m);
            }
        }
        try (ThreadTeam one = new ThreadTeam(1)) {
            one.run((m, ms) -> {});
            assertEquals(1, one.tasksRun(0));
        }
    }
}
