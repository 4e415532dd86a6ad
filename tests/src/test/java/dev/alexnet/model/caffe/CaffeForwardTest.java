package dev.alexnet.model.caffe;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.caffe.CaffeFiles.Enc;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The converted weights in this project's network, fed RGB, give what Caffe's network gives for the same image
 * in BGR: Caffe's forward pass is written out here from its layer definitions (convolution with groups, ReLU,
 * LRN across channels with k + alpha/n * sum, max pooling, InnerProduct over the blob as it lies in memory), in
 * double, on the paper's structure with 8x fewer channels. This checks the BGR swap, fc6's input order, and that
 * the LRN constants read from the file are the ones the network runs with.
 */
class CaffeForwardTest {
    @TempDir Path dir;

    static final int S = 99;

    /** Caffe's layers, naively, in double; activations [C][H][W] flattened. */
    static double[] conv(double[] x, int c, int h, Tensor w, Tensor b, int stride, int pad, int groups, int[] outHw) {
        int[] ws = w.shape();
        int k = ws[0], cg = ws[1], kh = ws[2], kg = k / groups;
        int oh = (h + 2 * pad - kh) / stride + 1;
        outHw[0] = oh;
        double[] y = new double[k * oh * oh];
        for (int o = 0; o < k; o++) {
            int g = o / kg;
            for (int p = 0; p < oh; p++) {
                for (int q = 0; q < oh; q++) {
                    double acc = b.get(o);
                    for (int ci = 0; ci < cg; ci++) {
                        for (int u = 0; u < kh; u++) {
                            int iy = p * stride - pad + u;
                            if (iy < 0 || iy >= h) continue;
                            for (int v = 0; v < kh; v++) {
                                int ix = q * stride - pad + v;
                                if (ix < 0 || ix >= h) continue;
                                acc += x[((g * cg + ci) * h + iy) * h + ix] * w.get((((long) o * cg + ci) * kh + u) * kh + v);
                            }
                        }
                    }
                    y[(o * oh + p) * oh + q] = Math.max(0, acc); // every convolution is followed by ReLU
                }
            }
        }
        return y;
    }

