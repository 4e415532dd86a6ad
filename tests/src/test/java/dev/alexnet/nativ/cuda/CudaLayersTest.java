package dev.alexnet.nativ.cuda;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.LrnParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.alexnet.nativ.cuda.CudaTestSupport.open;
import static dev.alexnet.nativ.cuda.CudaTestSupport.reference;
import static dev.alexnet.nativ.cuda.CudaTestSupport.relError;
import static dev.alexnet.nativ.cuda.CudaTestSupport.run;
import static dev.alexnet.nativ.cuda.CudaTestSupport.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each layer kind on cuda:0 (strict fp32) against JavaDevice(1, REFERENCE), at batch 3 so that batch
 * strides matter (grouped convolutions, per-group LRN). Tolerances: max|a-b|/max|b| below 1e-5 for
 * pooling, LRN and softmax (a few float operations per output), 1e-4 for convolutions and fully
 * connected layers (sums of 363 to 9216 products, in cuDNN's and cuBLAS's own orders).
 */
@Tag("gpu")
class CudaLayersTest {
    static final int BATCH = 3;

    @BeforeAll
    static void gpu() {
        CudaTestSupport.assumeCuda();
    }

    static float[][] compare(List<Layer> layers, CudaDevice.Options options, long seed) {
        return compare(layers, options, seed, BATCH);
    }

    static float[][] compare(List<Layer> layers, CudaDevice.Options options, long seed, int batch) {
        try (Arena arena = Arena.ofShared(); CudaDevice dev = open(CudaDevice.Precision.FP32, options)) {
            Program p = dev.compile(layers, batch);
            MemorySegment in = uniform(arena, p.inputFloats(), seed, -1f, 1f);
            return new float[][] {run(p, in), reference(layers, batch, in)};
        }
    }

    static void check(List<Layer> layers, double tol) {
        check(layers, tol, new CudaDevice.Options(true, CudaDevice.Lrn.AUTO));
    }

