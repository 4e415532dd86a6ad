package dev.alexnet.model.caffe;

import dev.alexnet.model.io.IoErrors;
import dev.alexnet.model.io.WeightFileException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A streaming reader of the protobuf wire format over a file: varints, fixed32/64, length-delimited
 * fields, with the end of each enclosing message kept as a limit. It reads through a 64 KiB window and
 * copies bulk data (packed floats) straight from the file into the caller's memory, so a 233 MB model
 * is never held twice. Every length is checked against the enclosing message before anything is read
 * or allocated; malformed input is a {@link WeightFileException} with one line naming the byte offset.
 * The file is read, not mapped: a file truncated while it is read is an error, not a SIGBUS.
 */
final class ProtoReader implements AutoCloseable {
    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;
    /** Names and type strings longer than this are not Caffe layer names. */
    static final int MAX_STRING = 1 << 16;

    private final Path file;
    private final FileChannel ch;
    private final long size;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long bufStart;
    private long pos, limit, lastTag;

    ProtoReader(Path file) {
        this.file = file;
        if (Files.isDirectory(file)) throw new WeightFileException(file + ": is a directory, expected a file");
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            size = ch.size();
        } catch (IOException e) {
            throw new WeightFileException(file + ": " + IoErrors.reason(e), e);
        }
        limit = size;
        buf.limit(0);
    }

    Path file() { return file; }
    long size() { return size; }
    long position() { return pos; }
    boolean atLimit() { return pos >= limit; }

    /** Moves to {@code p} inside the current limit (a second pass over a message already checked). */
    void seek(long p) {
        if (p < 0 || p > limit) throw new IllegalStateException("seek to " + p + " outside [0, " + limit + "]");
        pos = p;
    }

    WeightFileException error(String what) {
        return new WeightFileException(file + ": " + what + " (not a valid Caffe protobuf file)");
    }

    /** Enters a length-delimited field of {@code len} bytes; returns the previous limit for {@link #popLimit}. */
    long pushLimit(long len, String what) {
        if (len < 0 || len > limit - pos) {
            throw error(what + " at byte " + pos + " claims " + Long.toUnsignedString(len) + " bytes but only " + (limit - pos)
                    + " remain in the enclosing " + (limit == size ? "file" : "message") + (limit == size ? " (truncated?)" : ""));
        }
        long old = limit;
        limit = pos + len;
        return old;
    }

    void popLimit(long old) {
        if (pos != limit) throw new IllegalStateException("message not consumed: at " + pos + ", ends at " + limit);
        limit = old;
    }

    private int byteAt() {
        if (pos >= limit) {
            throw error(pos >= size ? "the file ends at byte " + size + " inside a field (truncated)"
                    : "a field runs past the end of its message at byte " + limit);
        }
        if (pos < bufStart || pos >= bufStart + buf.limit()) fill();
        int b = buf.get((int) (pos - bufStart)) & 0xff;
        pos++;
        return b;
    }

    private void fill() {
        buf.clear();
        try {
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos + buf.position());
                if (n < 0) break;
            }
        } catch (IOException e) {
            throw new WeightFileException(file + ": " + IoErrors.reason(e), e);
        }
        buf.flip();
        bufStart = pos;
        if (buf.limit() == 0) throw error("the file ended at byte " + pos + " while it was read (truncated or rewritten meanwhile)");
    }

    /** A base-128 varint of at most 10 bytes. */
    long varint() {
        long start = pos, v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            int b;
            if (pos >= limit) throw error("truncated varint at byte " + start + (pos >= size ? " (the file ends at byte " + size + ")" : " (its message ends at byte " + limit + ")"));
            b = byteAt();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (shift == 63 && b > 1) break;
                return v;
            }
        }
        throw error("varint at byte " + start + " is longer than 10 bytes");
    }

    /** The next tag as {@code field << 3 | wireType}, refusing field 0, groups and undefined wire types. */
    int tag() {
        long at = pos;
        lastTag = at;
        long t = varint();
        int wire = (int) (t & 7);
        long field = t >>> 3;
        if (field == 0 || field > 0x1fffffff) throw error("field number " + field + " at byte " + at + " is invalid");
        if (wire == 3 || wire == 4) throw error("group fields (wire type " + wire + ") at byte " + at + " are not used by Caffe");
        if (wire == 6 || wire == 7) throw error("undefined wire type " + wire + " at byte " + at);
        return (int) t;
    }

    static int field(int tag) { return tag >>> 3; }
    static int wire(int tag) { return tag & 7; }

    /** Refuses a known field that arrives with the wrong wire type. */
    void expect(int tag, int wire, String what) {
        if (wire(tag) != wire) {
            throw error(what + " (field " + field(tag) + ") at byte " + lastTag + " has wire type " + wire(tag) + ", expected " + wire);
        }
    }

    void skip(int tag) {
        switch (wire(tag)) {
            case VARINT -> varint();
            case FIXED64 -> skipBytes(8);
            case FIXED32 -> skipBytes(4);
            case LEN -> skipBytes(length("field " + field(tag)));
            default -> throw new IllegalStateException("wire type " + wire(tag));
        }
    }

    private void skipBytes(long n) {
        if (n > limit - pos) throw error("a field at byte " + pos + " needs " + n + " bytes but only " + (limit - pos) + " remain" + (limit == size ? " in the file (truncated)" : " in its message"));
        pos += n;
    }

    /** The length prefix of a length-delimited field, checked against what remains of the enclosing message. */
    long length(String what) {
        long at = pos;
        long n = varint();
        if (n < 0 || n > limit - pos) {
            throw error(what + " at byte " + at + " claims " + Long.toUnsignedString(n) + " bytes but only " + (limit - pos)
                    + " remain in the enclosing " + (limit == size ? "file (truncated?)" : "message"));
        }
        return n;
    }

    int fixed32() {
        int v = 0;
        for (int i = 0; i < 4; i++) v |= byteAt() << (8 * i);
        return v;
    }

    long fixed64() {
        long v = 0;
        for (int i = 0; i < 8; i++) v |= (long) byteAt() << (8 * i);
        return v;
    }

    String string(String what) {
        long n = length(what);
        if (n > MAX_STRING) throw error(what + " at byte " + pos + " is " + n + " bytes long, more than a name can be (" + MAX_STRING + ")");
        byte[] b = new byte[(int) n];
        for (int i = 0; i < n; i++) b[i] = (byte) byteAt();
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Copies {@code dst.byteSize()} bytes from file offset {@code at} (already checked to lie in the file) into {@code dst}. */
    void copy(long at, MemorySegment dst) {
        long n = dst.byteSize();
        if (at < 0 || n > size - at) throw new IllegalStateException("copy of " + n + " bytes at " + at + " past the file's end");
        final long chunk = 1L << 30;
        try {
            for (long done = 0; done < n; ) {
                ByteBuffer b = dst.asSlice(done, Math.min(chunk, n - done)).asByteBuffer();
                while (b.hasRemaining()) {
                    int r = ch.read(b, at + done + b.position());
                    if (r < 0) throw error("the file ended at byte " + (at + done + b.position()) + " while it was read (truncated or rewritten meanwhile)");
                }
                done += b.capacity();
            }
        } catch (IOException e) {
            throw new WeightFileException(file + ": " + IoErrors.reason(e), e);
        }
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException e) {
            // read-only: nothing was written that closing could lose
        }
    }
}
