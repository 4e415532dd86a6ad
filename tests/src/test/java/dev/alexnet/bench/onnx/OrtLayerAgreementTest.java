package dev.alexnet.bench.onnx;

import dev.alexnet.model.onnx.OnnxModel;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.Devices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each layer kind on {@code ort:2} against the scalar reference ({@code JavaDevice(1, REFERENCE)}) on the
 * same data, small and AlexNet shapes, batch 1 and 2; LRN both decomposed (the default) and as ONNX's
 * LRN operator.
 *
 * <p>Tolerances, relative to the output's largest magnitude: max pooling selects, so it must agree
 * exactly. Convolution and fully connected layers: ORT accumulates K products in float32 (the
 * reference in float32 too, in another order), an error that grows like sqrt(K) * 2^-24 with random
 * signs: at most 1e-5 for K = 9216, so 1e-4 leaves a margin of 10 and still catches any wrong
 * index or layout (those give errors of order 1). LRN and softmax: a few float32 roundings of
 * pow/exp, so 1e-5.
 */
class OrtLayerAgreementTest {
    private static final double ACC_TOL = 1e-4, ELEMENTWISE_TOL = 1e-5;

    private static Arena arena;
    private static OnnxRuntimeDevice ort, ortLrnOp; // LRN decomposed (the default) and as ONNX's LRN operator
    private static JavaDevice ref;

