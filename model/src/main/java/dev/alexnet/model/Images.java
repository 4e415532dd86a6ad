package dev.alexnet.model;

import dev.alexnet.model.io.IoErrors;
import dev.alexnet.model.io.WeightFileException;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

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

    /** Images with more pixels than this are refused before decoding (a few hundred bytes of PNG can claim gigapixels). */
    public static final long MAX_PIXELS = 100_000_000L;

    /**
     * Decodes a JPEG, PNG, GIF or BMP file; refuses, before decoding, an image of more than {@link #MAX_PIXELS}
     * pixels. A decoder warning (a truncated or scribbled JPEG is decoded in part, the rest left black) is
     * printed to standard error as one line; {@link #read(Path, Consumer)} hands it to the caller instead.
     */
    public static BufferedImage read(Path file) {
        return read(file, w -> System.err.println("warning: " + w));
    }

    /**
     * As {@link #read(Path)}, with each decoder warning passed to {@code warnings} as one line naming the
     * file, once per image (the decoder repeats some warnings for every damaged block).
     */
    public static BufferedImage read(Path file, Consumer<String> warnings) {
        if (Files.isDirectory(file)) throw new WeightFileException(file + ": is a directory, expected an image file");
        if (!Files.exists(file)) throw new WeightFileException(file + ": no such file");
        if (!Files.isReadable(file)) throw new WeightFileException(file + ": permission denied");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) throw new WeightFileException(file + ": not a readable image (JPEG, PNG, GIF or BMP expected)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                Set<String> seen = new LinkedHashSet<>();
                reader.addIIOReadWarningListener((source, message) -> seen.add(message));
                long w = reader.getWidth(0), h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > MAX_PIXELS) {
                    throw new WeightFileException(file + ": the image claims " + w + " x " + h + " pixels; at most " + MAX_PIXELS + " are decoded");
                }
                BufferedImage img = reader.read(0);
                if (img == null) throw new WeightFileException(file + ": not a readable image (JPEG, PNG, GIF or BMP expected)");
                if (!seen.isEmpty()) {
                    warnings.accept(file + ": damaged image, decoded only in part (" + String.join("; ", seen)
                            + "); the missing part is black, so its classification is unreliable");
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof WeightFileException w) throw w;
            // the JDK's decoders throw unchecked exceptions on some corrupt files (a damaged Huffman table, a bad palette)
            throw new WeightFileException(file + ": cannot decode image (" + oneLine(e) + ")", e);
        }
    }

    private static String oneLine(Exception e) {
        String m = e instanceof IOException io ? IoErrors.reason(io) : e.getMessage();
        return (m == null || m.isBlank() ? e.getClass().getSimpleName() : m).replaceAll("\\s+", " ").strip();
    }

    /** The demo image shipped with the project (a procedurally drawn sunset; see tools/make_demo_image.py). */
    public static BufferedImage demo() {
        try (InputStream in = Images.class.getResourceAsStream("demo.png")) {
            return ImageIO.read(in);
        } catch (IOException e) {
            throw new IllegalStateException("demo image missing from the jar", e);
        }
    }

    /**
     * Writes the preprocessed [3,size,size] planes of {@code img} at float offset {@code offset} of {@code dst}.
     * Only the central crop of the scaled image is drawn (the scaling is clipped to it), so memory stays at
     * {@code size x size} pixels whatever the aspect ratio: a 1 x 30000 image scales to 256 x 7,680,000.
     */
    public static void preprocess(BufferedImage img, int size, MemorySegment dst, long offset) {
        int w = img.getWidth(), h = img.getHeight();
        double scale = (double) SHORTER_SIDE / Math.min(w, h);
        long sw = Math.max(size, Math.round(w * scale)), sh = Math.max(size, Math.round(h * scale));
        if (sw > Integer.MAX_VALUE || sh > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("image of " + w + " x " + h + " pixels: too elongated to scale its shorter side to " + SHORTER_SIDE);
        }
        long x0 = (sw - size) / 2, y0 = (sh - size) / 2;
        BufferedImage crop = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = crop.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(img, (int) -x0, (int) -y0, (int) sw, (int) sh, null); // the crop is the destination: the rest is clipped
        g.dispose();
        long plane = (long) size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = crop.getRGB(x, y);
                long i = offset + (long) y * size + x;
                dst.setAtIndex(JAVA_FLOAT, i, ((rgb >> 16) & 0xff) - MEAN_RGB[0]);
                dst.setAtIndex(JAVA_FLOAT, i + plane, ((rgb >> 8) & 0xff) - MEAN_RGB[1]);
                dst.setAtIndex(JAVA_FLOAT, i + 2 * plane, (rgb & 0xff) - MEAN_RGB[2]);
            }
        }
    }

    /** torchvision's normalisation (ImageNet's per-channel mean and standard deviation of pixel values in [0,1]). */
    public static final float[] TORCHVISION_MEAN = {0.485f, 0.456f, 0.406f}, TORCHVISION_STD = {0.229f, 0.224f, 0.225f};

    /**
     * Turns {@code images} planes written by {@link #preprocess} (0-255 pixels minus {@link #MEAN_RGB}) into
     * torchvision's input, in place: {@code (pixel / 255 - mean) / std} per channel, as
     * {@code transforms.Normalize} after {@code ToTensor} (the resize and crop are the same: 256, then the centre).
     */
    public static void toTorchvision(MemorySegment dst, long offset, int size) {
        long plane = (long) size * size;
        for (int c = 0; c < 3; c++) {
            for (long i = 0; i < plane; i++) {
                long at = offset + c * plane + i;
                float pixel = dst.getAtIndex(JAVA_FLOAT, at) + MEAN_RGB[c];
                dst.setAtIndex(JAVA_FLOAT, at, (pixel / 255f - TORCHVISION_MEAN[c]) / TORCHVISION_STD[c]);
            }
        }
    }
}
