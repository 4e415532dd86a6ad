package dev.alexnet.nativ.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the CUDA libraries and turns their symbols into downcall handles.
 *
 * <p>Search order for each library: the system property (a file path or a soname), then each soname
 * through the dynamic loader's own path (ld.so.cache, LD_LIBRARY_PATH, RUNPATH), then the same
 * sonames in {@link #FALLBACK_DIRS}. Each library is loaded once, into the global arena (never
 * unloaded). A library that cannot be found is a {@link CudaUnavailableException} naming every place
 * tried, never a crash; a symbol that cannot be found becomes a handle that throws when called, so one
 * missing entry point does not take the whole binding class down with it.
 *
 * <p>Not here: anything that calls into the libraries (see {@link Cuda}).
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    /** Where NVIDIA's packages put the libraries when the loader path does not have them. */
    public static final List<String> FALLBACK_DIRS = List.of("/usr/lib", "/usr/lib/x86_64-linux-gnu",
            "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/lib64");

    /** A library: what it is for, the property that overrides it, the sonames to try (newest first). */
    public record Lib(String what, String property, List<String> sonames) {}

    public static final Lib CUDA = new Lib("CUDA driver", "alexnet.cuda.lib", List.of("libcuda.so.1", "libcuda.so"));
    public static final Lib NVRTC = new Lib("NVRTC", "alexnet.nvrtc.lib", List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"));
    public static final Lib CUBLAS = new Lib("cuBLAS", "alexnet.cublas.lib", List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"));
    public static final Lib CUDNN = new Lib("cuDNN", "alexnet.cudnn.lib", List.of("libcudnn.so.9", "libcudnn.so"));

    private record Loaded(SymbolLookup lookup, String from) {}

    private static final ConcurrentHashMap<Lib, Object> CACHE = new ConcurrentHashMap<>();

    /** The library's symbols, loading it on first use. */
    public static SymbolLookup lookup(Lib lib) {
        Object o = CACHE.computeIfAbsent(lib, CudaLibraries::load);
        if (o instanceof CudaUnavailableException e) {
            throw new CudaUnavailableException(e.getMessage(), e); // a fresh stack for every caller
        }
        return ((Loaded) o).lookup;
    }

    /** Where the library was loaded from (the soname or path that worked). */
    public static String loadedFrom(Lib lib) {
        lookup(lib);
        return ((Loaded) CACHE.get(lib)).from;
    }

    /** True when the library can be loaded (loads it). */
    public static boolean available(Lib lib) {
        try {
            lookup(lib);
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    private static Object load(Lib lib) {
        List<String> tried = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        String prop = System.getProperty(lib.property());
        if (prop != null && !prop.isBlank()) candidates.add(prop.strip());
        candidates.addAll(lib.sonames());
        for (String dir : FALLBACK_DIRS) for (String so : lib.sonames()) candidates.add(dir + "/" + so);
        for (String c : candidates) {
            try {
                SymbolLookup l = c.contains("/")
                        ? (Files.exists(Path.of(c)) ? SymbolLookup.libraryLookup(Path.of(c), Arena.global()) : null)
                        : SymbolLookup.libraryLookup(c, Arena.global());
                if (l != null) return new Loaded(l, c);
                tried.add(c + " (no such file)");
            } catch (IllegalArgumentException | IllegalCallerException e) {
                tried.add(c + (c.contains("/") ? " (" + e.getMessage() + ")" : ""));
            }
        }
        String first = prop != null && !prop.isBlank() ? prop.strip() : lib.sonames().getFirst();
        return new CudaUnavailableException("no " + lib.what() + ": " + first + " not found (tried " + String.join(", ", tried)
                + "); set -D" + lib.property() + "=/path/to/" + lib.sonames().getFirst() + " to point at it", null);
    }

    /**
     * A downcall handle for {@code name}, the first of {@code names} that the library exports (for
     * entry points that were renamed, e.g. {@code cuEventElapsedTime_v2} / {@code cuEventElapsedTime}).
     * When none is exported, the handle throws a {@link CudaException} naming the symbol when invoked.
     */
    static MethodHandle downcall(Lib lib, FunctionDescriptor fd, String... names) {
        SymbolLookup l;
        try {
            l = lookup(lib);
        } catch (CudaUnavailableException e) {
            return thrower(fd, e);
        }
        for (String n : names) {
            var sym = l.find(n);
            if (sym.isPresent()) return Linker.nativeLinker().downcallHandle(sym.get(), fd);
        }
        return thrower(fd, new CudaException("symbol " + String.join(" / ", names) + " not found in " + loadedFrom(lib), null));
    }

    private static MethodHandle thrower(FunctionDescriptor fd, CudaException e) {
        MethodType t = fd.toMethodType();
        MethodHandle h = MethodHandles.throwException(t.returnType(), CudaException.class).bindTo(e);
        return MethodHandles.dropArguments(h, 0, t.parameterList());
    }

    /** Rethrows what a downcall threw (only CudaException from a missing symbol, or an Error). */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** A C string at {@code p}, or null for NULL. */
    static String string(MemorySegment p) {
        return p == null || p.equals(MemorySegment.NULL) ? null : p.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
