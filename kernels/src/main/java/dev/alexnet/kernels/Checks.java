package dev.alexnet.kernels;

import java.lang.foreign.MemorySegment;

/** Argument checks done once per kernel call, before any loop can read out of bounds. */
public final class Checks {
    private Checks() {}

    /** Throws unless {@code seg} holds at least {@code floats} floats. */
    public static void floats(MemorySegment seg, long floats, String what) {
        if (seg == null) throw new IllegalArgumentException(what + " is null");
        if (seg.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException(what + " holds " + seg.byteSize() / Float.BYTES + " floats, needs " + floats);
        }
    }
}
