package dev.alexnet.train;

import dev.alexnet.device.Device;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.TrainingProgram;
import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.RunStats;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Training split as the paper's two GPUs split it (section 3.2): each tower holds and updates its half
 * of every layer, activations cross at the inputs of conv3, fc6, fc7 and fc8 on the way forward, and
 * their gradients cross back at the same points on the way back. Nothing else is exchanged.
 *
 * <p>Each segment runs on both towers at once (tower A on the calling thread, tower B on its own
 * thread, so a device is always driven from the same thread). Between segments, forward: each tower's
 * output half goes into both towers' view of the next input ({@code send to conv3} ...); backward: each
 * tower produces the gradient of the whole gathered input, and a tower's half of the previous output
 * gradient is the sum of both towers' contributions to its columns ({@code grad from conv3} ...).
 */
public final class TwoTowerTraining implements TrainingNetwork {
    private static final String[] TRACK = {"tower A", "tower B"};

    private final AlexNetSpec spec;
    private final Parameters params;
    private final Device[] devices;
    private final float dropout;
    private final boolean ownsDevices;
    private final ExecutorService towerB = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "alexnet-tower-B");
        t.setDaemon(true);
        return t;
    });
    private final Map<Integer, Plan> plans = new HashMap<>();

    public TwoTowerTraining(AlexNetSpec spec, Parameters params, Device a, Device b, float dropout, boolean ownsDevices) {
        if (!spec.lrnPerTower()) throw new IllegalArgumentException("two towers normalise per tower: LRN across all channels needs one device");
        params.check(spec);
        this.spec = spec;
        this.params = params;
        this.devices = new Device[] {a, b};
        this.dropout = dropout;
        this.ownsDevices = ownsDevices;
    }

    @Override public String placement() { return devices[0].name() + "," + devices[1].name(); }
    @Override public AlexNetSpec spec() { return spec; }

    /** Compiled segments and exchange buffers for one batch size. */
    private final class Plan implements AutoCloseable {
        final int batch, segments;
        final TrainingProgram[][] programs = new TrainingProgram[2][];
        final long[] half;            // floats per image one tower produces at segment k
        final String[] next;          // name of the layer that reads segment k's gathered output
        final MemorySegment[][] out;  // out[t][k]: tower t's output of segment k, [N, half[k]]
        final MemorySegment[] gather; // gather[k]: both towers' outputs of segment k side by side, [N, 2*half[k]]
        final MemorySegment[][] gOut; // gOut[t][k]: gradient of out[t][k]
        final MemorySegment[][] gIn;  // gIn[t][k] (k >= 1): tower t's gradient of gather[k-1]
        final MemorySegment logits, gradLogits;
        final Arena arena = Arena.ofShared();

        Plan(int batch) {
            this.batch = batch;
            List<List<LayerSpec>> segA = spec.towerTrainingSegments(0, dropout);
            segments = segA.size();
            half = new long[segments];
            next = new String[segments];
            out = new MemorySegment[2][segments];
            gOut = new MemorySegment[2][segments];
            gIn = new MemorySegment[2][segments];
            gather = new MemorySegment[segments];
            try {
                for (int t = 0; t < 2; t++) {
                    List<List<LayerSpec>> segs = t == 0 ? segA : spec.towerTrainingSegments(1, dropout);
                    programs[t] = new TrainingProgram[segments];
                    for (int k = 0; k < segments; k++) {
                        programs[t][k] = devices[t].compileTraining(params.bindTower(segs.get(k), t), batch);
                        half[k] = segs.get(k).getLast().outputSize();
                        next[k] = k + 1 < segments ? segs.get(k + 1).getFirst().name() : "logits";
                    }
                }
                for (int k = 0; k < segments; k++) {
                    gather[k] = floats(2 * half[k]);
                    for (int t = 0; t < 2; t++) {
                        out[t][k] = floats(half[k]);
                        gOut[t][k] = floats(half[k]);
                        if (k > 0) gIn[t][k] = floats(2 * half[k - 1]);
                    }
                }
                logits = gather[segments - 1];
                gradLogits = floats(spec.classes());
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        private MemorySegment floats(long perImage) {
            return arena.allocate(batch * perImage * Float.BYTES, 64);
        }

        @Override
        public void close() {
            for (TrainingProgram[] ps : programs) if (ps != null) for (TrainingProgram p : ps) if (p != null) p.close();
            if (arena.scope().isAlive()) arena.close();
        }
    }

    private Plan plan(int batch) {
        Plan p = plans.get(batch);
        if (p == null) plans.put(batch, p = new Plan(batch));
        return p;
    }

    @Override
    public double forwardBackward(MemorySegment images, MemorySegment labels, int batch, long seed, MemorySegment logits, RunStats stats) {
        Plan p = plan(batch);
        Checks.floats(images, (long) batch * 3 * spec.inputSize() * spec.inputSize(), "images");
        if (labels == null || labels.byteSize() < (long) batch * Integer.BYTES) throw new IllegalArgumentException("labels hold fewer than " + batch + " ints");
        for (int k = 0; k < p.segments; k++) {
            int seg = k;
            both(t -> p.programs[t][seg].forward(seg == 0 ? images : p.gather[seg - 1], p.out[t][seg], seed, timer(stats, t)));
            long t0 = System.nanoTime();
            for (int t = 0; t < 2; t++) place(p.out[t][k], p.gather[k], batch, p.half[k], t);
            exchanged(stats, p, "send to " + p.next[k], t0, p.half[k]);
        }
        double loss = SoftmaxCrossEntropyRef.loss(p.logits, labels, p.gradLogits, batch, spec.classes());
        if (logits != null) MemorySegment.copy(p.logits, 0, logits, 0, p.logits.byteSize());
        long t0 = System.nanoTime();
        for (int t = 0; t < 2; t++) take(p.gradLogits, p.gOut[t][p.segments - 1], batch, p.half[p.segments - 1], t);
        exchanged(stats, p, "grad from logits", t0, p.half[p.segments - 1]);
        for (int k = p.segments - 1; k >= 0; k--) {
            int seg = k;
            both(t -> p.programs[t][seg].backward(p.gOut[t][seg], seg == 0 ? null : p.gIn[t][seg], timer(stats, t)));
            if (k == 0) break;
            t0 = System.nanoTime();
            for (int t = 0; t < 2; t++) sumHalf(p.gIn[0][k], p.gIn[1][k], p.gOut[t][k - 1], batch, p.half[k - 1], t);
            exchanged(stats, p, "grad from " + p.next[k - 1], t0, p.half[k - 1]);
        }
        return loss;
    }

    private interface TowerJob { void run(int tower); }

    /** Runs {@code job} for tower B on its thread and for tower A on this one; waits for both. */
    private void both(TowerJob job) {
        Future<?> b = towerB.submit(() -> job.run(1));
        RuntimeException mine = null;
        try {
            job.run(0);
        } catch (RuntimeException e) {
            mine = e;
        }
        try {
            b.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while tower B ran", e);
        } catch (ExecutionException e) {
            if (mine == null) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw new IllegalStateException("tower B failed: " + e.getCause(), e.getCause());
            }
        }
        if (mine != null) throw mine;
    }

    private LayerTimer timer(RunStats stats, int t) {
        if (stats == null) return LayerTimer.NONE;
        String track = TRACK[t] + " (" + devices[t].name() + ")";
        return (layer, nanos) -> stats.span(track, layer, RunStats.Kind.LAYER, System.nanoTime() - nanos, nanos);
    }

    private void exchanged(RunStats stats, Plan p, String what, long t0, long half) {
        if (stats == null) return;
        long d = System.nanoTime() - t0;
        for (int t = 0; t < 2; t++) {
            String track = TRACK[t] + " (" + devices[t].name() + ")";
            stats.span(track, what, RunStats.Kind.EXCHANGE, t0, d);
            stats.bytes(track, p.batch * half * Float.BYTES); // each tower sends its half to the other
        }
    }

    /** Copies [N, half] into columns [t*half, (t+1)*half) of [N, 2*half]. */
    private static void place(MemorySegment src, MemorySegment dst, int batch, long half, int t) {
        long bytes = half * Float.BYTES;
        for (int n = 0; n < batch; n++) MemorySegment.copy(src, n * bytes, dst, (2L * n + t) * bytes, bytes);
    }

    /** Copies columns [t*half, (t+1)*half) of [N, 2*half] into [N, half]. */
    private static void take(MemorySegment src, MemorySegment dst, int batch, long half, int t) {
        long bytes = half * Float.BYTES;
        for (int n = 0; n < batch; n++) MemorySegment.copy(src, (2L * n + t) * bytes, dst, n * bytes, bytes);
    }

    /** dst[n, i] = a[n, t*half + i] + b[n, t*half + i]: both towers' gradients of tower t's half. */
    private static void sumHalf(MemorySegment a, MemorySegment b, MemorySegment dst, int batch, long half, int t) {
        for (int n = 0; n < batch; n++) {
            long src = 2L * n * half + t * half, d = (long) n * half;
            for (long i = 0; i < half; i++) {
                dst.setAtIndex(JAVA_FLOAT, d + i, a.getAtIndex(JAVA_FLOAT, src + i) + b.getAtIndex(JAVA_FLOAT, src + i));
            }
        }
    }

    @Override
    public void parametersChanged() {
        for (Plan p : plans.values()) for (TrainingProgram[] ps : p.programs) for (TrainingProgram q : ps) q.parametersChanged();
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::close);
        plans.clear();
        towerB.shutdownNow();
        if (ownsDevices) {
            devices[0].close();
            if (devices[1] != devices[0]) devices[1].close();
        }
    }
}
