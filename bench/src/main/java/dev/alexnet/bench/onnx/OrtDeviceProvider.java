package dev.alexnet.bench.onnx;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import java.util.List;

/** {@code ort:N}: ONNX Runtime's CPU provider on N intra-op threads, the external anchor. */
public final class OrtDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "ort"; }
    @Override public List<String> aliases() { return List.of("onnxruntime"); }
    @Override public String usage() { return "ort:N (ONNX Runtime on N threads)"; }
    @Override public Device create(int number, Options options) { return new OnnxRuntimeDevice(number); }
}
