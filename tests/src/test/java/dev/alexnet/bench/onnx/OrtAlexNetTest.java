package dev.alexnet.bench.onnx;

import dev.alexnet.device.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
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
 * The whole paper network (conv1 ... fc8, LRN per tower; paper initialisation, seed 2012) on
 * {@code ort:2} against the scalar reference at batch 1: logits within 1e-4 relative error
 * (max|a-b| / max|b|), and softmax probabilities too; the logits also with LRN as ONNX's operator.
 */
class OrtAlexNetTest {
    @Test
    void paperNetworkAgreesWithReference() {
        try (AlexNetWeights w = AlexNetWeights.paperInit(2012);
             Arena arena = Arena.ofShared();
             OnnxRuntimeDevice ort = new OnnxRuntimeDevice(2, OnnxModel.LrnMode.DECOMPOSED);
             OnnxRuntimeDevice ortLrnOp = new OnnxRuntimeDevice(2, OnnxModel.LrnMode.OP);
             JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE)) {
            List<Layer> logitsOnly = w.layers(AlexNetSpec.PAPER);
            List<Layer> all = new ArrayList<>(logitsOnly);
            all.add(Layer.of(new LayerSpec.Softmax("softmax", AlexNetSpec.CLASSES)));
            Program refLogits = ref.compile(logitsOnly, 1);
            Program refSoftmax = ref.compile(all.subList(all.size() - 1, all.size()), 1);
            Program ortLogits = ort.compile(logitsOnly, 1), ortAll = ort.compile(all, 1);

            MemorySegment in = arena.allocate(refLogits.inputFloats() * Float.BYTES, 64);
            OrtTestSupport.fillGaussian(in, refLogits.inputFloats(), new SplittableRandom(7), 1f);
            long classes = refLogits.outputFloats();
            MemorySegment wantLogits = arena.allocate(classes * Float.BYTES, 64), wantProbs = arena.allocate(classes * Float.BYTES, 64);
            MemorySegment gotLogits = arena.allocate(classes * Float.BYTES, 64), gotProbs = arena.allocate(classes * Float.BYTES, 64);
            refLogits.run(in, wantLogits);
            refSoftmax.run(wantLogits, wantProbs);
            Map<String, Long> times = new LinkedHashMap<>();
            ortLogits.run(in, gotLogits, (layer, ns) -> times.merge(layer, ns, Long::sum));
            ortAll.run(in, gotProbs);

            MemorySegment opLogits = arena.allocate(classes * Float.BYTES, 64);
            ortLrnOp.compile(logitsOnly, 1).run(in, opLogits);
            double opErr = OrtTestSupport.relErr(opLogits, wantLogits, classes);
            System.out.printf("AlexNet batch 1, LRN as the ONNX operator: logits rel err %.3g%n", opErr);
            assertTrue(opErr <= 1e-4, "logits relative error with the LRN operator " + opErr);

            double logitErr = OrtTestSupport.relErr(gotLogits, wantLogits, classes);
            double probErr = OrtTestSupport.relErr(gotProbs, wantProbs, classes);
            System.out.printf("AlexNet batch 1 on %s (ONNX Runtime %s): logits rel err %.3g, softmax rel err %.3g, first run %.1f ms%n",
                    ort.name(), ort.version(), logitErr, probErr, times.getOrDefault("conv1..fc8", 0L) / 1e6);
            assertEquals(List.of("conv1..fc8"), List.copyOf(times.keySet()));
            assertTrue(logitErr <= 1e-4, "logits relative error " + logitErr);
            assertTrue(probErr <= 1e-4, "softmax relative error " + probErr);
        }
    }
}
