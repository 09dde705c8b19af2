package io.gyre.eventstore.jdbc.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Wakes the subscribers of a store's {@link PostgresAppendListener} again, a little later, after a read of the global
 * log left committed events behind: events beyond the snapshot horizon ({@link PostgresGlobalLog}), held back by an
 * older transaction still running. A notification wakes a reader once, after the append's commit; when the
 * transaction holding the horizon writes no event (a decision stored without events, a processor's token, a snapshot,
 * another application's transaction), nothing notifies when it ends, and the reader would otherwise wait out its poll
 * interval for events that were committed long before (HorizonAfterNotificationReviewTest: 30 s). Internal: not part
 * of Gyre's API.
 *
 * <p>The wake comes {@link #FIRST_DELAY} after such a read, doubling while reads return nothing and keep finding
 * events held back (a long transaction: a stall, which {@link PostgresLogWatch} reports) up to {@link #MAX_DELAY},
 * and back to the first once a read returns events or finds none held back. At most one wake is pending at a time.
 */
public final class WithheldEventsWake implements AutoCloseable {

    /** The delay of the first wake after a read left events behind. */
    static final Duration FIRST_DELAY = Duration.ofMillis(10);

    /** The longest delay, reached while a transaction keeps holding the horizon. */
    static final Duration MAX_DELAY = Duration.ofSeconds(1);

    private final PostgresAppendListener listener;
    private final Object lock = new Object();
    private @Nullable ScheduledThreadPoolExecutor timer;
    private long delayNanos = FIRST_DELAY.toNanos();
    private boolean pending;
    private boolean closed;

    /** @param listener whose subscribers are woken */
    public WithheldEventsWake(PostgresAppendListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** @return true when somebody would be woken: only then is it worth looking for events left behind */
    public boolean wanted() {
        return listener.hasSubscribers();
    }

    /**
     * Called after a short read of the global log.
     *
     * @param progressed whether the read returned events: the delay grows only while reads get nowhere
     * @param leftBehind whether committed events after the read's last one were found
     */
    public void afterShortRead(boolean progressed, boolean leftBehind) {
        synchronized (lock) {
            if (progressed || !leftBehind) {
                delayNanos = FIRST_DELAY.toNanos();
            }
            if (!leftBehind) {
                return;
            }
            if (pending || closed) {
                return;
            }
            if (timer == null) {
                ScheduledThreadPoolExecutor started = new ScheduledThreadPoolExecutor(1, task -> {
                    Thread thread = new Thread(task, "gyre-withheld-wake-" + listener.channel());
                    thread.setDaemon(true);
                    return thread;
                });
                started.setRemoveOnCancelPolicy(true);
                timer = started;
            }
            long delay = delayNanos;
            delayNanos = Math.min(MAX_DELAY.toNanos(), delayNanos * 2);
            try {
                timer.schedule(this::wake, delay, TimeUnit.NANOSECONDS);
                pending = true;
            } catch (RejectedExecutionException e) {
                // Closing: readers still poll.
            }
        }
    }

    private void wake() {
        synchronized (lock) {
            pending = false;
        }
        listener.wakeSubscribers();
    }

    /** Stops waking; idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (timer != null) {
                timer.shutdownNow();
            }
        }
    }
}
