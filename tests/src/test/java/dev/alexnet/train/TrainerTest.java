package dev.alexnet.train;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Networks;
import dev.alexnet.tensor.Tensor;
import dev.alexnet.train.data.Augment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training loop: it learns, it checkpoints, and a stopped run resumes bit for bit. */
class TrainerTest {
    static final AlexNetSpec SPEC = AlexNetSpec.PAPER.withClasses(4);

    static Trainer.Config config(int epochs, float dropout) {
        return new Trainer.Config(epochs, 8, 0.01f, Sgd.PAPER, dropout, 17, true, Augment.NONE, 0, 0, 0, 2);
    }

    static Trainer trainer(Trainer.Config cfg, TrainingNetwork net, Parameters p, SyntheticDataset train, SyntheticDataset val, Path dir) {
        return new Trainer(cfg, net, p, train, val,
                () -> Networks.open(SPEC, p.values(), "java:2", JavaDevice.Kernels.VECTOR, Devices.Precision.FP32),
                dir, new PrintStream(new ByteArrayOutputStream()));
    }

    /**
     * Four classes told apart by where the light is: after three epochs of 32 images the validation
     * accuracy is clearly above chance (0.25) and the training loss has fallen below ln 4.
     */
    @Test
    void learnsASyntheticTask(@TempDir Path dir) throws IOException {
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 2, 4); Parameters p = new Parameters(init);
             SyntheticDataset train = new SyntheticDataset(32, 4); SyntheticDataset val = new SyntheticDataset(16, 4);
             TrainingNetwork net = TrainingNetworks.open(SPEC, p, "java:2", JavaDevice.Kernels.VECTOR, 0f)) {
            Metrics m = new Metrics();
            Trainer t = trainer(config(3, 0f), net, p, train, val, dir);
            Checkpoint.State end = t.run(new Checkpoint.State(0, 0, 0, 0.01f, 1.0, 0, 17), m);
            assertEquals(3, end.epoch());
            assertEquals(12, end.step());
            List<Metrics.Epoch> e = m.epochs();
            assertTrue(e.getLast().trainLoss() < Math.log(4), "training loss " + e.getLast().trainLoss());
            assertTrue(e.getLast().valTop1() >= 0.75, "validation top-1 " + e.getLast().valTop1() + " after " + e);
            assertTrue(Files.size(dir.resolve("metrics.png")) > 1000);
            assertEquals(4, Files.readAllLines(dir.resolve("metrics.csv")).size(), "header + 3 epochs");
            assertTrue(Files.exists(dir.resolve(Checkpoint.FILE)));
        }
    }

    /**
     * A run stopped after its 3rd step and resumed from the checkpoint ends with exactly the weights of the
     * uninterrupted run: order, dropout masks, momentum and learning rate all come back.
     */
    @Test
    void stopAndResumeIsBitForBit(@TempDir Path dir) throws IOException {
        Path whole = dir.resolve("whole"), split = dir.resolve("split");
        Files.createDirectories(whole);
        Files.createDirectories(split);
        Checkpoint.State start = new Checkpoint.State(0, 0, 0, 0.01f, 1.0, 0, 17);
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 4, 4);
             SyntheticDataset train = new SyntheticDataset(40, 4); SyntheticDataset val = new SyntheticDataset(8, 4)) {
            Tensor expected;
            try (Parameters p = new Parameters(init); TrainingNetwork net = TrainingNetworks.open(SPEC, p, "java:2", JavaDevice.Kernels.VECTOR, 0.5f)) {
                trainer(config(1, 0.5f), net, p, train, val, whole).run(start, new Metrics());
                expected = Tensor.allocate(java.lang.foreign.Arena.global(), p.values().get("fc6.weight").shape());
                expected.copyFrom(p.values().get("fc6.weight"));
            }
            try (Parameters p = new Parameters(init); TrainingNetwork net = TrainingNetworks.open(SPEC, p, "java:2", JavaDevice.Kernels.VECTOR, 0.5f)) {
                StopAfter stopNet = new StopAfter(net, 3);
                Trainer stopping = trainer(config(1, 0.5f), stopNet, p, train, val, split);
                stopNet.trainer = stopping;
                Checkpoint.State mid = stopping.run(start, new Metrics());
                assertEquals(0, mid.epoch());
                assertEquals(3, mid.batchInEpoch());
            }
            Checkpoint.Loaded c = Checkpoint.read(split);
            try (Parameters p = c.params(); TrainingNetwork net = TrainingNetworks.open(SPEC, p, "java:2", JavaDevice.Kernels.VECTOR, 0.5f)) {
                assertEquals(3, c.state().step());
                Checkpoint.State end = trainer(config(1, 0.5f), net, p, train, val, split).run(c.state(), new Metrics());
                assertEquals(5, end.step());
                assertEquals(-1L, expected.data().mismatch(p.values().get("fc6.weight").data()), "resumed weights differ from the uninterrupted run's");
            }
        }
    }

    /** A training network that asks its trainer to stop once it has run {@code n} steps. */
    static final class StopAfter implements TrainingNetwork {
        private final TrainingNetwork net;
        private final int n;
        private int done;
        Trainer trainer;

        StopAfter(TrainingNetwork net, int n) {
            this.net = net;
            this.n = n;
        }

        @Override public String placement() { return net.placement(); }
        @Override public AlexNetSpec spec() { return net.spec(); }
        @Override public void parametersChanged() { net.parametersChanged(); }
        @Override public void close() { net.close(); }

        @Override
        public double forwardBackward(java.lang.foreign.MemorySegment images, java.lang.foreign.MemorySegment labels, int batch, long seed,
                                      java.lang.foreign.MemorySegment logits, dev.alexnet.model.RunStats stats) {
            double l = net.forwardBackward(images, labels, batch, seed, logits, stats);
            if (++done == n) trainer.requestStop();
            return l;
        }
    }
}
