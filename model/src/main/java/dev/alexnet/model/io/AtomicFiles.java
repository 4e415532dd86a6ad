package dev.alexnet.model.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files written whole or not at all: the bytes go to a temporary file in the target's directory, are
 * forced to disk, and the temporary file is renamed over the target (atomic within one file system).
 * Any failure (a full disk, an exception from the writer) deletes the temporary file and leaves a
 * previous target untouched. {@link #checkWritable} lets a command refuse a bad output path before it
 * does any work.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content through the channel it is given (positioned at 0, empty). */
    @FunctionalInterface
    public interface Writer {
        void write(FileChannel channel) throws IOException;
    }

    /**
     * Writes {@code target} atomically.
     *
     * @throws IOException with a one-line message naming {@code target} and the reason
     */
    public static void write(Path target, Writer writer) throws IOException {
        Path dir = directoryOf(target);
        String name = target.getFileName().toString();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + name + ".", ".tmp");
        } catch (IOException e) {
            throw new IOException(target + ": cannot write (" + IoErrors.reason(e) + " in " + dir + ")", e);
        }
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writer.write(ch);
                ch.force(true);
            }
            setPermissions(tmp, target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(tmp, e);
            throw new IOException(target + ": cannot write (" + IoErrors.reason(e) + ")", e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp, e);
            throw e;
        }
    }

    /** Writes all of {@code buf} (a channel write may be partial). */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /**
     * Refuses, with a one-line {@link IllegalArgumentException} that names {@code option}, an output path
     * that cannot be written: a missing directory, a directory given as the file, a read-only location or
     * file. Probes the directory by creating (and deleting) a temporary file, which also catches
     * read-only file systems and permissions that {@link Files#isWritable} misreports for root.
     */
    public static void checkWritable(Path target, String option) {
        if (target.getFileName() == null) throw new IllegalArgumentException(option + " " + target + " names no file");
        if (Files.isDirectory(target)) throw new IllegalArgumentException(option + " " + target + " is a directory, expected a file name");
        Path dir = directoryOf(target);
        if (!Files.exists(dir)) throw new IllegalArgumentException(option + " " + target + ": directory " + dir + " does not exist");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(option + " " + target + ": " + dir + " is not a directory");
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(target)) {
            throw new IllegalArgumentException(option + " " + target + " exists and is read-only");
        }
        try {
            Files.delete(Files.createTempFile(dir, "." + target.getFileName() + ".", ".probe"));
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(option + " " + target + ": cannot write in " + dir + " (permission denied)");
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + target + ": cannot write in " + dir + " (" + IoErrors.reason(e) + ")");
        }
    }

    private static Path directoryOf(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        return parent != null ? parent : target.toAbsolutePath().getRoot();
    }

    /** The target's permissions when it exists, else rw-r--r-- (createTempFile makes rw-------). */
    private static void setPermissions(Path tmp, Path target) {
        try {
            Set<PosixFilePermission> p = Files.exists(target) ? Files.getPosixFilePermissions(target)
                    : PosixFilePermissions.fromString("rw-r--r--");
            Files.setPosixFilePermissions(tmp, p);
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: keep what createTempFile gave
        }
    }

    private static void deleteQuietly(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
