package dev.alexnet.foundation;

import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors reader on broken files: every error names the file, the tensor where there is one, and the problem. */
class SafetensorsBadInputTest {
    @TempDir Path dir;
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() { arena.close(); }

    /** 8-byte little-endian header length (the real one unless {@code declaredLen} is given), the header, the data. */
    private Path file(String name, String header, byte[] data, Long declaredLen) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLen != null ? declaredLen : h.length).put(h).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path file(String name, String header, int dataBytes) throws IOException {
        return file(name, header, new byte[dataBytes], null);
    }

    /** Asserts the read fails with a message holding the file name and every one of {@code parts}. */
    private static void fails(Path file, Executable read, String... parts) {
        WeightFileException e = assertThrows(WeightFileException.class, read);
        String m = e.getMessage();
        assertTrue(m.contains(file.getFileName().toString()), "message does not name the file: " + m);
        for (String p : parts) assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
    }

    private void readFails(Path file, String... parts) {
        fails(file, () -> Safetensors.read(file, arena), parts);
    }

    @Test
    void tooShortForTheLengthPrefix() throws IOException {
        Path p = dir.resolve("tiny.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        readFails(p, "too short");
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("nowhere.safetensors");
        readFails(p, "no such file");
    }

    @Test
    void headerLengthLargerThanTheFile() throws IOException {
        Path p = file("long-header.safetensors", "{}", new byte[16], 1000L);
        readFails(p, "header length 1000", "26 bytes", "truncated");
        Path neg = file("negative-header.safetensors", "{}", new byte[16], -16L); // 2^64 - 16 as unsigned
        readFails(neg, "header length 18446744073709551600", "limit");
        Path top = file("top-bit.safetensors", "{}", new byte[16], Long.MIN_VALUE);
        readFails(top, "header length 9223372036854775808", "limit");
    }

    @Test
    void headerBeyondTheFormatsLimit() throws IOException {
        // the reference reader refuses headers over 100,000,000 bytes whatever the file size
        readFails(file("big-header.safetensors", "{}", new byte[16], 100_000_001L), "header length 100000001", "limit of 100000000");
    }

    @Test
    void duplicateNamesAreRefused() throws IOException {
        Path p = file("twice.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8);
        readFails(p, "names a tensor twice", "'w'");
    }

    @Test
    void holesAndTrailingBytesAreRefused() throws IOException {
        readFails(file("gap.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12), "[4, 8)", "belong to no tensor", "after 'a'");
        readFails(file("late-start.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8),
                "[0, 4)", "must start at 0");
        readFails(file("trailing.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 12),
                "end at byte 4", "holds 12 data bytes", "trailing");
        readFails(file("nothing.safetensors", "{}", 4), "end at byte 0", "trailing");
    }

    @Test
    void aDirectoryOrAnUnreadableFileSaysWhy() throws IOException {
        Path d = Files.createDirectory(dir.resolve("weights.safetensors"));
        readFails(d, "is a directory");
        Path p = file("locked.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4);
        assertTrue(p.toFile().setReadable(false, false));
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(p), "running as root: permissions do not apply");
        readFails(p, "permission denied");
    }

    @Test
    void tensorsLiveInOwnedAlignedMemoryNotAMapping() throws IOException {
        Path p = dir.resolve("owned.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("a", Tensor.of(arena, new float[] {1, 2, 3}, 3));
        t.put("b", Tensor.of(arena, new float[] {4, 5}, 2));
        Safetensors.write(p, t, null);
        Map<String, Tensor> back = Safetensors.read(p, arena);
        assertFalse(back.get("a").data().isMapped(), "a mapping of the file");
        assertEquals(0, back.get("a").data().address() % 64);
        Files.write(p, new byte[0]); // the file emptied under the loaded tensors: they keep their values
        assertArrayEquals(new float[] {1, 2, 3}, back.get("a").toArray());
        assertArrayEquals(new float[] {4, 5}, back.get("b").toArray());
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        readFails(file("garbage.safetensors", "{\"x\": {\"dtype\": \"F32\", ", 8), "not valid JSON");
        readFails(file("array.safetensors", "[1, 2, 3]", 8), "not a JSON object");
    }

    @Test
    void wrongDtype() throws IOException {
        Path p = file("half.safetensors", "{\"w\": {\"dtype\": \"F16\", \"shape\": [2, 2], \"data_offsets\": [0, 8]}}", 8);
        readFails(p, "'w'", "F16", "expected F32");
        Path none = file("nodtype.safetensors", "{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
        readFails(none, "'w'", "dtype (none)");
    }

    @Test
    void badShapeOrOffsetsFields() throws IOException {
        readFails(file("noshape.safetensors", "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", 8), "'w'", "shape", "missing");
        readFails(file("floatshape.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8),
                "'w'", "non-integer");
        readFails(file("negdim.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [-2, -1], \"data_offsets\": [0, 8]}}", 8),
                "'w'", "negative dimension");
        readFails(file("huge.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647, 2147483647], \"data_offsets\": [0, 8]}}", 8),
                "'w'", "impossibly large");
        readFails(file("reversed.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8),
                "'w'", "bad data_offsets");
        readFails(file("threeoffsets.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4, 8]}}", 8),
                "'w'", "bad data_offsets");
        readFails(file("empty.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}", 8),
                "'w'", "empty or scalar");
    }

    @Test
    void dataOffsetsThatLieAboutTheSpan() throws IOException {
        Path p = file("span.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 24);
        readFails(p, "'w'", "[2, 3]", "needs 24 bytes", "span 20");
    }

    @Test
    void dataOffsetsThatOverlap() throws IOException {
        Path p = file("overlap.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [6], \"data_offsets\": [0, 24]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [6], \"data_offsets\": [16, 40]}}", 40);
        readFails(p, "overlap", "'a'", "'b'");
    }

    @Test
    void dataOffsetsBeyondTheEnd() throws IOException {
        Path p = file("beyond.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [6], \"data_offsets\": [0, 24]}}", 16);
        readFails(p, "'w'", "ends at byte 24", "16 data bytes", "truncated");
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = dir.resolve("cut.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("first", Tensor.of(arena, new float[] {1, 2, 3, 4}, 2, 2));
        t.put("second", Tensor.of(arena, new float[] {5, 6, 7}, 3));
        Safetensors.write(p, t, null);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length - 5));
        readFails(p, "'second'", "truncated");
        // cut inside the header itself
        Files.write(p, Arrays.copyOf(all, 20));
        readFails(p, "header length", "truncated");
    }

    @Test
    void roundTrip() throws IOException {
        Path p = dir.resolve("round.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("conv.weight", Tensor.of(arena, new float[] {1.5f, -2, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 7, 8, 9}, 2, 1, 2, 2));
        t.put("conv.bias", Tensor.of(arena, new float[] {0.25f, Float.NaN}, 2));
        t.put("z", Tensor.of(arena, new float[] {3}, 1));
        Safetensors.write(p, t, Map.of("format", "pt", "note", "round \"trip\""));
        byte[] bytes = Files.readAllBytes(p);
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLen) % 8, "the data section starts 8-byte aligned");
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"__metadata__\"") && header.contains("round \\\"trip\\\""), header);
        Map<String, Tensor> back = Safetensors.read(p, arena);
        assertEquals(List.copyOf(t.keySet()), List.copyOf(back.keySet()), "names in file order");
        for (String name : t.keySet()) {
            assertArrayEquals(t.get(name).shape(), back.get(name).shape(), name);
            assertEquals(-1, t.get(name).data().mismatch(back.get(name).data()), name + " bytes");
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.filter(f -> f.toString().endsWith(".tmp")).count(), "no temporary file left behind");
        }
    }

    // ------------------------------------------------------------ the AlexNet weights on top of it

    /** A sparse file holding every AlexNet tensor (zeros), with {@code shapes} overriding some shapes; no 244 MB written. */
    private Path sparseAlexNet(String name, Map<String, int[]> shapes, List<String> omit) throws IOException {
        StringJoiner header = new StringJoiner(", ", "{", "}");
        long offset = 0;
        for (String t : AlexNetSpec.paramNames()) {
            if (omit.contains(t)) continue;
            int[] shape = shapes.getOrDefault(t, AlexNetSpec.paramShape(t));
            long bytes = 4;
            for (int d : shape) bytes *= d;
            header.add("\"" + t + "\": {\"dtype\": \"F32\", \"shape\": " + Arrays.toString(shape) + ", \"data_offsets\": [" + offset + ", " + (offset + bytes) + "]}");
            offset += bytes;
        }
        String hs = header.toString();
        String padded = hs + " ".repeat((8 - hs.length() % 8) % 8); // data 8-aligned: mapped, not copied
        byte[] h = padded.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.setLength(8 + h.length + offset);
        }
        return p;
    }

    @Test
    void alexNetWeightsMissingTensor() throws IOException {
        Path p = sparseAlexNet("no-fc8-bias.safetensors", Map.of(), List.of("fc8.bias"));
        fails(p, () -> AlexNetWeights.load(p), "'fc8.bias'", "missing", "[classes]");
    }

    @Test
    void alexNetWeightsWrongShape() throws IOException {
        // the ungrouped conv2 (CaffeNet-style single column) is a realistic mistake
        Path p = sparseAlexNet("ungrouped.safetensors", Map.of("conv2.weight", new int[] {256, 96, 5, 5}), List.of());
        fails(p, () -> AlexNetWeights.load(p), "'conv2.weight'", "[256, 96, 5, 5]", "expected [256, 48, 5, 5]");
    }

    @Test
    void alexNetWeightsWithNaNOrInfinityAreRefused() throws IOException {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            Path p = sparseAlexNet("bad.safetensors", Map.of(), List.of());
            long at = tensorStart(p, "conv2.weight") + 4L * 17;
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.seek(at);
                f.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(bad).array());
            }
            WeightFileException e = assertThrows(WeightFileException.class, () -> AlexNetWeights.load(p));
            String m = e.getMessage();
            assertTrue(m.contains("'conv2.weight'") && m.contains(Float.toString(bad)) && m.contains("index 17") && m.contains("finite"), m);
            assertFalse(m.contains("\n"), m);
        }
    }

    /** File offset of tensor {@code name}'s first byte. */
    private static long tensorStart(Path p, String name) throws IOException {
        byte[] head = new byte[8];
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            f.readFully(head);
            long len = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] h = new byte[(int) len];
            f.readFully(h);
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(h);
            return 8 + len + node.get(name).get("data_offsets").get(0).asLong();
        }
    }

    @Test
    void alexNetWeightsLoadFromAFileWithAllTensors() throws IOException {
        Path p = sparseAlexNet("zeros.safetensors", Map.of(), List.of());
        try (AlexNetWeights w = AlexNetWeights.load(p)) {
            assertEquals("file zeros.safetensors", w.origin());
            List<String> names = new ArrayList<>(w.tensors().keySet());
            assertEquals(AlexNetSpec.paramNames(), names);
            assertEquals(0f, w.get("fc6.weight").get(4096L * 9216 - 1));
        }
    }
}
