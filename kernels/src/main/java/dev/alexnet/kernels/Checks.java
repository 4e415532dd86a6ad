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

    /**
     * Throws as the JDK's own accessors would, but before any work starts: {@link WrongThreadException}
     * when {@code seg} is confined to another thread, {@link IllegalStateException} when its arena is closed.
     * Code that hands a segment's address to native code or to absolute-address loops must call this first.
     */
    public static void accessible(MemorySegment seg, String what) {
        if (!seg.scope().isAlive()) throw new IllegalStateException(what + ": its arena is already closed");
        if (!seg.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException(what + " is confined to another thread than the one running the program");
        }
    }
}
