package dev.alexnet.bench.onnx;

import dev.alexnet.device.Device;
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
 * Shared by the ONNX Runtime tests: random parameters, running the same layers on two devices, and the
 * error measure {@code max_i |got_i - want_i| / max_i |want_i|} (the worst difference in units of the
 * output's largest magnitude).
 */
final class OrtTestSupport {
    private OrtTestSupport() {}

    /** Weights N(0, 1/fan_in) (activations stay O(1) layer after layer) and biases U(-0.1, 0.1). */
    static List<Layer> withParams(Arena arena, List<LayerSpec> specs, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Layer> out = new ArrayList<>();
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) {
                out.add(Layer.of(s));
                continue;
            }
            long fanIn = 1;
            for (int i = 1; i < ws.length; i++) fanIn *= ws[i];
            Tensor w = Tensor.allocate(arena, ws);
            fillGaussian(w.data(), w.size(), r, (float) (1 / Math.sqrt(fanIn)));
            Tensor b = Tensor.allocate(arena, ws[0]);
            for (long i = 0; i < b.size(); i++) b.set(i, (float) (0.2 * r.nextDouble() - 0.1));
            out.add(new Layer(s, w, b));
        }
        return out;
    }

    static void fillGaussian(MemorySegment seg, long n, SplittableRandom r, float std) {
        for (long i = 0; i < n; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (std * r.nextGaussian()));
    }

    static double relErr(MemorySegment got, MemorySegment want, long n) {
        double maxDiff = 0, maxRef = 0;
        for (long i = 0; i < n; i++) {
            float a = got.getAtIndex(ValueLayout.JAVA_FLOAT, i), b = want.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (Float.isNaN(a) || Float.isNaN(b)) return Double.POSITIVE_INFINITY;
            maxDiff = Math.max(maxDiff, Math.abs((double) a - b));
            maxRef = Math.max(maxRef, Math.abs((double) b));
        }
        return maxRef == 0 ? (maxDiff == 0 ? 0 : Double.POSITIVE_INFINITY) : maxDiff / maxRef;
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
