package dev.alexnet.kernels.vec;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.management.ObjectName;

/**
 * Keeps C1 away from the register-tile kernels, so that under the JVM's default (tiered) flags they go from
 * the interpreter straight to C2, as they do under {@code -XX:-TieredCompilation}.
 *
 * <p>Why: C1 gives up at tier 3 (full profiling) on every tile that holds 18 or more vector accumulators
 * ("out of virtual registers"; {@code KernelC1Test} lists them), but not at tier 2. The tiered policy picks
 * tier 2 when C2's queue is long, as at start-up; if tier 3 then fails, the kernel stays in tier-2 code,
 * about 100x slower than C2's, for the rest of the run, and whether that happens differs from one fresh
 * JVM to the next. The tiles cannot be made small enough for C1 without costing C2's loop (fewer
 * accumulators mean more loads per multiply-add; helpers for the stores are not inlined by C2 and box
 * every vector). A method C1 may not compile at any tier is profiled in the interpreter and then compiled
 * by C2, the path the policy takes for methods C1 cannot handle.
 *
 * <p>How: one compiler directive ({@code c1: {Exclude: true}}) for the tile methods, added through the JVM's
 * diagnostic command interface ({@code Compiler.directives_add}, what {@code jcmd} uses) when the kernels
 * are first loaded; no user flag needed. A runtime without the {@code jdk.management} module, or a JVM
 * that refuses, keeps its default behaviour and logs one warning.
 */
final class JitDirectives {
    private JitDirectives() {}

    /** Classes whose static methods named like a tile ({@code k6x4}, {@code p5x4}, {@code g1x2}) are excluded from C1. */
    static final List<String> TILE_CLASSES = List.of("ConvTiles", "LinearTiles", "GemmTiles", "WinogradVec", "Winograd5Vec");
    /** Hand-written kernels with as many live vectors as a tile. */
    static final List<String> OTHERS = List.of("Reorders.tile");

    /** The directive's method patterns, {@code package/Class.method}. */
    static List<String> patterns() {
        String pkg = JitDirectives.class.getPackageName();
        List<String> out = new ArrayList<>();
        for (String c : TILE_CLASSES) {
            Class<?> k;
            try {
                k = Class.forName(pkg + "." + c, false, JitDirectives.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                continue;
            }
            for (Method m : k.getDeclaredMethods()) {
                if (Modifier.isStatic(m.getModifiers()) && m.getName().matches("[kpg]\\d+x\\d+")) {
                    String p = pkg.replace('.', '/') + "/" + c + "." + m.getName();
                    if (!out.contains(p)) out.add(p);
                }
            }
        }
        for (String o : OTHERS) out.add(pkg.replace('.', '/') + "/" + o);
        return out;
    }

    /** The directive file's text: one entry excluding {@code patterns} from C1. */
    static String json(List<String> patterns) {
        StringBuilder sb = new StringBuilder("[{ match: [");
        for (int i = 0; i < patterns.size(); i++) sb.append(i == 0 ? "" : ", ").append('"').append(patterns.get(i)).append('"');
        return sb.append("], c1: { Exclude: true } }]\n").toString();
    }

    /** Adds the directive, or logs one warning if the JVM does not take it. */
    static void install() {
        Path file = null;
        try {
            file = Files.createTempFile("alexnet-jit", ".json");
            Files.writeString(file, json(patterns()));
            Object r = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "compilerDirectivesAdd", new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            String said = String.valueOf(r);
            if (said.toLowerCase(java.util.Locale.ROOT).contains("fail") || said.toLowerCase(java.util.Locale.ROOT).contains("error")) {
                throw new IllegalStateException(said.strip());
            }
        } catch (Exception | LinkageError e) {
            System.getLogger(JitDirectives.class.getName()).log(System.Logger.Level.WARNING,
                    "could not keep C1 off the tile kernels (" + e + "); run with -XX:-TieredCompilation for steady speed");
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (java.io.IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }
}
