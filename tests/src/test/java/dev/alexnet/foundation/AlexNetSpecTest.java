package dev.alexnet.foundation;

import dev.alexnet.device.LayerSpec;
import dev.alexnet.model.AlexNetSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The network's shape against the design table and the paper. */
class AlexNetSpecTest {

    @Test
    void layerOrderIsThePapers() {
        List<String> names = AlexNetSpec.PAPER.layers().stream().map(LayerSpec::name).toList();
        assertEquals(List.of("conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"), names,
                "conv (+ReLU) -> LRN -> max pooling in layers 1 and 2 (paper section 3.5)");
    }

    @Test
    void macsPerLayerMatchTheDesignTable() {
        Map<String, Long> macs = AlexNetSpec.PAPER.layers().stream()
                .filter(l -> l.macs() > 0).collect(Collectors.toMap(LayerSpec::name, LayerSpec::macs));
        assertEquals(Map.of("conv1", 105_415_200L, "conv2", 223_948_800L, "conv3", 149_520_384L, "conv4", 112_140_288L,
                "conv5", 74_760_192L, "fc6", 37_748_736L, "fc7", 16_777_216L, "fc8", 4_096_000L), macs);
        assertEquals(724_406_816L, macs.values().stream().mapToLong(Long::longValue).sum());
        assertEquals(60_965_224L, AlexNetSpec.parameterCount());
    }

    @Test
    void towersSplitTheWorkInHalfAndExchangeWhereThePaperSays() {
        long whole = AlexNetSpec.PAPER.layers().stream().mapToLong(LayerSpec::macs).sum();
        for (int t = 0; t < 2; t++) {
            List<List<LayerSpec>> segs = AlexNetSpec.PAPER.towerSegments(t);
            assertEquals(5, segs.size(), "segments of tower " + t);
            assertEquals(List.of("conv1", "conv3", "fc6", "fc7", "fc8"), segs.stream().map(s -> s.getFirst().name()).toList());
            long half = segs.stream().flatMap(List::stream).mapToLong(LayerSpec::macs).sum();
            assertEquals(whole, 2 * half, "tower " + t + " does half the multiply-adds");
            for (List<LayerSpec> seg : segs) {
                for (LayerSpec l : seg) {
                    if (l instanceof LayerSpec.Lrn lrn) assertEquals(1, lrn.channelGroups(), "inside a tower LRN spans the tower");
                    if (l instanceof LayerSpec.Conv c) assertEquals(1, c.groups(), "inside a tower convolutions are plain");
                }
            }
        }
        // the single-device network normalises per tower (paper) unless asked otherwise
        for (LayerSpec l : AlexNetSpec.PAPER.layers()) if (l instanceof LayerSpec.Lrn lrn) assertEquals(2, lrn.channelGroups());
        for (LayerSpec l : new AlexNetSpec(227, false).layers()) if (l instanceof LayerSpec.Lrn lrn) assertEquals(1, lrn.channelGroups());
    }

    @Test
    void inputSizes() {
        assertEquals(0, AlexNetSpec.PAPER.conv1Pad());
        assertEquals(2, new AlexNetSpec(224, true).conv1Pad());
        LayerSpec conv1 = new AlexNetSpec(224, true).layers().getFirst();
        assertEquals(96L * 55 * 55, conv1.outputSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AlexNetSpec(256, true));
        assertTrue(e.getMessage().contains("227 or 224"), e.getMessage());
    }
}
