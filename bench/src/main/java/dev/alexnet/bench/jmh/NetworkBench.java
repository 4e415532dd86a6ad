package dev.alexnet.bench.jmh;

import dev.alexnet.kernels.Agreement;
import dev.alexnet.bench.LayerTable;
import dev.alexnet.bench.Oracle;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
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
import java.util.concurrent.TimeUnit;

/**
 * The whole forward pass (images in, 1000 logits out) of the paper AlexNet, on one device or on the
 * paper's two towers: {@code java:2} (one device, two threads) against {@code java:1+java:1} (two
 * single-thread devices, one tower each, exchanging activations before conv3, fc6, fc7 and fc8) is
 * the question of issue 5. Same weights and input as the {@code network} case of {@link LayerTable};
 * the logits are checked against the reference kernels once in {@code @Setup}.
 *
 * <p>Placements use '+' between the two towers, because JMH splits {@code -p} values at commas.
 * Fork and warm-up choices as in {@link LayerBench}; warm-up is longer here because one batch-32
 * pass is hundreds of milliseconds and every layer's kernel has to reach C2.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:-TieredCompilation", "-Xss4m"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class NetworkBench {
    @Param({"java:2", "java:1+java:1", "dnnl:2", "dnnl:1+dnnl:1"})
    public String placement;

    @Param({"1", "32"})
    public int batch;

    private LayerTable table;
    private Network net;
    private Arena arena;
    private MemorySegment images, logits;

    @Setup(Level.Trial)
    public void setup() {
        table = LayerTable.create();
        LayerTable.Case c = table.get("network");
        net = Networks.open(AlexNetSpec.PAPER, table.weights(), placement.replace('+', ','), JavaDevice.Kernels.VECTOR,
                Devices.Precision.FP32);
        arena = Arena.ofShared();
        images = arena.allocate(batch * c.inputFloats() * Float.BYTES, 64);
        logits = arena.allocate(batch * c.outputFloats() * Float.BYTES, 64);
        LayerTable.fillInput(c, images, batch);
        net.forward(images, logits, batch);
        try (Oracle oracle = new Oracle(c, batch, images, false)) {
            Agreement a = oracle.check(logits, Agreement.FP32_BOUND);
            if (!a.pass()) {
                throw new IllegalStateException(placement + " batch " + batch + " logits disagree with the reference: max rel "
                        + a.maxRel() + " > " + a.bound() + " (max abs " + a.maxAbs() + ")");
            }
        }
    }

    @Benchmark
    public MemorySegment forward() {
        net.forward(images, logits, batch);
        return logits;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (net != null) net.close();
        if (arena != null) arena.close();
        if (table != null) table.close();
    }
}
