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
}
