package dev.alexnet.bench;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.model.Devices;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code alexnet compare}: every AlexNet layer and the whole network on every backend, same seeded
 * inputs and weights, agreement with the reference kernels, timings, % of measured peak, ratio to
 * oneDNN; a terminal table, and with {@code --out} results.csv, results.json and PNG charts.
 * Exit status 1 when any case FAILs the agreement bound or throws.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Runs every AlexNet layer (conv1-5, lrn1/2, pool1/2/5, fc6-8, softmax) and the whole network on each backend",
                "(ref, java, dnnl, cuda), checks each output against the scalar reference kernels and tabulates the speed.",
                "Exit status: 0 all agree, 1 some case FAILed or threw (see the table), 2 bad options."})
public final class CompareCommand implements Callable<Integer> {
    @Option(names = "--backends", split = ",", defaultValue = "ref,java,dnnl,cuda",
            description = "backends to run: ref, java, dnnl, cuda, and ort (ONNX Runtime, opt-in); java-direct, java-winograd (F(2x2,3x3)) and java-winograd4 (F(4x4,3x3)) force one algorithm for 3x3 convolutions, java-winograd5 Winograd F(2x2,5x5) for 5x5 ones; unavailable ones are listed with the reason (default: ${DEFAULT-VALUE})")
    List<String> backends;

    @Option(names = "--batch", split = ",", defaultValue = "1,32", description = "batch sizes (default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--threads", split = ",", description = "host thread counts for java and dnnl (default: 1 and the number of cores)")
    List<Integer> threads;

    @Option(names = "--layers", split = ",", defaultValue = "all",
            description = "cases: conv1 lrn1 pool1 conv2 lrn2 pool2 conv3 conv4 conv5 pool5 fc6 fc7 fc8 softmax network (default: ${DEFAULT-VALUE})")
    List<String> layers;

    @Option(names = "--out", paramLabel = "DIR", description = "write results.csv, results.json and PNG charts here")
    Path out;

    @Option(names = "--peak-gflops", paramLabel = "GFLOPS", description = "FMA peak per core to use instead of measuring it (the N-thread peak is N times this)")
    Double peakGflops;

    @Option(names = "--peak-gbs", paramLabel = "GBS", description = "memory bandwidth to use instead of measuring it (with --peak-gflops)")
    Double peakGbs;

    @Option(names = "--warmup-ms", defaultValue = "5000", description = "longest warm-up per case; after --min-warmup-ms it ends once 3 runs agree within 10%% and their median is within 10%% of the best run (default: ${DEFAULT-VALUE})")
    long warmupMs;

    @Option(names = "--min-warmup-ms", defaultValue = "1000", description = "shortest warm-up per case; it also waits until no JIT compilation has ended for this long (default: ${DEFAULT-VALUE})")
    long minWarmupMs;

    @Option(names = "--time-ms", defaultValue = "1000", description = "timed repetitions per case: at least this long ... (default: ${DEFAULT-VALUE})")
    long timeMs;

    @Option(names = "--min-reps", defaultValue = "5", description = "... and at least this many (default: ${DEFAULT-VALUE})")
    int minReps;

    @Option(names = "--max-case-ms", defaultValue = "6000", description = "stop timing a case after this long even below --min-reps (default: ${DEFAULT-VALUE})")
    long maxCaseMs;

    @Option(names = "--time-limit", defaultValue = "540", description = "seconds for the whole run; cases left when it is reached are SKIPped, 0 = none (default: ${DEFAULT-VALUE})")
    long timeLimitS;

    @Option(names = "--quick", description = "short budgets for a smoke run: warm-up 200 ms, 300 ms and 3 reps per case")
    boolean quick;

    @Option(names = "--check-all-images", description = "check every image of a batch against the reference (default: first, middle, last above batch 4)")
    boolean checkAll;

    @Option(names = "--rtol", defaultValue = "1e-4", description = "agreement bound on max |y-r|/(|r|+rms(r)) for fp32 paths (default: ${DEFAULT-VALUE})")
    double rtol;

    @Option(names = "--ref-timing", defaultValue = "oracle",
            description = "how ref is timed: oracle (batch 1 only, the oracle's single run), none, full (every batch, 1 rep; slow) (default: ${DEFAULT-VALUE})")
    String refTiming;

    @Option(names = "--init", defaultValue = "counter",
            description = "weights: counter (the golden generator; activations of order one) or paper (N(0,0.01), biases 1; --seed) (default: ${DEFAULT-VALUE})")
    String init;

