package dev.alexnet.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.alexnet.bench.LayerTable;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints a JMH JSON result file ({@code -rf json}) of {@link LayerBench} and {@link NetworkBench} as
 * a table with GFLOP/s (conv, fc, network) or GB/s (pool, lrn, softmax) computed from the same
 * {@link LayerTable} work figures {@code compare} uses: {@code bin/jmh-quick} and {@code bin/jmh-full}
 * run it after JMH. Usage: {@code JmhReport results/jmh-quick.json}.
 */
public final class JmhReport {
    private JmhReport() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: JmhReport <jmh-result.json>");
            System.exit(2);
        }
        JsonNode root = new ObjectMapper().readTree(Path.of(args[0]).toFile());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"benchmark", "case", "device", "batch", "ms/op", "+-99.9%", "throughput", "img/s"});
        for (JsonNode r : root) {
            String bench = r.path("benchmark").asText();
            bench = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            JsonNode p = r.path("params");
            int batch = p.path("batch").asInt(1);
            String layer = p.has("layer") ? p.path("layer").asText() : "network";
            String device = p.has("device") ? p.path("device").asText() : p.path("placement").asText();
            JsonNode m = r.path("primaryMetric");
            double ms = toMs(m.path("score").asDouble(), m.path("scoreUnit").asText());
            double err = toMs(m.path("scoreError").asDouble(Double.NaN), m.path("scoreUnit").asText());
            double work = LayerTable.workPerImage(layer) * batch;
            double thr = work / (ms / 1e3) / 1e9;
            rows.add(new String[] {bench, layer, device, Integer.toString(batch), String.format("%.3f", ms),
                    Double.isNaN(err) ? "-" : String.format("%.3f", err), String.format("%.1f %s", thr, LayerTable.unitOf(layer)),
                    String.format("%.1f", batch / (ms / 1e3))});
        }
        int[] w = new int[rows.getFirst().length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                String pad = " ".repeat(w[i] - r[i].length());
                sb.append(i < 3 ? r[i] + pad : pad + r[i]).append("  ");
            }
            System.out.println(sb.toString().stripTrailing());
        }
    }

    private static double toMs(double v, String unit) {
        return switch (unit) {
            case "ms/op" -> v;
            case "us/op" -> v / 1e3;
            case "ns/op" -> v / 1e6;
            case "s/op" -> v * 1e3;
            default -> throw new IllegalArgumentException("unexpected JMH unit " + unit + " (the benchmarks use AverageTime)");
        };
    }
}
