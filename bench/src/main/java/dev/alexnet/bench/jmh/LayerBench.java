package dev.alexnet.bench.jmh;

import dev.alexnet.kernels.Agreement;
import dev.alexnet.bench.LayerTable;
import dev.alexnet.bench.Oracle;
import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Program;
import dev.alexnet.model.Devices;
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
 * One AlexNet layer (or softmax) on one device through the device SPI ({@link Device#compile},
 * {@link Program#run}): the same {@link LayerTable} case, seeded input and weights that
 * {@code alexnet compare} times, so the two cross-check. Time per run of the whole batch; GFLOP/s
 * (or GB/s for pool, lrn, softmax) is computed from the table by {@link JmhReport}.
 *
 * <p>Choices, and why:
 * <ul>
 *   <li>{@code -XX:-TieredCompilation}: C1 gave up on a big kernel method ("out of virtual
 *       registers") and in 2 of 5 runs left it ~100x slow for the whole run (docs/DESIGN.md);
 *       C2-only compiles it once, properly.</li>
 *   <li>1 fork by default (the scripts set 3 for the full profile): each fork pays the weights'
 *       initialisation and a reference check; forks guard against a JIT outcome that sticks.</li>
 *   <li>5 x 1 s warm-up: first calls run boxed vector code (200-400 ms each for the big kernels),
 *       and a batch-32 conv run takes tens of ms, so 5 s reaches C2 code with room to spare.</li>
 *   <li>Average time, not throughput: one op is a whole batch, milliseconds long.</li>
 *   <li>The output is checked against the reference kernels once in {@code @Setup}; a device that
 *       disagrees fails the benchmark instead of reporting the speed of a wrong answer. A device that
 *       is unavailable (no oneDNN, no GPU) fails its parameter set with the reason; the others run.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:-TieredCompilation", "-Xss4m"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class LayerBench {
    @Param({"conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8", "softmax"})
    public String layer;

    @Param({"1", "32"})
    public int batch;

    /** java:N = the Vector API kernels on N threads; dnnl:N = oneDNN on N OpenMP threads; cuda:0; ref:1. */
    @Param({"java:1", "java:2", "dnnl:1", "dnnl:2"})
    public String device;

    private LayerTable table;
    private Device dev;
    private Program program;
    private Arena arena;
    private MemorySegment input, output;

    @Setup(Level.Trial)
    public void setup() {
        table = LayerTable.create();
        LayerTable.Case c = table.get(layer);
        dev = Devices.create(device, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
        program = dev.compile(c.layers(), batch);
        arena = Arena.ofShared();
        input = arena.allocate(batch * c.inputFloats() * Float.BYTES, 64);
        output = arena.allocate(batch * c.outputFloats() * Float.BYTES, 64);
        LayerTable.fillInput(c, input, batch);
        program.run(input, output);
        try (Oracle oracle = new Oracle(c, batch, input, false)) {
            Agreement a = oracle.check(output, Agreement.FP32_BOUND);
            if (!a.pass()) {
                throw new IllegalStateException(device + " " + layer + " batch " + batch + " disagrees with the reference: max rel "
                        + a.maxRel() + " > " + a.bound() + " (max abs " + a.maxAbs() + ", non-finite " + a.nonFinite() + ")");
            }
        }
    }

    @Benchmark
    public MemorySegment run() {
        program.run(input, output);
        return output;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (program != null) program.close();
        if (dev != null) dev.close();
        if (arena != null) arena.close();
        if (table != null) table.close();
    }
}