    @Option(names = "--seed", defaultValue = "42", description = "seed for --init paper (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--kernels", defaultValue = "vector", description = "kernels of the java backend: vector or reference (default: ${DEFAULT-VALUE})")
    String kernels;

    @Option(names = "--precision", defaultValue = "fp32", description = "CUDA math: fp32 or tf32 (tf32 is held to a 1e-2 bound) (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--fork", arity = "0..1", fallbackValue = "1", paramLabel = "JVMS",
            description = "measure each row in its own fresh JVM (the same java, JVM options and class path), or in JVMS of them: the row is then the median JVM's, its note lists each JVM's median")
    Integer fork;

    @Option(names = "--fork-default-flags", description = "with --fork: start the fresh JVMs with only the options a library needs (Vector API module, native access), so the JIT runs as for a library user (tiered compilation on)")
    boolean forkDefaultFlags;

    @Option(names = "--peak-figures", hidden = true, description = "a forked child's peak figures, from its parent")
    String peakFigures;

    @Option(names = "--rows-json", hidden = true, paramLabel = "FILE", description = "a forked child's rows, for its parent")
    Path rowsJson;

    @Override
    public Integer call() throws Exception {
        CompareRunner.Config cfg = config();
        if (forkDefaultFlags && fork == null) throw new IllegalArgumentException("--fork-default-flags needs --fork");
        if ("true".equals(Machine.jitFlags().get("TieredCompilation")) && rowsJson == null && !forkDefaultFlags) {
            System.err.println("note: tiered compilation is on; C1 has been seen to leave a big kernel ~100x slow for a whole run."
                    + " For timings, run the JVM with -XX:-TieredCompilation (results.json records the flags).");
        }
        Fork forker = fork == null ? null : Fork.ofThisJvm(caseArgs(), fork, forkDefaultFlags);
        CompareRunner.Outcome o = new CompareRunner(cfg, forker).run();
        if (rowsJson != null) new ObjectMapper().writeValue(rowsJson.toFile(), o.rows());
        Reports.printTable(o, System.out);
        if (out != null) {
            Files.createDirectories(out);
            Reports.writeCsv(o, out.resolve("results.csv"));
            Map<String, Object> described = describe(cfg);
            if (fork != null) {
                described.put("fork_jvms_per_row", fork);
                described.put("fork_jvm_flags", forkDefaultFlags ? "default (only --add-modules, --enable-native-access)" : "the parent's");
            }
            Reports.writeJson(o, described, out.resolve("results.json"));
            List<Path> charts;
            try {
                charts = Charts.write(o, out);
            } catch (Throwable e) { // e.g. a runtime without java.desktop
                System.err.println("charts skipped: " + Machine.rootMessage(e));
                charts = List.of();
            }
            System.out.println("wrote " + out.resolve("results.csv") + ", " + out.resolve("results.json")
                    + (charts.isEmpty() ? "" : " and " + charts.size() + " charts"));
        }
        return o.exitCode();
    }

