package dev.alexnet.model;

import dev.alexnet.model.io.WeightFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Images}: drawing only the central crop gives the pixels of scaling the whole image and cropping
 * afterwards (bitwise, on several sizes and aspect ratios), while an extremely elongated image no longer
 * makes a scaled copy of millions of pixels; files that are not images say why.
 */
class ImagesTest {
    @TempDir Path dir;

    /** The straightforward preprocessing: scale the whole image so the shorter side is 256, then crop. */
    private static float[] scaleThenCrop(BufferedImage img, int size) {
        int w = img.getWidth(), h = img.getHeight();
        double scale = (double) Images.SHORTER_SIDE / Math.min(w, h);
        int sw = Math.max(size, (int) Math.round(w * scale)), sh = Math.max(size, (int) Math.round(h * scale));
        BufferedImage scaled = new BufferedImage(sw, sh, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scaled.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(img, 0, 0, sw, sh, null);
        g.dispose();
        int x0 = (sw - size) / 2, y0 = (sh - size) / 2;
        float[] out = new float[3 * size * size];
        int plane = size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = scaled.getRGB(x0 + x, y0 + y);
                out[y * size + x] = ((rgb >> 16) & 0xff) - Images.MEAN_RGB[0];
                out[plane + y * size + x] = ((rgb >> 8) & 0xff) - Images.MEAN_RGB[1];
                out[2 * plane + y * size + x] = (rgb & 0xff) - Images.MEAN_RGB[2];
            }
        }
        return out;
    }

    private static BufferedImage noise(int w, int h, long seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        return img;
    }

    private static float[] preprocess(BufferedImage img, int size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(3L * size * size * Float.BYTES + 8, 64);
            Images.preprocess(img, size, dst, 2); // at an offset: the planes land where asked
            float[] out = new float[3 * size * size];
            MemorySegment.copy(dst, JAVA_FLOAT, 8, out, 0, out.length);
            return out;
        }
    }

    @Test
    void cropDrawnDirectlyEqualsScaleThenCrop() {
        int[][] sizes = {{500, 375}, {375, 500}, {256, 256}, {227, 227}, {100, 80}, {3, 300}, {1001, 257}, {40, 2000}};
        for (int size : new int[] {227, 224}) {
            for (int[] wh : sizes) {
                BufferedImage img = noise(wh[0], wh[1], wh[0] * 31L + wh[1]);
                float[] expected = scaleThenCrop(img, size), got = preprocess(img, size);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], got[i], wh[0] + "x" + wh[1] + " crop " + size + " at " + i);
                }
            }
            float[] demo = preprocess(Images.demo(), size);
            float[] demoExpected = scaleThenCrop(Images.demo(), size);
            for (int i = 0; i < demo.length; i++) assertEquals(demoExpected[i], demo[i], "demo at " + i);
        }
    }

    @Test
    void aOneByThirtyThousandPngIsPreprocessedInBoundedMemory() throws IOException {
        Path p = dir.resolve("thin.png");
        BufferedImage thin = noise(1, 30000, 4);
        ImageIO.write(thin, "png", p.toFile());
        float[] x = preprocess(Images.read(p), 227); // 256 x 7,680,000 scaled pixels: 7.9 GB if drawn whole
        // the one source column, stretched: every row of the crop is constant, and values are pixel values
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 227; y++) {
                float v = x[c * 227 * 227 + y * 227];
                assertTrue(v >= -Images.MEAN_RGB[c] && v <= 255 - Images.MEAN_RGB[c], "value " + v);
                for (int xx = 1; xx < 227; xx++) assertEquals(v, x[c * 227 * 227 + y * 227 + xx], "row " + y);
            }
        }
    }

    @Test
    void filesThatAreNotImagesSayWhy() throws IOException {
        Path d = Files.createDirectory(dir.resolve("pics.png"));
        assertTrue(assertThrows(WeightFileException.class, () -> Images.read(d)).getMessage().contains("is a directory"));
        assertTrue(assertThrows(WeightFileException.class, () -> Images.read(dir.resolve("none.png"))).getMessage().contains("no such file"));
        Path text = Files.writeString(dir.resolve("text.png"), "not a picture");
        assertTrue(assertThrows(WeightFileException.class, () -> Images.read(text)).getMessage().contains("not a readable image"));
    }

    @Test
    void imagesClaimingTooManyPixelsAreRefusedBeforeDecoding() throws IOException {
        // a PNG header (IHDR) claiming 100,000 x 100,000 pixels, then nothing: refused without decoding
        Path p = dir.resolve("bomb.png");
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17).put("IHDR".getBytes()).putInt(100_000).putInt(100_000)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        b.write(java.nio.ByteBuffer.allocate(4).putInt(13).array());
        b.write(ihdr.array());
        b.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        Files.write(p, b.toByteArray());
        String m = assertThrows(WeightFileException.class, () -> Images.read(p)).getMessage();
        assertTrue(m.contains("100000 x 100000") && m.contains("at most"), m);
    }
}
