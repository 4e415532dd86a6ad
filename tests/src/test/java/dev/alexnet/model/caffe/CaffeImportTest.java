package dev.alexnet.model.caffe;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.caffe.CaffeFiles.Blob;
import dev.alexnet.model.caffe.CaffeFiles.Enc;
import dev.alexnet.model.caffe.CaffeFiles.Layer;
import dev.alexnet.model.caffe.CaffeFiles.Node;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Caffe's .caffemodel to the project's tensors: synthetic files in both encodings, value by value; malformed files refused in one line. */
class CaffeImportTest {
    @TempDir Path dir;

    /** The paper's structure, 8x fewer channels, 99x99 input: every parameter shape differs from every other. */
    static final List<LayerSpec> SMALL = AlexNetLayers.PAPER.withLrnPerTower(false).scaled(99, 8, 24, 10).layers();
    static final float[] CAFFE_LRN = {5, 1e-4f, 0.75f}; // bvlc_alexnet's lrn_param (k left at its default, 1)

    /** Parameter p's value i: a hash of (p, i), so writer and checker agree without holding arrays. */
    static float value(int p, long i) {
        long z = (p * 0x9E3779B97F4A7C15L) ^ (i * 0xC2B2AE3D27D4EB4FL) ^ 0x165667B19E3779F9L;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        z ^= z >>> 33;
        return (float) ((z >>> 40) / (double) (1L << 24) * 2 - 1); // exact in float: 24 bits
    }

    static int[] shape(List<LayerSpec> specs, String param) {
        String layer = param.substring(0, param.indexOf('.'));
        for (LayerSpec s : specs) {
            if (s.name().equals(layer) && s.weightShape() != null) return param.endsWith(".weight") ? s.weightShape() : new int[] {s.weightShape()[0]};
        }
        throw new IllegalArgumentException(param);
    }

    /**
     * The layers of bvlc_alexnet's train_val net in its order (data, conv1, relu1, norm1, pool1, ...) with blobs of
     * {@code specs}' shapes; {@code enc} picks each parameter's encoding; {@code caffenet} swaps pool and norm.
     */
    static List<Layer> alexnet(List<LayerSpec> specs, Function<String, Enc> enc, boolean caffenet) {
        return alexnet(specs, enc, caffenet, p -> 1);
    }

    /** As above with parameter p's values multiplied by {@code scale(p)}. */
    static List<Layer> alexnet(List<LayerSpec> specs, Function<String, Enc> enc, boolean caffenet, java.util.function.IntToDoubleFunction scale) {
        List<Layer> l = new ArrayList<>();
        l.add(Layer.plain("data", "Data"));
        List<String> params = AlexNetSpec.paramNames();
        for (String name : AlexNetSpec.PARAM_LAYERS) {
            int w = params.indexOf(name + ".weight"), b = w + 1;
            int[] ws = shape(specs, name + ".weight");
            l.add(new Layer(name, name.startsWith("conv") ? "Convolution" : "InnerProduct", List.of(
                    new Blob(Arrays.stream(ws).asLongStream().toArray(), i -> (float) (value(w, i) * scale.applyAsDouble(w)), enc.apply(name + ".weight")),
                    new Blob(new long[] {ws[0]}, i -> (float) (value(b, i) * scale.applyAsDouble(b)), enc.apply(name + ".bias"))), null));
            if (!name.equals("fc8")) l.add(Layer.plain("relu" + name.substring(name.length() - 1), "ReLU"));
            if (name.equals("conv1") || name.equals("conv2")) {
                String n = name.substring(4);
                Layer norm = new Layer("norm" + n, "LRN", List.of(), CAFFE_LRN), pool = Layer.plain("pool" + n, "Pooling");
                l.addAll(caffenet ? List.of(pool, norm) : List.of(norm, pool));
            }
            if (name.equals("conv5")) l.add(Layer.plain("pool5", "Pooling"));
            if (name.equals("fc6") || name.equals("fc7")) l.add(Layer.plain("drop" + name.substring(2), "Dropout"));
        }
        l.add(Layer.plain("prob", "Softmax"));
        return l;
    }

    Path model(String file, List<Layer> layers, boolean legacy) {
        return CaffeFiles.write(dir.resolve(file), CaffeFiles.net(layers, legacy));
    }

