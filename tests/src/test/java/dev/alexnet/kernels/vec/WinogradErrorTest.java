package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Agreement;
import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.ref.ConvRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.alexnet.kernels.vec.VecTestSupport.random;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How much accuracy Winograd F(2x2, 3x3) and F(4x4, 3x3) cost on conv3-conv5, measured with a scalar
 * float model of each (transforms in float, U = G g G^T in double rounded once, channel sums with FMA, as
 * {@link WinogradVec} does) against {@link ConvRef}, with He-init weights on post-ReLU inputs.
 *
 * <p>F(4x4, 3x3) in two versions: on the points 0, 1, -1, 1/2, -2 and infinity (Barabasz et al.; the one
 * {@link WinogradVec.Variant#F4X4} uses) and on Lavin and Gray's 0, +-1, +-2 and infinity. Per dimension the
 * rows of |A^T| weighted by the row sums of |G| and |B^T| add up to at most 29.6 and 48 where a 3-tap window
 * adds up to 3 (F(2x2, 3x3): 8), so their worst-case rounding errors are (29.6/8)^2 = 14 and (48/8)^2 = 36
 * times F(2x2, 3x3)'s; the measured figures are printed (WinogradVecTest prints the vector kernel's own
 * figures beside them), and the chosen points must measure better than Lavin and Gray's on every layer.
 */
class WinogradErrorTest {
    static final double[][] BT2 = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    static final double[][] G2 = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static final double[][] AT2 = {{1, 1, 1, 0}, {0, 1, -1, -1}};
    static final double[][] BT4 = {
            {1, -1.5, -2, 1.5, 1, 0}, {0, -1, 0.5, 2.5, 1, 0}, {0, 1, -2.5, 0.5, 1, 0},
            {0, -2, -1, 2, 1, 0}, {0, 0.5, -1, -0.5, 1, 0}, {0, 1, -1.5, -2, 1.5, 1}};
    static final double[][] G4 = {
            {1, 0, 0}, {1 / 3.0, 1 / 3.0, 1 / 3.0}, {-1 / 3.0, 1 / 3.0, -1 / 3.0},
            {-16 / 15.0, -8 / 15.0, -4 / 15.0}, {1 / 15.0, -2 / 15.0, 4 / 15.0}, {0, 0, 1}};
    static final double[][] AT4 = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5, -2, 0}, {0, 1, 1, 0.25, 4, 0}, {0, 1, -1, 0.125, -8, 1}};
    static final double[][] BT4L = {
            {4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
            {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    static final double[][] G4L = {
            {1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};
    static final double[][] AT4L = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

    /** float Y = A^T [sum_c (G g G^T) .* (B^T d B)] A + bias, then ReLU; NCHW in and out; pad 1, stride 1. */
    static float[] model(ConvShape s, float[] x, float[] w, float[] b, double[][] bt, double[][] g, double[][] at) {
        int m = at.length, a = bt.length, C = s.c(), H = s.h(), W = s.w(), K = s.k(), cg = s.cg(), kg = s.kg(), P = s.p(), Q = s.q();
        int th = (P + m - 1) / m, tw = (Q + m - 1) / m;
        float[] u = new float[K * cg * a * a];
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < cg; c++) {
                for (int i = 0; i < a; i++) {
                    for (int j = 0; j < a; j++) {
                        double acc = 0;
                        for (int r = 0; r < 3; r++) {
                            for (int t = 0; t < 3; t++) acc += g[i][r] * w[((k * cg + c) * 3 + r) * 3 + t] * g[j][t];
                        }
                        u[((k * cg + c) * a + i) * a + j] = (float) acc;
                    }
                }
            }
        }
        float[] y = new float[(int) s.outputSize()];
        float[] v = new float[C * th * tw * a * a], d = new float[a * a], t = new float[a * a], mm = new float[a * a];
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < C; c++) {
                for (int ty = 0; ty < th; ty++) {
                    for (int tx = 0; tx < tw; tx++) {
                        for (int i = 0; i < a; i++) {
                            for (int j = 0; j < a; j++) {
                                int yy = ty * m + i - 1, xx = tx * m + j - 1;
                                d[i * a + j] = yy < 0 || yy >= H || xx < 0 || xx >= W ? 0f : x[((n * C + c) * H + yy) * W + xx];
                            }
                        }
                        transform(bt, d, t, a, a, a);
                        transformCols(bt, t, v, ((c * th + ty) * tw + tx) * a * a, a, a);
                    }
                }
            }
            for (int k = 0; k < K; k++) {
                int c0 = k / kg * cg;
                for (int ty = 0; ty < th; ty++) {
                    for (int tx = 0; tx < tw; tx++) {
                        java.util.Arrays.fill(mm, 0f);
                        for (int c = 0; c < cg; c++) {
                            int uo = (k * cg + c) * a * a, vo = (((c0 + c) * th + ty) * tw + tx) * a * a;
                            for (int e = 0; e < a * a; e++) mm[e] = Math.fma(u[uo + e], v[vo + e], mm[e]);
                        }
                        float[] t2 = new float[m * a], yt = new float[m * m];
                        transform(at, mm, t2, m, a, a);
                        transformCols(at, t2, yt, 0, m, m);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < m; j++) {
                                int p = ty * m + i, q = tx * m + j;
                                if (p >= P || q >= Q) continue;
                                float val = yt[i * m + j] + b[k];
                                y[((n * K + k) * P + p) * Q + q] = Math.max(val, 0f);
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    /** out[i][j] = sum_e mat[i][e] in[e][j] in float, terms in order (rows x cols of out: rows x cols). */
    private static void transform(double[][] mat, float[] in, float[] out, int rows, int inner, int cols) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float acc = 0f;
                for (int e = 0; e < inner; e++) if (mat[i][e] != 0) acc += (float) mat[i][e] * in[e * cols + j];
                out[i * cols + j] = acc;
            }
        }
    }

    /** out[i][j] = sum_e in[i][e] mat[j][e] in float ({@code in} has mat's column count per row). */
    private static void transformCols(double[][] mat, float[] in, float[] out, int off, int rows, int cols) {
        int inner = mat[0].length;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float acc = 0f;
                for (int e = 0; e < inner; e++) if (mat[j][e] != 0) acc += (float) mat[j][e] * in[i * inner + e];
                out[off + i * cols + j] = acc;
            }
        }
    }

    @Test
    void f4x4CostsMoreAccuracyThanF2x2OnAlexNetLayers() {
        Random rnd = new Random(22);
        int[][] layers = {{256, 384, 1}, {384, 384, 2}, {384, 256, 2}};
        String[] names = {"conv3", "conv4", "conv5"};
        for (int l = 0; l < layers.length; l++) {
            int c = layers[l][0], k = layers[l][1], g = layers[l][2];
            ConvShape s = ConvShape.of(1, c, 13, 13, k, 3, 1, 1, g);
            try (Arena arena = Arena.ofShared()) {
                Tensor x = random(arena, rnd, 1f, 1, c, 13, 13);
                for (long i = 0; i < x.size(); i++) x.set(i, Math.abs(x.get(i)));
                Tensor wt = random(arena, rnd, (float) Math.sqrt(2.0 / (c / g * 9)), k, c / g, 3, 3);
                Tensor b = Tensor.allocate(arena, k);
                MemorySegment want = arena.allocate(s.outputSize() * 4);
                ConvRef.forward(want, x.data(), wt.data(), b.data(), s, true);
                float[] r = want.toArray(JAVA_FLOAT), xs = x.data().toArray(JAVA_FLOAT), ws = wt.data().toArray(JAVA_FLOAT), bs = new float[k];
                Agreement f2 = Agreement.of(model(s, xs, ws, bs, BT2, G2, AT2), r, Agreement.FP32_BOUND);
                Agreement f4 = Agreement.of(model(s, xs, ws, bs, BT4, G4, AT4), r, Agreement.FP32_BOUND);
                Agreement lavin = Agreement.of(model(s, xs, ws, bs, BT4L, G4L, AT4L), r, Agreement.FP32_BOUND);
                System.out.printf("[winograd model] %s He init: F(2x2,3x3) max rel %.3g, F(4x4,3x3) max rel %.3g (%.1fx), "
                                + "on Lavin and Gray's points %.3g (bound %.0e)%n",
                        names[l], f2.maxRel(), f4.maxRel(), f4.maxRel() / f2.maxRel(), lavin.maxRel(), Agreement.FP32_BOUND);
                assertTrue(f2.pass(), names[l] + " F(2x2,3x3) model: " + f2);
                assertTrue(f4.pass(), names[l] + " F(4x4,3x3) model: " + f4);
                // A wrong transform matrix gives errors of order one; a right one stays within fp32's reach.
                assertTrue(lavin.maxRel() < 1e-3, names[l] + " F(4x4,3x3) model on Lavin and Gray's points: " + lavin);
                assertTrue(f4.maxRel() > f2.maxRel(), names[l] + ": F(4x4,3x3) " + f4 + " vs F(2x2,3x3) " + f2);
                assertTrue(f4.maxRel() < lavin.maxRel(), names[l] + ": F(4x4,3x3) " + f4 + " vs Lavin and Gray's points " + lavin);
            }
        }
    }
}
