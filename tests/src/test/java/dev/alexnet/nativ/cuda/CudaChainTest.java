package dev.alexnet.nativ.cuda;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.Program;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.alexnet.nativ.cuda.CudaTestSupport.open;
import static dev.alexnet.nativ.cuda.CudaTestSupport.relError;
import static dev.alexnet.nativ.cuda.CudaTestSupport.run;
import static dev.alexnet.nativ.cuda.CudaTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole AlexNet-shaped chain (conv1 .. fc8 logits, LRN per tower: channelGroups = 2) at batch 2 on
 * cuda:0 against the scalar reference. Bounds on max|a-b|/max|b| of the logits:
 * <ul>
 *   <li>fp32: 1e-4 (strict float32 everywhere; different summation orders only);</li>
 *   <li>tf32: 2e-2 (products rounded to a 10-bit mantissa, ~5e-4 each, through 8 layers of sums).</li>
 * </ul>
 */
@Tag("gpu")
class CudaChainTest {
    static final int BATCH = 2;
    static Arena arena;
    static List<Layer> net;
    static MemorySegment input;
    static float[] expected;

    @BeforeAll
    static void reference() {
        CudaTestSupport.assumeCuda(); // before the slow reference
        arena = Arena.ofShared();
        net = CudaBench.alexnet(arena, 2012, AlexNetLayers.PAPER, false);
        input = uniform(arena, BATCH * net.getFirst().spec().inputSize(), 1, 0f, 1f);
        expected = CudaTestSupport.reference(net, BATCH, input);
    }

    @AfterAll
    static void release() {
        if (arena != null) arena.close();
    }

    @Test
    void fp32MatchesReference() {
        try (CudaDevice dev = open(CudaDevice.Precision.FP32)) {
            CudaProgram p = dev.compile(net, BATCH);
            assertTrue(p.graphed(), p.graphNote());
            double err = relError(run(p, input), expected);
            System.out.printf("cuda fp32 chain: relative error %.3g, algorithms %s%n", err, p.algorithms());
            assertTrue(err < 1e-4, "fp32 relative error " + err);
        }
    }

    @Test
    void tf32WithinItsLooserBound() {
        try (CudaDevice dev = open(CudaDevice.Precision.TF32)) {
            Program p = dev.compile(net, BATCH);
            double err = relError(run(p, input), expected);
            System.out.printf("cuda tf32 chain: relative error %.3g%n", err);
            assertTrue(err < 2e-2, "tf32 relative error " + err);
        }
    }

    @Test
    void graphsEagerAndTimedRunsAgree() {
        try (CudaDevice g = open(CudaDevice.Precision.FP32, new CudaDevice.Options(true, CudaDevice.Lrn.AUTO));
             CudaDevice e = open(CudaDevice.Precision.FP32, new CudaDevice.Options(false, CudaDevice.Lrn.AUTO))) {
            Program pg = g.compile(net, BATCH), pe = e.compile(net, BATCH);
            float[] a = run(pg, input), b = run(pe, input), again = run(pg, input);
            assertArrayEquals(a, again, "a replayed graph must be deterministic");
            assertTrue(relError(a, b) < 1e-6, "graph vs eager " + relError(a, b));
            List<String> timed = new ArrayList<>();
            try (Arena a2 = Arena.ofConfined()) {
                MemorySegment out = a2.allocate(pg.outputFloats() * 4);
                pg.run(input, out, new LayerTimer() {
                    @Override public void record(String layer, long nanos) { timed.add(layer); }
                });
                assertTrue(relError(out.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), expected) < 1e-4);
            }
            assertEquals(net.stream().map(l -> l.spec().name()).toList(), timed);
        }
    }

    /** Two towers' worth of streams on one GPU, driven from two threads at once, agree with one stream. */
    @Test
    void twoDevicesOnTwoStreamsConcurrently() throws Exception {
        float[] single;
        try (CudaDevice one = open(CudaDevice.Precision.FP32)) {
            single = run(one.compile(net, BATCH), input);
        }
        try (CudaDevice a = open(CudaDevice.Precision.FP32); CudaDevice b = open(CudaDevice.Precision.FP32)) {
            Program pa = a.compile(net, BATCH), pb = b.compile(net, BATCH);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<float[][]>> results = new ArrayList<>();
                for (Program p : List.of(pa, pb)) {
                    results.add(pool.submit(() -> {
                        float[][] outs = new float[20][];
                        for (int i = 0; i < outs.length; i++) outs[i] = run(p, input);
                        return outs;
                    }));
                }
                for (Future<float[][]> f : results) {
                    for (float[] out : f.get()) assertArrayEquals(single, out);
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void closingReleasesAndRejectsFurtherUse() {
        CudaDevice dev = open(CudaDevice.Precision.FP32);
        CudaProgram p = dev.compile(net.subList(0, 3), 1);
        dev.close();
        dev.close(); // idempotent
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate(p.inputFloats() * 4), out = a.allocate(p.outputFloats() * 4);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> p.run(in, out));
        }
    }
}
