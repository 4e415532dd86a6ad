package dev.alexnet.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * PNG charts of a comparison (XChart, headless): per batch size, grouped bars of throughput by
 * device for the compute layers (GFLOP/s) and for the memory-bound layers (GB/s), and the speed-up
 * of each device over oneDNN. Only rows that passed the agreement check are drawn: a fast wrong
 * answer is not a result. The y axis turns logarithmic when the bars span more than 30x (the
 * reference kernels next to oneDNN do).
 */
public final class Charts {
    private Charts() {}

    private static final Color[] PALETTE = {
            new Color(0x59, 0x59, 0x59), // ref: grey
            new Color(0x9e, 0xc5, 0xe8), new Color(0x1f, 0x5f, 0xa8), // java:1, java:2 (light/dark blue)
            new Color(0xf5, 0xb0, 0x7a), new Color(0xd2, 0x5a, 0x0c), // dnnl:1, dnnl:2 (light/dark orange)
            new Color(0x3a, 0x9a, 0x4a), new Color(0x8e, 0x44, 0xad), new Color(0xc0, 0x39, 0x2b)};

    /** Writes the charts into {@code dir}; returns the files written. */
    public static List<Path> write(CompareRunner.Outcome o, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Path> files = new ArrayList<>();
        List<Integer> batches = o.rows().stream().map(Row::batch).distinct().toList();
        for (int batch : batches) {
            int b = batch;
            Predicate<Row> ok = r -> r.batch() == b && r.status().equals("OK") && r.timed();
            files.add(bars(o, dir.resolve("throughput_b" + batch + ".png"),
                    "Compute layers and whole network, batch " + batch + ": GFLOP/s (higher is better)", "GFLOP/s",
                    ok.and(r -> r.kind() != LayerTable.Kind.MEMORY), Row::throughput, d -> true, false));
            files.add(bars(o, dir.resolve("bandwidth_b" + batch + ".png"),
                    "Memory-bound layers, batch " + batch + ": GB/s, input read + output written once (higher is better)", "GB/s",
                    ok.and(r -> r.kind() == LayerTable.Kind.MEMORY), Row::throughput, d -> true, false));
            if (o.rows().stream().anyMatch(r -> r.batch() == b && r.backend().equals("dnnl") && r.timed())) {
                files.add(bars(o, dir.resolve("speedup_vs_dnnl_b" + batch + ".png"),
                        "Speed-up over oneDNN at the same thread count, batch " + batch + " (above 1: faster than oneDNN)",
                        "oneDNN time / device time", ok.and(r -> !Double.isNaN(r.vsDnnl())), Row::vsDnnl, d -> !d.startsWith("dnnl"), true));
            }
        }
        files.removeIf(f -> f == null);
        return files;
    }

    private static Path bars(CompareRunner.Outcome o, Path file, String title, String yTitle, Predicate<Row> keep,
                             ToDoubleFunction<Row> value, Predicate<String> deviceFilter, boolean ratio) throws IOException {
        List<Row> rows = o.rows().stream().filter(keep).filter(r -> deviceFilter.test(r.device())).toList();
        if (rows.isEmpty()) return null;
        Set<String> layers = new LinkedHashSet<>(), devices = new LinkedHashSet<>();
        for (String name : LayerTable.NAMES) if (rows.stream().anyMatch(r -> r.layer().equals(name))) layers.add(name);
        rows.stream().map(Row::device).sorted(Charts::deviceOrder).forEach(devices::add);

        CategoryChart chart = new CategoryChartBuilder().width(Math.max(900, 150 + layers.size() * (40 + 18 * devices.size())))
                .height(560).title(title).xAxisTitle("layer").yAxisTitle(yTitle).build();
        var st = chart.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(0xdd, 0xdd, 0xdd));
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setAvailableSpaceFill(0.85);
        st.setOverlapped(false);
        double min = rows.stream().mapToDouble(value).filter(v -> v > 0).min().orElse(1);
        double max = rows.stream().mapToDouble(value).max().orElse(1);
        // XChart's own log axis rejects missing bars (null), so a log chart plots log10(v) - base on a
        // linear axis from 0 and labels the ticks with 10^(tick + base): the same picture, gaps allowed.
        // A ratio chart is always logarithmic around 1: bars grow up for faster than oneDNN, down for slower.
        boolean log = ratio || max / min > 30;
        double base = log && !ratio ? Math.floor(Math.log10(min)) : 0;
        if (!ratio) st.setYAxisMin(0.0);
        if (log) {
            chart.setYAxisTitle(yTitle + " (log scale)");
            chart.setCustomYAxisTickLabelsFormatter(v -> tick(Math.pow(10, v + base)));
        } else {
            st.setYAxisDecimalPattern(max >= 100 ? "#,##0" : max >= 10 ? "0.#" : "0.##");
        }
        DoubleUnaryOperator plot = v -> log ? Math.log10(v) - base : v;

        List<String> x = List.copyOf(layers);
        int ci = 0;
        for (String d : devices) {
            List<Double> y = new ArrayList<>();
            for (String l : x) {
                Row r = rows.stream().filter(q -> q.device().equals(d) && q.layer().equals(l)).findFirst().orElse(null);
                // A missing bar must be null, not 0 (0 breaks the log axis and reads as "zero throughput").
                y.add(r == null ? null : plot.applyAsDouble(value.applyAsDouble(r)));
            }
            var s = chart.addSeries(d, x, y);
            s.setFillColor(colour(d, ci++));
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }

    private static String tick(double v) {
        if (v >= 100) return String.format("%,.0f", v);
        if (v >= 1) return String.format("%.3g", v);
        return String.format("%.2g", v);
    }

    /** ref first, then java, dnnl, cuda, others; by thread count within a backend. */
    static int deviceOrder(String a, String b) {
        int c = Integer.compare(rank(a), rank(b));
        return c != 0 ? c : a.compareTo(b);
    }

    private static int rank(String d) {
        if (d.startsWith("ref")) return 0;
        if (d.startsWith("java")) return 1;
        if (d.startsWith("dnnl")) return 2;
        if (d.startsWith("ort")) return 3;
        if (d.startsWith("cuda")) return 4;
        return 5;
    }

    private static Color colour(String device, int fallback) {
        return switch (device) {
            case "ref:1" -> PALETTE[0];
            case "java:1" -> PALETTE[1];
            case "java:2" -> PALETTE[2];
            case "dnnl:1" -> PALETTE[3];
            case "dnnl:2" -> PALETTE[4];
            case "ort:1" -> PALETTE[6];
            case "ort:2" -> PALETTE[7];
            default -> device.startsWith("cuda") ? PALETTE[5] : PALETTE[6 + fallback % 2];
        };
    }
}
