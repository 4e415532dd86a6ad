package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerSpec.Conv;
import dev.alexnet.device.LayerSpec.Dropout;
import dev.alexnet.device.LayerSpec.Linear;
import dev.alexnet.device.LayerSpec.Lrn;
import dev.alexnet.device.LayerSpec.MaxPool;
import dev.alexnet.device.LayerSpec.Softmax;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.kernels.ref.LrnRef;
import dev.alexnet.kernels.ref.MaxPoolRef;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * oneDNN training programs ({@link DnnlDevice#compileTraining}) against central finite differences of
 * the scalar loss {@code L = sum(output * R)} (R fixed and random) evaluated with the reference
 * forward kernels ({@code kernels.ref}, double accumulation, float outputs; the loss summed in double).
 *
 * <p><b>Tolerance, per checked element.</b> With d(h) = (L(v+h) - L(v-h)) / (2h), where v+h and v-h are
 * the float values actually used and 2h their exact double difference:
 * <ul>
 *   <li>d(h) and d(h/2) are two estimates whose difference measures both their truncation error (for
 *       smooth layers the error is proportional to h^2, so that of d(h/2) is (d(h) - d(h/2)) / 3) and the
 *       rounding noise of the float reference outputs; we allow 2 |d(h) - d(h/2)|, and compare d(h/2);</li>
 *   <li>plus |right - left|, the difference of the one-sided slopes (L(v+h) - L(v)) / h and
 *       (L(v) - L(v-h)) / h: about h |L''| where L is smooth, and the jump of a kink (below) too small to
 *       be skipped, of which d(h/2) can carry at most that much;</li>
 *   <li>plus a floor for the loss's own rounding: every reference output is rounded to float once per
 *       layer (relative error u = 2^-24), so each loss evaluation is off by at most about
 *       (layers + 1) u S with S = sum |output * R|, giving (layers + 1) u S / h on d;</li>
 *   <li>plus oneDNN's fp32 summation: a gradient element sums at most K products (K = the longest
 *       reduction in the network, given per case), bounded by K u times the largest gradient.</li>
 * </ul>
 * Where ReLU or max pooling switch branch inside [v-h, v+h] (a pre-activation near zero, two nearly
 * equal values in a pooling window: a kink), the difference quotient is not a derivative: such points
 * show up as one-sided slopes that differ by more than 2% of the largest gradient, are skipped and
 * counted, and at most an eighth of the checked points may be skipped.
 */
class DnnlTrainingTest {
    static DnnlDevice dnnl;
    static Arena arena;
    static final long SEED = 7;
    static final double U = 0x1p-24;
    static final LrnParams STRONG_LRN = new LrnParams(3, 1f, 0.6f, 0.75f, false);

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

    // ------------------------------------------------------------------ helpers

    /** Parameters N(0, 2/fan-in) (He), biases small and positive, gradient tensors zeroed. */
    static List<TrainLayer> trainLayers(Arena a, List<LayerSpec> specs, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TrainLayer> out = new ArrayList<>();
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) {
                out.add(TrainLayer.of(s));
                continue;
            }
            Tensor w = Tensor.allocate(a, ws);
            long fanIn = w.size() / ws[0];
            DnnlTestSupport.fillGaussian(w.data(), w.size(), r, (float) Math.sqrt(2.0 / fanIn));
            Tensor b = Tensor.allocate(a, ws[0]);
            for (long i = 0; i < b.size(); i++) b.set(i, (float) (0.1 * r.nextDouble()));
            out.add(new TrainLayer(new Layer(s, w, b), Tensor.allocate(a, ws), Tensor.allocate(a, ws[0])));
        }
        return out;
    }

    static MemorySegment gaussian(Arena a, long n, long seed) {
        MemorySegment s = a.allocate(n * Float.BYTES, 64);
        DnnlTestSupport.fillGaussian(s, n, new SplittableRandom(seed), 1f);
        return s;
    }

    /** The reference forward pass in training mode: ref kernels, dropout with the same {@link DropoutMask}. */
    static MemorySegment refForward(Arena a, List<TrainLayer> layers, MemorySegment in, int n, long seed) {
        MemorySegment x = in;
        for (TrainLayer tl : layers) {
            MemorySegment y = a.allocate(n * tl.spec().outputSize() * Float.BYTES, 64);
            Layer l = tl.layer();
            switch (tl.spec()) {
                case Conv c -> ConvRef.forward(y, x, l.weight().data(), l.bias().data(), c.shape(n), c.relu());
                case Linear f -> LinearRef.forward(y, x, l.weight().data(), l.bias().data(), f.shape(n), f.relu());
                case Lrn r -> LrnRef.forward(y, x, r.shape(n));
                case MaxPool p -> MaxPoolRef.forward(y, x, p.shape(n));
                case Dropout d -> {
                    DropoutMask m = d.mask(seed);
                    for (int b = 0; b < n; b++) {
                        for (int i = 0; i < d.features(); i++) {
                            long k = (long) b * d.features() + i;
                            y.setAtIndex(JAVA_FLOAT, k, x.getAtIndex(JAVA_FLOAT, k) * m.factor(b, i));
                        }
                    }
                }
                case Softmax s -> throw new AssertionError();
            }
            x = y;
        }
        return x;
    }

    static double dot(MemorySegment a, MemorySegment b, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) s += (double) a.getAtIndex(JAVA_FLOAT, i) * b.getAtIndex(JAVA_FLOAT, i);
        return s;
    }

    static double absDot(MemorySegment a, MemorySegment b, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) s += Math.abs((double) a.getAtIndex(JAVA_FLOAT, i) * b.getAtIndex(JAVA_FLOAT, i));
        return s;
    }

    static double maxAbs(MemorySegment a, long n) {
        double m = 0;
        for (long i = 0; i < n; i++) m = Math.max(m, Math.abs(a.getAtIndex(JAVA_FLOAT, i)));
        return m;
    }

    /** Outcome of checking one tensor's gradient. */
    record Fd(int checked, int skipped, double worstRatio) {}

    /**
     * Central differences of {@code loss} in the float variable {@code var} (count elements) at up to
     * {@code samples} positions, against {@code analytic}; see the class comment for the tolerance.
     */
    static Fd finiteDifferences(String what, MemorySegment var, long count, MemorySegment analytic, DoubleSupplier loss,
                                double lossAbs, int layers, long reduction, int samples, long seed) {
        double rms = Math.sqrt(absDot(var, var, count) / count);
        // A power of two near rms/256: v +- h is exact for most v, and kinks (ReLU zeros, near-ties in a pooling
        // window) rarely fall within h; the float reference's noise grows as 1/h and is in the tolerance.
        double h = Math.scalb(1.0, Math.getExponent(Math.max(rms, 1e-3)) - 8);
        double gmax = maxAbs(analytic, count);
        assertTrue(gmax > 0, what + ": gradient is all zero");
        SplittableRandom r = new SplittableRandom(seed);
        int checked = 0, skipped = 0;
        double worst = 0;
        int n = (int) Math.min(samples, count);
        double l0 = loss.getAsDouble();
        for (int s = 0; s < n; s++) {
            long i = count <= samples ? s : r.nextLong(count);
            float v0 = var.getAtIndex(JAVA_FLOAT, i);
            float up = (float) (v0 + h), down = (float) (v0 - h);
            double lu = lossAt(var, i, up, loss), ld = lossAt(var, i, down, loss);
            double d1 = (lu - ld) / ((double) up - down);
            // One-sided slopes on each side of v0: equal (up to curvature and noise) unless a kink lies in [v0-h, v0+h].
            double right = (lu - l0) / ((double) up - v0), left = (l0 - ld) / ((double) v0 - down);
            float up2 = (float) (v0 + h / 2), down2 = (float) (v0 - h / 2);
            double d2 = (lossAt(var, i, up2, loss) - lossAt(var, i, down2, loss)) / ((double) up2 - down2);
            var.setAtIndex(JAVA_FLOAT, i, v0);
            double g = analytic.getAtIndex(JAVA_FLOAT, i);
            double kink = Math.abs(right - left);
            if (kink > 0.02 * gmax) {
                skipped++;
                continue;
            }
            double tol = 2 * Math.abs(d1 - d2) + kink + (layers + 1) * U * lossAbs / (h / 2) + reduction * U * gmax;
            double err = Math.abs(g - d2);
            worst = Math.max(worst, err / tol);
            assertTrue(err <= tol, what + "[" + i + "]: oneDNN " + g + " vs finite difference " + d2 + " (h " + h + ": " + d1
                    + ", one-sided " + left + " / " + right + "), tolerance " + tol);
            checked++;
        }
        // Skipped points are not checked at all: with ReLU pre-activations near zero up to a quarter of them can sit
        // within h of a kink; more than that means h is too coarse for the case and the check would thin out.
        assertTrue(skipped <= Math.max(1, (checked + skipped) / 4), what + ": " + skipped + " of " + (checked + skipped) + " points sit on a kink");
        return new Fd(checked, skipped, worst);
    }

    static double lossAt(MemorySegment var, long i, float v, DoubleSupplier loss) {
        var.setAtIndex(JAVA_FLOAT, i, v);
        return loss.getAsDouble();
    }

    /**
     * Compiles {@code specs} for training, checks the forward output against the reference, then every
     * gradient (input, each weight and bias) against finite differences.
     */
    static Map<String, Fd> checkGradients(List<LayerSpec> specs, int batch, long reduction) {
        Map<String, Fd> report = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            List<TrainLayer> layers = trainLayers(a, specs, 11);
            try (DnnlTrainingProgram p = dnnl.compileTraining(layers, batch)) {
                long inN = p.inputFloats(), outN = p.outputFloats();
                MemorySegment in = gaussian(a, inN, 21), weights = gaussian(a, outN, 31);
                MemorySegment out = a.allocate(outN * Float.BYTES, 64), gradIn = a.allocate(inN * Float.BYTES, 64);
                p.forward(in, out, SEED, LayerTimer.NONE);
                MemorySegment ref;
                try (Arena t = Arena.ofConfined()) {
                    ref = a.allocate(outN * Float.BYTES, 64);
                    MemorySegment.copy(refForward(t, layers, in, batch, SEED), 0, ref, 0, outN * Float.BYTES);
                }
                // Forward: fp32 sums of at most `reduction` terms, against a double-accumulated reference.
                double fwdErr = DnnlTestSupport.relErr(out, ref, outN);
                assertTrue(fwdErr <= Math.max(1e-5, reduction * U * specs.size()), "forward relative error " + fwdErr);
                p.backward(weights, gradIn, LayerTimer.NONE);

                double lossAbs = absDot(ref, weights, outN);
                DoubleSupplier loss = () -> {
                    try (Arena t = Arena.ofConfined()) {
                        return dot(refForward(t, layers, in, batch, SEED), weights, outN);
                    }
                };
                int nl = specs.size();
                report.put("input", finiteDifferences("input", in, inN, gradIn, loss, lossAbs, nl, reduction, 40, 1));
                for (TrainLayer tl : layers) {
                    if (tl.layer().weight() == null) continue;
                    String n = tl.spec().name();
                    report.put(n + ".weight", finiteDifferences(n + ".weight", tl.layer().weight().data(), tl.layer().weight().size(),
                            tl.weightGrad().data(), loss, lossAbs, nl, reduction, 40, 2));
                    report.put(n + ".bias", finiteDifferences(n + ".bias", tl.layer().bias().data(), tl.layer().bias().size(),
                            tl.biasGrad().data(), loss, lossAbs, nl, reduction, 20, 3));
                }
            }
        }
        return report;
    }

    // ------------------------------------------------------------------ gradient checks

    static Stream<Arguments> cases() {
        LrnParams paper = LrnParams.PAPER;
        return Stream.of(
                // name, layers, batch, longest reduction (terms in one gradient element)
                Arguments.of("conv groups 2 + relu", List.<LayerSpec>of(new Conv("c", 4, 7, 6, 6, 3, 1, 1, 2, true)), 2, 2 * 7 * 6),
                Arguments.of("conv stride 2 pad 1, no relu", List.<LayerSpec>of(new Conv("c", 3, 9, 8, 5, 3, 2, 1, 1, false)), 3, 3 * 5 * 4),
                Arguments.of("conv 1x1", List.<LayerSpec>of(new Conv("c", 5, 4, 3, 7, 1, 1, 0, 1, true)), 2, 2 * 4 * 3),
                Arguments.of("max pool 3/2", List.<LayerSpec>of(new MaxPool("p", 3, 7, 7, 3, 2, 0)), 2, 9),
                Arguments.of("max pool pad 1", List.<LayerSpec>of(new MaxPool("p", 2, 6, 5, 3, 2, 1)), 2, 9),
                Arguments.of("lrn per tower (strong)", List.<LayerSpec>of(new Lrn("l", 6, 4, 5, STRONG_LRN, 2)), 2, 9),
                Arguments.of("lrn all channels (strong)", List.<LayerSpec>of(new Lrn("l", 7, 3, 3, STRONG_LRN, 1)), 2, 9),
                Arguments.of("lrn paper per tower", List.<LayerSpec>of(new Lrn("l", 8, 3, 4, paper, 2)), 2, 9),
                Arguments.of("linear + relu", List.<LayerSpec>of(new Linear("fc", 10, 7, true)), 3, 10),
                Arguments.of("linear, no relu", List.<LayerSpec>of(new Linear("fc", 9, 4, false)), 2, 9),
                Arguments.of("dropout (first layer)", List.<LayerSpec>of(new Dropout("d", 12, 0.5f), new Linear("fc", 12, 3, false)), 3, 12),
                Arguments.of("pool -> linear (4-D source)", List.<LayerSpec>of(new MaxPool("p", 4, 5, 5, 3, 2, 0), new Linear("fc", 16, 5, true)), 2, 16),
                // A blocked layout for the per-tower LRN: 32 channels, 16 per group.
                Arguments.of("conv -> lrn per tower (blocked) -> pool", List.<LayerSpec>of(new Conv("c", 3, 7, 7, 32, 3, 1, 1, 1, true),
                        new Lrn("l", 32, 7, 7, STRONG_LRN, 2), new MaxPool("p", 32, 7, 7, 3, 2, 0)), 2, 2 * 7 * 7),
                Arguments.of("chain conv-relu-lrn-pool-linear-dropout-linear", chain(), 2, 2 * 6 * 6));
    }

    /** conv(+ReLU) -> conv(groups 2, +ReLU) -> LRN (2 channel groups) -> max pool -> linear(+ReLU) -> dropout -> linear. */
    static List<LayerSpec> chain() {
        return List.of(
                new Conv("conv1", 3, 11, 11, 8, 3, 2, 1, 1, true),    // -> 8x6x6
                new Conv("conv2", 8, 6, 6, 8, 3, 1, 1, 2, true),      // -> 8x6x6
                new Lrn("lrn2", 8, 6, 6, STRONG_LRN, 2),
                new MaxPool("pool2", 8, 6, 6, 3, 2, 0),               // -> 8x2x2
                new Linear("fc6", 32, 10, true),
                new Dropout("drop6", 10, 0.5f),
                new Linear("fc7", 10, 5, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(String name, List<LayerSpec> specs, int batch, long reduction) {
        Map<String, Fd> r = checkGradients(specs, batch, reduction);
        int checked = r.values().stream().mapToInt(Fd::checked).sum();
        assertTrue(checked >= 20, name + ": only " + checked + " points checked");
        System.out.println("[dnnl-train] " + name + ": " + r);
    }

    // ------------------------------------------------------------------ program behaviour

    @Test
    void parametersChangedRefreshesTheWeightsOneDnnReads() {
        try (Arena a = Arena.ofConfined()) {
            List<TrainLayer> layers = trainLayers(a, chain(), 5);
            int batch = 2;
            try (DnnlTrainingProgram p = dnnl.compileTraining(layers, batch)) {
                MemorySegment in = gaussian(a, p.inputFloats(), 8);
                MemorySegment before = a.allocate(p.outputFloats() * Float.BYTES, 64), after = a.allocate(p.outputFloats() * Float.BYTES, 64);
                p.forward(in, before, SEED, LayerTimer.NONE);
                // An optimizer-like step in place: every weight scaled, one bias shifted.
                for (TrainLayer tl : layers) {
                    if (tl.layer().weight() == null) continue;
                    Tensor w = tl.layer().weight();
                    for (long i = 0; i < w.size(); i++) w.set(i, w.get(i) * 1.25f - 0.01f);
                }
                layers.getLast().layer().bias().set(0, 3f);
                p.parametersChanged();
                p.forward(in, after, SEED, LayerTimer.NONE);
                MemorySegment want = refForward(a, layers, in, batch, SEED);
                double err = DnnlTestSupport.relErr(after, want, p.outputFloats());
                assertTrue(err <= 1e-5, "after parametersChanged the output follows the new weights: relative error " + err);
                assertTrue(DnnlTestSupport.relErr(before, want, p.outputFloats()) > 1e-2, "the change must be visible in the output");
            }
        }
    }

    @Test
    void withoutGradInputTheWeightGradientsAreTheSame() {
        try (Arena a = Arena.ofConfined()) {
            List<TrainLayer> layers = trainLayers(a, chain(), 5);
            try (DnnlTrainingProgram p = dnnl.compileTraining(layers, 2)) {
                MemorySegment in = gaussian(a, p.inputFloats(), 8), gOut = gaussian(a, p.outputFloats(), 9);
                MemorySegment out = a.allocate(p.outputFloats() * Float.BYTES, 64), gIn = a.allocate(p.inputFloats() * Float.BYTES, 64);
                p.forward(in, out, SEED, LayerTimer.NONE);
                p.backward(gOut, gIn, LayerTimer.NONE);
                float[] withInput = layers.getFirst().weightGrad().toArray();
                float[] fc = layers.getLast().weightGrad().toArray();
                p.backward(gOut, null, LayerTimer.NONE);
                // Same primitives on the same data: bitwise equal.
                assertEquals(java.util.Arrays.toString(withInput), java.util.Arrays.toString(layers.getFirst().weightGrad().toArray()));
                assertEquals(java.util.Arrays.toString(fc), java.util.Arrays.toString(layers.getLast().weightGrad().toArray()));
            }
        }
    }

    @Test
    void timingsUseTheLayerNamesAndTheTwoBackwardHalves() {
        try (Arena a = Arena.ofConfined()) {
            List<TrainLayer> layers = trainLayers(a, chain(), 5);
            try (DnnlTrainingProgram p = dnnl.compileTraining(layers, 2)) {
                MemorySegment in = gaussian(a, p.inputFloats(), 8), gOut = gaussian(a, p.outputFloats(), 9);
                MemorySegment out = a.allocate(p.outputFloats() * Float.BYTES, 64), gIn = a.allocate(p.inputFloats() * Float.BYTES, 64);
                Map<String, Integer> seen = new LinkedHashMap<>();
                LayerTimer t = (layer, nanos) -> {
                    assertTrue(nanos >= 0);
                    seen.merge(layer, 1, Integer::sum);
                };
                p.forward(in, out, SEED, t);
                p.backward(gOut, gIn, t);
                for (LayerSpec s : chain()) {
                    assertEquals(1, seen.get(s.name()), s.name() + " recorded once per forward: " + seen);
                    assertEquals(1, seen.get(s.name() + ".bwd-data"), s.name() + ".bwd-data: " + seen);
                    if (s.weightShape() != null) assertEquals(1, seen.get(s.name() + ".bwd-weights"), s.name() + ".bwd-weights: " + seen);
                }
                assertEquals(chain().size() * 2 + 4, seen.size(), "no other labels: " + seen);
            }
        }
    }

    @Test
    void closeFreesEverythingAndLaterUseThrows() {
        try (Arena a = Arena.ofConfined()) {
            List<TrainLayer> layers = trainLayers(a, chain(), 5);
            long live = DnnlHandle.liveHandles();
            int open = dnnl.openPrograms();
            DnnlTrainingProgram p = dnnl.compileTraining(layers, 2);
            assertTrue(DnnlHandle.liveHandles() > live);
            assertEquals(open + 1, dnnl.openPrograms());
            MemorySegment in = gaussian(a, p.inputFloats(), 8), gOut = gaussian(a, p.outputFloats(), 9);
            MemorySegment out = a.allocate(p.outputFloats() * Float.BYTES, 64);
            p.forward(in, out, SEED, LayerTimer.NONE);
            p.close();
            assertEquals(live, DnnlHandle.liveHandles(), "every oneDNN object destroyed");
            assertEquals(open, dnnl.openPrograms());
            assertThrows(IllegalStateException.class, () -> p.forward(in, out, SEED, LayerTimer.NONE));
            assertThrows(IllegalStateException.class, () -> p.backward(gOut, null, LayerTimer.NONE));
            assertThrows(IllegalStateException.class, p::parametersChanged);
            p.close(); // idempotent
        }
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        try (Arena a = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> dnnl.compileTraining(
                    trainLayers(a, List.of(new Linear("fc", 4, 3, false), new Softmax("prob", 3)), 1), 1));
            assertTrue(e.getMessage().contains("softmax"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> dnnl.compileTraining(trainLayers(a, chain(), 1), 0));
            assertThrows(IllegalArgumentException.class, () -> dnnl.compileTraining(
                    trainLayers(a, List.of(new Linear("fc", 4, 3, false), new Linear("fc2", 5, 2, false)), 1), 1));
            try (DnnlTrainingProgram p = dnnl.compileTraining(trainLayers(a, List.of(new Linear("fc", 4, 3, true)), 2), 2)) {
                MemorySegment small = a.allocate(4), out = a.allocate(6 * Float.BYTES);
                assertThrows(IllegalArgumentException.class, () -> p.forward(small, out, 0, LayerTimer.NONE));
                assertThrows(IllegalStateException.class, () -> p.backward(out, null, LayerTimer.NONE), "backward before forward");
            }
        }
    }

    @Test
    void dropoutUsesDropoutMaskExactly() {
        try (Arena a = Arena.ofConfined()) {
            Dropout d = new Dropout("drop6", 64, 0.5f, 64, 128); // the second tower's half
            try (DnnlTrainingProgram p = dnnl.compileTraining(List.of(TrainLayer.of(d)), 3)) {
                MemorySegment in = gaussian(a, p.inputFloats(), 4), out = a.allocate(p.outputFloats() * Float.BYTES);
                p.forward(in, out, 99, LayerTimer.NONE);
                DropoutMask m = d.mask(99);
                int dropped = 0;
                for (int n = 0; n < 3; n++) {
                    for (int i = 0; i < 64; i++) {
                        long k = n * 64L + i;
                        assertEquals(in.getAtIndex(JAVA_FLOAT, k) * m.factor(n, i), out.getAtIndex(JAVA_FLOAT, k), "element " + k);
                        if (!m.keep(n, i)) dropped++;
                    }
                }
                assertTrue(dropped > 0 && dropped < 192, "some but not all dropped: " + dropped);
            }
        }
    }

    // ------------------------------------------------------------------ AlexNet

    /** The training network with He-initialised parameters (the model's own initialiser) and zeroed gradient tensors. */
    static List<TrainLayer> alexNetLayers(Arena a, AlexNetWeights w) {
        List<TrainLayer> out = new ArrayList<>();
        for (Layer l : w.bindWhole(AlexNetSpec.PAPER.withClasses(10).trainingLayers(0.5f))) {
            out.add(l.weight() == null ? TrainLayer.of(l.spec())
                    : new TrainLayer(l, Tensor.allocate(a, l.weight().shape()), Tensor.allocate(a, l.bias().shape())));
        }
        return out;
    }

    @Test
    void alexNetTrainingLayersRunForwardAndBackward() {
        try (Arena a = Arena.ofShared(); AlexNetWeights w = AlexNetWeights.init(AlexNetWeights.Init.HE, 3, 10)) {
            List<TrainLayer> layers = alexNetLayers(a, w);
            int batch = 2;
            try (DnnlTrainingProgram p = dnnl.compileTraining(layers, batch)) {
                MemorySegment in = gaussian(a, p.inputFloats(), 1), gOut = gaussian(a, p.outputFloats(), 2);
                MemorySegment out = a.allocate(p.outputFloats() * Float.BYTES, 64), gIn = a.allocate(p.inputFloats() * Float.BYTES, 64);
                p.forward(in, out, SEED, LayerTimer.NONE);
                assertFinite("logits", out, p.outputFloats());
                assertTrue(maxAbs(out, p.outputFloats()) > 0, "logits all zero");
                p.backward(gOut, gIn, LayerTimer.NONE);
                assertFinite("input gradient", gIn, p.inputFloats());
                assertTrue(maxAbs(gIn, p.inputFloats()) > 0, "input gradient all zero");
                for (TrainLayer tl : layers) {
                    if (tl.weightGrad() == null) continue;
                    String n = tl.spec().name();
                    assertFinite(n + ".weight gradient", tl.weightGrad().data(), tl.weightGrad().size());
                    assertFinite(n + ".bias gradient", tl.biasGrad().data(), tl.biasGrad().size());
                    assertNotEquals(0.0, maxAbs(tl.weightGrad().data(), tl.weightGrad().size()), n + ".weight gradient all zero");
                    assertNotEquals(0.0, maxAbs(tl.biasGrad().data(), tl.biasGrad().size()), n + ".bias gradient all zero");
                }
                System.out.println("[dnnl-train] AlexNet implementations: " + p.implementations());
            }
        }
    }

    static void assertFinite(String what, MemorySegment s, long n) {
        for (long i = 0; i < n; i++) {
            float v = s.getAtIndex(JAVA_FLOAT, i);
            if (!Float.isFinite(v)) assertFalse(true, what + "[" + i + "] = " + v);
        }
    }
}
