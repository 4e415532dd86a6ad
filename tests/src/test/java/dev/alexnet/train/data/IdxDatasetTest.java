package dev.alexnet.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** IDX files (Fashion-MNIST's format) read back exactly, normalisation statistics, scaling and crops, bad files. */
class IdxDatasetTest {
    @TempDir Path dir;

    private static final int N = 5, ROWS = 3, COLS = 4;
    private static final List<String> NAMES = List.of("a", "b", "c");

    private byte[] pixels() {
        byte[] px = new byte[N * ROWS * COLS];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 37 + 11);
        return px;
    }

    private Path images(String name, byte[] px, boolean gz) throws IOException {
        byte[] raw = DataFiles.idx(0x0803, new int[] {N, ROWS, COLS}, px);
        return DataFiles.write(dir.resolve(name), gz ? DataFiles.gzip(raw) : raw);
    }

    private Path labels(String name, byte[] labels) throws IOException {
        return DataFiles.write(dir.resolve(name), DataFiles.gzip(DataFiles.idx(0x0801, new int[] {labels.length}, labels)));
    }

    @Test
    void syntheticPairReadsBackExactly() throws IOException {
        byte[] px = pixels();
        for (boolean gz : new boolean[] {true, false}) {
            Idx.Images im = Idx.readImages(images("img" + gz, px, gz));
            assertEquals(N, im.count());
            assertEquals(ROWS, im.rows());
            assertEquals(COLS, im.cols());
            assertArrayEquals(px, im.pixels());
        }
        byte[] lab = {0, 2, 1, 1, 0};
        assertArrayEquals(lab, Idx.readLabels(labels("lab", lab)));
        try (IdxDataset ds = IdxDataset.open(images("i", px, true), labels("l", lab), NAMES, 0.5, 0.25, 4, 6)) {
            assertEquals(N, ds.size());
            assertEquals(3, ds.classes());
            assertEquals(NAMES, ds.classNames());
            for (int i = 0; i < N; i++) assertEquals(lab[i], ds.label(i));
            assertEquals(Augment.NONE, ds.defaultAugment());
        }
    }

    @Test
    void pixelStatisticsAreThoseOfAllTrainingPixels() throws IOException {
        byte[] px = pixels();
        double s = 0, ss = 0;
        for (byte b : px) s += (b & 0xff) / 255.0;
        double mean = s / px.length;
        for (byte b : px) ss += ((b & 0xff) / 255.0 - mean) * ((b & 0xff) / 255.0 - mean);
        double std = Math.sqrt(ss / px.length);
        double[] st = IdxDataset.pixelStats(Idx.readImages(images("i", px, true)));
        // Integer sums are exact; the only roundings are the final divisions and square root (relative ~1e-15).
        assertEquals(mean, st[0], 1e-12);
        assertEquals(std, st[1], 1e-12);
    }

    /** Fashion-MNIST's layout with synthetic files: the test set is normalised by the training set's statistics. */
    @Test
    void fashionLayoutUsesTrainingStatisticsForBothSplits() throws IOException {
        Path fm = Files.createDirectory(dir.resolve("fm"));
        byte[] train = pixels(), test = new byte[train.length];
        Arrays.fill(test, (byte) 200);
        byte[] lab = {9, 0, 3, 5, 1};
        DataFiles.write(fm.resolve("train-images-idx3-ubyte.gz"), DataFiles.gzip(DataFiles.idx(0x0803, new int[] {N, ROWS, COLS}, train)));
        DataFiles.write(fm.resolve("t10k-images-idx3-ubyte.gz"), DataFiles.gzip(DataFiles.idx(0x0803, new int[] {N, ROWS, COLS}, test)));
        DataFiles.write(fm.resolve("train-labels-idx1-ubyte.gz"), DataFiles.gzip(DataFiles.idx(0x0801, new int[] {N}, lab)));
        DataFiles.write(fm.resolve("t10k-labels-idx1-ubyte.gz"), DataFiles.gzip(DataFiles.idx(0x0801, new int[] {N}, lab)));
        double[] st = IdxDataset.pixelStats(new Idx.Images(N, ROWS, COLS, train));
        try (IdxDataset tr = IdxDataset.fashionMnist(fm, true); IdxDataset te = IdxDataset.fashionMnist(fm, false);
             Arena arena = Arena.ofConfined()) {
            assertEquals(st[0], tr.mean());
            assertEquals(st[0], te.mean());
            assertEquals(st[1], te.std());
            assertEquals(IdxDataset.FASHION_MNIST_CLASSES, te.classNames());
            assertEquals(227, te.imageSize());
            // A constant image scales to itself: every output value is (200/255 - mean) / std, in all three planes.
            MemorySegment out = arena.allocate(3L * 227 * 227 * 4, 64);
            te.write(2, out, 0, Augment.NONE, null);
            double expected = (200 / 255.0 - st[0]) / st[1];
            // (v - mean) * (1 / std) in float: a few roundings of values of size |expected| + mean/std.
            double tol = 4 * Math.ulp((float) (Math.abs(expected) + st[0] / st[1] + 1));
            for (long k = 0; k < 3L * 227 * 227; k += 1013) assertEquals(expected, out.getAtIndex(JAVA_FLOAT, k), tol);
        }
    }

    @Test
    void scalingNormalisationAndChannelsAgainstDoubleReference() throws IOException {
        byte[] px = pixels();
        double mean = 0.3, std = 0.2;
        int size = 7, base = 9;
        try (IdxDataset ds = IdxDataset.open(images("i", px, true), labels("l", new byte[] {0, 1, 2, 0, 1}), NAMES, mean, std, size, base);
             Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(3L * size * size * 4);
            int plane = size * size;
            for (int i = 0; i < N; i++) {
                // NONE: the whole image scaled to size x size.
                ds.write(i, out, 0, Augment.NONE, null);
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        double v = (BilinearTest.reference(px, i * ROWS * COLS, ROWS, COLS, size, size, y, x) / 255 - mean) / std;
                        // Scaling error (8 * 255 * 2^-24, BilinearTest) divided by 255 * std, plus the float normalisation.
                        double tol = 8 * 255 * 0x1p-24 / (255 * std) + 4 * Math.ulp((float) (Math.abs(v) + mean / std));
                        for (int c = 0; c < 3; c++) assertEquals(v, out.getAtIndex(JAVA_FLOAT, c * plane + y * size + x), tol);
                    }
                }
                // Test crops: corners, centre and their mirror images of the base x base scaling.
                for (int crop = 0; crop < 10; crop++) {
                    ds.writeTestCrop(i, crop, out, 0);
                    int far = base - size, k = crop % 5;
                    int oy = k == 0 || k == 1 ? 0 : k == 4 ? far / 2 : far;
                    int ox = k == 0 || k == 2 ? 0 : k == 4 ? far / 2 : far;
                    boolean flip = crop >= 5;
                    for (int y = 0; y < size; y++) {
                        for (int x = 0; x < size; x++) {
                            int sx = ox + (flip ? size - 1 - x : x);
                            double v = (BilinearTest.reference(px, i * ROWS * COLS, ROWS, COLS, base, base, oy + y, sx) / 255 - mean) / std;
                            double tol = 8 * 255 * 0x1p-24 / (255 * std) + 4 * Math.ulp((float) (Math.abs(v) + mean / std));
                            assertEquals(v, out.getAtIndex(JAVA_FLOAT, y * size + x), tol, "crop " + crop);
                        }
                    }
                }
                // PAPER: a crop and flip drawn from the generator, in that order (no colour noise for grey images).
                SplittableRandom r = new SplittableRandom(100 + i), copy = new SplittableRandom(100 + i);
                ds.write(i, out, 0, Augment.PAPER, r);
                int oy = copy.nextInt(base - size + 1), ox = copy.nextInt(base - size + 1);
                boolean flip = copy.nextBoolean();
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        int sx = ox + (flip ? size - 1 - x : x);
                        double v = (BilinearTest.reference(px, i * ROWS * COLS, ROWS, COLS, base, base, oy + y, sx) / 255 - mean) / std;
                        double tol = 8 * 255 * 0x1p-24 / (255 * std) + 4 * Math.ulp((float) (Math.abs(v) + mean / std));
                        assertEquals(v, out.getAtIndex(JAVA_FLOAT, 2 * plane + y * size + x), tol);
                    }
                }
            }
        }
    }

    private void fails(Runnable r, String... parts) {
        DataException e = assertThrows(DataException.class, r::run);
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "message spans lines: " + m);
        for (String p : parts) assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
    }

    @Test
    void badFiles() throws IOException {
        byte[] px = pixels();
        byte[] raw = DataFiles.idx(0x0803, new int[] {N, ROWS, COLS}, px);
        Path truncGz = DataFiles.write(dir.resolve("trunc.gz"), Arrays.copyOf(DataFiles.gzip(raw), DataFiles.gzip(raw).length - 12));
        fails(() -> Idx.readImages(truncGz), "trunc.gz", "truncated");
        Path short_ = DataFiles.write(dir.resolve("short.gz"), DataFiles.gzip(Arrays.copyOf(raw, raw.length - 3)));
        fails(() -> Idx.readImages(short_), "short.gz", "truncated", "5 images of 3x4");
        Path hdr = DataFiles.write(dir.resolve("hdr"), Arrays.copyOf(raw, 7));
        fails(() -> Idx.readImages(hdr), "hdr", "truncated IDX header");
        Path longer = DataFiles.write(dir.resolve("long"), Arrays.copyOf(raw, raw.length + 2));
        fails(() -> Idx.readImages(longer), "long", "2 bytes after");
        Path magic = DataFiles.write(dir.resolve("magic.gz"), DataFiles.gzip(DataFiles.idx(0x0801, new int[] {N}, new byte[N])));
        fails(() -> Idx.readImages(magic), "magic.gz", "wrong IDX magic 0x00000801", "0x00000803");
        Path img = images("ok.gz", px, true);
        Path range = labels("range.gz", new byte[] {0, 1, 3, 0, 0}), count = labels("count.gz", new byte[] {0, 1});
        fails(() -> IdxDataset.open(img, range, NAMES, 0.5, 0.2, 4, 4),
                "range.gz", "label 3 of image 2 is out of range", "3 classes");
        fails(() -> IdxDataset.open(img, count, NAMES, 0.5, 0.2, 4, 4), "count.gz", "2 labels for 5 images");
        fails(() -> IdxDataset.open(img, img, NAMES, 0.5, 0.2, 4, 4), "ok.gz", "wrong IDX magic");
        fails(() -> Idx.readImages(dir.resolve("missing.gz")), "missing.gz", "no such file");
        fails(() -> IdxDataset.fashionMnist(dir.resolve("nowhere"), true), "apt-get install dataset-fashion-mnist", "as root");
    }

    /** The real set, where Debian's dataset-fashion-mnist is installed. */
    @Test
    void realFashionMnistWhereInstalled() {
        assumeTrue(Files.isRegularFile(IdxDataset.FASHION_MNIST_DIR.resolve("train-images-idx3-ubyte.gz")), "dataset-fashion-mnist not installed");
        try (IdxDataset train = IdxDataset.fashionMnist(true); IdxDataset test = IdxDataset.fashionMnist(false)) {
            assertEquals(60000, train.size());
            assertEquals(10000, test.size());
            assertEquals(10, train.classes());
            // The published statistics of the training pixels (0-1 scale): mean 0.2860, std 0.3530.
            assertEquals(0.2860, train.mean(), 5e-5);
            assertEquals(0.3530, train.std(), 5e-5);
            int[] perClass = new int[10];
            for (int i = 0; i < test.size(); i++) perClass[test.label(i)]++;
            for (int c : perClass) assertEquals(1000, c);
        }
    }
}
