package dev.alexnet.bench.kernels;

import dev.alexnet.bench.LayerTable;
import dev.alexnet.device.Device;
import dev.alexnet.device.Program;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.Devices;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The 3x3 convolutions (conv3-conv5) on the Java device with each algorithm (direct, Winograd F(2x2, 3x3),
 * F(4x4, 3x3)) and on oneDNN, as {@code compare} runs them (one-layer programs, NCHW in and out, counter
 * weights), but interleaved rep by rep in one JVM: on a shared machine the host's load moves by 2x within a
 * minute, and only side-by-side reps give ratios that mean something. Prints each one's median and minimum
 * and oneDNN's time over each (above 1: faster than oneDNN). With {@code cpu=true} (one thread only) the times are the
 * calling thread's CPU time, which leaves out the time the host's other work took the core away: on one thread
 * both the Java kernels and oneDNN (OpenMP, one thread: the caller's) run on the calling thread.
 *
 * <pre>
 * OMP_WAIT_POLICY=passive java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
 *      -cp "bench/target/alexnet-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*" dev.alexnet.bench.kernels.WinogradAb [batches=1,32] [threads=1,2] [reps=30] [layers=conv3,conv4,conv5] [cpu=false]
 * </pre>
 */
public final class WinogradAb {
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        int[] batches = {1, 32}, threads = {1, 2};
        int reps = 30;
        boolean cpu = false;
        List<String> layers = List.of("conv3", "conv4", "conv5");
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "batches" -> batches = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "threads" -> threads = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "reps" -> reps = Integer.parseInt(kv[1]);
                case "layers" -> layers = List.of(kv[1].split(","));
                case "cpu" -> cpu = Boolean.parseBoolean(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + ": use batches=, threads=, reps=, layers=");
            }
        }
        String[] names = {"direct", "winograd", "winograd4", "dnnl"};
        try (LayerTable table = LayerTable.create(); Arena arena = Arena.ofShared()) {
            for (int t : threads) {
                List<Device> devices = new ArrayList<>();
                for (JavaDevice.ConvAlgorithm alg : List.of(JavaDevice.ConvAlgorithm.DIRECT, JavaDevice.ConvAlgorithm.WINOGRAD, JavaDevice.ConvAlgorithm.WINOGRAD4)) {
                    devices.add(new JavaDevice(t, JavaDevice.Kernels.VECTOR, new JavaDevice.Options(alg)));
                }
                devices.add(Devices.create("dnnl:" + t, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32));
                for (int n : batches) {
                    for (String layer : layers) {
                        LayerTable.Case c = table.get(layer);
                        MemorySegment in = arena.allocate(n * c.inputFloats() * 4, 64), out = arena.allocate(n * c.outputFloats() * 4, 64);
                        LayerTable.fillInput(c, in, n);
                        Program[] ps = new Program[devices.size()];
                        for (int i = 0; i < ps.length; i++) ps[i] = devices.get(i).compile(c.layers(), n);
                        double[][] ms = new double[ps.length][reps];
                        for (int r = -Math.max(5, reps / 3); r < reps; r++) {
                            for (int i = 0; i < ps.length; i++) {
                                long t0 = cpu ? CPU.getCurrentThreadCpuTime() : System.nanoTime();
                                ps[i].run(in, out);
                                long t1 = cpu ? CPU.getCurrentThreadCpuTime() : System.nanoTime();
                                if (r >= 0) ms[i][r] = (t1 - t0) / 1e6;
                            }
                        }
                        for (Program p : ps) p.close();
                        double[] med = new double[ps.length], min = new double[ps.length];
                        for (int i = 0; i < ps.length; i++) {
                            Arrays.sort(ms[i]);
                            med[i] = ms[i][reps / 2];
                            min[i] = ms[i][0];
                        }
                        int d = ps.length - 1;
                        StringBuilder sb = new StringBuilder(String.format("%s b%d t%d:", layer, n, t));
                        for (int i = 0; i < ps.length; i++) {
                            sb.append(String.format("  %s %.2f/%.2f ms", names[i], med[i], min[i]));
                            if (i != d) sb.append(String.format(" (%.2fx/%.2fx)", med[d] / med[i], min[d] / min[i]));
                        }
                        System.out.println(sb.append("   [median/min; (dnnl/this)]"));
                    }
                }
                for (Device dev : devices) dev.close();
            }
        }
    }
}
