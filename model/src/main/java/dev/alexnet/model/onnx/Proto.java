package dev.alexnet.model.onnx;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Just enough of the protobuf wire format to write an ONNX model: varints (wire type 0), fixed32
 * floats (wire type 5) and length-delimited fields (wire type 2: strings, bytes, raw little-endian
 * floats, nested messages). A {@link Message} is a list of fields built in memory; {@link #encode}
 * sizes the whole tree once and writes it into one native segment, so a 240 MB weight set is copied
 * exactly once (from the weight tensors into the model bytes) and never passes through the Java heap.
 */
public final class Proto {
    private Proto() {}

    private static final int VARINT = 0, LEN = 2, FIXED32 = 5;
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private sealed interface Field {}
    private record Varint(int field, long value) implements Field {}
    private record Fixed32(int field, int bits) implements Field {}
    private record Bytes(int field, byte[] value) implements Field {}
    /** Floats read from a segment in native order, written as little-endian bytes (TensorProto.raw_data). */
    private record Floats(int field, MemorySegment floats) implements Field {}
    private record Sub(int field, Message value) implements Field {}

    public static final class Message {
        private final List<Field> fields = new ArrayList<>();
        private long size = -1; // computed once, by encode(), when the tree is complete

        public Message varint(int field, long value) { return add(new Varint(field, value)); }
        public Message f32(int field, float value) { return add(new Fixed32(field, Float.floatToRawIntBits(value))); }
        public Message string(int field, String value) { return add(new Bytes(field, value.getBytes(StandardCharsets.UTF_8))); }
        public Message bytes(int field, byte[] value) { return add(new Bytes(field, value.clone())); }
        public Message message(int field, Message value) { return add(new Sub(field, value)); }

        /** {@code floats} must hold whole native-order floats; they are written little-endian. */
        public Message rawFloats(int field, MemorySegment floats) {
            if (floats.byteSize() % Float.BYTES != 0) throw new IllegalArgumentException("not whole floats: " + floats.byteSize() + " bytes");
            return add(new Floats(field, floats));
        }

        private Message add(Field f) {
            if (size >= 0) throw new IllegalStateException("message already encoded");
            fields.add(f);
            return this;
        }

        public long size() {
            if (size < 0) {
                long n = 0;
                for (Field f : fields) {
                    n += switch (f) {
                        case Varint v -> varintSize(tag(v.field, VARINT)) + varintSize(v.value);
                        case Fixed32 x -> varintSize(tag(x.field, FIXED32)) + 4;
                        case Bytes b -> lenSize(b.field, b.value.length);
                        case Floats fl -> lenSize(fl.field, fl.floats.byteSize());
                        case Sub s -> lenSize(s.field, s.value.size());
                    };
                }
                size = n;
            }
            return size;
        }

        private void writeTo(Sink out) {
            for (Field f : fields) {
                switch (f) {
                    case Varint v -> { out.varint(tag(v.field, VARINT)); out.varint(v.value); }
                    case Fixed32 x -> { out.varint(tag(x.field, FIXED32)); out.fixed32(x.bits); }
                    case Bytes b -> { out.varint(tag(b.field, LEN)); out.varint(b.value.length); out.bytes(b.value); }
                    case Floats fl -> { out.varint(tag(fl.field, LEN)); out.varint(fl.floats.byteSize()); out.floats(fl.floats); }
                    case Sub s -> { out.varint(tag(s.field, LEN)); out.varint(s.value.size()); s.value.writeTo(out); }
                }
            }
        }
    }

    /** The message's wire bytes in a segment of exactly that size, allocated in {@code arena}. */
    public static MemorySegment encode(Message m, Arena arena) {
        long n = m.size();
        MemorySegment seg = arena.allocate(Math.max(n, 1), 64).asSlice(0, n);
        Sink s = new Sink(seg);
        m.writeTo(s);
        if (s.pos != n) throw new AssertionError("protobuf size " + n + " but wrote " + s.pos);
        return seg;
    }

    /** The message's wire bytes on the heap (small messages, tests). */
    public static byte[] encode(Message m) {
        try (Arena a = Arena.ofConfined()) {
            return encode(m, a).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static long tag(int field, int wireType) {
        if (field < 1) throw new IllegalArgumentException("bad field number " + field);
        return ((long) field << 3) | wireType;
    }

    static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) { // unsigned: negative int64 takes 10 bytes, as protobuf writes it
            v >>>= 7;
            n++;
        }
        return n;
    }

    private static long lenSize(int field, long payload) {
        return varintSize(tag(field, LEN)) + varintSize(payload) + payload;
    }

    private static final class Sink {
        final MemorySegment seg;
        long pos;

        Sink(MemorySegment seg) { this.seg = seg; }

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                seg.set(ValueLayout.JAVA_BYTE, pos++, (byte) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            seg.set(ValueLayout.JAVA_BYTE, pos++, (byte) v);
        }

        void fixed32(int bits) {
            seg.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos, bits);
            pos += 4;
        }

        void bytes(byte[] b) {
            MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, pos, b.length);
            pos += b.length;
        }

        void floats(MemorySegment src) {
            long count = src.byteSize() / Float.BYTES;
            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, seg, FLOAT_LE, pos, count);
            pos += src.byteSize();
        }
    }
}
