package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerSpec.Conv;
import dev.alexnet.device.LayerSpec.Linear;
import dev.alexnet.device.LayerSpec.Lrn;
import dev.alexnet.device.LayerSpec.MaxPool;
import dev.alexnet.device.LayerSpec.Softmax;
import dev.alexnet.kernels.LrnParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each layer kind on oneDNN against the scalar reference on the same data: AlexNet's shapes at
 * batch 1 and 2, plus odd ones (groups of 3, pads, non-square inputs, LRN within 1 and 2 channel
 * groups, batch 3). Tolerances: max pooling is exact (it only selects); conv, inner product, LRN
 * and softmax must agree to 1e-5 relative error (see {@link DnnlTestSupport}): fp32 with different
 * summation orders over at most a few thousand terms lands around 1e-6.
 */
class DnnlLayerAgreementTest {
    static DnnlDevice dnnl;
    static Arena arena;

    @BeforeAll
    static void open() {
        dnnl = new DnnlDevice(2);
        arena = Arena.ofShared();
    }

    @AfterAll
    static void close() {
        dnnl.close();
        arena.close();
    }

    static final LrnParams LRN = LrnParams.PAPER;

    static Stream<Arguments> cases() {
        return Stream.of(
                // name, layers, batch, tolerance
                Arguments.of("conv1 b1", List.<LayerSpec>of(new Conv("conv1", 3, 227, 227, 96, 11, 4, 0, 1, true)), 1, 1e-5),
                Arguments.of("conv1 224 pad2 b1", List.<LayerSpec>of(new Conv("conv1", 3, 224, 224, 96, 11, 4, 2, 1, true)), 1, 1e-5),
                Arguments.of("conv2 g2 b1", List.<LayerSpec>of(new Conv("conv2", 96, 27, 27, 256, 5, 1, 2, 2, true)), 1, 1e-5),
                Arguments.of("conv3 b1", List.<LayerSpec>of(new Conv("conv3", 256, 13, 13, 384, 3, 1, 1, 1, true)), 1, 1e-5),
                Arguments.of("conv4 g2 b2", List.<LayerSpec>of(new Conv("conv4", 384, 13, 13, 384, 3, 1, 1, 2, true)), 2, 1e-5),
                Arguments.of("conv5 g2 no relu b1", List.<LayerSpec>of(new Conv("conv5", 384, 13, 13, 256, 3, 1, 1, 2, false)), 1, 1e-5),
                Arguments.of("conv odd g3 stride2 pad2 b3", List.<LayerSpec>of(new Conv("c", 6, 11, 9, 9, 3, 2, 2, 3, true)), 3, 1e-5),
                Arguments.of("conv odd 1x1 b3", List.<LayerSpec>of(new Conv("c", 5, 7, 13, 3, 1, 1, 0, 1, false)), 3, 1e-5),
                Arguments.of("pool1 b2", List.<LayerSpec>of(new MaxPool("pool1", 96, 55, 55, 3, 2, 0)), 2, 0.0),
                Arguments.of("pool5 b1", List.<LayerSpec>of(new MaxPool("pool5", 256, 13, 13, 3, 2, 0)), 1, 0.0),
                Arguments.of("pool odd pad1 b3", List.<LayerSpec>of(new MaxPool("p", 5, 8, 7, 3, 2, 1)), 3, 0.0),
                Arguments.of("lrn1 all channels b2", List.<LayerSpec>of(new Lrn("lrn1", 96, 55, 55, LRN, 1)), 2, 1e-5),
                Arguments.of("lrn1 per tower b2", List.<LayerSpec>of(new Lrn("lrn1", 96, 55, 55, LRN, 2)), 2, 1e-5),
                Arguments.of("lrn2 per tower b1", List.<LayerSpec>of(new Lrn("lrn2", 256, 27, 27, LRN, 2)), 1, 1e-5),
                Arguments.of("lrn odd C=6 groups2 b3", List.<LayerSpec>of(new Lrn("l", 6, 5, 4, LRN, 2)), 3, 1e-5),
                Arguments.of("lrn odd C=10 groups1 b3", List.<LayerSpec>of(new Lrn("l", 10, 3, 3, LRN, 1)), 3, 1e-5),
                Arguments.of("lrn alpha/n convention b2", List.<LayerSpec>of(new Lrn("l", 12, 4, 4, new LrnParams(3, 1f, 1e-2f, 0.75f, true), 2)), 2, 1e-5),
                // LRN after a convolution: it must work on whatever layout the convolution chose.
                Arguments.of("conv+lrn+pool per tower, blocked b2", List.<LayerSpec>of(new Conv("c", 16, 13, 13, 64, 3, 1, 1, 2, true),
                        new Lrn("l", 64, 13, 13, LRN, 2), new MaxPool("p", 64, 13, 13, 3, 2, 0)), 2, 1e-5),
                Arguments.of("conv+lrn across all, b3", List.<LayerSpec>of(new Conv("c", 8, 9, 9, 32, 3, 1, 1, 1, true),
                        new Lrn("l", 32, 9, 9, LRN, 1)), 3, 1e-5),
                Arguments.of("conv+lrn odd groups b3", List.<LayerSpec>of(new Conv("c", 4, 9, 9, 6, 3, 1, 1, 2, true),
                        new Lrn("l", 6, 9, 9, LRN, 2)), 3, 1e-5),
                Arguments.of("pool5+fc6 (4-D source) b2", List.<LayerSpec>of(new MaxPool("pool5", 256, 13, 13, 3, 2, 0),
                        new Linear("fc6", 9216, 4096, true)), 2, 1e-5),
                Arguments.of("fc7 b1", List.<LayerSpec>of(new Linear("fc7", 4096, 4096, true)), 1, 1e-5),
                Arguments.of("fc8 b2", List.<LayerSpec>of(new Linear("fc8", 4096, 1000, false)), 2, 1e-5),
                Arguments.of("linear odd b3", List.<LayerSpec>of(new Linear("f", 37, 5, true)), 3, 1e-5),
                Arguments.of("softmax 1000 b2", List.<LayerSpec>of(new Softmax("softmax", 1000)), 2, 1e-5),
                Arguments.of("linear+softmax odd b3", List.<LayerSpec>of(new Linear("f", 20, 7, false), new Softmax("s", 7)), 3, 1e-5));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void agreesWithReference(String name, List<LayerSpec> specs, int batch, double tolerance) {
        List<Layer> layers = DnnlTestSupport.withParams(arena, specs, name.hashCode(), 0.05f, 0.1f);
        var a = DnnlTestSupport.compare(dnnl, layers, batch, arena, 42);
        System.out.printf("dnnl vs ref  %-32s rel err %.3g  %s%n", name, a.relErr(), a.impls());
        assertTrue(a.relErr() <= tolerance, name + ": relative error " + a.relErr() + " > " + tolerance);
    }

    /** The paper's LRN check value (docs/DESIGN.md, "LRN convention"): channels [1, 3, 2, 1.5, 0.5], channel 1 -> 1.78272. */
    @Test
    void lrnPaperCheckValue() {
        float[] x = {1, 3, 2, 1.5f, 0.5f};
        List<Layer> layers = List.of(Layer.of(new Lrn("lrn", 5, 1, 1, LRN, 1)));
        try (DnnlProgram p = dnnl.compile(layers, 1)) {
            MemorySegment in = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment out = arena.allocate(5 * Float.BYTES, 64);
            p.run(in, out);
            assertEquals(1.78272f, out.getAtIndex(ValueLayout.JAVA_FLOAT, 1), 1e-5f);
        }
    }
}
