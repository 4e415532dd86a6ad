package dev.alexnet.train;

import dev.alexnet.kernels.ref.SoftmaxRef;
import dev.alexnet.model.Network;
import dev.alexnet.train.data.Augment;
import dev.alexnet.train.data.Dataset;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Top-1 and top-5 accuracy and the mean cross-entropy of an inference network over a dataset: one
 * central crop per image, or the paper's ten crops (four corners, the centre, and their reflections)
 * with the softmax averaged over them (section 4.1).
 */
public final class Evaluator {
    private Evaluator() {}

    /** @param top5 the fraction with the label among the 5 most probable classes (all classes when fewer than 5) */
    public record Result(int images, double loss, double top1, double top5) {
        public double error() { return 1 - top1; }
    }

    /** @param limit evaluate the first {@code limit} images only (0: all) */
    public static Result evaluate(Network net, Dataset ds, int batch, boolean tenCrop, int limit) {
        int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
        int classes = net.spec().classes(), s = ds.imageSize();
        if (ds.classes() > classes) {
            throw new IllegalArgumentException("the data has " + ds.classes() + " classes but the network only " + classes);
        }
        long imageBytes = 3L * s * s * Float.BYTES;
        int crops = tenCrop ? Dataset.TEST_CROPS : 1;
        int perBatch = Math.max(1, batch / crops) * crops; // whole images per pass
        double loss = 0;
        int top1 = 0, top5 = 0;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment images = arena.allocate(perBatch * imageBytes, 64);
            MemorySegment logits = arena.allocate((long) perBatch * classes * Float.BYTES, 64);
            MemorySegment prob = arena.allocate((long) perBatch * classes * Float.BYTES, 64);
            double[] mean = new double[classes];
            for (int first = 0; first < n; first += perBatch / crops) {
                int count = Math.min(perBatch / crops, n - first), f = first;
                IntStream.range(0, count * crops).parallel().forEach(j -> {
                    int img = f + j / crops;
                    if (tenCrop) ds.writeTestCrop(img, j % crops, images, j * imageBytes);
                    else ds.write(img, images, j * imageBytes, Augment.NONE, null);
                });
                int rows = count * crops;
                net.forward(images, logits, rows);
                SoftmaxRef.forward(prob, logits, rows, classes);
                for (int i = 0; i < count; i++) {
                    java.util.Arrays.fill(mean, 0);
                    for (int c = 0; c < crops; c++) {
                        long base = (long) (i * crops + c) * classes;
                        for (int k = 0; k < classes; k++) mean[k] += prob.getAtIndex(JAVA_FLOAT, base + k) / crops;
                    }
                    int label = ds.label(f + i);
                    int rank = 0; // classes strictly more probable than the label
                    for (int k = 0; k < classes; k++) if (mean[k] > mean[label]) rank++;
                    if (rank == 0) top1++;
                    if (rank < 5) top5++;
                    loss -= Math.log(Math.max(mean[label], Double.MIN_NORMAL));
                }
            }
        }
        return new Result(n, loss / n, (double) top1 / n, (double) top5 / n);
    }
}
