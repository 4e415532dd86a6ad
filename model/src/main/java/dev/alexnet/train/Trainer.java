package dev.alexnet.train;

import dev.alexnet.kernels.DropoutMask;
import dev.alexnet.model.Network;
import dev.alexnet.train.data.Augment;
import dev.alexnet.train.data.BatchLoader;
import dev.alexnet.train.data.Dataset;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The training loop of the paper (section 5): minibatch SGD with momentum and weight decay over shuffled
 * epochs; after each epoch the validation error, a checkpoint, the metrics, and the learning rate divided
 * by 10 when the validation error did not improve (at most {@link Config#maxLrDrops} times; the paper
 * dropped it three times).
 *
 * <p>Every random choice is a function of the run's seed and the position: the epoch's order, each
 * image's augmentation, each step's dropout masks ({@link DropoutMask}). A run stopped after any step
 * and resumed from its checkpoint therefore computes what the uninterrupted run computes.
 */
public final class Trainer {
    /**
     * @param maxImages  training images per epoch (0: all)
     * @param valImages  validation images per evaluation (0: all)
     * @param maxLrDrops how many times the learning rate may be divided by 10
     */
    public record Config(int epochs, int batch, float lr, Sgd sgd, float dropout, long seed, boolean shuffle, Augment augment,
                         int maxImages, int valImages, int maxLrDrops, int loaderThreads) {
        public Config {
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
            if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
            if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("--lr must be positive and finite, got " + lr);
            if (maxImages < 0 || valImages < 0) throw new IllegalArgumentException("image limits must not be negative");
        }
    }

    private final Config config;
    private final TrainingNetwork net;
    private final Parameters params;
    private final Dataset train, val;
    private final Supplier<Network> evalNetwork;
    private final Path runDir;
    private final PrintStream out;
    private final AtomicBoolean stop = new AtomicBoolean();

    /**
     * @param evalNetwork makes an inference network over the store's current values (called once per
     *                    validation, closed after it: inference programs pack the weights they read)
     */
    public Trainer(Config config, TrainingNetwork net, Parameters params, Dataset train, Dataset val,
                   Supplier<Network> evalNetwork, Path runDir, PrintStream out) {
        if (train.classes() > params.classes()) {
            throw new IllegalArgumentException("the training data has " + train.classes() + " classes but the network's fc8 has " + params.classes());
        }
        this.config = config;
        this.net = net;
        this.params = params;
        this.train = train;
        this.val = val;
        this.evalNetwork = evalNetwork;
        this.runDir = runDir;
        this.out = out;
    }

    /** Asks the loop to stop after the current step (and write a checkpoint); for a Ctrl-C handler. */
    public void requestStop() { stop.set(true); }

    /** The dropout seed of optimizer step {@code step}. */
    public static long stepSeed(long runSeed, long step) {
        return DropoutMask.mix(runSeed * 0x9E3779B97F4A7C15L + step);
    }

    /** Trains from {@code state} to the last epoch (or a stop request); returns where it ended. */
    public Checkpoint.State run(Checkpoint.State state, Metrics metrics) throws IOException {
        BatchLoader.Options options = new BatchLoader.Options(config.seed(), config.shuffle(), false, config.maxImages(),
                config.loaderThreads(), 2, config.augment(), -1);
        try (Arena arena = Arena.ofConfined(); BatchLoader loader = new BatchLoader(train, config.batch(), options)) {
            int images = loader.images(), batches = loader.batchesPerEpoch();
            MemorySegment logits = arena.allocate((long) config.batch() * params.classes() * Float.BYTES, 64);
            while (state.epoch() < config.epochs()) {
                int epoch = state.epoch();
                double lossSum = 0;
                long seen = 0, correct = 0;
                long t0 = System.nanoTime();
                Progress progress = new Progress(out, epoch, config.epochs(), images);
                loader.start(epoch, state.batchInEpoch());
                for (BatchLoader.Batch b; (b = loader.next()) != null; ) {
                    double loss = net.forwardBackward(b.images(), b.labels(), b.size(), stepSeed(config.seed(), state.step()), logits, null);
                    if (!Double.isFinite(loss)) {
                        throw new IllegalStateException("the loss became " + loss + " at epoch " + (epoch + 1) + ", step " + state.step()
                                + ": the learning rate " + state.lr() + " is too high for this initialisation (try --lr " + state.lr() / 10 + " or --init he)");
                    }
                    config.sgd().step(params, state.lr());
                    net.parametersChanged();
                    lossSum += loss * b.size();
                metrics.step(state.step() + 1, epoch + (state.batchInEpoch() + 1) / (double) batches, loss);
                    seen += b.size();
                    correct += correctTop1(logits, b.labels(), b.size(), params.classes());
                    state = new Checkpoint.State(epoch, state.batchInEpoch() + 1, state.step() + 1, state.lr(), state.bestValError(), state.lrDrops(), state.seed());
                    progress.update(state.batchInEpoch() * (long) config.batch(), lossSum / seen, seen / seconds(t0));
                    if (stop.get() && state.batchInEpoch() < batches) {
                        progress.done();
                        Checkpoint.write(runDir, params, state, train.classNames());
                        out.printf("stopped after step %d (epoch %d, batch %d of %d): checkpoint written; continue with --resume %s%n",
                                state.step(), epoch + 1, state.batchInEpoch(), batches, runDir);
                        return state;
                    }
                }
                progress.done();
                double seconds = seconds(t0);
                Evaluator.Result v;
                try (Network eval = evalNetwork.get()) {
                    v = Evaluator.evaluate(eval, val, config.batch(), false, config.valImages());
                }
                metrics.add(new Metrics.Epoch(epoch, seen, lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen),
                        v.loss(), v.top1(), v.top5(), state.lr(), seconds));
                out.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f top-1 %.4f | validation (%d images) loss %.4f top-1 %.4f top-5 %.4f | lr %g | %.0f s, %.1f images/s%n",
                        epoch + 1, config.epochs(), lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen), v.images(), v.loss(), v.top1(), v.top5(),
                        state.lr(), seconds, seen / seconds);
                float lr = state.lr();
                int drops = state.lrDrops();
                double best = state.bestValError();
                if (v.error() >= best && drops < config.maxLrDrops()) {
                    lr /= 10;
                    drops++;
                    out.printf(Locale.ROOT, "validation error %.4f did not improve on %.4f: learning rate divided by 10, now %g%n", v.error(), best, lr);
                }
                state = new Checkpoint.State(epoch + 1, 0, state.step(), lr, Math.min(best, v.error()), drops, state.seed());
                Checkpoint.write(runDir, params, state, train.classNames());
                metrics.write(runDir);
                if (stop.get()) {
                    out.printf("stopped after epoch %d: checkpoint written; continue with --resume %s%n", epoch + 1, runDir);
                    return state;
                }
            }
        }
        return state;
    }

    /** Writes the final weights (PyTorch names, class names in the metadata) to {@code RUN_DIR/final.safetensors}. */
    public void writeFinal(Map<String, String> metadata) throws IOException {
        Checkpoint.writeWeights(runDir.resolve("final.safetensors"), params.values(), train.classNames(), metadata);
    }

    private static long correctTop1(MemorySegment logits, MemorySegment labels, int rows, int classes) {
        long correct = 0;
        for (int r = 0; r < rows; r++) {
            long base = (long) r * classes;
            int best = 0;
            for (int c = 1; c < classes; c++) if (logits.getAtIndex(JAVA_FLOAT, base + c) > logits.getAtIndex(JAVA_FLOAT, base + best)) best = c;
            if (best == labels.getAtIndex(JAVA_INT, r)) correct++;
        }
        return correct;
    }

    private static double seconds(long t0) {
        return Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
    }

    /** The progress line: redrawn in place on a terminal, a line every 30 s otherwise. */
    private static final class Progress {
        private final PrintStream out;
        private final int epoch, epochs;
        private final long total;
        private final boolean terminal = System.console() != null;
        private long lastPrint;
        private boolean drawn;

        Progress(PrintStream out, int epoch, int epochs, long total) {
            this.out = out;
            this.epoch = epoch;
            this.epochs = epochs;
            this.total = total;
        }

        void update(long done, double loss, double imagesPerSecond) {
            long now = System.nanoTime();
            if (now - lastPrint < (terminal ? 200_000_000L : 30_000_000_000L) && done < total) return;
            lastPrint = now;
            done = Math.min(done, total);
            int width = 30, filled = (int) (width * done / Math.max(1, total));
            long eta = (long) ((total - done) / Math.max(1e-9, imagesPerSecond));
            String line = String.format(Locale.ROOT, "epoch %d/%d [%s%s] %,d/%,d images  loss %.4f  %.1f images/s  ETA %d:%02d:%02d",
                    epoch + 1, epochs, "=".repeat(filled), " ".repeat(width - filled), done, total, loss, imagesPerSecond,
                    eta / 3600, eta / 60 % 60, eta % 60);
            if (terminal) {
                out.print("\r" + line);
                drawn = true;
            } else {
                out.println(line);
            }
            out.flush();
        }

        void done() {
            if (drawn) out.println();
            drawn = false;
        }
    }
}
