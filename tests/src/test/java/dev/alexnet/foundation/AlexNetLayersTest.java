package dev.alexnet.foundation;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.model.AlexNetSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one definition of the network's layers: the paper network, the named CaffeNet variant, scaled copies. */
class AlexNetLayersTest {

    @Test
    void specDelegatesToTheOneDefinition() {
        assertEquals(AlexNetLayers.PAPER.layers(), AlexNetSpec.PAPER.layers());
        assertEquals(AlexNetLayers.PAPER.towerSegments(1, 0.5f), AlexNetSpec.PAPER.towerTrainingSegments(1, 0.5f));
        assertEquals(AlexNetLayers.paper(224, false, 10).trainingLayers(0.5f), new AlexNetSpec(224, false, 10).trainingLayers(0.5f));
    }

    @Test
    void caffeNetOrderPoolsBeforeNormalising() {
        List<LayerSpec> caffe = AlexNetLayers.PAPER.withOrder(AlexNetLayers.Order.CAFFENET).layers();
        assertEquals(List.of("conv1", "pool1", "lrn1", "conv2", "pool2", "lrn2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"),
                caffe.stream().map(LayerSpec::name).toList());
        LayerSpec.Lrn lrn1 = (LayerSpec.Lrn) caffe.get(2), lrn2 = (LayerSpec.Lrn) caffe.get(5);
        assertEquals(List.of(96, 27, 27), List.of(lrn1.c(), lrn1.h(), lrn1.w()), "CaffeNet normalises the pooled map");
        assertEquals(List.of(256, 13, 13), List.of(lrn2.c(), lrn2.h(), lrn2.w()));
        // everything but the position and size of the LRN layers is the paper network's
        List<LayerSpec> paper = AlexNetLayers.PAPER.layers();
        assertEquals(paper.stream().filter(l -> !(l instanceof LayerSpec.Lrn)).toList(),
                caffe.stream().filter(l -> !(l instanceof LayerSpec.Lrn)).toList());
    }

    @Test
    void scaledKeepsTheStructureAndDerivesTheSizes() {
        List<LayerSpec> s = AlexNetLayers.PAPER.scaled(99, 2, 256, 100).layers();
        LayerSpec.Conv conv1 = (LayerSpec.Conv) s.get(0), conv2 = (LayerSpec.Conv) s.get(3), conv3 = (LayerSpec.Conv) s.get(6);
        assertEquals(List.of(48, 23), List.of(conv1.outC(), conv1.outH()));       // (99 - 11) / 4 + 1
        assertEquals(List.of(48, 11, 128, 2), List.of(conv2.inC(), conv2.inH(), conv2.outC(), conv2.groups()));
        assertEquals(List.of(128, 5, 192, 1), List.of(conv3.inC(), conv3.inH(), conv3.outC(), conv3.groups()));
        LayerSpec.Linear fc6 = (LayerSpec.Linear) s.get(10), fc8 = (LayerSpec.Linear) s.get(12);
        assertEquals(List.of(128 * 2 * 2, 256), List.of(fc6.in(), fc6.out()));    // pool5: 5x5 -> 2x2
        assertEquals(List.of(256, 100), List.of(fc8.in(), fc8.out()));
        long whole = s.stream().mapToLong(LayerSpec::macs).sum(), tower = 0;
        for (List<LayerSpec> seg : AlexNetLayers.PAPER.scaled(99, 2, 256, 100).towerSegments(0, 0f)) {
            tower += seg.stream().mapToLong(LayerSpec::macs).sum();
        }
        assertEquals(whole, 2 * tower, "a tower of the scaled network does half its work");
    }

    @Test
    void badGeometryIsRefusedWithAMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlexNetLayers.PAPER.scaled(99, 5, 256, 100));
        assertTrue(e.getMessage().contains("width divisor 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AlexNetLayers.PAPER.scaled(5, 1, 256, 100));
        assertThrows(IllegalArgumentException.class, () -> AlexNetLayers.PAPER.towerSegments(2, 0f));
        assertThrows(IllegalArgumentException.class, () -> AlexNetLayers.paper(227, true, 7).towerSegments(0, 0f));
    }
}
