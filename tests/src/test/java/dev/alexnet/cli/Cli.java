package dev.alexnet.cli;

import dev.alexnet.model.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code bin/alexnet}'s {@link Main#run} in this JVM with stdout and stderr captured. */
public final class Cli {
    private Cli() {}

    public record Result(int exit, String out, String err) {
        /** Asserts a failure: non-zero exit, one {@code error:} line holding every part, no stack trace, nothing on stdout. */
        public Result failsWith(int code, String... parts) {
            assertEquals(code, exit, "exit code; stderr: " + err + " stdout: " + out);
            String e = err.strip();
            assertTrue(e.startsWith("error: "), e);
            assertFalse(e.contains("\n"), "more than one line: " + e);
            assertFalse(e.contains("\tat ") || e.contains("Exception"), "a stack trace or exception name: " + e);
            for (String p : parts) assertTrue(e.contains(p), "stderr lacks '" + p + "': " + e);
            assertEquals("", out, "output before the error: the work started");
            return this;
        }

        public Result succeeds() {
            assertEquals(0, exit, "exit code; stderr: " + err);
            return this;
        }
    }

    public static synchronized Result run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8); PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            int code = Main.run(args);
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** Files in {@code dir} whose names end in .tmp or .probe: what a failed or finished write must not leave. */
    static long leftovers(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp") || p.getFileName().toString().endsWith(".probe")).count();
        }
    }

    static void assertNoLeftovers(Path dir) throws java.io.IOException {
        assertEquals(0, leftovers(dir), "temporary files left in " + dir);
    }

}
