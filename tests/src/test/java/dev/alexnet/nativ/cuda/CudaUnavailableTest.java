package dev.alexnet.nativ.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Not tagged gpu: runs everywhere. A missing library or symbol is a clean exception, never a crash. */
class CudaUnavailableTest {
    static final CudaLibraries.Lib MISSING = new CudaLibraries.Lib("CUDA driver", "alexnet.test.missing.lib",
            List.of("libalexnet-no-such-cuda.so.1"));

    @Test
    void missingLibraryIsACleanExceptionNamingItAndThePlacesTried() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaLibraries.lookup(MISSING));
        assertTrue(e.getMessage().startsWith("no CUDA driver: libalexnet-no-such-cuda.so.1 not found"), e.getMessage());
        assertTrue(e.getMessage().contains("/usr/local/cuda/targets/x86_64-linux/lib/libalexnet-no-such-cuda.so.1"), e.getMessage());
        assertTrue(e.getMessage().contains("-Dalexnet.test.missing.lib="), e.getMessage());
        assertFalse(CudaLibraries.available(MISSING));
        // asked again: the same clean answer, not a NoClassDefFoundError or a cached crash
        assertThrows(CudaUnavailableException.class, () -> CudaLibraries.lookup(MISSING));
    }

    @Test
    void propertyOverrideIsTriedFirst() {
        CudaLibraries.Lib lib = new CudaLibraries.Lib("cuDNN", "alexnet.test.override.lib", List.of("libalexnet-no-such-cudnn.so.9"));
        System.setProperty("alexnet.test.override.lib", "/nonexistent/dir/libcudnn.so.9");
        try {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaLibraries.lookup(lib));
            assertTrue(e.getMessage().startsWith("no cuDNN: /nonexistent/dir/libcudnn.so.9 not found"), e.getMessage());
        } finally {
            System.clearProperty("alexnet.test.override.lib");
        }
    }

    @Test
    void missingSymbolThrowsWhenCalledNotWhenBound() throws Throwable {
        MethodHandle h = CudaLibraries.downcall(MISSING, FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuInit");
        CudaException e = assertThrows(CudaException.class, () -> { int unused = (int) h.invokeExact(0); });
        assertTrue(e.getMessage().contains("libalexnet-no-such-cuda.so.1"), e.getMessage());
    }

    @Test
    void deviceWithoutDriverFailsCleanly() {
        assumeFalse(Cuda.available(), "a CUDA driver and GPU are present here");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> new CudaDevice(0, CudaDevice.Precision.FP32));
        assertTrue(e.getMessage().startsWith("no CUDA driver: libcuda.so.1 not found") || e.getMessage().startsWith("no usable CUDA device")
                || e.getMessage().startsWith("no CUDA device"), e.getMessage());
    }

    @Test
    void statusErrorsCarryTheCallAndName() {
        CudaException e = new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.statusName());
        assertTrue(e.getMessage().startsWith("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)"));
    }
}
