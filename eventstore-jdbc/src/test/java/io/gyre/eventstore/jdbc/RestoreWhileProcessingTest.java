package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Numbered;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (a restore while processors run, PostgreSQL): the database under a running node is
 * restored from another server, modelled as {@link GlobalLogRestoreTest} does (stored transaction ids raised above the
 * server's next one). The store refuses to read with a {@link GlobalLogRestoredException}; the question is what a
 * running tracking processor makes of that refusal. The issue asks for a clear error or status, not a silent stall.
 *
 * <p>The processor's reader retries with a back-off, and the status says why it cannot read
 * ({@link io.gyre.processing.ProcessorStatus#readFailure()}) and is not caught up: a health check built on the status
 * sees the problem. It once went on reporting every segment {@code LIVE} with no lag and {@code caughtUp()} true, with
 * the refusal only in a log line.
 */
class RestoreWhileProcessingTest {

    private ProcessingDatabase database;
    private JdbcEventStore store;
    private Gyre node;

    /** Counts handled events. */
    static final class Counter {
        final AtomicInteger handled = new AtomicInteger();

        @EventHandler
        void on(Numbered event, EventContext context) {
            handled.incrementAndGet();
        }
    }

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
        if (store != null) {
            store.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void a_processor_whose_database_is_restored_under_it_does_not_report_itself_live() throws Exception {
        database = ProcessingDatabase.onPostgres();
        store = database.eventStore();
        JdbcProcessingStore processing = database.processingStore();
        Counter counter = new Counter();
        node = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing).build())
                .processor(TrackingProcessor.named("counter").segments(2).pollInterval(Duration.ofMillis(50))
                        .handlers(counter))
                .start();
        for (int i = 0; i < 5; i++) {
            store.append(append("agg-" + i, ExpectedSequence.noStream(), "cmd-" + i, i));
        }
        Eventually.await(Duration.ofSeconds(30), () -> "handled " + counter.handled,
                () -> counter.handled.get() == 5 && node.processors().status("counter").caughtUp());

        try (Connection connection = database.dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("UPDATE " + database.tables().events() + " SET transaction_id = CAST(CAST(CAST(CAST("
                    + "pg_current_xact_id() AS text) AS bigint) + 1000 AS text) AS xid8)");
        }
        Thread.sleep(3_000); // several poll intervals and store checks
        // (Read after the wait: the store caches its check for a second, so a read right after the processor's last
        // check still returns nothing, without an error.)
        boolean refusedByStore;
        try {
            store.readAll(io.gyre.eventstore.TrackingToken.START, 10);
            refusedByStore = false;
        } catch (GlobalLogRestoredException e) {
            refusedByStore = true;
        }

        ProcessorStatus status = node.processors().status("counter");
        System.out.printf("%s: store refuses to read: %s; processor status 3 s later: caughtUp=%s, %s%n",
                getClass().getSimpleName(), refusedByStore, status.caughtUp(),
                status.segments().stream().map(s -> s.segment() + "=" + s.state() + " lag " + s.lagEvents()
                        + " failure " + s.failure()).toList() + ", read failure " + status.readFailure());
        assertThat(refusedByStore).as("the store itself refuses").isTrue();
        assertThat(status.caughtUp()).as("a processor that can no longer read reports itself caught up").isFalse();
        assertThat(status.readFailure()).as("the refusal shows in the processor's status").isNotNull();
        assertThat(status.readFailure().cause()).contains("GlobalLogRestoredException");
    }
}
