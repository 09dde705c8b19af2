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
 * A node's tracking processor on PostgreSQL with nothing configured but its stores hears another node's append at
 * once: the node takes the {@link JdbcEventStore} as its append notifier, so the processor does not wait out its poll
 * interval (30 s here).
 */
class PostgresLiveTailTest {

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
    void a_processor_hears_an_append_of_another_node_long_before_its_poll_interval() {
        listening = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).createSchema(true)
                .build();
        appending = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).build();
        Recorder recorder = new Recorder();
        node = Gyre.builder().sharedEventStore(listening)
                .processing(ProcessingSettings.builder().tokenStore(database.processingStore()).build())
                .processor(TrackingProcessor.named("ledger").segments(2).pollInterval(Duration.ofSeconds(30))
                        .handlers(recorder))
                .start();
        Eventually.await(Duration.ofSeconds(10), "the node to listen", this::listening);

        long start = System.nanoTime();
        appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        Eventually.await(Duration.ofSeconds(10), "the event to be handled", () -> recorder.count() == 1);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    private boolean listening() {
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement query = connection.prepareStatement(
                     "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND query LIKE ?")) {
            query.setString(1, "%" + database.tables().events().toLowerCase() + "%");
            try (ResultSet rows = query.executeQuery()) {
                return rows.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
