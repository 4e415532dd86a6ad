package dev.alexnet.train.data;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batches: determinism across threads and timing, epoch order, last batch, subsets, shutdown and worker errors. */
class BatchLoaderTest {
    private static final int S = 3;

    /**
     * A dataset whose image i is filled from (i, the generator): with {@code jitter} each write sleeps a random
     * time, with {@code failAt} image failAt throws {@code failure}, and {@code gate} holds every write until opened.
     */
    static final class Synthetic implements Dataset {
        final int n;
        boolean jitter;
        int failAt = -1;
        RuntimeException failure;
        CountDownLatch gate;

        Synthetic(int n) { this.n = n; }

        @Override public int size() { return n; }
        @Override public int classes() { return 7; }
        @Override public List<String> classNames() { return IntStream.range(0, 7).mapToObj(Integer::toString).toList(); }
        @Override public int label(int i) { return (i * 5) % 7; }
        @Override public int imageSize() { return S; }
        @Override public Augment defaultAugment() { return Augment.PAPER; }

        @Override
        public void write(int i, MemorySegment dst, long off, Augment aug, SplittableRandom rng) {
            if (gate != null) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (jitter) LockSupport.parkNanos(ThreadLocalRandom.current().nextInt(300_000));
            if (i == failAt) throw failure;
            for (int k = 0; k < 3 * S * S; k++) {
                float v = aug == Augment.NONE ? i * 100 + k : (float) (i + rng.nextDouble());
                dst.setAtIndex(JAVA_FLOAT, off / 4 + k, v);
            }
        }

        @Override
        public void writeTestCrop(int i, int crop, MemorySegment dst, long off) {
            for (int k = 0; k < 3 * S * S; k++) dst.setAtIndex(JAVA_FLOAT, off / 4 + k, i * 1000 + crop);
        }
    }

    private final List<BatchLoader> open = new ArrayList<>();

    private BatchLoader loader(Dataset ds, int b, BatchLoader.Options o) {
        BatchLoader l = new BatchLoader(ds, b, o);
        open.add(l);
        return l;
    }

    @AfterEach
    void closeAll() {
        open.forEach(BatchLoader::close);
    }

    /** Every float and label of an epoch, batch by batch, plus the batch sizes. */
    private static List<int[]> epoch(BatchLoader l, int epoch) {
        l.start(epoch);
        List<int[]> out = new ArrayList<>();
        for (BatchLoader.Batch b; (b = l.next()) != null; ) {
            assertEquals(epoch, b.epoch());
            assertEquals(out.size(), b.number());
            int[] bits = new int[b.size() * (3 * S * S + 1) + 1];
            bits[0] = b.size();
            int k = 1;
            for (int j = 0; j < b.size() * 3 * S * S; j++) bits[k++] = Float.floatToRawIntBits(b.images().getAtIndex(JAVA_FLOAT, j));
            for (int j = 0; j < b.size(); j++) bits[k++] = b.labels().getAtIndex(JAVA_INT, j);
            assertEquals(b.size() * 3L * S * S * 4, b.images().byteSize());
            assertEquals(b.size() * 4L, b.labels().byteSize());
            out.add(bits);
        }
        return out;
    }

    private static void assertSame(List<int[]> a, List<int[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "batch " + i);
    }

    @Test
    void sameSeedSameBatchesWhateverTheThreadsAndTiming() {
        Synthetic calm = new Synthetic(37), jittery = new Synthetic(37);
        jittery.jitter = true;
        BatchLoader.Options o = BatchLoader.Options.defaults().withSeed(11);
        BatchLoader one = loader(calm, 5, o.withThreads(1));
        BatchLoader three = loader(jittery, 5, o.withThreads(3).withAhead(3));
        for (int e = 0; e < 3; e++) assertSame(epoch(one, e), epoch(three, e));
        // The same epoch again, after others, is the same; another seed is not.
        assertSame(epoch(one, 1), epoch(three, 1));
        BatchLoader other = loader(calm, 5, o.withSeed(12));
        assertFalse(Arrays.equals(epoch(one, 0).get(0), epoch(other, 0).get(0)));
    }

    @Test
    void labelsAndImagesBelongTogether() {
        Synthetic ds = new Synthetic(23);
        BatchLoader l = loader(ds, 4, BatchLoader.Options.defaults().withSeed(3).withThreads(2).withAugment(Augment.NONE));
        l.start(0);
        Set<Integer> seen = new HashSet<>();
        for (BatchLoader.Batch b; (b = l.next()) != null; ) {
            for (int j = 0; j < b.size(); j++) {
                int idx = b.datasetIndex(j);
                assertTrue(seen.add(idx));
                assertEquals(ds.label(idx), b.labels().getAtIndex(JAVA_INT, j));
                assertEquals(idx * 100 + 4, b.images().getAtIndex(JAVA_FLOAT, j * 3L * S * S + 4));
            }
        }
        assertEquals(23, seen.size());
    }

