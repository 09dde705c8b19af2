package io.gyre.routing.jgroups.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task that many requests share: it runs on a timer soon after it is requested, requests made while a run is
 * pending join that run, and a request made while it runs gets one more run after it. Runs start at least a minimum
 * interval apart; the first after a quiet spell starts at once. For work whose latest run serves every earlier
 * request, such as a member broadcasting its advertisement: a burst of requests (every command refused during a
 * ring change asks for one) then costs a few runs, not one each. Thread-safe. Internal: not part of Gyre's API.
 */
public final class CoalescedTask {

    private static final Logger log = LoggerFactory.getLogger(CoalescedTask.class);

    private static final int IDLE = 0;
    /** A run is scheduled and has not started: requests join it. */
    private static final int DUE = 1;
    /** A run is under way, and no request came since it started. */
    private static final int RUNNING = 2;
    /** A run is under way, and a request came since it started: one more run follows. */
    private static final int RUNNING_AND_DUE = 3;

    private final String name;
    private final Runnable task;
    private final ScheduledExecutorService timer;
    private final long minIntervalNanos;
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private volatile long lastStart;

    /**
     * @param name        what the task does, for the log
     * @param task        the work; an exception it throws is logged and does not stop later runs
     * @param timer       where it runs
     * @param minInterval the least time between the starts of two runs
     */
    public CoalescedTask(String name, Runnable task, ScheduledExecutorService timer, Duration minInterval) {
        this.name = Objects.requireNonNull(name, "name");
        this.task = Objects.requireNonNull(task, "task");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.minIntervalNanos = minInterval.toNanos();
        if (minIntervalNanos < 0) {
            throw new IllegalArgumentException("minInterval must not be negative, but was " + minInterval);
        }
        this.lastStart = System.nanoTime() - minIntervalNanos;
    }

    /** Asks for a run that starts after this call; returns at once. Nothing runs once the timer is shut down. */
    public void request() {
        while (true) {
            int now = state.get();
            if (now == DUE || now == RUNNING_AND_DUE) {
                return;
            }
            if (state.compareAndSet(now, now == IDLE ? DUE : RUNNING_AND_DUE)) {
                if (now == IDLE) {
                    schedule();
                }
                return;
            }
        }
    }

    /**
     * @return when the latest run started ({@link System#nanoTime()}, taken before its work): the clock of the
     *         interval to the next run. Read inside the work, it is that run's own start. Before any run, a minimum
     *         interval before this task was made.
     */
    long lastStart() {
        return lastStart;
    }

    private void schedule() {
        long wait = Math.max(0, lastStart + minIntervalNanos - System.nanoTime());
        try {
            timer.schedule(this::run, wait, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            state.set(IDLE);
            log.debug("Not running '{}': its timer has stopped", name);
        }
    }

    private void run() {
        state.set(RUNNING);
        lastStart = System.nanoTime();
        try {
            task.run();
        } catch (RuntimeException e) {
            log.warn("'{}' failed: {}", name, e.toString());
        } finally {
            if (!state.compareAndSet(RUNNING, IDLE)) {
                state.set(DUE); // RUNNING_AND_DUE: a request came while it ran
                schedule();
            }
        }
    }
}
