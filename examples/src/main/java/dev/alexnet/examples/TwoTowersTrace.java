package dev.alexnet.examples;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.model.RunStats;
import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The paper's two towers, each on its own Java device ({@code java:1,java:1}), with a trace of one
 * forward pass: {@code TwoTowersTrace [TRACE.json]} (default {@code target/two-towers.json}; open it in
 * ui.perfetto.dev). Prints each tower's layer and exchange time and the bytes exchanged.
 */
public final class TwoTowersTrace {
    public static void main(String[] args) throws IOException {
        Path trace = Path.of(args.length > 0 ? args[0] : "target/two-towers.json").toAbsolutePath();
        Files.createDirectories(trace.getParent()); // the default lies under target/, which a fresh checkout lacks
        AlexNetSpec spec = AlexNetSpec.PAPER;
        try (AlexNetWeights weights = AlexNetWeights.paperInit(42);
             Network towers = Networks.open(spec, weights, "java:1,java:1", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
             Arena arena = Arena.ofShared()) {
            Tensor images = Tensor.allocate(arena, 1, 3, spec.inputSize(), spec.inputSize());
            Tensor logits = Tensor.allocate(arena, 1, weights.classes());
            RunStats stats = new RunStats();
            towers.forward(images.data(), logits.data(), 1, stats);
            for (String track : stats.tracks()) {
                System.out.printf("%-10s layers %6.1f ms, exchanges %5.2f ms, waiting %5.2f ms%n", track,
                        stats.total(track, RunStats.Kind.LAYER) / 1e6, stats.total(track, RunStats.Kind.EXCHANGE) / 1e6,
                        stats.total(track, RunStats.Kind.WAIT) / 1e6);
            }
            System.out.println("bytes exchanged: " + stats.bytesMoved());
            stats.writeTrace(trace);
            System.out.println("trace: " + trace.toAbsolutePath());
        }
    }
}
