package dev.alexnet.testing;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Agreement;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Random parameters and inputs, and the agreement figure, shared by the tests that hold a whole backend
 * (oneDNN, ONNX Runtime, CUDA, two towers) to the scalar reference. The figure is {@link Agreement}'s,
 * the same one the {@code compare} table reports: the largest |got - want| / (|want| + rms(want)),
 * infinite when {@code got} has a NaN or infinity that {@code want} does not.
 */
public final class TestData {
    private TestData() {}

    /** Weight scale N(0, 1/fan_in): activations stay O(1) layer after layer. */
    public static double fanInStd(int[] weightShape) {
        long fanIn = 1;
        for (int i = 1; i < weightShape.length; i++) fanIn *= weightShape[i];
        return 1 / Math.sqrt(fanIn);
    }

    /**
     * {@code specs} with weights N(0, std(weight shape)) and biases uniform in [biasLo, biasHi) for every
     * parameterised layer (one generator, seeded, in layer order); the others get no parameters.
     */
    public static List<Layer> withParams(Arena arena, List<LayerSpec> specs, long seed, ToDoubleFunction<int[]> std,
                                         float biasLo, float biasHi) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Layer> out = new ArrayList<>();
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) {
                out.add(Layer.of(s));
                continue;
            }
            Tensor w = Tensor.allocate(arena, ws);
            fillGaussian(w.data(), w.size(), r, (float) std.applyAsDouble(ws));
            Tensor b = Tensor.allocate(arena, ws[0]);
            for (long i = 0; i < b.size(); i++) b.set(i, biasLo + (float) ((biasHi - biasLo) * r.nextDouble()));
            out.add(new Layer(s, w, b));
        }
        return out;
    }

    /** {@code n} floats N(0, std) into {@code seg}. */
    public static void fillGaussian(MemorySegment seg, long n, SplittableRandom r, float std) {
        for (long i = 0; i < n; i++) seg.setAtIndex(JAVA_FLOAT, i, (float) (std * r.nextGaussian()));
    }

    /** {@code n} floats uniform in [lo, hi), on a fresh 64-byte aligned segment. */
    public static MemorySegment uniform(Arena arena, long n, long seed, float lo, float hi) {
        Random r = new Random(seed);
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, lo + (hi - lo) * r.nextFloat());
        return s;
    }

    /** The agreement figure of the first {@code n} floats of {@code got} against {@code want}. */
    public static double relErr(MemorySegment got, MemorySegment want, long n) {
        return Agreement.of(got, 0, want, 0, n, Agreement.FP32_BOUND).error();
    }

    /** The agreement figure of {@code got} against {@code want} (same length). */
    public static double relErr(float[] got, float[] want) {
        return Agreement.of(got, want, Agreement.FP32_BOUND).error();
    }

    /**
     * What the scalar reference computes for one N(0, 1) input: the logits of a network, and the softmax
     * probabilities of those logits; {@link #output} allocates a buffer of the same size for a device's answer.
     */
    public record Reference(MemorySegment input, MemorySegment logits, MemorySegment probs, long outputFloats) {
        public MemorySegment output(Arena arena) {
            return arena.allocate(outputFloats * Float.BYTES, 64);
        }
    }

    /** {@link Reference} for {@code logitsOnly} (a network ending in logits) at {@code batch}, input drawn from {@code seed}. */
    public static Reference reference(Arena arena, List<Layer> logitsOnly, int batch, long seed) {
        try (JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE)) {
            Program logits = ref.compile(logitsOnly, batch);
            int classes = Math.toIntExact(logitsOnly.getLast().spec().outputSize());
            Program softmax = ref.compile(List.of(Layer.of(new LayerSpec.Softmax("softmax", classes))), batch);
            MemorySegment in = arena.allocate(logits.inputFloats() * Float.BYTES, 64);
            fillGaussian(in, logits.inputFloats(), new SplittableRandom(seed), 1f);
            Reference r = new Reference(in, arena.allocate(logits.outputFloats() * Float.BYTES, 64),
                    arena.allocate(logits.outputFloats() * Float.BYTES, 64), logits.outputFloats());
            logits.run(in, r.logits());
            softmax.run(r.logits(), r.probs());
            return r;
        }
    }
}
