package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.Delivery;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentState;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Numbered;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (transactional delivery on PostgreSQL, a handler that swallows an SQL error): the
 * common "insert, and on a duplicate key update instead" written with a caught exception works on H2, but on
 * PostgreSQL the failed statement aborts the whole transaction; the handler returns normally and the processor's
 * token update then fails ("current transaction is aborted"). That failure is treated as the infrastructure's
 * ({@code SegmentWorker.handleInTransaction} catch, {@code infrastructureFailed}): the turn is retried every second,
 * for ever, the error policy never applies, and the segment's status shows no failure.
 */
class AbortedHandlerTransactionTest {

    private ProcessingDatabase database;
    private JdbcEventStore store;
    private Gyre node;
    private String table;

    /** Upserts by catching the duplicate key, the H2 way. */
    final class Upserts {
        final AtomicInteger calls = new AtomicInteger();

        @EventHandler
        void on(Numbered event, EventContext context, Connection connection) throws SQLException {
            calls.incrementAndGet();
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table
                    + " (account, balance, events) VALUES (?, ?, 1)")) {
                insert.setString(1, context.stream().aggregateId());
                insert.setLong(2, event.n());
                insert.executeUpdate();
            } catch (SQLException duplicate) {
                // Exists: fall through to the update (PostgreSQL has aborted the transaction by now).
                try (PreparedStatement update = connection.prepareStatement("UPDATE " + table
                        + " SET balance = balance + ?, events = events + 1 WHERE account = ?")) {
                    update.setLong(1, event.n());
                    update.setString(2, context.stream().aggregateId());
                    update.executeUpdate();
                } catch (SQLException aborted) {
                    // Swallowed too, as a careless handler would.
                }
            }
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
    @Disabled("bug: a handler that leaves its PostgreSQL transaction aborted makes the token update fail, which is"
            + " retried every second for ever as an infrastructure failure: no error policy, no failure in the status")
    void a_handler_that_aborts_its_transaction_meets_the_error_policy() throws Exception {
        table = "rm" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "_balances";
        database = ProcessingDatabase.onPostgres(table);
        store = database.eventStore();
        JdbcProcessingStore processing = database.processingStore();
        try (Connection connection = database.dataSource().getConnection();
             Statement create = connection.createStatement()) {
            create.execute("CREATE TABLE " + table + " (account VARCHAR(255) PRIMARY KEY, balance BIGINT NOT NULL,"
                    + " events BIGINT NOT NULL)");
        }
        Upserts upserts = new Upserts();
        node = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing).build())
                .processor(TrackingProcessor.named("balances").segments(1).pollInterval(Duration.ofMillis(20))
                        .handlers(upserts).delivery(Delivery.transactional(processing))
                        .onError(ErrorPolicy.builder().attempts(3).backoff(Duration.ofMillis(10),
                                Duration.ofMillis(10)).build()))
                .start();
        store.append(append("agg-1", ExpectedSequence.noStream(), "c1", 1));
        Eventually.await(Duration.ofSeconds(20), () -> "first event", () -> node.processors().status("balances")
                .caughtUp());
        store.append(append("agg-1", ExpectedSequence.any(), "c2", 2)); // the duplicate key: the transaction aborts

        Thread.sleep(8_000);
        ProcessorStatus status = node.processors().status("balances");
        System.out.printf("%s: 8 s after the aborting event: handler called %d times; segment %s, failure %s%n",
                getClass().getSimpleName(), upserts.calls.get(), status.segment(0).state(),
                status.segment(0).failure() == null ? null : status.segment(0).failure().cause());
        assertThat(status.segment(0).state()).as("the error policy (3 attempts, then stop) applied")
                .isEqualTo(SegmentState.STOPPED);
    }
}
