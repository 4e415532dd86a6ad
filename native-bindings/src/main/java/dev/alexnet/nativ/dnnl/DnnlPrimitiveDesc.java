package dev.alexnet.nativ.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/**
 * {@code dnnl_primitive_desc_t}: an operation with its memory descriptors, bound to the
 * implementation oneDNN chose. The plain forward creators are for inference; the {@code prop}
 * variants take {@code dnnl_forward_training} too, and the backward creators need the forward
 * primitive descriptor as a hint, as oneDNN requires. Attributes, descriptors and hints passed in
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
        return convolution(eng, dnnl_forward_inference, src, weights, bias, dst, strides, padL, padR, attr, context);
    }

    /** As above for {@code prop} = {@code dnnl_forward_inference} or {@code dnnl_forward_training}. */
    public static DnnlPrimitiveDesc convolution(DnnlEngine eng, int prop, DnnlMemoryDesc src, DnnlMemoryDesc weights, DnnlMemoryDesc bias,
                                                DnnlMemoryDesc dst, long[] strides, long[] padL, long[] padR, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_convolution_forward_primitive_desc_create", context,
                    out -> dnnl_convolution_forward_primitive_desc_create(out, eng.handle(), prop, dnnl_convolution_direct,
                            src.handle(), weights.handle(), orNull(bias), dst.handle(), st, dil, pl, pr, orNull(attr))));
        }
    }

    /** Max pooling, 2-D, no dilation. */
    public static DnnlPrimitiveDesc maxPooling(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc dst, long[] strides, long[] kernel,
                                               long[] padL, long[] padR, DnnlAttr attr, String context) {
        return maxPooling(eng, dnnl_forward_inference, src, dst, strides, kernel, padL, padR, attr, context);
    }

    /** As above for {@code prop}; in training, max pooling records the winners in a workspace its backward reads. */
    public static DnnlPrimitiveDesc maxPooling(DnnlEngine eng, int prop, DnnlMemoryDesc src, DnnlMemoryDesc dst, long[] strides, long[] kernel,
                                               long[] padL, long[] padR, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), k = dims(a, kernel), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_pooling_forward_primitive_desc_create", context,
                    out -> dnnl_pooling_forward_primitive_desc_create(out, eng.handle(), prop, dnnl_pooling_max,
                            src.handle(), dst.handle(), st, k, dil, pl, pr, orNull(attr))));
        }
    }

    /** LRN across channels. oneDNN divides {@code alpha} by {@code localSize}: pass the library alpha. */
    public static DnnlPrimitiveDesc lrnAcrossChannels(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc dst, long localSize,
                                                      float alpha, float beta, float k, DnnlAttr attr, String context) {
        return lrnAcrossChannels(eng, dnnl_forward_inference, src, dst, localSize, alpha, beta, k, attr, context);
    }

    /** As above for {@code prop}; in training the LRN keeps a workspace its backward reads. */
    public static DnnlPrimitiveDesc lrnAcrossChannels(DnnlEngine eng, int prop, DnnlMemoryDesc src, DnnlMemoryDesc dst, long localSize,
                                                      float alpha, float beta, float k, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_lrn_forward_primitive_desc_create", context,
                out -> dnnl_lrn_forward_primitive_desc_create(out, eng.handle(), prop, dnnl_lrn_across_channels,
                        src.handle(), dst.handle(), localSize, alpha, beta, k, orNull(attr))));
    }

    public static DnnlPrimitiveDesc innerProduct(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc weights, DnnlMemoryDesc bias,
                                                 DnnlMemoryDesc dst, DnnlAttr attr, String context) {
        return innerProduct(eng, dnnl_forward_inference, src, weights, bias, dst, attr, context);
    }

    public static DnnlPrimitiveDesc innerProduct(DnnlEngine eng, int prop, DnnlMemoryDesc src, DnnlMemoryDesc weights, DnnlMemoryDesc bias,
                                                 DnnlMemoryDesc dst, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_inner_product_forward_primitive_desc_create", context,
                out -> dnnl_inner_product_forward_primitive_desc_create(out, eng.handle(), prop,
                        src.handle(), weights.handle(), orNull(bias), dst.handle(), orNull(attr))));
    }

    /** Element-wise forward ({@code alg} e.g. {@code dnnl_eltwise_relu_use_dst_for_bwd}); src and dst may be one buffer. */
    public static DnnlPrimitiveDesc eltwise(DnnlEngine eng, int prop, int alg, DnnlMemoryDesc src, DnnlMemoryDesc dst, float alpha, float beta,
                                            DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_eltwise_forward_primitive_desc_create", context,
                out -> dnnl_eltwise_forward_primitive_desc_create(out, eng.handle(), prop, alg, src.handle(), dst.handle(), alpha, beta, orNull(attr))));
    }

    // ---- backward (each takes its forward primitive descriptor as the hint) ----

    /** Convolution gradient with respect to the source, from the destination gradient and the weights. */
    public static DnnlPrimitiveDesc convolutionBackwardData(DnnlEngine eng, DnnlMemoryDesc diffSrc, DnnlMemoryDesc weights, DnnlMemoryDesc diffDst,
                                                            long[] strides, long[] padL, long[] padR, DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_convolution_backward_data_primitive_desc_create", context,
                    out -> dnnl_convolution_backward_data_primitive_desc_create(out, eng.handle(), dnnl_convolution_direct,
                            diffSrc.handle(), weights.handle(), diffDst.handle(), st, dil, pl, pr, hint.handle(), orNull(attr))));
        }
    }

    /** Convolution gradients of the weights and (when {@code diffBias} is given) the bias. */
    public static DnnlPrimitiveDesc convolutionBackwardWeights(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc diffWeights, DnnlMemoryDesc diffBias,
                                                               DnnlMemoryDesc diffDst, long[] strides, long[] padL, long[] padR,
                                                               DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_convolution_backward_weights_primitive_desc_create", context,
                    out -> dnnl_convolution_backward_weights_primitive_desc_create(out, eng.handle(), dnnl_convolution_direct,
                            src.handle(), diffWeights.handle(), orNull(diffBias), diffDst.handle(), st, dil, pl, pr, hint.handle(), orNull(attr))));
        }
    }

    public static DnnlPrimitiveDesc innerProductBackwardData(DnnlEngine eng, DnnlMemoryDesc diffSrc, DnnlMemoryDesc weights, DnnlMemoryDesc diffDst,
                                                             DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_inner_product_backward_data_primitive_desc_create", context,
                out -> dnnl_inner_product_backward_data_primitive_desc_create(out, eng.handle(), diffSrc.handle(), weights.handle(),
                        diffDst.handle(), hint.handle(), orNull(attr))));
    }

    public static DnnlPrimitiveDesc innerProductBackwardWeights(DnnlEngine eng, DnnlMemoryDesc src, DnnlMemoryDesc diffWeights, DnnlMemoryDesc diffBias,
                                                                DnnlMemoryDesc diffDst, DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_inner_product_backward_weights_primitive_desc_create", context,
                out -> dnnl_inner_product_backward_weights_primitive_desc_create(out, eng.handle(), src.handle(), diffWeights.handle(),
                        orNull(diffBias), diffDst.handle(), hint.handle(), orNull(attr))));
    }

    /** Max pooling backward: routes each destination gradient to its winner, read from the forward's workspace. */
    public static DnnlPrimitiveDesc maxPoolingBackward(DnnlEngine eng, DnnlMemoryDesc diffSrc, DnnlMemoryDesc diffDst, long[] strides, long[] kernel,
                                                       long[] padL, long[] padR, DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = dims(a, strides), k = dims(a, kernel), dil = dims(a, new long[strides.length]), pl = dims(a, padL), pr = dims(a, padR);
            return new DnnlPrimitiveDesc(create("dnnl_pooling_backward_primitive_desc_create", context,
                    out -> dnnl_pooling_backward_primitive_desc_create(out, eng.handle(), dnnl_pooling_max, diffSrc.handle(), diffDst.handle(),
                            st, k, dil, pl, pr, hint.handle(), orNull(attr))));
        }
    }

    /** LRN across channels, backward; {@code alpha} as for the forward (the library's convention). */
    public static DnnlPrimitiveDesc lrnBackward(DnnlEngine eng, DnnlMemoryDesc diffSrc, DnnlMemoryDesc diffDst, DnnlMemoryDesc src, long localSize,
                                                float alpha, float beta, float k, DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_lrn_backward_primitive_desc_create", context,
                out -> dnnl_lrn_backward_primitive_desc_create(out, eng.handle(), dnnl_lrn_across_channels, diffSrc.handle(), diffDst.handle(),
                        src.handle(), localSize, alpha, beta, k, hint.handle(), orNull(attr))));
    }

    /** Element-wise backward; {@code data} is the forward's source, or its destination for the {@code _use_dst_for_bwd} algorithms. */
    public static DnnlPrimitiveDesc eltwiseBackward(DnnlEngine eng, int alg, DnnlMemoryDesc diffSrc, DnnlMemoryDesc diffDst, DnnlMemoryDesc data,
                                                    float alpha, float beta, DnnlPrimitiveDesc hint, DnnlAttr attr, String context) {
        return new DnnlPrimitiveDesc(create("dnnl_eltwise_backward_primitive_desc_create", context,
                out -> dnnl_eltwise_backward_primitive_desc_create(out, eng.handle(), alg, diffSrc.handle(), diffDst.handle(), data.handle(),
                        alpha, beta, hint.handle(), orNull(attr))));
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

    /** As {@link #queryMd}, or null when the primitive has no such memory (e.g. no workspace) or it is empty. */
    public DnnlMemoryDesc queryMdOrNull(int what) {
        MemorySegment md = dnnl_primitive_desc_query_md(handle(), what, 0);
        if (md.equals(MemorySegment.NULL) || dnnl_memory_desc_get_size(md) == 0) return null;
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
