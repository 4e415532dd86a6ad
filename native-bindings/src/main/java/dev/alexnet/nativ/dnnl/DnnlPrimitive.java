package dev.alexnet.nativ.dnnl;

import dev.alexnet.nativ.dnnl.raw.dnnl_exec_arg_t;

import java.lang.foreign.MemorySegment;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/** {@code dnnl_primitive_t}: a compiled (JIT-generated) operation, created once and executed many times. */
public final class DnnlPrimitive extends DnnlHandle {
    private DnnlPrimitive(MemorySegment h) { super(h); }

    public static DnnlPrimitive create(DnnlPrimitiveDesc pd) {
        return new DnnlPrimitive(create("dnnl_primitive_create", null, out -> dnnl_primitive_create(out, pd.handle())));
    }

    /**
     * @param args {@code nargs} consecutive {@link dnnl_exec_arg_t}s whose memory objects stay open
     *             for the call
     */
    public void execute(DnnlStream stream, MemorySegment args, int nargs, String context) {
        if (args.byteSize() < nargs * dnnl_exec_arg_t.LAYOUT.byteSize()) throw new IllegalArgumentException("argument array too small");
        DnnlException.check(dnnl_primitive_execute(handle(), stream.handle(), nargs, args), "dnnl_primitive_execute", context);
    }

    @Override int destroy(MemorySegment h) { return dnnl_primitive_destroy(h); }
    @Override String destroyName() { return "dnnl_primitive_destroy"; }
}
