package dev.alexnet.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * <p>{@link #read} copies the data section into memory the caller's arena owns (one 64-byte aligned
 * segment; tensors are views of it), never a mapping of the file: native code (oneDNN's weight reorder)
 * reads weights long after loading, and a mapping of a file that is truncated or rewritten meanwhile
 * kills the JVM with SIGBUS. The rules of the reference reader hold: a header of at most 100,000,000
 * bytes, no duplicate names, sizes computed with overflow checks, tensors contiguous from offset 0 with
 * no holes and the data ending exactly at the end of the file. Only F32 is accepted: this project
 * computes in float32.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /** Headers beyond this are not weight files (the reference reader's limit). */
    static final long MAX_HEADER = 100_000_000L;
    /** Bytes per read call: a ByteBuffer view holds at most 2^31 - 1. */
    private static final long CHUNK = 1L << 30;

    private Safetensors() {}

    /** Reads {@code file} into {@code arena} and returns its tensors by name, in file order. */
    public static Map<String, Tensor> read(Path file, Arena arena) {
        if (!ByteOrder.nativeOrder().equals(ByteOrder.LITTLE_ENDIAN)) throw new UnsupportedOperationException("big-endian hosts are not supported");
        if (Files.isDirectory(file)) throw new WeightFileException(file + ": is a directory, expected a safetensors file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch, arena);
        } catch (IOException e) {
            throw new WeightFileException(file + ": " + IoErrors.reason(e), e);
        }
    }

    private static Map<String, Tensor> read(Path file, FileChannel ch, Arena arena) throws IOException {
        long size = ch.size();
        if (size < 8) throw new WeightFileException(file + ": " + size + " bytes is too short for a safetensors file (it starts with an 8-byte header length)");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        String len = Long.toUnsignedString(headerLen); // an unsigned u64 in the format
        if (headerLen < 0 || headerLen > MAX_HEADER) {
            throw new WeightFileException(file + ": header length " + len + " is beyond the format's limit of " + MAX_HEADER
                    + " bytes (not a safetensors file)");
        }
        if (headerLen == 0 || 8 + headerLen > size) {
            throw new WeightFileException(file + ": header length " + len + " is impossible for a file of " + size
                    + " bytes (truncated, or not a safetensors file)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(file, ch, hb, 8);
        JsonNode header;
        try {
            header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            if (why != null && why.startsWith("Duplicate field")) {
                throw new WeightFileException(file + ": the header names a tensor twice (" + oneLine(why) + ")", e);
            }
            throw new WeightFileException(file + ": header is not valid JSON (" + oneLine(why) + ")", e);
        }
        if (header == null || !header.isObject()) throw new WeightFileException(file + ": header is not a JSON object");
        long dataStart = 8 + headerLen, dataSize = size - dataStart;
        record Entry(String name, int[] shape, long begin, long end) {}
        List<Entry> entries = new ArrayList<>();
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
            long bytes = Float.BYTES;
            for (int d : shape) {
                if (d < 0) throw new WeightFileException(where + ": negative dimension in " + Arrays.toString(shape));
                try {
                    bytes = Math.multiplyExact(bytes, d);
                } catch (ArithmeticException overflow) {
                    throw new WeightFileException(where + ": shape " + Arrays.toString(shape) + " is impossibly large");
                }
            }
            if (off[1] - off[0] != bytes) throw new WeightFileException(where + ": shape " + Arrays.toString(shape) + " needs "
                    + bytes + " bytes but data_offsets span " + (off[1] - off[0]));
            if (bytes == 0 || shape.length == 0) throw new WeightFileException(where + ": empty or scalar tensors are not supported");
            entries.add(new Entry(name, shape, off[0], off[1]));
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort((a, b) -> Long.compare(a.begin, b.begin));
        long expected = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin < expected) {
                throw new WeightFileException(file + ": tensors '" + previous.name + "' [" + previous.begin + ", " + previous.end + "] and '"
                        + e.name + "' [" + e.begin + ", " + e.end + "] overlap in the data section (the header lies)");
            }
            if (e.begin > expected) {
                throw new WeightFileException(file + ": bytes [" + expected + ", " + e.begin + ") of the data section belong to no tensor"
                        + (previous == null ? " (the first tensor, '" + e.name + "', must start at 0)" : " (a hole after '" + previous.name + "')"));
            }
            expected = e.end;
            previous = e;
        }
        if (expected != dataSize) {
            throw new WeightFileException(file + ": the tensors end at byte " + expected + " of the data section but the file holds "
                    + dataSize + " data bytes (trailing bytes after the last tensor)");
        }
        MemorySegment data = arena.allocate(Math.max(1, dataSize), 64);
        for (long pos = 0; pos < dataSize; pos += CHUNK) {
            readFully(file, ch, data.asSlice(pos, Math.min(CHUNK, dataSize - pos)).asByteBuffer(), dataStart + pos);
        }
        if (ch.size() != size) throw new WeightFileException(file + ": the file changed size while it was read (" + size + " -> " + ch.size() + " bytes)");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : entries) out.put(e.name, Tensor.wrap(data.asSlice(e.begin, e.end - e.begin), e.shape));
        return out;
    }

    /** Fills {@code buf} from {@code position}; a file that ends early (it shrank while being read) is a clean error. */
    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new WeightFileException(file + ": the file ended at byte " + pos + " while it was read (truncated or rewritten meanwhile)");
            pos += n;
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").strip();
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
        } catch (java.nio.file.NoSuchFileException e) {
            throw new WeightFileException(file + ": no such file", e);
        } catch (IOException e) {
            throw new WeightFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Writes {@code tensors} (F32) in map order with optional string metadata, atomically (see {@link AtomicFiles});
     * the header is padded to 8 bytes.
     */
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
        long total = offset;
        AtomicFiles.write(file, ch -> { // channel writes, not a mapping: a full disk is an IOException, not an InternalError
            AtomicFiles.writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip());
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(headerBytes));
            for (Tensor t : tensors.values()) {
                long bytes = t.size() * Float.BYTES;
                for (long pos = 0; pos < bytes; pos += CHUNK) {
                    AtomicFiles.writeFully(ch, t.data().asSlice(pos, Math.min(CHUNK, bytes - pos)).asByteBuffer());
                }
            }
            if (ch.size() != 8 + padded + total) throw new IOException("wrote " + ch.size() + " bytes, expected " + (8 + padded + total));
        });
    }
}
