package dev.alexnet.foundation;

import dev.alexnet.model.io.Npy;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The .npy reader on broken files (each error names the file and the problem), and round trips. */
class NpyBadInputTest {
    @TempDir Path dir;
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() { arena.close(); }

    /** A version 1.0 or 2.0 .npy file with the given header dict and {@code dataBytes} bytes of data (floats 0,1,2,...). */
    private Path npy(String name, int major, String dict, int dataBytes) throws IOException {
        int prefix = major == 1 ? 10 : 12;
        int pad = (64 - (prefix + dict.length() + 1) % 64) % 64;
        byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(prefix + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) header.length); else b.putInt(header.length);
        b.put(header);
        for (int i = 0; i + 4 <= dataBytes; i += 4) b.putFloat(i / 4f);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    }

    private void fails(Path file, String... parts) {
        WeightFileException e = assertThrows(WeightFileException.class, () -> Npy.read(file, arena));
        String m = e.getMessage();
        assertTrue(m.contains(file.getFileName().toString()), "message does not name the file: " + m);
        for (String p : parts) assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
    }

    @Test
    void wrongMagic() throws IOException {
        Path p = dir.resolve("zip.npy");
        Files.write(p, "PK\u0003\u0004 this is a zip, perhaps an .npz".getBytes(StandardCharsets.ISO_8859_1));
        fails(p, "not a .npy file", "magic");
        Path tiny = dir.resolve("tiny.npy");
        Files.write(tiny, new byte[] {(byte) 0x93, 'N'});
        fails(tiny, "too short");
    }

    @Test
    void wrongDtype() throws IOException {
        fails(npy("double.npy", 1, dict("<f8", false, "(2, 3)"), 48), "'<f8'", "float32");
        fails(npy("bigendian.npy", 1, dict(">f4", false, "(2, 3)"), 24), "'>f4'", "float32");
        fails(npy("int.npy", 1, dict("<i4", false, "(6,)"), 24), "'<i4'");
    }

    @Test
    void fortranOrder() throws IOException {
        fails(npy("fortran.npy", 1, dict("<f4", true, "(2, 3)"), 24), "Fortran", "C order");
    }

    @Test
    void truncatedData() throws IOException {
        fails(npy("short.npy", 1, dict("<f4", false, "(2, 3)"), 20), "needs 24 data bytes", "has 20", "truncated");
        fails(npy("long.npy", 1, dict("<f4", false, "(2, 3)"), 28), "needs 24 data bytes", "has 28");
    }

    @Test
    void truncatedHeader() throws IOException {
        Path p = npy("cut-header.npy", 1, dict("<f4", false, "(2, 3)"), 24);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, 40));
        fails(p, "truncated .npy header");
    }

    @Test
    void headerMissingAKey() throws IOException {
        fails(npy("noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }", 0), "'shape'");
    }

    @Test
    void emptyOrUnreadableShape() throws IOException {
        fails(npy("empty.npy", 1, dict("<f4", false, "(0,)"), 0), "dimension 0", "empty");
        fails(npy("zero-rows.npy", 1, dict("<f4", false, "(3, 0)"), 0), "dimension 0");
        fails(npy("py2.npy", 1, dict("<f4", false, "(3L,)"), 12), "bad dimension '3L'");
        fails(npy("scalar.npy", 1, dict("<f4", false, "()"), 4), "scalar");
    }

    @Test
    void elementCountsThatOverflowAreRefused() throws IOException {
        // 4 * 2^30 * 2^30 * 4 floats: the byte count wraps to 0 in 64-bit arithmetic
        fails(npy("wrap.npy", 1, dict("<f4", false, "(4, 1073741824, 1073741824, 4)"), 0), "impossibly large", "overflows");
        fails(npy("huge.npy", 1, dict("<f4", false, "(2147483647, 2147483647, 2147483647)"), 8), "impossibly large");
        // a shape that fits 64 bits but not the file: refused before anything is allocated
        fails(npy("claims.npy", 1, dict("<f4", false, "(1000000, 1000000)"), 8), "needs 4000000000000 data bytes", "has 8", "truncated");
    }

    @Test
    void garbageInTheHeaderIsNotEchoedRaw() throws IOException {
        // escape sequences and bytes from a binary file must not reach the terminal as they are
        Path p = npy("garbage.npy", 1, "{'descr': '<f4', \u001b[2J\u001b]0;owned\u0007 \u00ff\u0000 'fortran_order': False, }", 0);
        WeightFileException e = assertThrows(WeightFileException.class, () -> Npy.read(p, arena));
        String m = e.getMessage();
        assertTrue(m.contains("'shape'") && m.contains("\\x1b[2J") && m.contains("\\x07") && m.contains("\\xff") && m.contains("\\x00"), m);
        for (char c : m.toCharArray()) assertTrue(c >= 0x20 && c < 0x7f, "raw character " + (int) c + " in: " + m);
        String longHeader = "{'descr': '<f4', 'fortran_order': False, 'junk': '" + "x".repeat(5000) + "', }";
        String m2 = assertThrows(WeightFileException.class, () -> Npy.read(npy("long-header.npy", 1, longHeader, 0), arena)).getMessage();
        assertTrue(m2.length() < 400 && m2.endsWith("..."), m2);
    }

    @Test
    void aDirectoryIsNamedAsOne() throws IOException {
        Path d = Files.createDirectory(dir.resolve("batch.npy"));
        fails(d, "is a directory");
        fails(dir.resolve("absent.npy"), "no such file");
    }

    @Test
    void unsupportedVersion() throws IOException {
        fails(npy("v9.npy", 9, dict("<f4", false, "(1,)"), 4), "version 9");
    }

    @Test
    void version2HeaderIsRead() throws IOException {
        Tensor t = Npy.read(npy("v2.npy", 2, dict("<f4", false, "(3,)"), 12), arena);
        assertArrayEquals(new float[] {0, 1, 2}, t.toArray());
    }

    @Test
    void roundTrip() throws IOException {
        for (int[] shape : new int[][] {{5}, {2, 3}, {1, 2, 3, 4}}) {
            int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (i - 3.5f) / 7;
            v[0] = Float.NaN;
            Path p = dir.resolve("rt" + shape.length + ".npy");
            Npy.write(p, Tensor.of(arena, v, shape));
            byte[] bytes = Files.readAllBytes(p);
            int headerLen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
            assertEquals(0, (10 + headerLen) % 64, "numpy aligns the data to 64 bytes");
            String header = new String(bytes, 10, headerLen, StandardCharsets.ISO_8859_1);
            assertTrue(header.endsWith("\n") && header.contains("'descr': '<f4'"), header);
            Tensor back = Npy.read(p, arena);
            assertArrayEquals(shape, back.shape());
            assertArrayEquals(v, back.toArray());
        }
        // numpy writes a 1-tuple as "(5,)"
        String header = new String(Files.readAllBytes(dir.resolve("rt1.npy")), 10, 54, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'shape': (5,)"), header);
    }
}
