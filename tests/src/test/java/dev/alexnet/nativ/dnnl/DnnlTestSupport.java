package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared by the oneDNN tests: random parameters, running the same layers on {@code dnnl:1} and on
 * the scalar reference ({@code JavaDevice(1, REFERENCE)}), and the error measure.
 *
 * <p>Relative error, as used throughout: {@code max_i |dnnl_i - ref_i| / max_i |ref_i|} (0 when
 * both are all zero): the worst absolute difference in units of the output's largest magnitude.
 */
final class DnnlTestSupport {
    private DnnlTestSupport() {}

    /** Weights N(0, std) and biases {@code bias} for every parameterised layer; others get no parameters. */
    static List<Layer> withParams(Arena arena, List<LayerSpec> specs, long seed, float std, float bias) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Layer> out = new ArrayList<>();
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) {
                out.add(Layer.of(s));
                continue;
            }
            Tensor w = Tensor.allocate(arena, ws);
            fillGaussian(w.data(), w.size(), r, std);
            Tensor b = Tensor.allocate(arena, ws[0]);
            for (long i = 0; i < b.size(); i++) b.set(i, bias + (float) (0.1 * r.nextDouble()));
            out.add(new Layer(s, w, b));
        }
        return out;
    }

    static void fillGaussian(MemorySegment seg, long n, SplittableRandom r, float std) {
        for (long i = 0; i < n; i++) {
            // Box-Muller without caching: simple and deterministic.
            double u = 1.0 - r.nextDouble(), v = r.nextDouble();
            seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
        }
    }

    static double relErr(MemorySegment got, MemorySegment want, long n) {
        double maxDiff = 0, maxRef = 0;
        for (long i = 0; i < n; i++) {
            float a = got.getAtIndex(ValueLayout.JAVA_FLOAT, i), b = want.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(a)) return Double.POSITIVE_INFINITY;
            maxDiff = Math.max(maxDiff, Math.abs(a - b));
            maxRef = Math.max(maxRef, Math.abs(b));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
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
