package dev.alexnet.nativ.dnnl;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import java.util.List;

/** {@code dnnl:N}: oneDNN on N OpenMP threads. The library loads when the first device is made, not when this class is found. */
public final class DnnlDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "dnnl"; }
    @Override public List<String> aliases() { return List.of("onednn"); }
    @Override public String usage() { return "dnnl:N (oneDNN on N threads)"; }
    @Override public Device create(int number, Options options) { return new DnnlDevice(number); }
}
