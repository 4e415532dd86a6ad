package dev.alexnet.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Preprocessed tensors from .npy files: read back bitwise, flips, int32 and int64 labels, bad files. */
class NpyDatasetTest {
    @TempDir Path dir;
    private static final int N = 4, S = 5;

    private float[] data() {
        float[] x = new float[N * 3 * S * S];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private Path x(float[] x) throws IOException {
        return DataFiles.npy(dir.resolve("X.npy"), "<f4", "(" + N + ", 3, " + S + ", " + S + ")", DataFiles.floatsLE(x));
    }

    @Test
    void readsBackBitwiseWithFlips() throws IOException {
        float[] x = data();
        Path xf = x(x);
        Path l32 = DataFiles.npy(dir.resolve("l32.npy"), "<i4", "(4,)", DataFiles.intsLE(new int[] {2, 0, 1, 2}));
        Path l64 = DataFiles.npy(dir.resolve("l64.npy"), "<i8", "(4,)", DataFiles.longsLE(new long[] {2, 0, 1, 2}));
        for (Path lf : List.of(l32, l64)) {
            try (NpyDataset ds = NpyDataset.open(xf, lf); Arena arena = Arena.ofConfined()) {
                assertEquals(N, ds.size());
                assertEquals(3, ds.classes());
                assertEquals(List.of("0", "1", "2"), ds.classNames());
                assertEquals(S, ds.imageSize());
                assertEquals(1, ds.label(2));
                int img = 3 * S * S;
                MemorySegment out = arena.allocate(4L * img * 2);
                for (int i = 0; i < N; i++) {
                    ds.write(i, out, 4L * img, Augment.NONE, null);
                    for (int k = 0; k < img; k++) assertEquals(Float.floatToRawIntBits(x[i * img + k]), Float.floatToRawIntBits(out.getAtIndex(JAVA_FLOAT, img + k)));
                    for (int crop = 0; crop < 10; crop++) {
                        ds.writeTestCrop(i, crop, out, 0);
                        checkFlip(x, i, out, crop >= 5);
                    }
                    for (long seed = 0; seed < 4; seed++) {
                        SplittableRandom draws = new SplittableRandom(seed);
                        draws.nextInt(1);
                        draws.nextInt(1);
                        boolean flip = draws.nextBoolean();
                        ds.write(i, out, 0, Augment.PAPER, new SplittableRandom(seed));
                        checkFlip(x, i, out, flip);
                    }
                }
            }
        }
        try (NpyDataset ds = NpyDataset.open(xf, l32, List.of("p", "q", "r", "s"))) {
            assertEquals(4, ds.classes());
            assertEquals("s", ds.classNames().get(3));
        }
    }

    private static void checkFlip(float[] x, int i, MemorySegment out, boolean flip) {
        for (int r = 0; r < 3 * S; r++) {
            for (int c = 0; c < S; c++) {
                float expected = x[i * 3 * S * S + r * S + (flip ? S - 1 - c : c)];
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out.getAtIndex(JAVA_FLOAT, r * S + c)), "row " + r + " col " + c);
            }
        }
    }

    private static void fails(Runnable r, String... parts) {
        DataException e = assertThrows(DataException.class, r::run);
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "message spans lines: " + m);
        for (String p : parts) assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
    }

    @Test
    void badFiles() throws IOException {
        Path xf = x(data());
        Path good = DataFiles.npy(dir.resolve("good.npy"), "<i8", "(4,)", DataFiles.longsLE(new long[] {0, 1, 1, 0}));
        Path neg = DataFiles.npy(dir.resolve("neg.npy"), "<i4", "(4,)", DataFiles.intsLE(new int[] {0, -1, 1, 0}));
        fails(() -> NpyDataset.open(xf, neg), "neg.npy", "label -1 of image 1 is out of range");
        fails(() -> NpyDataset.open(xf, good, List.of("only")), "good.npy", "label 1 of image 1 is out of range (1 classes)");
        Path fl = DataFiles.npy(dir.resolve("fl.npy"), "<f4", "(4,)", DataFiles.floatsLE(new float[4]));
        fails(() -> NpyDataset.open(xf, fl), "fl.npy", "dtype '<f4'", "int32");
        Path three = DataFiles.npy(dir.resolve("three.npy"), "<i4", "(3,)", DataFiles.intsLE(new int[3]));
        fails(() -> NpyDataset.open(xf, three), "X.npy", "4 images for 3 labels");
        Path shape = DataFiles.npy(dir.resolve("shape.npy"), "<f4", "(4, 1, 5, 5)", DataFiles.floatsLE(new float[100]));
        fails(() -> NpyDataset.open(shape, good), "shape.npy", "expected [N, 3, S, S]");
        Path dbl = DataFiles.npy(dir.resolve("dbl.npy"), "<f8", "(4, 3, 5, 5)", new byte[8 * 300]);
        fails(() -> NpyDataset.open(dbl, good), "dbl.npy", "dtype '<f8'");
        Path trunc = DataFiles.npy(dir.resolve("trunc.npy"), "<f4", "(4, 3, 5, 5)", new byte[4 * 299]);
        fails(() -> NpyDataset.open(trunc, good), "trunc.npy", "(truncated)");
        Path magic = DataFiles.write(dir.resolve("magic.npy"), "PK\u0003\u0004 zip file, not npy".getBytes());
        fails(() -> NpyDataset.open(magic, good), "magic.npy", "bad magic");
        fails(() -> NpyDataset.open(dir.resolve("none.npy"), good), "none.npy", "no such file");
        byte[] raw = java.nio.file.Files.readAllBytes(good);
        Path cut = DataFiles.write(dir.resolve("cut.npy"), Arrays.copyOf(raw, 20));
        fails(() -> NpyDataset.open(xf, cut), "cut.npy", "truncated");
    }
}
