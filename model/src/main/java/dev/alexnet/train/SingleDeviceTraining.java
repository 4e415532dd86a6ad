package dev.alexnet.train;

import dev.alexnet.device.Device;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.TrainingProgram;
import dev.alexnet.kernels.Checks;
import dev.alexnet.kernels.ref.SoftmaxCrossEntropyRef;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.RunStats;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** The whole training network on one device (grouped layers for the paper's towers, no exchanges). */
public final class SingleDeviceTraining implements TrainingNetwork {
    private final AlexNetSpec spec;
    private final Parameters params;
    private final Device device;
    private final float dropout;
    private final boolean ownsDevice;
    private final Map<Integer, Plan> plans = new HashMap<>();

    private record Plan(TrainingProgram program, MemorySegment logits, MemorySegment gradLogits) {}

    private final Arena arena = Arena.ofShared();

    public SingleDeviceTraining(AlexNetSpec spec, Parameters params, Device device, float dropout, boolean ownsDevice) {
        params.check(spec);
        this.spec = spec;
        this.params = params;
        this.device = device;
        this.dropout = dropout;
        this.ownsDevice = ownsDevice;
    }

    @Override public String placement() { return device.name(); }
    @Override public AlexNetSpec spec() { return spec; }

    private Plan plan(int batch) {
        return plans.computeIfAbsent(batch, b -> {
            TrainingProgram p = device.compileTraining(params.bind(spec.trainingLayers(dropout)), b);
            long n = (long) b * spec.classes() * Float.BYTES;
            return new Plan(p, arena.allocate(n, 64), arena.allocate(n, 64));
        });
    }

    @Override
    public double forwardBackward(MemorySegment images, MemorySegment labels, int batch, long seed, MemorySegment logits, RunStats stats) {
        Plan p = plan(batch);
        Checks.floats(images, p.program().inputFloats(), "images [" + batch + ",3," + spec.inputSize() + "," + spec.inputSize() + "]");
        if (labels == null || labels.byteSize() < (long) batch * Integer.BYTES) throw new IllegalArgumentException("labels hold fewer than " + batch + " ints");
        LayerTimer timer = stats == null ? LayerTimer.NONE
                : (layer, nanos) -> stats.span(device.name(), layer, RunStats.Kind.LAYER, System.nanoTime() - nanos, nanos);
        p.program().forward(images, p.logits(), seed, timer);
        double loss = SoftmaxCrossEntropyRef.loss(p.logits(), labels, p.gradLogits(), batch, spec.classes());
        p.program().backward(p.gradLogits(), null, timer);
        if (logits != null) MemorySegment.copy(p.logits(), 0, logits, 0, p.logits().byteSize());
        return loss;
    }

    @Override
    public void parametersChanged() {
        for (Plan p : plans.values()) p.program().parametersChanged();
    }

    @Override
    public void close() {
        for (Plan p : plans.values()) p.program().close();
        plans.clear();
        if (arena.scope().isAlive()) arena.close();
        if (ownsDevice) device.close();
    }
}
