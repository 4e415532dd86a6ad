package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Checks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** The whole network on one device (grouped layers for the paper's towers, no exchanges). */
public final class SingleDeviceNetwork implements Network {
    private final AlexNetSpec spec;
    private final AlexNetWeights weights;
    private final Device device;
    private final boolean ownsDevice;
    private final Map<Integer, Program> programs = new HashMap<>();

    public SingleDeviceNetwork(AlexNetSpec spec, AlexNetWeights weights, Device device, boolean ownsDevice) {
        this.spec = spec;
        this.weights = weights;
        this.device = device;
        this.ownsDevice = ownsDevice;
    }

    @Override public String placement() { return device.name(); }
    @Override public AlexNetSpec spec() { return spec; }
    public Device device() { return device; }

    private boolean closed;

    /** Compiled once per batch size; after {@link #close} every call throws (a closed device compiles nothing). */
    private synchronized Program program(int batch) {
        if (closed) throw new IllegalStateException("network on " + device.name() + " is closed");
        return programs.computeIfAbsent(batch, b -> device.compile(weights.layers(spec), b));
    }

    @Override
    public void prepare(int batch) {
        Program p = program(batch);
        try (Arena a = Arena.ofShared()) { // shared, as forward's segments: a confined output would run the last step on the caller alone
            p.run(a.allocate(p.inputFloats() * Float.BYTES, 64), a.allocate(p.outputFloats() * Float.BYTES, 64));
        }
    }

    @Override
    public void forward(MemorySegment images, MemorySegment logits, int batch, RunStats stats) {
        Program p = program(batch);
        Checks.floats(images, p.inputFloats(), "images [" + batch + ",3," + spec.inputSize() + "," + spec.inputSize() + "]");
        Checks.floats(logits, p.outputFloats(), "logits [" + batch + ",1000]");
        if (stats == null) {
            p.run(images, logits);
        } else {
            String track = device.name();
            p.run(images, logits, (layer, nanos) -> stats.span(track, layer, RunStats.Kind.LAYER, System.nanoTime() - nanos, nanos));
        }
        NonFinite.poisonRows(images, p.inputFloats() / batch, logits, p.outputFloats() / batch, batch);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        programs.values().forEach(Program::close); // each waits for a run in flight on another thread
        programs.clear();
        if (ownsDevice) device.close();
    }
}
