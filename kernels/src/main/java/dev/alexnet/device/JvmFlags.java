package dev.alexnet.device;

/**
 * The two JVM flags this library needs, checked where they are first needed so that a missing one is
 * one clear message instead of a {@link NoClassDefFoundError} deep in a kernel or a warning lost in
 * the log:
 * <ul>
 *   <li>{@value #VECTOR_API_FLAG}: the Java kernels use the incubating Vector API;</li>
 *   <li>{@code --enable-native-access=ALL-UNNAMED} on the class path, or {@code --enable-native-access=}
 *       the module's name on the module path ({@code dev.alexnet.kernels}, {@code dev.alexnet.nativ}):
 *       the Java kernels read memory through a restricted method, oneDNN and CUDA are called through FFM
 *       downcalls, ONNX Runtime loads its JNI library.</li>
 * </ul>
 * The README's "Use it as a library" section shows the whole command line.
 *
 * <pre>{@code
 * JvmFlags.requireVectorApi("java:2");                 // throws IllegalStateException naming the flag when missing
 * JvmFlags.requireNativeAccess(MyBinding.class, "my binding");
 * }</pre>
 */
public final class JvmFlags {
    private JvmFlags() {}

    /** The flag that resolves the Vector API's incubator module. */
    public static final String VECTOR_API_FLAG = "--add-modules=jdk.incubator.vector";

    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String SEE = " (the README's \"Use it as a library\" lists the JVM flags)";

    /** True when the Vector API's module is in the boot layer, that is, the JVM ran with {@value #VECTOR_API_FLAG}. */
    public static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /**
     * @param who what needs it, for the message, e.g. {@code java:2}
     * @throws IllegalStateException naming {@value #VECTOR_API_FLAG} when the JVM runs without it
     */
    public static void requireVectorApi(String who) {
        if (!vectorApiPresent()) {
            throw new IllegalStateException(who + " needs the Vector API: run java with " + VECTOR_API_FLAG + SEE);
        }
    }

    /** The flag that enables native access for {@code user}'s module: the module's name, or ALL-UNNAMED on the class path. */
    public static String nativeAccessFlag(Class<?> user) {
        Module m = user.getModule();
        return "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
    }

    /**
     * @param user a class of the module that makes the restricted calls
     * @param who  what needs it, for the message, e.g. {@code dnnl:1}
     * @throws IllegalStateException naming the flag when native access is not enabled for {@code user}'s module
     */
    public static void requireNativeAccess(Class<?> user, String who) {
        if (!user.getModule().isNativeAccessEnabled()) {
            throw new IllegalStateException(who + " calls native code: run java with " + nativeAccessFlag(user) + SEE);
        }
    }

    /**
     * What the Vector API kernels need: the Vector API, and native access for the kernels' module (their
     * tile loops address memory through a restricted method).
     *
     * @throws IllegalStateException naming the missing flag
     */
    public static void requireJavaKernels(String who) {
        requireVectorApi(who);
        requireNativeAccess(JvmFlags.class, who);
    }
}
