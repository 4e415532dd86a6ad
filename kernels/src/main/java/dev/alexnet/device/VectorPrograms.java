package dev.alexnet.device;

import java.util.List;

/** Entry point from {@link JavaDevice} to the Vector API kernels (package {@code dev.alexnet.kernels.vec}). */
final class VectorPrograms {
    private VectorPrograms() {}

    static Program compile(List<Layer> layers, int batch, int threads) {
        // Until the vectorised program lands, VECTOR runs the reference kernels (same results, slower).
        return new JavaDevice.ReferenceProgram(layers, batch);
    }
}
