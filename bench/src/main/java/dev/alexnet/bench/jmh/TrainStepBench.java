package dev.alexnet.bench.jmh;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.train.Parameters;
import dev.alexnet.train.Sgd;
import dev.alexnet.train.TrainingNetwork;
import dev.alexnet.train.TrainingNetworks;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One training step of the paper AlexNet (forward with dropout, softmax cross-entropy, backward, the
 * paper's SGD update) on one device or two towers ('+' separates them: JMH splits -p values at commas).
 * Run with {@code -prof gc} to see that a warm step allocates (almost) nothing on the Java heap.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:-TieredCompilation", "-Xss4m"})
@Warmup(iterations = 3, time = 10)
@Measurement(iterations = 3, time = 10)
public class TrainStepBench {
    @Param({"java:2", "dnnl:2", "java:1+java:1"})
    public String placement;

    @Param({"32"})
    public int batch;

    private AlexNetWeights init;
    private Parameters params;
    private TrainingNetwork net;
    private Arena arena;
    private MemorySegment images, labels;
    private long step;

    @Setup(Level.Trial)
    public void setup() {
        AlexNetSpec spec = AlexNetSpec.PAPER;
        init = AlexNetWeights.init(AlexNetWeights.Init.HE, 1, spec.classes());
        params = new Parameters(init);
        net = TrainingNetworks.open(spec, params, placement.replace('+', ','), JavaDevice.Kernels.VECTOR, 0.5f);
        arena = Arena.ofShared();
        long imageFloats = 3L * 227 * 227;
        images = arena.allocate(batch * imageFloats * Float.BYTES, 64);
        labels = arena.allocate(batch * 4L, 4);
        SplittableRandom r = new SplittableRandom(3);
        for (long i = 0; i < batch * imageFloats; i++) images.setAtIndex(JAVA_FLOAT, i, (float) r.nextGaussian());
        for (int i = 0; i < batch; i++) labels.setAtIndex(JAVA_INT, i, r.nextInt(spec.classes()));
    }

    @Benchmark
    public double step() {
        double loss = net.forwardBackward(images, labels, batch, step++, null, null);
        Sgd.PAPER.step(params, 0.01f);
        net.parametersChanged();
        return loss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (net != null) net.close();
        if (params != null) params.close();
        if (init != null) init.close();
        if (arena != null) arena.close();
    }
}
