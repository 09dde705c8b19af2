package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.SegmentOwnership;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * PostgreSQL's append notifications: a commit made through another store (another node) wakes a subscriber at once,
 * and the subscriber keeps being woken after its listening connection is killed on the server.
 */
class PostgresAppendNotificationTest {

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final AtomicInteger wakes = new AtomicInteger();

    private JdbcEventStore store() {
        JdbcEventStore store = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
        opened.add(store);
        return store;
    }

    @AfterEach
    void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void a_commit_made_through_another_node_wakes_a_subscriber_within_moments() {
        JdbcEventStore listening = store();
        JdbcEventStore appending = store();
        SegmentOwnership.Registration registration = listening.subscribe(wakes::incrementAndGet);
        opened.add(registration);
        // Listening, it wakes its subscriber once (for appends made before it listened): not counted below.
        awaitTrue(() -> listenerPid(listening) != null && wakes.get() > 0, Duration.ofSeconds(10),
                "the listener to listen");
        int before = wakes.get();

        long start = System.nanoTime();
        appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        awaitTrue(() -> wakes.get() > before, Duration.ofSeconds(5), "a wake-up after the commit");
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        // The listener waits in getNotifications, which returns as soon as the notification arrives.
        assertThat(took).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void the_listener_listens_again_after_its_connection_is_terminated_on_the_server() throws SQLException {
        JdbcEventStore listening = store();
        JdbcEventStore appending = store();
        opened.add(listening.subscribe(wakes::incrementAndGet));
        awaitTrue(() -> listenerPid(listening) != null, Duration.ofSeconds(10), "the listener to listen");
        Integer killed = listenerPid(listening);
        int beforeKill = wakes.get();

        terminate(killed);

        // Listening again, it wakes its subscriber once for the appends it may have missed meanwhile.
        awaitTrue(() -> {
            Integer now = listenerPid(listening);
            return now != null && !now.equals(killed) && wakes.get() > beforeKill;
        }, Duration.ofSeconds(15), "the listener to listen on a new connection");
        int before = wakes.get();
        appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        awaitTrue(() -> wakes.get() > before, Duration.ofSeconds(5), "a wake-up after the commit");
    }

    @Test
    void appends_that_commit_one_after_the_other_notify_once_each_and_a_refused_append_does_not()
            throws SQLException {
        JdbcEventStore appending = store();
        String channel = "gyre_appends." + tables.events().toLowerCase();
        try (Connection listener = dataSource.getConnection(); Statement statement = listener.createStatement()) {
            statement.execute("LISTEN \"" + channel + "\"");
            appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
            try {
                appending.append(append("acc-1", ExpectedSequence.noStream(), "c2", 2));
            } catch (ConcurrencyConflictException expected) {
                // The stream exists: nothing is stored, and only appends that stored events notify.
            }
            appending.append(append("acc-2", ExpectedSequence.noStream(), "c3", 3));
            List<String> payloads = new ArrayList<>();
            PGConnection postgres = listener.unwrap(PGConnection.class);
            receiveUntil(postgres, payloads, () -> payloads.size() >= 2);
            // A marker after them: whatever the appends sent has arrived before it.
            statement.execute("NOTIFY \"" + channel + "\", 'end'");
            receiveUntil(postgres, payloads, () -> payloads.contains("end"));
            statement.execute("UNLISTEN *");
            assertThat(payloads).containsExactly("", "", "end");
        }
    }

    /**
     * A service closes its node (which closes the store), then its own pool. The store's close returned while its
     * listening thread still held a pooled connection (waiting up to half a second for a notification), so the
     * pool's close made HikariCP log that connection as broken ("This connection has been closed").
     */
    @Test
    void closing_the_store_returns_after_its_notification_threads_have_given_their_connections_back() {
        JdbcEventStore store = store();
        store.subscribe(wakes::incrementAndGet);
        store.append(append("acc-close", ExpectedSequence.noStream(), "cmd-close", 0));
        awaitTrue(() -> notificationThreads().size() == 2, Duration.ofSeconds(30),
                "the listener and the announcer run");

        store.close();

        assertThat(notificationThreads()).as("threads alive when close() returned").isEmpty();
    }

    /** What a node does: its processors unsubscribe, then it closes the store. */
    @Test
    void closing_the_store_right_after_its_last_subscriber_left_waits_for_the_listening_thread_too() {
        JdbcEventStore store = store();
        SegmentOwnership.Registration registration = store.subscribe(wakes::incrementAndGet);
        awaitTrue(() -> listenerPid(store) != null, Duration.ofSeconds(30), "the listener to listen");

        registration.close();
        store.close();

        assertThat(notificationThreads()).as("threads alive when close() returned").isEmpty();
    }

    private List<String> notificationThreads() {
        String channel = "gyre_appends." + tables.events();
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> name.equals("gyre-append-listener-" + channel)
                        || name.equals("gyre-append-announcer-" + channel))
                .toList();
    }

    private static void receiveUntil(PGConnection listener, List<String> payloads, BooleanSupplier done)
            throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            PGNotification[] received = listener.getNotifications(200);
            for (PGNotification notification : received == null ? new PGNotification[0] : received) {
                payloads.add(notification.getParameter());
            }
        }
    }

    /** @return the server pid of the store's listening connection, or null while it does not listen */
    private Integer listenerPid(JdbcEventStore store) {
        String sql = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND query LIKE ?";
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, "%" + tables.events().toLowerCase() + "%");
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? rows.getInt(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private void terminate(int pid) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement kill = connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
            kill.setInt(1, pid);
            kill.execute();
        }
    }

    static void awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Waited " + timeout + " for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
