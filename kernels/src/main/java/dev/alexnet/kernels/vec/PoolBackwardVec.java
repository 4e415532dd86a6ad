package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.PoolShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Max pooling backward on NCHW, {@link dev.alexnet.kernels.ref.MaxPoolRef#backward} bit for bit: the same
 * winners (first maximum in row-major window order, NaN wins) and the same float adds in the same order.
 *
 * <p>Per (image, channel) plane: zero the plane's gradient, then per output row and chunk of L output
 * columns recompute the windows' winners from the input in vectors (the window position k*r + t of each
 * lane's winner, as an exact float), and add each lane's gradient at its winner, one window position at a
 * time: stride 1 as one vector read-modify-write per position, stride 2 with positions t and t + 1
 * interleaved into two vectors. An input element gets gradients from several outputs of one row only
 * through different t (larger t = smaller q), so positions go from the last t down, chunks and rows
 * upwards: every element receives its gradients in the reference's (p, q) order. Lanes that did not win
 * add +0, which leaves any sum started from +0 unchanged (bitwise).
 *
 * <p>All loads are whole vectors: masked loads feeding the two-vector permutes allocated and ran about 30
 * times slower here. Lanes past the row read the next row or plane and belong to no output: the gradient's
 * are zeroed by a blend, and the read-modify-writes store under a mask to the row (the next plane may be
 * another member's; its values read here are never stored). Chunks whose windows leave the
 * row (padding), whose reads would pass the end of a segment, and strides above 2 take the scalar path.
 * Work units: (image, channel) planes.
 */
public final class PoolBackwardVec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Even lanes of two vectors; lanes (2i, 2i + 1) <- (a[i], b[i]) for the first L/2 and the last L/2 of i. */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i),
            ZIP_LO = VectorShuffle.fromOp(S, i -> (i & 1) == 0 ? i / 2 : L + i / 2),
            ZIP_HI = VectorShuffle.fromOp(S, i -> (i & 1) == 0 ? L / 2 + i / 2 : L + L / 2 + i / 2);

    private PoolBackwardVec() {}

    public static void backward(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, PoolShape s, int member, int members) {
        Checks.floats(in, s.inputSize(), "pool input");
        Checks.floats(gradOut, s.outputSize(), "pool output gradient");
        Checks.floats(gradIn, s.inputSize(), "pool input gradient");
        int units = s.n() * s.c();
        int u1 = ThreadTeam.from(units, member + 1, members);
        for (int u = ThreadTeam.from(units, member, members); u < u1; u++) plane(gradIn, gradOut, in, s, u);
    }

    private static void plane(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, PoolShape s, int u) {
        int H = s.h(), W = s.w(), P = s.p(), Q = s.q(), k = s.kernel(), st = s.stride(), pad = s.pad();
        long ib = (long) u * H * W * Float.BYTES, ob = (long) u * P * Q * Float.BYTES;
        zero(gradIn, ib, H * W);
        for (int p = 0; p < P; p++) {
            int y0 = p * st - pad, r0 = Math.max(0, -y0), r1 = Math.min(k, H - y0);
            long rowB = ib + (long) y0 * W * Float.BYTES, go = ob + (long) p * Q * Float.BYTES;
            for (int q0 = 0; q0 < Q; q0 += L) {
                int qa = Math.min(Q, q0 + L);
                // whole-vector reads of the window rows (input and gradient) end st*L + k - 1 floats past lane 0's first column
                long readEnd = rowB + (r1 - 1) * (long) W * Float.BYTES + 4L * (q0 * st - pad + st * L + k - 1);
                if (st <= 2 && q0 * st - pad >= 0 && (qa - 1) * st - pad + k <= W && readEnd <= Math.min(in.byteSize(), gradIn.byteSize())
                        && go + 4L * (q0 + L) <= gradOut.byteSize()) {
                    if (st == 1) chunk1(gradIn, gradOut, in, rowB, go, q0, Q, q0 - pad, r0, r1, k, W);
                    else chunk2(gradIn, gradOut, in, rowB, go, q0, Q, 2 * q0 - pad, r0, r1, k, W);
                } else {
                    for (int q = q0; q < qa; q++) {
                        long win = argmax(in, ib, s, p, q);
                        gradIn.set(LinearTiles.F, win, gradIn.get(LinearTiles.F, win) + gradOut.get(LinearTiles.F, go + 4L * q));
                    }
                }
            }
        }
    }

    private static void zero(MemorySegment seg, long b, int floats) {
        FloatVector z = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= floats; i += L) z.intoMemorySegment(seg, b + 4L * i, NO);
        if (i < floats) z.intoMemorySegment(seg, b + 4L * i, NO, S.indexInRange(i, floats));
    }

    /**
     * Stride 1, outputs [q0, min(q0 + L, Q)) of one row, every window inside the row: x0 is lane 0's first
     * column, rowB the byte offset of the window's row 0 (rows r0..r1-1 exist), go that of the output row's
     * gradient. The stores are masked to the row. Written out without helpers that take or return
     * vectors: one that C2 does not inline boxes them.
     */
    private static void chunk1(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, long rowB, long go, int q0, int Q,
                               int x0, int r0, int r1, int k, int W) {
        long rowStep = (long) W * Float.BYTES;
        FloatVector m = FloatVector.fromMemorySegment(S, in, rowB + r0 * rowStep + 4L * x0, NO);
        FloatVector win = FloatVector.broadcast(S, (float) (r0 * k));
        for (int w = r0 * k + 1; w < r1 * k; w++) { // one loop: vectors carried through nested loops get boxed
            int r = w / k, t = w - r * k;
            FloatVector v = FloatVector.fromMemorySegment(S, in, rowB + r * rowStep + 4L * (x0 + t), NO);
            VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, take);
            win = win.blend((float) w, take);
        }
        FloatVector zero = FloatVector.zero(S), g = zero.blend(FloatVector.fromMemorySegment(S, gradOut, go + 4L * q0, NO), S.indexInRange(q0, Q));
        for (int r = r0; r < r1; r++) {
            long row = rowB + r * rowStep;
            for (int t = k - 1; t >= 0; t--) {
                VectorMask<Float> mk = S.indexInRange(x0 + t, W);
                long b = row + 4L * (x0 + t);
                FloatVector c = zero.blend(g, win.compare(VectorOperators.EQ, (float) (r * k + t)));
                FloatVector.fromMemorySegment(S, gradIn, b, NO).add(c).intoMemorySegment(gradIn, b, NO, mk);
            }
        }
    }

    /**
     * Stride 2, as {@link #chunk1}: lane i's column x0 + t + 2i is the even lane of two loads; positions t
     * and t + 1 (-1: none) are interleaved into the two vectors that cover columns x0 + t .. x0 + t + 2L - 1
     * (the second skipped when it starts past the row: narrow rows such as pool5's 13 columns).
     */
    private static void chunk2(MemorySegment gradIn, MemorySegment gradOut, MemorySegment in, long rowB, long go, int q0, int Q,
                               int x0, int r0, int r1, int k, int W) {
        long rowStep = (long) W * Float.BYTES, first = rowB + r0 * rowStep + 4L * x0;
        FloatVector m = FloatVector.fromMemorySegment(S, in, first, NO).rearrange(EVEN, FloatVector.fromMemorySegment(S, in, first + 4L * L, NO));
        FloatVector win = FloatVector.broadcast(S, (float) (r0 * k));
        for (int w = r0 * k + 1; w < r1 * k; w++) { // one loop: vectors carried through nested loops get boxed
            int r = w / k, x = x0 + w - r * k;
            long row = rowB + r * rowStep;
            FloatVector v = FloatVector.fromMemorySegment(S, in, row + 4L * x, NO).rearrange(EVEN, FloatVector.fromMemorySegment(S, in, row + 4L * (x + L), NO));
            VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, take);
            win = win.blend((float) w, take);
        }
        FloatVector zero = FloatVector.zero(S), g = zero.blend(FloatVector.fromMemorySegment(S, gradOut, go + 4L * q0, NO), S.indexInRange(q0, Q));
        for (int r = r0; r < r1; r++) {
            long row = rowB + r * rowStep;
            for (int t = (k - 1) & ~1; t >= 0; t -= 2) {
                int x = x0 + t;
                FloatVector a = zero.blend(g, win.compare(VectorOperators.EQ, (float) (r * k + t)));
                FloatVector b = zero.blend(g, win.compare(VectorOperators.EQ, t + 1 < k ? (float) (r * k + t + 1) : -1f));
                VectorMask<Float> lo = S.indexInRange(x, W), hi = S.indexInRange(x + L, W);
                long bl = row + 4L * x, bh = bl + 4L * L;
                FloatVector.fromMemorySegment(S, gradIn, bl, NO).add(a.rearrange(ZIP_LO, b)).intoMemorySegment(gradIn, bl, NO, lo);
                if (x + L < W) FloatVector.fromMemorySegment(S, gradIn, bh, NO).add(a.rearrange(ZIP_HI, b)).intoMemorySegment(gradIn, bh, NO, hi);
            }
        }
    }

    /** Byte offset of window (p, q)'s winner, the rule of MaxPoolRef.argmax. */
    private static long argmax(MemorySegment in, long ib, PoolShape s, int p, int q) {
        long win = -1;
        float m = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < s.kernel(); r++) {
            int y = p * s.stride() - s.pad() + r;
            if (y < 0 || y >= s.h()) continue;
            for (int t = 0; t < s.kernel(); t++) {
                int x = q * s.stride() - s.pad() + t;
                if (x < 0 || x >= s.w()) continue;
                long b = ib + ((long) y * s.w() + x) * Float.BYTES;
                float v = in.get(LinearTiles.F, b);
                if (win < 0 || v > m || Float.isNaN(v)) {
                    win = b;
                    m = v;
                }
            }
        }
        return win;
    }
}
