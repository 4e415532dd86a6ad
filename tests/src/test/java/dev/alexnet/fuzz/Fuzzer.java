package dev.alexnet.fuzz;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A mutation fuzzer for the file readers: it takes a valid seed (or a corpus file), applies a few random
 * edits chosen for these formats (bit flips, boundary integers in either byte order, numbers in the text
 * headers replaced by huge or negative ones, cuts, splices, repeated chunks) and checks that the reader
 * succeeds or refuses cleanly ({@link FuzzTarget#clean}). Not coverage-guided: Jazzer, which would be, is
 * not available from this project's package registry; the edits aim at what the readers check instead.
 */
final class Fuzzer {
    private static final long[] INTERESTING = {0, 1, -1, 2, 3, 4, 7, 8, 63, 64, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000,
            Integer.MAX_VALUE, Integer.MIN_VALUE, 0xffffffffL, 1L << 32, 100_000_000, 100_000_001, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE};
    private static final String[] NUMBERS = {"0", "-1", "1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "18446744073709551615", "1e9", "1.5", "100000001", "99999999999999999999"};

    private final FuzzTarget target;
    private final List<byte[]> pool;
    private final Path work;
    final List<String> findings = new ArrayList<>();
    long runs;

    Fuzzer(FuzzTarget target, List<byte[]> pool, Path work) {
        this.target = target;
        this.pool = pool;
        this.work = work;
    }

    /** Runs the target on {@code input}; returns null when it succeeded or refused cleanly, else what it threw. */
    Throwable check(byte[] input) throws IOException {
        runs++;
        Path f = work.resolve("input" + target.ordinal());
        Files.write(f, input);
        try {
            target.read(f, work);
            return null;
        } catch (Throwable t) {
            return FuzzTarget.clean(t) ? null : t;
        }
    }

    /** Checks {@code input} and records a finding (the input and the stack trace under {@code findingsDir}) when it fails. */
    boolean checkAndRecord(byte[] input, Path findingsDir) throws IOException {
        Throwable t = check(input);
        if (t == null) return true;
        String id = Integer.toHexString(Arrays.hashCode(input));
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        if (findingsDir != null) {
            Files.createDirectories(findingsDir);
            Files.write(findingsDir.resolve(target.dir() + "-" + id + ".bin"), input);
            Files.writeString(findingsDir.resolve(target.dir() + "-" + id + ".txt"), trace.toString(), StandardCharsets.UTF_8);
        }
        findings.add(target + " " + id + ": " + t + (input.length <= 256 ? " on " + HexFormat.of().formatHex(input) : ""));
        return false;
    }

    byte[] mutate(SplittableRandom r) {
        byte[] b = pool.get(r.nextInt(pool.size())).clone();
        int edits = 1 + r.nextInt(r.nextBoolean() ? 2 : 6);
        for (int e = 0; e < edits; e++) b = edit(b, r);
        return b;
    }

    private byte[] edit(byte[] b, SplittableRandom r) {
        int n = b.length;
        switch (r.nextInt(10)) {
            case 0 -> { if (n > 0) b[r.nextInt(n)] ^= (byte) (1 << r.nextInt(8)); }
            case 1 -> { if (n > 0) b[r.nextInt(n)] = (byte) r.nextInt(256); }
            case 2 -> { // a boundary integer, 1/2/4/8 bytes, either byte order, near the start (where the headers are)
                int width = 1 << r.nextInt(4);
                if (n >= width) {
                    int at = r.nextInt(Math.min(n - width, 64) + 1);
                    long v = INTERESTING[r.nextInt(INTERESTING.length)];
                    boolean little = r.nextBoolean();
                    for (int i = 0; i < width; i++) b[at + (little ? i : width - 1 - i)] = (byte) (v >>> (8 * i));
                }
            }
            case 3 -> { return replaceNumber(b, r); }
            case 4 -> { return Arrays.copyOf(b, n == 0 ? 0 : r.nextInt(n)); } // truncate
            case 5 -> { // delete a range
                if (n > 1) {
                    int from = r.nextInt(n), len = 1 + r.nextInt(Math.min(16, n - from));
                    byte[] out = new byte[n - len];
                    System.arraycopy(b, 0, out, 0, from);
                    System.arraycopy(b, from + len, out, from, n - from - len);
                    return out;
                }
            }
            case 6 -> { // insert random bytes
                int at = n == 0 ? 0 : r.nextInt(n + 1), len = 1 + r.nextInt(8);
                byte[] out = new byte[n + len];
                System.arraycopy(b, 0, out, 0, at);
                for (int i = 0; i < len; i++) out[at + i] = (byte) r.nextInt(256);
                System.arraycopy(b, at, out, at + len, n - at);
                return out;
            }
            case 7 -> { // splice: the head of this input, the tail of another
                byte[] o = pool.get(r.nextInt(pool.size()));
                int cut = n == 0 ? 0 : r.nextInt(n), from = o.length == 0 ? 0 : r.nextInt(o.length);
                byte[] out = Arrays.copyOf(b, cut + o.length - from);
                System.arraycopy(o, from, out, cut, o.length - from);
                return out;
            }
            case 8 -> { // repeat a chunk
                if (n > 0) {
                    int from = r.nextInt(n), len = 1 + r.nextInt(Math.min(32, n - from));
                    byte[] out = Arrays.copyOf(b, n + len);
                    System.arraycopy(b, from, out, from + len, n - from);
                    return out;
                }
            }
            default -> { if (n > 0) Arrays.fill(b, r.nextInt(n), n, (byte) (r.nextBoolean() ? 0 : 0xff)); }
        }
        return b;
    }

    /** Replaces one run of ASCII digits (a shape, an offset, a length in a text header) by an extreme number. */
    private static byte[] replaceNumber(byte[] b, SplittableRandom r) {
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < b.length && i < 4096; ) {
            if (b[i] >= '0' && b[i] <= '9') {
                int j = i;
                while (j < b.length && b[j] >= '0' && b[j] <= '9') j++;
                runs.add(new int[] {i, j});
                i = j;
            } else {
                i++;
            }
        }
        if (runs.isEmpty()) return b;
        int[] run = runs.get(r.nextInt(runs.size()));
        byte[] num = NUMBERS[r.nextInt(NUMBERS.length)].getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[b.length - (run[1] - run[0]) + num.length];
        System.arraycopy(b, 0, out, 0, run[0]);
        System.arraycopy(num, 0, out, run[0], num.length);
        System.arraycopy(b, run[1], out, run[0] + num.length, b.length - run[1]);
        return out;
    }
}
