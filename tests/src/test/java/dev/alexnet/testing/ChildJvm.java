package dev.alexnet.testing;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a class's {@code main} in a fresh JVM with this JVM's java, class path and flags, for tests whose
 * failure mode is a crash of the JVM (SIGSEGV, SIGBUS): a crash then fails one test instead of killing
 * the test run.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** Exit status (134 or 139 after a crash, -1 after the timeout) and everything the child printed. */
    public record Result(int exit, String output) {
        public boolean crashed() { return exit == 134 || exit == 139 || output.contains("# A fatal error has been detected"); }
    }

    public static Result run(Class<?> main, long timeoutSeconds, List<String> extraJvmArgs, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-modules") || a.startsWith("--enable-native-access")) cmd.add(a);
        }
        cmd.addAll(extraJvmArgs);
        cmd.add("-XX:ErrorFile=" + System.getProperty("java.io.tmpdir") + "/alexnet-child-hs_err_%p.log");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("alexnet-child", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            int exit;
            if (p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                exit = p.exitValue();
            } else {
                p.destroyForcibly().waitFor();
                exit = -1;
            }
            return new Result(exit, Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
