package dev.alexnet.model;

import dev.alexnet.device.Device;
import dev.alexnet.device.JavaDevice;

import java.lang.reflect.InvocationTargetException;

/**
 * Makes devices from their command-line names: {@code java:N} (Vector API kernels on N threads),
 * {@code ref:1} (scalar reference kernels), {@code dnnl:N} (oneDNN on N OpenMP threads),
 * {@code cuda:K} (GPU K), {@code ort:N} (ONNX Runtime's CPU provider on N intra-op threads, the external
 * anchor; in the bench module). The native devices are looked up by class name so that a missing native
 * library is reported here, with the reason, instead of failing at class-load time.
 */
public final class Devices {
    private Devices() {}

    public enum Precision { FP32, TF32 }

    /**
     * @param name      {@code kind:number}
     * @param kernels   which Java kernels {@code java:N} runs (the {@code --kernels} option)
     * @param precision for CUDA (FP32 strict by default; TF32 opt-in)
     */
    public static Device create(String name, JavaDevice.Kernels kernels, Precision precision) {
        String[] p = name.strip().split(":", 2);
        String kind = p[0].toLowerCase();
        int n;
        try {
            n = p.length == 2 ? Integer.parseInt(p[1]) : (kind.equals("cuda") ? 0 : 1);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + name + "': expected kind:number, e.g. java:2, dnnl:1, cuda:0");
        }
        return switch (kind) {
            case "java" -> new JavaDevice(n, kernels);
            case "ref", "reference" -> new JavaDevice(n, JavaDevice.Kernels.REFERENCE);
            case "dnnl", "onednn" -> reflect("dev.alexnet.nativ.dnnl.DnnlDevice", name, new Class<?>[] {int.class}, n);
            case "ort", "onnxruntime" -> reflect("dev.alexnet.bench.onnx.OnnxRuntimeDevice", name, new Class<?>[] {int.class}, n);
            case "cuda", "gpu" -> reflect("dev.alexnet.nativ.cuda.CudaDevice", name, new Class<?>[] {int.class, boolean.class},
                    n, precision == Precision.TF32);
            default -> throw new IllegalArgumentException("unknown device kind '" + kind + "' in '" + name
                    + "': use java:N, ref:1, dnnl:N, cuda:K or ort:N");
        };
    }

    private static Device reflect(String cls, String name, Class<?>[] types, Object... args) {
        try {
            return (Device) Class.forName(cls).getConstructor(types).newInstance(args);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalStateException("device '" + name + "' is not built into this version (" + cls + " missing)", e);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            throw new IllegalStateException("device '" + name + "' failed to start: " + c, c);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("device '" + name + "' failed to start: " + e, e);
        }
    }
}
