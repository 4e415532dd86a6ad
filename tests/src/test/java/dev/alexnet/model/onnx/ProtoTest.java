package dev.alexnet.model.onnx;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-written protobuf encoder against bytes worked out from the wire-format specification. */
class ProtoTest {
    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (byte) v[i];
        return out;
    }

    @Test
    void varintsStringsFloatsAndNesting() {
        assertArrayEquals(b(0x08, 0x96, 0x01), Proto.encode(new Proto.Message().varint(1, 150)));
        assertArrayEquals(b(0x08, 0xAC, 0x02), Proto.encode(new Proto.Message().varint(1, 300)));
        assertArrayEquals(b(0x12, 0x02, 'h', 'i'), Proto.encode(new Proto.Message().string(2, "hi")));
        // field 2, wire type 5, 1.0f little-endian
        assertArrayEquals(b(0x15, 0x00, 0x00, 0x80, 0x3F), Proto.encode(new Proto.Message().f32(2, 1f)));
        // field 20 (two-byte tag 0xA0 0x01), value 7
        assertArrayEquals(b(0xA0, 0x01, 0x07), Proto.encode(new Proto.Message().varint(20, 7)));
        // nested: field 7 holding {1: 1}
        assertArrayEquals(b(0x3A, 0x02, 0x08, 0x01), Proto.encode(new Proto.Message().message(7, new Proto.Message().varint(1, 1))));
        // -1 as int64 takes ten bytes
        assertEquals(11, Proto.encode(new Proto.Message().varint(1, -1)).length);
    }

    @Test
    void rawFloatsAreLittleEndian() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(2 * Float.BYTES);
            f.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 1f);
            f.setAtIndex(ValueLayout.JAVA_FLOAT, 1, -2f);
            assertArrayEquals(b(0x4A, 0x08, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0), Proto.encode(new Proto.Message().rawFloats(9, f)));
        }
    }
}
