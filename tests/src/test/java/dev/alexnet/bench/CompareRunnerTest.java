package dev.alexnet.bench;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.model.Devices;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runner measures what it says, and a device that computes the wrong thing is reported as FAIL. */
class CompareRunnerTest {
    /** One run per case, no warm-up: correctness of the bookkeeping, not of any timing. */
    static final Timing.Budget ONE_REP = new Timing.Budget(0, 0, 0, 3, 0.1, 1, 0, 60_000_000_000L, 1);

    static CompareRunner.Config config(List<CompareRunner.Backend> backends, List<String> layers, PrintStream log) {
        return new CompareRunner.Config(backends, List.of(1), List.of(1), layers, ONE_REP,
                Peak.given(List.of(1), 100, 10), false, Agreement.FP32_BOUND, Agreement.FP32_BOUND,
                CompareRunner.RefTiming.ORACLE, 0, LayerTable.Init.COUNTER, 0, log);
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    /** Every layer (the whole network, which would double the scalar oracle's cost, is left to `compare` itself). */
    @Test
    void everyLayerOnRefAndJavaAtBatchOne() {
        List<String> layers = LayerTable.NAMES.subList(0, LayerTable.NAMES.size() - 1);
        List<CompareRunner.Backend> backends = List.of(
                CompareRunner.standard("ref", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32),
                CompareRunner.standard("java", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32));
        CompareRunner.Outcome o = new CompareRunner(config(backends, layers, quiet())).run();

        // The ref rows are the oracle's own run (status and error are not computed for them): only their timing
        // bookkeeping is checked here; the java rows are compared with the oracle, so their agreement is real.
        for (String backend : List.of("ref", "java")) {
            List<Row> rows = o.rows().stream().filter(r -> r.backend().equals(backend)).toList();
            assertEquals(layers, rows.stream().map(Row::layer).toList(), backend + ": one row per layer, table order");
            for (Row r : rows) {
                String what = backend + " " + r.layer();
                if (backend.equals("java")) {
                    assertEquals("OK", r.status(), what + ": " + r.note());
                    assertTrue(r.checkedImages() >= 1, what + ": images compared");
                    // Convolutions and linear layers sum in float with FMA against the oracle's double sums: some
                    // output differs in its last bits, so an error of exactly zero would mean nothing was compared.
                    if (r.kind() == LayerTable.Kind.COMPUTE) assertTrue(r.maxRel() > 0, what + ": max rel " + r.maxRel());
                } else {
                    assertTrue(r.note().contains("oracle"), what + ": " + r.note());
                }
                assertEquals(1, r.batch(), what);
                assertEquals(1, r.threads(), what);
                assertEquals(1, r.reps(), what);
                assertTrue(r.medianMs() > 0 && r.medianMs() < 120_000, what + " median " + r.medianMs());
                assertEquals(r.medianMs(), r.minMs(), 1e-9, what);
                assertEquals(r.medianMs(), r.maxMs(), 1e-9, what);
                assertEquals(LayerTable.workPerImage(r.layer()), r.work(), what);
                // throughput is work / median time, in the unit the case says
                assertEquals(r.work() / (r.medianMs() / 1e3) / 1e9, r.throughput(), 1e-9 * r.throughput(), what);
                assertEquals(LayerTable.unitOf(r.layer()), r.unit(), what);
                assertTrue(r.throughput() > 0 && Double.isFinite(r.throughput()), what);
                assertEquals(1000.0 / r.medianMs(), r.imagesPerSec(), 1e-6 * r.imagesPerSec(), what);
                // % of peak against the given peak: 100 GFLOP/s, 10 GB/s
                double denom = r.kind() == LayerTable.Kind.MEMORY ? 10 : 100;
                assertEquals(100 * r.throughput() / denom, r.pctPeak(), 1e-9 * r.pctPeak() + 1e-12, what);
                assertTrue(r.maxRel() <= Agreement.FP32_BOUND, what + " max rel " + r.maxRel());
                assertTrue(Double.isNaN(r.vsDnnl()), what + ": no oneDNN in this run");
            }
        }
        assertEquals(0, o.exitCode());
        assertEquals(0, o.failures());
    }

    @Test
    void wrongDeviceIsReportedAsFail() {
        // The reference kernels with one output element nudged by 1%: what a subtly broken kernel looks like.
        CompareRunner.Backend broken = new CompareRunner.Backend("broken", true,
                t -> new Tampered(new JavaDevice(1, JavaDevice.Kernels.REFERENCE), out -> out.setAtIndex(JAVA_FLOAT, 7,
                        out.getAtIndex(JAVA_FLOAT, 7) * 1.01f + 0.01f)));
        CompareRunner.Backend honest = new CompareRunner.Backend("honest", true,
                t -> new Tampered(new JavaDevice(1, JavaDevice.Kernels.REFERENCE), out -> {}));
        CompareRunner.Backend silent = new CompareRunner.Backend("silent", true, // writes nothing at all
                t -> new Tampered(new JavaDevice(1, JavaDevice.Kernels.REFERENCE), null));
        List<String> layers = List.of("pool1", "fc8", "softmax");
        CompareRunner.Outcome o = new CompareRunner(config(List.of(broken, honest, silent), layers, quiet())).run();

        assertEquals(9, o.rows().size());
        for (Row r : o.rows()) {
            if (r.backend().equals("honest")) {
                assertEquals("OK", r.status(), r.layer());
                assertEquals(0, r.maxAbs(), r.layer());
            } else {
                assertEquals("FAIL", r.status(), r.backend() + " " + r.layer());
                assertTrue(r.failed());
                assertTrue(r.timed(), "a FAIL row still carries its timing");
                assertTrue(r.note().contains("first run outside bound") || r.note().contains("non-finite"), r.note());
            }
        }
        assertEquals(6, o.failures());
        assertEquals(1, o.exitCode(), "an agreement failure must give a non-zero exit");

        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Reports.printTable(o, new PrintStream(text, true, StandardCharsets.UTF_8));
        String table = text.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("FAIL"), table);
        assertTrue(table.contains("6 failure(s)"), table);
    }

