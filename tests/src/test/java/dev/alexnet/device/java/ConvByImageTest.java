package dev.alexnet.device.java;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.kernels.vec.ThreadTeam;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A direct convolution next to a reorder (its NCHW input reordered to channels-last, its output reordered
 * to NCHW) runs as one step with them, image by image on each member ({@code ConvByImage}), when the batch
 * has at least one image per member, and as whole-batch steps otherwise. Both schedules do the same
 * arithmetic per output, so their results must be bitwise equal, and both must agree with the
 * double-precision reference within the fp32 bound; the caller's input may be confined to its thread.
 */
class ConvByImageTest {
    private static Layer conv(Arena arena, Random rnd, LayerSpec.Conv spec) {
        Tensor w = Tensor.allocate(arena, spec.weightShape());
        Tensor b = Tensor.allocate(arena, spec.outC());
        for (long i = 0; i < w.size(); i++) w.set(i, (float) rnd.nextGaussian());
        for (long i = 0; i < b.size(); i++) b.set(i, (float) rnd.nextGaussian());
        return new Layer(spec, w, b);
    }

    private static float[] run(List<Layer> layers, int batch, int threads, MemorySegment in, List<String> kinds) {
        try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(threads);
             Program p = TestPrograms.vector(layers, batch, team, new JavaDevice.Options(JavaDevice.ConvAlgorithm.DIRECT))) {
            kinds.addAll(((VectorPrograms.VectorProgram) p).stepKinds());
            MemorySegment out = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            p.run(in, out);
            return out.toArray(JAVA_FLOAT);
        }
    }

    @Test
    void fusedAndSeparateStepsAgreeBitwise() {
        Random rnd = new Random(5);
        List<LayerSpec.Conv> specs = List.of(
                new LayerSpec.Conv("c11s4", 3, 35, 35, 20, 11, 4, 0, 1, true),   // conv1's kind: 3 channels, stride 4
                new LayerSpec.Conv("c5g2", 8, 9, 11, 24, 5, 1, 2, 2, true),     // conv2's kind: groups, pad 2
                new LayerSpec.Conv("c3", 16, 7, 7, 33, 3, 1, 1, 1, false));    // a partial channel tile, no ReLU
        int batch = 3;
        try (Arena arena = Arena.ofShared()) {
            for (LayerSpec.Conv spec : specs) {
                Layer layer = conv(arena, rnd, spec);
                MemorySegment in = arena.allocate(batch * spec.inputSize() * Float.BYTES, 64);
                for (long i = 0; i < batch * spec.inputSize(); i++) in.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
                List<String> fusedKinds = new java.util.ArrayList<>(), separateKinds = new java.util.ArrayList<>();
                float[] fused = run(List.of(layer), batch, 2, in, fusedKinds);     // 3 images on 2 members: one step
                float[] separate = run(List.of(layer), batch, 4, in, separateKinds); // fewer images than members: three steps
                assertEquals(List.of("ConvByImage"), fusedKinds, spec.name());
                assertEquals(List.of("ToNhwc", "ConvStep", "Step"), separateKinds, spec.name());
                assertArrayEquals(separate, fused, spec.name() + ": the image-by-image schedule changed results");
                try (Arena confined = Arena.ofConfined()) { // only the caller may read it: a copy every member can read
                    MemorySegment own = confined.allocate(in.byteSize(), 64);
                    own.copyFrom(in);
                    assertArrayEquals(fused, run(List.of(layer), batch, 2, own, new java.util.ArrayList<>()), spec.name() + ": confined input");
                }

                // followed by pooling: only the input reorder is taken in, the output stays a channels-last batch
                Layer pool = new Layer(new LayerSpec.MaxPool("pool", spec.outC(), spec.outH(), spec.outW(), 2, 1, 0), null, null);
                List<String> withPool = new java.util.ArrayList<>(), withPoolSeparate = new java.util.ArrayList<>();
                float[] pooled = run(List.of(layer, pool), batch, 2, in, withPool);
                float[] pooledSeparate = run(List.of(layer, pool), batch, 4, in, withPoolSeparate);
                assertEquals("ConvByImage", withPool.get(0), spec.name());
                assertEquals(List.of("ToNhwc", "ConvStep"), withPoolSeparate.subList(0, 2), spec.name());
                assertArrayEquals(pooledSeparate, pooled, spec.name() + ": conv + pool, image by image");

                ConvShape sh = spec.shape(batch);
                MemorySegment ref = arena.allocate(sh.outputSize() * Float.BYTES, 64);
                ConvRef.forward(ref, in, layer.weight().data(), layer.bias().data(), sh, spec.relu());
                Agreement a = Agreement.of(fused, ref.toArray(JAVA_FLOAT), Agreement.FP32_BOUND);
                assertTrue(a.pass(), spec.name() + ": " + a);
            }
        }
    }
}
