package dev.alexnet.model;

import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paper initialisation (section 5) and He's, tensor by tensor, and the class names. Sample statistics of n
 * Gaussian draws with standard deviation s: the mean is within 6 s / sqrt(n) of 0 and the sample standard
 * deviation within 6 / sqrt(2n) of s, relatively (six standard errors: a false alarm below 1e-8 per tensor, yet
 * a std of 0.011 instead of 0.01, or weights shared between tensors, fail).
 */
class InitAndClassNamesTest {
    private static double[] meanStd(Tensor t) {
        double s = 0, ss = 0;
        long n = t.size();
        for (long i = 0; i < n; i++) {
            double v = t.data().getAtIndex(JAVA_FLOAT, i);
            s += v;
            ss += v * v;
        }
        double mean = s / n;
        return new double[] {mean, Math.sqrt(ss / n - mean * mean)};
    }

    private static void checkGaussian(String what, Tensor t, double std) {
        double[] ms = meanStd(t);
        long n = t.size();
        assertTrue(Math.abs(ms[0]) <= 6 * std / Math.sqrt(n), what + ": mean " + ms[0]);
        assertTrue(Math.abs(ms[1] / std - 1) <= 6 / Math.sqrt(2.0 * n), what + ": std " + ms[1] + ", want " + std);
    }

    private static void checkConstant(String what, Tensor t, float value) {
        for (long i = 0; i < t.size(); i++) assertEquals(value, t.data().getAtIndex(JAVA_FLOAT, i), what + "[" + i + "]");
    }

    @Test
    void paperInitIsSectionFive() {
        try (AlexNetWeights w = AlexNetWeights.paperInit(11)) {
            Set<Float> firsts = new HashSet<>();
            for (String name : AlexNetSpec.paramNames()) {
                Tensor t = w.get(name);
                assertEquals(java.util.Arrays.toString(AlexNetSpec.paramShape(name)), java.util.Arrays.toString(t.shape()), name + " shape");
                if (name.endsWith(".weight")) {
                    checkGaussian(name, t, 0.01);
                    firsts.add(t.data().getAtIndex(JAVA_FLOAT, 0));
                } else {
                    checkConstant(name, t, name.equals("conv1.bias") || name.equals("conv3.bias") ? 0f : 1f);
                }
            }
            assertEquals(8, firsts.size(), "every weight tensor has its own stream");
        }
    }

    @Test
    void heInitScalesByFanIn() {
        try (AlexNetWeights w = AlexNetWeights.init(AlexNetWeights.Init.HE, 11, 10)) {
            for (String name : AlexNetSpec.paramNames()) {
                Tensor t = w.get(name);
                if (name.endsWith(".weight")) {
                    checkGaussian(name, t, Math.sqrt(2.0 / (t.size() / t.dim(0))));
                } else {
                    checkConstant(name, t, 0f);
                }
            }
            assertEquals(10, w.get("fc8.bias").size(), "classes");
        }
    }

    @Test
    void classNamesAreImageNetsInIndexOrder() {
        assertEquals(1000, ClassNames.COUNT);
        assertEquals("tench", ClassNames.of(0));
        assertEquals("goldfish", ClassNames.of(1));
        assertEquals("tabby", ClassNames.of(281));
        assertEquals("toilet tissue", ClassNames.of(999));
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < ClassNames.COUNT; i++) {
            String n = ClassNames.of(i);
            assertTrue(!n.isBlank() && n.equals(n.strip()), "name " + i + ": '" + n + "'");
            distinct.add(n);
        }
        assertEquals(998, distinct.size(), "ImageNet repeats two names (crane, maillot)");
        assertThrows(IndexOutOfBoundsException.class, () -> ClassNames.of(1000));
    }
}
