package dev.alexnet.train.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Batches of a {@link Dataset}, one epoch at a time, prepared ahead on background threads.
 *
 * <pre>{@code
 * try (BatchLoader loader = new BatchLoader(dataset, 128, BatchLoader.Options.defaults().withSeed(42).withThreads(2))) {
 *     for (int epoch = 0; epoch < 90; epoch++) {
 *         loader.start(epoch);
 *         for (BatchLoader.Batch b; (b = loader.next()) != null; ) train(b.images(), b.labels(), b.size());
 *     }
 * }
 * }</pre>
 *
 * <p><b>Determinism.</b> The images used ({@link Options#maxImages()}: a subset drawn once from the seed, the same
 * in every epoch), their order in an epoch (a shuffle drawn from the seed and the epoch number, or index order)
 * and each image's augmentation (a generator seeded from the seed, the epoch and the image's index) do not depend
 * on the number of threads or on their timing: the same options give bitwise the same batches.
 *
 * <p><b>Memory.</b> The loader owns a ring of {@code ahead + 1} batch buffers (float32 images {@code [B,3,S,S]}
 * and int32 labels {@code [B]}, 64-byte aligned, off-heap); workers fill up to {@code ahead} batches beyond the
 * one the consumer holds. A batch returned by {@link #next()} stays valid until the following call of
 * {@code next()}, {@link #start} or {@link #close()}; nothing is allocated per batch but one small generator per
 * image (and whatever the dataset's decoder allocates).
 *
 * <p><b>Errors.</b> An exception in a worker stops further loading; the consumer receives every batch before the
 * failing one, then an exception from {@code next()}: a {@link DataException} with the worker's message for bad
 * data (any {@link IllegalArgumentException}), else an {@link IllegalStateException} naming the batch. The loader
 * stays failed. {@link #close()} waits for the workers to finish the batch they are on (no thread outlives it)
 * and frees the buffers; it does not close the dataset. The consumer side ({@code start}, {@code next}) is meant
 * for one thread; {@code close} may come from any thread.
 */
public final class BatchLoader implements AutoCloseable {
    /**
     * @param seed       seeds the subset, the order and the augmentation
     * @param shuffle    a new random order each epoch (else index order)
     * @param dropLast   drop the last batch when it would have fewer than B images
     * @param maxImages  use only this many images (a subset drawn from the seed once); 0 for all
     * @param threads    background threads (at least 1)
     * @param ahead      batches prepared beyond the one the consumer holds (at least 1)
     * @param augment    the augmentation; null for the dataset's {@link Dataset#defaultAugment()}
     * @param testCrop   0-9 to write that {@link Dataset#writeTestCrop test crop} of every image instead; -1 for none
     */
    public record Options(long seed, boolean shuffle, boolean dropLast, int maxImages, int threads, int ahead, Augment augment, int testCrop) {
        public Options {
            if (maxImages < 0) throw new IllegalArgumentException("maxImages must be 0 (all) or positive, got " + maxImages);
            if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            if (ahead < 1) throw new IllegalArgumentException("ahead must be at least 1, got " + ahead);
            if (testCrop < -1 || testCrop >= Dataset.TEST_CROPS) throw new IllegalArgumentException("testCrop must be -1 or 0-9, got " + testCrop);
        }

        /** Seed 0, shuffled, last partial batch kept, all images, 1 thread, 2 batches ahead, the dataset's augmentation. */
        public static Options defaults() { return new Options(0, true, false, 0, 1, 2, null, -1); }

        /** Evaluation: index order, no augmentation, last partial batch kept. */
        public static Options evaluation() { return new Options(0, false, false, 0, 1, 2, Augment.NONE, -1); }

        public Options withSeed(long s) { return new Options(s, shuffle, dropLast, maxImages, threads, ahead, augment, testCrop); }
        public Options withShuffle(boolean s) { return new Options(seed, s, dropLast, maxImages, threads, ahead, augment, testCrop); }
        public Options withDropLast(boolean d) { return new Options(seed, shuffle, d, maxImages, threads, ahead, augment, testCrop); }
        public Options withMaxImages(int m) { return new Options(seed, shuffle, dropLast, m, threads, ahead, augment, testCrop); }
        public Options withThreads(int t) { return new Options(seed, shuffle, dropLast, maxImages, t, ahead, augment, testCrop); }
        public Options withAhead(int a) { return new Options(seed, shuffle, dropLast, maxImages, threads, a, augment, testCrop); }
        public Options withAugment(Augment a) { return new Options(seed, shuffle, dropLast, maxImages, threads, ahead, a, testCrop); }
        public Options withTestCrop(int c) { return new Options(seed, shuffle, dropLast, maxImages, threads, ahead, augment, c); }
    }

    /** One batch: a view of a buffer the loader owns, valid until the consumer's next call. */
    public static final class Batch {
        private final MemorySegment fullImages, fullLabels;
        private final int[] indices;
        private MemorySegment images, labels;
        private int epoch, number, size;

        private Batch(MemorySegment images, MemorySegment labels, int capacity) {
            this.fullImages = images;
            this.fullLabels = labels;
            this.indices = new int[capacity];
        }

        public int epoch() { return epoch; }
        /** The batch's position in its epoch, from 0. */
        public int number() { return number; }
        /** Images in this batch (B, or fewer in the last batch). */
        public int size() { return size; }
        /** float32 {@code [size, 3, S, S]}. */
        public MemorySegment images() { return images; }
        /** int32 {@code [size]}. */
        public MemorySegment labels() { return labels; }
        /** The dataset index of image {@code j} of the batch. */
        public int datasetIndex(int j) { return indices[java.util.Objects.checkIndex(j, size)]; }
    }

    private final Dataset ds;
    private final int batch;
    private final Options opt;
    private final Augment augment;
    private final long imageBytes;
    private final int[] subset;
    private final Arena arena = Arena.ofShared();
    private final Batch[] ring;
    private final Thread[] workers;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private int epoch = -1;
    private int[] order;
    private int batches;
    private int claimNext, consumerNext, held = -1, inFlight;
    private long generation;
    private final int[] ready;
    private Throwable failure;
    private int failedBatch = Integer.MAX_VALUE;
    private boolean closed;

    public BatchLoader(Dataset dataset, int batchSize, Options options) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (dataset.size() < 1) throw new IllegalArgumentException("the dataset is empty");
        this.ds = dataset;
        this.batch = batchSize;
        this.opt = options;
        this.augment = options.augment() == null ? dataset.defaultAugment() : options.augment();
        int s = dataset.imageSize();
        this.imageBytes = 3L * s * s * Float.BYTES;
        this.subset = subset(dataset.size(), options.maxImages(), options.seed());
        int slots = options.ahead() + 1;
        ring = new Batch[slots];
        ready = new int[slots];
        Arrays.fill(ready, -1);
        for (int i = 0; i < slots; i++) {
            ring[i] = new Batch(arena.allocate(imageBytes * batchSize, 64), arena.allocate(4L * batchSize, 64), batchSize);
        }
        workers = new Thread[options.threads()];
        for (int t = 0; t < workers.length; t++) {
            workers[t] = Thread.ofPlatform().daemon().name("batch-loader-" + t).unstarted(this::work);
            workers[t].start();
        }
    }

    /** The images an epoch uses (after {@link Options#maxImages()}). */
    public int images() { return subset.length; }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        return opt.dropLast() ? subset.length / batch : (subset.length + batch - 1) / batch;
    }

    /** The dataset indices of {@code epoch} in the order they are delivered (for tests and logs). */
    public int[] order(int epoch) {
        int[] o = subset.clone();
        if (opt.shuffle()) {
            SplittableRandom r = new SplittableRandom(mix(mix(opt.seed() ^ 0x5EEDL) + epoch));
            for (int i = o.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
        }
        return o;
    }

    private static int[] subset(int n, int max, long seed) {
        if (max == 0 || max >= n) {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            return all;
        }
        // The first max of a seeded shuffle, in index order, so that a subset of a class-sorted dataset has every class.
        int[] p = new int[n];
        Arrays.setAll(p, i -> i);
        SplittableRandom r = new SplittableRandom(mix(seed ^ 0x5B5E7L));
        for (int i = 0; i < max; i++) {
            int j = i + r.nextInt(n - i);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        int[] s = Arrays.copyOf(p, max);
        Arrays.sort(s);
        return s;
    }

    /** The seed of image {@code index}'s augmentation in {@code epoch}. */
    public static long imageSeed(long seed, int epoch, int index) {
        return mix(mix(mix(seed) + epoch) + index);
    }

    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Begins {@code epoch} (abandoning what is left of the current one). */
    public void start(int epoch) {
        start(epoch, 0);
    }

    /**
     * Starts {@code epoch} at batch {@code firstBatch}, delivering what an epoch started at 0 would deliver from
     * there on (a resumed run skips the batches it trained before it stopped, without loading them).
     */
    public void start(int epoch, int firstBatch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
        if (firstBatch < 0 || firstBatch > batchesPerEpoch()) {
            throw new IllegalArgumentException("first batch " + firstBatch + " is outside the epoch's " + batchesPerEpoch() + " batches");
        }
        int[] o = order(epoch);
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("batch loader closed");
            if (failure != null) throw surfaced();
            generation++;
            this.epoch = -1; // no claims while the batches in flight finish
            while (inFlight > 0 && !closed) changed.awaitUninterruptibly();
            if (closed) throw new IllegalStateException("batch loader closed");
            this.epoch = epoch;
            this.order = o;
            this.batches = batchesPerEpoch();
            claimNext = firstBatch;
            consumerNext = firstBatch;
            held = -1;
            Arrays.fill(ready, -1);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The next batch of the current epoch, or null after its last. */
    public Batch next() {
        lock.lock();
        try {
            checkUsable();
            if (epoch < 0) throw new IllegalStateException("call start(epoch) before next()");
            if (held >= 0) {
                held = -1;
                changed.signalAll();
            }
            if (consumerNext >= batches) return null;
            int k = consumerNext, slot = k % ring.length;
            while (ready[slot] != k) {
                if (closed) throw new IllegalStateException("batch loader closed");
                if (failure != null && failedBatch <= k) throw surfaced();
                changed.awaitUninterruptibly();
            }
            held = k;
            consumerNext = k + 1;
            Batch b = ring[slot];
            int n = Math.min(batch, order.length - k * batch);
            if (b.size != n || b.images == null) {
                b.images = n == batch ? b.fullImages : b.fullImages.asSlice(0, n * imageBytes);
                b.labels = n == batch ? b.fullLabels : b.fullLabels.asSlice(0, 4L * n);
            }
            b.epoch = epoch;
            b.number = k;
            b.size = n;
            return b;
        } finally {
            lock.unlock();
        }
    }

    private void checkUsable() {
        if (closed) throw new IllegalStateException("batch loader closed");
        if (failure != null && epoch >= 0 && failedBatch < Integer.MAX_VALUE && consumerNext >= failedBatch) throw surfaced();
    }

    private RuntimeException surfaced() {
        Throwable f = failure;
        if (f instanceof IllegalArgumentException) return new DataException(f.getMessage(), f);
        return new IllegalStateException("loading batch " + failedBatch + " of epoch " + epoch + " failed: " + f, f);
    }

    private void work() {
        while (true) {
            int k, ep;
            int[] o;
            long gen;
            lock.lock();
            try {
                while (!closed && !(failure == null && epoch >= 0 && claimNext < batches && claimNext < lowest() + ring.length)) {
                    changed.awaitUninterruptibly();
                }
                if (closed) return;
                k = claimNext++;
                ep = epoch;
                o = order;
                gen = generation;
                inFlight++;
            } finally {
                lock.unlock();
            }
            Throwable err = null;
            try {
                fill(ring[k % ring.length], k, ep, o);
            } catch (Throwable t) {
                err = t;
            }
            lock.lock();
            try {
                inFlight--;
                if (gen == generation) {
                    if (err == null) {
                        ready[k % ring.length] = k;
                    } else if (k < failedBatch) {
                        failure = err;
                        failedBatch = k;
                    }
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private int lowest() {
        return held >= 0 ? held : consumerNext;
    }

    private void fill(Batch b, int k, int ep, int[] o) {
        int from = k * batch, n = Math.min(batch, o.length - from);
        for (int j = 0; j < n; j++) {
            int idx = o[from + j];
            b.indices[j] = idx;
            long off = j * imageBytes;
            if (opt.testCrop() >= 0) {
                ds.writeTestCrop(idx, opt.testCrop(), b.fullImages, off);
            } else {
                SplittableRandom rng = augment == Augment.NONE ? null : new SplittableRandom(imageSeed(opt.seed(), ep, idx));
                ds.write(idx, b.fullImages, off, augment, rng);
            }
            b.fullLabels.setAtIndex(JAVA_INT, j, ds.label(idx));
        }
    }

    /** Stops the workers (each finishes the batch it is on), waits for them and frees the buffers. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        arena.close();
        if (interrupted) Thread.currentThread().interrupt();
    }
}
