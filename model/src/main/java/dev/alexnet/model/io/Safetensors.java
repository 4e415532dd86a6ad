package dev.alexnet.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * {@code {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}},
 * then the raw little-endian data, offsets counted from the end of the header.
 *
 * <p>{@link #read} memory-maps the file into the caller's arena: tensors are views of the mapping, no copy
 * (except a tensor whose offset is not 4-byte aligned, which a conforming writer never produces; it is
 * copied to aligned memory). Every claim of the header is checked against the file before any tensor
 * is handed out. Only F32 is accepted: this project computes in float32.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Headers beyond this are not weight files (the format's own reader uses 100 MB). */
    static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** Maps {@code file} into {@code arena} and returns its tensors by name, in file order. */
    public static Map<String, Tensor> read(Path file, Arena arena) {
        if (!ByteOrder.nativeOrder().equals(ByteOrder.LITTLE_ENDIAN)) throw new UnsupportedOperationException("big-endian hosts are not supported");
        MemorySegment map;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new WeightFileException(file + ": " + size + " bytes is too short for a safetensors file (it starts with an 8-byte header length)");
            map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new WeightFileException(file + ": no such file", e);
        } catch (IOException e) {
            throw new WeightFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        long size = map.byteSize();
        long headerLen = map.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
            throw new WeightFileException(file + ": header length " + headerLen + " is impossible for a file of " + size
                    + " bytes (truncated, or not a safetensors file)");
        }
        JsonNode header;
        try {
            byte[] bytes = map.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            header = JSON.readTree(new String(bytes, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            throw new WeightFileException(file + ": header is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (header == null || !header.isObject()) throw new WeightFileException(file + ": header is not a JSON object");
        long dataStart = 8 + headerLen, dataSize = size - dataStart;
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            if (name.equals("__metadata__")) continue;
            JsonNode info = e.getValue();
            String where = file + ": tensor '" + name + "'";
            String dtype = info.path("dtype").asText("");
            if (!dtype.equals("F32")) throw new WeightFileException(where + " has dtype " + (dtype.isEmpty() ? "(none)" : dtype)
                    + ", expected F32 (convert with tensor.float() before saving)");
            int[] shape = intArray(info.get("shape"), where + " shape");
            long[] off = longArray(info.get("data_offsets"), where + " data_offsets");
            if (off.length != 2 || off[0] < 0 || off[1] < off[0]) throw new WeightFileException(where + ": bad data_offsets " + Arrays.toString(off));
            if (off[1] > dataSize) throw new WeightFileException(where + " ends at byte " + off[1] + " of the data section but the file holds only "
                    + dataSize + " data bytes: the file is truncated");
            long n = 1;
            for (int d : shape) {
                if (d < 0) throw new WeightFileException(where + ": negative dimension in " + Arrays.toString(shape));
                n = d == 0 || n <= Long.MAX_VALUE / Float.BYTES / d ? n * d : -1; // -1: the byte size would overflow a long
                if (n < 0) throw new WeightFileException(where + ": shape " + Arrays.toString(shape) + " is impossibly large");
            }
            if (off[1] - off[0] != n * Float.BYTES) throw new WeightFileException(where + ": shape " + Arrays.toString(shape) + " needs "
                    + n * Float.BYTES + " bytes but data_offsets span " + (off[1] - off[0]));
            if (n == 0 || shape.length == 0) throw new WeightFileException(where + ": empty or scalar tensors are not supported");
            ranges.add(new long[] {off[0], off[1], out.size()}); // [begin, end, index of the name in `out`]
            MemorySegment seg = map.asSlice(dataStart + off[0], off[1] - off[0]);
            if ((seg.address() & 3) != 0) { // misaligned writer: copy once into aligned memory
                MemorySegment aligned = arena.allocate(seg.byteSize(), 64);
                aligned.copyFrom(seg);
                seg = aligned;
            }
            out.put(name, Tensor.wrap(seg, shape));
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
                List<String> names = new ArrayList<>(out.keySet());
                long[] a = ranges.get(i - 1), b = ranges.get(i);
                throw new WeightFileException(file + ": tensors '" + names.get((int) a[2]) + "' " + Arrays.toString(Arrays.copyOf(a, 2))
                        + " and '" + names.get((int) b[2]) + "' " + Arrays.toString(Arrays.copyOf(b, 2))
                        + " overlap in the data section (the header lies)");
            }
        }
        return out;
    }

    private static int[] intArray(JsonNode node, String what) {
        long[] l = longArray(node, what);
        int[] r = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] > Integer.MAX_VALUE) throw new WeightFileException(what + ": dimension " + l[i] + " too large");
            r[i] = (int) l[i];
        }
        return r;
    }

    private static long[] longArray(JsonNode node, String what) {
        if (node == null || !node.isArray()) throw new WeightFileException(what + " is missing or not an array");
        long[] r = new long[node.size()];
        for (int i = 0; i < r.length; i++) {
            if (!node.get(i).canConvertToLong() || !node.get(i).isIntegralNumber()) throw new WeightFileException(what + " holds a non-integer: " + node);
            r[i] = node.get(i).asLong();
        }
        return r;
    }

    /** The string metadata ({@code __metadata__}) of a safetensors file, reading only its header. */
    public static Map<String, String> metadata(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining()) if (ch.read(len) < 0) throw new WeightFileException(file + ": too short for a safetensors file");
            long headerLen = len.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > ch.size()) {
                throw new WeightFileException(file + ": header length " + Long.toUnsignedString(headerLen) + " is impossible for a file of " + ch.size() + " bytes");
            }
            java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate((int) headerLen);
            while (h.hasRemaining()) if (ch.read(h) < 0) throw new WeightFileException(file + ": truncated header");
            JsonNode meta = JSON.readTree(new String(h.array(), StandardCharsets.UTF_8).strip()).path("__metadata__");
            Map<String, String> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
                var e = it.next();
                out.put(e.getKey(), e.getValue().asText());
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new WeightFileException(file + ": no such file", e);
        } catch (IOException e) {
            throw new WeightFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Writes {@code tensors} (F32) in map order with optional string metadata; the header is padded to 8 bytes. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", "F32");
            var shape = info.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long bytes = e.getValue().size() * Float.BYTES;
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING);
             Arena arena = Arena.ofConfined()) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip();
            while (len.hasRemaining()) ch.write(len);
            ByteBuffer hb = ByteBuffer.wrap(headerBytes);
            while (hb.hasRemaining()) ch.write(hb);
            long dataStart = 8 + padded;
            MemorySegment map = ch.map(FileChannel.MapMode.READ_WRITE, 0, dataStart + offset, arena);
            long pos = dataStart;
            for (Tensor t : tensors.values()) {
                MemorySegment.copy(t.data(), 0, map, pos, t.size() * Float.BYTES);
                pos += t.size() * Float.BYTES;
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
