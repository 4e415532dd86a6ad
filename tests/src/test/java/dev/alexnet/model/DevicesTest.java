package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.nativ.cuda.Cuda;
import dev.alexnet.nativ.cuda.CudaUnavailableException;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every device kind through {@link Devices#create}, the path the command line takes. A missing provider
 * or a factory that does not build its device fails here (it is never a skip): oneDNN and ONNX Runtime
 * are dependencies of the build, and a CUDA host without a GPU must get the driver's clean message.
 */
class DevicesTest {
    private static Device make(String name) {
        return Devices.create(name, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
    }

    private static void makes(String name, String expectedName, String expectedClass) {
        try (Device d = make(name)) {
            assertEquals(expectedName, d.name(), name);
            assertEquals(expectedClass, d.getClass().getName(), name);
        }
    }

    private static void refused(String name, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> make(name), name);
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        for (String p : parts) assertTrue(m.contains(p), "message for '" + name + "' lacks '" + p + "': " + m);
    }

    @Test
    void everyBackendHasExactlyOneProvider() {
        Map<String, String> kinds = new TreeMap<>();
        for (DeviceProvider p : Devices.providers()) {
            assertEquals(null, kinds.put(p.kind(), p.getClass().getName()), "two providers for " + p.kind());
        }
        assertEquals(Map.of(
                "java", "dev.alexnet.device.java.JavaDeviceProvider",
                "ref", "dev.alexnet.device.java.JavaDeviceProvider$Reference",
                "dnnl", "dev.alexnet.nativ.dnnl.DnnlDeviceProvider",
                "cuda", "dev.alexnet.nativ.cuda.CudaDeviceProvider",
                "ort", "dev.alexnet.bench.onnx.OrtDeviceProvider"), kinds);
    }

    @Test
    void javaAndReference() {
        makes("java:2", "java:2", "dev.alexnet.device.java.JavaDevice");
        makes(" JAVA:1 ", "java:1", "dev.alexnet.device.java.JavaDevice");
        makes("java", "java:1", "dev.alexnet.device.java.JavaDevice");
        makes("ref:1", "ref:1", "dev.alexnet.device.java.JavaDevice");
        makes("reference:1", "ref:1", "dev.alexnet.device.java.JavaDevice");
        try (Device d = Devices.create("java:1", JavaDevice.Kernels.REFERENCE, Devices.Precision.FP32)) {
            assertEquals("ref:1", d.name(), "--kernels reference reaches java:N");
        }
    }

    @Test
    void oneDnnAndAlias() {
        makes("dnnl:2", "dnnl:2", "dev.alexnet.nativ.dnnl.DnnlDevice");
        makes("onednn:1", "dnnl:1", "dev.alexnet.nativ.dnnl.DnnlDevice");
    }

    @Test
    void onnxRuntimeAndAlias() {
        makes("ort:1", "ort:1", "dev.alexnet.bench.onnx.OnnxRuntimeDevice");
        makes("onnxruntime:2", "ort:2", "dev.alexnet.bench.onnx.OnnxRuntimeDevice");
    }

    @Test
    void cudaReachesTheRealConstructor() {
        if (Cuda.available()) {
            makes("cuda:0", "cuda:0", "dev.alexnet.nativ.cuda.CudaDevice");
            makes("gpu", "cuda:0", "dev.alexnet.nativ.cuda.CudaDevice");
            return;
        }
        for (String name : new String[] {"cuda:0", "gpu:0", "cuda"}) {
            // the constructor ran and refused for want of a driver or GPU: not "not built into this version"
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> make(name), name);
            String m = e.getMessage();
            assertTrue(m.startsWith("no CUDA driver") || m.startsWith("no usable CUDA device") || m.startsWith("no CUDA device"), m);
            assertFalse(m.contains("not built"), m);
        }
        assertThrows(CudaUnavailableException.class,
                () -> Devices.create("cuda:0", JavaDevice.Kernels.VECTOR, Devices.Precision.TF32));
    }

    @Test
    void badNamesAreOneLineErrors() {
        refused("tpu:1", "unknown device kind 'tpu'", "java:N", "dnnl:N", "cuda:K", "ort:N");
        refused("java:two", "bad device 'java:two'");
        refused("java:", "bad device 'java:'");
        refused("dnnl:1.5", "bad device 'dnnl:1.5'");
        refused("java:0", "at least one thread");
        refused("dnnl:-1", "at least one thread");
        refused("", "empty device name");
        refused("cuda:-1", "GPU ordinal");
    }

    @Test
    void threadCountsBeyondTheCoresAreRefused() {
        int max = Devices.maxThreads();
        assertEquals(4 * Runtime.getRuntime().availableProcessors(), max);
        makes("java:" + max, "java:" + max, "dev.alexnet.device.java.JavaDevice");
        refused("java:1000", "asks for 1000 threads", "at most " + max);
        refused("dnnl:" + (max + 1), "at most " + max);
        refused("ort:100000", "at most " + max);
    }
}
