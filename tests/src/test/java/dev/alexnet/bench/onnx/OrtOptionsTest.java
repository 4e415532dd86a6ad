package dev.alexnet.bench.onnx;

import dev.alexnet.model.onnx.OnnxModel;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The ONNX Runtime device's options record and how system properties fill it. */
class OrtOptionsTest {
    @Test
    void defaultsAreDecomposedLrnAndNoProfile() {
        OnnxRuntimeDevice.Options o = OnnxRuntimeDevice.Options.fromProperties(new Properties());
        assertEquals(OnnxModel.LrnMode.DECOMPOSED, o.lrn());
        assertNull(o.profilePrefix());
    }

    @Test
    void propertiesFillTheRecord() {
        Properties p = new Properties();
        p.setProperty("alexnet.ort.lrn", "OP");
        p.setProperty("alexnet.ort.profile", "/tmp/ort-profile");
        assertEquals(new OnnxRuntimeDevice.Options(OnnxModel.LrnMode.OP, "/tmp/ort-profile"), OnnxRuntimeDevice.Options.fromProperties(p));
        p.setProperty("alexnet.ort.profile", "  ");
        assertNull(OnnxRuntimeDevice.Options.fromProperties(p).profilePrefix(), "a blank prefix means no profile");
    }

    @Test
    void anUnknownLrnModeNamesThePropertyAndTheAcceptedValues() {
        Properties p = new Properties();
        p.setProperty("alexnet.ort.lrn", "fused");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxRuntimeDevice.Options.fromProperties(p));
        assertEquals("alexnet.ort.lrn must be 'op' or 'decomposed', got 'fused'", e.getMessage());
    }

    @Test
    void theDeviceRunsWithTheGivenOptions() {
        try (OnnxRuntimeDevice d = new OnnxRuntimeDevice(1, new OnnxRuntimeDevice.Options(OnnxModel.LrnMode.OP, null))) {
            assertEquals(OnnxModel.LrnMode.OP, d.lrnMode());
            assertEquals(OnnxModel.LrnMode.OP, d.options().lrn());
        }
    }
}
