package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.JvmFlags;

/**
 * Builds a {@link Network} from a placement: one device ({@code java:2}) or two towers ({@code dnnl:1,java:1}).
 *
 * <pre>{@code
 * try (AlexNetWeights w = AlexNetWeights.paperInit(42);
 *      Network net = Networks.open(AlexNetSpec.PAPER, w, "dnnl:1,java:1", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
 *     net.forward(images, logits, batch);   // images [batch,3,227,227], logits [batch,1000]: native segments
 * }
 * }</pre>
 *
 * Needs the JVM flags in the README's "Use it as a library" ({@link dev.alexnet.device.JvmFlags}).
 */
public final class Networks {
    private Networks() {}

    /**
     * @param spec      the network (input size, LRN per tower, classes)
     * @param weights   its parameters; must stay open while the network runs
     * @param placement a device name, or two separated by a comma for the paper's two towers
     *                  ({@code cuda:0,cuda:0} = two streams on one GPU)
     * @param kernels   which Java kernels {@code java:N} runs
     * @param precision FP32, or TF32 where a GPU may use tensor cores
     * @return the network; closing it closes its devices
     * @throws IllegalStateException when the JVM runs without {@code --add-modules=jdk.incubator.vector}
     */
    public static Network open(AlexNetSpec spec, AlexNetWeights weights, String placement,
                               JavaDevice.Kernels kernels, Devices.Precision precision) {
        JvmFlags.requireVectorApi("a network");
        String[] parts = placement.split(",");
        if (parts.length == 1) {
            return new SingleDeviceNetwork(spec, weights, Devices.create(parts[0], kernels, precision), true);
        }
        if (parts.length != 2) throw new IllegalArgumentException("--towers takes exactly two devices, e.g. java:1,java:1; got '" + placement + "'");
        Device a = Devices.create(parts[0], kernels, precision);
        Device b;
        try {
            b = Devices.create(parts[1], kernels, precision);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        return new TwoTowerNetwork(spec, weights, a, b, true);
    }
}