    static double[] lrn(double[] x, int c, int hw, int n, double alpha, double beta, double k) {
        double[] y = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < hw; i++) {
                double sum = 0;
                for (int j = Math.max(0, ch - n / 2); j <= Math.min(c - 1, ch + n / 2); j++) sum += x[j * hw + i] * x[j * hw + i];
                y[ch * hw + i] = x[ch * hw + i] * Math.pow(k + alpha / n * sum, -beta);
            }
        }
        return y;
    }

    static double[] pool(double[] x, int c, int h, int[] outHw) {
        if ((h - 3) % 2 != 0) throw new IllegalArgumentException("Caffe's ceil mode would add a row here: pick sizes where it does not");
        int oh = (h - 3) / 2 + 1;
        outHw[0] = oh;
        double[] y = new double[c * oh * oh];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < oh; p++) {
                for (int q = 0; q < oh; q++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < 3; u++) for (int v = 0; v < 3; v++) m = Math.max(m, x[(ch * h + 2 * p + u) * h + 2 * q + v]);
                    y[(ch * oh + p) * oh + q] = m;
                }
            }
        }
        return y;
    }

    static double[] fc(double[] x, Tensor w, Tensor b, boolean relu) {
        int out = w.shape()[0], in = w.shape()[1];
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double acc = b.get(o);
            for (int i = 0; i < in; i++) acc += w.get((long) o * in + i) * x[i];
            y[o] = relu ? Math.max(0, acc) : acc;
        }
        return y;
    }

    /** Caffe's bvlc_alexnet forward on a BGR image with the file's blobs (conv1 as Caffe stores it: BGR input channels). */
    static double[] caffe(double[] bgr, Map<String, Tensor> caffeBlobs, int n, double alpha, double beta, double k) {
        int[] hw = new int[1];
        double[] x = conv(bgr, 3, S, caffeBlobs.get("conv1.weight"), caffeBlobs.get("conv1.bias"), 4, 0, 1, hw);
        int c = caffeBlobs.get("conv1.weight").shape()[0], h = hw[0];
        x = pool(lrn(x, c, h * h, n, alpha, beta, k), c, h, hw);
        h = hw[0];
        x = conv(x, c, h, caffeBlobs.get("conv2.weight"), caffeBlobs.get("conv2.bias"), 1, 2, 2, hw);
        c = caffeBlobs.get("conv2.weight").shape()[0];
        x = pool(lrn(x, c, h * h, n, alpha, beta, k), c, h, hw);
        h = hw[0];
        x = conv(x, c, h, caffeBlobs.get("conv3.weight"), caffeBlobs.get("conv3.bias"), 1, 1, 1, hw);
        c = caffeBlobs.get("conv3.weight").shape()[0];
        x = conv(x, c, h, caffeBlobs.get("conv4.weight"), caffeBlobs.get("conv4.bias"), 1, 1, 2, hw);
        c = caffeBlobs.get("conv4.weight").shape()[0];
        x = conv(x, c, h, caffeBlobs.get("conv5.weight"), caffeBlobs.get("conv5.bias"), 1, 1, 2, hw);
        c = caffeBlobs.get("conv5.weight").shape()[0];
        x = pool(x, c, h, hw); // (C, H, W) as it lies in memory: InnerProduct's input order
        x = fc(x, caffeBlobs.get("fc6.weight"), caffeBlobs.get("fc6.bias"), true);
        x = fc(x, caffeBlobs.get("fc7.weight"), caffeBlobs.get("fc7.bias"), true);
        return fc(x, caffeBlobs.get("fc8.weight"), caffeBlobs.get("fc8.bias"), false);
    }

    static float[] project(List<LayerSpec> specs, Map<String, Tensor> t, float[] input, Arena arena) {
        List<Layer> layers = new ArrayList<>();
        for (LayerSpec s : specs) layers.add(s.weightShape() == null ? Layer.of(s) : new Layer(s, t.get(s.name() + ".weight"), t.get(s.name() + ".bias")));
        try (JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE); Program p = ref.compile(layers, 1)) {
            MemorySegment in = arena.allocate((long) input.length * Float.BYTES, 64), out = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            MemorySegment.copy(input, 0, in, JAVA_FLOAT, 0, input.length);
            p.run(in, out);
            return out.toArray(JAVA_FLOAT);
        }
    }

    static double relErr(float[] got, double[] want) {
        double d = 0, n = 0;
        for (int i = 0; i < want.length; i++) {
            d += (got[i] - want[i]) * (got[i] - want[i]);
            n += want[i] * want[i];
        }
        return Math.sqrt(d / n);
    }

    @Test
    void theConvertedNetworkFedRgbComputesWhatCaffeComputesOnBgr() {
        AlexNetLayers small = AlexNetLayers.PAPER.withLrnPerTower(false).scaled(S, 8, 24, 10);
        List<LayerSpec> shapes = small.layers();
        List<String> params = AlexNetSpec.paramNames();
        // weights of fan-in scale keep activations near the input's magnitude (0..255 minus a mean: tens), where
        // Caffe's alpha/n * sum of squares is O(1) and the LRN constants matter
        java.util.function.IntToDoubleFunction scale = p -> {
            int[] ws = CaffeImportTest.shape(shapes, params.get(p).replace(".bias", ".weight"));
            return params.get(p).endsWith(".bias") ? 0.1 : 1.7 / Math.sqrt((double) ws[1] * (ws.length == 4 ? ws[2] * ws[3] : 1));
        };
        Path m = CaffeFiles.write(dir.resolve("net.caffemodel"),
                CaffeFiles.net(CaffeImportTest.alexnet(shapes, p -> Enc.PACKED, false, scale), true));
        float[] bgr = new float[3 * S * S];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < bgr.length; i++) bgr[i] = (float) (r.nextInt(256) - 118.0);
        double[] bgrD = new double[bgr.length];
        for (int i = 0; i < bgr.length; i++) bgrD[i] = bgr[i];
        float[] rgb = new float[bgr.length];
        int plane = S * S;
        for (int c = 0; c < 3; c++) System.arraycopy(bgr, (2 - c) * plane, rgb, c * plane, plane);

        try (Arena arena = Arena.ofShared()) {
            CaffeImport.Converted conv = CaffeImport.convert(m, shapes, arena);
            // Caffe's own blobs: conv1 with its input channels back in BGR order
            Map<String, Tensor> caffeBlobs = new java.util.LinkedHashMap<>(conv.tensors());
            Tensor c1 = Tensor.allocate(arena, conv.tensors().get("conv1.weight").shape());
            c1.copyFrom(conv.tensors().get("conv1.weight"));
            CaffeImport.reverseInputChannels(c1);
            caffeBlobs.put("conv1.weight", c1);
            double[] want = caffe(bgrD, caffeBlobs, 5, 1e-4, 0.75, 1);

            float[] got = project(small.withLrn(conv.lrn()).layers(), conv.tensors(), rgb, arena);
            // both sum in double; the project rounds each of its 13 layer outputs to float (2^-24 = 6e-8 relative, the
            // weights and input are floats in both). ReLU, pooling and this LRN (alpha/n * sum = O(1), beta < 1) do not
            // grow a relative error; the eight linear layers carry it through unamplified on these well-conditioned
            // random weights, so the sum stays below 13 * 6e-8 = 8e-7
            double err = relErr(got, want);
            assertTrue(err < 1e-6, "converted network vs Caffe's: relative error " + err);

            // the checks can fail: BGR fed as is, or the paper's LRN constants, are far off
            double bgrAsIs = relErr(project(small.withLrn(conv.lrn()).layers(), conv.tensors(), bgr, arena), want);
            double paperLrn = relErr(project(small.withLrn(LrnParams.PAPER).layers(), conv.tensors(), rgb, arena), want);
            assertTrue(bgrAsIs > 1e-2 && paperLrn > 1e-2, "BGR as is: " + bgrAsIs + ", paper LRN: " + paperLrn);
            System.out.printf("Caffe forward: converted %.2e, BGR unswapped %.2e, paper LRN %.2e%n", err, bgrAsIs, paperLrn);
        }
    }
}