    /** Every value of every tensor is the file's, conv1's input channels reversed (BGR to RGB). */
    static void assertConverted(Map<String, Tensor> t, List<LayerSpec> specs) {
        List<String> params = AlexNetSpec.paramNames();
        assertEquals(params, List.copyOf(t.keySet()));
        for (int p = 0; p < params.size(); p++) {
            String name = params.get(p);
            Tensor x = t.get(name);
            int[] s = shape(specs, name);
            assertTrue(Arrays.equals(s, x.shape()), name + " shape " + Arrays.toString(x.shape()));
            if (name.equals("conv1.weight")) {
                long plane = (long) s[2] * s[3];
                for (int k = 0; k < s[0]; k++) {
                    for (int c = 0; c < 3; c++) {
                        for (long i = 0; i < plane; i++) {
                            long ours = ((long) k * 3 + c) * plane + i, caffes = ((long) k * 3 + (2 - c)) * plane + i;
                            if (x.get(ours) != value(p, caffes)) fail("conv1.weight[" + k + "," + c + "] element " + i + ": " + x.get(ours) + " != Caffe's channel " + (2 - c));
                        }
                    }
                }
            } else {
                for (long i = 0; i < x.size(); i++) if (x.get(i) != value(p, i)) fail(name + "[" + i + "] = " + x.get(i) + ", file has " + value(p, i));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void bothEncodingsAndEveryValueEncodingConvertValueByValue(boolean legacy) {
        Enc[] all = Enc.values();
        List<String> params = AlexNetSpec.paramNames();
        Path m = model("net.caffemodel", alexnet(SMALL, p -> all[params.indexOf(p) % all.length], false), legacy);
        try (Arena arena = Arena.ofShared()) {
            CaffeImport.Converted c = CaffeImport.convert(m, SMALL, arena);
            assertConverted(c.tensors(), SMALL);
            assertEquals(legacy, c.legacyLayers());
            assertEquals(new LrnParams(5, 1f, 1e-4f, 0.75f, true), c.lrn(), "Caffe's LRN: k defaults to 1, alpha is divided by the window");
            assertEquals(10, c.classes());
        }
    }

    @Test
    void fc6IsTakenInPool5sChwOrderWithoutPermutation() {
        // Caffe's InnerProduct reads pool5's (C, H, W) blob as it lies in memory, as torch.flatten does: column j of
        // fc6 is channel j / (H*W), row (j / W) % H, column j % W, so the converted weight is the file's, unpermuted
        LayerSpec.Linear fc6 = (LayerSpec.Linear) SMALL.stream().filter(s -> s.name().equals("fc6")).findFirst().orElseThrow();
        LayerSpec.MaxPool pool5 = (LayerSpec.MaxPool) SMALL.stream().filter(s -> s.name().equals("pool5")).findFirst().orElseThrow();
        assertEquals((long) pool5.c() * pool5.outH() * pool5.outW(), fc6.in());
        Path m = model("net.caffemodel", alexnet(SMALL, p -> Enc.PACKED, false), false);
        try (Arena arena = Arena.ofShared()) {
            Tensor w = CaffeImport.convert(m, SMALL, arena).tensors().get("fc6.weight");
            int p = AlexNetSpec.paramNames().indexOf("fc6.weight");
            int hw = pool5.outH() * pool5.outW();
            for (int o = 0; o < fc6.out(); o += 5) {
                for (int c = 0; c < pool5.c(); c++) {
                    for (int y = 0; y < pool5.outH(); y++) {
                        for (int x = 0; x < pool5.outW(); x++) {
                            long j = (long) c * hw + (long) y * pool5.outW() + x;
                            assertEquals(value(p, (long) o * fc6.in() + j), w.get((long) o * fc6.in() + j));
                        }
                    }
                }
            }
        }
    }

    WeightFileException refused(Path m) {
        try (Arena arena = Arena.ofShared()) {
            WeightFileException e = assertThrows(WeightFileException.class, () -> CaffeImport.convert(m, SMALL, arena));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().startsWith(m.toString()), e.getMessage());
            return e;
        }
    }

    static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
    }

    @Test
    void truncatedFilesSayTruncated() throws IOException {
        byte[] whole = CaffeFiles.bytes(CaffeFiles.net(alexnet(SMALL, p -> Enc.PACKED, false), false));
        // inside the first tag, inside a layer's header, inside conv1's values, one byte short
        for (int cut : new int[] {1, 12, whole.length / 5, whole.length / 2, whole.length - 1}) {
            Path m = Files.write(dir.resolve("cut" + cut + ".caffemodel"), Arrays.copyOf(whole, cut));
            assertMentions(refused(m), "truncated");
        }
    }

    @Test
    void wrongWireTypesAreNamed() throws IOException {
        // NetParameter.layer (100) as a varint
        Path m = Files.write(dir.resolve("w1.caffemodel"), CaffeFiles.bytes(List.of(CaffeFiles.varintField(100, 7))));
        assertMentions(refused(m), "NetParameter.layer (field 100)", "wire type 0, expected 2");
        // BlobProto.data (5) as a varint inside conv1's first blob
        List<Node> blob = List.of(CaffeFiles.varintField(5, 1));
        Node layer = CaffeFiles.message(100, List.of(CaffeFiles.string(1, "conv1"), CaffeFiles.message(7, blob)));
        m = Files.write(dir.resolve("w2.caffemodel"), CaffeFiles.bytes(List.of(layer)));
        assertMentions(refused(m), "blob 0 of layer 'conv1' data (field 5)", "wire type 0, expected 5");
        // a group (wire type 3) and an undefined wire type (7)
        m = Files.write(dir.resolve("w3.caffemodel"), new byte[] {(byte) (9 << 3 | 3)});
        assertMentions(refused(m), "group");
        m = Files.write(dir.resolve("w4.caffemodel"), new byte[] {(byte) (9 << 3 | 7)});
        assertMentions(refused(m), "undefined wire type 7");
    }

    @Test
    void absurdLengthsAndVarintsAreRefusedBeforeAnyAllocation() throws IOException {
        // a layer that claims 2^62 bytes
        byte[] huge = {(byte) 0xa2, 0x06, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x40};
        assertMentions(refused(Files.write(dir.resolve("l.caffemodel"), huge)), "claims 4611686018427387904 bytes", "remain");
        // an 11-byte varint
        byte[] eleven = new byte[12];
        Arrays.fill(eleven, (byte) 0x80);
        eleven[11] = 1;
        assertMentions(refused(Files.write(dir.resolve("v.caffemodel"), eleven)), "longer than 10 bytes");
        // conv1's weight blob claims 2^40 values (shape dims unpacked) and holds 3: refused by its shape, nothing allocated
        List<Layer> layers = alexnet(SMALL, p -> Enc.PACKED, false);
        List<Node> conv1 = new ArrayList<>();
        conv1.add(CaffeFiles.string(1, "conv1"));
        conv1.add(CaffeFiles.string(2, "Convolution"));
        conv1.add(CaffeFiles.message(7, List.of(CaffeFiles.values(5, 3, i -> 1f, Enc.PACKED),
                CaffeFiles.message(7, List.of(CaffeFiles.varintField(1, 1L << 20), CaffeFiles.varintField(1, 1L << 20))))));
        conv1.add(CaffeFiles.message(7, CaffeFiles.blob(new long[] {12}, i -> 0f, Enc.PACKED, false)));
        List<Node> net = new ArrayList<>(CaffeFiles.net(layers, false));
        net.set(2, CaffeFiles.message(100, conv1)); // net[0] is the name, net[1] the data layer, net[2] conv1
        assertMentions(refused(CaffeFiles.write(dir.resolve("absurd.caffemodel"), net)), "layer 'conv1' weights have shape [1048576, 1048576], expected [12, 3, 11, 11]");
    }

    @Test
    void aMissingLayerAWrongShapeAndCaffeNetAreNamed() {
        List<Layer> l = alexnet(SMALL, p -> Enc.PACKED, false);
        l.removeIf(x -> x.name().equals("conv3"));
        assertMentions(refused(model("missing.caffemodel", l, false)), "layer 'conv3' is missing");

        l = alexnet(SMALL, p -> Enc.PACKED, false);
        int fc6 = l.indexOf(l.stream().filter(x -> x.name().equals("fc6")).findFirst().orElseThrow());
        int[] s = shape(SMALL, "fc6.weight");
        Layer old = l.get(fc6);
        l.set(fc6, new Layer("fc6", "InnerProduct", List.of(new Blob(new long[] {s[0], s[1] - 1}, i -> 0f, Enc.PACKED), old.blobs().get(1)), null));
        assertMentions(refused(model("shape.caffemodel", l, true)), "layer 'fc6' weights have shape [1, 1, " + s[0] + ", " + (s[1] - 1) + "]",
                "expected [" + s[0] + ", " + s[1] + "]");

        l = alexnet(SMALL, p -> Enc.PACKED, false);
        l.set(fc6, new Layer("fc6", "InnerProduct", List.of(old.blobs().get(0)), null));
        assertMentions(refused(model("oneblob.caffemodel", l, false)), "layer 'fc6' has 1 blobs, expected 2");

        assertMentions(refused(model("caffenet.caffemodel", alexnet(SMALL, p -> Enc.PACKED, true), false)), "CaffeNet", "normalises before pooling");
    }

    @Test
    void aShapeThatDisagreesWithItsValuesIsRefused() {
        List<Layer> l = alexnet(SMALL, p -> Enc.PACKED, false);
        List<Node> net = new ArrayList<>(CaffeFiles.net(l, false));
        // conv2's bias: the shape says 32 but 31 values follow
        List<Node> conv2 = List.of(CaffeFiles.string(1, "conv2"), CaffeFiles.string(2, "Convolution"),
                CaffeFiles.message(7, CaffeFiles.blob(Arrays.stream(shape(SMALL, "conv2.weight")).asLongStream().toArray(), i -> 0f, Enc.PACKED, false)),
                CaffeFiles.message(7, List.of(CaffeFiles.values(5, 31, i -> 0f, Enc.PACKED), CaffeFiles.message(7, List.of(CaffeFiles.varintField(1, 32))))));
        int li = l.indexOf(l.stream().filter(x -> x.name().equals("conv2")).findFirst().orElseThrow());
        net.set(1 + li, CaffeFiles.message(100, conv2)); // net[0] is the name
        assertMentions(refused(CaffeFiles.write(dir.resolve("count.caffemodel"), net)), "layer 'conv2' bias has shape [32] but holds 31 values");
    }

    @Test
    void transposedInnerProductsAndV0LayersAreRefused() {
        List<Layer> l = alexnet(SMALL, p -> Enc.PACKED, false);
        int li = l.indexOf(l.stream().filter(x -> x.name().equals("fc7")).findFirst().orElseThrow());
        long[] ws = Arrays.stream(shape(SMALL, "fc7.weight")).asLongStream().toArray(); // square: the shape cannot tell
        List<Node> fc7 = List.of(CaffeFiles.string(1, "fc7"), CaffeFiles.string(2, "InnerProduct"),
                CaffeFiles.message(7, CaffeFiles.blob(ws, i -> 0f, Enc.PACKED, false)),
                CaffeFiles.message(7, CaffeFiles.blob(new long[] {ws[0]}, i -> 0f, Enc.PACKED, false)),
                CaffeFiles.message(117, List.of(CaffeFiles.varintField(1, ws[0]), CaffeFiles.varintField(6, 1))));
        List<Node> net = new ArrayList<>(CaffeFiles.net(l, false));
        net.set(1 + li, CaffeFiles.message(100, fc7));
        assertMentions(refused(CaffeFiles.write(dir.resolve("t.caffemodel"), net)), "layer 'fc7' stores its weights transposed");

        Node v0 = CaffeFiles.message(2, List.of(CaffeFiles.message(1, List.of(CaffeFiles.string(1, "conv1")))));
        assertMentions(refused(CaffeFiles.write(dir.resolve("v0.caffemodel"), List.of(v0))), "V0 format", "upgrade_net_proto_binary");
    }

    @Test
    void randomDamageIsAlwaysAOneLineRefusalOrAValidFile() throws IOException {
        byte[] whole = CaffeFiles.bytes(CaffeFiles.net(alexnet(SMALL, p -> Enc.values()[p.length() % 4], false), true));
        SplittableRandom r = new SplittableRandom(15);
        int refusedCount = 0;
        for (int trial = 0; trial < 150; trial++) {
            byte[] b = whole.clone();
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                // half the time the first bytes: the net's name, the data layer, conv1's header (tags and lengths)
                int at = r.nextBoolean() ? r.nextInt(b.length) : r.nextInt(80);
                b[at] = (byte) r.nextInt(256);
            }
            Path m = Files.write(dir.resolve("d.caffemodel"), b);
            try (Arena arena = Arena.ofShared()) {
                CaffeImport.convert(m, SMALL, arena);
            } catch (WeightFileException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                refusedCount++;
            }
        }
        assertTrue(refusedCount > 30, "only " + refusedCount + " of 150 damaged files were refused: the damage missed the structure");
    }

    @Test
    void anEmptyFileHasNoLayers() throws IOException {
        assertMentions(refused(Files.write(dir.resolve("empty.caffemodel"), new byte[0])), "no layers");
    }
}
