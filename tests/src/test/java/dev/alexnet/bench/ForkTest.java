package dev.alexnet.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.Devices;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code compare --fork}: what a parent hands its children and reads back survives the trip, and a forked row is a real one. */
class ForkTest {
    @Test
    void peakFiguresRoundTrip() {
        Peak.Result p = new Peak.Result(512, List.of(new Peak.Figures(1, 115.25, 24.7, 30.125), new Peak.Figures(2, 229.5, 27.0, 33.0)), "measured");
        assertEquals(p, Fork.decode(Fork.encode(p)));
    }

    @Test
    void rowsRoundTripThroughJsonWithMissingFigures() throws Exception {
        LayerTable.Case c;
        try (LayerTable t = LayerTable.create(LayerTable.Init.COUNTER, 0)) {
            c = t.select(List.of("pool5")).getFirst();
        }
        Row untimed = Row.untimed("java", "java:2", 2, 1, c, "SKIP", null, 1e-4, "time limit, \"quoted\"");
        Row timed = new Row(new Row.Subject("java", "java:1", 1, 32, "conv3", LayerTable.Kind.COMPUTE, "GFLOP/s"), "OK",
                new Row.Times(7, 3, 12.5, true, false, 1.5, 1.4, 1.45, 1.55, 1.7, 6.9),
                new Row.Speed(1e9, 666.7, 21333, 48.1, Double.NaN), new Row.Check(1e-6, 2e-6, 1e-4, 3), 80.0, "");
        ObjectMapper json = new ObjectMapper();
        List<Row> back = json.readValue(json.writeValueAsString(List.of(untimed, timed)), new TypeReference<List<Row>>() {});
        assertEquals(List.of(untimed, timed), back);
    }

    /** Two children for one row: the row comes back measured and agreeing, with both JVMs' times in its note. */
    @Test
    void forkedRowIsMeasuredInFreshJvms() throws Exception {
        CompareRunner.Backend java = CompareRunner.standard("java", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
        CompareRunner.Config cfg = CompareRunnerTest.config(List.of(java), List.of("pool5"), CompareRunnerTest.quiet());
        Fork fork = Fork.ofThisJvm(List.of("--quick"), 2, false);
        CompareRunner.Outcome o = new CompareRunner(cfg, fork).run();
        assertEquals(1, o.rows().size(), o.rows().toString());
        Row r = o.rows().getFirst();
        assertEquals("OK", r.status(), r.note());
        assertTrue(r.timed() && r.reps() >= 3, r.toString());
        assertTrue(r.maxRel() <= cfg.bound(), r.toString());
        assertTrue(r.note().startsWith("median of 2 fresh JVMs"), r.note());
        // % of peak uses the parent's peak (100 GFLOP/s, 10 GB/s: pool5 is a memory case)
        assertEquals(100 * r.throughput() / 10, r.pctPeak(), 1e-9 * r.pctPeak());
    }
}
