package io.gyre.command.internal;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a task when a deadline passes, for many thousands of commands at once: a hashed timing wheel with one
 * thread. Scheduling and cancelling cost a lock on one of {@value #BUCKETS} buckets and a few pointer writes, never
 * a scan or a global queue, so a burst of 100,000 sends costs as much per command as a single one; a deadline fires
 * at most one tick ({@value #TICK_MILLIS} ms) late. With nothing scheduled the thread parks instead of turning the
 * wheel, so an idle node spends no CPU on it; the first schedule after idleness wakes it.
 *
 * <p>Tasks run on the timer's thread and must be short and never block: they complete futures whose dependent
 * stages run elsewhere. A task that throws is logged and does not stop the timer. Internal: not part of Gyre's API.
 */
public final class DeadlineTimer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DeadlineTimer.class);

    /** How often the wheel turns. */
    static final long TICK_MILLIS = 5;
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
    /** Buckets of the wheel: one turn covers 2.56 s; later deadlines stay in their bucket for several turns. */
    static final int BUCKETS = 512;

    private final Bucket[] wheel = new Bucket[BUCKETS];
    private final long origin = System.nanoTime();
    private final Thread thread;
    /**
     * The last tick whose bucket the thread has fired, written under that bucket's lock, so that a schedule for a
     * tick at or before it, which entered the bucket too late, sees it there and moves on to the next tick.
     */
    private volatile long firedThrough = Long.MIN_VALUE;
    /** Tasks on the wheel; the thread parks while this is zero. */
    private final AtomicLong scheduled = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param threadName the name of the timer's thread
     */
    public DeadlineTimer(String threadName) {
        for (int i = 0; i < BUCKETS; i++) {
            wheel[i] = new Bucket();
        }
        thread = new Thread(this::turn, Objects.requireNonNull(threadName, "threadName"));
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Schedules a task.
     *
     * @param deadlineNanos when to run it, as a {@link System#nanoTime()} value; a deadline already passed runs at the
     *                      next tick
     * @param task          what to run; short and non-blocking
     * @return the handle to cancel it with
     */
    public Timeout schedule(long deadlineNanos, Runnable task) {
        Objects.requireNonNull(task, "task");
        Timeout timeout = new Timeout(deadlineNanos, task);
        long tick = Math.max(tickOf(deadlineNanos), tickOf(System.nanoTime()) + 1);
        while (true) {
            Bucket bucket = wheel[(int) (tick & (BUCKETS - 1))];
            bucket.lock.lock();
            try {
                long passed = firedThrough;
                if (tick <= passed) {
                    // The timer fired this tick while this thread was on its way here (preempted between choosing
                    // the bucket and entering it, as a loaded machine does for many ticks): the task would wait a
                    // whole turn of the wheel for the bucket's next visit. It is due, so it goes to the next tick.
                    tick = passed + 1;
                    continue;
                }
                timeout.bucket = bucket;
                timeout.next = bucket.head;
                if (bucket.head != null) {
                    bucket.head.previous = timeout;
                }
                bucket.head = timeout;
                break;
            } finally {
                bucket.lock.unlock();
            }
        }
        if (scheduled.getAndIncrement() == 0) {
            LockSupport.unpark(thread);
        }
        return timeout;
    }

    private long tickOf(long nanoTime) {
        return Math.floorDiv(nanoTime - origin + TICK_NANOS - 1, TICK_NANOS);
    }

    private void turn() {
        long tick = tickOf(System.nanoTime());
        while (!closed) {
            if (scheduled.get() == 0) {
                // Idle: a schedule() that raises the count from zero unparks us; a permit given before we park makes
                // park return at once, so no wake-up is lost.
                LockSupport.park(this);
                // Every bucket was empty while we slept: skip the idle ticks, but never more than one turn, so a
                // task scheduled just before we woke (into a bucket at or after its schedule tick) is not passed.
                tick = Math.max(tick, tickOf(System.nanoTime()) - BUCKETS + 1);
                continue;
            }
            long wakeAt = origin + tick * TICK_NANOS;
            long sleep = wakeAt - System.nanoTime();
            if (sleep > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                } catch (InterruptedException e) {
                    if (closed) {
                        return;
                    }
                }
                continue;
            }
            fire(tick);
            tick++;
        }
    }

    private void fire(long tick) {
        Bucket bucket = wheel[(int) (tick & (BUCKETS - 1))];
        long now = System.nanoTime();
        Timeout due = null;
        bucket.lock.lock();
        try {
            firedThrough = tick;
            Timeout timeout = bucket.head;
            while (timeout != null) {
                Timeout next = timeout.next;
                if (timeout.deadlineNanos - now <= 0) {
                    bucket.unlink(timeout);
                    scheduled.decrementAndGet();
                    timeout.next = due;
                    due = timeout;
                }
                timeout = next;
            }
        } finally {
            bucket.lock.unlock();
        }
        for (Timeout timeout = due; timeout != null; ) {
            Timeout next = timeout.next;
            timeout.next = null;
            try {
                timeout.task.run();
            } catch (Throwable e) {
                log.error("A deadline task threw", e);
            }
            timeout = next;
        }
    }

    /** Stops the timer; tasks not run yet never run. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        LockSupport.unpark(thread);
    }

    /** A scheduled task; {@link #cancel()} it when what it guards has ended. */
    public static final class Timeout {

        private final long deadlineNanos;
        private final Runnable task;
        private volatile @Nullable Bucket bucket;
        private @Nullable Timeout previous;
        private @Nullable Timeout next;

        private Timeout(long deadlineNanos, Runnable task) {
            this.deadlineNanos = deadlineNanos;
            this.task = task;
        }

        /** Takes the task off the wheel if it has not run; idempotent and cheap. */
        public void cancel() {
            Bucket owner = bucket;
            if (owner != null) {
                owner.remove(this);
            }
        }
    }

    private final class Bucket {

        private final ReentrantLock lock = new ReentrantLock();
        private @Nullable Timeout head;

        /** Removes a timeout if it is still in this bucket (not run, not cancelled yet). */
        void remove(Timeout timeout) {
            lock.lock();
            try {
                if (timeout.bucket == this) {
                    unlink(timeout);
                    scheduled.decrementAndGet();
                }
            } finally {
                lock.unlock();
            }
        }

        /** Removes a timeout; the caller holds the lock. */
        void unlink(Timeout timeout) {
            if (timeout.previous != null) {
                timeout.previous.next = timeout.next;
            } else {
                head = timeout.next;
            }
            if (timeout.next != null) {
                timeout.next.previous = timeout.previous;
            }
            timeout.previous = null;
            timeout.next = null;
            timeout.bucket = null;
        }
    }
}
