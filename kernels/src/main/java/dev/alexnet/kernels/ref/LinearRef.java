package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.LinearShape;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Fully connected, the oracle: out[n,o] = bias[o] + sum_i in[n,i] * w[o,i] (double accumulation), ReLU if asked. */
public final class LinearRef {
    private LinearRef() {}

    /** @param bias [out] or {@code null} */
    public static void forward(MemorySegment out, MemorySegment in, MemorySegment weight, MemorySegment bias,
                               LinearShape s, boolean relu) {
        Checks.floats(in, (long) s.n() * s.in(), "linear input");
        Checks.floats(weight, (long) s.out() * s.in(), "linear weight");
        Checks.floats(out, (long) s.n() * s.out(), "linear output");
        if (bias != null) Checks.floats(bias, s.out(), "linear bias");
        for (int n = 0; n < s.n(); n++) {
            for (int o = 0; o < s.out(); o++) {
                double acc = bias == null ? 0 : bias.getAtIndex(JAVA_FLOAT, o);
                long wi = (long) o * s.in(), ii = (long) n * s.in();
                for (int i = 0; i < s.in(); i++) {
                    acc += (double) in.getAtIndex(JAVA_FLOAT, ii + i) * weight.getAtIndex(JAVA_FLOAT, wi + i);
                }
                float v = (float) acc;
                out.setAtIndex(JAVA_FLOAT, (long) n * s.out() + o, relu && v < 0 ? 0 : v);
            }
        }
    }
    /** gradIn[n,i] = sum_o gradOut[n,o] * w[o,i] (double accumulation), overwriting gradIn [N,in]. */
    public static void backwardData(MemorySegment gradIn, MemorySegment gradOut, MemorySegment weight, LinearShape s) {
        Checks.floats(gradIn, (long) s.n() * s.in(), "linear input gradient");
        Checks.floats(gradOut, (long) s.n() * s.out(), "linear output gradient");
        Checks.floats(weight, (long) s.out() * s.in(), "linear weight");
        double[] acc = new double[s.in()];
        for (int n = 0; n < s.n(); n++) {
            java.util.Arrays.fill(acc, 0);
            for (int o = 0; o < s.out(); o++) {
                double go = gradOut.getAtIndex(JAVA_FLOAT, (long) n * s.out() + o);
                long wi = (long) o * s.in();
                for (int i = 0; i < s.in(); i++) acc[i] += go * weight.getAtIndex(JAVA_FLOAT, wi + i);
            }
            for (int i = 0; i < s.in(); i++) gradIn.setAtIndex(JAVA_FLOAT, (long) n * s.in() + i, (float) acc[i]);
        }
    }

    /**
     * gradWeight[o,i] = sum_n gradOut[n,o] * in[n,i], gradBias[o] = sum_n gradOut[n,o] ({@code gradBias} may be
     * null), overwriting both.
     */
    public static void backwardWeights(MemorySegment gradWeight, MemorySegment gradBias, MemorySegment in,
                                       MemorySegment gradOut, LinearShape s) {
        Checks.floats(gradWeight, (long) s.out() * s.in(), "linear weight gradient");
        if (gradBias != null) Checks.floats(gradBias, s.out(), "linear bias gradient");
        Checks.floats(in, (long) s.n() * s.in(), "linear input");
        Checks.floats(gradOut, (long) s.n() * s.out(), "linear output gradient");
        double[] acc = new double[s.in()];
        for (int o = 0; o < s.out(); o++) {
            java.util.Arrays.fill(acc, 0);
            double bacc = 0;
            for (int n = 0; n < s.n(); n++) {
                double go = gradOut.getAtIndex(JAVA_FLOAT, (long) n * s.out() + o);
                bacc += go;
                long ii = (long) n * s.in();
                for (int i = 0; i < s.in(); i++) acc[i] += go * in.getAtIndex(JAVA_FLOAT, ii + i);
            }
            for (int i = 0; i < s.in(); i++) gradWeight.setAtIndex(JAVA_FLOAT, (long) o * s.in() + i, (float) acc[i]);
            if (gradBias != null) gradBias.setAtIndex(JAVA_FLOAT, o, (float) bacc);
        }
    }
}
