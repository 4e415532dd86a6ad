package dev.alexnet.bench;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Program;
import dev.alexnet.kernels.Agreement;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Reference outputs of one case for one seeded batch, from the scalar reference kernels
 * ({@code ref:1}: double accumulation, single thread, NCHW).
 *
 * <p>Every inference layer computes each image from that image alone, so the reference for image
 * {@code n} of a batch is the reference run at batch 1 on image {@code n}'s slice of the input. At
 * large batches the oracle checks a sample of images (first, middle, last: enough to catch a
 * batch or thread split that reads the wrong image) instead of paying the scalar kernels for all
 * of them; {@code --check all} checks every image.
 */
public final class Oracle implements AutoCloseable {
    private final LayerTable.Case c;
    private final int batch;
    private final int[] images;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment outputs; // images.length x outputFloats
    private final long firstRunNanos;    // the reference run for image images[0] (batch-1 timing)

    /** Runs the reference on the chosen images of {@code input} ({@code batch} images of {@code c}). */
    public Oracle(LayerTable.Case c, int batch, MemorySegment input, boolean allImages) {
        this.c = c;
        this.batch = batch;
        this.images = sample(batch, allImages);
        long inF = c.inputFloats(), outF = c.outputFloats();
        this.outputs = arena.allocate(images.length * outF * Float.BYTES, 64);
        long first = 0;
        try (JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE)) {
            Program p = ref.compile(c.layers(), 1);
            for (int i = 0; i < images.length; i++) {
                MemorySegment in = input.asSlice(images[i] * inF * Float.BYTES, inF * Float.BYTES);
                MemorySegment out = outputs.asSlice(i * outF * Float.BYTES, outF * Float.BYTES);
                long t0 = System.nanoTime();
                p.run(in, out);
                if (i == 0) first = System.nanoTime() - t0;
            }
        }
        this.firstRunNanos = first;
    }

    /** Images checked at this batch: all up to 4, else first, middle and last. */
    static int[] sample(int batch, boolean all) {
        if (all || batch <= 4) {
            int[] a = new int[batch];
            for (int i = 0; i < batch; i++) a[i] = i;
            return a;
        }
        return new int[] {0, batch / 2, batch - 1};
    }

    public int[] images() { return images.clone(); }
    public int batch() { return batch; }

    /** Wall time of one reference run on one image (what the {@code ref} rows report at batch 1). */
    public long firstRunNanos() { return firstRunNanos; }

    /** The device output of the whole batch against the reference on the sampled images. */
    public Agreement check(MemorySegment deviceOutput, double bound) {
        long outF = c.outputFloats();
        Agreement a = null;
        for (int i = 0; i < images.length; i++) {
            Agreement one = Agreement.of(deviceOutput, images[i] * outF, outputs, i * outF, outF, bound);
            a = a == null ? one : a.merge(one);
        }
        return a;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
