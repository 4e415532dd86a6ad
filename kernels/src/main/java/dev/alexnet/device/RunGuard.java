package dev.alexnet.device;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps a program's memory alive while it runs: {@link #close} waits until the run in flight has
 * returned, a run after close throws {@link IllegalStateException}, and so does a second thread that
 * starts a run while one is in flight (a program runs on one thread at a time). Every backend's
 * {@link Program} brackets {@code run} with {@link #enter}/{@link #exit} and frees its memory only after
 * {@link #close} returned true. Kernels that read through absolute addresses (the convolution tiles)
 * or native code (oneDNN, CUDA) would otherwise read freed memory, which crashes the JVM.
 */
public final class RunGuard {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private final String what;
    private Thread runner; // the thread inside run(), or null
    private boolean closed;

    /** {@code what} names the program in messages, e.g. "java:2 program". */
    public RunGuard(String what) { this.what = what; }

    /** Marks a run started on this thread; throws if the program is closed or already running. */
    public void enter() {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException(what + " is closed");
            if (runner != null) {
                throw new IllegalStateException(what + " is already running on thread '" + runner.getName()
                        + "': a program runs on one thread at a time (compile one per thread)");
            }
            runner = Thread.currentThread();
        } finally {
            lock.unlock();
        }
    }

    /** Marks the run finished (call in a finally block after a successful {@link #enter}). */
    public void exit() {
        lock.lock();
        try {
            runner = null;
            idle.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks the program closed once no run is in flight, waiting for one that is. Returns true for the
     * first call (the caller then frees the program's memory), false when it was already closed. Throws
     * when called from inside the program's own run (a timer callback), where waiting would never end.
     */
    public boolean close() {
        boolean interrupted = false;
        lock.lock();
        try {
            if (closed) return false;
            if (runner == Thread.currentThread()) throw new IllegalStateException(what + " closed from inside its own run");
            while (runner != null) {
                try {
                    idle.await();
                } catch (InterruptedException e) {
                    interrupted = true; // finish closing: the memory must not be freed under the run
                }
            }
            closed = true;
            return true;
        } finally {
            lock.unlock();
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }
}
