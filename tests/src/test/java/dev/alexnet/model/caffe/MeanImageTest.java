package dev.alexnet.model.caffe;

import dev.alexnet.model.caffe.CaffeFiles.Enc;
import dev.alexnet.model.io.WeightFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Caffe's mean file (BGR BlobProto) and its preprocessing, against computations written out here. */
class MeanImageTest {
    @TempDir Path dir;

    static float bgr(int c, int i) { return (float) (100 + 20 * c + (i * 7919L % 101) / 4.0); }

    /** A 1 x 3 x H x W BGR mean file in the legacy dims (as imagenet_mean.binaryproto) or as a BlobShape. */
    Path meanFile(int h, int w, boolean legacy) {
        int plane = h * w;
        return CaffeFiles.write(dir.resolve("mean" + legacy + ".binaryproto"),
                CaffeFiles.blob(new long[] {1, 3, h, w}, i -> bgr((int) (i / plane), (int) (i % plane)), Enc.PACKED, legacy));
    }

    @Test
    void theMeanFileIsReadWithItsChannelsReversedToRgb() {
        for (boolean legacy : new boolean[] {true, false}) {
            MeanImage m = MeanImage.read(meanFile(256, 256, legacy));
            assertEquals(256, m.height());
            assertEquals(256, m.width());
            int plane = 256 * 256;
            for (int c = 0; c < 3; c++) for (int i = 0; i < plane; i++) assertEquals(bgr(2 - c, i), m.rgb()[c * plane + i], "channel " + c + " pixel " + i);
            MeanImage back = MeanImage.decode(m.preprocess(), m.encode(), "w");
            assertArrayEquals(m.rgb(), back.rgb());
        }
    }

    @Test
    void aMeanOfTheWrongShapeOrAMissingOneIsRefused() {
        Path one = CaffeFiles.write(dir.resolve("grey.binaryproto"), CaffeFiles.blob(new long[] {1, 1, 16, 16}, i -> 1f, Enc.PACKED, true));
        WeightFileException e = assertThrows(WeightFileException.class, () -> MeanImage.read(one));
        assertTrue(e.getMessage().contains("expected 1 x 3 x H x W"), e.getMessage());
        e = assertThrows(WeightFileException.class, () -> MeanImage.decode("caffe 256 256", null, "w.safetensors"));
        assertTrue(e.getMessage().contains("'mean_image', which is missing"), e.getMessage());
        e = assertThrows(WeightFileException.class, () -> MeanImage.decode("caffe 256 256", "AAAA", "w.safetensors"));
        assertTrue(e.getMessage().contains("holds 3 bytes, expected 786432"), e.getMessage());
    }

    static BufferedImage randomImage(int w, int h, long seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        return img;
    }

    static int channel(BufferedImage img, int x, int y, int c) { return img.getRGB(x, y) >> (16 - 8 * c) & 255; }

    /** The network input [3,227,227] that {@code m} makes of {@code img}. */
    static float[] input(MeanImage m, BufferedImage img) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(3L * 227 * 227 * Float.BYTES);
            m.preprocess(img, 227, s, 0);
            return s.toArray(JAVA_FLOAT);
        }
    }

    @Test
    void aTwoFiftySixImageIsCroppedAtFourteenAndTheMeanSubtractedPixelByPixel() {
        MeanImage m = MeanImage.read(meanFile(256, 256, true));
        BufferedImage img = randomImage(256, 256, 1);
        float[] got = input(m, img);
        int off = (256 - 227) / 2; // 14: Caffe's test-phase crop offset
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 227; y++) {
                for (int x = 0; x < 227; x++) {
                    // RGB plane c is the pixel's channel c minus Caffe's BGR mean channel 2 - c (conv1 was reversed to match)
                    float want = channel(img, x + off, y + off, c) - bgr(2 - c, (y + off) * 256 + x + off);
                    assertEquals(want, got[(c * 227 + y) * 227 + x], "c " + c + " y " + y + " x " + x);
                }
            }
        }
    }

    @Test
    void aFiveTwelveImageIsHalvedAsTwoByTwoAveragesRoundedToEightBits() {
        // OpenCV's INTER_LINEAR at exactly half size samples at 2x + 0.5: the mean of each 2x2 block, rounded half up
        MeanImage m = MeanImage.read(meanFile(256, 256, false));
        BufferedImage img = randomImage(512, 512, 2);
        float[] got = input(m, img);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 227; y++) {
                for (int x = 0; x < 227; x++) {
                    int sx = 2 * (x + 14), sy = 2 * (y + 14);
                    int sum = channel(img, sx, sy, c) + channel(img, sx + 1, sy, c) + channel(img, sx, sy + 1, c) + channel(img, sx + 1, sy + 1, c);
                    float want = (sum + 2) / 4 - bgr(2 - c, (y + 14) * 256 + x + 14);
                    assertEquals(want, got[(c * 227 + y) * 227 + x], "c " + c + " y " + y + " x " + x);
                }
            }
        }
    }

    @Test
    void anImageIsSquashedNotCroppedToTheMeansSize() {
        // a 512 x 256 image: x halves, y stays; Caffe's convert_imageset does not keep the aspect ratio
        MeanImage m = MeanImage.read(meanFile(256, 256, true));
        BufferedImage img = randomImage(512, 256, 3);
        float[] got = input(m, img);
        for (int y = 0; y < 227; y += 3) {
            for (int x = 0; x < 227; x += 5) {
                int sx = 2 * (x + 14), sy = y + 14;
                int want = (channel(img, sx, sy, 1) + channel(img, sx + 1, sy, 1) + 1) / 2;
                assertEquals(want - bgr(1, sy * 256 + x + 14), got[(227 + y) * 227 + x], "y " + y + " x " + x);
            }
        }
    }
}
