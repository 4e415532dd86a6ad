package dev.alexnet.bench;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The work figures every benchmark divides by: the MACs in docs/DESIGN.md's network table, and bytes for the memory-bound layers. */
class LayerTableTest {
    static LayerTable table;

    @BeforeAll
    static void open() { table = LayerTable.create(); }

    @AfterAll
    static void close() { table.close(); }

    /** docs/DESIGN.md, "The network": MACs per image. */
    static final Map<String, Long> MACS = new LinkedHashMap<>();
    static {
        MACS.put("conv1", 105_415_200L);
        MACS.put("conv2", 223_948_800L);
        MACS.put("conv3", 149_520_384L);
        MACS.put("conv4", 112_140_288L);
        MACS.put("conv5", 74_760_192L);
        MACS.put("fc6", 37_748_736L);
        MACS.put("fc7", 16_777_216L);
        MACS.put("fc8", 4_096_000L);
    }

    @Test
    void flopsAreTwiceDesignMacs() {
        MACS.forEach((name, macs) -> {
            LayerTable.Case c = table.get(name);
            assertEquals(LayerTable.Kind.COMPUTE, c.kind(), name);
            assertEquals(2 * macs, c.flopsPerImage(), name);
            assertEquals(2.0 * macs, LayerTable.workPerImage(name), name);
            assertEquals("GFLOP/s", c.unit(), name);
        });
    }

    @Test
    void networkIs724MegaMacs() {
        long total = MACS.values().stream().mapToLong(Long::longValue).sum();
        assertEquals(724_406_816L, total);
        LayerTable.Case net = table.get("network");
        assertEquals(LayerTable.Kind.NETWORK, net.kind());
        assertEquals(2 * total, net.flopsPerImage());
        assertEquals(1.449, net.flopsPerImage() / 1e9, 0.0005); // "1.449 GFLOP per image"
        assertEquals(3 * 227 * 227, net.inputFloats());
        assertEquals(1000, net.outputFloats());
        assertEquals(13, net.layers().size());
        assertEquals(2 * total * 32.0, net.work(32));
    }

    @Test
    void memoryBoundLayersCountInputPlusOutputBytes() {
        Map<String, long[]> io = Map.of( // input floats, output floats per image
                "lrn1", new long[] {96 * 55 * 55, 96 * 55 * 55},
                "pool1", new long[] {96 * 55 * 55, 96 * 27 * 27},
                "lrn2", new long[] {256 * 27 * 27, 256 * 27 * 27},
                "pool2", new long[] {256 * 27 * 27, 256 * 13 * 13},
                "pool5", new long[] {256 * 13 * 13, 256 * 6 * 6},
                "softmax", new long[] {1000, 1000});
        io.forEach((name, f) -> {
            LayerTable.Case c = table.get(name);
            assertEquals(LayerTable.Kind.MEMORY, c.kind(), name);
            assertEquals(0, c.flopsPerImage(), name);
            assertEquals(4 * (f[0] + f[1]), c.bytesPerImage(), name);
            assertEquals(4.0 * (f[0] + f[1]), LayerTable.workPerImage(name), name);
            assertEquals("GB/s", c.unit(), name);
            assertEquals("GB/s", LayerTable.unitOf(name), name);
        });
        assertEquals(1_441_536L, table.get("pool1").bytesPerImage());
    }

    @Test
    void tableOrderAndSelection() {
        assertEquals(LayerTable.NAMES, table.cases().stream().map(LayerTable.Case::name).toList());
        assertEquals(List.of("lrn1", "conv3"), table.select(List.of("conv3", "lrn1")).stream().map(LayerTable.Case::name).toList());
        assertEquals(15, table.select(List.of("all")).size());
        assertThrows(IllegalArgumentException.class, () -> table.select(List.of("conv6")));
    }
}
