package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Recorder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of the live tail on PostgreSQL: an append's notification wakes a reader, but the reader reads only
 * transactions older than the oldest one still running on the server, so the appended event may be withheld when
 * the reader reads, behind a transaction that writes no event (another node's refusal stored without events, a
 * processor's token, a snapshot, any other application's transaction). When that transaction ends, no notification
 * follows; the event must still reach a tracking processor long before its poll interval (30 s here).
 */
class HorizonAfterNotificationReviewTest {

    private final ProcessingDatabase database = ProcessingDatabase.onPostgres();
    private JdbcEventStore listening;
    private JdbcEventStore appending;
    private Gyre node;
    private Connection holder;

    @AfterEach
    void close() throws SQLException {
        if (holder != null) {
            holder.close();
        }
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
    void an_event_withheld_behind_a_transaction_without_events_reaches_the_processor_once_that_transaction_ends()
            throws SQLException {
        listening = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).createSchema(true)
                .build();
        appending = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).build();
        Reads reads = new Reads(listening);
        Recorder recorder = new Recorder();
        node = Gyre.builder().sharedEventStore(reads)
                .processing(ProcessingSettings.builder().tokenStore(database.processingStore())
                        .appendNotifier(listening).build())
                .processor(TrackingProcessor.named("ledger").segments(1).pollInterval(Duration.ofSeconds(30))
                        .handlers(recorder))
                .start();
        Eventually.await(Duration.ofSeconds(10), "the node to listen", this::listening);

        // A transaction that has written (it holds a transaction id) and stays open: it holds the horizon.
        holder = database.dataSource().getConnection();
        holder.setAutoCommit(false);
        try (Statement statement = holder.createStatement()) {
            statement.execute("SELECT pg_current_xact_id()");
        }
        appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        long appended = System.nanoTime();
        // The notification woke the reader, which read after the commit and found the event withheld.
        Eventually.await(Duration.ofSeconds(10), "a read started after the append",
                () -> reads.lastStartFinished.get() - appended > 0);
        assertThat(recorder.count()).as("withheld behind the open transaction").isZero();

        long start = System.nanoTime();
        holder.commit(); // ends without an append, so without a notification
        Eventually.await(Duration.ofSeconds(10), "the withheld event to be handled (poll interval 30 s)",
                () -> recorder.count() == 1);
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

    /** Remembers when the latest of the global log's reads that have finished started. */
    private static final class Reads extends ForwardingEventStore {
        final AtomicLong lastStartFinished = new AtomicLong(System.nanoTime());

        Reads(JdbcEventStore delegate) {
            super(delegate);
        }

        @Override
        public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
            long started = System.nanoTime();
            try {
                return super.readAll(after, maxCount);
            } finally {
                lastStartFinished.accumulateAndGet(started, (a, b) -> b - a > 0 ? b : a);
            }
        }

        /** The node closes only stores it owns; this one is shared. */
        @Override
        public void close() {
        }
    }
}
