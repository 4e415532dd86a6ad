package dev.alexnet.safety;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.nativ.dnnl.DnnlHandle;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code make soak} (not part of {@code make test}): 10,000 passes at batch 1 and 500 at batch 32 per
 * placement, times {@code alexnet.soak.scale} (SOAK_SCALE, default 1). After a tenth of the passes, and once
 * the JIT has finished no compilation for 5 passes in a row, it takes a baseline; at the end the
 * resident set size is within 1% of it, the live native allocations (Native Memory Tracking's "Other", where
 * every {@code Arena} allocation is counted; {@code make soak} turns it on) and oneDNN's live handles are
 * unchanged, and the logits are bitwise those of the first pass.
 */
@Tag("soak")
class SoakTest {
    /** The placements, or those named in {@code alexnet.soak.placements} (separated by ';'). */
    static Stream<String> placements() {
        String p = System.getProperty("alexnet.soak.placements");
        return p == null ? Stream.of("java:2", "dnnl:2", "java:1,java:1") : Stream.of(p.split(";"));
    }

    @ParameterizedTest
    @MethodSource("placements")
    void memoryStaysFlatAndOutputsStayBitwiseTheSame(String placement) throws IOException {
        double scale = Double.parseDouble(System.getProperty("alexnet.soak.scale", "1"));
        try (AlexNetWeights w = AlexNetWeights.paperInit(9);
             Network n = Networks.open(AlexNetSpec.PAPER, w, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            soak(n, placement, 1, Math.max(20, (int) Math.round(10_000 * scale)));
            soak(n, placement, 32, Math.max(10, (int) Math.round(500 * scale)));
        }
    }

    private static void soak(Network n, String placement, int batch, int passes) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            Tensor x = Tensor.allocate(arena, batch, 3, 227, 227);
            SplittableRandom r = new SplittableRandom(batch);
            for (long i = 0; i < x.size(); i++) x.set(i, (float) (r.nextDouble() * 200 - 100));
            Tensor y = Tensor.allocate(arena, batch, AlexNetSpec.CLASSES);
            n.forward(x.data(), y.data(), batch);
            float[] first = y.toArray();
            // Baseline once the JIT is done: a tenth of the passes, then on until 5 passes in a row finished no compilation.
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            int settle = 1, quiet = 0;
            for (long last = -1; settle < passes / 2 && (settle < passes / 10 || quiet < 5); settle++) {
                n.forward(x.data(), y.data(), batch);
                long t = jit.getTotalCompilationTime();
                quiet = t == last ? quiet + 1 : 0;
                last = t;
            }
            System.gc();
            nmt("baseline");
            long rss0 = rssBytes(), native0 = nativeOtherBytes(), handles0 = DnnlHandle.liveHandles();
            long t0 = System.nanoTime();
            for (int i = settle; i < passes; i++) n.forward(x.data(), y.data(), batch);
            double ms = (System.nanoTime() - t0) / 1e6 / (passes - settle);
            System.gc();
            long rss1 = rssBytes(), native1 = nativeOtherBytes(), handles1 = DnnlHandle.liveHandles();
            System.out.printf("[soak] %s batch %d: %d passes (baseline after %d; %.1f ms each); RSS %.1f -> %.1f MB (%+.3f%%); live native bytes (NMT Other) %d -> %d;"
                            + " oneDNN handles %d -> %d%n", placement, batch, passes, settle, ms, rss0 / 1e6, rss1 / 1e6,
                    100.0 * (rss1 - rss0) / rss0, native0, native1, handles0, handles1);
            if (rss1 > rss0 * 1.01) { // what grew, by Native Memory Tracking's categories
                nmt("summary.diff").lines().filter(l -> l.matches(".*committed=\\d+KB [+]\\d+KB.*")).forEach(l -> System.out.println("[soak]   " + l.strip()));
            }
            assertArrayEquals(first, y.toArray(), placement + " batch " + batch + ": last pass vs first, bitwise");
            assertTrue(native0 > 0, "no Native Memory Tracking figures: run with -XX:NativeMemoryTracking=summary (make soak does)");
            // every Arena allocation of a program happens at compile time: any change in the steady state is a leak
            assertEquals(native0, native1, "live native bytes (NMT Other)");
            assertEquals(handles0, handles1, "live oneDNN handles");
            assertTrue(rss1 <= rss0 * 1.01, String.format("RSS grew %.3f%% (%d -> %d bytes)", 100.0 * (rss1 - rss0) / rss0, rss0, rss1));
        }
    }

    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }

    private static final Pattern OTHER = Pattern.compile("-\\s*Other \\(reserved=\\d+KB, committed=(\\d+)KB\\)");

    private static String nmt(String command) {
        try {
            return (String) ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory", new Object[] {new String[] {command}}, new String[] {String[].class.getName()});
        } catch (JMException e) {
            return "";
        }
    }

    /** Native Memory Tracking's committed "Other" bytes (malloc'd by Unsafe.allocateMemory: every Arena allocation), or -1 when NMT is off. */
    static long nativeOtherBytes() {
        try {
            String out = (String) ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory", new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            Matcher m = OTHER.matcher(out);
            return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
        } catch (JMException e) {
            return -1;
        }
    }
}
