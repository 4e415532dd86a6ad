package dev.alexnet.nativ.cuda;

import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Not tagged gpu: the options record and how system properties fill it, without a device. */
class CudaOptionsTest {
    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    @Test
    void withoutPropertiesTheDefaultsAreGraphsAutoLrnCudnnConvAndSmallBatchGemv() {
        assertEquals(new CudaDevice.Options(true, CudaDevice.Lrn.AUTO, CudaDevice.Conv.CUDNN, CudaDevice.Fc.GEMV_SMALL_BATCH),
                CudaDevice.Options.fromProperties(props()));
        assertEquals(new CudaDevice.Options(true, CudaDevice.Lrn.AUTO), CudaDevice.Options.fromProperties(props()));
    }

    @Test
    void eachPropertyFillsItsComponent() {
        CudaDevice.Options o = CudaDevice.Options.fromProperties(props("alexnet.cuda.graphs", "false", "alexnet.cuda.lrn", "kernel",
                "alexnet.cuda.conv", "gemm", "alexnet.cuda.fc", "cublas"));
        assertEquals(new CudaDevice.Options(false, CudaDevice.Lrn.KERNEL, CudaDevice.Conv.GEMM, CudaDevice.Fc.CUBLAS), o);
        assertEquals(CudaDevice.Conv.AUTO, CudaDevice.Options.fromProperties(props("alexnet.cuda.conv", " Auto ")).conv());
        assertEquals(CudaDevice.Lrn.CUDNN, CudaDevice.Options.fromProperties(props("alexnet.cuda.lrn", "cudnn")).lrn());
    }

    @Test
    void anUnknownValueNamesThePropertyAndTheAcceptedValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaDevice.Options.fromProperties(props("alexnet.cuda.conv", "winograd")));
        assertEquals("alexnet.cuda.conv must be one of cudnn, gemm, auto, got 'winograd'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaDevice.Options.fromProperties(props("alexnet.cuda.fc", "gemv")));
        assertTrue(e.getMessage().startsWith("alexnet.cuda.fc must be one of gemv_small_batch, cublas"), e.getMessage());
    }

    @Test
    void withersChangeOneComponent() {
        CudaDevice.Options o = new CudaDevice.Options(true, CudaDevice.Lrn.AUTO);
        assertEquals(new CudaDevice.Options(true, CudaDevice.Lrn.AUTO, CudaDevice.Conv.AUTO, CudaDevice.Fc.GEMV_SMALL_BATCH),
                o.withConv(CudaDevice.Conv.AUTO));
        assertEquals(new CudaDevice.Options(false, CudaDevice.Lrn.CUDNN, CudaDevice.Conv.CUDNN, CudaDevice.Fc.CUBLAS),
                o.withGraphs(false).withLrn(CudaDevice.Lrn.CUDNN).withFc(CudaDevice.Fc.CUBLAS));
        assertThrows(NullPointerException.class, () -> o.withConv(null));
    }
}
