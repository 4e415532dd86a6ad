package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.JvmFlags;
import dev.alexnet.nativ.NativeLibraries;
import dev.alexnet.nativ.NativeLibraryException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Finds and loads {@code libdnnl.so.3} once per JVM, by absolute path, through FFM.
 *
 * <p>Where from, in order:
 * <ol>
 *   <li>system property {@value #PROPERTY}, else environment variable {@value #ENV}: the absolute path
 *       of another {@code libdnnl.so.3} (a 3.x build with the OpenMP CPU runtime). No fallback: if it
 *       cannot be loaded, that is the error.</li>
 *   <li>the jar {@code org.bytedeco:dnnl:3.13-1.5.14:linux-x86_64} on the class path, used only as a
 *       carrier: {@code libdnnl.so.3} and {@code libgomp.so.1} are extracted once into
 *       {@code ~/.cache/alexnet-jvm/dnnl-<version>-<fingerprint>/} (see {@link NativeLibraries}); its JNI
 *       classes are never touched. {@code libdnnl.so.3} has RUNPATH {@code $ORIGIN/}, so the dynamic
 *       linker takes the bundled {@code libgomp.so.1} from the same directory, not the system's
 *       ({@link #mappedGomp()} shows which one was mapped).</li>
 * </ol>
 * The symbols of libgomp ({@code omp_set_num_threads}) are found through the same lookup: a
 * library lookup searches the library's dependencies too.
 */
public final class DnnlLibrary {
    private DnnlLibrary() {}

    public static final String PROPERTY = "alexnet.dnnl.lib";
    public static final String ENV = "ALEXNET_DNNL_LIB";
    /** Where the carrier jar keeps the libraries and headers. */
    public static final String RESOURCE_DIR = "org/bytedeco/dnnl/linux-x86_64/";
    public static final String LIBRARY = "libdnnl.so.3";
    public static final String GOMP = "libgomp.so.1";
    static final String COORDINATES = "org.bytedeco:dnnl:3.13-1.5.14:linux-x86_64";

    /** What was loaded: the path of libdnnl and the lookup over it (and its dependencies). */
    public record Loaded(Path library, SymbolLookup lookup, boolean overridden) {}

    private static volatile Loaded loaded;

    /**
     * Loads the library on first use; throws {@link NativeLibraryException} saying what was tried and the fix,
     * or {@link IllegalStateException} naming the flag when native access is not enabled.
     */
    public static Loaded load() {
        Loaded l = loaded;
        if (l != null) return l;
        JvmFlags.requireNativeAccess(DnnlLibrary.class, "oneDNN");
        synchronized (DnnlLibrary.class) {
            if (loaded == null) loaded = load(override());
            return loaded;
        }
    }

    /** The lookup used by the raw bindings. */
    public static SymbolLookup lookup() {
        return load().lookup();
    }

    /** The override path, if one is set (system property first, then the environment). */
    static String override() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) return p;
        String e = System.getenv(ENV);
        return e == null || e.isBlank() ? null : e;
    }

    /**
     * Loads from {@code override} (a path, as from {@value #PROPERTY}) or, when null, from the carrier
     * jar, without caching the result: {@link #load()} is the entry point; tests call this directly.
     */
    static Loaded load(String override) {
        if (override != null) {
            Path path = Path.of(override).toAbsolutePath();
            String source = System.getProperty(PROPERTY) != null && !System.getProperty(PROPERTY).isBlank()
                    ? "system property " + PROPERTY : System.getenv(ENV) != null ? "environment variable " + ENV : "override";
            if (!Files.isRegularFile(path)) {
                throw new NativeLibraryException("oneDNN: " + source + " points at " + path + ", which is not a file. "
                        + "Point it at a libdnnl.so.3 (oneDNN 3.x, OpenMP runtime), or unset it to use the copy bundled in "
                        + COORDINATES + ".");
            }
            return new Loaded(path, open(path, source), true);
        }
        ClassLoader cl = DnnlLibrary.class.getClassLoader();
        if (cl.getResource(RESOURCE_DIR + LIBRARY) == null) {
            throw new NativeLibraryException("oneDNN: no library found. Tried: system property " + PROPERTY + " (unset), "
                    + "environment variable " + ENV + " (unset), class path resource " + RESOURCE_DIR + LIBRARY
                    + " (missing). Fix: put " + COORDINATES + " on the class path (native-bindings depends on it), "
                    + "or set -D" + PROPERTY + "=/path/to/libdnnl.so.3.");
        }
        Path dir;
        try {
            dir = NativeLibraries.extractToCache(cl, RESOURCE_DIR, List.of(LIBRARY, GOMP), "dnnl", jarVersion(cl));
        } catch (NativeLibraryException e) {
            throw new NativeLibraryException("oneDNN: " + e.getMessage(), e);
        }
        Path path = dir.resolve(LIBRARY);
        return new Loaded(path, open(path, "the copy extracted from " + COORDINATES), false);
    }

    private static SymbolLookup open(Path path, String source) {
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new NativeLibraryException("oneDNN: could not load " + path + " (" + source + "): " + e.getMessage()
                    + ". It needs libstdc++ with GLIBCXX_3.4.29, glibc 2.34 and libgomp.so.1 next to it or on the "
                    + "loader path; run the JVM with --enable-native-access=ALL-UNNAMED"
                    + (source.startsWith("the copy") ? "." : "; or unset " + PROPERTY + "/" + ENV + " to use the bundled copy."), e);
        }
    }

    /** The carrier jar's version ("3.13-1.5.14") from its Maven metadata, or "unknown". */
    private static String jarVersion(ClassLoader cl) {
        try (InputStream in = cl.getResourceAsStream("META-INF/maven/org.bytedeco/dnnl/pom.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The libgomp files mapped into this process (after {@link #load()}: normally the bundled one, next to libdnnl). */
    public static List<Path> mappedGomp() {
        return NativeLibraries.mappedFiles("libgomp");
    }
}
