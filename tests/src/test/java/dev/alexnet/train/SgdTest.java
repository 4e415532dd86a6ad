package dev.alexnet.train;

import dev.alexnet.kernels.ref.SgdRef;
import dev.alexnet.kernels.vec.SgdVec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The paper's update rule: v <- 0.9 v - 0.0005 eps w - eps g, w <- w + v. */
class SgdTest {
    /** Unit roundoff of float32. */
    private static final double U = Math.ulp(1f) / 2;

    private static MemorySegment random(Arena a, Random r, int n, double scale) {
        MemorySegment s = a.allocate(n * 4L, 64);
        for (int i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, (float) (r.nextGaussian() * scale));
        return s;
    }

    /**
     * The vector update equals the rule computed in double from the same float inputs, to within the
     * float roundings it makes: v' takes 5 roundings (3 products, 2 sums), so |v' - v'_exact| <= 5u (|0.9 v| +
     * |wd w| + |lr g|) + O(u^2); w' one more rounding of w + v', so |w' - w'_exact| <= u |w'| + the error of v'.
     */
    @Test
    void vectorStepMatchesTheRuleInDouble() {
        Random r = new Random(7);
        float lr = 0.01f, mom = 0.9f, decay = 0.0005f;
        for (int n : new int[] {1, 15, 16, 17, 1000, 4099}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment w = random(a, r, n, 0.05), v = random(a, r, n, 0.01), g = random(a, r, n, 0.3);
                float[] w0 = w.toArray(JAVA_FLOAT), v0 = v.toArray(JAVA_FLOAT), g0 = g.toArray(JAVA_FLOAT);
                SgdVec.update(w, v, g, 0, n, lr, mom, decay);
                for (int i = 0; i < n; i++) {
                    double vx = (double) mom * v0[i] - (double) decay * lr * w0[i] - (double) lr * g0[i];
                    double wx = w0[i] + vx;
                    double mag = Math.abs((double) mom * v0[i]) + Math.abs((double) decay * lr * w0[i]) + Math.abs((double) lr * g0[i]);
                    double tv = 5 * U * mag + 1e-30, tw = U * Math.abs(wx) + tv;
                    assertEquals(vx, v.getAtIndex(JAVA_FLOAT, i), tv, "v[" + i + "] of " + n);
                    assertEquals(wx, w.getAtIndex(JAVA_FLOAT, i), tw, "w[" + i + "] of " + n);
                }
            }
        }
    }

    @Test
    void referenceAndVectorAgreeAndOnlyTheRangeChanges() {
        Random r = new Random(3);
        try (Arena a = Arena.ofConfined()) {
            int n = 333;
            MemorySegment w = random(a, r, n, 0.05), v = random(a, r, n, 0.01), g = random(a, r, n, 0.3);
            MemorySegment w2 = a.allocate(n * 4L, 64).copyFrom(w), v2 = a.allocate(n * 4L, 64).copyFrom(v);
            SgdRef.update(w, v, g, n, 0.02f, 0.9f, 0.0005f);
            SgdVec.update(w2, v2, g, 0, 100, 0.02f, 0.9f, 0.0005f);
            SgdVec.update(w2, v2, g, 100, n, 0.02f, 0.9f, 0.0005f);
            for (int i = 0; i < n; i++) {
                assertEquals(w.getAtIndex(JAVA_FLOAT, i), w2.getAtIndex(JAVA_FLOAT, i), 4 * U * 0.3, "w " + i);
            }
            float before = w2.getAtIndex(JAVA_FLOAT, 5);
            SgdVec.update(w2, v2, g, 6, 6, 0.02f, 0.9f, 0.0005f); // empty range
            assertEquals(before, w2.getAtIndex(JAVA_FLOAT, 5));
        }
    }

    /**
     * Over a store: the paper's decay applies to every parameter; with decayBiases false the biases are
     * exempt (Caffe's bvlc_alexnet). With a zero gradient and zero momentum one step is exactly
     * w' = w - decay * lr * w.
     */
    @Test
    void storeStepDecaysWeightsAndOptionallyBiases() {
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.PAPER, 5, 10);
             Parameters paper = new Parameters(init); Parameters caffe = new Parameters(init)) {
            float lr = 0.1f;
            Sgd.PAPER.step(paper, lr);
            new Sgd(0.9f, 0.0005f, false).step(caffe, lr);
            Tensor b0 = init.get("fc6.bias"), w0 = init.get("fc7.weight");
            double f = 1 - 0.0005 * 0.1;
            assertEquals(b0.get(3) * f, paper.values().get("fc6.bias").get(3), 1e-6);
            assertEquals(b0.get(3), caffe.values().get("fc6.bias").get(3), 0.0, "biases exempt");
            assertEquals(w0.get(77) * f, caffe.values().get("fc7.weight").get(77), 1e-7);
            assertEquals(-0.0005 * 0.1 * w0.get(77), caffe.momentum().get("fc7.weight").get(77), 1e-9);
            assertTrue(init.get("fc6.bias").get(3) == 1f, "the initial weights are untouched: the store copies them");
        }
    }

    /**
     * The velocity carries the learning rate: after a drop from 0.01 to 0.001 the next step still moves by
     * 0.9 times the old velocity plus the new, smaller gradient step (PyTorch's SGD would rescale at once).
     */
    @Test
    void learningRateDropActsThroughTheVelocity() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment w = a.allocate(4, 64), v = a.allocate(4, 64), g = a.allocate(4, 64);
            w.setAtIndex(JAVA_FLOAT, 0, 0f);
            v.setAtIndex(JAVA_FLOAT, 0, 0f);
            g.setAtIndex(JAVA_FLOAT, 0, 1f);
            SgdRef.update(w, v, g, 1, 0.01f, 0.9f, 0f);
            assertEquals(-0.01, w.getAtIndex(JAVA_FLOAT, 0), 1e-9);
            SgdRef.update(w, v, g, 1, 0.001f, 0.9f, 0f);
            assertEquals(-0.01 * 0.9 - 0.001, v.getAtIndex(JAVA_FLOAT, 0), 1e-8);
            assertEquals(-0.01 - 0.009 - 0.001, w.getAtIndex(JAVA_FLOAT, 0), 1e-8);
        }
    }

    @Test
    void badHyperparametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Sgd(1f, 0f, true));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.9f, -1f, true));
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 1, 2); Parameters p = new Parameters(init)) {
            assertThrows(IllegalArgumentException.class, () -> Sgd.PAPER.step(p, Float.NaN));
        }
    }
}
