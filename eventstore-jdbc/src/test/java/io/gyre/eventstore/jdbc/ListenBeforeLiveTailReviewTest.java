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
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of the live tail on PostgreSQL at a node's start: the append listener subscribes at once but listens only
 * once it has a connection and its {@code LISTEN} has run, while the processors read meanwhile. An append that commits
 * after a processor's read and before the listener listens is heard by nobody; it must still reach the processor
 * long before its poll interval (30 s here). The listener's connection is held back here until the test lets it go.
 */
class ListenBeforeLiveTailReviewTest {

    private final ProcessingDatabase database = ProcessingDatabase.onPostgres();
    private final CountDownLatch letListen = new CountDownLatch(1);
    private JdbcEventStore listening;
    private JdbcEventStore appending;
    private Gyre node;

    @AfterEach
    void close() {
        letListen.countDown();
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
    void an_append_committed_before_the_listener_listens_reaches_a_processor_that_read_before_it() {
        listening = JdbcEventStore.builder(new ListenerHeldBack(database.dataSource())).tableNames(database.tables())
                .createSchema(true).build();
        appending = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).build();
        Reads reads = new Reads(listening);
        Recorder recorder = new Recorder();
        node = Gyre.builder().sharedEventStore(reads)
                .processing(ProcessingSettings.builder().tokenStore(database.processingStore())
                        .appendNotifier(listening).build())
                .processor(TrackingProcessor.named("ledger").segments(1).pollInterval(Duration.ofSeconds(30))
                        .handlers(recorder))
                .start();
        Eventually.await(Duration.ofSeconds(10), "the processor's first read", () -> reads.finished.get() > 0);

        appending.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        letListen.countDown();

        Eventually.await(Duration.ofSeconds(10), "the event to be handled (poll interval 30 s)",
                () -> recorder.count() == 1);
    }

    /** Counts the global log's reads that have finished. */
    private static final class Reads extends ForwardingEventStore {
        final AtomicInteger finished = new AtomicInteger();

        Reads(JdbcEventStore delegate) {
            super(delegate);
        }

        @Override
        public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
            try {
                return super.readAll(after, maxCount);
            } finally {
                finished.incrementAndGet();
            }
        }

        /** The node closes only stores it owns; this one is shared. */
        @Override
        public void close() {
        }
    }

    /** Holds the append listener's connection back until the test lets it listen; every other one goes at once. */
    private final class ListenerHeldBack extends ForwardingDataSource {

        ListenerHeldBack(DataSource delegate) {
            super(delegate);
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (Thread.currentThread().getName().startsWith("gyre-append-listener-")) {
                try {
                    assertThat(letListen.await(30, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", e);
                }
            }
            return delegate.getConnection();
        }

    }
}
