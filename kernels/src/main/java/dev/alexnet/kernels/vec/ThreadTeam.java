package dev.alexnet.kernels.vec;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed team of {@code size} threads running one data-parallel task at a time: the calling thread
 * is member 0 and {@code size - 1} daemon workers are members 1..size-1 (so a team of 1 starts no thread).
 * {@link #run} hands the same {@link Task} to every member and returns when all have finished.
 *
 * <p>No allocation per dispatch: a generation counter wakes the workers (they spin briefly, then
 * park), a counter of finished shares wakes the caller. Not the common ForkJoinPool: the device owns
 * its threads, and {@link #close} ends them.
 *
 * <p>Shares are claimed, not assigned: the caller and each worker take the next unclaimed member index
 * until none is left, so a worker that the OS has not scheduled yet (another process on its core, a
 * wake-up from park) delays the step by nothing: the caller runs that share itself. Without this, one
 * descheduled worker made every two-thread step wait for a scheduler time slice (milliseconds, where a
 * batch-1 step takes tens of microseconds). A task therefore must not assume that member m runs on
 * any particular thread, nor that two members run at the same time (no barriers inside a task).
 */
public final class ThreadTeam implements AutoCloseable {
    static { Preload.classes(); } // before anything here gets hot: see Preload
    /** A data-parallel step: member {@code member} of {@code members} does its share. */
    public interface Task {
        void run(int member, int members);
    }

    private static final int SPINS = 1 << 14;

    private final int size;
    private final Thread[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicInteger finished = new AtomicInteger();
    /** generation << 8 | the next unclaimed member index of that generation's task. */
    private final AtomicLong ticket = new AtomicLong();
    private volatile Task task;
    private volatile long generation;
    private volatile Thread caller;
    private volatile boolean closed;
    private volatile Throwable failure;
    /** Shares run per member index (whichever thread claimed them), {@code tasksRun[member * PAD]}: padded against false sharing. */
    private final long[] tasksRun;
    private static final int PAD = 16;

    public ThreadTeam(int size) {
        if (size < 1 || size > 255) throw new IllegalArgumentException("a team needs 1 to 255 threads: " + size);
        this.size = size;
        this.workers = new Thread[size - 1];
        this.tasksRun = new long[size * PAD];
        for (int i = 0; i < workers.length; i++) {
            int member = i + 1;
            Thread t = new Thread(() -> work(member), "alexnet-java-" + member);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    public int size() { return size; }

    /** Runs {@code t} for every member index (shares claimed by the caller and the workers) and waits for all of them. */
    public void run(Task t) {
        if (size == 1) {
            t.run(0, 1);
            tasksRun[0]++;
            return;
        }
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("thread team closed");
            failure = null;
            caller = Thread.currentThread();
            task = t;
            finished.set(0);
            long g = generation + 1;
            ticket.set(g << 8);
            generation = g; // publishes task and the ticket (volatile write after the others)
            for (Thread w : workers) LockSupport.unpark(w);
            Throwable mine = null;
            try {
                runShares(g);
            } catch (Throwable e) {
                mine = e;
            }
            for (int i = 0; finished.get() != size; i++) {
                if (i < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            task = null;
            Throwable f = mine != null ? mine : failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error er) throw er;
            if (f != null) throw new RuntimeException(f);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Claims and runs shares of generation {@code g} until none is left. A claimed share keeps its
     * generation from finishing, so {@code task} read after the claim is that generation's task.
     */
    private void runShares(long g) {
        while (true) {
            long s = ticket.get();
            int m = (int) (s & 0xFF);
            if (s >>> 8 != g || m >= size) return;
            if (!ticket.compareAndSet(s, s + 1)) continue;
            try {
                task.run(m, size);
                tasksRun[m * PAD]++; // one thread claims share m per run, so the count needs no atomics
            } catch (Throwable e) {
                failure = e;
            }
            if (finished.incrementAndGet() == size) LockSupport.unpark(caller);
        }
    }

    private void work(int member) {
        long seen = 0;
        while (true) {
            long g;
            for (int i = 0; (g = generation) == seen && !closed; i++) {
                if (i < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = g;
            runShares(g);
        }
    }

    /**
     * How many times share {@code member} of a task has completed since the team started (whichever thread
     * claimed it), so that a test can tell a step that was split from one the caller ran alone. Exact once
     * {@link #run} has returned (the counts are published by the {@code finished} counter).
     */
    public long tasksRun(int member) {
        java.util.Objects.checkIndex(member, size);
        return tasksRun[member * PAD];
    }

    /**
     * Whether every member can touch {@code seg}: false for a segment of a confined arena owned by the
     * caller, which only the caller may access; such a step must run on the caller alone.
     */
    public boolean shares(MemorySegment seg) {
        for (Thread w : workers) if (!seg.isAccessibleBy(w)) return false;
        return true;
    }

    /** [from, to) of {@code units} for {@code member}: contiguous, sizes differing by at most one. */
    public static int from(int units, int member, int members) {
        return (int) ((long) units * member / members);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
        for (Thread w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
