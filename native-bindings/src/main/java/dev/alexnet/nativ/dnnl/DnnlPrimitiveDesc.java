package dev.alexnet.nativ.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/**
 * {@code dnnl_primitive_desc_t}: an operation with its memory descriptors, bound to the
 * implementation oneDNN chose. Created for forward inference; attributes and descriptors passed in
 * are copied by oneDNN and may be closed afterwards.
 */
public final class DnnlPrimitiveDesc extends DnnlHandle {
    private DnnlPrimitiveDesc(MemorySegment h) { super(h); }

    private static MemorySegment orNull(DnnlHandle h) { return h == null ? MemorySegment.NULL : h.handle(); }

    /**
     * Convolution (direct), 2-D: strides, pads (left = right) per spatial dim, no dilation.
     * Grouped weights are 5-D {@code {G, K/G, C/G, R, S}}.
     */
    public static DnnlPrimitiveDesc convolution(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc weights, DnnlMemoryDesc bias,
                                                DnnlMemoryDesc dst, long[] strides, long[] padL, long[] padR, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_convolution_forward_primitive_desc_create", context,
                    out -> dnnl_convolution_forward_primitive_desc_create(out, eng.handle(), dnnl_forward_inference, dnnl_convolution_direct,
                            src.handle(), weights.handle(), orNull(bias), dst.handle(), st, dil, pl, pr, orNull(attr))));
        }
    }

    /** Max pooling, 2-D, no dilation. */
    public static DnnlPrimitiveDesc maxPooling(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc dst, long[] strides, long[] kernel,
                                               long[] padL, long[] padR, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), k = dims(a, kernel), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_pooling_forward_primitive_desc_create", context,
                    out -> dnnl_pooling_forward_primitive_desc_create(out, eng.handle(), dnnl_forward_inference, dnnl_pooling_max,
                            src.handle(), dst.handle(), st, k, dil, pl, pr, orNull(attr))));
        }
    }

    /** LRN across channels. oneDNN divides {@code alpha} by {@code localSize}: pass the library alpha. */
    public static DnnlPrimitiveDesc lrnAcrossChannels(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc dst, long localSize,
                                                      float alpha, float beta, float k, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_lrn_forward_primitive_desc_create", context,
                out -> dnnl_lrn_forward_primitive_desc_create(out, eng.handle(), dnnl_forward_inference, dnnl_lrn_across_channels,
                        src.handle(), dst.handle(), localSize, alpha, beta, k, orNull(attr))));
    }

    public static DnnlPrimitiveDesc innerProduct(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc weights, DnnlMemoryDesc bias,
                                                 DnnlMemoryDesc dst, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_inner_product_forward_primitive_desc_create", context,
                out -> dnnl_inner_product_forward_primitive_desc_create(out, eng.handle(), dnnl_forward_inference,
                        src.handle(), weights.handle(), orNull(bias), dst.handle(), orNull(attr))));
    }

    public static DnnlPrimitiveDesc softmax(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc dst, int axis, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_softmax_forward_primitive_desc_create", context,
                out -> dnnl_softmax_forward_primitive_desc_create(out, eng.handle(), dnnl_forward_inference, dnnl_softmax_accurate,
                        src.handle(), dst.handle(), axis, orNull(attr))));
    }

    public static DnnlPrimitiveDesc reorder(DnnlEngine eng, DnnlMemoryDesc from, DnnlMemoryDesc to, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_reorder_primitive_desc_create", context,
                out -> dnnl_reorder_primitive_desc_create(out, from.handle(), eng.handle(), to.handle(), eng.handle(), orNull(attr))));
    }

    /** An owned copy of the descriptor for {@code what} ({@code dnnl_query_src_md}, ...). */
    public DnnlMemoryDesc queryMd(int what) {
        MemorySegment md = dnnl_primitive_desc_query_md(handle(), what, 0);
        if (md.equals(MemorySegment.NULL)) throw new DnnlException("dnnl_primitive_desc_query_md", dnnl_invalid_arguments, "query " + what);
        return DnnlMemoryDesc.copyOf(md);
    }

    /** Bytes of scratchpad the primitive needs (0 when none, or in library scratchpad mode). */
    public long scratchpadBytes() {
        MemorySegment md = dnnl_primitive_desc_query_md(handle(), dnnl_query_scratchpad_md, 0);
        return md.equals(MemorySegment.NULL) ? 0 : dnnl_memory_desc_get_size(md);
    }

    /** {@code dnnl_query_impl_info_str}: the implementation's name, e.g. {@code brg_conv_fwd:avx512_core}. */
    public String implInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            DnnlException.check(dnnl_primitive_desc_query(handle(), dnnl_query_impl_info_str, 0, out), "dnnl_primitive_desc_query", "impl_info_str");
            return out.get(ValueLayout.ADDRESS, 0).reinterpret(Integer.MAX_VALUE).getString(0);
        }
    }

    @Override int destroy(MemorySegment h) { return dnnl_primitive_desc_destroy(h); }
    @Override String destroyName() { return "dnnl_primitive_desc_destroy"; }
}
