package dev.alexnet.foundation;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.kernels.vec.DropoutVec;
import dev.alexnet.kernels.ref.DropoutRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inverted dropout with counter-based masks: the identity at inference; in training about p of the
 * elements dropped and the rest scaled by 1/(1-p); the mask a function of (seed, layer, element) only.
 */
class DropoutTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() { arena.close(); }

    private Tensor ramp(int rows, int features) {
        float[] v = new float[rows * features];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.25f - 7;
        return Tensor.of(arena, v, rows, features);
    }

    @Test
    void inferenceIsTheIdentity() {
        Tensor x = ramp(3, 100), y = Tensor.allocate(arena, 3, 100);
        y.data().fill((byte) 0x7f);
        DropoutRef.forward(y.data(), x.data(), 3, 100, null);
        assertArrayEquals(x.toArray(), y.toArray());
        float[] before = x.toArray();
        DropoutRef.forward(x.data(), x.data(), 3, 100, null); // in place
        assertArrayEquals(before, x.toArray());
        DropoutRef.backward(y.data(), x.data(), 3, 100, null);
        assertArrayEquals(before, y.toArray());
    }

    /**
     * A network with dropout layers compiled for inference (what classify and evaluate run) drops them: the same
     * bits as the chain without them, on the reference and the vector kernels, and the vector kernel with no mask
     * copies. A program that applied any mask at inference would zero about half of fc6's outputs here.
     */
    @Test
    void inferenceProgramsLeaveDropoutOut() {
        java.util.Random rnd = new java.util.Random(3);
        int in = 40, hidden = 64, out = 10, batch = 3;
        Tensor w1 = Tensor.allocate(arena, hidden, in), b1 = Tensor.allocate(arena, hidden);
        Tensor w2 = Tensor.allocate(arena, out, hidden), b2 = Tensor.allocate(arena, out);
        for (Tensor t : List.of(w1, b1, w2, b2)) for (long i = 0; i < t.size(); i++) t.set(i, (float) rnd.nextGaussian());
        Layer fc6 = new Layer(new LayerSpec.Linear("fc6", in, hidden, true), w1, b1);
        Layer fc7 = new Layer(new LayerSpec.Linear("fc7", hidden, out, false), w2, b2);
        Layer drop = Layer.of(new LayerSpec.Dropout("drop6", hidden, 0.5f, 0, hidden));
        Tensor x = ramp(batch, in);
        for (JavaDevice.Kernels k : JavaDevice.Kernels.values()) {
            try (JavaDevice d = new JavaDevice(2, k);
                 Program with = d.compile(List.of(fc6, drop, fc7), batch); Program without = d.compile(List.of(fc6, fc7), batch)) {
                assertEquals(List.of("fc6", "fc7"), with.layers().stream().map(l -> l.spec().name()).toList(), k + ": layers run");
                Tensor y1 = Tensor.allocate(arena, batch, out), y2 = Tensor.allocate(arena, batch, out);
                with.run(x.data(), y1.data());
                without.run(x.data(), y2.data());
                assertArrayEquals(y2.toArray(), y1.toArray(), k + ": dropout at inference");
            }
        }
        Tensor y = Tensor.allocate(arena, batch, in);
        y.data().fill((byte) 0xff);
        DropoutVec.forward(y.data(), x.data(), batch, in, null, 0, 1);
        assertArrayEquals(x.toArray(), y.toArray(), "DropoutVec without a mask");
    }

    /** Keep rate within 5 sigma of 1 - p (binomial), kept values scaled by exactly 1/(1-p), mean multiplier 1. */
    @Test
    void trainingDropsAboutPAndScalesTheRest() {
        int rows = 64, features = 4096, n = rows * features;
        for (float p : new float[] {0.5f, 0.25f, 0.1f}) {
            DropoutMask mask = new DropoutMask(p, DropoutMask.key(42, "drop6"), features, 0);
            Tensor x = ramp(rows, features), y = Tensor.allocate(arena, rows, features);
            DropoutRef.forward(y.data(), x.data(), rows, features, mask);
            float scale = 1f / (1f - p);
            float[] xs = x.toArray(), ys = y.toArray();
            long kept = 0;
            double meanFactor = 0;
            for (int i = 0; i < n; i++) {
                float f = mask.factor(i / features, i % features);
                assertTrue(f == 0f || f == scale, "factor " + f);
                assertEquals(xs[i] * f, ys[i], "output = input * factor at " + i);
                if (f != 0) kept++;
                meanFactor += f;
            }
            double sigma = Math.sqrt(p * (1 - p) / n);
            assertEquals(1 - p, (double) kept / n, 5 * sigma, "keep rate for p=" + p);
            assertEquals(1.0, meanFactor / n, 5 * sigma * scale, "mean multiplier for p=" + p);
        }
    }

    /** Backward multiplies by the forward's factors: backward(1) == forward(1). In place allowed. */
    @Test
    void backwardUsesTheForwardMask() {
        DropoutMask mask = new DropoutMask(0.5f, DropoutMask.key(7, "drop7"), 300, 0);
        Tensor ones = Tensor.allocate(arena, 4, 300), f = Tensor.allocate(arena, 4, 300), b = Tensor.allocate(arena, 4, 300);
        for (long i = 0; i < ones.size(); i++) ones.set(i, 1f);
        DropoutRef.forward(f.data(), ones.data(), 4, 300, mask);
        DropoutRef.backward(b.data(), ones.data(), 4, 300, mask);
        assertArrayEquals(f.toArray(), b.toArray());
        DropoutRef.backward(ones.data(), ones.data(), 4, 300, mask);
        assertArrayEquals(f.toArray(), ones.toArray());
    }

    /**
     * A pure function of (seed, layer, element): the same seed and name give the same mask in any order;
     * a tower (offset into the whole width) sees exactly its columns of the full layer; another seed or
     * name gives another mask.
     */
    @Test
    void maskDependsOnlyOnSeedLayerAndElement() {
        int rows = 3, total = 200, half = total / 2;
        DropoutMask full = new DropoutMask(0.5f, DropoutMask.key(9, "drop6"), total, 0);
        DropoutMask tower1 = new DropoutMask(0.5f, DropoutMask.key(9, "drop6"), total, half);
        Tensor x = ramp(rows, total), y = Tensor.allocate(arena, rows, total);
        DropoutRef.forward(y.data(), x.data(), rows, total, full);
        Tensor xt = Tensor.allocate(arena, rows, half), yt = Tensor.allocate(arena, rows, half);
        for (int r = 0; r < rows; r++) for (int i = 0; i < half; i++) xt.set((long) r * half + i, x.get((long) r * total + half + i));
        DropoutRef.forward(yt.data(), xt.data(), rows, half, tower1);
        for (int r = 0; r < rows; r++) for (int i = 0; i < half; i++) {
            assertEquals(y.get((long) r * total + half + i), yt.get((long) r * half + i), "tower 1 row " + r + " feature " + i);
        }
        // element order does not matter: each factor alone, last element first
        for (int e = rows * total - 1; e >= 0; e--) assertEquals(x.get(e) * full.factor(e / total, e % total), y.get(e));
        assertEquals(full, new DropoutMask(0.5f, DropoutMask.key(9, "drop6"), total, 0));
        assertFalse(sameMask(full, new DropoutMask(0.5f, DropoutMask.key(10, "drop6"), total, 0), rows, total), "another seed");
        assertFalse(sameMask(full, new DropoutMask(0.5f, DropoutMask.key(9, "drop7"), total, 0), rows, total), "another layer");
    }

    private static boolean sameMask(DropoutMask a, DropoutMask b, int rows, int features) {
        for (int n = 0; n < rows; n++) for (int i = 0; i < features; i++) if (a.keep(n, i) != b.keep(n, i)) return false;
        return true;
    }

    @Test
    void zeroProbabilityKeepsEverythingInTraining() {
        Tensor x = ramp(2, 50), y = Tensor.allocate(arena, 2, 50);
        DropoutRef.forward(y.data(), x.data(), 2, 50, new DropoutMask(0f, DropoutMask.key(3, "d"), 50, 0));
        assertArrayEquals(x.toArray(), y.toArray());
    }

    @Test
    void rejectsBadArguments() {
        Tensor x = ramp(1, 10), y = Tensor.allocate(arena, 1, 10);
        assertThrows(IllegalArgumentException.class, () -> new DropoutMask(1f, 0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new DropoutMask(-0.1f, 0, 10, 0));
        DropoutMask m = new DropoutMask(0.5f, 0, 10, 0);
        assertThrows(IllegalArgumentException.class, () -> DropoutRef.forward(y.data(), x.data(), 1, 11, m), "more floats than the segments hold");
        assertThrows(IllegalArgumentException.class, () -> DropoutRef.forward(y.data(), x.data(), 1, 10, new DropoutMask(0.5f, 0, 10, 1)), "mask narrower than the layer");
        assertThrows(IllegalArgumentException.class, () -> DropoutRef.backward(y.data(), x.data(), 0, 10, m));
    }
}
