package dev.alexnet.kernels.vec;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The tiled reorders against direct index arithmetic: every interior value lands where {@link Nhwc}
 * says, the border is never written (a sentinel survives), both directions, C and W with and without
 * whole tiles (C = 1, 3, 17, 96; W = 1, 13, 16, 17, 227), batch 1 and 3, and the rows split in two
 * ranges as two team members would.
 */
class ReorderVecTest {
    private static final float SENTINEL = -7.25f;

    private static void check(Random rnd, int n, int c, int h, int w, int pad, boolean split) {
        Nhwc l = new Nhwc(c, h, w, pad, pad);
        try (Arena arena = Arena.ofConfined()) {
            long inter = n * l.interior();
            MemorySegment nchw = arena.allocate(inter * 4, 64), nhwc = arena.allocate(n * l.imageFloats() * 4, 64);
            MemorySegment back = arena.allocate(inter * 4, 64);
            for (long i = 0; i < inter; i++) nchw.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
            for (long i = 0; i < n * l.imageFloats(); i++) nhwc.setAtIndex(JAVA_FLOAT, i, SENTINEL);
            back.fill((byte) 0x7f);
            int u = Reorders.units(n, l), mid = split ? u / 3 : u;
            Reorders.nchwToNhwc(nhwc, l, nchw, n, 0, mid);
            Reorders.nchwToNhwc(nhwc, l, nchw, n, mid, u);
            String what = "n=" + n + " c=" + c + " h=" + h + " w=" + w + " pad=" + pad;
            for (int img = 0; img < n; img++) {
                for (int y = 0; y < l.hp(); y++) for (int x = 0; x < l.wp(); x++) for (int ch = 0; ch < c; ch++) {
                    int iy = y - pad, ix = x - pad;
                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                    float want = inside ? nchw.getAtIndex(JAVA_FLOAT, (((long) img * c + ch) * h + iy) * w + ix) : SENTINEL;
                    float got = nhwc.getAtIndex(JAVA_FLOAT, img * l.imageFloats() + ((long) y * l.wp() + x) * c + ch);
                    if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
                        assertEquals(want, got, what + " to NHWC at img " + img + " y " + y + " x " + x + " c " + ch);
                    }
                }
            }
            Reorders.nhwcToNchw(back, nhwc, l, n, mid, u);
            Reorders.nhwcToNchw(back, nhwc, l, n, 0, mid);
            for (long i = 0; i < inter; i++) {
                if (nchw.getAtIndex(JAVA_FLOAT, i) != back.getAtIndex(JAVA_FLOAT, i)) {
                    assertEquals(nchw.getAtIndex(JAVA_FLOAT, i), back.getAtIndex(JAVA_FLOAT, i), what + " back to NCHW at " + i);
                }
            }
        }
    }

    @Test
    void tilesTailsAndBorders() {
        Random rnd = new Random(21);
        int[] cs = {1, 3, 5, 16, 17, 33, 96};
        int[] ws = {1, 13, 16, 17, 31};
        for (int c : cs) for (int w : ws) check(rnd, 1 + rnd.nextInt(3), c, 1 + rnd.nextInt(5), w, rnd.nextInt(3), rnd.nextBoolean());
        check(rnd, 2, 3, 227, 227, 0, true);  // conv1 input
        check(rnd, 1, 96, 27, 27, 2, false);  // lrn1 -> conv2 edge
        check(rnd, 3, 256, 6, 6, 0, true);    // pool5
    }

    /** One image at a time between an NCHW batch and a channels-last buffer of one image, both ways: the same bits as the batch reorders. */
    @Test
    void imageByImageMatchesTheBatch() {
        Random rnd = new Random(8);
        for (int[] d : new int[][] {{3, 96, 7, 9, 0}, {2, 17, 5, 16, 1}, {4, 3, 3, 33, 2}}) {
            int n = d[0];
            Nhwc l = new Nhwc(d[1], d[2], d[3], d[4], d[4]);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment nhwc = arena.allocate(n * l.imageFloats() * 4, 64), one = arena.allocate(l.imageFloats() * 4, 64);
                for (long i = 0; i < n * l.imageFloats(); i++) nhwc.setAtIndex(JAVA_FLOAT, i, (float) rnd.nextGaussian());
                MemorySegment want = arena.allocate(n * l.interior() * 4, 64), got = arena.allocate(n * l.interior() * 4, 64);
                Reorders.nhwcToNchw(want, nhwc, l, n, 0, Reorders.units(n, l));
                got.fill((byte) 0x7f);
                for (int img = n - 1; img >= 0; img--) {
                    MemorySegment.copy(nhwc, img * l.imageFloats() * 4, one, 0, l.imageFloats() * 4);
                    Reorders.nhwcImageToNchw(got, img, one, l);
                }
                assertEquals(-1L, want.mismatch(got), "image by image, " + l + " x " + n);

                // and back: each NCHW image into one channels-last image (border left alone), against the batch reorder
                MemorySegment batchNhwc = arena.allocate(n * l.imageFloats() * 4, 64);
                Reorders.nchwToNhwc(batchNhwc, l, want, n, 0, Reorders.units(n, l));
                for (int img = n - 1; img >= 0; img--) {
                    one.fill((byte) 0);
                    Reorders.nchwImageToNhwc(one, l, want, img);
                    assertEquals(-1L, batchNhwc.asSlice(img * l.imageFloats() * 4, l.imageFloats() * 4).mismatch(one),
                            "NCHW image " + img + " to one channels-last image, " + l);
                }
            }
        }
    }

    @Test
    void fillBorderLeavesTheInterior() {
        Nhwc l = new Nhwc(5, 4, 3, 2, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2 * l.imageFloats() * 4, 64);
            for (long i = 0; i < 2 * l.imageFloats(); i++) s.setAtIndex(JAVA_FLOAT, i, 1f);
            Reorders.fillBorder(s, l, 2, -3f);
            for (int img = 0; img < 2; img++) for (int y = 0; y < l.hp(); y++) for (int x = 0; x < l.wp(); x++) for (int c = 0; c < 5; c++) {
                boolean inside = y >= 2 && y < 6 && x >= 1 && x < 4;
                assertEquals(inside ? 1f : -3f, s.getAtIndex(JAVA_FLOAT, img * l.imageFloats() + ((long) y * l.wp() + x) * 5 + c));
            }
        }
    }
}