    @Test
    void orderIsAPermutationThatChangesPerEpochUnlessUnshuffled() {
        Synthetic ds = new Synthetic(50);
        BatchLoader l = loader(ds, 8, BatchLoader.Options.defaults().withSeed(5));
        int[] o0 = l.order(0), o1 = l.order(1);
        assertArrayEquals(IntStream.range(0, 50).toArray(), IntStream.of(o0).sorted().toArray());
        assertArrayEquals(IntStream.range(0, 50).toArray(), IntStream.of(o1).sorted().toArray());
        assertFalse(Arrays.equals(o0, o1));
        assertArrayEquals(o0, l.order(0));
        // The delivered order is that order.
        l.start(1);
        int k = 0;
        for (BatchLoader.Batch b; (b = l.next()) != null; ) for (int j = 0; j < b.size(); j++) assertEquals(o1[k++], b.datasetIndex(j));
        assertEquals(50, k);
        BatchLoader plain = loader(ds, 8, BatchLoader.Options.defaults().withShuffle(false));
        assertArrayEquals(IntStream.range(0, 50).toArray(), plain.order(3));
        // Augmentation differs between epochs for the same image (the generator is seeded with the epoch).
        BatchLoader a = loader(ds, 50, BatchLoader.Options.defaults().withShuffle(false));
        assertNotEquals(epoch(a, 0).get(0)[1], epoch(a, 1).get(0)[1]);
    }

    @Test
    void lastPartialBatchKeptOrDropped() {
        Synthetic ds = new Synthetic(10);
        BatchLoader keep = loader(ds, 4, BatchLoader.Options.defaults());
        assertEquals(3, keep.batchesPerEpoch());
        List<int[]> e = epoch(keep, 0);
        assertEquals(List.of(4, 4, 2), e.stream().map(b -> b[0]).toList());
        assertNull(keep.next());
        BatchLoader drop = loader(ds, 4, BatchLoader.Options.defaults().withDropLast(true));
        assertEquals(List.of(4, 4), epoch(drop, 0).stream().map(b -> b[0]).toList());
        // The kept partial batch is the same data whichever option: the first two batches agree.
        assertSame(e.subList(0, 2), epoch(drop, 0));
        // Exact multiple: no partial batch either way.
        BatchLoader exact = loader(new Synthetic(8), 4, BatchLoader.Options.defaults());
        assertEquals(List.of(4, 4), epoch(exact, 2).stream().map(b -> b[0]).toList());
    }

    @Test
    void maxImagesUsesOneSeededSubsetInEveryEpoch() {
        Synthetic ds = new Synthetic(40);
        BatchLoader l = loader(ds, 3, BatchLoader.Options.defaults().withSeed(9).withMaxImages(7).withThreads(2));
        assertEquals(7, l.images());
        assertEquals(3, l.batchesPerEpoch());
        Set<Integer> first = null;
        for (int e = 0; e < 3; e++) {
            l.start(e);
            Set<Integer> seen = new HashSet<>();
            for (BatchLoader.Batch b; (b = l.next()) != null; ) for (int j = 0; j < b.size(); j++) seen.add(b.datasetIndex(j));
            assertEquals(7, seen.size());
            if (first == null) first = seen;
            assertEquals(first, seen);
        }
        assertFalse(first.equals(Set.of(0, 1, 2, 3, 4, 5, 6)), "a seeded draw, not the first images");
        assertEquals(40, loader(ds, 3, BatchLoader.Options.defaults().withMaxImages(100)).images());
    }

    @Test
    void testCropsForEvaluation() {
        Synthetic ds = new Synthetic(6);
        BatchLoader l = loader(ds, 4, BatchLoader.Options.evaluation().withTestCrop(7));
        l.start(0);
        BatchLoader.Batch b = l.next();
        for (int j = 0; j < 4; j++) assertEquals(j * 1000 + 7, b.images().getAtIndex(JAVA_FLOAT, j * 3L * S * S));
    }

