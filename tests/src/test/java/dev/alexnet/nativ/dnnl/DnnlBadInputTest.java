package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerTimer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad arguments are refused with {@link IllegalArgumentException} in Java, before any native call
 * (a program that refused a call still runs correctly afterwards), and closed objects refuse use.
 */
class DnnlBadInputTest {
    static DnnlDevice dnnl;
    static Arena arena;
    static final List<Layer> POOL = List.of(Layer.of(new LayerSpec.MaxPool("p", 2, 4, 4, 2, 2, 0)));

    @BeforeAll static void open() { dnnl = new DnnlDevice(1); arena = Arena.ofShared(); }
    @AfterAll static void close() { dnnl.close(); arena.close(); }

    @Test
    void badDeviceAndCompileArguments() {
        assertThrows(IllegalArgumentException.class, () -> new DnnlDevice(0));
        assertThrows(IllegalArgumentException.class, () -> dnnl.compile(List.of(), 1));
        assertThrows(IllegalArgumentException.class, () -> dnnl.compile(null, 1));
        assertThrows(IllegalArgumentException.class, () -> dnnl.compile(POOL, 0));
        // 2x2x2 = 8 values out of the pool, but the linear layer wants 9.
        var mismatch = List.of(POOL.getFirst(), Layer.of(new LayerSpec.Softmax("s", 9)));
        assertThrows(IllegalArgumentException.class, () -> dnnl.compile(mismatch, 1));
        assertEquals(0, dnnl.openPrograms());
    }

    @Test
    void badRunArgumentsThenAGoodRun() {
        try (DnnlProgram p = dnnl.compile(POOL, 2)) {
            MemorySegment in = arena.allocate(p.inputFloats() * 4, 64), out = arena.allocate(p.outputFloats() * 4, 64);
            for (long i = 0; i < p.inputFloats(); i++) in.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            assertThrows(IllegalArgumentException.class, () -> p.run(in.asSlice(0, in.byteSize() - 4), out));
            assertThrows(IllegalArgumentException.class, () -> p.run(in, out.asSlice(0, out.byteSize() - 4)));
            assertThrows(IllegalArgumentException.class, () -> p.run(null, out));
            assertThrows(IllegalArgumentException.class, () -> p.run(in, null));
            assertThrows(IllegalArgumentException.class, () -> p.run(in, out.asReadOnly()));
            assertThrows(IllegalArgumentException.class, () -> p.run(in, out, null));
            assertDoesNotThrow(() -> p.run(in, out, LayerTimer.NONE));
            // image 0, channel 0 is 0..15 in a 4x4 grid: 2x2 max pooling gives 5, 7, 13, 15.
            assertEquals(5f, out.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(15f, out.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
            assertEquals(63f, out.getAtIndex(ValueLayout.JAVA_FLOAT, p.outputFloats() - 1));
        }
    }

    @Test
    void heapSegmentsWorkThroughStaging() {
        try (DnnlProgram p = dnnl.compile(POOL, 1)) {
            float[] x = new float[(int) p.inputFloats()];
            for (int i = 0; i < x.length; i++) x[i] = -i;
            float[] y = new float[(int) p.outputFloats()];
            p.run(MemorySegment.ofArray(x), MemorySegment.ofArray(y));
            assertEquals(0f, y[0]);
            assertEquals(-26f, y[y.length - 1]);
        }
    }

    @Test
    void closedObjectsRefuseUse() {
        DnnlProgram p = dnnl.compile(POOL, 1);
        p.close();
        p.close(); // idempotent
        MemorySegment in = arena.allocate(p.inputFloats() * 4), out = arena.allocate(p.outputFloats() * 4);
        assertThrows(IllegalStateException.class, () -> p.run(in, out));

        DnnlMemoryDesc md = DnnlMemoryDesc.of(dev.alexnet.nativ.dnnl.raw.dnnl_h.dnnl_nchw, 1, 2, 3, 4);
        assertEquals(1 * 2 * 3 * 4 * 4, md.byteSize());
        md.close();
        md.close();
        assertTrue(md.isClosed());
        assertThrows(IllegalStateException.class, md::handle);

        DnnlDevice d = new DnnlDevice(1);
        DnnlProgram q = d.compile(POOL, 1);
        d.close();
        d.close();
        assertThrows(IllegalStateException.class, () -> q.run(in, out), "closing the device closes its programs");
        assertThrows(IllegalStateException.class, () -> d.compile(POOL, 1));
    }

    @Test
    void nativeErrorsCarryFunctionAndStatus() {
        // A 3x3 window on a 2x2 image without padding: oneDNN refuses the descriptor.
        try (DnnlEngine eng = DnnlEngine.cpu();
             DnnlMemoryDesc src = DnnlMemoryDesc.of(dev.alexnet.nativ.dnnl.raw.dnnl_h.dnnl_nchw, 1, 1, 2, 2);
             DnnlMemoryDesc dst = DnnlMemoryDesc.of(dev.alexnet.nativ.dnnl.raw.dnnl_h.dnnl_nchw, 1, 1, 1, 1)) {
            var e = assertThrows(DnnlException.class, () -> DnnlPrimitiveDesc.maxPooling(eng, src, dst,
                    new long[] {1, 1}, new long[] {3, 3}, new long[] {0, 0}, new long[] {0, 0}, null, "test pool"));
            assertEquals("dnnl_pooling_forward_primitive_desc_create", e.function());
            assertEquals("dnnl_invalid_arguments", e.statusName());
            assertTrue(e.getMessage().contains("test pool"), e.getMessage());
        }
    }
}
