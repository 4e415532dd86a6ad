package dev.alexnet.foundation;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.model.AlexNetSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** torchvision's AlexNet as the second named definition: its layers, parameters, towers and refusals. */
class TorchvisionLayersTest {
    @Test
    void layersAreTorchvisionsFeaturesAndClassifier() {
        List<LayerSpec> l = AlexNetLayers.TORCHVISION.layers();
        assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"),
                l.stream().map(LayerSpec::name).toList());
        assertEquals(l, AlexNetSpec.TORCHVISION.layers(), "the spec delegates to the one definition");
        int[][] shapes = {{64, 3, 11, 11}, {192, 64, 5, 5}, {384, 192, 3, 3}, {256, 384, 3, 3}, {256, 256, 3, 3},
                          {4096, 9216}, {4096, 4096}, {1000, 4096}};
        List<LayerSpec> params = l.stream().filter(s -> s.weightShape() != null).toList();
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], params.get(i).weightShape(), params.get(i).name());
        for (LayerSpec s : l) if (s instanceof LayerSpec.Conv c) assertEquals(1, c.groups(), c.name() + " has no groups");
        LayerSpec.Conv conv1 = (LayerSpec.Conv) l.get(0);
        assertEquals(List.of(2, 55), List.of(conv1.pad(), conv1.outH()));            // (224 + 4 - 11) / 4 + 1
        LayerSpec.MaxPool pool5 = (LayerSpec.MaxPool) l.get(7);
        assertEquals(List.of(6, 6), List.of(pool5.outH(), pool5.outW()), "adaptive average pooling to 6x6 is the identity");
        assertEquals(61_100_840L, AlexNetSpec.TORCHVISION.parameters(), "torchvision's AlexNet parameter count");
        assertEquals(714_188_480L, l.stream().mapToLong(LayerSpec::macs).sum(), "MACs per 224x224 image");
    }

    @Test
    void trainingLayersDropBeforeFc6AndFc7AsTorchvision() {
        List<String> names = AlexNetLayers.TORCHVISION.trainingLayers(0.5f).stream().map(LayerSpec::name).toList();
        assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "drop5", "fc6", "drop6", "fc7", "fc8"), names);
    }

    @Test
    void towersSplitEveryLayerAndExchangeBeforeEachOneAfterPool1() {
        List<List<LayerSpec>> segs = AlexNetLayers.TORCHVISION.towerSegments(1, 0f);
        assertEquals(List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"),
                segs.stream().map(s -> s.getFirst().name()).toList());
        assertEquals(AlexNetLayers.TORCHVISION_EXCHANGE_BEFORE, AlexNetSpec.TORCHVISION.exchangeBefore());
        LayerSpec.Conv conv2 = (LayerSpec.Conv) segs.get(1).getFirst();
        assertEquals(List.of(64, 96), List.of(conv2.inC(), conv2.outC()), "a tower reads all 64 channels and makes half of 192");
        long whole = AlexNetLayers.TORCHVISION.layers().stream().mapToLong(LayerSpec::macs).sum(), tower = 0;
        for (List<LayerSpec> s : segs) tower += s.stream().mapToLong(LayerSpec::macs).sum();
        assertEquals(whole, 2 * tower, "a tower does half the work");
    }

    @Test
    void otherInputSizesAreRefusedNamingTheFix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlexNetLayers.torchvision(256, 1000));
        assertTrue(e.getMessage().contains("pool5's map is 7x7") && e.getMessage().contains("224"), e.getMessage());
        assertEquals(6, ((LayerSpec.MaxPool) AlexNetLayers.torchvision(227, 1000).layers().get(7)).outH(), "227 also gives 6x6");
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> new AlexNetSpec(256, false, 1000, Arch.TORCHVISION));
        assertTrue(s.getMessage().contains("resize the images to 224x224"), s.getMessage());
        assertEquals(Arch.TORCHVISION, Arch.parse("torchvision"));
        assertThrows(IllegalArgumentException.class, () -> Arch.parse("vgg"));
    }

    @Test
    void fileNamesAreTorchvisionsStateDict() {
        assertEquals("features.0.weight", AlexNetSpec.TORCHVISION.fileName("conv1.weight"));
        assertEquals("features.10.bias", AlexNetSpec.TORCHVISION.fileName("conv5.bias"));
        assertEquals("classifier.6.weight", AlexNetSpec.TORCHVISION.fileName("fc8.weight"));
        assertEquals("conv1.weight", AlexNetSpec.PAPER.fileName("conv1.weight"));
    }
}
