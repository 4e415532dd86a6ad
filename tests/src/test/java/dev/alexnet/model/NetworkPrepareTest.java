package dev.alexnet.model;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * {@link Network#prepare} on both network kinds: it compiles and runs once without output, and a pass
 * afterwards gives the logits of a network that was never prepared (bitwise: same device, same threads).
 */
class NetworkPrepareTest {
    static Arena arena;
    static AlexNetWeights weights;
    static Tensor x;

    @BeforeAll
    static void setUp() {
        arena = Arena.ofShared();
        weights = AlexNetWeights.paperInit(3);
        x = Tensor.allocate(arena, 1, 3, 227, 227);
        SplittableRandom r = new SplittableRandom(9);
        for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 255 - 120));
    }

    @AfterAll
    static void tearDown() {
        weights.close();
        arena.close();
    }

    private static float[] run(String placement, boolean prepare) {
        Tensor y = Tensor.allocate(arena, 1, AlexNetSpec.CLASSES);
        try (Network n = Networks.open(AlexNetSpec.PAPER, weights, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            Class<? extends Network> kind = placement.contains(",") ? TwoTowerNetwork.class : SingleDeviceNetwork.class;
            assertInstanceOf(kind, n);
            if (prepare) n.prepare(1);
            n.forward(x.data(), y.data(), 1);
        }
        return y.toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"java:1,java:1", "dnnl:1"})
    void prepareThenForwardEqualsForwardAlone(String placement) {
        assertArrayEquals(run(placement, false), run(placement, true), placement);
    }
}
