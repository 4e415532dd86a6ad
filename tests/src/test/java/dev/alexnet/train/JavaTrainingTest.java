package dev.alexnet.train;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.device.TrainingProgram;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Java training programs as a whole: every layer kind chained (strided and grouped convolution with
 * its fused ReLU, per-tower LRN, overlapping pooling, linear with ReLU, dropout, linear), checked against
 * finite differences of the loss, vector against reference, and on a real thread team.
 */
class JavaTrainingTest {
    static final int BATCH = 3, CLASSES = 5;

    /** A small network with every training layer kind. */
    static List<LayerSpec> tinyNet() {
        LayerSpec.Conv c1 = new LayerSpec.Conv("c1", 3, 19, 19, 8, 5, 2, 1, 1, true);   // -> 8x9x9
        LayerSpec.Conv c2 = new LayerSpec.Conv("c2", 8, 9, 9, 6, 3, 1, 1, 2, true);     // grouped -> 6x9x9
        return List.of(c1,
                new LayerSpec.Lrn("n1", 8, 9, 9, new LrnParams(5, 2f, 0.05f, 0.75f, false), 2), // alpha large enough to matter
                c2,
                new LayerSpec.MaxPool("p1", 6, 9, 9, 3, 2, 0),                                    // -> 6x4x4 = 96
                new LayerSpec.Linear("f1", 96, 20, true),
                new LayerSpec.Dropout("d1", 20, 0.5f),
                new LayerSpec.Linear("f2", 20, CLASSES, false));
    }

