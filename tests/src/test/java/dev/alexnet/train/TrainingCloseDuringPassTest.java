package dev.alexnet.train;

import dev.alexnet.device.Device;
import dev.alexnet.device.LayerTimer;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.device.TrainingProgram;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.Devices;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing a training program while a pass runs waits for the pass (the kernels and oneDNN read the program's
 * arena, so freeing it under them could crash the JVM); later passes throw a clean IllegalStateException.
 * The overlap is made certain, not left to timing: the program's own layer timer, called inside the pass,
 * starts the closing thread and returns only once that thread is blocked in close() or has finished it.
 */
class TrainingCloseDuringPassTest {
    @ParameterizedTest
    @ValueSource(strings = {"java:2", "ref:1", "dnnl:1"})
    void closeWaitsForThePassInFlight(String device) throws Exception {
        try (Arena arena = Arena.ofShared(); Device dev = Devices.create(device, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
            List<TrainLayer> layers = JavaTrainingTest.bind(arena, JavaTrainingTest.tinyNet(), 5);
            TrainingProgram p = dev.compileTraining(layers, JavaTrainingTest.BATCH);
            MemorySegment in = arena.allocate(p.inputFloats() * Float.BYTES, 64), out = arena.allocate(p.outputFloats() * Float.BYTES, 64);
            Thread[] closer = new Thread[1];
            Thread.State[] seen = new Thread.State[1];
            LayerTimer closeMidPass = new LayerTimer() {
                @Override
                public void record(String layer, long nanos) {
                    if (closer[0] != null) return;
                    closer[0] = new Thread(p::close, "closer");
                    closer[0].start();
                    Thread.State s;
                    while ((s = closer[0].getState()) != Thread.State.WAITING && s != Thread.State.TERMINATED) Thread.onSpinWait();
                    seen[0] = s;
                }
            };
            p.forward(in, out, 1, closeMidPass); // completes: the memory stays until it returns
            closer[0].join(10_000);
            assertEquals(Thread.State.WAITING, seen[0], device + ": close() returned while a pass was still running");
            assertTrue(!closer[0].isAlive(), device + ": close() did not return after the pass");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.forward(in, out, 2, LayerTimer.NONE));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }
}
