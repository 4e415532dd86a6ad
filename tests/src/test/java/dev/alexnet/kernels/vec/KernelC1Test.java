package dev.alexnet.kernels.vec;

import dev.alexnet.testing.ChildJvm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under the JVM's default flags (tiered compilation), a kernel that C1 gives up on at tier 3 ("out of
 * virtual registers") can stay at tier 2, C1's code without full profiling, for the rest of the run: the
 * Vector API then runs ~100x slower than C2's code, and whether it happens depends on how busy C2 was
 * when the kernel got hot, so on the JVM. This compile-log check (not a timing) fails while C1 gives up
 * on any register-tile kernel: a child JVM calls every kernel of {@link KernelC1Child} a few hundred
 * times with low tier-3 thresholds and foreground compilation, so each is compiled by C1 at tier 3 (the
 * largest C1 code) before it returns, and {@code -XX:+PrintCompilation} says whether C1 finished.
 *
 * <p>Tagged {@code jit}, outside {@code make test}:
 * {@code mvn -B -q -o verify -pl tests -am -Dtest=KernelC1Test -Dsurefire.failIfNoSpecifiedTests=false -Dalexnet.test.groups=jit -Dalexnet.test.excludedGroups=gpu,fuzz,soak}
 */
@Tag("jit")
class KernelC1Test {
    /** A PrintCompilation line: timestamp, compile id, flags, tier, Class::method. */
    private static final Pattern COMPILE = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn!* ]*\\s(\\d)\\s+(dev\\.alexnet\\.kernels\\.vec\\.\\S+::\\S+)");

    @Test
    void c1CompilesEveryTileKernel() throws Exception {
        ChildJvm.Result r = ChildJvm.run(KernelC1Child.class, 600, List.of(
                "-XX:+TieredCompilation", "-XX:Tier3InvocationThreshold=10", "-XX:Tier3MinInvocationThreshold=10",
                "-XX:Tier3CompileThreshold=20", "-XX:-BackgroundCompilation", "-XX:CompileCommand=quiet",
                "-XX:CompileCommand=compileonly,dev.alexnet.kernels.vec.*::*", "-XX:+PrintCompilation"), "300");
        assertEquals(0, r.exit(), () -> "child JVM failed:\n" + r.output());
        TreeSet<String> called = new TreeSet<>(), tier3 = new TreeSet<>(), gaveUp = new TreeSet<>();
        List<String> why = new ArrayList<>();
        for (String line : r.output().split("\n")) {
            if (line.startsWith("CALLED ")) {
                called.add(line.substring(7).strip());
                continue;
            }
            Matcher m = COMPILE.matcher(line);
            if (!m.find()) continue;
            if (line.contains("COMPILE SKIPPED") || line.contains("not compilable")) {
                gaveUp.add(m.group(2));
                why.add(line.strip());
            } else if (m.group(1).equals("3")) {
                tier3.add(m.group(2));
            }
        }
        assertTrue(called.size() >= 30, () -> "the child called only " + called + ":\n" + r.output());
        TreeSet<String> neverCompiled = new TreeSet<>(called);
        neverCompiled.removeAll(tier3);
        neverCompiled.removeAll(gaveUp);
        // a kernel the child ran but C1 never tried would make this check pass without checking anything
        assertTrue(neverCompiled.isEmpty(), () -> "C1 did not compile " + neverCompiled + " at tier 3 (thresholds?)");
        assertTrue(gaveUp.isEmpty(), () -> "C1 gave up on " + gaveUp.size() + " kernel method(s); under default JVM flags they can stay"
                + " in C1's tier-2 code (~100x slower) for a whole run. Make them smaller for C1 (fewer inlined Vector API calls,"
                + " masked ones above all) without changing C2's loop:\n  " + String.join("\n  ", why));
    }
}
