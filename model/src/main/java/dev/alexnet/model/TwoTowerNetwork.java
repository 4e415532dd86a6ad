package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Checks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The paper's two-tower AlexNet (section 3.2): tower A and tower B each hold half of every layer's
 * kernels, run concurrently on their own devices, and exchange activations only at the inputs of
 * conv3, fc6, fc7 and fc8, then gather the logits. torchvision's AlexNet has no groups, so its towers
 * exchange before every layer after pool1 ({@link AlexNetSpec#exchangeBefore}); the code is the same.
 *
 * <p>Each tower runs on its own platform thread. A forward pass is five segments per tower; after
 * each, a tower writes its half of the next layer's input into its own gather buffer and into the
 * other tower's (the transfer between the two devices' memories, counted in bytes), then waits at a
 * barrier until the other tower's half has arrived. Devices here exchange through host memory
 * (a host-device copy for a GPU program's boundary).
 */
public final class TwoTowerNetwork implements Network {
    private static final String[] TRACK = {"tower A", "tower B"};

    private final AlexNetSpec spec;
    private final AlexNetWeights weights;
    private final Device[] devices;
    private final boolean ownsDevices;
    private final ExecutorService threads;
    private final Map<Integer, Plan> plans = new HashMap<>();

    public TwoTowerNetwork(AlexNetSpec spec, AlexNetWeights weights, Device a, Device b, boolean ownsDevices) {
        if (spec.arch() == dev.alexnet.device.AlexNetLayers.Arch.PAPER && !spec.lrnPerTower()) throw new IllegalArgumentException("two towers normalise per tower: LRN across all channels needs one device");
        this.spec = spec;
        this.weights = weights;
        this.devices = new Device[] {a, b};
        this.ownsDevices = ownsDevices;
        this.threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "alexnet-tower");
            t.setDaemon(true);
            return t;
        });
    }

    @Override public String placement() { return devices[0].name() + "," + devices[1].name(); }
    @Override public AlexNetSpec spec() { return spec; }

    /** Compiled segments and exchange buffers for one batch size. */
    private final class Plan implements AutoCloseable {
        final int batch;
        final Program[][] programs = new Program[2][];
        final MemorySegment[][] out = new MemorySegment[2][];    // out[t][k]: segment k's output on tower t, [N, half_k]
        final MemorySegment[][] gather = new MemorySegment[2][]; // gather[t][k]: input of segment k+1 on tower t, [N, 2*half_k]
        final long[] half;                                       // floats per image each tower produces at segment k
        final String[] sendName;                                 // trace label of the exchange after segment k
        final Arena arena = Arena.ofShared();

        Plan(int batch) {
            this.batch = batch;
            int segments = spec.towerSegments(0).size();
            half = new long[segments];
            sendName = new String[segments];
            for (int t = 0; t < 2; t++) {
                List<List<Layer>> segs = weights.towerSegments(spec, t);
                programs[t] = new Program[segments];
                out[t] = new MemorySegment[segments];
                gather[t] = new MemorySegment[segments];
                for (int k = 0; k < segments; k++) {
                    programs[t][k] = devices[t].compile(segs.get(k), batch);
                    half[k] = segs.get(k).getLast().spec().outputSize();
                    sendName[k] = k < segments - 1 ? "send to " + segs.get(k + 1).getFirst().spec().name() : "gather logits";
                    out[t][k] = arena.allocate(batch * half[k] * Float.BYTES, 64);
                    if (k < segments - 1) gather[t][k] = arena.allocate(batch * 2 * half[k] * Float.BYTES, 64);
                }
            }
        }

        @Override
        public void close() {
            for (Program[] ps : programs) for (Program p : ps) if (p != null) p.close();
            if (arena.scope().isAlive()) arena.close();
        }
    }

    private boolean closed;

    private synchronized Plan plan(int batch) {
        if (closed) throw new IllegalStateException("two-tower network on " + placement() + " is closed");
        return plans.computeIfAbsent(batch, Plan::new);
    }

    @Override
    public void prepare(int batch) {
        try (Arena a = Arena.ofShared()) { // shared: the tower threads read and write it
            forward(a.allocate((long) batch * 3 * spec.inputSize() * spec.inputSize() * Float.BYTES, 64),
                    a.allocate((long) batch * AlexNetSpec.CLASSES * Float.BYTES, 64), batch, null);
        }
    }

    @Override
    public void forward(MemorySegment images, MemorySegment logits, int batch, RunStats stats) {
        Plan plan = plan(batch);
        Checks.floats(images, (long) batch * 3 * spec.inputSize() * spec.inputSize(), "images");
        Checks.floats(logits, (long) batch * AlexNetSpec.CLASSES, "logits");
        CyclicBarrier barrier = new CyclicBarrier(2);
        Future<?> a = threads.submit(() -> tower(plan, 0, images, logits, barrier, stats));
        Future<?> b = threads.submit(() -> tower(plan, 1, images, logits, barrier, stats));
        Throwable failure = null;
        for (Future<?> f : List.of(a, b)) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                barrier.reset();
                throw new IllegalStateException("interrupted while the towers ran", e);
            } catch (ExecutionException e) {
                barrier.reset();
                // keep the root cause, not the other tower's "broken barrier"
                if (failure == null || failure.getCause() instanceof BrokenBarrierException) failure = e.getCause();
            }
        }
        if (failure instanceof WrongThreadException e) {
            throw new IllegalArgumentException("the towers run on their own threads: allocate images and logits in a shared arena (Arena.ofShared()), not a confined one", e);
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure != null) throw new IllegalStateException("a tower failed: " + failure, failure);
        long perImage = (long) 3 * spec.inputSize() * spec.inputSize();
        NonFinite.poisonRows(images, perImage, logits, 2 * plan.half[plan.half.length - 1], batch);
    }

    private Void tower(Plan plan, int t, MemorySegment images, MemorySegment logits, CyclicBarrier barrier, RunStats stats) {
        String track = TRACK[t] + " (" + devices[t].name() + ")";
        int segments = plan.programs[t].length;
        try {
            MemorySegment in = images; // conv1 reads the whole (replicated) input
            for (int k = 0; k < segments; k++) {
                MemorySegment out = plan.out[t][k];
                if (stats == null) plan.programs[t][k].run(in, out);
                else plan.programs[t][k].run(in, out, (layer, ns) -> stats.span(track, layer, RunStats.Kind.LAYER, System.nanoTime() - ns, ns));
                long half = plan.half[k];
                long t0 = System.nanoTime();
                if (k < segments - 1) {
                    // own half into both towers' gather buffers: the local copy and the transfer to the other device
                    scatter(out, plan.gather[t][k], plan.batch, half, t);
                    scatter(out, plan.gather[1 - t][k], plan.batch, half, t);
                    in = plan.gather[t][k];
                } else {
                    scatter(out, logits, plan.batch, half, t); // gather the logits
                }
                long t1 = System.nanoTime();
                if (stats != null) {
                    stats.span(track, plan.sendName[k], RunStats.Kind.EXCHANGE, t0, t1 - t0);
                    stats.bytes(track, plan.batch * half * Float.BYTES);
                }
                if (k < segments - 1) {
                    barrier.await();
                    if (stats != null) stats.span(track, "wait", RunStats.Kind.WAIT, t1, System.nanoTime() - t1);
                }
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            barrier.reset();
            throw new IllegalStateException("tower " + t + " interrupted", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("the other tower failed", e);
        } catch (RuntimeException e) {
            barrier.reset(); // wake the other tower instead of leaving it waiting forever
            throw e;
        }
    }

    /** Copies [N, half] into columns [t*half, (t+1)*half) of [N, 2*half]. */
    private static void scatter(MemorySegment src, MemorySegment dst, int batch, long half, int t) {
        long bytes = half * Float.BYTES;
        for (int n = 0; n < batch; n++) {
            MemorySegment.copy(src, n * bytes, dst, (2L * n + t) * bytes, bytes);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        plans.values().forEach(Plan::close); // programs wait for their runs in flight; later runs throw
        plans.clear();
        threads.shutdownNow();
        if (ownsDevices) {
            devices[0].close();
            if (devices[1] != devices[0]) devices[1].close();
        }
    }
}
