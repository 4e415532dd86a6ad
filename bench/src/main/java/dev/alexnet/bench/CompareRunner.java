package dev.alexnet.bench;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.model.Devices;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The comparison behind {@code alexnet compare}: every case of the {@link LayerTable} on every
 * backend, batch size and thread count, fed the same seeded inputs and weights, each output held
 * to the reference kernels ({@link Oracle}), each timing taken by {@link Timing}.
 *
 * <p>Order of work: batch, then case, then thread count, then backend. The input and the oracle's
 * output are made once per (batch, case); the backends run one after another on them, so a Java and
 * a oneDNN figure for the same case are taken seconds apart (the machine's load changes slowly).
 * Smaller batches run first, so a time limit cuts the slow end.
 *
 * <p>Agreement is checked twice per case: after the first run (before any timing) and after the
 * last timed run (a race between threads that shows up only some of the time is then likelier to be
 * seen). Either failing makes the row FAIL, and any FAIL or ERROR makes {@link Outcome#exitCode} 1.
 */
public final class CompareRunner {
    /** How the {@code ref} backend is timed: it is the oracle either way. */
    public enum RefTiming {
        /** At batch 1 only, the oracle's own single run (no warm-up): cheap, indicative. */
        ORACLE,
        /** Never (ref rows are not produced). */
        NONE,
        /** Like every backend but with one untimed warm-up-free run per case and batch (slow at batch 32). */
        FULL
    }

    /**
     * A backend: makes a device for a thread count.
     *
     * @param threaded false for backends that take no host-thread count (ref runs single-threaded,
     *                 a GPU): they run once per batch, under the first thread count
     */
    public record Backend(String name, boolean threaded, IntFunction<Device> factory) {}

    /** Everything a run needs; see {@link CompareCommand} for the command-line defaults. */
    public record Config(List<Backend> backends, List<Integer> batches, List<Integer> threads, List<String> layers,
                         Timing.Budget budget, Peak.Result peak, boolean checkAllImages, double bound, double gpuBound,
                         RefTiming refTiming, long timeLimitNanos, LayerTable.Init init, long seed, PrintStream progress) {}

    /** What came out: rows, backends that could not start (with why), peak used, machine. */
    public record Outcome(List<Row> rows, Map<String, String> unavailable, Peak.Result peak, Map<String, Object> machine,
                          Map<String, String> devices, String weights, boolean timeLimitHit, double wallSeconds) {
        public long failures() { return rows.stream().filter(Row::failed).count(); }
        public int exitCode() { return failures() > 0 ? 1 : 0; }
    }

    /** The standard backends: ref, java (Vector API kernels), dnnl, ort (ONNX Runtime, the external anchor), cuda. */
    public static Backend standard(String name, JavaDevice.Kernels javaKernels, Devices.Precision precision) {
        return switch (name) {
            case "ref" -> new Backend("ref", false, t -> new JavaDevice(1, JavaDevice.Kernels.REFERENCE));
            case "java" -> new Backend("java", true, t -> Devices.create("java:" + t, javaKernels, precision));
            // the Java kernels with one convolution algorithm forced, for side-by-side runs (java:N/direct, java:N/winograd, java:N/winograd4, java:N/winograd5)
            case "java-direct" -> new Backend(name, true, t -> new JavaDevice(t, javaKernels, new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT)));
            case "java-winograd" -> new Backend(name, true, t -> new JavaDevice(t, javaKernels, new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD)));
            case "java-winograd4" -> new Backend(name, true, t -> new JavaDevice(t, javaKernels, new JavaDevice.Options(JavaDevice.ConvAlgorithm.WINOGRAD4)));
            case "java-winograd5" -> new Backend(name, true, t -> new JavaDevice(t, javaKernels,
                    new JavaDevice.Options(JavaDevice.ConvAlgorithm.AUTO, JavaDevice.ConvAlgorithm.WINOGRAD)));
            case "dnnl" -> new Backend("dnnl", true, t -> Devices.create("dnnl:" + t, javaKernels, precision));
            case "ort" -> new Backend("ort", true, t -> Devices.create("ort:" + t, javaKernels, precision));
            case "cuda" -> new Backend("cuda", false, t -> Devices.create("cuda:0", javaKernels, precision));
            default -> throw new IllegalArgumentException("unknown backend '" + name + "': use ref, java, java-direct, java-winograd, java-winograd4, java-winograd5, dnnl, ort, cuda");
        };
    }

    private final Config cfg;
    private final Fork fork;

    public CompareRunner(Config cfg) {
        this(cfg, null);
    }

    /** With {@code fork} non-null, every row is measured in its own fresh JVM ({@link Fork}). */
    public CompareRunner(Config cfg, Fork fork) {
        this.cfg = cfg;
        this.fork = fork;
    }

    /** The devices of a run: one per (backend, thread count) that could start, and why the others could not. */
    private record Opened(Map<String, Device> devices, Map<String, String> unavailable, Map<String, String> info) {}

    /** What a run collects as it goes. */
    private final class Pass {
        final long t0 = System.nanoTime();
        final long deadline = cfg.timeLimitNanos() <= 0 ? Long.MAX_VALUE : t0 + cfg.timeLimitNanos();
        final List<Row> rows = new ArrayList<>();
        final Peak.Result peak;
        final Map<String, Device> devices;
        final int total;
        int done;
        boolean timeLimitHit;

        Pass(Peak.Result peak, Map<String, Device> devices, int cases) {
            this.peak = peak;
            this.devices = devices;
            this.total = countCases(cases, devices.keySet());
        }

        boolean pastDeadline() {
            if (System.nanoTime() <= deadline) return false;
            timeLimitHit = true;
            return true;
        }

        void add(Row row) {
            addQuietly(row);
            progress(cfg.progress(), done, total, t0, row);
        }

        void addQuietly(Row row) {
            rows.add(row);
            done++;
        }
    }

    public Outcome run() {
        Map<String, Object> machine = Machine.describe();
        Peak.Result peak = peak();
        Opened opened = openDevices(machine);
        try (LayerTable table = LayerTable.create(cfg.init(), cfg.seed())) {
            List<LayerTable.Case> cases = table.select(cfg.layers());
            Pass pass = new Pass(peak, opened.devices(), cases.size());
            for (int batch : cfg.batches()) {
                for (LayerTable.Case c : cases) runCase(pass, batch, c);
            }
            return new Outcome(List.copyOf(withRatios(pass.rows)), opened.unavailable(), peak, machine, opened.info(),
                    table.weightsOrigin(), pass.timeLimitHit, (System.nanoTime() - pass.t0) / 1e9);
        } finally {
            closeAll(opened.devices().values());
        }
    }

    /** The configured peak, or this machine's, measured now at the run's thread counts. */
    private Peak.Result peak() {
        if (cfg.peak() != null) return cfg.peak();
        PrintStream log = cfg.progress();
        log.println("measuring peak FMA throughput and bandwidth at " + cfg.threads() + " thread(s) ...");
        Peak.Result peak = Peak.measure(cfg.threads(), 0.3, 64L << 20);
        for (Peak.Figures f : peak.figures()) {
            log.printf("  %d thread(s): FMA %.1f GFLOP/s, triad %.1f GB/s, read %.1f GB/s%n", f.threads(), f.fmaGflops(), f.triadGbs(), f.readGbs());
        }
        return peak;
    }

    /** One device per (backend, thread count), created up front so that unavailable backends are known early. */
    private Opened openDevices(Map<String, Object> machine) {
        Map<String, Device> devices = new LinkedHashMap<>();
        Map<String, String> unavailable = new LinkedHashMap<>();
        Map<String, String> info = new LinkedHashMap<>();
        for (Backend b : cfg.backends()) {
            for (int t : threadsFor(b)) {
                try {
                    Device d = b.factory().apply(t);
                    devices.put(key(b.name(), t), d);
                    String desc = Machine.deviceDescription(d);
                    info.put(d.name(), desc != null ? desc : d.getClass().getName());
                } catch (Throwable e) {
                    unavailable.put(b.name(), Machine.rootMessage(e));
                    cfg.progress().println("backend " + b.name() + " unavailable: " + Machine.rootMessage(e));
                    break;
                }
            }
        }
        if (devices.keySet().stream().anyMatch(k -> k.startsWith("dnnl:"))) machine.put("onednn", Machine.dnnlVersion());
        if (devices.keySet().stream().anyMatch(k -> k.startsWith("cuda:"))) machine.put("cuda", Machine.cudaLibraries());
        return new Opened(devices, unavailable, info);
    }

    /** One (batch, case): every thread count and backend on the same input, or SKIP rows past the time limit. */
    private void runCase(Pass pass, int batch, LayerTable.Case c) {
        if (pass.pastDeadline()) {
            skipCase(pass, batch, c);
            return;
        }
        if (fork != null) {
            forEachDevice(pass, batch, (b, t, d) -> forkedRow(pass, b, d, t, batch, c));
            return;
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment input = arena.allocate(batch * c.inputFloats() * Float.BYTES, 64);
            MemorySegment output = arena.allocate(batch * c.outputFloats() * Float.BYTES, 64);
            LayerTable.fillInput(c, input, batch);
            try (Oracle oracle = new Oracle(c, batch, input, cfg.checkAllImages())) {
                forEachDevice(pass, batch, (b, t, d) -> rowFor(pass, b, d, t, batch, c, input, output, oracle));
            }
        }
    }

    /** Makes the row of one backend at one thread count. */
    private interface RowMaker { Row make(Backend b, int t, Device d); }

    /** Thread counts outside, backends inside, so each backend's rows for a case are taken seconds apart. */
    private void forEachDevice(Pass pass, int batch, RowMaker maker) {
        for (int t : cfg.threads()) {
            for (Backend b : cfg.backends()) {
                if (!b.threaded() && t != cfg.threads().getFirst()) continue;
                Device d = pass.devices.get(key(b.name(), t));
                if (d == null || (isRef(b) && !refTimed(batch) && cfg.refTiming() != RefTiming.FULL)) continue;
                pass.add(maker.make(b, t, d));
            }
        }
    }

    /** The row of one device in this JVM: the oracle's own for ref, SKIP past the time limit, else measured. */
    private Row rowFor(Pass pass, Backend b, Device d, int t, int batch, LayerTable.Case c, MemorySegment input,
                       MemorySegment output, Oracle oracle) {
        if (isRef(b) && cfg.refTiming() != RefTiming.FULL) return oracleRow(b, d, batch, c, oracle, pass.peak);
        if (pass.pastDeadline()) return timeLimitRow(b, d, t, batch, c);
        return measure(b, d, t, batch, c, input, output, oracle, pass.peak, isRef(b) ? Timing.Budget.single() : cfg.budget());
    }

    /** Every row of a case that the time limit leaves out. */
    private void skipCase(Pass pass, int batch, LayerTable.Case c) {
        for (Backend b : cfg.backends()) {
            for (int t : threadsFor(b)) {
                Device d = pass.devices.get(key(b.name(), t));
                if (d == null || (isRef(b) && !refTimed(batch))) continue;
                pass.addQuietly(timeLimitRow(b, d, t, batch, c));
            }
        }
    }

    private Row timeLimitRow(Backend b, Device d, int t, int batch, LayerTable.Case c) {
        return Row.untimed(b.name(), d.name(), threadsLabel(b, t), batch, c, "SKIP", null, boundFor(b), "time limit reached");
    }

    /** One row measured in a fresh JVM (or in {@link Fork#jvms} of them: the median one, with the spread noted). */
    private Row forkedRow(Pass pass, Backend b, Device d, int t, int batch, LayerTable.Case c) {
        if (pass.pastDeadline()) return timeLimitRow(b, d, t, batch, c);
        try {
            return fork.measure(b.name(), t, batch, c.name(), pass.peak);
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return Row.untimed(b.name(), d.name(), threadsLabel(b, t), batch, c, "ERROR", null, boundFor(b),
                    "forked JVM: " + Machine.rootMessage(e));
        }
    }

    private void closeAll(Iterable<Device> devices) {
        for (Device d : devices) {
            try {
                d.close();
            } catch (RuntimeException e) {
                cfg.progress().println("closing " + d.name() + ": " + e.getMessage());
            }
        }
    }

    private static boolean isRef(Backend b) {
        return b.name().equals("ref");
    }

    private boolean refTimed(int batch) {
        return switch (cfg.refTiming()) {
            case ORACLE -> batch == 1;
            case NONE -> false;
            case FULL -> true;
        };
    }

    private List<Integer> threadsFor(Backend b) {
        return b.threaded() ? cfg.threads() : List.of(cfg.threads().getFirst());
    }

    private static int threadsLabel(Backend b, int t) {
        if (b.name().equals("ref")) return 1;
        return b.threaded() ? t : 0;
    }

    private double boundFor(Backend b) {
        return b.name().equals("cuda") ? cfg.gpuBound() : cfg.bound();
    }

    private int countCases(int cases, java.util.Set<String> deviceKeys) {
        int n = 0;
        for (int batch : cfg.batches()) {
            for (String k : deviceKeys) {
                if (k.startsWith("ref:") && !refTimed(batch)) continue;
                n += cases;
            }
        }
        return n;
    }

    private static String key(String backend, int threads) { return backend + ":" + threads; }

    /** The ref row at batch 1: the oracle's own run, one repetition, no warm-up. */
    private Row oracleRow(Backend b, Device d, int batch, LayerTable.Case c, Oracle oracle, Peak.Result peak) {
        double ms = oracle.firstRunNanos() / 1e6;
        double work = c.work(batch);
        double thr = work / (ms / 1e3) / 1e9;
        double pct = pct(c, thr, peak, 1);
        return new Row(Row.Subject.of(b.name(), d.name(), 1, batch, c), "OK", Row.Times.single(ms),
                new Row.Speed(work, thr, batch / (ms / 1e3), pct, Double.NaN), new Row.Check(0, 0, cfg.bound(), oracle.images().length),
                Double.NaN, "the oracle's own run: 1 rep, no warm-up");
    }

    private Row measure(Backend b, Device d, int t, int batch, LayerTable.Case c, MemorySegment input, MemorySegment output,
                        Oracle oracle, Peak.Result peak, Timing.Budget budget) {
        int threads = threadsLabel(b, t);
        double bound = boundFor(b);
        Program p;
        long c0 = System.nanoTime();
        try {
            p = d.compile(c.layers(), batch);
        } catch (Throwable e) {
            return Row.untimed(b.name(), d.name(), threads, batch, c, "SKIP", null, bound, "cannot compile: " + Machine.rootMessage(e));
        }
        double compileMs = (System.nanoTime() - c0) / 1e6;
        try (p) {
            output.fill((byte) 0xFF); // NaN: a program that writes nothing cannot pass
            Agreement first;
            try {
                p.run(input, output);
                first = oracle.check(output, bound);
            } catch (Throwable e) {
                return Row.untimed(b.name(), d.name(), threads, batch, c, "ERROR", null, bound, "first run threw: " + Machine.rootMessage(e));
            }
            Timing.Result r;
            try {
                r = Timing.measure(() -> p.run(input, output), budget);
            } catch (Throwable e) {
                return Row.untimed(b.name(), d.name(), threads, batch, c, "ERROR", first, bound, "timed run threw: " + Machine.rootMessage(e));
            }
            Agreement a = first.merge(oracle.check(output, bound));
            double work = c.work(batch);
            double med = r.medianMs();
            double thr = work / (med / 1e3) / 1e9;
            List<String> notes = new ArrayList<>();
            if (!first.pass()) notes.add("first run outside bound");
            if (a.nonFinite() > 0) notes.add(a.nonFinite() + " non-finite values");
            if (r.reps() < budget.minReps()) notes.add("only " + r.reps() + " rep(s): per-case time limit");
            if (!r.steady() && budget.warmupMinReps() > 0) notes.add("warm-up did not settle");
            if (r.drift()) notes.add("timings drifted");
            String status = a.pass() ? "OK" : "FAIL";
            Row.Speed speed = new Row.Speed(work, thr, batch / (med / 1e3),
                    b.name().equals("cuda") ? Double.NaN : pct(c, thr, peak, threads), Double.NaN);
            return new Row(Row.Subject.of(b.name(), d.name(), threads, batch, c), status, Row.Times.of(r), speed,
                    Row.Check.of(a, bound), compileMs, String.join("; ", notes));
        }
    }

    private static double pct(LayerTable.Case c, double throughput, Peak.Result peak, int threads) {
        if (peak == null || threads < 1) return Double.NaN;
        Peak.Figures f = peak.at(threads);
        double denom = c.kind() == LayerTable.Kind.MEMORY ? f.triadGbs() : f.fmaGflops();
        return denom > 0 ? 100 * throughput / denom : Double.NaN;
    }

    /** vs_dnnl = oneDNN's median / this row's, same layer and batch; same threads, or oneDNN's widest for a GPU. */
    static List<Row> withRatios(List<Row> rows) {
        Map<String, Row> dnnl = new LinkedHashMap<>();
        Map<String, Row> dnnlWidest = new LinkedHashMap<>();
        for (Row r : rows) {
            if (!r.backend().equals("dnnl") || !r.timed()) continue;
            dnnl.put(r.layer() + "/" + r.batch() + "/" + r.threads(), r);
            dnnlWidest.merge(r.layer() + "/" + r.batch(), r, (x, y) -> y.threads() > x.threads() ? y : x);
        }
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            Row ref = r.threads() == 0 ? dnnlWidest.get(r.layer() + "/" + r.batch())
                    : dnnl.get(r.layer() + "/" + r.batch() + "/" + r.threads());
            out.add(ref != null && r.timed() ? r.withVsDnnl(ref.medianMs() / r.medianMs()) : r);
        }
        return out;
    }

    private static void progress(PrintStream log, int done, int total, long t0, Row r) {
        double s = (System.nanoTime() - t0) / 1e9;
        String fig = r.timed() ? String.format("%9.3f ms %8.1f %-7s", r.medianMs(), r.throughput(), r.unit()) : String.format("%28s", "");
        log.printf("[%3d/%3d %4.0fs] b%-3d %-8s %-8s %s %s%s%n", done, total, s, r.batch(), r.layer(), r.device(), fig, r.status(),
                r.note().isEmpty() ? "" : " (" + r.note() + ")");
    }
}
