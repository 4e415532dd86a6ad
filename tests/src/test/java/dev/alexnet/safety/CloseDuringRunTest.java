package dev.alexnet.safety;

import dev.alexnet.device.Device;
import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a caller does to a program's memory while it runs cannot crash the JVM. Closing the program, the
 * network or the input's arena in the middle of a pass used to free memory that the convolution tiles
 * (absolute-address loads) or oneDNN (native reads of the caller's input) were reading: SIGSEGV. Those
 * runs go to a child JVM, so that a crash fails the test instead of the test run; each must end in a clean
 * {@link IllegalStateException} on the running thread.
 */
class CloseDuringRunTest {
    @ParameterizedTest
    @ValueSource(strings = {"java:1", "dnnl:1"})
    void closingTheProgramNetworkOrInputDuringARunThrowsCleanly(String device) throws Exception {
        ChildJvm.Result r = ChildJvm.run(CloseDuringRunChild.class, 300, List.of(), device, "program", "network", "input");
        assertFalse(r.crashed(), device + ": the child JVM crashed:\n" + r.output());
        assertEquals(0, r.exit(), device + ": expected a clean IllegalStateException in every scenario:\n" + r.output());
        assertEquals(3, r.output().lines().filter(l -> l.startsWith("OUTCOME ")).count(), r.output());
    }

    @Test
    void closingATwoTowerNetworkDuringARunThrowsCleanly() throws Exception {
        ChildJvm.Result r = ChildJvm.run(CloseDuringRunChild.class, 300, List.of(), "java:1,dnnl:1", "network");
        assertFalse(r.crashed(), "the child JVM crashed:\n" + r.output());
        assertEquals(0, r.exit(), r.output());
    }

    /** A confined segment is read only by its owner thread: the JDK's rule, checked at entry by every backend. */
    @ParameterizedTest
    @ValueSource(strings = {"java:2", "ref:1", "dnnl:1"})
    void aSegmentConfinedToAnotherThreadIsRefusedAndARunAfterCloseThrows(String device) throws Exception {
        List<Layer> layers;
        try (AlexNetWeights w = AlexNetWeights.paperInit(3);
             Device d = Devices.create(device, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32);
             Arena confined = Arena.ofConfined(); Arena shared = Arena.ofShared()) {
            layers = w.layers(AlexNetSpec.PAPER).subList(0, 3); // conv1, lrn1, pool1: the convolution tiles read it
            Program p = d.compile(layers, 1);
            MemorySegment mine = confined.allocate(p.inputFloats() * Float.BYTES, 64);
            MemorySegment out = shared.allocate(p.outputFloats() * Float.BYTES, 64);
            MemorySegment in = shared.allocate(p.inputFloats() * Float.BYTES, 64);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    p.run(mine, out);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            other.join();
            assertInstanceOf(WrongThreadException.class, thrown.get(), device + ": a confined input read from another thread");
            p.run(in, out); // the program still works
            p.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.run(in, out));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }
}
