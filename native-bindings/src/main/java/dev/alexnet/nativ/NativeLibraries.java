package dev.alexnet.nativ;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.stream.Stream;

/**
 * Generic helpers for native libraries shipped inside jars: extracting a set of files once into a
 * per-user cache directory, and finding which file a library was really mapped from.
 *
 * <p>Cache layout: {@code <base>/<bundle>-<version>-<fingerprint>/} where base is the system property
 * {@code alexnet.cache.dir}, else {@code $XDG_CACHE_HOME/alexnet-jvm}, else {@code ~/.cache/alexnet-jvm}.
 * The fingerprint is a SHA-256 prefix over each file's name, size and CRC-32 as recorded in the jar's
 * central directory (no need to read 90 MB to decide the cache is current). Extraction writes to a
 * fresh temporary directory next to the target, marks it complete, then renames it atomically; a JVM
 * that loses the race deletes its copy and uses the winner's. So two JVMs starting at once are safe.
 *
 * <p>Not here: anything library-specific (names, versions, symbols).
 */
public final class NativeLibraries {
    private NativeLibraries() {}

    /** Written last into an extracted directory; its presence means every file is complete. */
    static final String COMPLETE_MARKER = ".complete";

    /** The per-user cache base directory. */
    public static Path cacheBase() {
        String prop = System.getProperty("alexnet.cache.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "alexnet-jvm");
        return Path.of(System.getProperty("user.home"), ".cache", "alexnet-jvm");
    }

    /**
     * Extracts {@code files} (names under {@code resourceDir}, e.g. {@code org/x/linux-x86_64/}) from
     * the class path into the cache, unless an identical copy is already there, and returns the directory.
     *
     * @throws NativeLibraryException naming the missing resource when one is not on the class path
     */
    public static Path extractToCache(ClassLoader loader, String resourceDir, List<String> files,
                                      String bundle, String version) {
        List<URL> urls = new ArrayList<>();
        for (String f : files) {
            URL u = loader.getResource(resourceDir + f);
            if (u == null) throw new NativeLibraryException("class path resource " + resourceDir + f + " not found");
            urls.add(u);
        }
        String fingerprint = fingerprint(files, urls);
        Path base = cacheBase();
        Path target = base.resolve(bundle + "-" + version + "-" + fingerprint);
        if (Files.isRegularFile(target.resolve(COMPLETE_MARKER))) return target;
        try {
            Files.createDirectories(base);
            Path tmp = Files.createTempDirectory(base, "." + bundle + "-extract-");
            try {
                for (int i = 0; i < files.size(); i++) {
                    try (InputStream in = urls.get(i).openStream()) {
                        Files.copy(in, tmp.resolve(files.get(i)), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                Files.writeString(tmp.resolve(COMPLETE_MARKER), String.join("\n", urls.stream().map(URL::toString).toList()) + "\n");
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException lost) {
                    // Another JVM renamed its copy first (or a stale incomplete directory is in the way).
                    if (!Files.isRegularFile(target.resolve(COMPLETE_MARKER))) {
                        throw new IOException(target + " exists but is incomplete (no " + COMPLETE_MARKER
                                + "); delete it and retry", lost);
                    }
                }
            } finally {
                deleteRecursively(tmp);
            }
        } catch (IOException e) {
            throw new NativeLibraryException("could not extract " + files + " from the class path into " + target
                    + ": " + e.getMessage() + " (set -Dalexnet.cache.dir=<writable directory> to extract elsewhere)", e);
        }
        return target;
    }

    /** SHA-256 prefix (12 hex digits) over name, size and CRC of each file (or size and mtime outside jars). */
    static String fingerprint(List<String> files, List<URL> urls) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < files.size(); i++) {
                URLConnection c = urls.get(i).openConnection();
                String id;
                if (c instanceof JarURLConnection jc) {
                    jc.setUseCaches(false);
                    JarEntry e = jc.getJarEntry();
                    id = files.get(i) + ":" + e.getSize() + ":" + Long.toHexString(e.getCrc());
                } else {
                    Path p = Path.of(urls.get(i).toURI());
                    id = files.get(i) + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
                }
                sha.update(id.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The files currently mapped into this process whose name starts with {@code namePrefix}
     * (from {@code /proc/self/maps}; empty where that file does not exist).
     */
    public static List<Path> mappedFiles(String namePrefix) {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return List.of();
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.map(l -> {
                        int slash = l.indexOf('/');
                        return slash < 0 ? null : l.substring(slash).replace(" (deleted)", "");
                    })
                    .filter(p -> p != null && Path.of(p).getFileName().toString().startsWith(namePrefix))
                    .distinct().map(Path::of).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try { Files.deleteIfExists(p); } catch (IOException ignored) { /* best effort */ }
            });
        } catch (IOException ignored) {
            // best effort: a leftover temporary directory is harmless
        }
    }
}
