package dev.alexnet.kernels;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * How far a device's output is from the reference kernels' output, and whether that is within bound: the
 * one agreement measure of the project (the {@code compare} table, the JMH checks, the CUDA device's
 * cross-check of alternative kernels, and the tests that hold a whole backend to the reference).
 *
 * <p>Error measure, per element: {@code |y - r| / (|r| + rms(r))}, where {@code rms(r)} is the root
 * mean square of the reference output being compared. For elements well above the output's typical
 * size this is the plain relative error; for elements near zero (a sum that cancelled, a ReLU edge)
 * the floor keeps a last-bit difference from reading as a 100% error. The reference accumulates in
 * double, so the error is the device's. A device passes when the largest such error is at most
 * {@code bound} and it produced no NaN or infinity the reference did not.
 *
 * @param maxAbs   largest |y - r|
 * @param maxRel   largest |y - r| / (|r| + rms(r))
 * @param bound    the pass/fail bound on maxRel
 * @param nonFinite elements that are NaN or infinite in y but not in r
 * @param images   how many images of the batch were checked
 */
public record Agreement(double maxAbs, double maxRel, double bound, long nonFinite, int images) {
    /** The default bound for fp32 paths (conv sums over up to 9216 terms reordered by blocking). */
    public static final double FP32_BOUND = 1e-4;
    /** The bound for CUDA's opt-in TF32 path (10-bit mantissa products). */
    public static final double TF32_BOUND = 1e-2;

    public boolean pass() { return nonFinite == 0 && maxRel <= bound && !Double.isNaN(maxRel); }

    /** {@link #maxRel}, or infinity when the output has a NaN or infinity the reference does not: one figure to hold to a bound. */
    public double error() { return nonFinite == 0 && !Double.isNaN(maxRel) ? maxRel : Double.POSITIVE_INFINITY; }

    /**
     * Compares all of {@code y} with {@code r} (same length). Reads the arrays directly: a heap segment
     * here would enter the JDK accessors' shared profiles that the kernels rely on (see vec.Preload).
     */
    public static Agreement of(float[] y, float[] r, double bound) {
        if (y.length != r.length) throw new IllegalArgumentException("cannot compare " + y.length + " values with " + r.length);
        return of(i -> y[(int) i], i -> r[(int) i], y.length, bound);
    }

    /** Compares {@code n} floats of {@code y} at float offset {@code yOff} with {@code r} at {@code rOff}. */
    public static Agreement of(MemorySegment y, long yOff, MemorySegment r, long rOff, long n, double bound) {
        return of(i -> y.getAtIndex(JAVA_FLOAT, yOff + i), i -> r.getAtIndex(JAVA_FLOAT, rOff + i), n, bound);
    }

    private interface Floats {
        float at(long i);
    }

    private static Agreement of(Floats y, Floats r, long n, double bound) {
        double ss = 0;
        for (long i = 0; i < n; i++) {
            double v = r.at(i);
            ss += v * v;
        }
        double rms = Math.sqrt(ss / Math.max(1, n));
        double maxAbs = 0, maxRel = 0;
        long bad = 0;
        for (long i = 0; i < n; i++) {
            double a = y.at(i), b = r.at(i);
            if (!Double.isFinite(a)) {
                if (Double.isFinite(b)) bad++;
                continue;
            }
            double d = Math.abs(a - b);
            maxAbs = Math.max(maxAbs, d);
            double denom = Math.abs(b) + rms;
            maxRel = Math.max(maxRel, denom == 0 ? (d == 0 ? 0 : Double.POSITIVE_INFINITY) : d / denom);
        }
        return new Agreement(maxAbs, maxRel, bound, bad, 1);
    }

    /** The worst of two (for several checked images). */
    public Agreement merge(Agreement o) {
        return new Agreement(Math.max(maxAbs, o.maxAbs), Math.max(maxRel, o.maxRel), bound, nonFinite + o.nonFinite, images + o.images);
    }
}