    @BeforeAll
    static void open() {
        arena = Arena.ofShared();
        ort = new OnnxRuntimeDevice(2, OnnxModel.LrnMode.DECOMPOSED);
        ortLrnOp = new OnnxRuntimeDevice(2, OnnxModel.LrnMode.OP);
        ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE);
    }

    @AfterAll
    static void close() {
        ort.close();
        ortLrnOp.close();
        ref.close();
        arena.close();
    }

    private static double check(LayerSpec spec, int batch, float inputStd, double tol) {
        return check(ort, spec, batch, inputStd, tol);
    }

    private static double check(OnnxRuntimeDevice dev, LayerSpec spec, int batch, float inputStd, double tol) {
        List<Layer> layers = OrtTestSupport.withParams(arena, List.of(spec), spec.name().hashCode());
        double err = OrtTestSupport.compare(arena, dev, ref, layers, batch, inputStd, 31L * batch + spec.hashCode());
        System.out.printf("%-60s batch %d, lrn %s: rel err %.3g%n", spec, batch, dev.lrnMode(), err);
        assertTrue(err <= tol, spec + " at batch " + batch + " (LRN " + dev.lrnMode() + "): relative error " + err + " > " + tol);
        return err;
    }

    @Test
    void convolution() {
        List<LayerSpec.Conv> small = List.of(
                new LayerSpec.Conv("c3x3", 3, 11, 11, 8, 3, 1, 1, 1, true),
                new LayerSpec.Conv("c3x3s2g2", 4, 9, 10, 6, 3, 2, 0, 2, false),
                new LayerSpec.Conv("c5x5g2", 8, 7, 7, 8, 5, 1, 2, 2, true),
                new LayerSpec.Conv("c11s4", 3, 23, 23, 16, 11, 4, 2, 1, true),
                new LayerSpec.Conv("c1x1g4", 8, 5, 5, 12, 1, 1, 0, 4, false));
        for (LayerSpec.Conv c : small) for (int b = 1; b <= 2; b++) check(c, b, 1f, ACC_TOL);
        // AlexNet shapes: conv1 (stride 4, no pad) and conv5 (grouped); batch 1 (the reference is slow).
        check(new LayerSpec.Conv("conv1", 3, 227, 227, 96, 11, 4, 0, 1, true), 1, 1f, ACC_TOL);
        check(new LayerSpec.Conv("conv5", 384, 13, 13, 256, 3, 1, 1, 2, true), 1, 1f, ACC_TOL);
    }

    @Test
    void maxPooling() {
        for (int b = 1; b <= 2; b++) {
            check(new LayerSpec.MaxPool("p3s2", 4, 9, 9, 3, 2, 0), b, 1f, 0);
            check(new LayerSpec.MaxPool("p3s2pad", 3, 8, 7, 3, 2, 1), b, 1f, 0);
            check(new LayerSpec.MaxPool("p2s2", 5, 6, 6, 2, 2, 0), b, 1f, 0);
        }
        check(new LayerSpec.MaxPool("pool1", 96, 55, 55, 3, 2, 0), 2, 1f, 0);
        check(new LayerSpec.MaxPool("pool5", 256, 13, 13, 3, 2, 0), 2, 1f, 0);
    }

    @Test
    void lrn() {
        // Inputs N(0, 30): the paper's k=2, alpha=1e-4 then really normalise (alpha * sum a^2 ~ 0.5).
        // Other parameters in the libraries' convention (alpha / n) and betas that take the other
        // branches of the decomposition (Pow, Sqrt, none).
        List<LrnParams> others = List.of(new LrnParams(3, 1f, 0.02f, 0.6f, true), new LrnParams(7, 1.5f, 0.05f, 0.5f, false),
                new LrnParams(3, 1f, 0.1f, 1f, true));
        for (OnnxRuntimeDevice dev : List.of(ort, ortLrnOp)) {
            for (int b = 1; b <= 2; b++) {
                for (int g = 1; g <= 2; g++) {
                    check(dev, new LayerSpec.Lrn("lrn10g" + g, 10, 5, 4, LrnParams.PAPER, g), b, 30f, ELEMENTWISE_TOL);
                    for (LrnParams o : others) check(dev, new LayerSpec.Lrn("lrn14other" + g, 14, 3, 3, o, g), b, 3f, ELEMENTWISE_TOL);
                }
            }
            check(dev, new LayerSpec.Lrn("lrn1", 96, 55, 55, LrnParams.PAPER, 2), 2, 30f, ELEMENTWISE_TOL);
            check(dev, new LayerSpec.Lrn("lrn2", 256, 27, 27, LrnParams.PAPER, 1), 1, 30f, ELEMENTWISE_TOL);
            check(dev, new LayerSpec.Lrn("lrn2", 256, 27, 27, LrnParams.PAPER, 2), 1, 30f, ELEMENTWISE_TOL);
        }
    }

    @Test
    void lrnGroupsMatter() {
        for (OnnxRuntimeDevice dev : List.of(ort, ortLrnOp)) lrnGroupsMatter(dev);
    }

    private static void lrnGroupsMatter(OnnxRuntimeDevice dev) {
        // Guards the channel groups (Split/Concat, or the band's zeros): per-tower LRN must differ from LRN across all channels.
        LayerSpec.Lrn g1 = new LayerSpec.Lrn("a", 10, 4, 4, LrnParams.PAPER, 1), g2 = new LayerSpec.Lrn("b", 10, 4, 4, LrnParams.PAPER, 2);
        try (Program p1 = dev.compile(List.of(Layer.of(g1)), 1); Program p2 = dev.compile(List.of(Layer.of(g2)), 1)) {
            MemorySegment in = arena.allocate(p1.inputFloats() * Float.BYTES, 64);
            OrtTestSupport.fillGaussian(in, p1.inputFloats(), new SplittableRandom(3), 30f);
            MemorySegment a = arena.allocate(p1.outputFloats() * Float.BYTES, 64), b = arena.allocate(p1.outputFloats() * Float.BYTES, 64);
            p1.run(in, a);
            p2.run(in, b);
            assertTrue(OrtTestSupport.relErr(a, b, p1.outputFloats()) > 1e-3, "channel groups had no effect");
        }
    }

    @Test
    void linear() {
        for (int b = 1; b <= 2; b++) {
            check(new LayerSpec.Linear("fc50", 50, 20, true), b, 1f, ACC_TOL);
            check(new LayerSpec.Linear("fc7x3", 7, 3, false), b, 1f, ACC_TOL);
        }
        check(new LayerSpec.Linear("fc6", 9216, 4096, true), 2, 1f, ACC_TOL);
        check(new LayerSpec.Linear("fc8", 4096, 1000, false), 2, 1f, ACC_TOL);
    }

    @Test
    void softmax() {
        for (int b = 1; b <= 2; b++) check(new LayerSpec.Softmax("sm10", 10), b, 3f, ELEMENTWISE_TOL);
        check(new LayerSpec.Softmax("softmax", 1000), 2, 5f, ELEMENTWISE_TOL);
    }

    @Test
    void chainWithFlattenAndReshape() {
        // conv -> lrn -> pool (4-D), Flatten into fc, fc back into a conv (Reshape), fc, softmax.
        List<LayerSpec> specs = List.of(
                new LayerSpec.Conv("conv", 3, 12, 12, 8, 3, 1, 1, 1, true),
                new LayerSpec.Lrn("lrn", 8, 12, 12, LrnParams.PAPER, 2),
                new LayerSpec.MaxPool("pool", 8, 12, 12, 3, 2, 0),
                new LayerSpec.Linear("fc1", 8 * 5 * 5, 4 * 3 * 3, true),
                new LayerSpec.Conv("conv2", 4, 3, 3, 6, 3, 1, 1, 2, true),
                new LayerSpec.Linear("fc2", 6 * 3 * 3, 10, false),
                new LayerSpec.Softmax("sm", 10));
        List<Layer> layers = OrtTestSupport.withParams(arena, specs, 99);
        for (OnnxRuntimeDevice dev : List.of(ort, ortLrnOp)) {
            for (int b = 1; b <= 2; b++) {
                double err = OrtTestSupport.compare(arena, dev, ref, layers, b, 3f, b);
                System.out.printf("chain conv..sm batch %d, lrn %s: rel err %.3g%n", b, dev.lrnMode(), err);
                assertTrue(err <= ACC_TOL, "chain relative error " + err);
            }
        }
    }

    @Test
    void rerunsSeeNewInputAndTimerGetsOneEntry() {
        List<Layer> layers = OrtTestSupport.withParams(arena, List.of(
                new LayerSpec.Conv("convA", 2, 6, 6, 4, 3, 1, 1, 1, true),
                new LayerSpec.Linear("fcB", 4 * 6 * 6, 5, false)), 5);
        try (Program p = ort.compile(layers, 2); Program r = ref.compile(layers, 2)) {
            MemorySegment in = arena.allocate(p.inputFloats() * Float.BYTES, 64);
            MemorySegment got = arena.allocate(p.outputFloats() * Float.BYTES, 64), want = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            SplittableRandom rng = new SplittableRandom(1);
            Map<String, Long> times = new LinkedHashMap<>();
            for (int i = 0; i < 3; i++) {
                OrtTestSupport.fillGaussian(in, p.inputFloats(), rng, 1f);
                p.run(in, got, (name, ns) -> times.merge(name, 1L, Long::sum));
                r.run(in, want);
                double err = OrtTestSupport.relErr(got, want, p.outputFloats());
                assertTrue(err <= ACC_TOL, "run " + i + ": relative error " + err);
            }
            assertEquals(Map.of("convA..fcB", 3L), times);
        }
    }

    @Test
    void createdByName() {
        try (var d = Devices.create("ort:1", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            assertEquals("ort:1", d.name());
            assertTrue(d instanceof OnnxRuntimeDevice);
        }
        assertThrows(IllegalArgumentException.class, () -> new OnnxRuntimeDevice(0));
    }

    @Test
    void rejectsWrongSizedSegments() {
        List<Layer> layers = new ArrayList<>(List.of(Layer.of(new LayerSpec.Softmax("s", 4))));
        try (Program p = ort.compile(layers, 2)) {
            MemorySegment small = arena.allocate(4 * Float.BYTES), ok = arena.allocate(8 * Float.BYTES);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.run(small, ok));
            assertTrue(e.getMessage().contains("input"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.run(ok, small));
        }
    }
}
