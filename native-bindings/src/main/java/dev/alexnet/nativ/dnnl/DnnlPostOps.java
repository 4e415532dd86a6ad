package dev.alexnet.nativ.dnnl;

import java.lang.foreign.MemorySegment;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/** {@code dnnl_post_ops_t}: operations fused after a primitive (here: ReLU). */
public final class DnnlPostOps extends DnnlHandle {
    private DnnlPostOps(MemorySegment h) { super(h); }

    public static DnnlPostOps create() {
        return new DnnlPostOps(create("dnnl_post_ops_create", null, out -> dnnl_post_ops_create(out)));
    }

    /** oneDNN 3.x signature: no scale argument; for ReLU alpha is the negative slope (0). */
    public DnnlPostOps appendEltwise(int algKind, float alpha, float beta) {
        DnnlException.check(dnnl_post_ops_append_eltwise(handle(), algKind, alpha, beta), "dnnl_post_ops_append_eltwise");
        return this;
    }

    @Override int destroy(MemorySegment h) { return dnnl_post_ops_destroy(h); }
    @Override String destroyName() { return "dnnl_post_ops_destroy"; }
}
