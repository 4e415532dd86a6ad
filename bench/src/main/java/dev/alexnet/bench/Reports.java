package dev.alexnet.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.alexnet.kernels.Agreement;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The outputs of {@code compare}: the terminal table, results.csv and results.json. */
public final class Reports {
    private Reports() {}

    /** One block per batch size; rows in table order, then by thread count and backend. */
    public static void printTable(CompareRunner.Outcome o, PrintStream out) {
        out.println();
        out.println("AlexNet layer comparison (" + o.weights() + "; agreement vs the scalar reference kernels)");
        out.printf("machine: %s, %s logical CPUs, JDK %s, load %s%n", o.machine().get("cpu_model"), o.machine().get("logical_cpus"),
                o.machine().get("jdk_version"), o.machine().get("load_average"));
        for (Peak.Figures f : o.peak().figures()) {
            out.printf("peak (%s), %d thread(s): FMA %.1f GFLOP/s, triad %.1f GB/s%n", o.peak().source(), f.threads(), f.fmaGflops(), f.triadGbs());
        }
        o.unavailable().forEach((b, why) -> out.println("unavailable: " + b + ": " + why));
        List<Integer> batches = o.rows().stream().map(Row::batch).distinct().toList();
        for (int batch : batches) {
            out.println();
            out.println("batch " + batch);
            List<String[]> cells = new ArrayList<>();
            cells.add(new String[] {"layer", "device", "median ms", "min..max ms", "IQR%", "throughput", "%peak", "vs dnnl",
                    "max abs", "max rel", "check"});
            String prev = null;
            for (Row r : o.rows()) {
                if (r.batch() != batch) continue;
                boolean first = !r.layer().equals(prev);
                prev = r.layer();
                cells.add(new String[] {
                        first ? r.layer() : "", r.device(),
                        r.timed() ? fmt(r.medianMs()) : "-",
                        r.timed() ? fmt(r.minMs()) + ".." + fmt(r.maxMs()) : "-",
                        r.timed() && r.reps() > 1 ? String.format("%.0f", r.iqrPct()) : "-",
                        r.timed() ? sig(r.throughput()) + " " + r.unit() : "-",
                        Double.isNaN(r.pctPeak()) ? "-" : pct(r.pctPeak()),
                        Double.isNaN(r.vsDnnl()) ? "-" : sig(r.vsDnnl()) + "x",
                        Double.isNaN(r.maxAbs()) ? "-" : String.format("%.1e", r.maxAbs()),
                        Double.isNaN(r.maxRel()) ? "-" : String.format("%.1e", r.maxRel()),
                        r.status() + (r.note().isEmpty() ? "" : " (" + r.note() + ")")});
            }
            printAligned(cells, out);
        }
        out.println();
        out.printf("max rel = max |y-r| / (|r| + rms(r)); bound %.0e (fp32). vs dnnl = oneDNN time / this time (>1: faster than oneDNN).%n",
                o.rows().isEmpty() ? Agreement.FP32_BOUND : o.rows().getFirst().bound());
        long fails = o.failures();
        if (o.timeLimitHit()) out.println("time limit reached: some cases were skipped (see SKIP rows)");
        out.printf("%d row(s), %d failure(s), %.0f s%s%n", o.rows().size(), fails, o.wallSeconds(), fails > 0 ? "  <-- FAIL" : "");
    }

    /** Three significant digits, no exponent for ordinary sizes: 0.0123, 1.23, 12.3, 123, 1234. */
    static String sig(double v) {
        double a = Math.abs(v);
        if (a >= 100) return String.format("%.0f", v);
        if (a >= 10) return String.format("%.1f", v);
        if (a >= 1) return String.format("%.2f", v);
        if (a >= 0.001 || a == 0) return String.format("%.3g", v);
        return String.format("%.1e", v);
    }

    static String pct(double p) {
        return (p >= 10 ? String.format("%.0f", p) : p >= 1 ? String.format("%.1f", p) : String.format("%.2f", p)) + "%";
    }

    static String fmt(double ms) {
        if (ms >= 100) return String.format("%.0f", ms);
        if (ms >= 10) return String.format("%.1f", ms);
        if (ms >= 1) return String.format("%.2f", ms);
        return String.format("%.3f", ms);
    }

    private static void printAligned(List<String[]> cells, PrintStream out) {
        int cols = cells.getFirst().length;
        int[] w = new int[cols];
        for (String[] r : cells) for (int i = 0; i < cols - 1; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : cells) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                boolean left = i < 2 || i == cols - 1;
                String s = r[i];
                if (i == cols - 1) sb.append(s);
                else if (left) sb.append(s).append(" ".repeat(w[i] - s.length())).append("  ");
                else sb.append(" ".repeat(w[i] - s.length())).append(s).append("  ");
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    public static void writeCsv(CompareRunner.Outcome o, Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(Row.csvHeader());
        for (Row r : o.rows()) lines.add(r.csv());
        Files.write(file, lines);
    }

    /** Every figure of every row, plus the machine, the peak used, the configuration and unavailable backends. */
    public static void writeJson(CompareRunner.Outcome o, Map<String, Object> config, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("tool", "alexnet compare");
        root.put("weights", o.weights());
        root.set("machine", json.valueToTree(o.machine()));
        ObjectNode peak = root.putObject("peak");
        peak.put("source", o.peak().source());
        peak.put("vector_bits", o.peak().vectorBits());
        ArrayNode pf = peak.putArray("figures");
        for (Peak.Figures f : o.peak().figures()) {
            pf.addObject().put("threads", f.threads()).put("fma_gflops", f.fmaGflops()).put("triad_gbs", f.triadGbs()).put("read_gbs", f.readGbs());
        }
        root.set("config", json.valueToTree(config));
        root.set("devices", json.valueToTree(o.devices()));
        root.set("unavailable", json.valueToTree(o.unavailable()));
        root.put("time_limit_hit", o.timeLimitHit());
        root.put("wall_seconds", o.wallSeconds());
        root.put("failures", o.failures());
        ArrayNode rows = root.putArray("rows");
        for (Row r : o.rows()) {
            ObjectNode n = rows.addObject();
            n.put("backend", r.backend()).put("device", r.device()).put("threads", r.threads()).put("batch", r.batch())
                    .put("layer", r.layer()).put("kind", r.kind().name().toLowerCase()).put("unit", r.unit()).put("status", r.status())
                    .put("reps", r.reps()).put("warmup_reps", r.warmupReps());
            num(n, "warmup_ms", r.warmupMs());
            n.put("steady", r.steady()).put("drift", r.drift());
            num(n, "median_ms", r.medianMs());
            num(n, "min_ms", r.minMs());
            num(n, "p25_ms", r.p25Ms());
            num(n, "p75_ms", r.p75Ms());
            num(n, "max_ms", r.maxMs());
            num(n, "iqr_pct", r.iqrPct());
            num(n, "work", r.work());
            num(n, "throughput", r.throughput());
            num(n, "images_per_s", r.imagesPerSec());
            num(n, "pct_peak", r.pctPeak());
            num(n, "vs_dnnl", r.vsDnnl());
            num(n, "max_abs_err", r.maxAbs());
            num(n, "max_rel_err", r.maxRel());
            num(n, "bound", r.bound());
            n.put("checked_images", r.checkedImages());
            num(n, "compile_ms", r.compileMs());
            n.put("note", r.note());
        }
        json.writeValue(file.toFile(), root);
    }

    /** JSON has no NaN: missing figures are null. */
    private static void num(ObjectNode n, String k, double v) {
        if (Double.isFinite(v)) n.put(k, v);
        else n.putNull(k);
    }
}
