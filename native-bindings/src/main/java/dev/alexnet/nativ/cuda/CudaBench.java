package dev.alexnet.nativ.cuda;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The GPU host's command-line check and benchmark (the host has no Maven; run from the gpu-bundle):
 * <pre>
 *   java ... dev.alexnet.nativ.cuda.CudaBench smoke            # versions, device, one tiny FFM round trip
 *   java ... dev.alexnet.nativ.cuda.CudaBench bench [batches]  # whole AlexNet forward, fp32 and tf32
 * </pre>
 * The benchmark network is {@link #BENCH_NET}: AlexNet's layers in CaffeNet's order (pooling before LRN in
 * layers 1 and 2), then a softmax, with seeded N(0, 0.01) weights and the paper's biases; LRN over all
 * channels (one group), as torch.nn.LocalResponseNorm does. That is the network torch_alexnet.py builds,
 * so the PyTorch comparison computes the same thing, and the one the figures in docs/GPU.md were taken on.
 */
public final class CudaBench {
    private CudaBench() {}

    /** What {@code bench} runs: see the class comment for why CaffeNet's order and one LRN group. */
    public static final AlexNetLayers BENCH_NET = AlexNetLayers.PAPER.withOrder(AlexNetLayers.Order.CAFFENET).withLrnPerTower(false);

    /**
     * {@code net}'s layers (and a softmax if asked) with seeded N(0, 0.01) weights and the paper's biases
     * (0 in conv1 and conv3, 1 elsewhere).
     */
    public static List<Layer> alexnet(Arena arena, long seed, AlexNetLayers net, boolean softmax) {
        RandomGenerator r = new SplittableRandom(seed); // ziggurat Gaussians: 61 M of them in about a second
        List<Layer> l = new ArrayList<>();
        for (LayerSpec spec : net.layers()) {
            l.add(switch (spec) {
                case LayerSpec.Conv c -> conv(arena, r, c, c.name().equals("conv1") || c.name().equals("conv3") ? 0f : 1f);
                case LayerSpec.Linear f -> linear(arena, r, f);
                default -> Layer.of(spec);
            });
        }
        if (softmax) l.add(Layer.of(new LayerSpec.Softmax("softmax", net.classes())));
        return l;
    }

    static Layer conv(Arena arena, RandomGenerator r, LayerSpec.Conv spec, float bias) {
        return new Layer(spec, gaussian(arena, r, 0.01f, spec.weightShape()), filled(arena, bias, spec.outC()));
    }

    static Layer linear(Arena arena, RandomGenerator r, LayerSpec.Linear spec) {
        return new Layer(spec, gaussian(arena, r, 0.01f, spec.weightShape()), filled(arena, 1f, spec.out()));
    }

    public static Tensor gaussian(Arena arena, RandomGenerator r, float std, int... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        MemorySegment d = t.data();
        for (long i = 0, n = t.size(); i < n; i++) d.setAtIndex(JAVA_FLOAT, i, (float) (r.nextGaussian() * std));
        return t;
    }

    static Tensor filled(Arena arena, float v, int n) {
        Tensor t = Tensor.allocate(arena, n);
        t.data().fill((byte) 0);
        for (int i = 0; i < n; i++) t.set(i, v);
        return t;
    }

    public static void main(String[] args) {
        String mode = args.length == 0 ? "smoke" : args[0];
        switch (mode) {
            case "smoke" -> smoke();
            case "bench" -> bench(args.length > 1 ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {1, 128, 256},
                    args.length > 2 ? Integer.parseInt(args[2]) : 50);
            default -> throw new IllegalArgumentException("usage: CudaBench smoke | bench [batches,comma,separated] [iterations]");
        }
    }

