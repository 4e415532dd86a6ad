package dev.alexnet.kernels.vec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * d^-0.75 for LRN with the paper's beta on the FMA ports instead of the divider. Alone it is no faster
 * than 1/(sqrt(d) sqrt(sqrt(d))) (about 30 vector operations against two square roots and a divide, about
 * 27 cycles of the divider per 16 lanes here), but the two run on different units: NCHW LRN
 * ({@link NchwPoolLrn}) alternates them vector by vector, about 20% faster in cache.
 *
 * <p>Method: d = 2^(4j + r) m with m in [1, 2), r in 0..3 (integer operations on the bits). A degree-5
 * polynomial in m (relative error 2^-15 on [1, 2)) times a cubic in r through 2^(-0.75 r) gives y0, scaled
 * by 2^(-3j) on its exponent bits; then one Newton step for y^4 d^3 = 1 written so nothing overflows:
 * q = d y (about d^0.25), e = q^2 (q y) - 1, y1 = y - (y/4) e. The step squares the error
 * (y1 = y (1 - 2.5 eps^2) for y = y0 (1 + eps)), so the approximation adds 2.5 * 2^-30 = 0.04 u; the
 * rounding of the four products in e (5 u of e at most) becomes 1.25 u of y1, and the final FMA rounds once
 * (u): the bound is 2.3 u relative (u = 2^-24), against 3.5 u for sqrt, sqrt, multiply. Scaling d by 2^(4j)
 * scales every intermediate by a power of two, so one period of exponents decides all of them:
 * {@code MemoryBoundVecTest.pow34Exhaustive} checks every float in [1, 16) (measured maximum 1.92 u, at d = 2.4454877).
 *
 * <p>Valid for every normal positive d (the callers guarantee d >= k >= Float.MIN_NORMAL); d = +inf gives
 * NaN (the sqrt form gave 0), NaN stays NaN.
 */
final class Pow34 {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float P0 = 3.16989803314209f, P1 = -4.757269382476807f, P2 = 4.189462661743164f,
            P3 = -2.100667715072632f, P4 = 0.5604305863380432f, P5 = -0.06188027560710907f;
    private static final float R1 = -0.5097780227661133f, R2 = 0.11548583209514618f, R3 = -0.011104232631623745f;

    private Pow34() {}

    /** d^-0.75, lane-wise, within 2.3 u relative; d normal and positive. */
    static FloatVector invPow34(FloatVector d) {
        IntVector bits = d.reinterpretAsInts();
        IntVector e1 = bits.lanewise(VectorOperators.LSHR, 23).add(1);           // biased exponent + 1 = 4 (j + 32) + r
        IntVector j23 = e1.lanewise(VectorOperators.ASHR, 2).sub(32).lanewise(VectorOperators.LSHL, 23);
        FloatVector r = (FloatVector) e1.and(3).convert(VectorOperators.I2F, 0);
        FloatVector m = bits.and(0x007FFFFF).or(0x3F800000).reinterpretAsFloats();
        FloatVector p = m.fma(P5, P4).fma(m, FloatVector.broadcast(S, P3)).fma(m, FloatVector.broadcast(S, P2))
                .fma(m, FloatVector.broadcast(S, P1)).fma(m, FloatVector.broadcast(S, P0));
        FloatVector t = r.fma(R3, R2).fma(r, FloatVector.broadcast(S, R1)).fma(r, FloatVector.broadcast(S, 1f));
        FloatVector y = p.mul(t).reinterpretAsInts().sub(j23.add(j23).add(j23)).reinterpretAsFloats();
        FloatVector q = d.mul(y);
        FloatVector e = q.mul(q).fma(q.mul(y), FloatVector.broadcast(S, -1f));
        return y.mul(-0.25f).fma(e, y);
    }
}
