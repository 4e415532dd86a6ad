package dev.alexnet.safety;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM side of {@link CloseDuringRunTest}: one thread runs the whole network in a loop while the
 * main thread closes something it uses, half way into a pass. Prints one {@code OUTCOME} line per
 * scenario and exits 0 when every run ended in a clean {@link IllegalStateException}, 3 otherwise; a
 * native read of freed memory kills the JVM instead (exit 134).
 *
 * <p>Arguments: a device or tower placement, then scenarios: {@code program} (close the program),
 * {@code input} (close the arena of the caller's input), {@code network} (close the network).
 */
public final class CloseDuringRunChild {
    public static void main(String[] args) throws Exception {
        String placement = args[0];
        boolean ok = true;
        try (AlexNetWeights w = AlexNetWeights.paperInit(3)) {
            for (int i = 1; i < args.length; i++) {
                Throwable t = switch (args[i]) {
                    case "program" -> closeProgram(placement, w);
                    case "input" -> closeInput(placement, w);
                    case "network" -> closeNetwork(placement, w);
                    default -> throw new IllegalArgumentException(args[i]);
                };
                System.out.println("OUTCOME " + args[i] + " " + (t == null ? "none" : t.getClass().getName() + ": " + t.getMessage()));
                ok &= t instanceof IllegalStateException;
            }
        }
        System.exit(ok ? 0 : 3);
    }

    /** Runs {@code pass} in a loop on another thread, calls {@code close} half way into the second pass, returns what ended the loop. */
    private static Throwable closeMidRun(Runnable pass, Runnable close) throws InterruptedException {
        long t0 = System.nanoTime();
        pass.run(); // also warms up
        long oneMillis = Math.max(1, (System.nanoTime() - t0) / 1_000_000);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread runner = new Thread(() -> {
            try {
                for (int i = 0; i < 1_000_000; i++) pass.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "runner");
        runner.start();
        Thread.sleep(oneMillis * 3 / 2);
        close.run();
        runner.join(120_000);
        return failure.get();
    }

    private static Throwable closeProgram(String device, AlexNetWeights w) throws InterruptedException {
        try (Device d = Devices.create(device, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32); Arena a = Arena.ofShared()) {
            Program p = d.compile(w.layers(AlexNetSpec.PAPER).subList(0, 5), 2); // conv1 to lrn2: the tiles' long loops
            MemorySegment in = a.allocate(p.inputFloats() * Float.BYTES, 64), out = a.allocate(p.outputFloats() * Float.BYTES, 64);
            return closeMidRun(() -> p.run(in, out), p::close);
        }
    }

    private static Throwable closeInput(String device, AlexNetWeights w) throws InterruptedException {
        try (Device d = Devices.create(device, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32); Arena a = Arena.ofShared()) {
            Program p = d.compile(w.layers(AlexNetSpec.PAPER).subList(0, 5), 2); // conv1 to lrn2: the tiles' long loops
            Arena inputs = Arena.ofShared();
            MemorySegment in = inputs.allocate(p.inputFloats() * Float.BYTES, 64), out = a.allocate(p.outputFloats() * Float.BYTES, 64);
            return closeMidRun(() -> p.run(in, out), inputs::close);
        }
    }

    private static Throwable closeNetwork(String placement, AlexNetWeights w) throws InterruptedException {
        try (Arena a = Arena.ofShared()) {
            Network n = Networks.open(AlexNetSpec.PAPER, w, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
            MemorySegment in = a.allocate(3L * 227 * 227 * Float.BYTES, 64), out = a.allocate(AlexNetSpec.CLASSES * Float.BYTES, 64);
            return closeMidRun(() -> n.forward(in, out, 1), n::close);
        }
    }
}
