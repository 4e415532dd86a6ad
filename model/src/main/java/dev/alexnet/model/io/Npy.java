package dev.alexnet.model.io;

import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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

    /** Reads a float32 array into {@code arena} (64-byte aligned). */
    public static Tensor read(Path file, Arena arena) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new WeightFileException(file + ": no such file", e);
        } catch (IOException e) {
            throw new WeightFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        MemorySegment seg = MemorySegment.ofArray(bytes);
        if (bytes.length < 10) throw new WeightFileException(file + ": too short for a .npy file");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) throw new WeightFileException(file + ": not a .npy file (bad magic)");
        }
        int major = bytes[6];
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new WeightFileException(file + ": truncated .npy header");
            headerLen = seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new WeightFileException(file + ": unsupported .npy version " + major);
        }
        if (headerStart + headerLen > bytes.length) throw new WeightFileException(file + ": truncated .npy header");
        String header = new String(bytes, headerStart, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, "descr");
        if (!descr.equals("<f4") && !descr.equals("=f4")) {
            throw new WeightFileException(file + ": dtype '" + descr + "', expected float32 '<f4' (save with arr.astype(np.float32))");
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
                throw new WeightFileException(file + ": bad dimension '" + d.strip() + "' in .npy shape: " + header.strip(), e);
            }
            if (dim <= 0) throw new WeightFileException(file + ": shape " + header.strip() + " has a dimension " + dim + " (empty arrays are not supported)");
            dims.add(dim);
        }
        if (dims.isEmpty()) throw new WeightFileException(file + ": scalar arrays are not supported");
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        long n = 1;
        for (int d : shape) n *= d;
        long dataStart = headerStart + headerLen;
        if (bytes.length - dataStart != n * Float.BYTES) {
            throw new WeightFileException(file + ": shape " + dims + " needs " + n * Float.BYTES + " data bytes, file has "
                    + (bytes.length - dataStart) + (bytes.length - dataStart < n * Float.BYTES ? " (truncated)" : ""));
        }
        Tensor t = Tensor.allocate(arena, shape);
        MemorySegment.copy(seg, dataStart, t.data(), 0, n * Float.BYTES);
        return t;
    }

    private static String group(Pattern p, String header, Path file, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new WeightFileException(file + ": .npy header has no '" + key + "': " + header.strip());
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
