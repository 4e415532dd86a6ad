package dev.alexnet.train;

import dev.alexnet.train.data.Augment;
import dev.alexnet.train.data.Dataset;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A learnable set without files: image i of class c = i % classes is faint noise with a bright square in
 * the c-th of four quadrant positions (so a network must look at where the light is), values of order 1.
 */
final class SyntheticDataset implements Dataset {
    private final int size, classes;

    SyntheticDataset(int size, int classes) {
        if (classes > 4) throw new IllegalArgumentException("at most 4 classes");
        this.size = size;
        this.classes = classes;
    }

    @Override public int size() { return size; }
    @Override public int classes() { return classes; }
    @Override public List<String> classNames() { return List.of("top-left", "top-right", "bottom-left", "bottom-right").subList(0, classes); }
    @Override public int label(int i) { return i % classes; }
    @Override public int imageSize() { return SIZE; }
    @Override public Augment defaultAugment() { return Augment.NONE; }

    @Override
    public void write(int i, MemorySegment dst, long off, Augment aug, SplittableRandom rng) {
        SplittableRandom noise = new SplittableRandom(1000 + i);
        int c = label(i), y0 = 30 + (c / 2) * 100, x0 = 30 + (c % 2) * 100;
        for (int ch = 0; ch < 3; ch++) {
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    boolean lit = y >= y0 && y < y0 + 60 && x >= x0 && x < x0 + 60;
                    float v = (float) (0.3 * noise.nextGaussian()) + (lit ? 1.5f : -0.2f);
                    dst.setAtIndex(JAVA_FLOAT, off / 4 + ((long) ch * SIZE + y) * SIZE + x, v);
                }
            }
        }
    }

    @Override
    public void writeTestCrop(int i, int crop, MemorySegment dst, long off) {
        write(i, dst, off, Augment.NONE, null);
    }
}
