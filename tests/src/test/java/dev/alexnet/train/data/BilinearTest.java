package dev.alexnet.train.data;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bilinear scaling (align_corners=False) against hand-worked values and a direct double implementation. */
class BilinearTest {
    /** PyTorch's align_corners=False rule written out in double, with no tables. */
    static double reference(byte[] img, int base, int rows, int cols, int outRows, int outCols, int y, int x) {
        double sy = Math.max(0, (y + 0.5) * rows / outRows - 0.5), sx = Math.max(0, (x + 0.5) * cols / outCols - 0.5);
        int y0 = (int) Math.floor(sy), x0 = (int) Math.floor(sx);
        int y1 = Math.min(y0 + 1, rows - 1), x1 = Math.min(x0 + 1, cols - 1);
        double fy = sy - y0, fx = sx - x0;
        double a = img[base + y0 * cols + x0] & 0xff, b = img[base + y0 * cols + x1] & 0xff;
        double c = img[base + y1 * cols + x0] & 0xff, d = img[base + y1 * cols + x1] & 0xff;
        return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
    }

    @Test
    void handWorkedTwoByTwoToFourByFour() {
        // [[0, 10], [20, 30]] is linear (20 y + 10 x), so bilinear output is 20 c(y) + 10 c(x) with the clamped source
        // coordinates c = max(0, (d + 0.5) / 2 - 0.5) capped at 1: c = 0, 0.25, 0.75, 1.
        byte[] img = {0, 10, 20, 30};
        Bilinear.Axis a = Bilinear.Axis.of(2, 4);
        double[] c = {0, 0.25, 0.75, 1};
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(20 * c[y] + 10 * c[x], Bilinear.sample(img, 0, 2, a, a, y, x), 0, "(" + y + "," + x + ")");
            }
        }
        // Halving averages 2x2 blocks: source coordinate 2d + 0.5.
        byte[] four = new byte[16];
        for (int i = 0; i < 16; i++) four[i] = (byte) (i * 7);
        Bilinear.Axis h = Bilinear.Axis.of(4, 2);
        assertEquals((0 + 7 + 28 + 35) / 4.0, Bilinear.sample(four, 0, 4, h, h, 0, 0), 0);
        assertEquals((70 + 77 + 98 + 105) / 4.0, Bilinear.sample(four, 0, 4, h, h, 1, 1), 0);
        // Same size is the identity (source coordinate d exactly).
        Bilinear.Axis id = Bilinear.Axis.of(4, 4);
        for (int i = 0; i < 16; i++) assertEquals(four[i] & 0xff, Bilinear.sample(four, 0, 4, id, id, i / 4, i % 4), 0);
    }

    @Test
    void matchesDoubleReferenceOnManySizes() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] sizes = {{28, 28, 227, 227}, {28, 28, 256, 256}, {3, 5, 7, 2}, {9, 4, 4, 9}, {17, 13, 6, 5}, {1, 6, 3, 11}, {100, 37, 23, 256}};
        for (int[] s : sizes) {
            int rows = s[0], cols = s[1], outR = s[2], outC = s[3];
            byte[] img = new byte[3 + rows * cols];
            for (int i = 0; i < img.length; i++) img[i] = (byte) r.nextInt(256);
            Bilinear.Axis ay = Bilinear.Axis.of(rows, outR), ax = Bilinear.Axis.of(cols, outC);
            // Float arithmetic: the weights carry one rounding each (relative 2^-24), each of the two blends adds at
            // most a few roundings of values <= 255; 8 roundings of 255 bound the error: 8 * 255 * 2^-24.
            double tol = 8 * 255 * Math.ulp(1.0f) / 2;
            for (int y = 0; y < outR; y++) {
                for (int x = 0; x < outC; x++) {
                    assertEquals(reference(img, 3, rows, cols, outR, outC, y, x), Bilinear.sample(img, 3, cols, ay, ax, y, x), tol,
                            rows + "x" + cols + " -> " + outR + "x" + outC + " at (" + y + "," + x + ")");
                }
            }
        }
    }

    @Test
    void rgbChannelsSampleIndependently() {
        int[] rgb = {0x102030, 0x405060, 0x708090, 0xA0B0C0};
        Bilinear.Axis a = Bilinear.Axis.of(2, 4);
        byte[][] planes = new byte[3][4];
        for (int i = 0; i < 4; i++) for (int c = 0; c < 3; c++) planes[c][i] = (byte) (rgb[i] >> (16 - 8 * c));
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(Bilinear.sample(planes[c], 0, 2, a, a, y, x), Bilinear.sample(rgb, 2, 16 - 8 * c, a, a, y, x), 0);
                }
            }
        }
    }
}
