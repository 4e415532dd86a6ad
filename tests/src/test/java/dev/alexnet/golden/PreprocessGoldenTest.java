package dev.alexnet.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alexnet.model.Images;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Images#preprocess} against torch's bilinear interpolate (the generator's preprocess_cases), on a picture
 * both sides compute from the same integer formula: piecewise-linear ramps with a different slope and direction
 * per channel, so a swapped channel, a crop off by one pixel (3 to 5 levels per pixel here), a wrong mean or a
 * wrong scale shows. Downscale (320x240), upscale (160x120) and portrait (240x320).
 *
 * <p>Bound: both interpolate the same samples with the same weights up to Java2D's fixed-point weights (an
 * error far below half a level here), then round to 8 bits, so a value differs by at most 1 level, and only
 * where the exact value sits near a half: the mean error stays under 0.05 level (measured 0.003-0.005). A crop
 * off by one pixel moves every value by 3-5 levels, a swapped channel or mean by far more.
 */
class PreprocessGoldenTest {
    static final double MAX_LEVELS = 1, MEAN_LEVELS = 0.05;

    static int tent(int v) { return Math.abs(v % 510 - 255); }

    static BufferedImage pattern(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) img.setRGB(x, y, tent(3 * x + y) << 16 | tent(2 * y + x) << 8 | tent(x + 5 * y));
        }
        return img;
    }

    @Test
    void preprocessMatchesTorchInterpolate() {
        JsonNode cases = Golden.manifest().get("preprocess");
        assertTrue(cases != null && cases.size() >= 3, "manifest has no preprocess cases");
        for (JsonNode c : cases) {
            int w = c.get("w").asInt(), h = c.get("h").asInt(), size = c.get("size").asInt();
            try (Arena arena = Arena.ofConfined()) {
                Tensor want = Golden.read(c.get("file").asText(), arena);
                assertArrayEquals(new int[] {3, size, size}, want.shape());
                MemorySegment got = arena.allocate(3L * size * size * Float.BYTES, 64);
                Images.preprocess(pattern(w, h), size, got, 0);
                float[] g = got.toArray(JAVA_FLOAT), t = want.toArray();
                double max = 0, sum = 0;
                int worst = 0;
                for (int i = 0; i < g.length; i++) {
                    double d = Math.abs((double) g[i] - t[i]);
                    if (d > max) { max = d; worst = i; }
                    sum += d;
                }
                double mean = sum / g.length;
                String what = String.format("%dx%d: max |diff| %.2f levels at %d (channel %d), mean %.4f", w, h, max, worst, worst / (size * size), mean);
                System.out.println("[golden preprocess] " + what);
                assertTrue(max <= MAX_LEVELS && mean <= MEAN_LEVELS, what);
            }
        }
    }
}
