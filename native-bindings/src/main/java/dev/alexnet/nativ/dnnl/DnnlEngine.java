package dev.alexnet.nativ.dnnl;

import java.lang.foreign.MemorySegment;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/** {@code dnnl_engine_t}: the CPU engine. */
public final class DnnlEngine extends DnnlHandle {
    private DnnlEngine(MemorySegment h) { super(h); }

    /** {@code dnnl_engine_create(&e, dnnl_cpu, 0)}. */
    public static DnnlEngine cpu() {
        return new DnnlEngine(create("dnnl_engine_create", "cpu engine 0", out -> dnnl_engine_create(out, dnnl_cpu, 0)));
    }

    @Override int destroy(MemorySegment h) { return dnnl_engine_destroy(h); }
    @Override String destroyName() { return "dnnl_engine_destroy"; }
}
