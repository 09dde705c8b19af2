package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.TableNames;
import io.gyre.processing.AppendNotifier;
import io.gyre.processing.SegmentOwnership;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hears the appends of every node through PostgreSQL's {@code LISTEN/NOTIFY}: a node that appended notifies the
 * store's channel after the commit ({@link PostgresAppendAnnouncer}), and this listener, on one connection of its own
 * from the data source, wakes its subscribers when a notification arrives. Internal: not part
 * of Gyre's API.
 *
 * <p>A notification is a hint, never a guarantee: processors still poll. So the listener never fails the node. When
 * its connection drops (a server restart, {@code pg_terminate_backend}, a pool that evicts it) it opens another with
 * back-off (0.1 s doubling to 5 s), and wakes the subscribers once it listens again, since appends made meanwhile
 * were not heard; so it does once it first listens, for the appends made since the subscribers' first reads. A
 * connection that silently stops answering (a dead network path) is found by a {@code SELECT 1} after
 * {@link #IDLE_CHECK} without a notification.
 *
 * <p>The listening thread and its connection exist only while somebody subscribes: a store without processors holds
 * no connection for it.
 */
public final class PostgresAppendListener implements AppendNotifier, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PostgresAppendListener.class);

    /** How long the listener waits for notifications before it checks whether it should stop. */
    static final Duration WAIT = Duration.ofMillis(500);

    /** How long the listener hears nothing before it checks its connection is alive. */
    static final Duration IDLE_CHECK = Duration.ofSeconds(30);

    /** How long, beyond {@link #WAIT}, closing waits for the thread to give its connection back. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(2);

    private static final Duration FIRST_BACK_OFF = Duration.ofMillis(100);
    private static final Duration MAX_BACK_OFF = Duration.ofSeconds(5);

    private final DataSource dataSource;
    private final String channel;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Object lifecycle = new Object();
    private @Nullable Thread thread;
    /** The last thread told to stop, perhaps still giving its connection back: close() waits for it too. */
    private @Nullable Thread stopping;
    private volatile boolean closed;
    private volatile long connectionsOpened;

    /**
     * @param dataSource where the listening connection comes from
     * @param channel    the channel appends notify ({@link #channelFor(TableNames)})
     */
    public PostgresAppendListener(DataSource dataSource, String channel) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.channel = Objects.requireNonNull(channel, "channel");
    }

    /**
     * The channel of a store's appends: one per events table, so that two stores on one server (two services, two
     * table prefixes) do not wake each other's processors. Lower case, at most 63 bytes (PostgreSQL's limit on
     * names); a longer one keeps its start and a digest of the whole.
     *
     * @param tables the store's tables
     * @return the channel name
     */
    public static String channelFor(TableNames tables) {
        String name = "gyre_appends." + tables.events().toLowerCase(Locale.ROOT);
        if (name.length() <= 63) {
            return name;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return name.substring(0, 46) + "." + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** @return the channel listened to */
    public String channel() {
        return channel;
    }

    /** @return true while somebody subscribes: {@link #wakeSubscribers()} would wake them */
    public boolean hasSubscribers() {
        return !listeners.isEmpty();
    }

    /**
     * Wakes every subscriber as a notification would: for events that committed without one reaching the readers
     * ({@link WithheldEventsWake}).
     */
    public void wakeSubscribers() {
        wake();
    }

    /** @return how many listening connections were opened so far (for tests and status) */
    public long connectionsOpened() {
        return connectionsOpened;
    }

    @Override
    public SegmentOwnership.Registration subscribe(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("The event store is closed; its append notifications stopped");
            }
            listeners.add(listener);
            if (thread == null) {
                Thread started = new Thread(this::run, "gyre-append-listener-" + channel);
                started.setDaemon(true);
                thread = started;
                started.start();
            }
        }
        return () -> {
            synchronized (lifecycle) {
                listeners.remove(listener);
                if (listeners.isEmpty()) {
                    stopThread();
                }
            }
        };
    }

    /**
     * Stops listening and releases the connection; idempotent. Returns once the listening thread has given its
     * connection back (within about {@link #WAIT}, the longest it waits for a notification), so that the caller may
     * close the data source next without the pool logging the listener's connection as broken.
     */
    @Override
    public void close() {
        Thread running;
        synchronized (lifecycle) {
            closed = true;
            listeners.clear();
            stopThread();
            // Also when the last subscriber left just before (a node unsubscribes, then closes its store).
            running = stopping;
        }
        // Outside the lock: a subscriber woken on that thread may be unsubscribing, which takes the lock.
        if (running != null && running != Thread.currentThread()) {
            try {
                running.join(WAIT.toMillis() + STOP_GRACE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void stopThread() {
        Thread running = thread;
        thread = null;
        if (running != null) {
            stopping = running;
            running.interrupt();
        }
    }

    private boolean running() {
        return !closed && Thread.currentThread() == thread;
    }

    private void run() {
        Duration backOff = FIRST_BACK_OFF;
        // Not even at first: subscribers read as soon as they subscribe, while this thread is still getting its
        // connection, and an append committed between such a read and the LISTEN is heard by nobody; it would wait
        // for the subscribers' poll (ListenBeforeLiveTailReviewTest). One wake once listening costs each a read.
        boolean heardEverything = false;
        while (running()) {
            try (Connection connection = dataSource.getConnection()) {
                listen(connection);
                if (!heardEverything) {
                    if (connectionsOpened > 0) {
                        log.info("Listening again for appends on channel {}", channel);
                    }
                    wake();
                }
                connectionsOpened++;
                backOff = FIRST_BACK_OFF;
                heardEverything = false;
                try {
                    receive(connection);
                } catch (SQLException e) {
                    discardIfBroken(connection);
                    throw e;
                }
                unlisten(connection);
            } catch (SQLException | RuntimeException e) {
                if (!running()) {
                    return;
                }
                heardEverything = false;
                // Not an error of the node: processors still poll, only later than a notification would wake them.
                log.warn("Listening for appends on channel {} failed; processors poll until it listens again, in {} "
                        + "ms", channel, backOff.toMillis(), e);
                if (!sleep(backOff)) {
                    return;
                }
                backOff = backOff.multipliedBy(2).compareTo(MAX_BACK_OFF) > 0 ? MAX_BACK_OFF : backOff.multipliedBy(2);
            }
        }
    }

    private void listen(Connection connection) throws SQLException {
        if (!connection.getAutoCommit()) {
            // LISTEN takes effect at commit; a pool without auto-commit would leave it pending.
            connection.setAutoCommit(true);
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN \"" + channel + "\"");
        }
    }

    /**
     * Notifications are read on the driver's own connection, below the pool's wrapper, so the pool does not see it
     * fail and would lend the dead connection to the next borrower (an append then failed on it). A statement through
     * the wrapper fails the same way when the connection is gone, which tells the pool to discard it.
     */
    private void discardIfBroken(Connection connection) {
        try (Statement statement = connection.createStatement()) {
            statement.execute("SELECT 1");
        } catch (SQLException expected) {
            log.debug("The listening connection of channel {} is broken; the pool discards it", channel, expected);
        }
    }

    /** Leaves a healthy connection to the pool as it came: a borrower must not inherit this channel. */
    private void unlisten(Connection connection) {
        try (Statement statement = connection.createStatement()) {
            statement.execute("UNLISTEN *");
        } catch (SQLException e) {
            log.debug("UNLISTEN on channel {} failed; the connection is closed anyway", channel, e);
        }
    }

    private void receive(Connection connection) throws SQLException {
        PGConnection postgres = connection.unwrap(PGConnection.class);
        long quietSince = System.nanoTime();
        while (running()) {
            PGNotification[] notifications = postgres.getNotifications((int) WAIT.toMillis());
            if (notifications != null && notifications.length > 0) {
                quietSince = System.nanoTime();
                wake();
            } else if (System.nanoTime() - quietSince > IDLE_CHECK.toNanos()) {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("SELECT 1");
                }
                quietSince = System.nanoTime();
            }
        }
    }

    private void wake() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.warn("A listener of appends on channel {} failed", channel, e);
            }
        }
    }

    private static boolean sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }
}
