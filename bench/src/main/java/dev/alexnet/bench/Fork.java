package dev.alexnet.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * {@code compare --fork}: each row measured in its own fresh JVM, so that its time cannot depend on what
 * ran before it in the same process (what C2 compiled for other shapes, profiles of shared kernel methods).
 * A child is this JVM's own command (the same java, JVM options and class path) running
 * {@link CompareCommand} on one backend, thread count, batch and layer, with the parent's peak figures
 * and per-case options; it writes its rows as JSON, which the parent reads back.
 *
 * @param command   the child's command up to and including the main class
 * @param caseArgs  options every child gets (budgets, bound, weights, kernels)
 * @param jvms      fresh JVMs per row; above 1 the row is the one with the median time, and its note lists every JVM's
 * @param scratch   a folder for the children's row files and logs
 */
public record Fork(List<String> command, List<String> caseArgs, int jvms, Path scratch) {
    /** What a library needs on the command line and nothing else: no -XX options, no launcher's -Xss. */
    private static final List<String> REQUIRED_PREFIXES = List.of("--add-modules", "--enable-native-access");

    /**
     * This JVM's command for a child; with {@code defaultFlags} only the options a library needs to load
     * (the Vector API module, native access): the JIT as a library user gets it, tiered compilation on.
     */
    public static Fork ofThisJvm(List<String> caseArgs, int jvms, boolean defaultFlags) throws IOException {
        if (jvms < 1) throw new IllegalArgumentException("--fork needs at least one JVM per row, got " + jvms);
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!defaultFlags || REQUIRED_PREFIXES.stream().anyMatch(a::startsWith)) cmd.add(a);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(CompareCommand.class.getName());
        Path scratch = Files.createTempDirectory("alexnet-fork");
        scratch.toFile().deleteOnExit();
        return new Fork(List.copyOf(cmd), List.copyOf(caseArgs), jvms, scratch);
    }

    /** The peak figures as {@code --peak-figures} gives them to a child, so that its percentages use the parent's. */
    static String encode(Peak.Result p) {
        StringBuilder sb = new StringBuilder().append(p.vectorBits()).append(';').append(p.source());
        for (Peak.Figures f : p.figures()) {
            sb.append(';').append(f.threads()).append(':').append(f.fmaGflops()).append(':').append(f.triadGbs()).append(':').append(f.readGbs());
        }
        return sb.toString();
    }

    static Peak.Result decode(String s) {
        String[] parts = s.split(";");
        List<Peak.Figures> figs = new ArrayList<>();
        for (int i = 2; i < parts.length; i++) {
            String[] f = parts[i].split(":");
            figs.add(new Peak.Figures(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3])));
        }
        return new Peak.Result(Integer.parseInt(parts[0]), List.copyOf(figs), parts[1]);
    }

    /** One row: {@link #jvms} children, the median one returned. */
    Row measure(String backend, int threads, int batch, String layer, Peak.Result peak) throws IOException, InterruptedException {
        List<Row> rows = new ArrayList<>();
        for (int j = 0; j < jvms; j++) rows.add(child(backend, threads, batch, layer, peak));
        if (jvms == 1) return rows.getFirst();
        for (Row r : rows) if (!r.timed() || r.failed()) return r.withNote(jvms + " fresh JVMs; this one: " + r.note());
        List<Row> byTime = rows.stream().sorted(Comparator.comparingDouble(Row::medianMs)).toList();
        double lo = byTime.getFirst().medianMs(), hi = byTime.getLast().medianMs();
        StringBuilder note = new StringBuilder(String.format(Locale.ROOT, "median of %d fresh JVMs, spread %.1f%% (ms:", jvms, 100 * (hi - lo) / lo));
        for (Row r : rows) note.append(String.format(Locale.ROOT, " %.4g", r.medianMs()));
        note.append(')');
        Row mid = byTime.get((jvms - 1) / 2);
        return mid.withNote(mid.note().isEmpty() ? note.toString() : note + "; " + mid.note());
    }

    private Row child(String backend, int threads, int batch, String layer, Peak.Result peak) throws IOException, InterruptedException {
        Path rowsFile = Files.createTempFile(scratch, "rows", ".json"), logFile = Files.createTempFile(scratch, "child", ".log");
        try {
            List<String> cmd = new ArrayList<>(command);
            cmd.addAll(List.of("--backends", backend, "--threads", Integer.toString(threads), "--batch", Integer.toString(batch),
                    "--layers", layer, "--time-limit", "0", "--peak-figures", encode(peak), "--rows-json", rowsFile.toString()));
            cmd.addAll(caseArgs);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            int rc = p.waitFor();
            List<Row> rows = rc <= 1 && Files.size(rowsFile) > 0
                    ? new ObjectMapper().readValue(rowsFile.toFile(), new TypeReference<List<Row>>() {})
                    : List.of();
            if (rows.size() != 1) {
                List<String> out = Files.readAllLines(logFile);
                throw new IOException("exit status " + rc + ", " + rows.size() + " rows; its last lines: "
                        + String.join(" | ", out.subList(Math.max(0, out.size() - 5), out.size())));
            }
            return rows.getFirst();
        } finally {
            Files.deleteIfExists(rowsFile);
            Files.deleteIfExists(logFile);
        }
    }
}
