package dev.alexnet.train.data;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ImageFolder source on tiny PNGs written here: class order and labels, the mean image and colour PCA, crops,
 * flips and colour noise, the statistics cache, grey and non-square images, and bad folders and files. Base 8 and
 * crop 6 keep the images at their stored size (scale 1 is the identity), so most values are checked exactly.
 */
class ImageFolderDatasetTest {
    @TempDir Path tmp;
    private Path root;
    private static final int BASE = 8, SIZE = 6;
    /** The fixture's images in the listing order (a/z, b/x, b/y, c/nested/v, c/w), packed 0xRRGGBB. */
    private final List<int[]> images = new ArrayList<>();

    private static void png(Path file, int w, int h, int[] rgb) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, rgb, 0, w);
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    private int[] randomImage(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] px = new int[BASE * BASE];
        for (int i = 0; i < px.length; i++) px[i] = r.nextInt(1 << 24);
        return px;
    }

    @BeforeEach
    void fixture() throws IOException {
        root = tmp.resolve("train");
        String[] files = {"a/z.png", "b/x.png", "b/y.PNG", "c/nested/v.png", "c/w.png"};
        // Written in another order than listed, to show the listing sorts.
        for (int k = files.length - 1; k >= 0; k--) {
            int[] px = randomImage(k);
            png(root.resolve(files[k]), BASE, BASE, px);
        }
        for (int k = 0; k < files.length; k++) images.add(randomImage(k));
        Files.writeString(root.resolve("a/readme.txt"), "not an image");
        png(root.resolve(".hidden/q.png"), BASE, BASE, randomImage(99));
        png(root.resolve("b/.thumbs/t.png"), BASE, BASE, randomImage(98));
    }

    private ImageFolderDataset open() {
        return ImageFolderDataset.open(root, ImageFolderDataset.defaultCache(root), BASE, SIZE, 2);
    }

    private static int channel(int rgb, int c) {
        return (rgb >> (16 - 8 * c)) & 0xff;
    }

    @Test
    void classesLabelsAndFiles() {
        try (ImageFolderDataset ds = open()) {
            assertEquals(List.of("a", "b", "c"), ds.classNames());
            assertEquals(5, ds.size());
            int[] labels = new int[5];
            for (int i = 0; i < 5; i++) labels[i] = ds.label(i);
            assertArrayEquals(new int[] {0, 1, 1, 2, 2}, labels);
            assertEquals(List.of("a/z.png", "b/x.png", "b/y.PNG", "c/nested/v.png", "c/w.png"),
                    ds.files().stream().map(p -> root.relativize(p).toString()).toList());
            assertEquals(Augment.PAPER, ds.defaultAugment());
            assertEquals(SIZE, ds.imageSize());
        }
    }

    @Test
    void meanImageAndColourPca() {
        try (ImageFolderDataset ds = open()) {
            ImageStats st = ds.stats();
            assertEquals(5, st.count());
            int plane = BASE * BASE;
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < plane; p++) {
                    long s = 0;
                    for (int[] img : images) s += channel(img[p], c);
                    assertEquals((float) (s / 5.0), st.meanImage()[c * plane + p], 0, "mean image c" + c + " p" + p);
                }
            }
            // Covariance of all pixel values (0-1 scale) in double, two-pass.
            double[] mu = new double[3];
            int n = 5 * plane;
            for (int[] img : images) for (int v : img) for (int c = 0; c < 3; c++) mu[c] += channel(v, c) / 255.0 / n;
            double[][] cov = new double[3][3];
            for (int[] img : images) {
                for (int v : img) {
                    for (int a = 0; a < 3; a++) {
                        for (int b = 0; b < 3; b++) cov[a][b] += (channel(v, a) / 255.0 - mu[a]) * (channel(v, b) / 255.0 - mu[b]) / n;
                    }
                }
            }
            double[] l = st.eigenvalues(), vec = st.eigenvectors();
            assertTrue(l[0] >= l[1] && l[1] >= l[2] && l[2] > 0, "eigenvalues descending and positive: " + java.util.Arrays.toString(l));
            for (int k = 0; k < 3; k++) {
                for (int r = 0; r < 3; r++) {
                    double cv = 0;
                    for (int j = 0; j < 3; j++) cv += cov[r][j] * vec[3 * j + k];
                    // Entries ~0.1: the one-pass integer formula and Jacobi agree with the two-pass double to ~1e-15 each.
                    assertEquals(l[k] * vec[3 * r + k], cv, 1e-12, "C v = lambda v, k=" + k);
                }
                for (int k2 = 0; k2 < 3; k2++) {
                    double dot = 0;
                    for (int r = 0; r < 3; r++) dot += vec[3 * r + k] * vec[3 * r + k2];
                    assertEquals(k == k2 ? 1 : 0, dot, 1e-12, "orthonormal eigenvectors");
                }
            }
        }
    }

    @Test
    void cropsFlipsMeanSubtractionAndColourNoise() {
        try (ImageFolderDataset ds = open(); Arena arena = Arena.ofConfined()) {
            float[] mean = ds.stats().meanImage();
            int plane = BASE * BASE, outPlane = SIZE * SIZE, far = BASE - SIZE;
            MemorySegment out = arena.allocate(3L * outPlane * 4);
            for (int i = 0; i < ds.size(); i++) {
                int[] img = images.get(i);
                ds.write(i, out, 0, Augment.NONE, null);
                checkCrop(out, img, mean, far / 2, far / 2, false, new double[3], 0, "centre");
                for (int crop = 0; crop < 10; crop++) {
                    int k = crop % 5;
                    int oy = k == 0 || k == 1 ? 0 : k == 4 ? far / 2 : far;
                    int ox = k == 0 || k == 2 ? 0 : k == 4 ? far / 2 : far;
                    ds.writeTestCrop(i, crop, out, 0);
                    checkCrop(out, img, mean, oy, ox, crop >= 5, new double[3], 0, "test crop " + crop);
                }
                for (long seed = 0; seed < 6; seed++) {
                    SplittableRandom draws = new SplittableRandom(seed);
                    int oy = draws.nextInt(far + 1), ox = draws.nextInt(far + 1);
                    boolean flip = draws.nextBoolean();
                    double[] l = ds.stats().eigenvalues(), v = ds.stats().eigenvectors();
                    double[] alpha = {draws.nextGaussian() * 0.1, draws.nextGaussian() * 0.1, draws.nextGaussian() * 0.1};
                    double[] noise = new double[3];
                    for (int c = 0; c < 3; c++) for (int k = 0; k < 3; k++) noise[c] += 255 * v[3 * c + k] * alpha[k] * l[k];
                    assertNotEquals(0, noise[0]);
                    ds.write(i, out, 0, Augment.PAPER, new SplittableRandom(seed));
                    // Three float roundings (mean, subtraction, the noise, its addition) of values below 512.
                    checkCrop(out, img, mean, oy, ox, flip, noise, 4 * Math.ulp(512f), "paper seed " + seed);
                }
            }
        }
    }

    private static void checkCrop(MemorySegment out, int[] img, float[] mean, int oy, int ox, boolean flip, double[] noise, double tol, String what) {
        int plane = BASE * BASE;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    int p = (oy + y) * BASE + ox + (flip ? SIZE - 1 - x : x);
                    // The subtraction in float, as the dataset does it (exact comparisons without noise).
                    double expected = (channel(img[p], c) - mean[c * plane + p]) + noise[c];
                    assertEquals(expected, out.getAtIndex(JAVA_FLOAT, (long) c * SIZE * SIZE + y * SIZE + x), tol, what + " c" + c + " (" + y + "," + x + ")");
                }
            }
        }
    }

    @Test
    void statisticsAreCachedAndRecomputedWhenTheFilesChange() throws IOException {
        Path cache = ImageFolderDataset.defaultCache(root);
        assertEquals(tmp.resolve("train.alexnet-stats.bin").toAbsolutePath(), cache);
        ImageStats first;
        try (ImageFolderDataset ds = open()) {
            first = ds.stats();
        }
        assertTrue(Files.isRegularFile(cache));
        // A doctored cache with the right fingerprint is believed: the statistics come from the file.
        float[] doctored = first.meanImage().clone();
        doctored[0] = 1234.5f;
        new ImageStats(first.base(), first.count(), first.fingerprint(), doctored, first.eigenvalues(), first.eigenvectors()).save(cache);
        try (ImageFolderDataset ds = open()) {
            assertEquals(1234.5f, ds.stats().meanImage()[0]);
        }
        // Another image: another file list, so the statistics are recomputed (and the cache rewritten).
        png(root.resolve("a/zz.png"), BASE, BASE, randomImage(50));
        try (ImageFolderDataset ds = open()) {
            assertEquals(6, ds.stats().count());
            assertNotEquals(1234.5f, ds.stats().meanImage()[0]);
        }
        assertEquals(6, ImageStats.load(cache).count());
        // A different base size does not use the cache either.
        try (ImageFolderDataset ds = ImageFolderDataset.open(root, cache, 7, 5, 1)) {
            assertEquals(7, ds.stats().base());
        }
    }

    @Test
    void evaluationFolderUsesTrainingStatistics() throws IOException {
        Path val = tmp.resolve("val");
        png(val.resolve("a/1.png"), BASE, BASE, randomImage(7));
        png(val.resolve("b/1.png"), BASE, BASE, randomImage(8));
        png(val.resolve("c/1.png"), BASE, BASE, randomImage(9));
        try (ImageFolderDataset train = open(); ImageFolderDataset v = ImageFolderDataset.withStatsOf(val, train)) {
            assertTrue(v.stats() == train.stats());
            assertEquals(3, v.size());
            assertEquals(2, v.label(2));
            Files.createDirectories(tmp.resolve("val2/a"));
            png(tmp.resolve("val2/a/1.png"), BASE, BASE, randomImage(7));
            png(tmp.resolve("val2/d/1.png"), BASE, BASE, randomImage(7));
            DataException e = assertThrows(DataException.class, () -> ImageFolderDataset.withStatsOf(tmp.resolve("val2"), train));
            assertTrue(e.getMessage().contains("[a, d] differ from the training folder's [a, b, c]"), e.getMessage());
        }
    }

    @Test
    void greyNonSquareAndShrunkImages() throws IOException {
        // Grey PNGs keep their stored values (BufferedImage.getRGB would pass them through a gamma curve).
        BufferedImage grey = new BufferedImage(BASE, BASE, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < BASE; y++) for (int x = 0; x < BASE; x++) grey.getRaster().setSample(x, y, 0, 10 * y + x);
        Path g = tmp.resolve("grey.png");
        ImageIO.write(grey, "png", g.toFile());
        int[] base = ImageFolderDataset.decodeBase(g, BASE);
        for (int p = 0; p < base.length; p++) {
            int v = 10 * (p / BASE) + p % BASE;
            assertEquals(v << 16 | v << 8 | v, base[p]);
        }
        // 16 wide, 8 high: the shorter side is already 8, so the central 8 columns (4-11) are kept as they are.
        int[] wide = new int[16 * 8];
        for (int i = 0; i < wide.length; i++) wide[i] = i * 0x010203;
        png(tmp.resolve("wide.png"), 16, 8, wide);
        base = ImageFolderDataset.decodeBase(tmp.resolve("wide.png"), BASE);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) assertEquals(wide[y * 16 + 4 + x] & 0xffffff, base[y * 8 + x]);
        // 16x16 to 8x8: bilinear samples at 2d + 0.5, the mean of each 2x2 block, rounded half up.
        int[] big = new int[256];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < big.length; i++) big[i] = r.nextInt(1 << 24);
        png(tmp.resolve("big.png"), 16, 16, big);
        base = ImageFolderDataset.decodeBase(tmp.resolve("big.png"), BASE);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                for (int c = 0; c < 3; c++) {
                    int s = channel(big[2 * y * 16 + 2 * x], c) + channel(big[2 * y * 16 + 2 * x + 1], c)
                            + channel(big[(2 * y + 1) * 16 + 2 * x], c) + channel(big[(2 * y + 1) * 16 + 2 * x + 1], c);
                    assertEquals((s + 2) / 4, channel(base[y * 8 + x], c), "block (" + y + "," + x + ") c" + c);
                }
            }
        }
    }

    /** RGBA (alpha ignored) and palette PNGs decode to the colours stored, through the fast path and getRGB. */
    @Test
    void otherPixelLayouts() throws IOException {
        int[] px = randomImage(21);
        BufferedImage rgba = new BufferedImage(BASE, BASE, BufferedImage.TYPE_4BYTE_ABGR);
        for (int i = 0; i < px.length; i++) rgba.setRGB(i % BASE, i / BASE, (i * 3 + 100) << 24 | px[i]);
        Path a = tmp.resolve("rgba.png");
        assertTrue(ImageIO.write(rgba, "png", a.toFile()));
        assertEquals(BufferedImage.TYPE_4BYTE_ABGR, ImageIO.read(a.toFile()).getType());
        assertArrayEquals(px, ImageFolderDataset.decodeBase(a, BASE));
        BufferedImage indexed = new BufferedImage(BASE, BASE, BufferedImage.TYPE_BYTE_INDEXED);
        indexed.setRGB(0, 0, BASE, BASE, px, 0, BASE);
        int[] stored = indexed.getRGB(0, 0, BASE, BASE, null, 0, BASE);
        for (int i = 0; i < stored.length; i++) stored[i] &= 0xffffff;
        Path p = tmp.resolve("indexed.png");
        assertTrue(ImageIO.write(indexed, "png", p.toFile()));
        assertArrayEquals(stored, ImageFolderDataset.decodeBase(p, BASE));
    }

    @Test
    void jpegIsReadToo() throws IOException {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) img.setRGB(x, y, 0x3C78B4);
        Path j = tmp.resolve("j/a/flat.JPG");
        Files.createDirectories(j.getParent());
        assertTrue(ImageIO.write(img, "jpeg", j.toFile()));
        try (ImageFolderDataset ds = ImageFolderDataset.open(tmp.resolve("j"), null, BASE, SIZE, 1)) {
            assertEquals(1, ds.size());
            // A flat colour survives JPEG up to the rounding of the colour conversion (a few levels).
            float[] mean = ds.stats().meanImage();
            assertEquals(0x3C, mean[0], 3);
            assertEquals(0x78, mean[BASE * BASE], 3);
            assertEquals(0xB4, mean[2 * BASE * BASE], 3);
        }
    }

    private static void fails(Runnable r, String... parts) {
        DataException e = assertThrows(DataException.class, r::run);
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "message spans lines: " + m);
        for (String p : parts) assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
    }

    @Test
    void badFoldersAndImages() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        fails(() -> ImageFolderDataset.open(empty, null, BASE, SIZE, 1), "empty", "no class folders");
        fails(() -> ImageFolderDataset.open(tmp.resolve("missing"), null, BASE, SIZE, 1), "missing", "no such folder");
        Path emptyClass = tmp.resolve("ec");
        png(emptyClass.resolve("a/1.png"), BASE, BASE, randomImage(1));
        Files.createDirectories(emptyClass.resolve("b"));
        Files.writeString(emptyClass.resolve("b/notes.txt"), "x");
        fails(() -> ImageFolderDataset.open(emptyClass, null, BASE, SIZE, 1), "ec/b", "class folder has no .jpg, .jpeg or .png images");
        // Corrupt files are found by the statistics pass, counted, and the first is named.
        Path corrupt = tmp.resolve("corrupt");
        png(corrupt.resolve("a/1.png"), BASE, BASE, randomImage(1));
        Files.createDirectories(corrupt.resolve("b"));
        Files.writeString(corrupt.resolve("b/bad.png"), "this is not a PNG");
        byte[] half = Files.readAllBytes(corrupt.resolve("a/1.png"));
        Files.write(corrupt.resolve("b/cut.png"), java.util.Arrays.copyOf(half, half.length / 2));
        fails(() -> ImageFolderDataset.open(corrupt, null, BASE, SIZE, 2), "2 unreadable images", "b/bad.png");
        // A file that breaks after the statistics pass fails the write that reads it, naming the file.
        try (ImageFolderDataset ds = open(); Arena arena = Arena.ofConfined()) {
            Files.writeString(root.resolve("b/x.png"), "gone bad");
            MemorySegment out = arena.allocate(3L * SIZE * SIZE * 4);
            fails(() -> ds.write(1, out, 0, Augment.NONE, null), "b/x.png");
            ds.write(0, out, 0, Augment.NONE, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ds.write(0, out, 0, Augment.PAPER, null));
            assertTrue(e.getMessage().contains("needs a random generator"), e.getMessage());
        }
        // The changed file changes the fingerprint: the statistics pass runs again and refuses the folder.
        fails(this::open, "1 unreadable image", "b/x.png");
    }
}
