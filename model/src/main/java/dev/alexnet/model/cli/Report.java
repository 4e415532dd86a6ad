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

    /** Median per-layer milliseconds over runs, per track (device or tower). */
    static void layerTable(List<RunStats> runs, PrintStream out) {
        Map<String, List<Double>> perLayer = new LinkedHashMap<>();
        for (RunStats r : runs) {
            Map<String, Double> thisRun = new LinkedHashMap<>();
            for (RunStats.Span s : r.spans()) {
                String key = s.track() + "\t" + s.name();
                if (s.kind() == RunStats.Kind.LAYER) thisRun.merge(key, s.durNanos() / 1e6, Double::sum);
            }
            thisRun.forEach((k, v) -> perLayer.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        out.printf("%-24s %-8s %10s%n", "device / tower", "layer", "median ms");
        String last = "";
        double total = 0;
        for (var e : perLayer.entrySet()) {
            String[] k = e.getKey().split("\t");
            double med = median(e.getValue());
            out.printf("%-24s %-8s %10.3f%n", k[0].equals(last) ? "" : k[0], k[1], med);
            last = k[0];
            total += med;
        }
        out.printf("%-24s %-8s %10.3f  (sum of layer medians over all tracks)%n", "", "total", total);
    }

    static void twoTowerSummary(RunStats stats, PrintStream out) {
        List<String> tracks = stats.tracks();
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
