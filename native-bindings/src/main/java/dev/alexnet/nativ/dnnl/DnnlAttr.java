package dev.alexnet.nativ.dnnl;

import java.lang.foreign.MemorySegment;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/** {@code dnnl_primitive_attr_t}. It copies what it is given: post-ops may be closed after {@link #setPostOps}. */
public final class DnnlAttr extends DnnlHandle {
    private DnnlAttr(MemorySegment h) { super(h); }

    public static DnnlAttr create() {
        return new DnnlAttr(create("dnnl_primitive_attr_create", null, out -> dnnl_primitive_attr_create(out)));
    }

    public DnnlAttr setPostOps(DnnlPostOps postOps) {
        DnnlException.check(dnnl_primitive_attr_set_post_ops(handle(), postOps.handle()), "dnnl_primitive_attr_set_post_ops");
        return this;
    }

    /** {@code dnnl_scratchpad_mode_user}: the primitive's scratch memory is passed as DNNL_ARG_SCRATCHPAD. */
    public DnnlAttr setUserScratchpad() {
        DnnlException.check(dnnl_primitive_attr_set_scratchpad_mode(handle(), dnnl_scratchpad_mode_user), "dnnl_primitive_attr_set_scratchpad_mode");
        return this;
    }

    /** An attribute with user scratchpad and, if {@code relu}, a fused ReLU post-op. */
    public static DnnlAttr userScratchpad(boolean relu) {
        DnnlAttr attr = create();
        try {
            attr.setUserScratchpad();
            if (relu) {
                try (DnnlPostOps po = DnnlPostOps.create()) {
                    po.appendEltwise(dnnl_eltwise_relu, 0f, 0f);
                    attr.setPostOps(po);
                }
            }
            return attr;
        } catch (RuntimeException e) {
            attr.close();
            throw e;
        }
    }

    @Override int destroy(MemorySegment h) { return dnnl_primitive_attr_destroy(h); }
    @Override String destroyName() { return "dnnl_primitive_attr_destroy"; }
}
