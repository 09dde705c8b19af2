package io.gyre.eventstore.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the listeners of every node ({@link PostgresAppendListener}) that this node appended, with a
 * {@code NOTIFY} sent after the append committed, coalesced: at most one is on its way at a time, and appends that
 * commit meanwhile share the next one. Internal: not part of Gyre's API.
 *
 * <p>Under a steady stream of appends the notifications of a node are at least {@link #MIN_INTERVAL} apart, so that
 * their own transactions stay few next to the appends (one per append at one caller's pace cost appends measurably
 * in {@code NotifyCostBenchmark}).
 *
 * <p>Why not a {@code NOTIFY} inside each append's transaction, which would cost no round trip: PostgreSQL
 * serialises the commits of notifying transactions (one lock, held from before the commit record is flushed until
 * the notification is queued), so concurrent appends could no longer share a log flush. On a durable server that
 * made 8 concurrent callers reach 0.36 times the appends per second of silent ones, and 64 callers 0.45 times
 * ({@code NotifyCostBenchmark}). Sent from here, one notification at a time, asynchronously committed
 * ({@code synchronous_commit} off for its own transaction: a lost hint costs a poll, never an event), it leaves the
 * appends' commits alone and costs a listener one round trip of latency.
 *
 * <p>A failure to notify is logged at DEBUG (an {@link Error} at WARN) and forgotten: processors still poll, and the
 * next append is notified again.
 */
public final class PostgresAppendAnnouncer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PostgresAppendAnnouncer.class);

    /** No notification on its way. */
    private static final int IDLE = 0;
    /** One on its way, covering every append so far. */
    private static final int SENDING = 1;
    /** One on its way, and appends committed since it started: another must follow. */
    private static final int SENDING_AND_DUE = 2;

    /**
     * The least time between two notifications of one node under a steady stream of appends: at most 100 a second
     * whatever the append rate, for at most 10 ms of added latency. The first after a quiet spell goes at once.
     */
    static final Duration MIN_INTERVAL = Duration.ofMillis(10);

    /** The longest {@link #close()} waits for a notification on its way: one round trip and an interval, usually. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final DataSource dataSource;
    private final String channel;
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private final ExecutorService sender;
    /** The sender's thread, once it has one: close() waits for it to end, not only for its tasks. */
    private volatile @Nullable Thread senderThread;

    /**
     * @param dataSource where the connection of each notification comes from
     * @param channel    the channel listeners listen on ({@link PostgresAppendListener#channelFor})
     */
    public PostgresAppendAnnouncer(DataSource dataSource, String channel) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.channel = Objects.requireNonNull(channel, "channel");
        this.sender = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "gyre-append-announcer-" + channel);
            thread.setDaemon(true);
            senderThread = thread;
            return thread;
        });
    }

    /** Called after an append with events committed; returns at once. */
    public void appended() {
        while (true) {
            int now = state.get();
            if (now == SENDING_AND_DUE) {
                return;
            }
            if (state.compareAndSet(now, now + 1)) {
                if (now == IDLE) {
                    try {
                        sender.execute(this::sendWhileDue);
                    } catch (RejectedExecutionException closed) {
                        state.set(IDLE);
                    }
                }
                return;
            }
        }
    }

    private void sendWhileDue() {
        do {
            long sent = System.nanoTime();
            send();
            // The interval is waited out after every notification, not only when appends came while it was sent:
            // one caller appending faster than a notification takes, but slower than it is sent, found the sender
            // idle each time and had a notification, a transaction of its own, for every append (counted on the
            // wire in DatabaseWorkPerCommandTest: up to one per command). Appends committing meanwhile make the
            // next notification due; none, and the sender is idle again, so the first after a quiet spell still
            // goes at once.
            pause(MIN_INTERVAL.toNanos() - (System.nanoTime() - sent));
        } while (state.decrementAndGet() > IDLE);
    }

    private static void pause(long nanos) {
        if (nanos > 0) {
            try {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void send() {
        // set_config(..., true) holds for this statement's own transaction only: its commit need not wait for the
        // disk, and the pooled connection goes back unchanged.
        try (Connection connection = dataSource.getConnection();
             PreparedStatement notify = connection.prepareStatement(
                     "SELECT set_config('synchronous_commit', 'off', true), pg_notify(?, '')")) {
            notify.setString(1, channel);
            notify.execute();
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("Notifying channel {} of an append failed; listeners find the events at their next poll",
                    channel, e);
        } catch (Error e) {
            // Not let through: it would end this loop with the state left at SENDING, and every later append would
            // find a notification 'on its way' that never comes, silencing the node's notifications for good (an
            // Error from a driver or a pool, or a passing OutOfMemoryError; AppendAnnouncerReviewTest).
            log.warn("Notifying channel {} of an append failed with an error; listeners find the events at their "
                    + "next poll, and later appends are notified again", channel, e);
        }
    }

    /**
     * Stops taking appends, and waits up to {@link #CLOSE_WAIT} for the notification on its way or due to go out and
     * for the sender's thread to end: the node's data source is often closed right after its store (an application
     * shutting down), and a notification left for later would then fail, leaving the node's last appends to other
     * nodes' polls, while a connection still held would be logged by the pool as broken.
     */
    @Override
    public void close() {
        sender.shutdown();
        Thread thread = senderThread;
        try {
            if (!sender.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.debug("The last notification of channel {} is still on its way after {} ms; not waited for",
                        channel, CLOSE_WAIT.toMillis());
            } else if (thread != null && thread != Thread.currentThread()) {
                // The executor reports termination just before its thread has ended.
                thread.join(1_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
