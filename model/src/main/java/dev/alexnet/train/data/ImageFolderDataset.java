package dev.alexnet.train.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A folder of images, one subfolder per class (torchvision's ImageFolder layout): classes are the subfolders in
 * sorted name order (labels 0, 1, ...), images are the files under each (searched recursively, sorted by path)
 * ending in {@code .jpg}, {@code .jpeg} or {@code .png} (any case), decoded with {@code javax.imageio} when written.
 * Other files and folders whose name starts with a dot are ignored.
 *
 * <p>Preprocessing is the paper's: the shorter side scaled to the base size (256) with {@link Bilinear}, the
 * central base x base square kept and rounded to 8 bits per channel (no antialiasing filter when shrinking, as
 * PyTorch's {@code antialias=False}); then the <em>per-pixel</em> mean image of the
 * training set is subtracted (values stay on the 0-255 scale) and an S x S crop is taken: the central one for
 * {@link Augment#NONE}, a random one, flipped with probability 1/2, plus PCA colour noise for {@link Augment#PAPER}
 * (the default). The colour noise adds {@code 255 * sum_k alpha_k * lambda_k * p_k} to every pixel, where
 * {@code p_k, lambda_k} are the eigenvectors and eigenvalues of the covariance of training pixel values on the
 * 0-1 scale (the usual reading of the paper's formula) and {@code alpha_k ~ N(0, 0.1)} are drawn per image per use.
 * Grey images are copied to three channels; alpha channels are ignored.
 *
 * <p>The statistics ({@link ImageStats}) are computed once over the training folder, on several threads, and
 * cached in a file (by default beside the folder: {@code <parent>/<name>.alexnet-stats.bin}); a cache made from
 * another file list or base size is recomputed. An evaluation folder takes the training folder's statistics.
 *
 * <p>Bad input is a {@link DataException} with a one-line message, never a skipped file: a missing folder, a
 * folder without class subfolders, an empty class folder, and unreadable or corrupt images (the statistics pass
 * reads every training image, counts the unreadable ones and names the first; a file that breaks after that fails
 * the batch that reads it). Keeping every file keeps the labels and the epoch order what the listing says.
 */
public final class ImageFolderDataset implements Dataset {
    private static final System.Logger LOG = System.getLogger(ImageFolderDataset.class.getName());
    public static final int BASE = 256;
    /** The standard deviation of the colour noise coefficients alpha (the paper's 0.1). */
    public static final double PCA_SIGMA = 0.1;

    private final Path root;
    private final List<String> names;
    private final List<Path> files;
    private final int[] labels;
    private final ImageStats stats;
    private final int size, base;

    private ImageFolderDataset(Path root, List<String> names, List<Path> files, int[] labels, ImageStats stats, int size) {
        this.root = root;
        this.names = names;
        this.files = files;
        this.labels = labels;
        this.stats = stats;
        this.size = size;
        this.base = stats.base();
    }

    /** A training folder with the paper's sizes (base 256, crops 227), statistics cached beside the folder. */
    public static ImageFolderDataset open(Path root) {
        return open(root, defaultCache(root), BASE, SIZE, Runtime.getRuntime().availableProcessors());
    }

    /** {@code <parent>/<name>.alexnet-stats.bin}. */
    public static Path defaultCache(Path root) {
        Path abs = root.toAbsolutePath().normalize();
        Path parent = abs.getParent() == null ? abs : abs.getParent();
        return parent.resolve(abs.getFileName() + ".alexnet-stats.bin");
    }

    /**
     * A training folder: statistics read from {@code cache} when it was made from the same files and base size,
     * else computed on {@code threads} threads and written there (a cache that cannot be written is a warning).
     */
    public static ImageFolderDataset open(Path root, Path cache, int base, int size, int threads) {
        if (size <= 0 || base < size) throw new IllegalArgumentException("image size " + size + " and base " + base + ": need 0 < size <= base");
        if (threads <= 0) throw new IllegalArgumentException("threads must be positive, got " + threads);
        Listing l = list(root);
        long fp = fingerprint(root, l.files, base);
        ImageStats stats = cache == null ? null : ImageStats.load(cache);
        if (stats == null || stats.fingerprint() != fp || stats.base() != base || stats.count() != l.files.size()) {
            LOG.log(System.Logger.Level.INFO, "computing mean image and colour PCA over {0} images in {1}", l.files.size(), root);
            stats = computeStats(l.files, base, threads, fp);
            if (cache != null) {
                try {
                    stats.save(cache);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot write the statistics cache {0} ({1}); they will be recomputed next time", cache, e.toString());
                }
            }
        }
        return new ImageFolderDataset(root, l.names, l.files, l.labels, stats, size);
    }

    /** An evaluation folder preprocessed with a training folder's statistics; its class folders must be the same. */
    public static ImageFolderDataset withStatsOf(Path root, ImageFolderDataset training) {
        Listing l = list(root);
        if (!l.names.equals(training.names)) {
            throw new DataException(root + ": class folders " + brief(l.names) + " differ from the training folder's " + brief(training.names));
        }
        return new ImageFolderDataset(root, l.names, l.files, l.labels, training.stats, training.size);
    }

    private static String brief(List<String> names) {
        return names.size() <= 6 ? names.toString() : names.subList(0, 6) + " ... (" + names.size() + ")";
    }

    private record Listing(List<String> names, List<Path> files, int[] labels) {}

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static Listing list(Path root) {
        if (!Files.isDirectory(root)) throw new DataException(root + ": no such folder");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(p -> Files.isDirectory(p) && !hidden(p)).sorted().toList();
        } catch (IOException e) {
            throw new DataException(root + ": cannot list (" + e.getMessage() + ")", e);
        }
        if (classDirs.isEmpty()) throw new DataException(root + ": no class folders (expected " + root + "/<class>/<image>.jpg)");
        List<String> names = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> imgs;
            try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
                imgs = s.filter(p -> Files.isRegularFile(p) && isImage(p) && !hidden(p) && !hiddenBelow(dir, p)).sorted().toList();
            } catch (IOException | UncheckedIOException e) {
                throw new DataException(dir + ": cannot list (" + e.getMessage() + ")", e);
            }
            if (imgs.isEmpty()) throw new DataException(dir + ": class folder has no .jpg, .jpeg or .png images");
            for (Path p : imgs) {
                files.add(p);
                labels.add(names.size());
            }
            names.add(dir.getFileName().toString());
        }
        return new Listing(List.copyOf(names), List.copyOf(files), labels.stream().mapToInt(Integer::intValue).toArray());
    }

    private static boolean hiddenBelow(Path dir, Path p) {
        for (Path part : dir.relativize(p)) if (part.toString().startsWith(".")) return true;
        return false;
    }

    private static long fingerprint(Path root, List<Path> files, int base) {
        long h = 0x9E3779B97F4A7C15L ^ base;
        for (Path p : files) {
            long size, time;
            try {
                size = Files.size(p);
                time = Files.getLastModifiedTime(p).toMillis();
            } catch (IOException e) {
                throw new DataException(p + ": cannot read (" + e.getMessage() + ")", e);
            }
            h = mix(h ^ root.relativize(p).toString().hashCode());
            h = mix(h ^ size);
            h = mix(h ^ time);
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static ImageStats computeStats(List<Path> files, int base, int threads, long fp) {
        int t = Math.min(threads, files.size());
        AtomicInteger next = new AtomicInteger();
        List<String> bad = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(t, r -> {
            Thread th = new Thread(r, "image-stats");
            th.setDaemon(true);
            return th;
        });
        try {
            List<Future<ImageStats.Sums>> parts = new ArrayList<>();
            for (int k = 0; k < t; k++) {
                parts.add(pool.submit(() -> {
                    ImageStats.Sums sums = new ImageStats.Sums(base);
                    for (int i; (i = next.getAndIncrement()) < files.size(); ) {
                        try {
                            sums.add(decodeBase(files.get(i), base));
                        } catch (DataException e) {
                            bad.add(e.getMessage());
                        }
                    }
                    return sums;
                }));
            }
            ImageStats.Sums total = new ImageStats.Sums(base);
            for (Future<ImageStats.Sums> f : parts) total.merge(f.get());
            if (!bad.isEmpty()) {
                List<String> sorted = bad.stream().sorted().toList();
                throw new DataException(sorted.size() + " unreadable image" + (sorted.size() == 1 ? "" : "s") + " (remove or replace them), first: " + sorted.get(0));
            }
            return total.finish(base, fp);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while computing image statistics", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("computing image statistics failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Decodes {@code file}, scales its shorter side to {@code base} and returns the central base x base square as
     * packed {@code 0xRRGGBB} pixels (row-major), each channel rounded to 8 bits.
     */
    public static int[] decodeBase(Path file, int base) {
        BufferedImage img;
        try {
            img = dev.alexnet.model.Images.read(file); // bounds the pixel count before decoding; warns on a damaged image
        } catch (dev.alexnet.model.io.WeightFileException e) {
            throw new DataException(e.getMessage(), e);
        }
        int w = img.getWidth(), h = img.getHeight();
        int[] rgb = rgb(img);
        double scale = (double) base / Math.min(w, h);
        int sw = Math.max(base, (int) Math.round(w * scale)), sh = Math.max(base, (int) Math.round(h * scale));
        Bilinear.Axis ay = Bilinear.Axis.of(h, sh), ax = Bilinear.Axis.of(w, sw);
        int y0 = (sh - base) / 2, x0 = (sw - base) / 2;
        int[] out = new int[base * base];
        int[] lo = ax.lo(), hi = ax.hi();
        float[] fx = ax.frac();
        for (int y = 0; y < base; y++) {
            int r0 = ay.lo()[y0 + y] * w, r1 = ay.hi()[y0 + y] * w;
            float fy = ay.frac()[y0 + y];
            for (int x = 0; x < base; x++) {
                int sx = x0 + x;
                float f = fx[sx];
                int a = rgb[r0 + lo[sx]], b = rgb[r0 + hi[sx]], c = rgb[r1 + lo[sx]], d = rgb[r1 + hi[sx]];
                int px = 0;
                for (int shift = 16; shift >= 0; shift -= 8) {
                    // Bilinear.sample's arithmetic on one channel, rounded to 8 bits.
                    float top = ((a >> shift) & 0xff) * (1 - f) + ((b >> shift) & 0xff) * f;
                    float bot = ((c >> shift) & 0xff) * (1 - f) + ((d >> shift) & 0xff) * f;
                    px |= Math.round(top * (1 - fy) + bot * fy) << shift;
                }
                out[y * base + x] = px;
            }
        }
        return out;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s+", " ").strip();
    }

    /** Packed 0xRRGGBB pixels; grey rasters are read as stored (getRGB would apply a linear-to-sRGB curve to them). */
    private static int[] rgb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        Raster r = img.getRaster();
        if (img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY && r.getNumBands() <= 2) {
            int shift = Math.max(0, r.getSampleModel().getSampleSize(0) - 8);
            int[] px = new int[w * h];
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = Math.min(255, row[x] >> shift);
                    px[y * w + x] = v << 16 | v << 8 | v;
                }
            }
            return px;
        }
        int[] px = new int[w * h];
        // The common decoder outputs, read straight from their buffers (getRGB converts pixel by pixel, 3x slower).
        if (r.getDataBuffer() instanceof DataBufferByte db && db.getNumBanks() == 1 && db.getOffset() == 0
                && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0
                && r.getSampleModel() instanceof PixelInterleavedSampleModel sm && sm.getScanlineStride() == sm.getPixelStride() * w
                && (img.getType() == BufferedImage.TYPE_3BYTE_BGR || img.getType() == BufferedImage.TYPE_4BYTE_ABGR)) {
            byte[] d = db.getData();
            int stride = sm.getPixelStride();
            int[] off = sm.getBandOffsets(); // R, G, B(, A) offsets within a pixel
            for (int i = 0, at = 0; i < px.length; i++, at += stride) {
                px[i] = (d[at + off[0]] & 0xff) << 16 | (d[at + off[1]] & 0xff) << 8 | (d[at + off[2]] & 0xff);
            }
            return px;
        }
        if ((img.getType() == BufferedImage.TYPE_INT_RGB || img.getType() == BufferedImage.TYPE_INT_ARGB)
                && r.getDataBuffer() instanceof DataBufferInt db && db.getNumBanks() == 1 && db.getOffset() == 0
                && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0
                && r.getSampleModel() instanceof SinglePixelPackedSampleModel sm && sm.getScanlineStride() == w) {
            int[] d = db.getData();
            for (int i = 0; i < px.length; i++) px[i] = d[i] & 0xffffff;
            return px;
        }
        img.getRGB(0, 0, w, h, px, 0, w);
        for (int i = 0; i < px.length; i++) px[i] &= 0xffffff;
        return px;
    }

    public ImageStats stats() { return stats; }
    public Path root() { return root; }
    /** The image files, in label-then-path order (image {@code i} is {@code files().get(i)}). */
    public List<Path> files() { return files; }

    @Override public int size() { return files.size(); }
    @Override public int classes() { return names.size(); }
    @Override public List<String> classNames() { return names; }
    @Override public int label(int i) { return labels[Objects.checkIndex(i, labels.length)]; }
    @Override public int imageSize() { return size; }
    @Override public Augment defaultAugment() { return Augment.PAPER; }

    @Override
    public void write(int i, MemorySegment dst, long off, Augment aug, SplittableRandom rng) {
        Objects.checkIndex(i, files.size());
        switch (aug) {
            case NONE -> render(i, Crops.centre(base, size), null, dst, off);
            case PAPER -> {
                Crops c = Crops.random(base, size, rng);
                float[] noise = new float[3];
                double[] v = stats.eigenvectors(), l = stats.eigenvalues();
                double a0 = rng.nextGaussian() * PCA_SIGMA * l[0], a1 = rng.nextGaussian() * PCA_SIGMA * l[1], a2 = rng.nextGaussian() * PCA_SIGMA * l[2];
                for (int ch = 0; ch < 3; ch++) noise[ch] = (float) (255 * (v[3 * ch] * a0 + v[3 * ch + 1] * a1 + v[3 * ch + 2] * a2));
                render(i, c, noise, dst, off);
            }
        }
    }

    @Override
    public void writeTestCrop(int i, int crop, MemorySegment dst, long off) {
        Objects.checkIndex(i, files.size());
        render(i, Crops.test(crop, base, size), null, dst, off);
    }

    private void render(int i, Crops c, float[] noise, MemorySegment dst, long off) {
        int[] img = decodeBase(files.get(i), base);
        float[] mean = stats.meanImage();
        int plane = base * base;
        long outPlane = (long) size * size * Float.BYTES;
        for (int ch = 0; ch < 3; ch++) {
            int shift = 16 - 8 * ch;
            float add = noise == null ? 0f : noise[ch];
            long planeOff = off + ch * outPlane;
            for (int y = 0; y < size; y++) {
                int srcRow = (c.y() + y) * base + c.x();
                long row = planeOff + (long) y * size * Float.BYTES;
                for (int x = 0; x < size; x++) {
                    int p = srcRow + (c.flip() ? size - 1 - x : x);
                    float v = ((img[p] >> shift) & 0xff) - mean[ch * plane + p] + add;
                    dst.set(JAVA_FLOAT, row + (long) x * Float.BYTES, v);
                }
            }
        }
    }
}
