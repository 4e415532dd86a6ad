package dev.alexnet.kernels.ref;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ConvShape;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Direct convolution, the oracle: seven nested loops, double accumulation, no tricks.
 * out[n,k,p,q] = bias[k] + sum_{c in group(k), r, s} in[n,c,p*sh-ph+r,q*sw-pw+s] * w[k,c,r,s], then ReLU if asked.
 */
public final class ConvRef {
    private ConvRef() {}

    /** @param bias [K] or {@code null} for none */
    public static void forward(MemorySegment out, MemorySegment in, MemorySegment weight, MemorySegment bias,
                               ConvShape s, boolean relu) {
        Checks.floats(in, s.inputSize(), "conv input");
        Checks.floats(weight, s.weightSize(), "conv weight");
        Checks.floats(out, s.outputSize(), "conv output");
        if (bias != null) Checks.floats(bias, s.k(), "conv bias");
        int P = s.p(), Q = s.q(), cg = s.cg(), kg = s.kg();
        for (int n = 0; n < s.n(); n++) {
            for (int k = 0; k < s.k(); k++) {
                int c0 = (k / kg) * cg;
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        double acc = bias == null ? 0 : bias.getAtIndex(JAVA_FLOAT, k);
                        for (int c = 0; c < cg; c++) {
                            for (int r = 0; r < s.r(); r++) {
                                int y = p * s.strideH() - s.padH() + r;
                                if (y < 0 || y >= s.h()) continue;
                                for (int t = 0; t < s.s(); t++) {
                                    int x = q * s.strideW() - s.padW() + t;
                                    if (x < 0 || x >= s.w()) continue;
                                    long ii = (((long) n * s.c() + c0 + c) * s.h() + y) * s.w() + x;
                                    long wi = (((long) k * cg + c) * s.r() + r) * s.s() + t;
                                    acc += (double) in.getAtIndex(JAVA_FLOAT, ii) * weight.getAtIndex(JAVA_FLOAT, wi);
                                }
                            }
                        }
                        float v = (float) acc;
                        if (relu && v < 0) v = 0;
                        out.setAtIndex(JAVA_FLOAT, (((long) n * s.k() + k) * P + p) * Q + q, v);
                    }
                }
            }
        }
    }
}
