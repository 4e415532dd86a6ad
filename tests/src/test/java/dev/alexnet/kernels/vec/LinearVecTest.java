package dev.alexnet.kernels.vec;

import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.ref.LinearRef;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.alexnet.kernels.vec.VecTestSupport.U;
import static dev.alexnet.kernels.vec.VecTestSupport.abs;
import static dev.alexnet.kernels.vec.VecTestSupport.assertClose;
import static dev.alexnet.kernels.vec.VecTestSupport.random;
import static dev.alexnet.kernels.vec.VecTestSupport.scaled;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * {@link LinearVec} straight on a {@link ThreadTeam} against {@link LinearRef}: the small-batch kernels
 * (batch 1-8, one pass over the weights) and the chunked GEMM above them (6-row tiles and a tile of the
 * leftover rows), on odd sizes (panel tails in
 * the outputs, unroll tails in the inputs), with and without bias, ReLU and an input permutation, on one
 * and two threads. Outputs live in a shared arena (so both members write) and are NaN before every run.
 *
 * <p>Tolerance: each output is the float sum of the bias and I products, FMA-accumulated over at most 4
 * interleaved chains that are added at the end, so each term passes through at most I + 4 roundings:
 * |y - r| <= (I + 4) u sum|x*w| + |b| terms, plus u for rounding the double reference to float; so
 * (I + 5) u times the reference run on |x|, |w|, |b|. ReLU does not round.
 */
class LinearVecTest {
    @Test
    void smallBatchesEverySize() {
        Random rnd = new Random(16);
        int[] ins = {1, 2, 3, 5, 7, 17, 100, 513, 1031};
        int[] outs = {1, 5, 31, 32, 33, 64, 65, 97};
        for (int n = 1; n <= 8; n++) {
            for (int t = 1; t <= 2; t++) {
                for (int r = 0; r < 4; r++) {
                    check(rnd, n, ins[rnd.nextInt(ins.length)], outs[rnd.nextInt(outs.length)], rnd.nextBoolean(), rnd.nextBoolean(),
                            rnd.nextInt(3) == 0, t);
                }
            }
        }
    }

    @Test
    void aroundTheSmallBatchLimit() {
        Random rnd = new Random(17);
        for (int n : new int[] {7, 8, 9, 13}) {
            for (int t = 1; t <= 2; t++) check(rnd, n, 1100, 70, true, true, false, t); // 1100: K chunks with a tail above 8
        }
    }

    /**
     * The chunked GEMM at every batch from 9 to 40: every count of rows left over from the 6-row tiles
     * (0-5, each its own tile kernel) with K in one chunk and in several (513 and 1031 across the 512-step
     * chunks, with a tail chunk), and outputs with a panel tail.
     */
    @Test
    void chunkedBatchesWithEveryRowTail() {
        Random rnd = new Random(19);
        int[] ins = {1031, 7, 513, 100};
        int[] outs = {1, 33, 65, 97, 130};
        for (int n = 9; n <= 40; n++) {
            check(rnd, n, ins[n % ins.length], outs[n % outs.length], n % 2 == 0, n % 3 != 0, n % 5 == 0, 1 + n % 2);
        }
    }

    @Test
    void fullyConnectedLayerShapes() {
        Random rnd = new Random(18);
        check(rnd, 1, 9216, 200, true, true, true, 2);   // fc6 rows, permuted input as after pool5
        check(rnd, 3, 4096, 130, true, true, false, 1);  // fc7 rows
        check(rnd, 8, 4096, 1000, false, true, false, 2); // fc8 at batch 8
    }

    private static void check(Random rnd, int n, int in, int out, boolean relu, boolean withBias, boolean permute, int threads) {
        try (Arena arena = Arena.ofShared(); ThreadTeam team = new ThreadTeam(threads)) {
            LinearShape s = new LinearShape(n, in, out);
            Tensor x = random(arena, rnd, 1f, n, in);
            Tensor wt = random(arena, rnd, 0.1f, out, in);
            Tensor b = withBias ? random(arena, rnd, 1f, out) : null;
            int[] perm = permute ? permutation(rnd, in) : null;
            // The layer reads input index i as PyTorch feature perm[i]: the reference gets the features in PyTorch order.
            MemorySegment xt = x.data();
            if (perm != null) {
                xt = arena.allocate((long) n * in * 4, 64);
                for (int r = 0; r < n; r++) {
                    for (int i = 0; i < in; i++) xt.setAtIndex(JAVA_FLOAT, (long) r * in + perm[i], x.data().getAtIndex(JAVA_FLOAT, (long) r * in + i));
                }
            }
            Tensor xa = abs(arena, x);
            MemorySegment xat = perm == null ? xa.data() : arena.allocate((long) n * in * 4, 64);
            if (perm != null) {
                for (int r = 0; r < n; r++) {
                    for (int i = 0; i < in; i++) xat.setAtIndex(JAVA_FLOAT, (long) r * in + perm[i], xa.data().getAtIndex(JAVA_FLOAT, (long) r * in + i));
                }
            }
            MemorySegment want = arena.allocate((long) n * out * 4), mag = arena.allocate((long) n * out * 4);
            LinearRef.forward(want, xt, wt.data(), b == null ? null : b.data(), s, relu);
            LinearRef.forward(mag, xat, abs(arena, wt).data(), b == null ? null : abs(arena, b).data(), s, false);

            LinearVec k = new LinearVec(s, wt.data(), b == null ? null : b.data(), relu, perm, arena);
            MemorySegment got = arena.allocate((long) n * out * 4, 64);
            double[] tol = scaled(mag.toArray(JAVA_FLOAT), (in + 5) * U);
            String what = s + " relu=" + relu + " bias=" + withBias + " perm=" + permute + " threads=" + threads;
            for (int run = 0; run < 2; run++) { // twice: the kernel keeps no state between runs
                got.fill((byte) 0xFF); // NaN: an output the kernel does not write fails
                team.run((m, ms) -> k.forward(got, x.data(), m, ms));
                assertClose(what + " run " + run, want.toArray(JAVA_FLOAT), got.toArray(JAVA_FLOAT), tol);
            }
        }
    }

    private static int[] permutation(Random rnd, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
