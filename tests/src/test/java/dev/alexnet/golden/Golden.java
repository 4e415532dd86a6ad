package dev.alexnet.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.alexnet.model.io.Npy;
import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PyTorch golden files written by {@code tests/golden/make_golden.py} (test resources under
 * {@code golden/}): the manifest and the .npy arrays it names.
 */
final class Golden {
    private Golden() {}

    /** The float32 unit roundoff u = 2^-24 (half of eps = 2^-23). */
    static final double U32 = 0x1p-24;
    static final double EPS32 = 0x1p-23;

    private static Path dir;
    private static JsonNode manifest;

    static synchronized Path dir() {
        if (dir == null) {
            URL url = Golden.class.getClassLoader().getResource("golden/manifest.json");
            if (url == null) throw new IllegalStateException("golden/manifest.json is not on the test classpath: run `make golden`");
            try {
                dir = Path.of(url.toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return dir;
    }

    static synchronized JsonNode manifest() {
        if (manifest == null) {
            try {
                manifest = new ObjectMapper().readTree(Files.readString(dir().resolve("manifest.json")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return manifest;
    }

    static Tensor read(String file, Arena arena) {
        return Npy.read(dir().resolve(file), arena);
    }

    /** max |a-b| and the largest |b|, over two equally long arrays. */
    record Diff(double maxAbs, double maxRef, long worstIndex) {
        double rel() { return maxRef == 0 ? maxAbs : maxAbs / maxRef; }

        static Diff of(float[] a, float[] b) {
            if (a.length != b.length) throw new IllegalArgumentException(a.length + " vs " + b.length + " values");
            double m = 0, r = 0;
            long w = 0;
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs((double) a[i] - b[i]);
                if (!(d <= m)) { m = d; w = i; } // NaN counts as worst
                r = Math.max(r, Math.abs(b[i]));
            }
            return new Diff(m, r, w);
        }

        @Override
        public String toString() {
            return String.format("max|a-b| = %.3e, max|b| = %.4g, rel = %.3e (worst at %d)", maxAbs, maxRef, rel(), worstIndex);
        }
    }
}
