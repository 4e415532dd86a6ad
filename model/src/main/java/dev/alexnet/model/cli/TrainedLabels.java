package dev.alexnet.model.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.alexnet.model.ClassNames;
import dev.alexnet.model.Images;
import dev.alexnet.model.caffe.MeanImage;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * What a weights file says about its classes: their names ({@code classes} in the metadata, a JSON list,
 * written by {@code train}) and how its inputs were prepared ({@code preprocess}: {@code imagenet}, or
 * {@code grey <mean> <std>} for a network trained on grey images such as Fashion-MNIST's, or {@code caffe <h> <w>}
 * with the mean image in {@code mean_image} for weights converted by {@code import-caffe}). Without
 * metadata: ImageNet's names for 1000 classes, {@code class <i>} otherwise, ImageNet preprocessing.
 */
public record TrainedLabels(List<String> names, double greyMean, double greyStd, MeanImage caffeMean) {
    public static final String CLASSES_KEY = "classes", PREPROCESS_KEY = "preprocess";

    public static TrainedLabels of(Path weights, int classes) {
        List<String> names = null;
        double mean = Double.NaN, std = Double.NaN;
        MeanImage caffeMean = null;
        if (weights != null) {
            var meta = Safetensors.metadata(weights);
            if (meta.containsKey(CLASSES_KEY)) {
                try {
                    names = Arrays.asList(new ObjectMapper().readValue(meta.get(CLASSES_KEY), String[].class));
                } catch (IOException e) {
                    throw new WeightFileException(weights + ": the class names in the metadata are not a JSON list of strings");
                }
                if (names.size() != classes) {
                    throw new WeightFileException(weights + ": the metadata names " + names.size() + " classes but fc8 has " + classes + " rows");
                }
            }
            String pre = meta.getOrDefault(PREPROCESS_KEY, "imagenet").strip();
            if (pre.startsWith("grey")) {
                String[] v = pre.split("\\s+");
                try {
                    mean = Double.parseDouble(v[1]);
                    std = Double.parseDouble(v[2]);
                } catch (RuntimeException e) {
                    throw new WeightFileException(weights + ": preprocess '" + pre + "' should read 'grey <mean> <std>'");
                }
                if (!(std > 0)) throw new WeightFileException(weights + ": preprocess '" + pre + "' has a non-positive standard deviation");
            } else if (pre.startsWith(MeanImage.PREPROCESS)) {
                caffeMean = MeanImage.decode(pre, meta.get(MeanImage.KEY), weights.toString());
            }
        }
        return new TrainedLabels(names, mean, std, caffeMean);
    }

    String name(int c) {
        if (names != null) return names.get(c);
        return c < ClassNames.COUNT ? ClassNames.of(c) : "class " + c;
    }

    /** Writes the network input [3,S,S] for {@code img} at float offset {@code off}. */
    void preprocess(BufferedImage img, int s, MemorySegment dst, long off) {
        if (caffeMean != null) {
            caffeMean.preprocess(img, s, dst, off);
            return;
        }
        if (Double.isNaN(greyMean)) {
            Images.preprocess(img, s, dst, off);
            return;
        }
        // grey: luminance in [0,1], scaled bilinearly to S x S (half-pixel centres), normalised, copied to three planes
        int w = img.getWidth(), h = img.getHeight();
        for (int y = 0; y < s; y++) {
            double sy = Math.max(0, (y + 0.5) * h / s - 0.5);
            int y0 = Math.min((int) sy, h - 1), y1 = Math.min(y0 + 1, h - 1);
            double fy = sy - y0;
            for (int x = 0; x < s; x++) {
                double sx = Math.max(0, (x + 0.5) * w / s - 0.5);
                int x0 = Math.min((int) sx, w - 1), x1 = Math.min(x0 + 1, w - 1);
                double fx = sx - x0;
                double v = (1 - fy) * ((1 - fx) * grey(img, x0, y0) + fx * grey(img, x1, y0)) + fy * ((1 - fx) * grey(img, x0, y1) + fx * grey(img, x1, y1));
                float n = (float) ((v - greyMean) / greyStd);
                for (int c = 0; c < 3; c++) dst.setAtIndex(JAVA_FLOAT, off + ((long) c * s + y) * s + x, n);
            }
        }
    }

    private static double grey(BufferedImage img, int x, int y) {
        int rgb = img.getRGB(x, y);
        return (0.299 * (rgb >> 16 & 255) + 0.587 * (rgb >> 8 & 255) + 0.114 * (rgb & 255)) / 255.0;
    }
}
