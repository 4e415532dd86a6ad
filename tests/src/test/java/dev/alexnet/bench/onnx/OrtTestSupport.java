package dev.alexnet.bench.onnx;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.testing.TestData;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared by the ONNX Runtime tests: running the same layers on two devices; random parameters and the
 * error figure come from {@link TestData} (the {@code compare} table's agreement measure).
 */
final class OrtTestSupport {
    private OrtTestSupport() {}

    /** Weights N(0, 1/fan_in) (activations stay O(1) layer after layer) and biases U(-0.1, 0.1). */
    static List<Layer> withParams(Arena arena, List<LayerSpec> specs, long seed) {
        return TestData.withParams(arena, specs, seed, TestData::fanInStd, -0.1f, 0.1f);
    }

    static void fillGaussian(MemorySegment seg, long n, SplittableRandom r, float std) {
        TestData.fillGaussian(seg, n, r, std);
    }

    static double relErr(MemorySegment got, MemorySegment want, long n) {
        return TestData.relErr(got, want, n);
    }

    /** Outputs of {@code layers} on both devices for one random input (N(0, inputStd)); returns the relative error. */
    static double compare(Arena arena, Device got, Device want, List<Layer> layers, int batch, float inputStd, long seed) {
        try (Program pg = got.compile(layers, batch); Program pw = want.compile(layers, batch)) {
            MemorySegment in = arena.allocate(pg.inputFloats() * Float.BYTES, 64);
            fillGaussian(in, pg.inputFloats(), new SplittableRandom(seed), inputStd);
            MemorySegment a = arena.allocate(pg.outputFloats() * Float.BYTES, 64), b = arena.allocate(pw.outputFloats() * Float.BYTES, 64);
            pg.run(in, a);
            pw.run(in, b);
            return relErr(a, b, pg.outputFloats());
        }
    }
}
