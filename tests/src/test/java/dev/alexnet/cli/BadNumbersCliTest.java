package dev.alexnet.cli;

import dev.alexnet.model.Images;
import dev.alexnet.model.io.Npy;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad numbers are never passed on in silence: a NaN in a forward input and a damaged JPEG each get one warning line. */
class BadNumbersCliTest {
    @TempDir Path dir;

    @Test
    void forwardWarnsOnceAboutNonFiniteInputValuesWithTheirCountAndFirstIndex() throws IOException {
        Path x = dir.resolve("x.npy"), y = dir.resolve("y.npy");
        try (Arena a = Arena.ofShared()) {
            Tensor t = Tensor.allocate(a, 2, 3, 227, 227);
            t.set(3L * 227 * 227 + 227 + 2, Float.NaN);          // image 1, channel 0, row 1, column 2
            t.set(3L * 227 * 227 + 5000, Float.NEGATIVE_INFINITY);
            Npy.write(x, t);
        }
        Cli.Result r = Cli.run("forward", "--seed", "1", "--device", "java:1", "--input", x.toString(), "--output", y.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("warning:")).toList();
        assertEquals(1, warnings.size(), r.err());
        assertTrue(warnings.getFirst().contains("2 non-finite value(s)") && warnings.getFirst().contains("index " + (3L * 227 * 227 + 229))
                && warnings.getFirst().contains("[1, 0, 1, 2]"), warnings.getFirst());
        try (Arena a = Arena.ofShared()) {
            Tensor logits = Npy.read(y, a);
            assertTrue(Float.isFinite(logits.get(0L)), "image 0 has finite inputs");
            assertTrue(Float.isNaN(logits.get((long) logits.dim(1))), "image 1 holds a NaN");
        }
    }

    private Path jpeg(String name) throws IOException {
        BufferedImage img = new BufferedImage(96, 80, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(2);
        for (int yy = 0; yy < img.getHeight(); yy++) for (int xx = 0; xx < img.getWidth(); xx++) img.setRGB(xx, yy, r.nextInt(1 << 24));
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(img, "jpg", p.toFile()));
        return p;
    }

    @Test
    void aTruncatedJpegIsDecodedWithOneWarningLine() throws IOException {
        Path p = jpeg("cut.jpg");
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length / 2));
        List<String> warnings = new ArrayList<>();
        BufferedImage img = Images.read(p, warnings::add);
        assertEquals(96, img.getWidth());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains("cut.jpg") && warnings.getFirst().contains("decoded only in part"), warnings.getFirst());
        assertTrue(warnings.getFirst().lines().count() == 1, "one line");

        List<String> none = new ArrayList<>();
        Images.read(jpeg("whole.jpg"), none::add);
        assertEquals(List.of(), none, "an intact JPEG decodes without a warning");
    }

    @Test
    void aScribbledJpegIsWarnedAboutOrRefused() throws IOException {
        Path p = jpeg("scribbled.jpg");
        byte[] all = Files.readAllBytes(p);
        for (int i = all.length / 3; i < all.length / 3 + 200; i++) all[i] = (byte) 0xFF; // markers where entropy-coded data was
        Files.write(p, all);
        List<String> warnings = new ArrayList<>();
        try {
            Images.read(p, warnings::add);
            assertEquals(1, warnings.size(), "a damaged JPEG decoded without a word");
        } catch (WeightFileException refused) {
            assertTrue(refused.getMessage().contains("scribbled.jpg"), refused.getMessage());
        }
    }

    @Test
    void classifyPrintsTheDamagedImageWarning() throws IOException {
        Path p = jpeg("cut2.jpg");
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length * 2 / 3));
        Cli.Result r = Cli.run("classify", "--device", "java:1", p.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("warning: ") && l.contains("cut2.jpg") && l.contains("decoded only in part")), r.err());
    }
}
