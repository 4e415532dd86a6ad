package dev.alexnet.nativ.dnnl;

import java.lang.foreign.MemorySegment;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/** {@code dnnl_stream_t}: an in-order stream on an engine. */
public final class DnnlStream extends DnnlHandle {
    private DnnlStream(MemorySegment h) { super(h); }

    public static DnnlStream create(DnnlEngine engine) {
        return new DnnlStream(create("dnnl_stream_create", null, out -> dnnl_stream_create(out, engine.handle(), dnnl_stream_default_flags)));
    }

    /** {@code dnnl_stream_wait}: returns when everything submitted has finished. */
    public void waitAll() {
        DnnlException.check(dnnl_stream_wait(handle()), "dnnl_stream_wait");
    }

    @Override int destroy(MemorySegment h) { return dnnl_stream_destroy(h); }
    @Override String destroyName() { return "dnnl_stream_destroy"; }
}
