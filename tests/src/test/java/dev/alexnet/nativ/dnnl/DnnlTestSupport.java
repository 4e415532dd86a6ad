package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.testing.TestData;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared by the oneDNN tests: running the same layers on {@code dnnl:1} and on the scalar reference
 * ({@code JavaDevice(1, REFERENCE)}); random parameters and the error figure come from {@link TestData}
 * (the {@code compare} table's agreement measure).
 */
final class DnnlTestSupport {
    private DnnlTestSupport() {}

    /** Weights N(0, std) and biases in [bias, bias + 0.1) for every parameterised layer; others get no parameters. */
    static List<Layer> withParams(Arena arena, List<LayerSpec> specs, long seed, float std, float bias) {
        return TestData.withParams(arena, specs, seed, shape -> std, bias, bias + 0.1f);
    }

    static void fillGaussian(MemorySegment seg, long n, SplittableRandom r, float std) {
        TestData.fillGaussian(seg, n, r, std);
    }

    static double relErr(MemorySegment got, MemorySegment want, long n) {
        return TestData.relErr(got, want, n);
    }

    /** Result of one comparison. */
    record Agreement(double relErr, MemorySegment dnnl, MemorySegment ref, java.util.Map<String, String> impls) {}

    /** Runs {@code layers} at {@code batch} on a fresh dnnl program and on the reference; input N(0,1). */
    static Agreement compare(DnnlDevice dnnl, List<Layer> layers, int batch, Arena arena, long seed) {
        try (JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE);
             DnnlProgram p = dnnl.compile(layers, batch)) {
            Program q = ref.compile(layers, batch);
            MemorySegment in = arena.allocate(p.inputFloats() * Float.BYTES, 64);
            fillGaussian(in, p.inputFloats(), new SplittableRandom(seed), 1f);
            MemorySegment a = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            MemorySegment b = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            p.run(in, a);
            q.run(in, b);
            return new Agreement(relErr(a, b, p.outputFloats()), a, b, p.implementations());
        }
    }
}
