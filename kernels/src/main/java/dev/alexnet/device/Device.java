package dev.alexnet.device;

import java.util.List;

/**
 * An execution engine with its own memory and threads: the Java kernels on a fixed pool, oneDNN's
 * CPU engine, a CUDA stream. A device compiles a run of layers for one batch size into a
 * {@link Program} (weights packed or uploaded once, primitives created once, buffers allocated once).
 *
 * <p>Closing a device closes every program it compiled and releases its native resources.
 *
 * <pre>{@code
 * try (Device d = new JavaDevice(2, JavaDevice.Kernels.VECTOR);           // or Devices.create("dnnl:2", ...)
 *      Arena arena = Arena.ofShared()) {
 *     LayerSpec.Conv conv = new LayerSpec.Conv("conv", 3, 32, 32, 16, 3, 1, 1, 1, true);
 *     Layer layer = new Layer(conv, Tensor.allocate(arena, conv.weightShape()), Tensor.allocate(arena, conv.outC()));
 *     Program p = d.compile(List.of(layer), 4);                           // batch 4
 *     MemorySegment in = arena.allocate(p.inputFloats() * 4, 64), out = arena.allocate(p.outputFloats() * 4, 64);
 *     p.run(in, out);
 * }
 * }</pre>
 */
public interface Device extends AutoCloseable {
    /** As given on the command line: {@code java:2}, {@code dnnl:1}, {@code cuda:0}. */
    String name();

    /**
     * @param layers consecutive layers: each one's output size per image equals the next one's input size
     * @param batch  images per run
     */
    Program compile(List<Layer> layers, int batch);

    /**
     * Compiles the layers for training (forward keeping activations, backward, parameter gradients).
     * Devices that cannot train yet say so.
     *
     * @throws UnsupportedOperationException with a message naming the device
     */
    default TrainingProgram compileTraining(List<TrainLayer> layers, int batch) {
        throw new UnsupportedOperationException("device " + name() + " cannot train yet: train on java:N or dnnl:N");
    }

    @Override
    void close();

    /** The layers an inference program runs: dropout is the identity at inference, so it is left out. */
    static List<Layer> inferenceLayers(List<Layer> layers) {
        List<Layer> out = layers.stream().filter(l -> !(l.spec() instanceof LayerSpec.Dropout)).toList();
        if (out.isEmpty() && !layers.isEmpty()) {
            throw new IllegalArgumentException("only dropout layers to compile: an inference program would be the identity");
        }
        return out;
    }

    /** Throws unless consecutive training layers fit together. */
    static void checkTrainingChain(List<TrainLayer> layers) {
        checkChain(layers.stream().map(TrainLayer::layer).toList());
    }

    /** Throws unless consecutive layers fit together. */
    static void checkChain(List<Layer> layers) {
        if (layers.isEmpty()) throw new IllegalArgumentException("no layers to compile");
        for (int i = 1; i < layers.size(); i++) {
            LayerSpec a = layers.get(i - 1).spec(), b = layers.get(i).spec();
            if (a.outputSize() != b.inputSize()) {
                throw new IllegalArgumentException(a.name() + " produces " + a.outputSize() + " values per image but "
                        + b.name() + " expects " + b.inputSize());
            }
        }
    }
}
