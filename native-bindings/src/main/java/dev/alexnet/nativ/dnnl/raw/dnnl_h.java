package dev.alexnet.nativ.dnnl.raw;

import dev.alexnet.nativ.dnnl.DnnlLibrary;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Raw bindings to {@code oneapi/dnnl/dnnl.h} (oneDNN 3.13), shaped like jextract output: C names,
 * one static method per C function over a downcall {@link MethodHandle}, enum values and
 * {@code DNNL_ARG_*} macros as {@code int} constants. Only what this project uses is bound.
 *
 * <p>No logic and no safety here: statuses are returned as ints, handles are raw
 * {@link MemorySegment}s. Use the wrappers in {@code dev.alexnet.nativ.dnnl} instead. Values were
 * checked with a C probe against the 3.13 headers, and {@code DnnlHeaderAbiTest} checks every
 * function's name, arity and parameter/return types, and every constant, against the headers shipped
 * in the carrier jar.
 *
 * <p>Loading this class loads the library ({@link DnnlLibrary#load()}).
 */
@SuppressWarnings({"unused", "checkstyle:MethodName", "checkstyle:ConstantName"})
public final class dnnl_h {
    private dnnl_h() {}

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS;

    // ---- dnnl_status_t (dnnl_common_types.h) ----
    public static final int dnnl_success = 0;
    public static final int dnnl_out_of_memory = 1;
    public static final int dnnl_invalid_arguments = 2;
    public static final int dnnl_unimplemented = 3;
    public static final int dnnl_last_impl_reached = 4;
    public static final int dnnl_runtime_error = 5;
    public static final int dnnl_not_required = 6;
    public static final int dnnl_invalid_graph = 7;
    public static final int dnnl_invalid_graph_op = 8;
    public static final int dnnl_invalid_shape = 9;
    public static final int dnnl_invalid_data_type = 10;

    // ---- dnnl_data_type_t ----
    public static final int dnnl_f32 = 3;

    // ---- dnnl_format_tag_t (dnnl_types.h) ----
    public static final int dnnl_format_tag_undef = 0;
    public static final int dnnl_format_tag_any = 1;
    public static final int dnnl_a = 2;
    public static final int dnnl_ab = 3;
    public static final int dnnl_abcd = 5;
    public static final int dnnl_abcde = 6;
    public static final int dnnl_x = dnnl_a;
    public static final int dnnl_nc = dnnl_ab;
    public static final int dnnl_oi = dnnl_ab;
    public static final int dnnl_nchw = dnnl_abcd;
    public static final int dnnl_oihw = dnnl_abcd;
    public static final int dnnl_goihw = dnnl_abcde;
    /** Channel-blocked activations (blocks of 8 and 16 channels). */
    public static final int dnnl_nChw8c = 102;
    public static final int dnnl_nChw16c = 78;

    // ---- dnnl_engine_kind_t, dnnl_stream_flags_t ----
    public static final int dnnl_cpu = 1;
    public static final int dnnl_stream_in_order = 0x1;
    public static final int dnnl_stream_default_flags = dnnl_stream_in_order;

    // ---- dnnl_prop_kind_t ----
    public static final int dnnl_forward_training = 64;
    public static final int dnnl_forward_inference = 96;
    public static final int dnnl_backward = 128;
    public static final int dnnl_backward_data = 160;
    public static final int dnnl_backward_weights = 192;

    // ---- dnnl_alg_kind_t ----
    public static final int dnnl_convolution_direct = 0x1;
    public static final int dnnl_convolution_auto = 0x3;
    public static final int dnnl_eltwise_relu = 0x20;
    /** ReLU whose backward reads the forward's destination (so the forward may run in place). */
    public static final int dnnl_eltwise_relu_use_dst_for_bwd = 0x100;
    public static final int dnnl_pooling_max = 0x1ff;
    public static final int dnnl_lrn_across_channels = 0xaff;
    public static final int dnnl_softmax_accurate = 0x30000;

    // ---- dnnl_query_t ----
    public static final int dnnl_query_impl_info_str = 8;
    public static final int dnnl_query_src_md = 129;
    public static final int dnnl_query_diff_src_md = 130;
    public static final int dnnl_query_weights_md = 131;
    public static final int dnnl_query_diff_weights_md = 132;
    public static final int dnnl_query_dst_md = 133;
    public static final int dnnl_query_diff_dst_md = 134;
    public static final int dnnl_query_workspace_md = 135;
    public static final int dnnl_query_scratchpad_md = 136;

    // ---- dnnl_scratchpad_mode_t ----
    public static final int dnnl_scratchpad_mode_library = 0;
    public static final int dnnl_scratchpad_mode_user = 1;

    // ---- DNNL_ARG_* and sizes (macros) ----
    public static final int DNNL_ARG_SRC = 1;
    public static final int DNNL_ARG_FROM = 1;
    public static final int DNNL_ARG_DST = 17;
    public static final int DNNL_ARG_TO = 17;
    public static final int DNNL_ARG_WEIGHTS = 33;
    public static final int DNNL_ARG_BIAS = 41;
    public static final int DNNL_ARG_WORKSPACE = 64;
    public static final int DNNL_ARG_SCRATCHPAD = 80;
    public static final int DNNL_ARG_DIFF_SRC = 129;
    public static final int DNNL_ARG_DIFF_DST = 145;
    public static final int DNNL_ARG_DIFF_WEIGHTS = 161;
    public static final int DNNL_ARG_DIFF_BIAS = 169;
    public static final int DNNL_MAX_NDIMS = 12;
    /** {@code DNNL_MEMORY_NONE}: create a memory object without a buffer. */
    public static final MemorySegment DNNL_MEMORY_NONE = MemorySegment.NULL;
    /** {@code DNNL_MEMORY_ALLOCATE}, {@code (void *)(size_t)-1}: let the library allocate. */
    public static final MemorySegment DNNL_MEMORY_ALLOCATE = MemorySegment.ofAddress(-1L);

    /** {@code dnnl_dims_t}: {@code int64_t[DNNL_MAX_NDIMS]}, passed as a pointer. */
    public static final long DIMS_BYTES = DNNL_MAX_NDIMS * Long.BYTES;

    // ---- functions ----
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Map<String, FunctionDescriptor> FUNCTIONS = new LinkedHashMap<>();

    /** Every bound function: C name to descriptor, in binding order (for the header check). */
    public static Map<String, FunctionDescriptor> functions() {
        return Collections.unmodifiableMap(FUNCTIONS);
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        FUNCTIONS.put(name, fd);
        MemorySegment addr = DnnlLibrary.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "symbol " + name + " not found in " + DnnlLibrary.load().library()));
        return LINKER.downcallHandle(addr, fd);
    }

    private static final MethodHandle dnnl_engine_create$MH = downcall("dnnl_engine_create", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG));
    public static int dnnl_engine_create(MemorySegment engine, int kind, long index) {
        try {
            return (int) dnnl_engine_create$MH.invokeExact(engine, kind, index);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_engine_destroy$MH = downcall("dnnl_engine_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_engine_destroy(MemorySegment engine) {
        try {
            return (int) dnnl_engine_destroy$MH.invokeExact(engine);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_stream_create$MH = downcall("dnnl_stream_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT));
    public static int dnnl_stream_create(MemorySegment stream, MemorySegment engine, int flags) {
        try {
            return (int) dnnl_stream_create$MH.invokeExact(stream, engine, flags);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_stream_wait$MH = downcall("dnnl_stream_wait", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_stream_wait(MemorySegment stream) {
        try {
            return (int) dnnl_stream_wait$MH.invokeExact(stream);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_stream_destroy$MH = downcall("dnnl_stream_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_stream_destroy(MemorySegment stream) {
        try {
            return (int) dnnl_stream_destroy$MH.invokeExact(stream);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_version$MH = downcall("dnnl_version", FunctionDescriptor.of(C_POINTER));
    public static MemorySegment dnnl_version() {
        try {
            return (MemorySegment) dnnl_version$MH.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_set_verbose$MH = downcall("dnnl_set_verbose", FunctionDescriptor.of(C_INT, C_INT));
    public static int dnnl_set_verbose(int level) {
        try {
            return (int) dnnl_set_verbose$MH.invokeExact(level);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_desc_create_with_tag$MH = downcall("dnnl_memory_desc_create_with_tag", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_POINTER, C_INT, C_INT));
    public static int dnnl_memory_desc_create_with_tag(MemorySegment memory_desc, int ndims, MemorySegment dims, int data_type, int tag) {
        try {
            return (int) dnnl_memory_desc_create_with_tag$MH.invokeExact(memory_desc, ndims, dims, data_type, tag);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_desc_reshape$MH = downcall("dnnl_memory_desc_reshape", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER));
    public static int dnnl_memory_desc_reshape(MemorySegment out_memory_desc, MemorySegment in_memory_desc, int ndims, MemorySegment dims) {
        try {
            return (int) dnnl_memory_desc_reshape$MH.invokeExact(out_memory_desc, in_memory_desc, ndims, dims);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_desc_clone$MH = downcall("dnnl_memory_desc_clone", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
    public static int dnnl_memory_desc_clone(MemorySegment memory_desc, MemorySegment existing_memory_desc) {
        try {
            return (int) dnnl_memory_desc_clone$MH.invokeExact(memory_desc, existing_memory_desc);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_desc_destroy$MH = downcall("dnnl_memory_desc_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_memory_desc_destroy(MemorySegment memory_desc) {
        try {
            return (int) dnnl_memory_desc_destroy$MH.invokeExact(memory_desc);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_desc_equal$MH = downcall("dnnl_memory_desc_equal", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
    public static int dnnl_memory_desc_equal(MemorySegment lhs, MemorySegment rhs) {
        try {
            return (int) dnnl_memory_desc_equal$MH.invokeExact(lhs, rhs);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_desc_get_size$MH = downcall("dnnl_memory_desc_get_size", FunctionDescriptor.of(C_LONG, C_POINTER));
    public static long dnnl_memory_desc_get_size(MemorySegment memory_desc) {
        try {
            return (long) dnnl_memory_desc_get_size$MH.invokeExact(memory_desc);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_create$MH = downcall("dnnl_memory_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_memory_create(MemorySegment memory, MemorySegment memory_desc, MemorySegment engine, MemorySegment handle) {
        try {
            return (int) dnnl_memory_create$MH.invokeExact(memory, memory_desc, engine, handle);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_set_data_handle$MH = downcall("dnnl_memory_set_data_handle", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
    public static int dnnl_memory_set_data_handle(MemorySegment memory, MemorySegment handle) {
        try {
            return (int) dnnl_memory_set_data_handle$MH.invokeExact(memory, handle);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_memory_destroy$MH = downcall("dnnl_memory_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_memory_destroy(MemorySegment memory) {
        try {
            return (int) dnnl_memory_destroy$MH.invokeExact(memory);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_attr_create$MH = downcall("dnnl_primitive_attr_create", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_primitive_attr_create(MemorySegment attr) {
        try {
            return (int) dnnl_primitive_attr_create$MH.invokeExact(attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_attr_destroy$MH = downcall("dnnl_primitive_attr_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_primitive_attr_destroy(MemorySegment attr) {
        try {
            return (int) dnnl_primitive_attr_destroy$MH.invokeExact(attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_attr_set_post_ops$MH = downcall("dnnl_primitive_attr_set_post_ops", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
    public static int dnnl_primitive_attr_set_post_ops(MemorySegment attr, MemorySegment post_ops) {
        try {
            return (int) dnnl_primitive_attr_set_post_ops$MH.invokeExact(attr, post_ops);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_attr_set_scratchpad_mode$MH = downcall("dnnl_primitive_attr_set_scratchpad_mode", FunctionDescriptor.of(C_INT, C_POINTER, C_INT));
    public static int dnnl_primitive_attr_set_scratchpad_mode(MemorySegment attr, int mode) {
        try {
            return (int) dnnl_primitive_attr_set_scratchpad_mode$MH.invokeExact(attr, mode);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_post_ops_create$MH = downcall("dnnl_post_ops_create", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_post_ops_create(MemorySegment post_ops) {
        try {
            return (int) dnnl_post_ops_create$MH.invokeExact(post_ops);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_post_ops_destroy$MH = downcall("dnnl_post_ops_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_post_ops_destroy(MemorySegment post_ops) {
        try {
            return (int) dnnl_post_ops_destroy$MH.invokeExact(post_ops);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_post_ops_append_eltwise$MH = downcall("dnnl_post_ops_append_eltwise", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_FLOAT, C_FLOAT));
    public static int dnnl_post_ops_append_eltwise(MemorySegment post_ops, int alg_kind, float alpha, float beta) {
        try {
            return (int) dnnl_post_ops_append_eltwise$MH.invokeExact(post_ops, alg_kind, alpha, beta);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_desc_query$MH = downcall("dnnl_primitive_desc_query", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT, C_POINTER));
    public static int dnnl_primitive_desc_query(MemorySegment primitive_desc, int what, int index, MemorySegment result) {
        try {
            return (int) dnnl_primitive_desc_query$MH.invokeExact(primitive_desc, what, index, result);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_desc_query_md$MH = downcall("dnnl_primitive_desc_query_md", FunctionDescriptor.of(C_POINTER, C_POINTER, C_INT, C_INT));
    public static MemorySegment dnnl_primitive_desc_query_md(MemorySegment primitive_desc, int what, int index) {
        try {
            return (MemorySegment) dnnl_primitive_desc_query_md$MH.invokeExact(primitive_desc, what, index);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_desc_destroy$MH = downcall("dnnl_primitive_desc_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_primitive_desc_destroy(MemorySegment primitive_desc) {
        try {
            return (int) dnnl_primitive_desc_destroy$MH.invokeExact(primitive_desc);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_create$MH = downcall("dnnl_primitive_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
    public static int dnnl_primitive_create(MemorySegment primitive, MemorySegment primitive_desc) {
        try {
            return (int) dnnl_primitive_create$MH.invokeExact(primitive, primitive_desc);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_execute$MH = downcall("dnnl_primitive_execute", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER));
    public static int dnnl_primitive_execute(MemorySegment primitive, MemorySegment stream, int nargs, MemorySegment args) {
        try {
            return (int) dnnl_primitive_execute$MH.invokeExact(primitive, stream, nargs, args);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_primitive_destroy$MH = downcall("dnnl_primitive_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    public static int dnnl_primitive_destroy(MemorySegment primitive) {
        try {
            return (int) dnnl_primitive_destroy$MH.invokeExact(primitive);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_reorder_primitive_desc_create$MH = downcall("dnnl_reorder_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_reorder_primitive_desc_create(MemorySegment reorder_primitive_desc, MemorySegment src_desc, MemorySegment src_engine, MemorySegment dst_desc, MemorySegment dst_engine, MemorySegment attr) {
        try {
            return (int) dnnl_reorder_primitive_desc_create$MH.invokeExact(reorder_primitive_desc, src_desc, src_engine, dst_desc, dst_engine, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_convolution_forward_primitive_desc_create$MH = downcall("dnnl_convolution_forward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_convolution_forward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int prop_kind, int alg_kind, MemorySegment src_desc, MemorySegment weights_desc, MemorySegment bias_desc, MemorySegment dst_desc, MemorySegment strides, MemorySegment dilates, MemorySegment padding_l, MemorySegment padding_r, MemorySegment attr) {
        try {
            return (int) dnnl_convolution_forward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, prop_kind, alg_kind, src_desc, weights_desc, bias_desc, dst_desc, strides, dilates, padding_l, padding_r, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_pooling_forward_primitive_desc_create$MH = downcall("dnnl_pooling_forward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_pooling_forward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int prop_kind, int alg_kind, MemorySegment src_desc, MemorySegment dst_desc, MemorySegment strides, MemorySegment kernel, MemorySegment dilation, MemorySegment padding_l, MemorySegment padding_r, MemorySegment attr) {
        try {
            return (int) dnnl_pooling_forward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, prop_kind, alg_kind, src_desc, dst_desc, strides, kernel, dilation, padding_l, padding_r, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_lrn_forward_primitive_desc_create$MH = downcall("dnnl_lrn_forward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_LONG, C_FLOAT, C_FLOAT, C_FLOAT, C_POINTER));
    public static int dnnl_lrn_forward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int prop_kind, int alg_kind, MemorySegment src_desc, MemorySegment dst_desc, long local_size, float alpha, float beta, float k, MemorySegment attr) {
        try {
            return (int) dnnl_lrn_forward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, prop_kind, alg_kind, src_desc, dst_desc, local_size, alpha, beta, k, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_inner_product_forward_primitive_desc_create$MH = downcall("dnnl_inner_product_forward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_inner_product_forward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int prop_kind, MemorySegment src_desc, MemorySegment weights_desc, MemorySegment bias_desc, MemorySegment dst_desc, MemorySegment attr) {
        try {
            return (int) dnnl_inner_product_forward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, prop_kind, src_desc, weights_desc, bias_desc, dst_desc, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_softmax_forward_primitive_desc_create$MH = downcall("dnnl_softmax_forward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER));
    public static int dnnl_softmax_forward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int prop_kind, int alg_kind, MemorySegment src_desc, MemorySegment dst_desc, int softmax_axis, MemorySegment attr) {
        try {
            return (int) dnnl_softmax_forward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, prop_kind, alg_kind, src_desc, dst_desc, softmax_axis, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    // ---- training: forward_training variants use the forward creators above with dnnl_forward_training ----

    private static final MethodHandle dnnl_convolution_backward_data_primitive_desc_create$MH = downcall("dnnl_convolution_backward_data_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_convolution_backward_data_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int alg_kind, MemorySegment diff_src_desc, MemorySegment weights_desc, MemorySegment diff_dst_desc, MemorySegment strides, MemorySegment dilates, MemorySegment padding_l, MemorySegment padding_r, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_convolution_backward_data_primitive_desc_create$MH.invokeExact(primitive_desc, engine, alg_kind, diff_src_desc, weights_desc, diff_dst_desc, strides, dilates, padding_l, padding_r, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_convolution_backward_weights_primitive_desc_create$MH = downcall("dnnl_convolution_backward_weights_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_convolution_backward_weights_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int alg_kind, MemorySegment src_desc, MemorySegment diff_weights_desc, MemorySegment diff_bias_desc, MemorySegment diff_dst_desc, MemorySegment strides, MemorySegment dilates, MemorySegment padding_l, MemorySegment padding_r, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_convolution_backward_weights_primitive_desc_create$MH.invokeExact(primitive_desc, engine, alg_kind, src_desc, diff_weights_desc, diff_bias_desc, diff_dst_desc, strides, dilates, padding_l, padding_r, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_eltwise_forward_primitive_desc_create$MH = downcall("dnnl_eltwise_forward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_FLOAT, C_FLOAT, C_POINTER));
    public static int dnnl_eltwise_forward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int prop_kind, int alg_kind, MemorySegment src_desc, MemorySegment dst_desc, float alpha, float beta, MemorySegment attr) {
        try {
            return (int) dnnl_eltwise_forward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, prop_kind, alg_kind, src_desc, dst_desc, alpha, beta, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_eltwise_backward_primitive_desc_create$MH = downcall("dnnl_eltwise_backward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_FLOAT, C_FLOAT, C_POINTER, C_POINTER));
    public static int dnnl_eltwise_backward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int alg_kind, MemorySegment diff_src_desc, MemorySegment diff_dst_desc, MemorySegment data_desc, float alpha, float beta, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_eltwise_backward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, alg_kind, diff_src_desc, diff_dst_desc, data_desc, alpha, beta, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_pooling_backward_primitive_desc_create$MH = downcall("dnnl_pooling_backward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_pooling_backward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int alg_kind, MemorySegment diff_src_desc, MemorySegment diff_dst_desc, MemorySegment strides, MemorySegment kernel, MemorySegment dilation, MemorySegment padding_l, MemorySegment padding_r, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_pooling_backward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, alg_kind, diff_src_desc, diff_dst_desc, strides, kernel, dilation, padding_l, padding_r, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_lrn_backward_primitive_desc_create$MH = downcall("dnnl_lrn_backward_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_FLOAT, C_FLOAT, C_FLOAT, C_POINTER, C_POINTER));
    public static int dnnl_lrn_backward_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, int alg_kind, MemorySegment diff_src_desc, MemorySegment diff_dst_desc, MemorySegment src_desc, long local_size, float alpha, float beta, float k, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_lrn_backward_primitive_desc_create$MH.invokeExact(primitive_desc, engine, alg_kind, diff_src_desc, diff_dst_desc, src_desc, local_size, alpha, beta, k, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_inner_product_backward_data_primitive_desc_create$MH = downcall("dnnl_inner_product_backward_data_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_inner_product_backward_data_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, MemorySegment diff_src_desc, MemorySegment weights_desc, MemorySegment diff_dst_desc, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_inner_product_backward_data_primitive_desc_create$MH.invokeExact(primitive_desc, engine, diff_src_desc, weights_desc, diff_dst_desc, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    private static final MethodHandle dnnl_inner_product_backward_weights_primitive_desc_create$MH = downcall("dnnl_inner_product_backward_weights_primitive_desc_create", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    public static int dnnl_inner_product_backward_weights_primitive_desc_create(MemorySegment primitive_desc, MemorySegment engine, MemorySegment src_desc, MemorySegment diff_weights_desc, MemorySegment diff_bias_desc, MemorySegment diff_dst_desc, MemorySegment hint_fwd_pd, MemorySegment attr) {
        try {
            return (int) dnnl_inner_product_backward_weights_primitive_desc_create$MH.invokeExact(primitive_desc, engine, src_desc, diff_weights_desc, diff_bias_desc, diff_dst_desc, hint_fwd_pd, attr);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }
}
