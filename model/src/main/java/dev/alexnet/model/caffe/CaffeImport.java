package dev.alexnet.model.caffe;

import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.LrnMetadata;
import dev.alexnet.model.NonFinite;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Converts Caffe's {@code bvlc_alexnet.caffemodel} (the reference trained weights of the paper's network:
 * groups of 2 in conv2, conv4 and conv5, LRN before pooling, 227 x 227 input) to this project's tensors
 * with PyTorch names ({@code conv1.weight} ... {@code fc8.bias}).
 *
 * <ul>
 *   <li>conv1's input channels are reversed: Caffe's models read BGR, this project feeds RGB.</li>
 *   <li>Every other blob is taken as it is. Caffe's convolution weights are (out, in/groups, kh, kw) as
 *       PyTorch's; its fully connected weights are (out, in) with fc6's inputs in pool5's (C, H, W)
 *       row-major order (InnerProduct flattens the 256 x 6 x 6 blob as it lies in memory), which is
 *       {@code torch.flatten}'s order too: no permutation.</li>
 *   <li>The LRN layers' constants are read from the file (bvlc_alexnet: local_size 5, alpha 1e-4 divided
 *       by the window, k 1, beta 0.75, across all 96 channels: not the paper's k=2) and recorded in the
 *       output's metadata, so the network runs with the constants the weights were trained with.</li>
 * </ul>
 * Refused with one line: a missing parameter layer, a blob of the wrong shape, a layer with the wrong
 * number of blobs, a non-finite value, CaffeNet's order (pooling before LRN), an LRN within channels,
 * and any malformed protobuf.
 */
public final class CaffeImport {
    private CaffeImport() {}

