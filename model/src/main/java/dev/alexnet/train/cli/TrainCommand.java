package dev.alexnet.train.cli;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Networks;
import dev.alexnet.train.Checkpoint;
import dev.alexnet.train.DataSources;
import dev.alexnet.train.Metrics;
import dev.alexnet.train.Parameters;
import dev.alexnet.train.Sgd;
import dev.alexnet.train.Trainer;
import dev.alexnet.train.TrainingNetwork;
import dev.alexnet.train.TrainingNetworks;
import dev.alexnet.train.data.Augment;
import dev.alexnet.train.data.IdxDataset;
import dev.alexnet.model.cli.TrainedLabels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains the paper AlexNet with the paper's SGD (momentum 0.9, weight decay 0.0005), dropout 0.5 on fc6 and fc7,",
                "and the learning rate divided by 10 when the validation error stops improving.",
                "Writes RUN_DIR/checkpoint.safetensors and metrics.csv/metrics.png after every epoch, RUN_DIR/final.safetensors at the end.",
                "Ctrl-C stops after the current step with a checkpoint that --resume continues."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "SET", description = "fashion-mnist, a directory of class folders (optionally with train/ and val/), or X.npy (float32 [N,3,227,227]) with --labels")
    String data;
    @Option(names = "--labels", paramLabel = "L.npy", description = "integer labels [N] for --data X.npy")
    Path labels;
    @Option(names = "--val-data", paramLabel = "SET", description = "validation images (default: fashion-mnist's test set, DIR/val, or the training set)")
    Path valData;
    @Option(names = "--val-labels", paramLabel = "L.npy")
    Path valLabels;
    @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "where checkpoints, metrics and the final weights go")
    Path out;
    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "continue the run whose checkpoint is in RUN_DIR")
    Path resume;
    @Option(names = "--epochs", defaultValue = "1") int epochs;
    @Option(names = "--batch", defaultValue = "128") int batch;
    @Option(names = "--lr", defaultValue = "0.01", description = "initial learning rate eps (default: ${DEFAULT-VALUE})") float lr;
    @Option(names = "--momentum", defaultValue = "0.9") float momentum;
    @Option(names = "--weight-decay", defaultValue = "0.0005") float weightDecay;
    @Option(names = "--bias-decay", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "decay the biases too, as the paper's formula does (--no-bias-decay: as Caffe's bvlc_alexnet)")
    boolean biasDecay;
    @Option(names = "--lr-drops", defaultValue = "3", description = "how many times the learning rate may be divided by 10 (default: ${DEFAULT-VALUE})") int lrDrops;
    @Option(names = "--init", defaultValue = "he", description = "he (default: trains at lr 0.01) or paper (N(0,0.01), biases 1: stays at chance on Fashion-MNIST)") String init;
    @Option(names = "--weights", paramLabel = "FILE", description = "start from these weights instead of a fresh initialisation") Path weights;
    @Option(names = "--dropout", defaultValue = "0.5") float dropout;
    @Option(names = "--augment", description = "none or paper (random crops, flips, PCA colour; default: paper for image folders, none otherwise)") String augment;
    @Option(names = "--shuffle", defaultValue = "epoch", description = "epoch (a new order every epoch, from the seed) or none") String shuffle;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--max-images", defaultValue = "0", description = "train on the first N images of each epoch's order (0: all)") int maxImages;
    @Option(names = "--val-images", defaultValue = "0", description = "validate on the first N images (0: all)") int valImages;
    @Option(names = "--device", paramLabel = "DEV", description = "java:N (default: java:<cores>), ref:1 or dnnl:N") String device;
    @Option(names = "--towers", paramLabel = "A,B", description = "the paper's two towers, e.g. java:1,java:1 or dnnl:1,java:1") String towers;
    @Option(names = "--kernels", defaultValue = "vector", description = "vector or reference (java devices)") String kernels;
    @Option(names = "--loader-threads", defaultValue = "1", description = "threads that decode and augment ahead of the compute") int loaderThreads;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (device != null && towers != null) throw new IllegalArgumentException("give --device or --towers, not both");
        String placement = towers != null ? towers : device != null ? device : "java:" + Runtime.getRuntime().availableProcessors();
        if (placement.matches("(?i)(.*,)?\\s*(cuda|gpu)(:.*)?")) {
            throw new UnsupportedOperationException("training on CUDA is not there yet (cuDNN's backward functions are not bound): train on java:N or dnnl:N");
        }
        JavaDevice.Kernels k = switch (kernels) {
            case "vector", "vec" -> JavaDevice.Kernels.VECTOR;
            case "reference", "ref" -> JavaDevice.Kernels.REFERENCE;
            default -> throw new IllegalArgumentException("--kernels must be vector or reference, got '" + kernels + "'");
        };
        if (resume != null && !resume.equals(out)) throw new IllegalArgumentException("--resume continues in its own RUN_DIR: give the same directory to --out");
        prepareRunDir();
        try (DataSources.Pair sets = DataSources.open(data, labels, valData, valLabels)) {
            Augment aug = augment == null ? sets.train().defaultAugment() : switch (augment) {
                case "none" -> Augment.NONE;
                case "paper" -> Augment.PAPER;
                default -> throw new IllegalArgumentException("--augment must be none or paper, got '" + augment + "'");
            };
            boolean shuffled = switch (shuffle) {
                case "epoch" -> true;
                case "none" -> false;
                default -> throw new IllegalArgumentException("--shuffle must be epoch or none, got '" + shuffle + "'");
            };
            Checkpoint.State state;
            Parameters params;
            Metrics metrics;
            if (resume != null) {
                Checkpoint.Loaded c = Checkpoint.read(resume);
                params = c.params();
                state = c.state();
                seed = state.seed();
                metrics = Metrics.read(resume);
                System.out.printf("resuming %s at epoch %d, batch %d (step %d, lr %g)%n", resume, state.epoch() + 1, state.batchInEpoch(), state.step(), state.lr());
            } else {
                try (AlexNetWeights w = initialWeights(sets.train().classes())) {
                    params = new Parameters(w);
                }
                state = new Checkpoint.State(0, 0, 0, lr, 1.0, 0, seed);
                metrics = new Metrics();
            }
            if (params.classes() < sets.train().classes()) {
                params.close();
                throw new IllegalArgumentException("the weights have " + params.classes() + " classes but the data " + sets.train().classes());
            }
            AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(params.classes());
            Trainer.Config cfg = new Trainer.Config(epochs, batch, lr, new Sgd(momentum, weightDecay, biasDecay), dropout, seed, shuffled, aug,
                    maxImages, valImages, lrDrops, loaderThreads);
            System.out.printf(Locale.ROOT, "training on %s: %s, batch %d, lr %g, %s, dropout %.2f, augment %s, %d classes, %s%n",
                    placement, sets.description(), batch, state.lr(), resume != null ? "resumed" : init + " init", dropout,
                    aug.name().toLowerCase(Locale.ROOT), params.classes(), out);
            try (params; TrainingNetwork net = TrainingNetworks.open(spec, params, placement, k, dropout)) {
                Trainer trainer = new Trainer(cfg, net, params, sets.train(), sets.val(),
                        () -> Networks.open(spec, params.values(), placement, k, Devices.Precision.FP32), out, System.out);
                // Ctrl-C: the hook asks for a stop after the current step and holds the JVM until the checkpoint and
                // the final weights are written (the JVM halts when its hooks return).
                CountDownLatch written = new CountDownLatch(1);
                Thread hook = new Thread(() -> {
                    trainer.requestStop();
                    try {
                        written.await(10, TimeUnit.MINUTES);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }, "alexnet-train-stop");
                Runtime.getRuntime().addShutdownHook(hook);
                try {
                    finish(trainer, trainer.run(state, metrics), sets, placement);
                } finally {
                    written.countDown();
                }
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // Ctrl-C arrived: the hook is waiting for the files, which are written
                }
            }
        }
        return 0;
    }

    /** The final weights with what classify needs to use them: class names, and the preprocessing of grey sets. */
    private void finish(Trainer trainer, Checkpoint.State end, DataSources.Pair sets, String placement) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("trained", "epochs " + end.epoch() + ", steps " + end.step() + ", seed " + seed + ", on " + placement);
        if (sets.train() instanceof IdxDataset idx) meta.put(TrainedLabels.PREPROCESS_KEY, "grey " + idx.mean() + " " + idx.std());
        trainer.writeFinal(meta);
        System.out.println("wrote " + out.resolve("final.safetensors"));
    }

    private AlexNetWeights initialWeights(int classes) {
        if (weights != null) return AlexNetWeights.load(weights);
        AlexNetWeights.Init kind = switch (init) {
            case "he" -> AlexNetWeights.Init.HE;
            case "paper" -> AlexNetWeights.Init.PAPER;
            default -> throw new IllegalArgumentException("--init must be he or paper, got '" + init + "'");
        };
        return AlexNetWeights.init(kind, seed, classes);
    }

    private void prepareRunDir() throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a file, not a directory");
        if (resume == null && Files.exists(out.resolve(Checkpoint.FILE))) {
            throw new IllegalArgumentException(out + " already holds a run: continue it with --resume " + out + ", or choose another --out");
        }
        Files.createDirectories(out);
        if (!Files.isWritable(out)) throw new IllegalArgumentException("--out " + out + " is not writable");
    }
}
