package dev.alexnet.nativ.cuda;

import dev.alexnet.device.Device;
import dev.alexnet.device.DeviceProvider;

import java.util.List;

/**
 * {@code cuda:K}: GPU K through one stream. Without a driver or GPU, {@link #create} throws
 * {@link CudaUnavailableException} ("no CUDA driver: ...") before any native call.
 */
public final class CudaDeviceProvider implements DeviceProvider {
    @Override public String kind() { return "cuda"; }
    @Override public List<String> aliases() { return List.of("gpu"); }
    @Override public boolean numberIsThreads() { return false; }
    @Override public int defaultNumber() { return 0; }
    @Override public String usage() { return "cuda:K (GPU K)"; }

    @Override
    public Device create(int number, Options options) {
        if (number < 0) throw new IllegalArgumentException("a GPU ordinal is 0 or more, got " + number);
        return new CudaDevice(number, options.tf32() ? CudaDevice.Precision.TF32 : CudaDevice.Precision.FP32);
    }
}
