package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Recorder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (the live tail when its NOTIFY connection is killed, PostgreSQL): a processor with a
 * 30 s poll interval relies on the store's {@code LISTEN} connection for another node's appends. The server ends that
 * connection ({@code pg_terminate_backend}); an append made right then, while nobody listens, and another made later
 * must still reach the handler long before the poll interval.
 */
class ListenerKilledLiveTailTest {

    private final ProcessingDatabase database = ProcessingDatabase.onPostgres();
    private JdbcEventStore listening;
    private JdbcEventStore appending;
    private Gyre node;

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
        if (listening != null) {
            listening.close();
        }
        if (appending != null) {
            appending.close();
        }
        database.close();
    }

    @Test
    void appends_made_while_and_after_the_listener_was_killed_reach_the_handler_long_before_the_poll_interval()
            throws Exception {
        listening = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).createSchema(true)
                .build();
        appending = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).build();
        Recorder recorder = new Recorder();
        node = Gyre.builder().sharedEventStore(listening)
                .processing(ProcessingSettings.builder().tokenStore(database.processingStore()).build())
                .processor(TrackingProcessor.named("ledger").segments(2).pollInterval(Duration.ofSeconds(30))
                        .handlers(recorder))
                .start();
        Eventually.await(Duration.ofSeconds(10), "the node to listen", () -> listenerPid() != null);
        Integer killed = listenerPid();

        terminate(killed);
        long start = System.nanoTime();
        appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        Eventually.await(Duration.ofSeconds(10), "the append made while nobody listened",
                () -> recorder.count() == 1);
        Duration whileDown = Duration.ofNanos(System.nanoTime() - start);

        Eventually.await(Duration.ofSeconds(10), "a new listening connection", () -> {
            Integer now = listenerPid();
            return now != null && !now.equals(killed);
        });
        start = System.nanoTime();
        appending.append(append("acc-2", ExpectedSequence.noStream(), "c2", 2));
        Eventually.await(Duration.ofSeconds(10), "the append after the listener came back",
                () -> recorder.count() == 2);
        Duration after = Duration.ofNanos(System.nanoTime() - start);

        System.out.printf("%s: poll interval 30 s; append while the listener was down handled after %d ms, append"
                + " after it listened again after %d ms%n", getClass().getSimpleName(), whileDown.toMillis(),
                after.toMillis());
        assertThat(whileDown).isLessThan(Duration.ofSeconds(5));
        assertThat(after).isLessThan(Duration.ofSeconds(2));
    }

    private Integer listenerPid() {
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement query = connection.prepareStatement(
                     "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND query LIKE ?")) {
            query.setString(1, "%" + database.tables().events().toLowerCase() + "%");
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? rows.getInt(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private void terminate(int pid) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement kill = connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
            kill.setInt(1, pid);
            kill.execute();
        }
    }
}
