package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A library user who forgets a JVM flag gets one message naming it, from the first entry point, rather
 * than a {@link NoClassDefFoundError} or a warning: checked in child JVMs started without the flags.
 */
class JvmFlagsTest {
    private static final String VECTOR = "--add-modules=jdk.incubator.vector";
    private static final String NATIVE = "--enable-native-access=ALL-UNNAMED";

    /** Opens each device named on the command line and prints "ok NAME" or the exception's class and message. */
    public static final class Probe {
        public static void main(String[] args) {
            for (String name : args) {
                try (Device d = Devices.create(name, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
                    System.out.println("ok " + d.name());
                } catch (RuntimeException | LinkageError e) {
                    System.out.println(name + " -> " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
        }
    }

    private static List<String> probe(List<String> flags, String... devices) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Probe.class.getName());
        cmd.addAll(List.of(devices));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        // stderr is merged in, so a "restricted method called" warning would show up as an extra line; the
        // incubator notice is the JVM's answer to --add-modules itself
        return out.lines().filter(l -> !l.isBlank() && !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).toList();
    }

    @Test
    void withoutTheVectorModuleTheJavaDeviceNamesTheFlag() throws Exception {
        List<String> out = probe(List.of(NATIVE), "java:1");
        assertEquals(List.of("java:1 -> IllegalStateException: java:1 needs the Vector API: run java with " + VECTOR
                + " (the README's \"Use it as a library\" lists the JVM flags)"), out);
    }

    @Test
    void withoutNativeAccessEveryNativeDeviceNamesTheFlagBeforeAnyRestrictedCall() throws Exception {
        List<String> out = probe(List.of(VECTOR), "java:1", "dnnl:1", "ort:1", "cuda:0");
        assertEquals(4, out.size(), String.join("\n", out)); // no "WARNING: A restricted method ..." lines: nothing ran
        for (String line : out) {
            assertTrue(line.contains("IllegalStateException") && line.contains("run java with " + NATIVE), line);
        }
    }

    @Test
    void withBothFlagsTheCpuDevicesOpen() throws Exception {
        assertEquals(List.of("ok java:1", "ok dnnl:1"), probe(List.of(VECTOR, NATIVE), "java:1", "dnnl:1"));
    }
}
