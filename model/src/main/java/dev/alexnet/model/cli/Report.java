package dev.alexnet.model.cli;

import dev.alexnet.model.RunStats;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Terminal tables: per-layer times and the two-tower summary. */
final class Report {
    private Report() {}

    /** Median per-layer milliseconds over runs, grouped by track (the device, or tower A then tower B). */
    static void layerTable(List<RunStats> runs, PrintStream out) {
        Map<String, Map<String, List<Double>>> perTrack = new java.util.TreeMap<>();
        for (RunStats r : runs) {
            Map<String, Map<String, Double>> thisRun = new LinkedHashMap<>();
            for (RunStats.Span s : r.spans()) {
                if (s.kind() == RunStats.Kind.LAYER) {
                    thisRun.computeIfAbsent(s.track(), k -> new LinkedHashMap<>()).merge(s.name(), s.durNanos() / 1e6, Double::sum);
                }
            }
            thisRun.forEach((track, layers) -> layers.forEach((layer, ms) -> perTrack
                    .computeIfAbsent(track, k -> new LinkedHashMap<>()).computeIfAbsent(layer, k -> new ArrayList<>()).add(ms)));
        }
        out.printf("%-24s %-8s %10s%n", "device / tower", "layer", "median ms");
        for (var t : perTrack.entrySet()) {
            double total = 0;
            boolean first = true;
            for (var e : t.getValue().entrySet()) {
                double med = median(e.getValue());
                out.printf("%-24s %-8s %10.3f%n", first ? t.getKey() : "", e.getKey(), med);
                first = false;
                total += med;
            }
            out.printf("%-24s %-8s %10.3f%n", "", "sum", total);
        }
    }

    static void twoTowerSummary(RunStats stats, PrintStream out) {
        List<String> tracks = stats.tracks().stream().sorted().toList();
        if (tracks.size() < 2) return;
        out.printf("%-28s %12s %12s %12s %14s%n", "tower", "compute ms", "exchange ms", "idle ms", "bytes sent");
        for (String t : tracks) {
            out.printf("%-28s %12.3f %12.3f %12.3f %,14d%n", t, stats.total(t, RunStats.Kind.LAYER) / 1e6,
                    stats.total(t, RunStats.Kind.EXCHANGE) / 1e6, stats.total(t, RunStats.Kind.WAIT) / 1e6,
                    stats.bytesByTrack().getOrDefault(t, 0L));
        }
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
