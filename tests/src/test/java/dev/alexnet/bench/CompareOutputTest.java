package dev.alexnet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `compare --out DIR` end to end through picocli: results.csv, results.json and charts, all parseable. */
class CompareOutputTest {
    @Test
    void writesCsvJsonAndCharts(@TempDir Path dir) throws IOException {
        int code = new CommandLine(new CompareCommand()).execute("--backends", "ref,java", "--batch", "1", "--threads", "1",
                "--layers", "pool5,softmax,fc8", "--warmup-ms", "0", "--time-ms", "0", "--min-reps", "2",
                "--peak-gflops", "100", "--peak-gbs", "10", "--out", dir.toString());
        assertEquals(0, code);

        List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        String[] header = csv.getFirst().split(",");
        assertEquals(Row.csvHeader(), csv.getFirst());
        assertEquals(1 + 6, csv.size(), "header + 3 layers x (ref, java)");
        for (String line : csv.subList(1, csv.size())) {
            List<String> cells = splitCsv(line);
            assertEquals(header.length, cells.size(), line);
            assertEquals("OK", cells.get(List.of(header).indexOf("status")), line);
            double median = Double.parseDouble(cells.get(List.of(header).indexOf("median_ms")));
            assertTrue(median > 0, line);
        }

        JsonNode root = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertEquals(6, root.path("rows").size());
        assertEquals(0, root.path("failures").asInt());
        assertFalse(root.path("machine").path("cpu_model").asText().isEmpty());
        assertTrue(root.path("machine").path("jdk_version").asText().startsWith("2"), root.path("machine").toString());
        assertEquals("given", root.path("peak").path("source").asText());
        assertEquals(100.0, root.path("peak").path("figures").get(0).path("fma_gflops").asDouble());
        for (JsonNode r : root.path("rows")) {
            assertTrue(r.path("median_ms").asDouble() > 0, r.toString());
            assertTrue(r.path("throughput").asDouble() > 0, r.toString());
            assertTrue(r.has("max_rel_err") && r.has("bound") && r.has("pct_peak"), r.toString());
            assertTrue(r.path("vs_dnnl").isNull(), "no oneDNN in this run: null, not NaN");
        }
        assertEquals(List.of("ref", "java"), toList(root.path("config").path("backends")));

        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        for (String chart : List.of("throughput_b1.png", "bandwidth_b1.png")) {
            Path f = dir.resolve(chart);
            assertTrue(Files.size(f) > 1000, chart);
            byte[] head = new byte[4];
            System.arraycopy(Files.readAllBytes(f), 0, head, 0, 4);
            assertArrayEquals(png, head, chart);
        }
    }

    @Test
    void badOptionsExitTwo() {
        CommandLine cli = new CommandLine(new CompareCommand());
        cli.setErr(new java.io.PrintWriter(java.io.OutputStream.nullOutputStream()));
        assertEquals(2, cli.execute("--batch", "one"));
    }

    static List<String> toList(JsonNode array) {
        List<String> l = new ArrayList<>();
        array.forEach(n -> l.add(n.asText()));
        return l;
    }

    /** Splits one CSV line, honouring double quotes. */
    static List<String> splitCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean q = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (q) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (ch == '"') q = false;
                else cur.append(ch);
            } else if (ch == '"') q = true;
            else if (ch == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else cur.append(ch);
        }
        out.add(cur.toString());
        return out;
    }
}
