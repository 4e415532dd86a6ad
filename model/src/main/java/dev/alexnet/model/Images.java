package dev.alexnet.model;

import dev.alexnet.model.io.WeightFileException;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Image preprocessing for classification, as for the paper's test images: scale the shorter side to
 * 256, take the central crop (227 or 224), RGB channel planes in 0..255 minus the per-channel ImageNet
 * mean (R 123.68, G 116.78, B 103.94).
 */
public final class Images {
    public static final float[] MEAN_RGB = {123.68f, 116.78f, 103.94f};
    public static final int SHORTER_SIDE = 256;

    private Images() {}

    public static BufferedImage read(Path file) {
        if (!Files.isReadable(file)) throw new WeightFileException(file + ": no such file or not readable");
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) throw new WeightFileException(file + ": not a readable image (JPEG, PNG, GIF or BMP expected)");
            return img;
        } catch (IOException e) {
            throw new WeightFileException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
    }

    /** The demo image shipped with the project (a procedurally drawn sunset; see tools/make_demo_image.py). */
    public static BufferedImage demo() {
        try (InputStream in = Images.class.getResourceAsStream("demo.png")) {
            return ImageIO.read(in);
        } catch (IOException e) {
            throw new IllegalStateException("demo image missing from the jar", e);
        }
    }

    /** Writes the preprocessed [3,size,size] planes of {@code img} at float offset {@code offset} of {@code dst}. */
    public static void preprocess(BufferedImage img, int size, MemorySegment dst, long offset) {
        int w = img.getWidth(), h = img.getHeight();
        double scale = (double) SHORTER_SIDE / Math.min(w, h);
        int sw = Math.max(size, (int) Math.round(w * scale)), sh = Math.max(size, (int) Math.round(h * scale));
        BufferedImage scaled = new BufferedImage(sw, sh, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scaled.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(img, 0, 0, sw, sh, null);
        g.dispose();
        int x0 = (sw - size) / 2, y0 = (sh - size) / 2;
        long plane = (long) size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = scaled.getRGB(x0 + x, y0 + y);
                long i = offset + (long) y * size + x;
                dst.setAtIndex(JAVA_FLOAT, i, ((rgb >> 16) & 0xff) - MEAN_RGB[0]);
                dst.setAtIndex(JAVA_FLOAT, i + plane, ((rgb >> 8) & 0xff) - MEAN_RGB[1]);
                dst.setAtIndex(JAVA_FLOAT, i + 2 * plane, (rgb & 0xff) - MEAN_RGB[2]);
            }
        }
    }
}
