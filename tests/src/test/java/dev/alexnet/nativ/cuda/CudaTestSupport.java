package dev.alexnet.nativ.cuda;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;
import dev.alexnet.testing.TestData;
import org.opentest4j.TestAbortedException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared by the CUDA tests: opening a device (skip without a GPU), the reference; random inputs and the error figure from {@link TestData}. */
final class CudaTestSupport {
    private CudaTestSupport() {}

    /**
     * A CUDA device, or a skipped test when there is no driver, library or GPU. With
     * {@code -Dalexnet.gpu=true} (make test-gpu, gpu-bundle/run-gpu-tests) a missing GPU fails instead:
     * on the GPU host a silent skip would hide a broken set-up.
     */
    static CudaDevice open(CudaDevice.Precision precision, CudaDevice.Options options) {
        try {
            return new CudaDevice(0, precision, options);
        } catch (CudaUnavailableException e) {
            if (Boolean.getBoolean("alexnet.gpu")) fail("-Dalexnet.gpu=true but CUDA is unavailable: " + e.getMessage(), e);
            throw new TestAbortedException("no CUDA here: " + e.getMessage());
        }
    }

    private static volatile CudaUnavailableException missing;
    private static volatile boolean probed;

    /** Skips (or fails, under -Dalexnet.gpu=true) at once when there is no GPU: call before any slow set-up. */
    static synchronized void assumeCuda() {
        if (!probed) {
            try (CudaDevice d = new CudaDevice(0, CudaDevice.Precision.FP32, new CudaDevice.Options(false, CudaDevice.Lrn.AUTO))) {
                missing = null;
            } catch (CudaUnavailableException e) {
                missing = e;
            }
            probed = true;
        }
        if (missing != null) {
            if (Boolean.getBoolean("alexnet.gpu")) fail("-Dalexnet.gpu=true but CUDA is unavailable: " + missing.getMessage(), missing);
            throw new TestAbortedException("no CUDA here: " + missing.getMessage());
        }
    }

    static CudaDevice open(CudaDevice.Precision precision) {
        return open(precision, new CudaDevice.Options(true, CudaDevice.Lrn.AUTO));
    }

    static MemorySegment uniform(Arena arena, long n, long seed, float lo, float hi) {
        return TestData.uniform(arena, n, seed, lo, hi);
    }

    /** What the scalar reference computes for {@code layers} on {@code input}. */
    static float[] reference(List<Layer> layers, int batch, MemorySegment input) {
        try (JavaDevice ref = new JavaDevice(1, JavaDevice.Kernels.REFERENCE); Arena a = Arena.ofConfined()) {
            Program p = ref.compile(layers, batch);
            MemorySegment out = a.allocate(p.outputFloats() * Float.BYTES, 64);
            p.run(input, out);
            return out.toArray(JAVA_FLOAT);
        }
    }

    static float[] run(Program p, MemorySegment input) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(p.outputFloats() * Float.BYTES, 64);
            p.run(input, out);
            return out.toArray(JAVA_FLOAT);
        }
    }

    /** The agreement figure of {@code a} against the reference {@code ref} ({@link TestData#relErr(float[], float[])}). */
    static double relError(float[] a, float[] ref) {
        return TestData.relErr(a, ref);
    }
}
