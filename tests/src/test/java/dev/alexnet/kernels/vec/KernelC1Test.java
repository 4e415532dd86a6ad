package dev.alexnet.kernels.vec;

import dev.alexnet.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under the JVM's default flags (tiered compilation), a register-tile kernel must go from the interpreter to
 * C2 and never run C1's code: C1 gives up on the large tiles at tier 3 but not at tier 2, and a kernel left
 * in tier-2 code runs ~100x slower for the rest of the run, in some fresh JVMs and not others
 * ({@link JitDirectives} says why and how the library prevents it). This compile-log check (not a timing)
 * runs {@link KernelC1Child} in a child JVM with tiered compilation, low thresholds and foreground
 * compilation, and reads {@code -XX:+PrintCompilation}: every kernel the child called must have been
 * compiled at tier 4 and at no C1 tier, and no compiler may have given up on one. Without the directive
 * (before {@link JitDirectives}) 19 kernels failed at tier 3 here and most ran C1 code first.
 */
class KernelC1Test {
    /** A PrintCompilation line: timestamp, compile id, flags, tier, Class::method. */
    private static final Pattern COMPILE = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn!* ]*\\s(\\d)\\s+(dev\\.alexnet\\.kernels\\.vec\\.\\S+::\\S+)");

    @Test
    void tileKernelsGoStraightToC2UnderTieredCompilation() throws Exception {
        ChildJvm.Result r = ChildJvm.run(KernelC1Child.class, 600, List.of(
                "-XX:+TieredCompilation", "-XX:Tier3InvocationThreshold=10", "-XX:Tier3MinInvocationThreshold=10",
                "-XX:Tier3CompileThreshold=20", "-XX:Tier4InvocationThreshold=40", "-XX:Tier4MinInvocationThreshold=20",
                "-XX:Tier4CompileThreshold=50", "-XX:-BackgroundCompilation", "-XX:CompileCommand=quiet",
                "-XX:CompileCommand=compileonly,dev.alexnet.kernels.vec.*::*", "-XX:+PrintCompilation"), "400");
        assertEquals(0, r.exit(), () -> "child JVM failed:\n" + r.output());
        TreeSet<String> called = new TreeSet<>(), c2 = new TreeSet<>();
        TreeMap<String, String> c1 = new TreeMap<>(), gaveUp = new TreeMap<>();
        for (String line : r.output().split("\n")) {
            if (line.startsWith("CALLED ")) {
                called.add(line.substring(7).strip());
                continue;
            }
            Matcher m = COMPILE.matcher(line);
            if (!m.find()) continue;
            String method = m.group(2), tier = m.group(1);
            if (line.contains("COMPILE SKIPPED") || line.contains("not compilable")) gaveUp.put(method, line.strip());
            else if (tier.equals("4")) c2.add(method);
            else c1.put(method, line.strip());
        }
        assertTrue(called.size() >= 30, () -> "the child called only " + called + ":\n" + r.output());
        List<String> ranC1 = new ArrayList<>(), noC2 = new ArrayList<>(), failed = new ArrayList<>();
        for (String k : called) {
            if (c1.containsKey(k)) ranC1.add(c1.get(k));
            if (!c2.contains(k)) noC2.add(k);
            if (gaveUp.containsKey(k)) failed.add(gaveUp.get(k));
        }
        assertTrue(failed.isEmpty(), () -> "a compiler gave up on " + failed.size() + " kernel(s):\n  " + String.join("\n  ", failed));
        assertTrue(ranC1.isEmpty(), () -> "C1 compiled " + ranC1.size() + " tile kernel(s) (JitDirectives should keep it off them):\n  "
                + String.join("\n  ", ranC1));
        // a kernel that no compiler took would make the checks above pass without checking anything
        assertTrue(noC2.isEmpty(), () -> "C2 did not compile " + noC2 + " (thresholds?)\n" + r.output());
    }
}
