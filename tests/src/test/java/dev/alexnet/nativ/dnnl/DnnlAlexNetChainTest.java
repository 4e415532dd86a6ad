package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole paper network (conv1 ... fc8, LRN per tower, then softmax) on {@code dnnl:2} against the
 * scalar reference at batch 1: logits within 1e-4 relative error (max|a-b| / max|b|), probabilities
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
             DnnlDevice dnnl = new DnnlDevice(2);
             JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE)) {
            List<Layer> all = DnnlTestSupport.withParams(arena, specs, 2012, 0.01f, 0.1f);
            List<Layer> logitsOnly = all.subList(0, all.size() - 1);

            Program refLogits = ref.compile(logitsOnly, batch);
            Program refSoftmax = ref.compile(all.subList(all.size() - 1, all.size()), batch);
            DnnlProgram dnnlLogits = dnnl.compile(logitsOnly, batch);
            DnnlProgram dnnlAll = dnnl.compile(all, batch);

            MemorySegment in = arena.allocate(refLogits.inputFloats() * Float.BYTES, 64);
            DnnlTestSupport.fillGaussian(in, refLogits.inputFloats(), new SplittableRandom(7), 1f);
            long classes = refLogits.outputFloats();
            MemorySegment wantLogits = arena.allocate(classes * Float.BYTES, 64), wantProbs = arena.allocate(classes * Float.BYTES, 64);
            MemorySegment gotLogits = arena.allocate(classes * Float.BYTES, 64), gotProbs = arena.allocate(classes * Float.BYTES, 64);
            refLogits.run(in, wantLogits);
            refSoftmax.run(wantLogits, wantProbs);

            Map<String, Long> times = new LinkedHashMap<>();
            dnnlLogits.run(in, gotLogits, (layer, ns) -> times.merge(layer, ns, Long::sum));
            dnnlAll.run(in, gotProbs);

            double logitErr = DnnlTestSupport.relErr(gotLogits, wantLogits, classes);
            double probErr = DnnlTestSupport.relErr(gotProbs, wantProbs, classes);
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
