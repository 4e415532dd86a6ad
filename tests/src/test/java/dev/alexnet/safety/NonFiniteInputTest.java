package dev.alexnet.safety;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.model.NonFinite;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Non-finite input values give the same answer on every device: NaN logits for the images that hold one,
 * the other images of the batch untouched. oneDNN used to return finite logits for a NaN input (its pooling
 * or ReLU dropped the NaN) where the Java kernels returned NaN.
 */
class NonFiniteInputTest {
    private static AlexNetWeights weights;

    @BeforeAll static void load() { weights = AlexNetWeights.paperInit(7); }
    @AfterAll static void free() { weights.close(); }

    @ParameterizedTest
    @ValueSource(strings = {"java:1", "dnnl:1", "java:1,dnnl:1"}) // ref:1 too (same code path in the network), but 2 minutes here
    void imagesWithNaNOrInfGiveNaNLogitsOnEveryDeviceAndTheOthersDoNot(String placement) {
        int batch = 3;
        try (Arena arena = Arena.ofShared();
             Network n = Networks.open(AlexNetSpec.PAPER, weights, placement,
                     placement.startsWith("ref") ? JavaDevice.Kernels.REFERENCE : JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            Tensor x = Tensor.allocate(arena, batch, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(1);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 200 - 100));
            long perImage = 3L * 227 * 227;
            x.set(perImage * 0 + 1000, Float.NaN);                  // image 0: one NaN in a conv1 window's middle
            x.set(perImage * 2 + 5, Float.POSITIVE_INFINITY);       // image 2: one +Inf
            Tensor y = Tensor.allocate(arena, batch, AlexNetSpec.CLASSES);
            n.forward(x.data(), y.data(), batch);
            for (int k = 0; k < AlexNetSpec.CLASSES; k++) {
                assertTrue(Float.isNaN(y.get((long) k)), placement + ": image 0 (NaN input), logit " + k + " = " + y.get((long) k));
                assertTrue(Float.isFinite(y.get(AlexNetSpec.CLASSES + k)), placement + ": image 1 (finite input), logit " + k);
                assertTrue(Float.isNaN(y.get(2L * AlexNetSpec.CLASSES + k)), placement + ": image 2 (Inf input), logit " + k);
            }
        }
    }

    @Test
    void scanCountsEveryNonFiniteValueAndFindsTheFirst() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, 100);
            assertEquals(new NonFinite.Scan(0, -1), NonFinite.scan(x.data(), 100));
            x.set(97L, Float.NEGATIVE_INFINITY);
            x.set(41L, Float.NaN);
            x.set(60L, Float.intBitsToFloat(0x7fc00001)); // a NaN with a payload
            x.set(10L, Float.MAX_VALUE);                   // finite
            assertEquals(new NonFinite.Scan(3, 41), NonFinite.scan(x.data(), 100));
            assertEquals(new NonFinite.Scan(1, 41), NonFinite.scan(x.data(), 50));
        }
    }
}
