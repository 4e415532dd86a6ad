package dev.alexnet.model.caffe;

import dev.alexnet.kernels.LrnParams;
import dev.alexnet.cli.Cli;
import dev.alexnet.cli.Cli.Result;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.LrnMetadata;
import dev.alexnet.model.caffe.CaffeFiles.Enc;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/alexnet import-caffe} on a full-size synthetic bvlc_alexnet (legacy V1 layers, as the model zoo's
 * file; 61M parameters, about 233 MB, written to a temporary directory) and its mean file, then {@code classify}
 * with the result; and the command's refusals, one line, exit 2, nothing written.
 */
class ImportCaffeCliTest {
    @TempDir Path dir;

    @Test
    void theFullSizeModelConvertsAndClassifiesWithCaffesPreprocessing() throws Exception {
        long tStart = System.nanoTime();
        List<String> params = AlexNetSpec.paramNames();
        Path model = CaffeFiles.write(dir.resolve("bvlc_alexnet.caffemodel"),
                CaffeFiles.net(CaffeImportTest.alexnet(AlexNetSpec.PAPER.layers(), p -> Enc.PACKED, false), true));
        assertTrue(Files.size(model) > 240_000_000L, "full size: " + Files.size(model));
        int plane = 256 * 256;
        Path mean = CaffeFiles.write(dir.resolve("imagenet_mean.binaryproto"),
                CaffeFiles.blob(new long[] {1, 3, 256, 256}, i -> MeanImageTest.bgr((int) (i / plane), (int) (i % plane)), Enc.PACKED, true));
        Path out = dir.resolve("alexnet.safetensors");
        long t0 = System.nanoTime();

        Result r = Cli.run("import-caffe", "--model", model.toString(), "--mean", mean.toString(), "--output", out.toString());
        assertEquals(0, r.exit(), r.err());
        long t1 = System.nanoTime();
        assertTrue(r.out().contains("16 tensors, 60,965,224 parameters") && r.out().contains("legacy V1") && r.out().contains("conv1 reads RGB"), r.out());
        Files.delete(model); // 233 MB less on disk for the rest

        Map<String, String> meta = Safetensors.metadata(out);
        assertEquals("caffe 256 256", meta.get("preprocess"));
        assertEquals(new LrnMetadata(new LrnParams(5, 1f, 1e-4f, 0.75f, true), false), LrnMetadata.of(out));
        MeanImage m = MeanImage.decode(meta.get("preprocess"), meta.get(MeanImage.KEY), "out");
        for (int c = 0; c < 3; c++) for (int i = 0; i < plane; i += 97) assertEquals(MeanImageTest.bgr(2 - c, i), m.rgb()[c * plane + i]);

        try (AlexNetWeights w = AlexNetWeights.load(out)) {
            for (int p = 0; p < params.size(); p++) {
                Tensor t = w.get(params.get(p));
                if (p == 0) {
                    long k = 11 * 11;
                    for (long i = 0; i < t.size(); i++) {
                        long c = i / k % 3, caffe = i + (2 - 2 * c) * k; // channel c of ours is Caffe's 2 - c
                        assertEquals(CaffeImportTest.value(0, caffe), t.get(i), "conv1.weight " + i);
                    }
                } else {
                    for (long i = 0; i < t.size(); i += 1 + t.size() / 5000) assertEquals(CaffeImportTest.value(p, i), t.get(i), params.get(p) + " " + i);
                    assertEquals(CaffeImportTest.value(p, t.size() - 1), t.get(t.size() - 1), params.get(p) + " last");
                }
            }
        }

        // classify takes the LRN constants and window from the metadata and prepares the image with the mean
        r = Cli.run("classify", "--weights", out.toString(), "--device", "dnnl:1", "--top", "3"); // oneDNN: no JIT warm-up for 61M weights
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("LRN across all channels") && r.out().contains("weights: file alexnet.safetensors"), r.out());
        assertFalse(r.out().contains("NOTE: the weights are random"), r.out());
        assertNoLeftovers();
        System.out.printf("import-caffe, full size: write %.1f s, convert %.1f s, check and classify %.1f s%n", (t0 - tStart) / 1e9, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    }

    @Test
    void badArgumentsAndFilesAreOneLineAndWriteNothing() throws Exception {
        Path out = dir.resolve("o.safetensors");
        Cli.run("import-caffe", "--model", dir.resolve("none.caffemodel").toString(), "--output", out.toString()).failsWith(2, "--model", "none.caffemodel", "no such file");
        Path small = CaffeFiles.write(dir.resolve("small.caffemodel"), CaffeFiles.net(CaffeImportTest.alexnet(CaffeImportTest.SMALL, p -> Enc.PACKED, false), false));
        Cli.run("import-caffe", "--model", small.toString(), "--output", dir.resolve("no/such/dir/o.safetensors").toString()).failsWith(2, "--output", "does not exist");
        Cli.run("import-caffe", "--model", small.toString(), "--mean", dir.toString(), "--output", out.toString()).failsWith(2, "--mean", "is a directory");
        // the small network's shapes are not the paper's: named before anything is written
        Cli.run("import-caffe", "--model", small.toString(), "--output", out.toString()).failsWith(2, "small.caffemodel", "layer 'conv1' weights have shape [12, 3, 11, 11], expected [96, 3, 11, 11]");
        Path cut = Files.write(dir.resolve("cut.caffemodel"), java.util.Arrays.copyOf(Files.readAllBytes(small), 1000));
        Cli.run("import-caffe", "--model", cut.toString(), "--output", out.toString()).failsWith(2, "cut.caffemodel", "truncated");
        Path tiny = CaffeFiles.write(dir.resolve("tiny.binaryproto"), CaffeFiles.blob(new long[] {1, 3, 100, 100}, i -> 1f, Enc.PACKED, true));
        Cli.run("import-caffe", "--model", small.toString(), "--mean", tiny.toString(), "--output", out.toString()).failsWith(2, "smaller than the network's 227 x 227 input");
        assertFalse(Files.exists(out));
        assertNoLeftovers();
    }

    void assertNoLeftovers() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.toString().endsWith(".tmp") || p.toString().endsWith(".probe")).toList());
        }
    }

    @Test
    void theLrnConstantsOfTheMetadataReachEveryLrnLayer() {
        LrnParams caffe = new LrnParams(5, 1f, 1e-4f, 0.75f, true);
        AlexNetSpec spec = AlexNetSpec.PAPER.withLrn(caffe).withClasses(10);
        List<dev.alexnet.device.LayerSpec> all = new java.util.ArrayList<>(spec.layers());
        all.addAll(spec.trainingLayers(0.5f));
        for (int t = 0; t < 2; t++) spec.towerSegments(t).forEach(all::addAll);
        long lrns = all.stream().filter(l -> l instanceof dev.alexnet.device.LayerSpec.Lrn).peek(l ->
                assertEquals(caffe, ((dev.alexnet.device.LayerSpec.Lrn) l).params(), l.name())).count();
        assertEquals(8, lrns);
        assertEquals(LrnParams.PAPER, AlexNetSpec.PAPER.lrn());
        assertArrayEquals(new int[] {96, 3, 11, 11}, AlexNetSpec.paramShape("conv1.weight"));
        assertEquals(60_965_224L, AlexNetSpec.parameterCount());
    }
}