    CompareRunner.Config config() {
        if (threads == null || threads.isEmpty()) {
            int cores = Runtime.getRuntime().availableProcessors();
            threads = cores > 1 ? List.of(1, cores) : List.of(1);
        }
        for (int t : threads) if (t < 1) throw new IllegalArgumentException("--threads must be positive, got " + t);
        for (int b : batches) if (b < 1) throw new IllegalArgumentException("--batch must be positive, got " + b);
        for (String l : layers) { // before the peak measurement and the weights: a typo costs no minutes
            String n = l.strip();
            if (!n.equals("all") && !LayerTable.NAMES.contains(n)) {
                throw new IllegalArgumentException("--layers: no benchmark case '" + n + "'; known: all, " + String.join(", ", LayerTable.NAMES));
            }
        }
        JavaDevice.Kernels k = switch (kernels.toLowerCase()) {
            case "vector", "vec" -> JavaDevice.Kernels.VECTOR;
            case "reference", "ref" -> JavaDevice.Kernels.REFERENCE;
            default -> throw new IllegalArgumentException("--kernels must be vector or reference, got '" + kernels + "'");
        };
        Devices.Precision p = switch (precision.toLowerCase()) {
            case "fp32" -> Devices.Precision.FP32;
            case "tf32" -> Devices.Precision.TF32;
            default -> throw new IllegalArgumentException("--precision must be fp32 or tf32, got '" + precision + "'");
        };
        List<CompareRunner.Backend> bs = new ArrayList<>();
        for (String b : backends) bs.add(CompareRunner.standard(b.strip().toLowerCase(), k, p));
        Peak.Result peak = peakFigures != null ? Fork.decode(peakFigures) : null;
        if (peakGflops != null || peakGbs != null) {
            if (peakGflops == null || peakGbs == null) throw new IllegalArgumentException("give both --peak-gflops and --peak-gbs, or neither (then they are measured)");
            peak = Peak.given(threads, peakGflops, peakGbs);
        }
        Timing.Budget budget = quick
                ? new Timing.Budget(0, 200_000_000L, 1, 3, 0.10, 3, 300_000_000L, 2_000_000_000L, 10_000)
                : new Timing.Budget(Math.min(minWarmupMs, warmupMs) * 1_000_000L, warmupMs * 1_000_000L, 2, 3, 0.10, minReps,
                        timeMs * 1_000_000L, maxCaseMs * 1_000_000L, 10_000);
        CompareRunner.RefTiming rt = switch (refTiming.toLowerCase()) {
            case "oracle" -> CompareRunner.RefTiming.ORACLE;
            case "none" -> CompareRunner.RefTiming.NONE;
            case "full" -> CompareRunner.RefTiming.FULL;
            default -> throw new IllegalArgumentException("--ref-timing must be oracle, none or full, got '" + refTiming + "'");
        };
        LayerTable.Init in = switch (init.toLowerCase()) {
            case "counter" -> LayerTable.Init.COUNTER;
            case "paper" -> LayerTable.Init.PAPER;
            default -> throw new IllegalArgumentException("--init must be counter or paper, got '" + init + "'");
        };
        double gpuBound = p == Devices.Precision.TF32 ? Agreement.TF32_BOUND : rtol;
        return new CompareRunner.Config(List.copyOf(bs), List.copyOf(batches), List.copyOf(threads), List.copyOf(layers), budget, peak,
                checkAll, rtol, gpuBound, rt, timeLimitS * 1_000_000_000L, in, seed, System.err);
    }

    /** The per-case options as a forked child gets them (backend, batch, layer and threads are the parent's to choose). */
    List<String> caseArgs() {
        List<String> a = new ArrayList<>(List.of("--warmup-ms", Long.toString(warmupMs), "--min-warmup-ms", Long.toString(minWarmupMs),
                "--time-ms", Long.toString(timeMs), "--min-reps", Integer.toString(minReps), "--max-case-ms", Long.toString(maxCaseMs),
                "--rtol", Double.toString(rtol), "--ref-timing", refTiming, "--init", init, "--seed", Long.toString(seed),
                "--kernels", kernels, "--precision", precision));
        if (quick) a.add("--quick");
        if (checkAll) a.add("--check-all-images");
        return a;
    }

    /** The configuration as recorded in results.json. */
    static Map<String, Object> describe(CompareRunner.Config c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backends", c.backends().stream().map(CompareRunner.Backend::name).toList());
        m.put("batches", c.batches());
        m.put("threads", c.threads());
        m.put("layers", c.layers());
        Timing.Budget b = c.budget();
        m.put("warmup_min_ms", b.warmupMinNanos() / 1e6);
        m.put("warmup_max_ms", b.warmupMaxNanos() / 1e6);
        m.put("steady_rule", b.steadyWindow() + " runs within " + (int) (100 * b.steadyTolerance()) + "% of each other and of the best run, no JIT compilation ended in the last warmup_min_ms");
        m.put("min_reps", b.minReps());
        m.put("target_ms", b.targetNanos() / 1e6);
        m.put("max_case_ms", b.hardNanos() / 1e6);
        m.put("check_all_images", c.checkAllImages());
        m.put("bound", c.bound());
        m.put("gpu_bound", c.gpuBound());
        m.put("error_measure", "max |y-r| / (|r| + rms(r)) over the checked images; r from the scalar reference kernels (double accumulation)");
        m.put("ref_timing", c.refTiming().name().toLowerCase());
        m.put("init", c.init().name().toLowerCase());
        m.put("seed", c.seed());
        m.put("time_limit_s", c.timeLimitNanos() / 1e9);
        return m;
    }

    /** For running without the main CLI: {@code java ... dev.alexnet.bench.CompareCommand --batch 1}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new CompareCommand()).execute(args));
    }
}