    static void smoke() {
        System.out.println("driver " + Cuda.driverVersion() + " from " + CudaLibraries.loadedFrom(CudaLibraries.CUDA)
                + ", devices " + Cuda.deviceCount() + ", cuda:0 = " + Cuda.deviceName(0) + " sm_" + Cuda.computeCapability(0));
        System.out.println("cuDNN " + Cuda.cudnnVersion() + " from " + CudaLibraries.loadedFrom(CudaLibraries.CUDNN)
                + ", NVRTC " + Cuda.nvrtcVersion() + " from " + CudaLibraries.loadedFrom(CudaLibraries.NVRTC)
                + ", cuBLAS from " + CudaLibraries.loadedFrom(CudaLibraries.CUBLAS));
        try (Arena arena = Arena.ofConfined(); CudaDevice dev = new CudaDevice(0, CudaDevice.Precision.FP32)) {
            Layer fc = linear(arena, new Random(1), new LayerSpec.Linear("fc", 3, 2, true));
            CudaProgram p = dev.compile(List.of(fc, Layer.of(new LayerSpec.Softmax("softmax", 2))), 1);
            MemorySegment in = arena.allocateFrom(JAVA_FLOAT, 1f, 2f, 3f), out = arena.allocate(JAVA_FLOAT, 2);
            p.run(in, out);
            System.out.println("tiny fc+softmax on " + dev + ": " + Arrays.toString(out.toArray(JAVA_FLOAT)) + ", graph " + p.graphNote());
        }
    }

    static void bench(int[] batches, int iterations) {
        System.out.println("device: " + Cuda.deviceName(0) + ", driver " + Cuda.driverVersion() + ", cuDNN " + Cuda.cudnnVersion()
                + ", JDK " + Runtime.version());
        try (Arena arena = Arena.ofShared()) {
            List<Layer> net = alexnet(arena, 42, BENCH_NET, true);
            System.out.printf("%-5s %6s %-6s %12s %12s %14s%n", "prec", "batch", "graph", "device ms", "img/s", "run() ms");
            for (CudaDevice.Precision prec : CudaDevice.Precision.values()) {
                for (int batch : batches) {
                    for (boolean graphs : batch == 1 ? new boolean[] {true, false} : new boolean[] {true}) {
                        try (CudaDevice dev = new CudaDevice(0, prec, new CudaDevice.Options(graphs, CudaDevice.Lrn.AUTO))) {
                            CudaProgram p = dev.compile(net, batch);
                            MemorySegment in = p.inputBuffer(), out = p.outputBuffer();
                            Random r = new Random(7);
                            for (long i = 0; i < in.byteSize() / 4; i++) in.setAtIndex(JAVA_FLOAT, i, r.nextFloat());
                            for (int i = 0; i < 5; i++) p.run(in, out);
                            int iters = batch == 1 ? iterations * 10 : iterations;
                            double[] dms = new double[5];
                            for (int k = 0; k < dms.length; k++) dms[k] = p.timeForward(3, iters);
                            Arrays.sort(dms);
                            double dm = dms[dms.length / 2];
                            // end to end through run(): host input -> pinned -> device -> host output, synchronised
                            double[] runs = new double[Math.max(20, iters)];
                            for (int k = 0; k < runs.length; k++) {
                                long t0 = System.nanoTime();
                                p.run(in, out);
                                runs[k] = (System.nanoTime() - t0) / 1e6;
                            }
                            Arrays.sort(runs);
                            System.out.printf("%-5s %6d %-6s %12.4f %12.0f %14.4f%n", prec.name().toLowerCase(), batch,
                                    p.graphed() ? "yes" : "no", dm, batch * 1000 / dm, runs[runs.length / 2]);
                            if (graphs && batch != 256) System.out.println("      choices: " + p.algorithms());
                            if (graphs && batch != 256) {
                                StringBuilder sb = new StringBuilder("      per layer (GPU ms, layer by layer):");
                                p.profile(20).forEach((k, v) -> sb.append(String.format(" %s %.4f", k, v)));
                                System.out.println(sb);
                            }
                            if (graphs && !p.graphed()) System.out.println("      " + p.graphNote());
                        }
                    }
                }
            }
        }
    }
}
