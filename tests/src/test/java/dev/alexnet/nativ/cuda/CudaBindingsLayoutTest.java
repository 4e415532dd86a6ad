package dev.alexnet.nativ.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout.PathElement;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Not tagged gpu: the struct layouts against the sizes and offsets measured with a C probe on the
 * GPU host (docs: engineering-notes section 0). A wrong layout corrupts memory instead of failing.
 * Loading the binding classes without the libraries present must also be clean (missing symbols only
 * throw when called).
 */
class CudaBindingsLayoutTest {
    @Test
    void convolutionFwdAlgoPerfMatchesCudnn9() {
        var l = cudnn_h.cudnnConvolutionFwdAlgoPerf_t;
        assertEquals(48, l.byteSize());
        assertEquals(0, l.byteOffset(PathElement.groupElement("algo")));
        assertEquals(4, l.byteOffset(PathElement.groupElement("status")));
        assertEquals(8, l.byteOffset(PathElement.groupElement("time")));
        assertEquals(16, l.byteOffset(PathElement.groupElement("memory")));
        assertEquals(24, l.byteOffset(PathElement.groupElement("determinism")));
        assertEquals(28, l.byteOffset(PathElement.groupElement("mathType")));
    }

    @Test
    void enumValuesMatchTheHeaders() {
        assertEquals(3, cudnn_h.CUDNN_FMA_MATH);
        assertEquals(1, cudnn_h.CUDNN_TENSOR_OP_MATH);
        assertEquals(77, cublas_h.CUBLAS_COMPUTE_32F_FAST_TF32);
        assertEquals(3, cublas_h.CUBLAS_TF32_TENSOR_OP_MATH);
        assertEquals(1, cuda_h.CU_STREAM_NON_BLOCKING);
        assertEquals(75, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    }
}
