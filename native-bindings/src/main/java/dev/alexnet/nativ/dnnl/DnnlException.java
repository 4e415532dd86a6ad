package dev.alexnet.nativ.dnnl;

import static dev.alexnet.nativ.dnnl.raw.dnnl_h.*;

/**
 * A oneDNN call returned a status other than {@code dnnl_success}. Carries the C function's name
 * and the status (code and name, e.g. {@code dnnl_unimplemented}).
 */
public final class DnnlException extends RuntimeException {
    private final String function;
    private final int status;

    public DnnlException(String function, int status, String context) {
        super(function + " returned " + statusName(status) + " (" + status + ")"
                + (context == null || context.isEmpty() ? "" : " for " + context)
                + (status == dnnl_invalid_arguments || status == dnnl_unimplemented
                        ? "; run with ONEDNN_VERBOSE=all to see why the library refused" : ""));
        this.function = function;
        this.status = status;
    }

    public String function() { return function; }
    public int status() { return status; }
    public String statusName() { return statusName(status); }

    /** The {@code dnnl_status_t} enumerator's name. */
    public static String statusName(int status) {
        return switch (status) {
            case dnnl_success -> "dnnl_success";
            case dnnl_out_of_memory -> "dnnl_out_of_memory";
            case dnnl_invalid_arguments -> "dnnl_invalid_arguments";
            case dnnl_unimplemented -> "dnnl_unimplemented";
            case dnnl_last_impl_reached -> "dnnl_last_impl_reached";
            case dnnl_runtime_error -> "dnnl_runtime_error";
            case dnnl_not_required -> "dnnl_not_required";
            case dnnl_invalid_graph -> "dnnl_invalid_graph";
            case dnnl_invalid_graph_op -> "dnnl_invalid_graph_op";
            case dnnl_invalid_shape -> "dnnl_invalid_shape";
            case dnnl_invalid_data_type -> "dnnl_invalid_data_type";
            default -> "unknown status";
        };
    }

    /** Throws unless {@code status} is {@code dnnl_success}. */
    static void check(int status, String function) {
        if (status != dnnl_success) throw new DnnlException(function, status, null);
    }

    static void check(int status, String function, String context) {
        if (status != dnnl_success) throw new DnnlException(function, status, context);
    }
}