    static void check(List<Layer> layers, double tol, CudaDevice.Options options) {
        float[][] r = compare(layers, options, 11);
        double err = relError(r[0], r[1]);
        assertTrue(err < tol, layers.getFirst().spec().name() + ": relative error " + err + " >= " + tol);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"conv1", "conv2", "conv4", "conv-small"})
    void convolutionsMatchReference(String which) {
        convolutionMatchesReference(which, new CudaDevice.Options(true, CudaDevice.Lrn.AUTO));
    }

    private static void convolutionMatchesReference(String which, CudaDevice.Options options) {
        try (Arena arena = Arena.ofShared()) {
            var r = new java.util.SplittableRandom(3);
            LayerSpec.Conv spec = switch (which) {
                case "conv1" -> new LayerSpec.Conv("conv1", 3, 227, 227, 96, 11, 4, 0, 1, true);
                case "conv2" -> new LayerSpec.Conv("conv2", 96, 27, 27, 256, 5, 1, 2, 2, true);
                case "conv4" -> new LayerSpec.Conv("conv4", 384, 13, 13, 384, 3, 1, 1, 2, false);
                default -> new LayerSpec.Conv("conv-small", 6, 9, 7, 4, 3, 2, 1, 2, true);
            };
            Layer l = new Layer(spec, CudaBench.gaussian(arena, r, 0.05f, spec.weightShape()), CudaBench.gaussian(arena, r, 0.5f, spec.outC()));
            check(List.of(l), 1e-4, options);
        }
    }

    /** The small-batch alternative (im2col + a cuBLAS GEMM per image and group), forced on. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"conv1", "conv2", "conv4", "conv-small"})
    void convolutionsViaGemmMatchReference(String which) {
        convolutionMatchesReference(which, new CudaDevice.Options(true, CudaDevice.Lrn.AUTO).withConv(CudaDevice.Conv.GEMM));
    }

    @Test
    void maxPoolMatchesReferenceExactly() {
        float[][] r = compare(List.of(Layer.of(new LayerSpec.MaxPool("pool1", 96, 55, 55, 3, 2, 0))), new CudaDevice.Options(true, CudaDevice.Lrn.AUTO), 5);
        assertArrayEquals(r[1], r[0]);
    }

    @ParameterizedTest(name = "groups={0}")
    @ValueSource(ints = {1, 2})
    void lrnMatchesReferenceWithCudnn(int groups) {
        float[][] r = compare(List.of(Layer.of(new LayerSpec.Lrn("lrn1", 96, 27, 27, LrnParams.PAPER, groups))),
                new CudaDevice.Options(true, CudaDevice.Lrn.CUDNN), 7);
        double err = relError(r[0], r[1]);
        assertTrue(err < 1e-5, "relative error " + err);
    }

    @ParameterizedTest(name = "groups={0}")
    @ValueSource(ints = {1, 2})
    void lrnMatchesReferenceWithKernel(int groups) {
        float[][] r = compare(List.of(Layer.of(new LayerSpec.Lrn("lrn2", 256, 13, 13, LrnParams.PAPER, groups))),
                new CudaDevice.Options(true, CudaDevice.Lrn.KERNEL), 6);
        double err = relError(r[0], r[1]);
        assertTrue(err < 1e-5, "relative error " + err);
    }

    /** Large inputs so that the alpha convention matters: alpha/n instead of alpha would be off by far more. */
    @Test
    void lrnUsesThePaperAlpha() {
        try (Arena arena = Arena.ofShared(); CudaDevice dev = open(CudaDevice.Precision.FP32)) {
            List<Layer> l = List.of(Layer.of(new LayerSpec.Lrn("lrn", 16, 3, 3, LrnParams.PAPER, 2)));
            Program p = dev.compile(l, 2);
            MemorySegment in = uniform(arena, p.inputFloats(), 9, -40f, 40f);
            double err = relError(run(p, in), reference(l, 2, in));
            assertTrue(err < 1e-5, "relative error " + err);
        }
    }

    @ParameterizedTest(name = "relu={0}")
    @ValueSource(booleans = {true, false})
    void linearMatchesReference(boolean relu) {
        try (Arena arena = Arena.ofShared()) {
            var r = new java.util.SplittableRandom(4);
            LayerSpec.Linear spec = new LayerSpec.Linear("fc6", 9216, 4096, relu);
            Layer l = new Layer(spec, CudaBench.gaussian(arena, r, 0.01f, spec.weightShape()), CudaBench.gaussian(arena, r, 0.1f, spec.out()));
            check(List.of(l), 1e-4);
        }
    }

    /** Batches 1-4 take the NVRTC GEMV kernel (when in % 4 == 0), larger ones cuBLAS; in=9 forces cuBLAS at batch 2. */
    @ParameterizedTest(name = "batch={0} in={1}")
    @org.junit.jupiter.params.provider.CsvSource({"1,4096", "4,4096", "5,4096", "8,4096", "2,9"})
    void linearPathsMatchReference(int batch, int in) {
        try (Arena arena = Arena.ofShared()) {
            var r = new java.util.SplittableRandom(5);
            LayerSpec.Linear spec = new LayerSpec.Linear("fc", in, 1000, true);
            Layer l = new Layer(spec, CudaBench.gaussian(arena, r, 0.05f, spec.weightShape()), CudaBench.gaussian(arena, r, 0.1f, spec.out()));
            float[][] res = compare(List.of(l), new CudaDevice.Options(true, CudaDevice.Lrn.AUTO), 12, batch);
            double err = relError(res[0], res[1]);
            assertTrue(err < 1e-4, "relative error " + err);
        }
    }

    @Test
    void softmaxMatchesReference() {
        float[][] r = compare(List.of(Layer.of(new LayerSpec.Softmax("softmax", 1000))), new CudaDevice.Options(true, CudaDevice.Lrn.AUTO), 8);
        double err = relError(r[0], r[1]);
        assertTrue(err < 1e-5, "relative error " + err);
    }
}
