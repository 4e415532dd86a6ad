package dev.alexnet.safety;

import dev.alexnet.nativ.dnnl.Dnnl;

/** Child-JVM side of {@link ConcurrencyTest}: loads oneDNN (extracting it into -Dalexnet.cache.dir) and prints its version. */
public final class ExtractDnnlChild {
    public static void main(String[] args) {
        System.out.println("VERSION " + Dnnl.version());
    }
}
