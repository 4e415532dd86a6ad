package dev.alexnet.train.data;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Fixed, already preprocessed tensors: {@code X.npy} float32 {@code [N, 3, S, S]} (little-endian, C order) and
 * {@code labels.npy} int32 or int64 {@code [N]}. {@code X} is memory-mapped (files over 2 GiB are fine) and
 * copied per image; the labels are read into memory. {@link Augment#NONE} (the default) copies the image as
 * stored; {@link Augment#PAPER} can only flip it horizontally (with probability 1/2), since there is no larger
 * image to crop from and no known pixel scale for colour noise; likewise the test crops are the image itself
 * (0-4) and its mirror image (5-9).
 */
public final class NpyDataset implements Dataset {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Classes a label file may imply (ImageNet-21k has 21,841). */
    public static final int MAX_CLASSES = 100_000;

    private final Arena arena;
    private final MemorySegment x;
    private final int[] labels;
    private final List<String> names;
    private final int n, size;
    private final long imageBytes;

    private NpyDataset(Arena arena, MemorySegment x, int[] labels, List<String> names, int size) {
        this.arena = arena;
        this.x = x;
        this.labels = labels;
        this.names = names;
        this.n = labels.length;
        this.size = size;
        this.imageBytes = 3L * size * size * Float.BYTES;
    }

    /** Classes named "0", "1", ... up to the largest label. */
    public static NpyDataset open(Path images, Path labels) {
        return open(images, labels, null);
    }

    /** With class names (labels must be below their count); null names the classes by number. */
    public static NpyDataset open(Path images, Path labelFile, List<String> classNames) {
        Header lh = header(labelFile);
        if (!lh.descr.equals("<i4") && !lh.descr.equals("<i8")) {
            throw new DataException(labelFile + ": dtype '" + lh.descr + "', expected int32 '<i4' or int64 '<i8'");
        }
        if (lh.shape.length != 1) throw new DataException(labelFile + ": shape " + lh.shapeText() + ", expected [N]");
        int[] labels = readLabels(labelFile, lh);
        int max = IntStream.of(labels).max().orElse(-1);
        if (classNames == null && max >= MAX_CLASSES) {
            // without names the classes are 0..max: a stray huge label would make that many (fc8 rows, name strings)
            throw new DataException(labelFile + ": label " + max + " implies " + (max + 1L) + " classes; at most " + MAX_CLASSES
                    + " are supported (labels are class indices 0..classes-1)");
        }
        List<String> names = classNames != null ? List.copyOf(classNames)
                : IntStream.rangeClosed(0, max).mapToObj(Integer::toString).toList();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= names.size()) {
                throw new DataException(labelFile + ": label " + labels[i] + " of image " + i + " is out of range (" + names.size() + " classes)");
            }
        }
        Header xh = header(images);
        if (!xh.descr.equals("<f4")) throw new DataException(images + ": dtype '" + xh.descr + "', expected float32 '<f4'");
        long[] s = xh.shape;
        if (s.length != 4 || s[1] != 3 || s[2] != s[3] || s[2] <= 0) {
            throw new DataException(images + ": shape " + xh.shapeText() + ", expected [N, 3, S, S]");
        }
        if (s[0] != labels.length) throw new DataException(images + ": " + s[0] + " images for " + labels.length + " labels in " + labelFile);
        long bytes = s[0] * 3 * s[2] * s[3] * Float.BYTES;
        if (xh.fileSize - xh.dataStart != bytes) {
            throw new DataException(images + ": shape " + xh.shapeText() + " needs " + bytes + " data bytes, file has " + (xh.fileSize - xh.dataStart)
                    + (xh.fileSize - xh.dataStart < bytes ? " (truncated)" : ""));
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(images, StandardOpenOption.READ)) {
            MemorySegment x = ch.map(FileChannel.MapMode.READ_ONLY, xh.dataStart, bytes, arena);
            return new NpyDataset(arena, x, labels, names, (int) s[2]);
        } catch (IOException e) {
            arena.close();
            throw new DataException(images + ": cannot map (" + e.getMessage() + ")", e);
        }
    }

    private record Header(String descr, long[] shape, long dataStart, long fileSize) {
        String shapeText() { return java.util.Arrays.toString(shape); }
    }

    private static Header header(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(pre, 0);
            if (pre.position() < 10) throw new DataException(file + ": too short for a .npy file");
            byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
            for (int i = 0; i < magic.length; i++) {
                if (pre.get(i) != magic[i]) throw new DataException(file + ": not a .npy file (bad magic)");
            }
            int major = pre.get(6);
            long len;
            int start;
            if (major == 1) {
                len = pre.getShort(8) & 0xffff;
                start = 10;
            } else if (major == 2 || major == 3) {
                if (pre.position() < 12) throw new DataException(file + ": truncated .npy header");
                len = pre.getInt(8) & 0xffffffffL;
                start = 12;
            } else {
                throw new DataException(file + ": unsupported .npy version " + major);
            }
            if (start + len > fileSize || len > 1 << 20) throw new DataException(file + ": truncated .npy header");
            ByteBuffer hb = ByteBuffer.allocate((int) len);
            ch.read(hb, start);
            String h = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            String descr = group(DESCR, h, file, "descr");
            if (group(FORTRAN, h, file, "fortran_order").equals("True")) {
                throw new DataException(file + ": Fortran-ordered array, expected C order (save np.ascontiguousarray(arr))");
            }
            List<Long> dims = new ArrayList<>();
            String shape = group(SHAPE, h, file, "shape");
            for (String d : shape.split(",")) {
                if (d.isBlank()) continue;
                try {
                    long v = Long.parseLong(d.strip().replace("L", ""));
                    if (v <= 0) throw new DataException(file + ": shape (" + printable(shape) + ") has a dimension " + v + " (empty arrays are not supported)");
                    dims.add(v);
                } catch (NumberFormatException e) {
                    throw new DataException(file + ": bad dimension '" + printable(d.strip()) + "' in .npy shape", e);
                }
            }
            return new Header(printable(descr), dims.stream().mapToLong(Long::longValue).toArray(), start + len, fileSize);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Header text fit for a one-line message: control and non-ASCII characters as '?', at most 60 characters. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 60; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > 60 ? b + "..." : b.toString();
    }

    private static String group(Pattern p, String header, Path file, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new DataException(file + ": .npy header has no '" + key + "'");
        return m.group(1);
    }

    private static int[] readLabels(Path file, Header h) {
        long count = h.shape[0];
        int width = h.descr.equals("<i4") ? 4 : 8;
        if (count > Integer.MAX_VALUE - 8) throw new DataException(file + ": " + count + " labels are too many");
        long bytes = count * width;
        if (h.fileSize - h.dataStart != bytes) {
            throw new DataException(file + ": shape " + h.shapeText() + " needs " + bytes + " data bytes, file has " + (h.fileSize - h.dataStart)
                    + (h.fileSize - h.dataStart < bytes ? " (truncated)" : ""));
        }
        int[] out = new int[(int) count];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena a = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart, bytes, a);
            for (int i = 0; i < out.length; i++) {
                long v = width == 4 ? m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i)
                        : m.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8L * i);
                if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw new DataException(file + ": label " + v + " of image " + i + " is out of range");
                out[i] = (int) v;
            }
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return out;
    }

    @Override public int size() { return n; }
    @Override public int classes() { return names.size(); }
    @Override public List<String> classNames() { return names; }
    @Override public int label(int i) { return labels[Objects.checkIndex(i, n)]; }
    @Override public int imageSize() { return size; }
    @Override public Augment defaultAugment() { return Augment.NONE; }

    @Override
    public void write(int i, MemorySegment dst, long off, Augment aug, SplittableRandom rng) {
        Objects.checkIndex(i, n);
        copy(i, aug == Augment.PAPER && Crops.random(size, size, rng).flip(), dst, off);
    }

    @Override
    public void writeTestCrop(int i, int crop, MemorySegment dst, long off) {
        Objects.checkIndex(i, n);
        copy(i, Crops.test(crop, size, size).flip(), dst, off);
    }

    private void copy(int i, boolean flip, MemorySegment dst, long off) {
        long src = i * imageBytes;
        if (!flip) {
            MemorySegment.copy(x, LE_FLOAT, src, dst, JAVA_FLOAT, off, imageBytes / Float.BYTES);
            return;
        }
        int rows = 3 * size;
        for (int r = 0; r < rows; r++) {
            long s = src + (long) r * size * Float.BYTES, d = off + (long) r * size * Float.BYTES;
            for (int c = 0; c < size; c++) dst.set(JAVA_FLOAT, d + (long) c * Float.BYTES, x.get(LE_FLOAT, s + (long) (size - 1 - c) * Float.BYTES));
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
