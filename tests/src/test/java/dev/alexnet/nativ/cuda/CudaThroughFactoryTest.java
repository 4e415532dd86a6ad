package dev.alexnet.nativ.cuda;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.CounterInit;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.alexnet.nativ.cuda.CudaTestSupport.reference;
import static dev.alexnet.nativ.cuda.CudaTestSupport.relError;
import static dev.alexnet.nativ.cuda.CudaTestSupport.run;
import static dev.alexnet.nativ.cuda.CudaTestSupport.uniform;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU as a user reaches it: through {@link Devices#create} and {@link Networks#open} (the CLI's factory), not
 * the CudaDevice constructor. LRN at the model's real shapes (96x55x55 and 256x27x27, per tower and across all
 * channels), and the paper network from the one definition (LRN before pooling) against the vector kernels.
 */
@Tag("gpu")
class CudaThroughFactoryTest {
    @BeforeAll
    static void gpu() {
        CudaTestSupport.assumeCuda();
    }

    @Test
    void lrnAtTheModelsShapesThroughTheFactory() {
        try (Device d = Devices.create("cuda:0", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32); Arena arena = Arena.ofShared()) {
            assertEquals("cuda:0", d.name());
            for (LayerSpec.Lrn spec : List.of(new LayerSpec.Lrn("lrn1", 96, 55, 55, LrnParams.PAPER, 2),
                    new LayerSpec.Lrn("lrn2", 256, 27, 27, LrnParams.PAPER, 2), new LayerSpec.Lrn("lrn2-all", 256, 27, 27, LrnParams.PAPER, 1))) {
                List<Layer> layers = List.of(Layer.of(spec));
                try (Program p = d.compile(layers, 2)) {
                    MemorySegment in = uniform(arena, p.inputFloats(), 5, 0f, 40f); // post-ReLU magnitudes
                    double err = relError(run(p, in), reference(layers, 2, in));
                    assertTrue(err <= Agreement.FP32_BOUND, spec.name() + ": relative error " + err);
                }
            }
        }
    }

    @Test
    void paperNetworkThroughNetworksOpenMatchesTheVectorKernels() {
        try (AlexNetWeights w = AlexNetWeights.counter(); Arena arena = Arena.ofShared()) {
            long n = 2L * 3 * 227 * 227;
            MemorySegment x = arena.allocate(n * Float.BYTES, 64);
            CounterInit.fill(x, n, CounterInit.INPUT_STREAM, CounterInit.INPUT_SCALE);
            float[][] logits = new float[2][];
            String[] placements = {"cuda:0", "java:2"};
            for (int i = 0; i < 2; i++) {
                try (Network net = Networks.open(AlexNetSpec.PAPER, w, placements[i], JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
                    MemorySegment y = arena.allocate(2L * AlexNetSpec.CLASSES * Float.BYTES, 64);
                    net.forward(x, y, 2);
                    logits[i] = y.toArray(JAVA_FLOAT);
                }
            }
            double err = relError(logits[0], logits[1]);
            assertTrue(err <= Agreement.FP32_BOUND, "cuda:0 vs java:2 logits: relative error " + err);
        }
    }
}