    /** The converted tensors (in {@link AlexNetSpec#paramNames()} order), the LRN the net uses, the file's encoding. */
    public record Converted(Map<String, Tensor> tensors, LrnParams lrn, boolean legacyLayers, int classes) {
        /** Metadata for the safetensors file: origin, the LRN the weights need, how inputs are prepared. */
        public Map<String, String> metadata(Path model, MeanImage mean) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("format", "pt");
            m.put("network", "alexnet-2012-paper");
            m.put("origin", "caffe " + model.getFileName());
            m.put("converted_from", "Caffe NetParameter (" + (legacyLayers ? "legacy V1 'layers'" : "'layer'") + " encoding); conv1 input channels reversed BGR -> RGB");
            m.put(LrnMetadata.KEY, new LrnMetadata(lrn, false).format());
            if (mean != null) {
                m.put("preprocess", mean.preprocess());
                m.put(MeanImage.KEY, mean.encode());
            } else {
                m.put("preprocess", "imagenet");
            }
            return m;
        }
    }

    /** Converts the paper network: fc8's rows are taken from the file (1000 for bvlc_alexnet). */
    public static Converted convert(Path model, Arena arena) {
        try (ProtoReader in = new ProtoReader(model)) {
            CaffeModel net = CaffeModel.parseNet(in);
            int classes = AlexNetSpec.CLASSES;
            CaffeModel.Layer fc8 = byName(net, in).get("fc8");
            if (fc8 != null && fc8.blobs().size() == 2) {
                long n = fc8.blobs().get(1).count();
                if (n >= 2 && n <= 1_000_000) classes = (int) n;
            }
            return convert(in, net, AlexNetSpec.PAPER.withClasses(classes).layers(), arena);
        }
    }

    /**
     * Converts a network with the paper's layer names and the parameter shapes of {@code layers} (any
     * consistent sizes: tests use {@code AlexNetLayers.scaled}).
     */
    public static Converted convert(Path model, List<LayerSpec> layers, Arena arena) {
        try (ProtoReader in = new ProtoReader(model)) {
            return convert(in, CaffeModel.parseNet(in), layers, arena);
        }
    }

    private static Map<String, CaffeModel.Layer> byName(CaffeModel net, ProtoReader in) {
        Map<String, CaffeModel.Layer> m = new HashMap<>();
        for (CaffeModel.Layer l : net.layers) {
            if (m.put(l.name(), l) != null && AlexNetSpec.PARAM_LAYERS.contains(l.name())) {
                throw new WeightFileException(in.file() + ": two layers are named '" + l.name() + "'");
            }
        }
        return m;
    }

    private static Converted convert(ProtoReader in, CaffeModel net, List<LayerSpec> layers, Arena arena) {
        Path file = in.file();
        Map<String, CaffeModel.Layer> named = byName(net, in);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (LayerSpec s : layers) if (s.weightShape() != null) shapes.put(s.name(), s.weightShape());
        // every check that needs no values first, so a wrong file fails before 233 MB are copied
        for (String name : AlexNetSpec.PARAM_LAYERS) {
            CaffeModel.Layer l = named.get(name);
            if (l == null) throw new WeightFileException(file + ": layer '" + name + "' is missing (bvlc_alexnet has conv1..conv5 and fc6..fc8; layers found: " + names(net) + ")");
            String want = name.startsWith("conv") ? "Convolution" : "InnerProduct";
            if (!l.type().isEmpty() && !l.type().equals(want)) throw new WeightFileException(file + ": layer '" + name + "' is a " + l.type() + " layer, expected " + want);
            if (l.transposed()) throw new WeightFileException(file + ": layer '" + name + "' stores its weights transposed (inner_product_param.transpose); bvlc_alexnet does not");
            if (l.blobs().size() != 2) throw new WeightFileException(file + ": layer '" + name + "' has " + l.blobs().size() + " blobs, expected 2 (weights and bias)");
            int[] ws = shapes.get(name);
            check(file, l, 0, ws);
            check(file, l, 1, new int[] {ws[0]});
        }
        LrnParams lrn = lrn(file, net);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : AlexNetSpec.PARAM_LAYERS) {
            CaffeModel.Layer l = named.get(name);
            int[] ws = shapes.get(name);
            out.put(name + ".weight", finite(file, name + ".weight", CaffeModel.read(in, l.blobs().get(0), ws, arena, "layer '" + name + "' weights")));
            out.put(name + ".bias", finite(file, name + ".bias", CaffeModel.read(in, l.blobs().get(1), new int[] {ws[0]}, arena, "layer '" + name + "' bias")));
        }
        reverseInputChannels(out.get("conv1.weight"));
        return new Converted(out, lrn, net.legacy, shapes.get("fc8")[0]);
    }

    private static void check(Path file, CaffeModel.Layer l, int blob, int[] shape) {
        CaffeModel.Blob b = l.blobs().get(blob);
        long[] want = Arrays.stream(shape).asLongStream().toArray();
        long[] got = b.squeezed();
        int i = 0;
        while (i < want.length - 1 && want[i] == 1) i++;
        if (!Arrays.equals(got, Arrays.copyOfRange(want, i, want.length))) {
            throw new WeightFileException(file + ": layer '" + l.name() + "' " + (blob == 0 ? "weights have" : "bias has") + " shape " + b.shape()
                    + ", expected " + Arrays.toString(shape) + " (the paper's AlexNet; CaffeNet and other nets are not this network)");
        }
    }

    /** The two LRN layers: equal constants, across channels, each before its pooling layer (the paper's order). */
    private static LrnParams lrn(Path file, CaffeModel net) {
        List<String> order = new ArrayList<>();
        List<CaffeModel.Layer> lrns = new ArrayList<>();
        for (CaffeModel.Layer l : net.layers) {
            if (l.type().equals("LRN")) {
                order.add("LRN");
                lrns.add(l);
            } else if (l.type().equals("Pooling")) {
                order.add("Pooling");
            }
        }
        if (lrns.size() != 2) {
            throw new WeightFileException(file + ": the net has " + lrns.size() + " LRN layers, expected 2 (norm1, norm2: the paper's AlexNet as bvlc_alexnet)");
        }
        if (order.size() < 4 || !order.subList(0, 4).equals(List.of("LRN", "Pooling", "LRN", "Pooling"))) {
            throw new WeightFileException(file + ": layers 1 and 2 run " + String.join(", ", order.subList(0, Math.min(4, order.size())))
                    + "; the paper's network (bvlc_alexnet) normalises before pooling: CaffeNet (bvlc_reference_caffenet) is a different network");
        }
        CaffeModel.Lrn a = lrns.get(0).lrn() == null ? CaffeModel.Lrn.DEFAULT : lrns.get(0).lrn();
        CaffeModel.Lrn b = lrns.get(1).lrn() == null ? CaffeModel.Lrn.DEFAULT : lrns.get(1).lrn();
        if (!a.equals(b)) throw new WeightFileException(file + ": the two LRN layers differ (" + a + " vs " + b + "); this network has one set of LRN constants");
        if (a.normRegion() != 0) throw new WeightFileException(file + ": LRN layer '" + lrns.get(0).name() + "' normalises within channels; AlexNet normalises across channels");
        try {
            return new LrnParams(a.localSize(), a.k(), a.alpha(), a.beta(), true); // Caffe divides alpha by local_size
        } catch (IllegalArgumentException e) {
            throw new WeightFileException(file + ": LRN layer '" + lrns.get(0).name() + "' has unusable constants: " + e.getMessage());
        }
    }

    /** BGR to RGB: conv1's weights [K, 3, kh, kw] with input channels 0 and 2 exchanged. */
    static void reverseInputChannels(Tensor w) {
        int[] s = w.shape();
        if (s.length != 4 || s[1] != 3) throw new IllegalArgumentException("conv1 weights " + Arrays.toString(s) + " do not read 3 channels");
        long plane = (long) s[2] * s[3];
        MemorySegment d = w.data();
        for (long k = 0; k < s[0]; k++) {
            long b = k * 3 * plane, r = b + 2 * plane;
            for (long i = 0; i < plane; i++) {
                float t = d.getAtIndex(JAVA_FLOAT, b + i);
                d.setAtIndex(JAVA_FLOAT, b + i, d.getAtIndex(JAVA_FLOAT, r + i));
                d.setAtIndex(JAVA_FLOAT, r + i, t);
            }
        }
    }

    private static Tensor finite(Path file, String name, Tensor t) {
        NonFinite.Scan scan = NonFinite.scan(t.data(), t.size());
        if (scan.any()) {
            throw new WeightFileException(file + ": " + name + " holds " + t.data().getAtIndex(JAVA_FLOAT, scan.first())
                    + " at flat index " + scan.first() + " (weights must be finite)");
        }
        return t;
    }

    private static String names(CaffeModel net) {
        List<String> n = net.layers.stream().map(CaffeModel.Layer::name).limit(24).toList();
        return n.isEmpty() ? "none" : String.join(", ", n) + (net.layers.size() > 24 ? ", ..." : "");
    }
}
