package dev.alexnet.model;

import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;

import java.nio.file.Path;
import java.util.Map;

/**
 * The response normalisation a weights file was trained with, in its metadata under {@code lrn}, e.g.
 * {@code size=5 k=1.0 alpha=1.0E-4 beta=0.75 alpha-over-size window=all} for Caffe's bvlc_alexnet
 * (Caffe divides alpha by the window size and normalises across all channels). Files without the key
 * use the paper's LRN, per tower.
 */
public record LrnMetadata(LrnParams params, boolean perTower) {
    public static final String KEY = "lrn";

    public String format() {
        return "size=" + params.size() + " k=" + params.k() + " alpha=" + params.alpha() + " beta=" + params.beta()
                + (params.alphaOverSize() ? " alpha-over-size" : " alpha-as-is") + " window=" + (perTower ? "per-tower" : "all");
    }

    /**
     * What {@code weights}' metadata says, or null when it says nothing about LRN or cannot be read (then
     * loading the weights reports what is wrong with the file, with its own message).
     */
    public static LrnMetadata of(Path weights) {
        Map<String, String> meta;
        try {
            meta = Safetensors.metadata(weights);
        } catch (WeightFileException | java.io.UncheckedIOException e) {
            return null;
        }
        return parse(meta, weights.toString());
    }

    static LrnMetadata parse(Map<String, String> meta, String where) {
        String v = meta.get(KEY);
        if (v == null) return null;
        String bad = where + ": metadata lrn '" + v + "' should read 'size=5 k=1 alpha=1e-4 beta=0.75 alpha-over-size|alpha-as-is window=all|per-tower'";
        Integer size = null;
        Float k = null, alpha = null, beta = null;
        Boolean over = null, perTower = null;
        try {
            for (String t : v.strip().split("\\s+")) {
                switch (t) {
                    case "alpha-over-size" -> over = true;
                    case "alpha-as-is" -> over = false;
                    case "window=all" -> perTower = false;
                    case "window=per-tower" -> perTower = true;
                    default -> {
                        int eq = t.indexOf('=');
                        if (eq < 0) throw new WeightFileException(bad);
                        String key = t.substring(0, eq), val = t.substring(eq + 1);
                        switch (key) {
                            case "size" -> size = Integer.parseInt(val);
                            case "k" -> k = Float.parseFloat(val);
                            case "alpha" -> alpha = Float.parseFloat(val);
                            case "beta" -> beta = Float.parseFloat(val);
                            default -> throw new WeightFileException(bad);
                        }
                    }
                }
            }
            if (size == null || k == null || alpha == null || beta == null || over == null || perTower == null) throw new WeightFileException(bad);
            return new LrnMetadata(new LrnParams(size, k, alpha, beta, over), perTower);
        } catch (NumberFormatException e) {
            throw new WeightFileException(bad);
        } catch (IllegalArgumentException e) {
            throw new WeightFileException(where + ": metadata lrn '" + v + "': " + e.getMessage());
        }
    }
}
