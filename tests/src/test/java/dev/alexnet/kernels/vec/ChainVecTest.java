package dev.alexnet.kernels.vec;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.JavaDevice;
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

/**
 * Whole AlexNet-shaped chains (conv1 .. fc8: the paper's kernels, strides, pads, groups, towers of
 * 48/128/192 channels, LRN per tower and across all channels) on JavaDevice(VECTOR) against
 * JavaDevice(REFERENCE), at 1 and 2 threads, on a smaller input (3x99x99) to keep the reference fast.
 *
 * <p>Tolerance, first order: each layer adds a local error of at most c_l u times its output's
 * magnitude (conv/linear: c = K + 3, K the accumulation length; LRN: beta (n+1) + 6; pooling: 0), and
 * every layer passes an input error on at most through its absolute weights: convolutions and linear
 * layers as |W| e, ReLU and max pooling 1-Lipschitz, LRN with k = 2 contracting (|db/da| <= k^-beta
 * (1 + 2 beta alpha sum a^2 / k) < 1 here). So |vec - ref| <= u (sum_l c_l) A, where A is the same chain
 * run by the reference on |x|, |W|, |b| without the LRN layers. With signed random weights A grows
 * ~20x per layer above the real activations and the bound says nothing, so the weights here are
 * nonnegative (see below).
 */
class ChainVecTest {
    /**
     * The paper network's structure (AlexNetLayers: conv, ReLU, LRN, pool) at half width on 3x99x99: conv1
     * 48x23x23, pool1 11x11, conv2 towers of 24 -> 64, pool2 5x5, conv3-5 192/192/128, pool5 2x2 (so fc6
     * reads channels-last), fc6 512 -> 256, fc7 256, fc8 100.
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
            double coef = 0;
            for (LayerSpec s : specs(lrnPerTower)) {
                coef += coefficient(s);
                int[] ws = s instanceof LayerSpec.Conv c ? c.weightShape() : s instanceof LayerSpec.Linear l ? l.weightShape() : null;
                if (ws == null) {
                    layers.add(Layer.of(s));
                    if (!(s instanceof LayerSpec.Lrn)) absLayers.add(Layer.of(s));
                    continue;
                }
                // Nonnegative weights (mean 1/fanIn, so activations stay O(1)) keep |W| = W: the magnitude chain A
                // is then the size of the real activations and the bound is tight; signed inputs and biases
                // still make every ReLU cut.
                long fanIn = (long) ws[1] * (ws.length == 4 ? ws[2] * ws[3] : 1);
                Tensor w = Tensor.allocate(arena, ws), b = random(arena, rnd, 0.5f, ws[0]);
                for (long i = 0; i < w.size(); i++) w.set(i, (float) (rnd.nextDouble() * 2.0 / fanIn));
                layers.add(new Layer(s, w, b));
                absLayers.add(new Layer(s, abs(arena, w), abs(arena, b)));
            }
            Tensor x = random(arena, rnd, 1f, batch, 3, 99, 99);
            float[] want = runDevice(JavaDevice.Kernels.REFERENCE, 1, layers, batch, x.data());
            float[] mag = runDevice(JavaDevice.Kernels.REFERENCE, 1, absLayers, batch, abs(arena, x).data());
            double[] tol = scaled(mag, coef * U);
            for (int threads = 1; threads <= 2; threads++) {
                float[] got = runDevice(JavaDevice.Kernels.VECTOR, threads, layers, batch, x.data());
                assertClose("chain batch " + batch + " threads " + threads, want, got, tol);
            }
        }
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
