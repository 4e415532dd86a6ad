package dev.alexnet.train;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.RunStats;
import dev.alexnet.tensor.Tensor;
import dev.alexnet.train.data.Augment;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole paper network in training: two towers against one device after several optimizer steps
 * (dropout on), and the backward exchanges in the trace.
 */
class AlexNetTrainingTest {
    static final int CLASSES = 10, BATCH = 2, STEPS = 3;
    /** Small enough that three steps on one batch of two descend (at 0.01 this batch overshoots and the loss grows). */
    static final float LR = 0.001f;

    /** Runs STEPS steps of the paper's SGD on a fixed batch; returns the losses. */
    static double[] train(String placement, Parameters p, RunStats stats) {
        AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(CLASSES);
        double[] losses = new double[STEPS];
        try (TrainingNetwork net = TrainingNetworks.open(spec, p, placement, JavaDevice.Kernels.VECTOR, 0.5f);
             Arena arena = Arena.ofShared(); SyntheticDataset ds = new SyntheticDataset(4, 4)) {
            long imageBytes = 3L * 227 * 227 * 4;
            MemorySegment x = arena.allocate(BATCH * imageBytes, 64), y = arena.allocate(BATCH * 4L, 4);
            for (int i = 0; i < BATCH; i++) {
                ds.write(i + 1, x, i * imageBytes, Augment.NONE, null);
                y.setAtIndex(JAVA_INT, i, 3 * i + 1);
            }
            for (int s = 0; s < STEPS; s++) {
                losses[s] = net.forwardBackward(x, y, BATCH, Trainer.stepSeed(7, s), null, s == STEPS - 1 ? stats : null);
                Sgd.PAPER.step(p, LR);
                net.parametersChanged();
            }
        }
        return losses;
    }

    /**
     * Two towers compute the same sums as one device split in two (conv3, fc6-fc8 add the two towers'
     * partial input gradients at the exchange, one device adds them inside one reduction): after three
     * steps every parameter agrees to rounding. The bound, 2e-4 of each tensor's largest value change
     * plus 1e-6 absolute, is far below a single step's change, so a tower that skipped its update, used the
     * other's dropout mask, or lost the other tower's gradient at an exchange fails.
     */
    @Test
    void twoTowersTrainLikeOneDevice() {
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 3, CLASSES);
             Parameters one = new Parameters(init); Parameters two = new Parameters(init)) {
            RunStats stats = new RunStats();
            double[] a = train("java:1", one, null), b = train("java:1,java:1", two, stats);
            assertTrue(a[STEPS - 1] < a[0], "the loss on a fixed batch did not fall: " + java.util.Arrays.toString(a));
            for (int s = 0; s < STEPS; s++) assertEquals(a[s], b[s], 1e-4 * Math.abs(a[s]), "loss at step " + s);
            assertSameParameters(init, one, two, "java:1,java:1");
            for (Map.Entry<String, Tensor> e : one.values().tensors().entrySet()) {
                assertTrue(e.getValue().data().mismatch(init.get(e.getKey()).data()) >= 0, e.getKey() + " did not change in three steps");
            }
            // the trace shows the backward exchanges at the paper's four points
            var names = stats.spans().stream().filter(sp -> sp.kind() == RunStats.Kind.EXCHANGE).map(RunStats.Span::name).toList();
            for (String n : new String[] {"send to conv3", "send to fc6", "send to fc7", "send to fc8", "grad from conv3", "grad from fc6", "grad from fc7", "grad from fc8"}) {
                assertTrue(names.contains(n), "no exchange '" + n + "' in " + names);
            }
        }
    }

    /**
     * oneDNN's training path against the Java one, alone and as one tower of two, after three steps. The two
     * sum the same products in other orders, so a unit whose pre-activation lies within rounding of zero can be
     * on different sides of its ReLU in the two runs: its whole gradient row then differs (an element-wise
     * bound fails on that row alone). The check is therefore on each tensor's whole change: the relative
     * 2-norm of the difference of the changes must stay below 1e-3, where rounding alone gives about 1e-6 and
     * a wrong layer (a skipped update, a lost gradient, a transposed weight) gives O(1).
     */
    @Test
    void oneDnnTrainsLikeJava() {
        try (AlexNetWeights init = AlexNetWeights.init(AlexNetWeights.Init.HE, 3, CLASSES);
             Parameters java = new Parameters(init); Parameters dnnl = new Parameters(init); Parameters mixed = new Parameters(init)) {
            double[] a = train("java:1", java, null), b = train("dnnl:1", dnnl, null), c = train("dnnl:1,java:1", mixed, null);
            for (int s = 0; s < STEPS; s++) {
                assertEquals(a[s], b[s], 1e-4 * Math.abs(a[s]), "dnnl:1 loss at step " + s);
                assertEquals(a[s], c[s], 1e-4 * Math.abs(a[s]), "dnnl:1,java:1 loss at step " + s);
            }
            assertSameChanges(init, java, dnnl, "dnnl:1");
            assertSameChanges(init, java, mixed, "dnnl:1,java:1");
        }
    }

    static void assertSameChanges(AlexNetWeights init, Parameters want, Parameters got, String what) {
        for (Map.Entry<String, Tensor> e : want.values().tensors().entrySet()) {
            Tensor w0 = init.get(e.getKey()), w1 = e.getValue(), w2 = got.values().get(e.getKey());
            double diff = 0, norm = 0;
            for (long i = 0; i < w1.size(); i++) {
                double c = (double) w1.get(i) - w0.get(i), d = (double) w1.get(i) - w2.get(i);
                norm += c * c;
                diff += d * d;
            }
            double rel = Math.sqrt(diff / norm);
            assertTrue(rel < 1e-3, what + ": " + e.getKey() + " changed differently from java:1's: relative 2-norm " + rel);
        }
    }

    static void assertSameParameters(AlexNetWeights init, Parameters want, Parameters got, String what) {
        for (Map.Entry<String, Tensor> e : want.values().tensors().entrySet()) {
            Tensor w0 = init.get(e.getKey()), w1 = e.getValue(), w2 = got.values().get(e.getKey());
            double change = 0;
            for (long i = 0; i < w1.size(); i++) change = Math.max(change, Math.abs(w1.get(i) - w0.get(i)));
            for (long i = 0; i < w1.size(); i++) {
                if (!(Math.abs(w1.get(i) - w2.get(i)) <= 2e-4 * change + 1e-6)) {
                    fail(what + ": " + e.getKey() + "[" + i + "]: java:1 " + w1.get(i) + ", " + what + " " + w2.get(i) + " (largest change " + change + ")");
                }
            }
        }
    }
}
