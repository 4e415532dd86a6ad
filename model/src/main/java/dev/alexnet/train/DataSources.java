package dev.alexnet.train;

import dev.alexnet.train.data.Dataset;
import dev.alexnet.train.data.IdxDataset;
import dev.alexnet.train.data.ImageFolderDataset;
import dev.alexnet.train.data.NpyDataset;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code --data} argument of {@code train} and {@code evaluate}: {@code fashion-mnist} (Debian's
 * dataset-fashion-mnist: train-* for training, t10k-* for validation), a directory of class folders
 * (with {@code train/} and {@code val/} inside, or one set used for both), or an {@code .npy} file of
 * preprocessed images with {@code --labels}.
 */
public final class DataSources {
    private DataSources() {}

    /** A training set and the set its validation runs on (the same object when there is no separate one). */
    public record Pair(Dataset train, Dataset val, String description) implements AutoCloseable {
        @Override
        public void close() {
            train.close();
            if (val != train) val.close();
        }
    }

    public static Pair open(String data, Path labels, Path valData, Path valLabels) {
        if (data.equals("fashion-mnist")) {
            Dataset train = IdxDataset.fashionMnist(true);
            return new Pair(train, IdxDataset.fashionMnist(false), "Fashion-MNIST (60,000 training, 10,000 test images, scaled to 227x227)");
        }
        Path p = Path.of(data);
        if (data.endsWith(".npy")) {
            if (labels == null) throw new IllegalArgumentException("--data " + data + " needs --labels L.npy (integer labels, one per image)");
            Dataset train = NpyDataset.open(p, labels);
            if (valData == null) return new Pair(train, train, data + " (" + train.size() + " images; validation on the same images)");
            if (valLabels == null) throw new IllegalArgumentException("--val-data needs --val-labels");
            return new Pair(train, NpyDataset.open(valData, valLabels), data + " with validation " + valData);
        }
        if (Files.isDirectory(p)) {
            if (Files.isDirectory(p.resolve("train"))) {
                ImageFolderDataset train = ImageFolderDataset.open(p.resolve("train"));
                Path v = valData != null ? valData : p.resolve("val");
                if (!Files.isDirectory(v)) return new Pair(train, train, p + "/train (validation on the training images: no val/ folder)");
                return new Pair(train, ImageFolderDataset.withStatsOf(v, train), p + "/train and " + v);
            }
            ImageFolderDataset train = ImageFolderDataset.open(p);
            if (valData != null) return new Pair(train, ImageFolderDataset.withStatsOf(valData, train), p + " and " + valData);
            return new Pair(train, train, p + " (validation on the training images: no train/ and val/ folders)");
        }
        throw new IllegalArgumentException("--data '" + data + "' is neither fashion-mnist, a directory of class folders, nor an .npy file"
                + (Files.exists(p) ? "" : " (no such file or directory)"));
    }

    /** The evaluation set alone: for fashion-mnist the test images, for a directory its val/ folder if any. */
    public static Dataset openForEvaluation(String data, Path labels) {
        if (data.equals("fashion-mnist")) return IdxDataset.fashionMnist(false);
        Path p = Path.of(data);
        if (data.endsWith(".npy")) {
            if (labels == null) throw new IllegalArgumentException("--data " + data + " needs --labels L.npy");
            return NpyDataset.open(p, labels);
        }
        if (Files.isDirectory(p)) {
            // evaluation subtracts the training set's mean image, as training did: its statistics come from train/
            if (Files.isDirectory(p.resolve("train")) && Files.isDirectory(p.resolve("val"))) {
                return ImageFolderDataset.withStatsOf(p.resolve("val"), ImageFolderDataset.open(p.resolve("train")));
            }
            return ImageFolderDataset.open(p);
        }
        throw new IllegalArgumentException("--data '" + data + "' is neither fashion-mnist, a directory of class folders, nor an .npy file");
    }
}