    private static boolean loaderThreadsAlive() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("batch-loader-") && t.isAlive());
    }

    @Test
    void closeWhileWorkersAreBusyLeavesNoThreads() throws Exception {
        Synthetic ds = new Synthetic(100);
        ds.jitter = true;
        BatchLoader l = new BatchLoader(ds, 4, BatchLoader.Options.defaults().withThreads(3));
        l.start(0);
        assertEquals(4, l.next().size());
        l.close();
        l.close();
        assertFalse(loaderThreadsAlive());
        assertThrows(IllegalStateException.class, l::next);
        assertThrows(IllegalStateException.class, () -> l.start(1));

        // Closed from another thread while the consumer waits for a batch the workers cannot finish yet.
        Synthetic held = new Synthetic(10);
        held.gate = new CountDownLatch(1);
        BatchLoader w = new BatchLoader(held, 2, BatchLoader.Options.defaults().withThreads(2));
        w.start(0);
        Thread closer = Thread.ofPlatform().start(() -> {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            held.gate.countDown();
            w.close();
        });
        try {
            w.next();
            w.next();
            w.next();
            w.next();
            w.next();
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("closed"), expected.getMessage());
        }
        closer.join();
        assertFalse(loaderThreadsAlive());
    }

    @Test
    void workerExceptionsSurfaceInTheConsumerAfterTheGoodBatches() {
        Synthetic bad = new Synthetic(20);
        bad.failAt = 9;
        bad.failure = new DataException("img9.png: corrupt or unsupported image (truncated)");
        bad.jitter = true;
        BatchLoader l = loader(bad, 4, BatchLoader.Options.defaults().withShuffle(false).withThreads(3));
        l.start(0);
        assertEquals(0, l.next().number());
        assertEquals(1, l.next().number());
        DataException e = assertThrows(DataException.class, l::next);
        assertEquals("img9.png: corrupt or unsupported image (truncated)", e.getMessage());
        assertThrows(DataException.class, l::next);
        assertThrows(DataException.class, () -> l.start(1));

        Synthetic bug = new Synthetic(20);
        bug.failAt = 0;
        bug.failure = new ArithmeticException("/ by zero");
        BatchLoader m = loader(bug, 4, BatchLoader.Options.defaults().withShuffle(false));
        m.start(0);
        IllegalStateException ise = assertThrows(IllegalStateException.class, m::next);
        assertTrue(ise.getMessage().contains("batch 0 of epoch 0") && ise.getMessage().contains("/ by zero"), ise.getMessage());
    }

    @Test
    void restartingAnEpochMidwayGivesItFromTheStart() {
        Synthetic ds = new Synthetic(30);
        ds.jitter = true;
        BatchLoader l = loader(ds, 4, BatchLoader.Options.defaults().withSeed(1).withThreads(3));
        List<int[]> full = epoch(l, 2);
        l.start(2);
        l.next();
        l.next();
        assertSame(full, epoch(l, 2));
    }

    /** An IDX dataset through the loader: PAPER batches are bitwise the same on 1 and 3 threads, and equal direct writes. */
    @Test
    void idxDatasetThroughTheLoader(@TempDir Path dir) throws java.io.IOException {
        int n = 13, rows = 5, cols = 6;
        byte[] px = new byte[n * rows * cols], lab = new byte[n];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 31 + 7);
        for (int i = 0; i < n; i++) lab[i] = (byte) (i % 3);
        Path im = DataFiles.write(dir.resolve("im.gz"), DataFiles.gzip(DataFiles.idx(0x0803, new int[] {n, rows, cols}, px)));
        Path lb = DataFiles.write(dir.resolve("lb.gz"), DataFiles.gzip(DataFiles.idx(0x0801, new int[] {n}, lab)));
        try (IdxDataset ds = IdxDataset.open(im, lb, List.of("x", "y", "z"), 0.4, 0.3, 7, 9); Arena arena = Arena.ofConfined()) {
            BatchLoader.Options o = BatchLoader.Options.defaults().withSeed(77).withAugment(Augment.PAPER);
            BatchLoader one = loader(ds, 4, o), three = loader(ds, 4, o.withThreads(3));
            MemorySegment direct = arena.allocate(3L * 7 * 7 * 4);
            for (int e = 0; e < 2; e++) {
                one.start(e);
                three.start(e);
                for (BatchLoader.Batch a, b; (a = one.next()) != null; ) {
                    b = three.next();
                    assertEquals(-1, a.images().mismatch(b.images()));
                    assertEquals(-1, a.labels().mismatch(b.labels()));
                    for (int j = 0; j < a.size(); j++) {
                        int idx = a.datasetIndex(j);
                        ds.write(idx, direct, 0, Augment.PAPER, new SplittableRandom(BatchLoader.imageSeed(77, e, idx)));
                        assertEquals(-1, direct.mismatch(a.images().asSlice(j * direct.byteSize(), direct.byteSize())));
                        assertEquals(idx % 3, a.labels().getAtIndex(JAVA_INT, j));
                    }
                }
                assertNull(three.next());
            }
        }
    }

    @Test
    void badOptions() {
        Synthetic ds = new Synthetic(3);
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(ds, 0, BatchLoader.Options.defaults()));
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.Options.defaults().withThreads(0));
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.Options.defaults().withMaxImages(-1));
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.Options.defaults().withTestCrop(10));
        BatchLoader l = loader(ds, 2, BatchLoader.Options.defaults());
        assertThrows(IllegalStateException.class, l::next);
    }
}
