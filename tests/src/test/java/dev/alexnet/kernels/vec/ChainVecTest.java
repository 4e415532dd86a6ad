package dev.alexnet.kernels.vec;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.ref.ReluRef;
import dev.alexnet.kernels.ref.SoftmaxRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.alexnet.kernels.vec.VecTestSupport.U;
import static dev.alexnet.kernels.vec.VecTestSupport.abs;
import static dev.alexnet.kernels.vec.VecTestSupport.assertClose;
import static dev.alexnet.kernels.vec.VecTestSupport.random;
import static dev.alexnet.kernels.vec.VecTestSupport.runDevice;
import static dev.alexnet.kernels.vec.VecTestSupport.scaled;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole AlexNet-shaped chains from the one network definition ({@link AlexNetLayers}: conv, ReLU, LRN, then
 * pool; the paper's kernels, strides, pads, groups, towers, LRN per tower and across all channels) on
 * JavaDevice(VECTOR) on 2 threads, on a smaller input (3x99x99) to keep the reference fast, with signed
 * weights (He-scaled Gaussians, as a trained network has), so conv3-5 produce maps with real structure.
 *
 * <p>Tolerance: with signed weights a bound propagated through |W| from the input grows ~20x per layer above
 * the real activations and says nothing, so every layer is held to its own local bound inside the chain
 * instead. The vector program of the first i + 1 layers gives tap t_i (the chain's last layer writes it, the
 * earlier ones run as they do in the whole network); the reference runs layer i alone on t_{i-1} and must agree
 * with t_i within that layer's local error: conv/linear (K + 3) u sum|x*w| + |b| (K products, the bias, FMA
 * rounding and the reference's own rounding; sum|x*w| from the reference on |t_{i-1}|, |W|, |b|), LRN
 * (beta (n + 1) + 6) u |y|, max pooling exactly. The last tap is the whole network's output.
 */
class ChainVecTest {
    /**
     * The paper network's structure at half width on 3x99x99: conv1 48x23x23, pool1 11x11, conv2 towers of
     * 24 -> 64, pool2 5x5, conv3-5 192/192/128, pool5 2x2 (so fc6 reads channels-last), fc6 512 -> 256,
     * fc7 256, fc8 100.
     */
    private static List<LayerSpec> specs(boolean lrnPerTower) {
        return AlexNetLayers.PAPER.withLrnPerTower(lrnPerTower).scaled(99, 2, 256, 100).layers();
    }

    private static double coefficient(LayerSpec s) {
        return switch (s) {
            case LayerSpec.Conv c -> c.inC() / c.groups() * c.kernel() * c.kernel() + 1 + 3;
            case LayerSpec.Linear l -> l.in() + 1 + 3;
            case LayerSpec.Lrn l -> l.params().beta() * (l.params().size() + 1) + 6;
            default -> 0;
        };
    }

    private static void check(int batch, boolean lrnPerTower, long seed) {
        Random rnd = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            List<Layer> layers = new ArrayList<>(), absLayers = new ArrayList<>();
            for (LayerSpec s : specs(lrnPerTower)) {
                int[] ws = s instanceof LayerSpec.Conv c ? c.weightShape() : s instanceof LayerSpec.Linear l ? l.weightShape() : null;
                if (ws == null) {
                    layers.add(Layer.of(s));
                    absLayers.add(Layer.of(s));
                    continue;
                }
                long fanIn = (long) ws[1] * (ws.length == 4 ? ws[2] * ws[3] : 1);
                Tensor w = random(arena, rnd, (float) Math.sqrt(2.0 / fanIn), ws), b = random(arena, rnd, 0.1f, ws[0]);
                layers.add(new Layer(s, w, b));
                absLayers.add(new Layer(s, abs(arena, w), abs(arena, b)));
            }
            Tensor x = random(arena, rnd, 1f, batch, 3, 99, 99);
            for (int threads = 2; threads <= 2; threads++) { // one thread is the same kernels on a team of one (LayerVecTest)
                float[] prev = x.toArray();
                for (int i = 0; i < layers.size(); i++) {
                    LayerSpec s = layers.get(i).spec();
                    float[] tap = runDevice(JavaDevice.Kernels.VECTOR, threads, layers.subList(0, i + 1), batch, x.data());
                    MemorySegment in = VecTestSupport.segment(arena, prev);
                    float[] want = runDevice(JavaDevice.Kernels.REFERENCE, 1, layers.subList(i, i + 1), batch, in);
                    double[] tol = switch (s) {
                        case LayerSpec.MaxPool p -> null;
                        case LayerSpec.Lrn l -> scaled(absOf(want), coefficient(s) * U);
                        default -> scaled(runDevice(JavaDevice.Kernels.REFERENCE, 1, absLayers.subList(i, i + 1), batch,
                                abs(arena, Tensor.of(arena, prev, batch, prev.length / batch)).data()), coefficient(s) * U);
                    };
                    assertClose("chain batch " + batch + " threads " + threads + " " + s.name(), want, tap, tol);
                    if (s.name().equals("conv5")) { // signed weights keep conv5 alive: a good share passes the ReLU
                        int positive = 0;
                        for (float v : tap) if (v > 0) positive++;
                        assertTrue(positive > tap.length / 10, "conv5 outputs above zero: " + positive + " of " + tap.length);
                    }
                    prev = tap;
                }
            }
        }
    }

    private static float[] absOf(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) a[i] = Math.abs(v[i]);
        return a;
    }

    @Test
    void alexNetShapedChainBatch1PerTowerLrn() { check(1, true, 1); }

    @Test
    void alexNetShapedChainBatch2AcrossChannelLrn() { check(2, false, 2); }

    /**
     * Softmax: the float sum of cols terms in L lanes then a lane reduction (cols/L + log2 L) u, exp
     * within 1 ulp (2u), 1/sum and the product u each, the reference's rounding u: (cols/L + log2 L + 6) u
     * relative. Inputs up to +-20 so the exponentials span many binades.
     */
    @Test
    void softmaxAndRelu() {
        Random rnd = new Random(17);
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        try (Arena arena = Arena.ofShared()) {
            for (int cols : new int[] {1, 7, 16, 33, 1000}) {
                int rows = 1 + rnd.nextInt(5);
                Tensor x = random(arena, rnd, 6f, rows, cols);
                MemorySegment want = arena.allocate((long) rows * cols * 4), got = arena.allocate((long) rows * cols * 4);
                SoftmaxRef.forward(want, x.data(), rows, cols);
                SoftmaxVec.forward(got, x.data(), rows, cols);
                float[] w = want.toArray(JAVA_FLOAT);
                assertClose("softmax " + rows + "x" + cols, w, got.toArray(JAVA_FLOAT),
                        scaled(w, ((double) cols / lanes + Math.log(lanes) / Math.log(2) + 6) * U));
                // through a program: LayerSpec.Softmax on the device
                float[] dev = runDevice(JavaDevice.Kernels.VECTOR, 2, List.of(Layer.of(new LayerSpec.Softmax("prob", cols))), rows, x.data());
                assertClose("softmax program " + rows + "x" + cols, w, dev, scaled(w, ((double) cols / lanes + Math.log(lanes) / Math.log(2) + 6) * U));

                MemorySegment r1 = arena.allocate((long) rows * cols * 4), r2 = arena.allocate((long) rows * cols * 4);
                ReluRef.forward(r1, x.data(), (long) rows * cols);
                ReluVec.forward(r2, x.data(), (long) rows * cols);
                assertClose("relu " + rows * cols, r1.toArray(JAVA_FLOAT), r2.toArray(JAVA_FLOAT), null);
            }
        }
    }

    @Test
    void reordersRoundTripExactly() {
        Random rnd = new Random(23);
        try (Arena arena = Arena.ofShared()) {
            for (int c : new int[] {1, 3, 13, 16, 40}) {
                Nhwc l = new Nhwc(c, 1 + rnd.nextInt(9), 1 + rnd.nextInt(9), rnd.nextInt(3), rnd.nextInt(3));
                Tensor x = random(arena, rnd, 1f, 2, c, l.h(), l.w());
                MemorySegment mid = arena.allocate(2 * l.imageFloats() * 4), back = arena.allocate(x.size() * 4);
                Reorders.nchwToNhwc(mid, l, x.data(), 2, 0, Reorders.units(2, l));
                Reorders.nhwcToNchw(back, mid, l, 2, 0, Reorders.units(2, l));
                assertClose("reorder " + l, x.toArray(), back.toArray(JAVA_FLOAT), null);
            }
        }
    }
}
