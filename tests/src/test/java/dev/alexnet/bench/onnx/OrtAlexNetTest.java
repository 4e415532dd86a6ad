package dev.alexnet.bench.onnx;

import dev.alexnet.model.onnx.OnnxModel;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.testing.TestData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole paper network (conv1 ... fc8, LRN per tower; paper initialisation, seed 2012) on
 * {@code ort:2} against the scalar reference at batch 1: logits within 1e-4 (the agreement figure of
 * {@link TestData}), and softmax probabilities too; the logits also with LRN as ONNX's operator.
 */
class OrtAlexNetTest {
    @Test
    void paperNetworkAgreesWithReference() {
        try (AlexNetWeights w = AlexNetWeights.paperInit(2012);
             Arena arena = Arena.ofShared();
             OnnxRuntimeDevice ort = new OnnxRuntimeDevice(2, OnnxModel.LrnMode.DECOMPOSED);
             OnnxRuntimeDevice ortLrnOp = new OnnxRuntimeDevice(2, OnnxModel.LrnMode.OP)) {
            List<Layer> logitsOnly = w.layers(AlexNetSpec.PAPER);
            List<Layer> all = new ArrayList<>(logitsOnly);
            all.add(Layer.of(new LayerSpec.Softmax("softmax", AlexNetSpec.CLASSES)));
            TestData.Reference want = TestData.reference(arena, logitsOnly, 1, 7);
            Program ortLogits = ort.compile(logitsOnly, 1), ortAll = ort.compile(all, 1);

            MemorySegment gotLogits = want.output(arena), gotProbs = want.output(arena);
            Map<String, Long> times = new LinkedHashMap<>();
            ortLogits.run(want.input(), gotLogits, (layer, ns) -> times.merge(layer, ns, Long::sum));
            ortAll.run(want.input(), gotProbs);

            MemorySegment opLogits = want.output(arena);
            ortLrnOp.compile(logitsOnly, 1).run(want.input(), opLogits);
            double opErr = TestData.relErr(opLogits, want.logits(), want.outputFloats());
            System.out.printf("AlexNet batch 1, LRN as the ONNX operator: logits rel err %.3g%n", opErr);
            assertTrue(opErr <= 1e-4, "logits relative error with the LRN operator " + opErr);

            double logitErr = TestData.relErr(gotLogits, want.logits(), want.outputFloats());
            double probErr = TestData.relErr(gotProbs, want.probs(), want.outputFloats());
            System.out.printf("AlexNet batch 1 on %s (ONNX Runtime %s): logits rel err %.3g, softmax rel err %.3g, first run %.1f ms%n",
                    ort.name(), ort.version(), logitErr, probErr, times.getOrDefault("conv1..fc8", 0L) / 1e6);
            assertEquals(List.of("conv1..fc8"), List.copyOf(times.keySet()));
            assertTrue(logitErr <= 1e-4, "logits relative error " + logitErr);
            assertTrue(probErr <= 1e-4, "softmax relative error " + probErr);
        }
    }
}
