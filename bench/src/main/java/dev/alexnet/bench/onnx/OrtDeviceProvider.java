package dev.alexnet.bench.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import java.util.List;

/** {@code ort:N}: ONNX Runtime's CPU provider on N intra-op threads, the external anchor. */
public final class OrtDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "ort"; }
    @Override public List<String> aliases() { return List.of("onnxruntime"); }
    @Override public String usage() { return "ort:N (ONNX Runtime on N threads)"; }
    @Override public Device create(int number, Options options) { return new OnnxRuntimeDevice(number); }

    @Override
    public Description describe() {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "alexnet");
            return Description.found("ONNX Runtime " + env.getVersion() + " (Java API, from Maven Central)",
                    "execution providers: " + OrtEnvironment.getAvailableProviders() + " (ort:N uses the CPU provider)");
        } catch (Exception | LinkageError e) {
            return Description.unavailable("ONNX Runtime does not load: " + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").strip());
        }
    }
}
