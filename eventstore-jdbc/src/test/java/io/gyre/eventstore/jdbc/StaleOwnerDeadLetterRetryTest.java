package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.Delivery;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (dead letters retried while the segment moved, transactional delivery, PostgreSQL):
 * the token store already gives the segment to another member (as after a view change this member has not seen yet:
 * a pause, a partition), and this member is asked to retry its dead letters. Every other write of a transactional
 * handler is fenced by the token update in its transaction; a retried dead letter's transaction carries no token
 * update ({@code SegmentDeadLetters.retryOne}), so the stale owner's retry commits its writes and removes the letter, while
 * the new owner, which loaded the same letters when it claimed the segment, may retry them too.
 */
class StaleOwnerDeadLetterRetryTest {

    private ProcessingDatabase database;
    private JdbcEventStore store;
    private String table;
    private Gyre node;

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
    void a_member_the_token_store_superseded_writes_nothing_when_it_retries_dead_letters() throws Exception {
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
        AtomicBoolean failing = new AtomicBoolean(true);
        balances.failAfterWriting = context -> failing.get() && context.stream().aggregateId().equals("agg-1");
        node = Gyre.builder().name("node-a").sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing).build())
                .processor(TrackingProcessor.named("balances").segments(1).pollInterval(Duration.ofMillis(20))
                        .handlers(balances).delivery(Delivery.transactional(processing))
                        .onError(ErrorPolicy.builder().attempts(1).then(ErrorPolicy.Action.DEAD_LETTER).build()))
                .start();
        store.append(append("agg-1", ExpectedSequence.noStream(), "cmd-1", 5));
        store.append(append("agg-2", ExpectedSequence.noStream(), "cmd-2", 7));
        Eventually.await(Duration.ofSeconds(30), () -> "agg-1 dead-lettered",
                () -> processing.counts("balances").getOrDefault(0, 0) == 1
                        && node.processors().status("balances").caughtUp());
        String owner = processing.tokens("balances").get(0).owner();
        long epoch = processing.tokens("balances").get(0).epoch();

        // Another member claims the segment in the token store, at a newer epoch.
        processing.claim("balances", 0, "node-b", epoch + 1);
        failing.set(false);
        DeadLetterRetry retry = node.processors().retryDeadLetters("balances").get(10, TimeUnit.SECONDS);

        long applied = eventsOf("agg-1");
        System.out.printf("%s: segment held by %s at %d, then claimed by node-b at %d; node-a's retry: %s; agg-1 rows"
                + " written: %d; letters left for node-b: %s%n", getClass().getSimpleName(), owner, epoch, epoch + 1,
                retry, applied, processing.counts("balances"));
        assertThat(applied).as("agg-1's event applied by the superseded member").isZero();
    }

    private long eventsOf(String account) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("SELECT events FROM " + table + " WHERE account = '" + account
                     + "'")) {
            return row.next() ? row.getLong(1) : 0;
        }
    }
}
