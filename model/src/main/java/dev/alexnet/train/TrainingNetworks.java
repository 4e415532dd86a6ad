package dev.alexnet.train;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.JvmFlags;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.Devices;

/**
 * Builds a {@link TrainingNetwork} from a placement: one device ({@code java:2}) or two towers ({@code dnnl:1,java:1}).
 * The training entry point of the library; {@link Trainer} adds the loop, data, checkpoints and metrics.
 *
 * <pre>{@code
 * AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(10);
 * try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 1, 10);
 *      Parameters params = new Parameters(init);
 *      TrainingNetwork net = TrainingNetworks.open(spec, params, "java:2", JavaDevice.Kernels.VECTOR, 0.5f)) {
 *     for (int step = 0; step < steps; step++) {
 *         double loss = net.forwardBackward(images, labels, batch, Trainer.stepSeed(1, step), null, null);
 *         Sgd.PAPER.step(params, 0.01f);
 *         net.parametersChanged();
 *     }
 * }
 * }</pre>
 */
public final class TrainingNetworks {
    private TrainingNetworks() {}

    public static TrainingNetwork open(AlexNetSpec spec, Parameters params, String placement, JavaDevice.Kernels kernels, float dropout) {
        JvmFlags.requireVectorApi("training"); // the loss and the optimizer run on the Vector API whatever the device
        String[] parts = placement.split(",");
        if (parts.length == 1) {
            return new SingleDeviceTraining(spec, params, Devices.create(parts[0], kernels, Devices.Precision.FP32), dropout, true);
        }
        if (parts.length != 2) throw new IllegalArgumentException("--towers takes exactly two devices, e.g. java:1,java:1; got '" + placement + "'");
        Device a = Devices.create(parts[0], kernels, Devices.Precision.FP32);
        Device b;
        try {
            b = Devices.create(parts[1], kernels, Devices.Precision.FP32);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        return new TwoTowerTraining(spec, params, a, b, dropout, true);
    }
}
