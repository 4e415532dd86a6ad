package dev.alexnet.train.data;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Grey images from IDX files (Fashion-MNIST, MNIST), kept raw in memory (Fashion-MNIST's training set is 47 MB;
 * scaled to 227x227 it would be 37 GB) and scaled on the fly with {@link Bilinear} ({@code align_corners=False}).
 * The grey value is copied to all three channels and normalised as {@code (v - mean) / std}, where mean and
 * standard deviation are those of all pixel values of the <em>training</em> images (computed once, exactly, when
 * the dataset is opened; {@link #mean()} and {@link #std()} give them on the 0-1 scale).
 *
 * <p>{@link Augment#NONE} scales the whole image to S x S. {@link Augment#PAPER} and the test crops scale it to the
 * base size (256) and take an S x S crop of that (random or fixed, flipped or not); there is no colour noise for
 * grey images. The default augmentation is {@code NONE}. The two scales differ (crops show the item 256/227 times
 * larger), so a model trained with {@code NONE} is evaluated with {@code NONE}, one trained with {@code PAPER} with
 * the test crops.
 */
public final class IdxDataset implements Dataset {
    /** The default location of Debian's {@code dataset-fashion-mnist} package. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final int BASE = 256;

    private final Idx.Images images;
    private final byte[] labels;
    private final List<String> names;
    private final double mean, std;
    private final float meanF, invStdF;
    private final int size, base, imageBytes;
    private final Bilinear.Axis wholeY, wholeX, baseY, baseX;

    private IdxDataset(Idx.Images images, byte[] labels, List<String> names, double mean, double std, int size, int base) {
        this.images = images;
        this.labels = labels;
        this.names = List.copyOf(names);
        this.mean = mean;
        this.std = std;
        this.meanF = (float) (mean * 255);
        this.invStdF = (float) (1 / (std * 255));
        this.size = size;
        this.base = base;
        this.imageBytes = images.rows() * images.cols();
        this.wholeY = Bilinear.Axis.of(images.rows(), size);
        this.wholeX = Bilinear.Axis.of(images.cols(), size);
        this.baseY = Bilinear.Axis.of(images.rows(), base);
        this.baseX = Bilinear.Axis.of(images.cols(), base);
    }

    /** Fashion-MNIST from {@link #FASHION_MNIST_DIR}: the 60,000 training or the 10,000 test images. */
    public static IdxDataset fashionMnist(boolean train) {
        return fashionMnist(FASHION_MNIST_DIR, train);
    }

    /**
     * Fashion-MNIST from {@code dir} ({@code {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz}), normalised by the
     * training images' statistics (the training images are read for them when the test set is asked for).
     */
    public static IdxDataset fashionMnist(Path dir, boolean train) {
        for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new DataException(dir.resolve(f) + ": no such file; Fashion-MNIST comes with Debian's package (as root: apt-get install dataset-fashion-mnist)");
            }
        }
        String prefix = train ? "train" : "t10k";
        Idx.Images trainImages = Idx.readImages(dir.resolve("train-images-idx3-ubyte.gz"));
        double[] stats = pixelStats(trainImages);
        Idx.Images images = train ? trainImages : Idx.readImages(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        return of(images, dir.resolve(prefix + "-labels-idx1-ubyte.gz"), FASHION_MNIST_CLASSES, stats[0], stats[1], SIZE, BASE);
    }

    /**
     * Images and labels from IDX files, normalised with the given mean and standard deviation (0-1 scale), written
     * at {@code size} pixels (crops from a {@code base}-square scaling for PAPER and the test crops).
     */
    public static IdxDataset open(Path images, Path labels, List<String> classNames, double mean, double std, int size, int base) {
        return of(Idx.readImages(images), labels, classNames, mean, std, size, base);
    }

    private static IdxDataset of(Idx.Images images, Path labelFile, List<String> classNames, double mean, double std, int size, int base) {
        if (!(std > 0) || !Double.isFinite(mean)) throw new IllegalArgumentException("normalisation needs a finite mean and std > 0, got " + mean + ", " + std);
        if (size <= 0 || base < size) throw new IllegalArgumentException("image size " + size + " and base " + base + ": need 0 < size <= base");
        if (classNames.isEmpty()) throw new IllegalArgumentException("no class names");
        byte[] labels = Idx.readLabels(labelFile);
        if (labels.length != images.count()) {
            throw new DataException(labelFile + ": " + labels.length + " labels for " + images.count() + " images");
        }
        for (int i = 0; i < labels.length; i++) {
            if ((labels[i] & 0xff) >= classNames.size()) {
                throw new DataException(labelFile + ": label " + (labels[i] & 0xff) + " of image " + i + " is out of range (" + classNames.size() + " classes)");
            }
        }
        return new IdxDataset(images, labels, classNames, mean, std, size, base);
    }

    /** Mean and population standard deviation of all pixel values on the 0-1 scale (exact integer sums). */
    public static double[] pixelStats(Idx.Images images) {
        long[] hist = new long[256];
        for (byte b : images.pixels()) hist[b & 0xff]++;
        long n = images.pixels().length, s = 0, ss = 0;
        for (int v = 0; v < 256; v++) {
            s += hist[v] * v;
            ss += hist[v] * v * v;
        }
        double mean = (double) s / n;
        double var = ((double) ss - (double) s * s / n) / n;
        return new double[] {mean / 255, Math.sqrt(Math.max(0, var)) / 255};
    }

    /** The training set's mean pixel value, 0-1 scale. */
    public double mean() { return mean; }

    /** The training set's standard deviation of pixel values, 0-1 scale. */
    public double std() { return std; }

    /** The raw images. */
    public Idx.Images images() { return images; }

    @Override public int size() { return images.count(); }
    @Override public int classes() { return names.size(); }
    @Override public List<String> classNames() { return names; }
    @Override public int label(int i) { return labels[Objects.checkIndex(i, labels.length)] & 0xff; }
    @Override public int imageSize() { return size; }
    @Override public Augment defaultAugment() { return Augment.NONE; }

    @Override
    public void write(int i, MemorySegment dst, long off, Augment aug, SplittableRandom rng) {
        Objects.checkIndex(i, images.count());
        switch (aug) {
            case NONE -> render(i, wholeY, wholeX, new Crops(0, 0, false), dst, off);
            case PAPER -> render(i, baseY, baseX, Crops.random(base, size, rng), dst, off);
        }
    }

    @Override
    public void writeTestCrop(int i, int crop, MemorySegment dst, long off) {
        Objects.checkIndex(i, images.count());
        render(i, baseY, baseX, Crops.test(crop, base, size), dst, off);
    }

    private void render(int i, Bilinear.Axis ay, Bilinear.Axis ax, Crops c, MemorySegment dst, long off) {
        byte[] px = images.pixels();
        int start = i * imageBytes, cols = images.cols();
        long plane = (long) size * size * Float.BYTES;
        float[] row = new float[size];
        int[] lo = ax.lo(), hi = ax.hi();
        float[] fx = ax.frac();
        for (int y = 0; y < size; y++) {
            int yy = c.y() + y;
            int r0 = start + ay.lo()[yy] * cols, r1 = start + ay.hi()[yy] * cols;
            float fy = ay.frac()[yy];
            for (int x = 0; x < size; x++) {
                int sx = c.x() + (c.flip() ? size - 1 - x : x);
                float f = fx[sx];
                // The same arithmetic as Bilinear.sample, inlined for the row.
                float top = (px[r0 + lo[sx]] & 0xff) * (1 - f) + (px[r0 + hi[sx]] & 0xff) * f;
                float bot = (px[r1 + lo[sx]] & 0xff) * (1 - f) + (px[r1 + hi[sx]] & 0xff) * f;
                row[x] = ((top * (1 - fy) + bot * fy) - meanF) * invStdF;
            }
            long at = off + (long) y * size * Float.BYTES;
            MemorySegment.copy(row, 0, dst, JAVA_FLOAT, at, size);
            MemorySegment.copy(row, 0, dst, JAVA_FLOAT, at + plane, size);
            MemorySegment.copy(row, 0, dst, JAVA_FLOAT, at + 2 * plane, size);
        }
    }
}
