package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.Delivery;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.Eventually;
import io.gyre.processing.LocalSegmentOwnership;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.SegmentState;
import io.gyre.processing.TrackingProcessor;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (transactional delivery, dead letters, a segment that moves, PostgreSQL): node-a
 * keeps failing an event that node-b would handle (a dependency unreachable from node-a only) and retries it with
 * back-off; meanwhile node-b takes the segment over at a newer epoch and handles the event. When node-a's attempts
 * are used up, it adds the event to the dead-letter table: that write is not fenced (only the token update after it
 * is), so a superseded owner leaves a dead letter for an event the segment's real owner has applied. A later retry
 * of dead letters, on node-b, applies it a second time.
 *
 * <p>Two nodes in one JVM on one database, each running alone ({@link LocalSegmentOwnership}): node-b starts later,
 * so its epoch (its start in milliseconds) outranks node-a's, as a newer view's would.
 */
class StaleOwnerDeadLetterTest {

    private ProcessingDatabase database;
    private JdbcEventStore store;
    private String table;
    private Gyre nodeA;
    private Gyre nodeB;

    @AfterEach
    void close() {
        for (Gyre node : new Gyre[] {nodeA, nodeB}) {
            if (node != null) {
                node.close();
            }
        }
        if (store != null) {
            store.close();
        }
        if (database != null) {
            database.close();
        }
    }

    private Gyre node(String name, JdbcProcessingStore processing, TransactionalDeliveryTest.Balances balances) {
        return Gyre.builder().name(name).sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing)
                        .segmentOwnership(new LocalSegmentOwnership(name, Clock.systemUTC())).build())
                .processor(TrackingProcessor.named("balances").segments(1).pollInterval(Duration.ofMillis(20))
                        .handlers(balances).delivery(Delivery.transactional(processing))
                        .onError(ErrorPolicy.builder().attempts(4).backoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
                                .then(ErrorPolicy.Action.DEAD_LETTER).build()))
                .start();
    }

    @Test
    void an_event_the_new_owner_applied_is_not_left_as_a_dead_letter_by_the_old_owner() throws Exception {
        table = "rm" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "_balances";
        database = ProcessingDatabase.onPostgres(table);
        store = database.eventStore();
        JdbcProcessingStore processing = database.processingStore();
        try (Connection connection = database.dataSource().getConnection();
             Statement create = connection.createStatement()) {
            create.execute("CREATE TABLE " + table + " (account VARCHAR(255) PRIMARY KEY, balance BIGINT NOT NULL,"
                    + " events BIGINT NOT NULL)");
        }
        TransactionalDeliveryTest.Balances balances = new TransactionalDeliveryTest.Balances(table);
        balances.failAfterWriting = context -> Thread.currentThread().getName().startsWith("node-a-")
                && context.stream().aggregateId().equals("agg-1");
        nodeA = node("node-a", processing, balances);
        store.append(append("agg-1", ExpectedSequence.noStream(), "cmd-1", 5));
        Eventually.await(Duration.ofSeconds(30), () -> "node-a retries agg-1",
                () -> nodeA.processors().status("balances").segment(0).state() == SegmentState.RETRYING);

        Thread.sleep(5);
        nodeB = node("node-b", processing, balances);
        Eventually.await(Duration.ofSeconds(30), () -> "node-b applied agg-1", () -> eventsOf("agg-1") == 1);
        Eventually.await(Duration.ofSeconds(30), () -> "node-a gave up: " + nodeA.processors().status("balances"),
                () -> nodeA.processors().status("balances").segment(0).state() == SegmentState.FENCED);
        int letters = processing.counts("balances").getOrDefault(0, 0);

        DeadLetterRetry retry = nodeB.processors().retryDeadLetters("balances").get(10, TimeUnit.SECONDS);
        long applied = eventsOf("agg-1");
        System.out.printf("%s: dead letters after node-a gave up: %d; node-b's retry: %s; agg-1 applied %d times (it has"
                + " 1 event)%n", getClass().getSimpleName(), letters, retry, applied);
        assertThat(applied).as("agg-1's one event applied").isEqualTo(1);
    }

    private long eventsOf(String account) {
        try (Connection connection = database.dataSource().getConnection();
             Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("SELECT events FROM " + table + " WHERE account = '" + account
                     + "'")) {
            return row.next() ? row.getLong(1) : 0;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
