package dev.alexnet.model.caffe;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A protobuf writer for tests, written from the wire format's definition (independent of the reader under
 * test), and the Caffe messages built with it: NetParameter with {@code layer} (field 100) or legacy
 * {@code layers} (field 2), BlobProto with a BlobShape or legacy num/channels/height/width, values packed
 * or unpacked, as floats or doubles. Values come from a function of their index, so a full-size model is
 * streamed to disk without being held in memory.
 */
final class CaffeFiles {
    private CaffeFiles() {}

    /** A piece of a message that knows its encoded size and streams itself. */
    interface Node {
        long size();
        void write(OutputStream o) throws IOException;
    }

    interface Values { float at(long i); }

    enum Enc { PACKED, UNPACKED, PACKED_DOUBLE, UNPACKED_DOUBLE }

    static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7fL) != 0) { v >>>= 7; n++; }
        return n;
    }

    static void varint(OutputStream o, long v) throws IOException {
        while ((v & ~0x7fL) != 0) {
            o.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        o.write((int) v);
    }

    static void fixed32(OutputStream o, int v) throws IOException {
        for (int i = 0; i < 4; i++) o.write(v >>> (8 * i) & 0xff);
    }

    static void fixed64(OutputStream o, long v) throws IOException {
        for (int i = 0; i < 8; i++) o.write((int) (v >>> (8 * i) & 0xff));
    }

    static long tag(int field, int wire) { return (long) field << 3 | wire; }

    /** Literal bytes. */
    static Node raw(byte[] b) {
        return new Node() {
            public long size() { return b.length; }
            public void write(OutputStream o) throws IOException { o.write(b); }
        };
    }

    static Node varintField(int field, long v) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
            varint(b, tag(field, 0));
            varint(b, v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return raw(b.toByteArray());
    }

    static Node floatField(int field, float v) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
            varint(b, tag(field, 5));
            fixed32(b, Float.floatToRawIntBits(v));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return raw(b.toByteArray());
    }

    static Node string(int field, String s) {
        return message(field, List.of(raw(s.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    }

    /** A length-delimited field holding {@code body}. */
    static Node message(int field, List<Node> body) {
        long len = body.stream().mapToLong(Node::size).sum();
        return new Node() {
            public long size() { return varintSize(tag(field, 2)) + varintSize(len) + len; }
            public void write(OutputStream o) throws IOException {
                varint(o, tag(field, 2));
                varint(o, len);
                for (Node n : body) n.write(o);
            }
        };
    }

    /** {@code n} values of repeated float/double field {@code field} in encoding {@code enc}. */
    static Node values(int field, long n, Values v, Enc enc) {
        boolean dbl = enc == Enc.PACKED_DOUBLE || enc == Enc.UNPACKED_DOUBLE;
        int width = dbl ? 8 : 4;
        boolean packed = enc == Enc.PACKED || enc == Enc.PACKED_DOUBLE;
        return new Node() {
            public long size() {
                return packed ? varintSize(tag(field, 2)) + varintSize(n * width) + n * width : n * (varintSize(tag(field, dbl ? 1 : 5)) + width);
            }
            public void write(OutputStream o) throws IOException {
                if (packed) {
                    varint(o, tag(field, 2));
                    varint(o, n * width);
                    java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(1 << 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    for (long i = 0; i < n; i++) {
                        if (chunk.remaining() < width) {
                            o.write(chunk.array(), 0, chunk.position());
                            chunk.clear();
                        }
                        if (dbl) chunk.putDouble(v.at(i)); else chunk.putFloat(v.at(i));
                    }
                    o.write(chunk.array(), 0, chunk.position());
                    return;
                }
                for (long i = 0; i < n; i++) {
                    if (!packed) varint(o, tag(field, dbl ? 1 : 5));
                    if (dbl) fixed64(o, Double.doubleToRawLongBits(v.at(i))); else fixed32(o, Float.floatToRawIntBits(v.at(i)));
                }
            }
        };
    }

    /** A BlobProto's fields: values first, then the shape (field 7) or legacy dims (fields 1-4), as protobuf writes by field number... */
    static List<Node> blob(long[] dims, Values v, Enc enc, boolean legacyDims) {
        long n = 1;
        for (long d : dims) n *= d;
        List<Node> b = new ArrayList<>();
        if (legacyDims) {
            long[] d4 = new long[4];
            Arrays.fill(d4, 1);
            System.arraycopy(dims, 0, d4, 4 - dims.length, dims.length);
            for (int i = 0; i < 4; i++) b.add(varintField(i + 1, d4[i]));
        }
        b.add(values(enc == Enc.PACKED_DOUBLE || enc == Enc.UNPACKED_DOUBLE ? 8 : 5, n, v, enc));
        if (!legacyDims) {
            ByteArrayOutputStream packedDims = new ByteArrayOutputStream();
            try {
                for (long d : dims) varint(packedDims, d);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            b.add(message(7, List.of(message(1, List.of(raw(packedDims.toByteArray()))))));
        }
        return b;
    }

    record Blob(long[] dims, Values values, Enc enc) {}

    record Layer(String name, String type, List<Blob> blobs, float[] lrn) {
        static Layer plain(String name, String type) { return new Layer(name, type, List.of(), null); }
    }

    static int v1Type(String type) {
        return switch (type) {
            case "Convolution" -> 4;
            case "InnerProduct" -> 14;
            case "LRN" -> 15;
            case "Pooling" -> 17;
            case "ReLU" -> 18;
            case "Data" -> 5;
            case "Dropout" -> 6;
            case "Softmax" -> 20;
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** One layer as a NetParameter field: {@code layer} (100) or, with {@code legacy}, {@code layers} (2). */
    static Node layer(Layer l, boolean legacy) {
        List<Node> body = new ArrayList<>();
        if (legacy) {
            body.add(string(3, l.name() + "_top")); // top before name, as field order has it
            body.add(string(4, l.name()));
            body.add(varintField(5, v1Type(l.type())));
        } else {
            body.add(string(1, l.name()));
            body.add(string(2, l.type()));
            body.add(string(4, l.name() + "_top"));
        }
        for (Blob b : l.blobs()) body.add(message(legacy ? 6 : 7, blob(b.dims(), b.values(), b.enc(), legacy)));
        if (l.lrn() != null) {
            List<Node> p = new ArrayList<>();
            p.add(varintField(1, (long) l.lrn()[0]));
            p.add(floatField(2, l.lrn()[1]));
            p.add(floatField(3, l.lrn()[2]));
            if (l.lrn().length > 3) p.add(floatField(5, l.lrn()[3]));
            body.add(message(legacy ? 18 : 118, p));
        }
        return message(legacy ? 2 : 100, body);
    }

    static List<Node> net(List<Layer> layers, boolean legacy) {
        List<Node> n = new ArrayList<>();
        n.add(string(1, "AlexNet"));
        for (Layer l : layers) n.add(layer(l, legacy));
        return n;
    }

    static Path write(Path file, List<Node> nodes) {
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            for (Node n : nodes) n.write(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static byte[] bytes(List<Node> nodes) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
            for (Node n : nodes) n.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }
}
