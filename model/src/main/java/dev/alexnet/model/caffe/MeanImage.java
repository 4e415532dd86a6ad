package dev.alexnet.model.caffe;

import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Caffe's mean image and the preprocessing its ImageNet models were trained and tested with: the image
 * resized to {@code width x height} (256 x 256, aspect ratio not kept, as Caffe's {@code convert_imageset}
 * stored it), the mean image subtracted pixel by pixel, the central {@code crop x crop} taken (offsets
 * {@code (height - crop) / 2}, {@code (width - crop) / 2}, as Caffe's test-phase {@code DataTransformer}),
 * values on the 0..255 scale (no division). Planes are RGB: the BGR mean file is reversed on reading,
 * as conv1's input channels are, so the network is fed RGB like every other weights file here.
 *
 * @param rgb {@code [3, height, width]} planes, R first
 */
public record MeanImage(int height, int width, float[] rgb) {
    /** The metadata key that holds the mean image (base64 of little-endian float32, RGB planes). */
    public static final String KEY = "mean_image";
    /** The {@code preprocess} value's first word for this preprocessing: {@code caffe <height> <width>}. */
    public static final String PREPROCESS = "caffe";
    /** Mean images larger than this are not ImageNet means. */
    static final int MAX_SIDE = 4096;

    public MeanImage {
        if (height < 1 || width < 1 || height > MAX_SIDE || width > MAX_SIDE || rgb.length != 3L * height * width) {
            throw new IllegalArgumentException("mean image " + height + " x " + width + " with " + rgb.length + " values");
        }
    }

    /** Reads a {@code .binaryproto} (one BlobProto, 1 x 3 x H x W, BGR, 0..255) and reverses its channels to RGB. */
    public static MeanImage read(Path file) {
        try (ProtoReader in = new ProtoReader(file); Arena arena = Arena.ofConfined()) {
            CaffeModel.Blob b = CaffeModel.parseBlobFile(in);
            long[] d = b.squeezed();
            if (d.length != 3 || d[0] != 3 || d[1] < 1 || d[2] < 1 || d[1] > MAX_SIDE || d[2] > MAX_SIDE) {
                throw new WeightFileException(file + ": the mean image has shape " + b.shape() + ", expected 1 x 3 x H x W (BGR) with H, W at most " + MAX_SIDE);
            }
            int h = (int) d[1], w = (int) d[2];
            Tensor t = CaffeModel.read(in, b, new int[] {3, h, w}, arena, "the mean image");
            float[] rgb = new float[3 * h * w];
            int plane = h * w;
            for (int c = 0; c < 3; c++) {
                MemorySegment.copy(t.data(), JAVA_FLOAT, (long) (2 - c) * plane * Float.BYTES, rgb, c * plane, plane);
            }
            for (int i = 0; i < rgb.length; i++) {
                if (!Float.isFinite(rgb[i])) throw new WeightFileException(file + ": the mean image holds " + rgb[i] + " at flat index " + i);
            }
            return new MeanImage(h, w, rgb);
        }
    }

    /** The {@code preprocess} metadata value: {@code caffe <height> <width>}. */
    public String preprocess() { return PREPROCESS + " " + height + " " + width; }

    /** The mean as a metadata string: base64 of the RGB planes, float32 little-endian. */
    public String encode() {
        ByteBuffer b = ByteBuffer.allocate(rgb.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(rgb);
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** Reads back {@link #preprocess()} and {@link #encode()}; {@code where} names the file in messages. */
    public static MeanImage decode(String preprocess, String encoded, String where) {
        String[] v = preprocess.strip().split("\\s+");
        int h, w;
        try {
            if (v.length != 3 || !v[0].equals(PREPROCESS)) throw new NumberFormatException();
            h = Integer.parseInt(v[1]);
            w = Integer.parseInt(v[2]);
        } catch (NumberFormatException e) {
            throw new WeightFileException(where + ": preprocess '" + preprocess + "' should read 'caffe <height> <width>'");
        }
        if (h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE) throw new WeightFileException(where + ": preprocess '" + preprocess + "' names an impossible mean image size");
        if (encoded == null) throw new WeightFileException(where + ": preprocess '" + preprocess + "' needs the mean image in metadata '" + KEY + "', which is missing");
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(encoded.strip());
        } catch (IllegalArgumentException e) {
            throw new WeightFileException(where + ": metadata '" + KEY + "' is not base64");
        }
        if (bytes.length != 3L * h * w * Float.BYTES) {
            throw new WeightFileException(where + ": metadata '" + KEY + "' holds " + bytes.length + " bytes, expected " + 3L * h * w * Float.BYTES + " (3 x " + h + " x " + w + " floats)");
        }
        float[] rgb = new float[3 * h * w];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(rgb);
        return new MeanImage(h, w, rgb);
    }

    /**
     * Writes the network input {@code [3, crop, crop]} for {@code img} at float offset {@code offset} of {@code dst}:
     * resize to {@code width x height}, subtract the mean, central crop. Only the crop's pixels are computed.
     */
    public void preprocess(BufferedImage img, int crop, MemorySegment dst, long offset) {
        if (crop > height || crop > width) throw new IllegalArgumentException("the network's " + crop + " x " + crop + " input is larger than the "
                + height + " x " + width + " mean image");
        int hOff = (height - crop) / 2, wOff = (width - crop) / 2, plane = height * width;
        long out = (long) crop * crop;
        int[] px = new int[3];
        for (int y = 0; y < crop; y++) {
            for (int x = 0; x < crop; x++) {
                resizedPixel(img, width, height, x + wOff, y + hOff, px);
                int m = (y + hOff) * width + x + wOff;
                long i = offset + (long) y * crop + x;
                for (int c = 0; c < 3; c++) dst.setAtIndex(JAVA_FLOAT, i + c * out, px[c] - rgb[c * plane + m]);
            }
        }
    }

    /**
     * Pixel (x, y) of {@code img} resized to {@code dw x dh}, as OpenCV's {@code INTER_LINEAR} (half-pixel
     * centres, edges clamped) rounded to 8 bits, as the resized images were stored for training. OpenCV
     * rounds its weights to 11 bits; a value exactly between two integers may round the other way there.
     */
    static void resizedPixel(BufferedImage img, int dw, int dh, int x, int y, int[] rgbOut) {
        int w = img.getWidth(), h = img.getHeight();
        double fx = (x + 0.5) * w / dw - 0.5, fy = (y + 0.5) * h / dh - 0.5;
        int x0 = (int) Math.floor(fx), y0 = (int) Math.floor(fy);
        double ax = fx - x0, ay = fy - y0;
        if (x0 < 0) { x0 = 0; ax = 0; }
        if (y0 < 0) { y0 = 0; ay = 0; }
        if (x0 >= w - 1) { x0 = w - 1; ax = 0; }
        if (y0 >= h - 1) { y0 = h - 1; ay = 0; }
        int x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
        int p00 = img.getRGB(x0, y0), p01 = img.getRGB(x1, y0), p10 = img.getRGB(x0, y1), p11 = img.getRGB(x1, y1);
        for (int c = 0; c < 3; c++) {
            int sh = 16 - 8 * c;
            double v = (1 - ay) * ((1 - ax) * (p00 >> sh & 255) + ax * (p01 >> sh & 255)) + ay * ((1 - ax) * (p10 >> sh & 255) + ax * (p11 >> sh & 255));
            rgbOut[c] = (int) Math.min(255, Math.max(0, Math.round(v)));
        }
    }
}
