package dev.alexnet.foundation;

import dev.alexnet.kernels.ref.DropoutRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Inverted dropout: the identity at inference; in training a 0 or 1/(1-p) mask with keep rate 1-p. */
class DropoutTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() { arena.close(); }

    private Tensor ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i * 0.25f - 7;
        return Tensor.of(arena, v, n);
    }

    @Test
    void inferenceIsTheIdentity() {
        Tensor x = ramp(1000), y = Tensor.allocate(arena, 1000), mask = Tensor.allocate(arena, 1000);
        mask.data().fill((byte) 0x7f);
        DropoutRef.forward(y.data(), x.data(), mask.data(), 1000, 0.5f, false, new SplittableRandom(1));
        assertArrayEquals(x.toArray(), y.toArray());
        float[] before = x.toArray();
        DropoutRef.forward(x.data(), x.data(), null, 1000, 0.5f, false, null); // in place, no rng needed
        assertArrayEquals(before, x.toArray());
    }

    @Test
    void trainingMasksWithTheRightKeepRateAndScale() {
        for (float p : new float[] {0.5f, 0.25f}) {
            int n = 200_000;
            Tensor x = ramp(n), y = Tensor.allocate(arena, n), mask = Tensor.allocate(arena, n);
            DropoutRef.forward(y.data(), x.data(), mask.data(), n, p, true, new SplittableRandom(42));
            float keep = 1f / (1f - p);
            float[] xs = x.toArray(), ys = y.toArray(), ms = mask.toArray();
            long kept = 0;
            for (int i = 0; i < n; i++) {
                assertTrue(ms[i] == 0f || ms[i] == keep, "mask value " + ms[i] + " at " + i + " for p=" + p);
                assertEquals(xs[i] * ms[i], ys[i], "output = input * mask at " + i);
                if (ms[i] != 0) kept++;
            }
            double rate = (double) kept / n, sigma = Math.sqrt(p * (1 - p) / n);
            assertEquals(1 - p, rate, 5 * sigma, "keep rate for p=" + p + " (5 sigma = " + 5 * sigma + ")");
            // inverted dropout keeps the expectation: mean of the mask is 1
            double meanMask = 0;
            for (float m : ms) meanMask += m;
            assertEquals(1.0, meanMask / n, 5 * sigma * keep, "mean of the mask for p=" + p);
        }
    }

    @Test
    void sameSeedSameMask() {
        int n = 1000;
        Tensor x = ramp(n), a = Tensor.allocate(arena, n), b = Tensor.allocate(arena, n);
        DropoutRef.forward(a.data(), x.data(), null, n, 0.5f, true, new SplittableRandom(9));
        DropoutRef.forward(b.data(), x.data(), null, n, 0.5f, true, new SplittableRandom(9));
        assertArrayEquals(a.toArray(), b.toArray());
    }

    @Test
    void zeroProbabilityKeepsEverythingInTraining() {
        Tensor x = ramp(100), y = Tensor.allocate(arena, 100);
        DropoutRef.forward(y.data(), x.data(), null, 100, 0f, true, new SplittableRandom(3));
        assertArrayEquals(x.toArray(), y.toArray());
    }

    @Test
    void rejectsProbabilityOutsideZeroOne() {
        Tensor x = ramp(10), y = Tensor.allocate(arena, 10);
        assertThrows(IllegalArgumentException.class, () -> DropoutRef.forward(y.data(), x.data(), null, 10, 1f, true, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> DropoutRef.forward(y.data(), x.data(), null, 10, -0.1f, false, null));
        assertThrows(IllegalArgumentException.class, () -> DropoutRef.forward(y.data(), x.data(), null, 11, 0.5f, false, null));
    }
}