    /** Parameters and gradient tensors for {@code specs}, weights ~ N(0, 2/fan_in), biases small. */
    static List<TrainLayer> bind(Arena arena, List<LayerSpec> specs, long seed) {
        Random r = new Random(seed);
        List<TrainLayer> out = new ArrayList<>();
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) {
                out.add(TrainLayer.of(s));
                continue;
            }
            Tensor w = Tensor.allocate(arena, ws), b = Tensor.allocate(arena, ws[0]);
            double std = Math.sqrt(2.0 * ws[0] / w.size());
            for (long i = 0; i < w.size(); i++) w.set(i, (float) (r.nextGaussian() * std));
            for (long i = 0; i < b.size(); i++) b.set(i, (float) (0.1 * r.nextGaussian()));
            out.add(new TrainLayer(new Layer(s, w, b), Tensor.allocate(arena, ws), Tensor.allocate(arena, ws[0])));
        }
        return out;
    }

    static MemorySegment randomInput(Arena arena, long floats, long seed) {
        Random r = new Random(seed);
        MemorySegment x = arena.allocate(floats * 4, 64);
        for (long i = 0; i < floats; i++) x.setAtIndex(JAVA_FLOAT, i, (float) r.nextGaussian());
        return x;
    }

    static MemorySegment labels(Arena arena, int... ys) {
        MemorySegment l = arena.allocate(ys.length * 4L, 4);
        for (int i = 0; i < ys.length; i++) l.setAtIndex(JAVA_INT, i, ys[i]);
        return l;
    }

    /** Forward, loss and backward; returns the loss. */
    static double step(TrainingProgram p, MemorySegment x, MemorySegment y, MemorySegment gradIn, long seed) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment logits = a.allocate(p.outputFloats() * 4, 64), g = a.allocate(p.outputFloats() * 4, 64);
            p.forward(x, logits, seed, LayerTimer.NONE);
            double loss = SoftmaxCrossEntropyRef.loss(logits, y, g, p.batch(), CLASSES);
            p.backward(g, gradIn, LayerTimer.NONE);
            return loss;
        }
    }

    static double loss(TrainingProgram p, MemorySegment x, MemorySegment y, long seed) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment logits = a.allocate(p.outputFloats() * 4, 64);
            p.forward(x, logits, seed, LayerTimer.NONE);
            return SoftmaxCrossEntropyRef.loss(logits, y, null, p.batch(), CLASSES);
        }
    }

    /**
     * Central differences of the loss through the reference program, for a sample of parameters of every
     * layer and of the input. The reference kernels accumulate in double and round each activation to float,
     * so the loss carries a relative rounding noise of a few u (u = 2^-24) per layer: with h = 1e-2 the
     * difference quotient's noise is about 10 u |L| / h ~ 1e-5, and its truncation error O(h^2 f''') is of
     * the same order except next to a ReLU or max-pool kink, which the sample skips when the two one-sided
     * quotients disagree. The analytic gradient must then agree to 2e-3 absolute + 2% relative: a missing
     * ReLU mask, a wrong LRN term or a misrouted pooling gradient is off by O(1) of the gradient.
     */
    @Test
    void referenceGradientsMatchFiniteDifferences() {
        try (Arena arena = Arena.ofShared(); JavaDevice dev = new JavaDevice(1, JavaDevice.Kernels.REFERENCE)) {
            List<TrainLayer> layers = bind(arena, tinyNet(), 11);
            TrainingProgram p = dev.compileTraining(layers, BATCH);
            MemorySegment x = randomInput(arena, p.inputFloats(), 5), y = labels(arena, 1, 4, 0);
            MemorySegment gx = arena.allocate(p.inputFloats() * 4, 64);
            long seed = 99;
            step(p, x, y, gx, seed);
            Random r = new Random(1);
            int checked = 0;
            for (TrainLayer tl : layers) {
                if (tl.weightGrad() == null) continue;
                for (Tensor[] pair : new Tensor[][] {{tl.layer().weight(), tl.weightGrad()}, {tl.layer().bias(), tl.biasGrad()}}) {
                    for (int k = 0; k < 8; k++) {
                        long i = r.nextInt((int) pair[0].size());
                        checked += checkOne(p, x, y, seed, pair[0].data(), i, pair[1].get(i), tl.spec().name());
                    }
                }
            }
            for (int k = 0; k < 16; k++) {
                long i = r.nextInt((int) p.inputFloats());
                checked += checkOne(p, x, y, seed, x, i, gx.getAtIndex(JAVA_FLOAT, i), "input");
            }
            assertTrue(checked >= 50, "only " + checked + " smooth points checked");
        }
    }

    private static int checkOne(TrainingProgram p, MemorySegment x, MemorySegment y, long seed, MemorySegment param, long i, float analytic, String what) {
        float v = param.getAtIndex(JAVA_FLOAT, i);
        double h = 1e-2;
        param.setAtIndex(JAVA_FLOAT, i, (float) (v + h));
        double up = loss(p, x, y, seed);
        param.setAtIndex(JAVA_FLOAT, i, (float) (v - h));
        double down = loss(p, x, y, seed);
        param.setAtIndex(JAVA_FLOAT, i, v);
        double mid = loss(p, x, y, seed);
        double right = (up - mid) / h, left = (mid - down) / h;
        if (Math.abs(right - left) > 0.05 * Math.max(Math.abs(right), Math.abs(left)) + 1e-3) return 0; // a kink inside [v-h, v+h]
        double fd = (up - down) / (2 * h);
        if (Math.abs(fd - analytic) > 2e-3 + 0.02 * Math.abs(fd)) {
            fail(what + "[" + i + "]: analytic " + analytic + ", finite difference " + fd);
        }
        return 1;
    }

    /**
     * The vector program against the reference one, on one and on three threads: same loss, gradients of
     * every parameter and of the input. Each gradient is a sum over at most a few thousand float products
     * whose inputs already differ by the forward's float rounding; the bound, 1e-4 of the tensor's largest
     * gradient plus 1e-4 relative, is about 1000 u: well above a few rounding layers, far below what a
     * wrong index, a lost tail or a race (an error of the gradient's own size) produces.
     */
    @Test
    void vectorMatchesReference() {
        for (int threads : new int[] {1, 3}) {
            try (Arena arena = Arena.ofShared(); JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE);
                 JavaDevice vec = new JavaDevice(threads, JavaDevice.Kernels.VECTOR)) {
                List<TrainLayer> a = bind(arena, tinyNet(), 3), b = bind(arena, tinyNet(), 3);
                TrainingProgram pa = ref.compileTraining(a, BATCH), pb = vec.compileTraining(b, BATCH);
                MemorySegment x = randomInput(arena, pa.inputFloats(), 8), y = labels(arena, 2, 2, 3);
                MemorySegment ga = arena.allocate(pa.inputFloats() * 4, 64), gb = arena.allocate(pa.inputFloats() * 4, 64);
                gb.fill((byte) 0x7f);
                for (TrainLayer t : b) if (t.weightGrad() != null) { t.weightGrad().data().fill((byte) 0x7f); t.biasGrad().data().fill((byte) 0x7f); }
                double la = step(pa, x, y, ga, 1234), lb = step(pb, x, y, gb, 1234);
                assertEquals(la, lb, 1e-5 * Math.abs(la), "loss, " + threads + " threads");
                close("input gradient, " + threads + " threads", ga, gb, pa.inputFloats());
                for (int i = 0; i < a.size(); i++) {
                    if (a.get(i).weightGrad() == null) continue;
                    close(a.get(i).spec().name() + ".weight grad, " + threads + " threads", a.get(i).weightGrad().data(), b.get(i).weightGrad().data(), a.get(i).weightGrad().size());
                    close(a.get(i).spec().name() + ".bias grad, " + threads + " threads", a.get(i).biasGrad().data(), b.get(i).biasGrad().data(), a.get(i).biasGrad().size());
                }
                // a second step from the same state gives bitwise the same result: nothing carried over
                MemorySegment gb2 = arena.allocate(pa.inputFloats() * 4, 64);
                double lb2 = step(pb, x, y, gb2, 1234);
                assertEquals(lb, lb2, 0.0);
                assertEquals(-1L, gb.mismatch(gb2), "input gradient differs between two identical steps");
            }
        }
    }

    static void close(String what, MemorySegment want, MemorySegment got, long n) {
        double max = 0;
        for (long i = 0; i < n; i++) max = Math.max(max, Math.abs(want.getAtIndex(JAVA_FLOAT, i)));
        for (long i = 0; i < n; i++) {
            double w = want.getAtIndex(JAVA_FLOAT, i), g = got.getAtIndex(JAVA_FLOAT, i);
            if (!(Math.abs(w - g) <= 1e-4 * max + 1e-4 * Math.abs(w))) fail(what + "[" + i + "]: want " + w + ", got " + g + " (largest |gradient| " + max + ")");
        }
    }

    @Test
    void misuseIsRefused() {
        try (Arena arena = Arena.ofShared(); JavaDevice dev = new JavaDevice(2, JavaDevice.Kernels.VECTOR)) {
            List<TrainLayer> layers = bind(arena, tinyNet(), 3);
            TrainingProgram p = dev.compileTraining(layers, 2);
            MemorySegment g = arena.allocate(p.outputFloats() * 4, 64);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.backward(g, null, LayerTimer.NONE));
            assertTrue(e.getMessage().contains("forward"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.forward(arena.allocate(8), g, 1, LayerTimer.NONE));
            assertThrows(IllegalArgumentException.class,
                    () -> dev.compileTraining(List.of(TrainLayer.of(new LayerSpec.Softmax("s", 4))), 1));
            p.close();
            assertThrows(IllegalStateException.class, () -> p.forward(arena.allocate(p.inputFloats() * 4), g, 1, LayerTimer.NONE));
        }
    }
}