    /**
     * A wrong kernel in one layer on an otherwise correct vector device: only that layer's row fails, and the
     * bound is the bound. One element of conv2's output moves by {@code f * bound * (|y| + rms)}, which is an
     * error of {@code f * bound} in {@link Agreement}'s measure on top of the kernel's own (about 1e-6 here):
     * f = 3 must FAIL, f = 0.3 must pass.
     */
    @Test
    void wrongKernelInOneLayerFailsThatRowOnly() {
        List<String> layers = List.of("pool1", "conv2", "fc8");
        CompareRunner.Outcome o = new CompareRunner(config(List.of(nudged("wrong", "conv2", 3), nudged("close", "conv2", 0.3)),
                layers, quiet())).run();
        assertEquals(6, o.rows().size());
        for (Row r : o.rows()) {
            boolean wrong = r.backend().equals("wrong") && r.layer().equals("conv2");
            assertEquals(wrong ? "FAIL" : "OK", r.status(), r.backend() + " " + r.layer() + ": " + r.note());
            if (r.layer().equals("conv2")) {
                double f = wrong ? 3 : 0.3;
                assertEquals(f * Agreement.FP32_BOUND, r.maxRel(), 0.05 * Agreement.FP32_BOUND, r.backend() + " max rel");
            }
        }
        assertEquals(1, o.failures());
        assertEquals(1, o.exitCode());
    }

    /** The vector kernels on one thread, with one output element of layer {@code layer} moved by f bounds. */
    static CompareRunner.Backend nudged(String name, String layer, double f) {
        return new CompareRunner.Backend(name, true, t -> new Tampered(new JavaDevice(1, JavaDevice.Kernels.VECTOR), layer, out -> {
            long n = out.byteSize() / Float.BYTES;
            double ss = 0;
            for (long i = 0; i < n; i++) ss += (double) out.getAtIndex(JAVA_FLOAT, i) * out.getAtIndex(JAVA_FLOAT, i);
            double rms = Math.sqrt(ss / n);
            long at = n / 3;
            float y = out.getAtIndex(JAVA_FLOAT, at);
            out.setAtIndex(JAVA_FLOAT, at, (float) (y + f * Agreement.FP32_BOUND * (Math.abs(y) + rms)));
        }));
    }

    @Test
    void deviceThatThrowsIsAnError() {
        CompareRunner.Backend throwing = new CompareRunner.Backend("throws", true,
                t -> new Tampered(new JavaDevice(1, JavaDevice.Kernels.REFERENCE), out -> {
                    throw new IllegalStateException("kernel fell over");
                }));
        CompareRunner.Backend missing = new CompareRunner.Backend("missing", true, t -> {
            throw new IllegalStateException("libfoo.so not found");
        });
        CompareRunner.Outcome o = new CompareRunner(config(List.of(throwing, missing), List.of("pool5"), quiet())).run();
        assertEquals(1, o.rows().size());
        assertEquals("ERROR", o.rows().getFirst().status());
        assertTrue(o.rows().getFirst().note().contains("kernel fell over"), o.rows().getFirst().note());
        assertTrue(o.unavailable().get("missing").contains("libfoo.so not found"), o.unavailable().toString());
        assertEquals(1, o.exitCode());
        assertFalse(o.rows().stream().anyMatch(r -> r.backend().equals("missing")));
    }

    /** A device whose programs run the wrapped device's and then do something to the output (null: skip the run). */
    static final class Tampered implements Device {
        private final Device inner;
        private final Consumer<MemorySegment> after;

        private final String only; // the layer whose programs are tampered with; null: every program

        Tampered(Device inner, Consumer<MemorySegment> after) {
            this(inner, null, after);
        }

        Tampered(Device inner, String only, Consumer<MemorySegment> after) {
            this.inner = inner;
            this.only = only;
            this.after = after;
        }

        @Override public String name() { return "tampered:" + inner.name(); }

        @Override
        public Program compile(List<Layer> layers, int batch) {
            Program p = inner.compile(layers, batch);
            if (only != null && layers.stream().noneMatch(l -> l.spec().name().equals(only))) return p;
            return new Program() {
                @Override public int batch() { return p.batch(); }
                @Override public List<Layer> layers() { return p.layers(); }
                @Override
                public void run(MemorySegment input, MemorySegment output, LayerTimer timer) {
                    if (after == null) return;
                    p.run(input, output, timer);
                    after.accept(output);
                }
                @Override public void close() { p.close(); }
            };
        }

        @Override public void close() { inner.close(); }
    }
}
