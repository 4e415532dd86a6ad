package dev.alexnet.model.io;

import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files holding little-endian float32 ({@code <f4}) in C order: inputs and outputs
 * of the command line, and the golden files of the tests. Versions 1.0-3.0 are read; 1.0 is written.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Bytes per channel call: a ByteBuffer view holds at most 2^31 - 1. */
    private static final long CHUNK = 1L << 30;

    private Npy() {}

    /** The largest header this reader accepts: numpy writes a few hundred bytes; 2.0+ headers may be longer, never megabytes. */
    static final long MAX_HEADER = 1 << 20;

    /**
     * Reads a float32 array into {@code arena} (64-byte aligned), streaming the data from the file (no
     * whole-file byte array, so arrays over 2 GiB are read). The shape is checked against the file's size
     * with overflow-checked arithmetic before anything is allocated: a file cannot make this allocate more
     * than its own size.
     */
    public static Tensor read(Path file, Arena arena) {
        if (Files.isDirectory(file)) throw new WeightFileException(file + ": is a directory, expected a .npy file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch, arena);
        } catch (IOException e) {
            throw new WeightFileException(file + ": " + IoErrors.reason(e), e);
        }
    }

    private static Tensor read(Path file, FileChannel ch, Arena arena) throws IOException {
        long size = ch.size();
        if (size < 10) throw new WeightFileException(file + ": too short for a .npy file");
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        pre.limit((int) Math.min(12, size));
        readFully(file, ch, pre, 0);
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre.get(i) != MAGIC[i]) throw new WeightFileException(file + ": not a .npy file (bad magic)");
        }
        int major = pre.get(6);
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = pre.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (size < 12) throw new WeightFileException(file + ": truncated .npy header");
            headerLen = pre.getInt(8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new WeightFileException(file + ": unsupported .npy version " + (major & 0xff));
        }
        if (headerLen > MAX_HEADER) throw new WeightFileException(file + ": .npy header of " + headerLen + " bytes (at most " + MAX_HEADER + " accepted)");
        if (headerStart + headerLen > size) throw new WeightFileException(file + ": truncated .npy header");
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(file, ch, hb, headerStart);
        String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, "descr");
        if (!descr.equals("<f4") && !descr.equals("=f4")) {
            throw new WeightFileException(file + ": dtype '" + printable(descr) + "', expected float32 '<f4' (save with arr.astype(np.float32))");
        }
        if (group(FORTRAN, header, file, "fortran_order").equals("True")) {
            throw new WeightFileException(file + ": Fortran-ordered array, expected C order (save np.ascontiguousarray(arr))");
        }
        List<Integer> dims = new ArrayList<>();
        for (String d : group(SHAPE, header, file, "shape").split(",")) {
            if (d.isBlank()) continue;
            int dim;
            try {
                dim = Integer.parseInt(d.strip());
            } catch (NumberFormatException e) {
                throw new WeightFileException(file + ": bad dimension '" + printable(d.strip()) + "' in .npy shape: " + printable(header), e);
            }
            if (dim <= 0) throw new WeightFileException(file + ": shape " + printable(header) + " has a dimension " + dim + " (empty arrays are not supported)");
            dims.add(dim);
        }
        if (dims.isEmpty()) throw new WeightFileException(file + ": scalar arrays are not supported");
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        long dataStart = headerStart + headerLen, dataBytes = size - dataStart;
        long bytes = Float.BYTES;
        for (int d : shape) {
            if (bytes > Long.MAX_VALUE / d) {
                throw new WeightFileException(file + ": shape " + dims + " is impossibly large (its byte size overflows 64 bits); the file has "
                        + dataBytes + " data bytes");
            }
            bytes *= d;
        }
        if (dataBytes != bytes) {
            throw new WeightFileException(file + ": shape " + dims + " needs " + bytes + " data bytes, file has "
                    + dataBytes + (dataBytes < bytes ? " (truncated)" : ""));
        }
        Tensor t = Tensor.allocate(arena, shape);
        for (long pos = 0; pos < bytes; pos += CHUNK) {
            readFully(file, ch, t.data().asSlice(pos, Math.min(CHUNK, bytes - pos)).asByteBuffer(), dataStart + pos);
        }
        return t;
    }

    /** Fills {@code buf} from {@code position}; a file that ends early (it shrank while being read) is a clean error. */
    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new WeightFileException(file + ": the file ended at byte " + pos + " while it was read (truncated meanwhile)");
            pos += n;
        }
    }

    /** Header text fit for a terminal: control and non-ASCII characters escaped, at most 200 characters. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) b.append(c);
            else if (c == '\n' || c == '\r' || c == '\t') b.append(' ');
            else b.append(c <= 0xff ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
        }
        return b.toString().strip() + (i < s.length() ? "..." : "");
    }

    private static String group(Pattern p, String header, Path file, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new WeightFileException(file + ": .npy header has no '" + key + "': " + printable(header));
        return m.group(1);
    }

    /** Writes {@code t} as a version 1.0 {@code <f4} C-order array, atomically (see {@link AtomicFiles}). */
    public static void write(Path file, Tensor t) throws IOException {
        StringBuilder shape = new StringBuilder("(");
        for (int d : t.shape()) shape.append(d).append(", ");
        if (t.rank() > 1) shape.setLength(shape.length() - 2);
        else shape.setLength(shape.length() - 1);
        shape.append(")");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer head = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1)).flip();
        long bytes = t.size() * Float.BYTES;
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            for (long pos = 0; pos < bytes; pos += CHUNK) {
                AtomicFiles.writeFully(ch, t.data().asSlice(pos, Math.min(CHUNK, bytes - pos)).asByteBuffer());
            }
        });
    }
}
