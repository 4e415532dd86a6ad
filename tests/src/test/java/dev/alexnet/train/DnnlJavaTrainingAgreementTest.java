package dev.alexnet.train;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.device.TrainingProgram;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.nativ.dnnl.DnnlDevice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.alexnet.train.JavaTrainingTest.bind;
import static dev.alexnet.train.JavaTrainingTest.close;
import static dev.alexnet.train.JavaTrainingTest.randomInput;

/**
 * oneDNN's training program against the Java one at AlexNet's shapes and training batch sizes (oneDNN picks
 * other layouts from batch 16 up): the tail pool5 -> fc6 -> drop6 -> fc7, and conv2 -> lrn2 -> pool2.
 * Both sum the same float products in different orders; the bound is {@link JavaTrainingTest#close}'s.
 */
class DnnlJavaTrainingAgreementTest {
    static List<LayerSpec> tail() {
        return List.of(new LayerSpec.MaxPool("pool5", 256, 13, 13, 3, 2, 0), new LayerSpec.Linear("fc6", 9216, 512, true),
                new LayerSpec.Dropout("drop6", 512, 0.5f), new LayerSpec.Linear("fc7", 512, 10, false));
    }

    static List<LayerSpec> middle() {
        return List.of(new LayerSpec.Conv("conv2", 96, 27, 27, 64, 5, 1, 2, 2, true),
                new LayerSpec.Lrn("lrn2", 64, 27, 27, LrnParams.PAPER, 2), new LayerSpec.MaxPool("pool2", 64, 27, 27, 3, 2, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 32})
    void tailAgrees(int batch) {
        check(tail(), batch);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 16})
    void middleAgrees(int batch) {
        check(middle(), batch);
    }

    static void check(List<LayerSpec> specs, int batch) {
        try (Arena arena = Arena.ofShared(); JavaDevice java = new JavaDevice(2, JavaDevice.Kernels.VECTOR); DnnlDevice dnnl = new DnnlDevice(2)) {
            List<TrainLayer> a = bind(arena, specs, 4), b = bind(arena, specs, 4);
            TrainingProgram pa = java.compileTraining(a, batch), pb = dnnl.compileTraining(b, batch);
            MemorySegment x = randomInput(arena, pa.inputFloats(), 2), g = randomInput(arena, pa.outputFloats(), 3);
            MemorySegment ya = arena.allocate(pa.outputFloats() * 4, 64), yb = arena.allocate(pa.outputFloats() * 4, 64);
            MemorySegment ga = arena.allocate(pa.inputFloats() * 4, 64), gb = arena.allocate(pa.inputFloats() * 4, 64);
            pa.forward(x, ya, 77, dev.alexnet.device.LayerTimer.NONE);
            pb.forward(x, yb, 77, dev.alexnet.device.LayerTimer.NONE);
            close("output, batch " + batch, ya, yb, pa.outputFloats());
            pa.backward(g, ga, dev.alexnet.device.LayerTimer.NONE);
            pb.backward(g, gb, dev.alexnet.device.LayerTimer.NONE);
            close("input gradient, batch " + batch, ga, gb, pa.inputFloats());
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).weightGrad() == null) continue;
                String n = a.get(i).spec().name();
                close(n + ".weight gradient, batch " + batch, a.get(i).weightGrad().data(), b.get(i).weightGrad().data(), a.get(i).weightGrad().size());
                close(n + ".bias gradient, batch " + batch, a.get(i).biasGrad().data(), b.get(i).biasGrad().data(), a.get(i).biasGrad().size());
            }
        }
    }
}
