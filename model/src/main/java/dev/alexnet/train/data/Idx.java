package dev.alexnet.train.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * IDX files (the MNIST format: big-endian header {@code 0 0 type ndims}, {@code ndims} int32 dimensions, then
 * the data), plain or gzip-compressed (recognised by the gzip magic). Only unsigned bytes (type 0x08) are read:
 * images as {@code [n, rows, cols]}, labels as {@code [n]}.
 */
public final class Idx {
    private Idx() {}

    /** {@code count} grey images of {@code rows x cols} bytes, row-major, one after another. */
    public record Images(int count, int rows, int cols, byte[] pixels) {}

    public static Images readImages(Path file) {
        byte[] b = readAll(file);
        int[] dims = header(file, b, 3, "images");
        long bytes = (long) dims[0] * dims[1] * dims[2];
        byte[] px = payload(file, b, 4 + 4 * 3, bytes, dims[0] + " images of " + dims[1] + "x" + dims[2]);
        return new Images(dims[0], dims[1], dims[2], px);
    }

    public static byte[] readLabels(Path file) {
        byte[] b = readAll(file);
        int[] dims = header(file, b, 1, "labels");
        return payload(file, b, 4 + 4, dims[0], dims[0] + " labels");
    }

    private static byte[] readAll(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                try (InputStream in = new GZIPInputStream(raw, 1 << 16)) {
                    return in.readAllBytes();
                }
            }
            return raw.readAllBytes();
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (EOFException e) {
            throw new DataException(file + ": truncated gzip stream", e);
        } catch (ZipException e) {
            throw new DataException(file + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        } catch (IOException | OutOfMemoryError e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static int[] header(Path file, byte[] b, int ndims, String what) {
        if (b.length < 4) throw new DataException(file + ": truncated IDX header (" + b.length + " bytes)");
        int magic = readInt(b, 0);
        int expected = 0x0800 | ndims;
        if (magic != expected) {
            throw new DataException(file + String.format(": wrong IDX magic 0x%08x, expected 0x%08x (unsigned bytes, %d dimension%s: %s)",
                    magic, expected, ndims, ndims == 1 ? "" : "s", what));
        }
        if (b.length < 4 + 4 * ndims) throw new DataException(file + ": truncated IDX header (" + b.length + " bytes)");
        int[] dims = new int[ndims];
        for (int d = 0; d < ndims; d++) {
            dims[d] = readInt(b, 4 + 4 * d);
            if (dims[d] <= 0) throw new DataException(file + ": IDX dimension " + d + " is " + dims[d] + ", expected a positive size");
        }
        return dims;
    }

    private static byte[] payload(Path file, byte[] b, int start, long bytes, String what) {
        long have = b.length - start;
        if (have < bytes) throw new DataException(file + ": truncated: header says " + what + " (" + bytes + " bytes), file holds " + have);
        if (have > bytes) throw new DataException(file + ": " + (have - bytes) + " bytes after the " + what + " the header announces");
        byte[] out = new byte[(int) bytes];
        System.arraycopy(b, start, out, 0, out.length);
        return out;
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
