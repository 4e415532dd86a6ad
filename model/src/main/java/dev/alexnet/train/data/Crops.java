package dev.alexnet.train.data;

import java.util.Objects;

/** The crop geometry shared by the datasets: where in a {@code base}-square image an {@code size}-square crop sits. */
record Crops(int y, int x, boolean flip) {
    static Crops centre(int base, int size) {
        return new Crops((base - size) / 2, (base - size) / 2, false);
    }

    static Crops test(int crop, int base, int size) {
        Objects.checkIndex(crop, Dataset.TEST_CROPS);
        int far = base - size, mid = far / 2;
        int k = crop % 5;
        int y = switch (k) { case 0, 1 -> 0; case 2, 3 -> far; default -> mid; };
        int x = switch (k) { case 0, 2 -> 0; case 1, 3 -> far; default -> mid; };
        return new Crops(y, x, crop >= 5);
    }

    /** A random crop position (uniform over all {@code (base - size + 1)^2}) then a fair coin for the flip. */
    static Crops random(int base, int size, java.util.SplittableRandom rng) {
        if (rng == null) throw new IllegalArgumentException("Augment.PAPER needs a random generator");
        int y = rng.nextInt(base - size + 1);
        int x = rng.nextInt(base - size + 1);
        return new Crops(y, x, rng.nextBoolean());
    }
}
