package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.model.AlexNetSpec;
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
 * The whole paper network (conv1 ... fc8, LRN per tower, then softmax) on {@code dnnl:2} against the
 * scalar reference at batch 1: logits within 1e-4 (the agreement figure of {@link TestData}), probabilities
 * within 1e-4 too. Weights N(0, 0.01) as in the paper; biases 0.1 so activations stay alive
 * through eight layers of random weights.
 */
class DnnlAlexNetChainTest {
    @Test
    void paperNetworkAgreesWithReference() {
        List<LayerSpec> specs = new ArrayList<>(AlexNetSpec.PAPER.layers());
        specs.add(new LayerSpec.Softmax("softmax", AlexNetSpec.CLASSES));
        int batch = 1; // batch > 1 is covered layer by layer; the scalar reference needs ~10 s per image here
        try (Arena arena = Arena.ofShared();
             DnnlDevice dnnl = new DnnlDevice(2)) {
            List<Layer> all = DnnlTestSupport.withParams(arena, specs, 2012, 0.01f, 0.1f);
            List<Layer> logitsOnly = all.subList(0, all.size() - 1);
            TestData.Reference want = TestData.reference(arena, logitsOnly, batch, 7);
            DnnlProgram dnnlLogits = dnnl.compile(logitsOnly, batch);
            DnnlProgram dnnlAll = dnnl.compile(all, batch);

            MemorySegment gotLogits = want.output(arena), gotProbs = want.output(arena);
            Map<String, Long> times = new LinkedHashMap<>();
            dnnlLogits.run(want.input(), gotLogits, (layer, ns) -> times.merge(layer, ns, Long::sum));
            dnnlAll.run(want.input(), gotProbs);

            double logitErr = TestData.relErr(gotLogits, want.logits(), want.outputFloats());
            double probErr = TestData.relErr(gotProbs, want.probs(), want.outputFloats());
            System.out.printf("AlexNet batch %d on %s (oneDNN %s): logits rel err %.3g, softmax rel err %.3g%n",
                    batch, dnnl.name(), DnnlDevice.version(), logitErr, probErr);
            System.out.println("implementations: " + dnnlAll.implementations());
            System.out.println("first-run layer times (ms): " + times.entrySet().stream()
                    .map(e -> e.getKey() + "=" + String.format("%.2f", e.getValue() / 1e6)).toList());
            assertEquals(specs.size() - 1, times.size(), "one timing per layer");
            assertTrue(logitErr <= 1e-4, "logits relative error " + logitErr);
            assertTrue(probErr <= 1e-4, "softmax relative error " + probErr);
        }
    }
}
