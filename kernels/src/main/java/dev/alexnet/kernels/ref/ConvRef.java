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
    /**
     * Gradient with respect to the input, overwriting {@code gradIn} [N,C,H,W]:
     * gradIn[n,c,y,x] = sum over k in c's group and (p, q, r, t) with y = p*sh - ph + r, x = q*sw - pw + t of
     * gradOut[n,k,p,q] * w[k, c - c0, r, t]. {@code gradOut} is taken after any ReLU has been masked.
     */
    public static void backwardData(MemorySegment gradIn, MemorySegment gradOut, MemorySegment weight, ConvShape s) {
        Checks.floats(gradIn, s.inputSize(), "conv input gradient");
        Checks.floats(gradOut, s.outputSize(), "conv output gradient");
        Checks.floats(weight, s.weightSize(), "conv weight");
        int P = s.p(), Q = s.q(), cg = s.cg(), kg = s.kg();
        double[] acc = new double[s.h() * s.w()];
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < s.c(); c++) {
                java.util.Arrays.fill(acc, 0);
                int g = c / cg, cc = c - g * cg;
                for (int k = g * kg; k < (g + 1) * kg; k++) {
                    for (int p = 0; p < P; p++) {
                        for (int q = 0; q < Q; q++) {
                            double go = gradOut.getAtIndex(JAVA_FLOAT, (((long) n * s.k() + k) * P + p) * Q + q);
                            for (int r = 0; r < s.r(); r++) {
                                int y = p * s.strideH() - s.padH() + r;
                                if (y < 0 || y >= s.h()) continue;
                                for (int t = 0; t < s.s(); t++) {
                                    int x = q * s.strideW() - s.padW() + t;
                                    if (x < 0 || x >= s.w()) continue;
                                    long wi = (((long) k * cg + cc) * s.r() + r) * s.s() + t;
                                    acc[y * s.w() + x] += go * weight.getAtIndex(JAVA_FLOAT, wi);
                                }
                            }
                        }
                    }
                }
                long base = ((long) n * s.c() + c) * s.h() * s.w();
                for (int i = 0; i < acc.length; i++) gradIn.setAtIndex(JAVA_FLOAT, base + i, (float) acc[i]);
            }
        }
    }

    /**
     * Gradients with respect to the weights [K, C/G, R, S] and the bias [K] ({@code gradBias} may be null),
     * overwriting them: gradWeight[k,c,r,t] = sum_{n,p,q} gradOut[n,k,p,q] * in[n, c0 + c, y, x] (zero where
     * (y, x) falls in the padding), gradBias[k] = sum_{n,p,q} gradOut[n,k,p,q].
     */
    public static void backwardWeights(MemorySegment gradWeight, MemorySegment gradBias, MemorySegment in,
                                       MemorySegment gradOut, ConvShape s) {
        Checks.floats(gradWeight, s.weightSize(), "conv weight gradient");
        if (gradBias != null) Checks.floats(gradBias, s.k(), "conv bias gradient");
        Checks.floats(in, s.inputSize(), "conv input");
        Checks.floats(gradOut, s.outputSize(), "conv output gradient");
        int P = s.p(), Q = s.q(), cg = s.cg(), kg = s.kg();
        for (int k = 0; k < s.k(); k++) {
            int c0 = (k / kg) * cg;
            double bacc = 0;
            for (int n = 0; n < s.n(); n++) {
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) bacc += gradOut.getAtIndex(JAVA_FLOAT, (((long) n * s.k() + k) * P + p) * Q + q);
                }
            }
            if (gradBias != null) gradBias.setAtIndex(JAVA_FLOAT, k, (float) bacc);
            for (int c = 0; c < cg; c++) {
                for (int r = 0; r < s.r(); r++) {
                    for (int t = 0; t < s.s(); t++) {
                        double acc = 0;
                        for (int n = 0; n < s.n(); n++) {
                            for (int p = 0; p < P; p++) {
                                int y = p * s.strideH() - s.padH() + r;
                                if (y < 0 || y >= s.h()) continue;
                                for (int q = 0; q < Q; q++) {
                                    int x = q * s.strideW() - s.padW() + t;
                                    if (x < 0 || x >= s.w()) continue;
                                    long ii = (((long) n * s.c() + c0 + c) * s.h() + y) * s.w() + x;
                                    acc += (double) gradOut.getAtIndex(JAVA_FLOAT, (((long) n * s.k() + k) * P + p) * Q + q)
                                            * in.getAtIndex(JAVA_FLOAT, ii);
                                }
                            }
                        }
                        gradWeight.setAtIndex(JAVA_FLOAT, (((long) k * cg + c) * s.r() + r) * s.s() + t, (float) acc);
                    }
                }
            }
        }
    }
}
