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
import io.gyre.processing.SegmentState;
import io.gyre.processing.TrackingProcessor;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of issue 14 (dead letters, transactional delivery, PostgreSQL): the dead-letter store fails
 * while a retry runs, here when the retried letter is removed, after the handler's transaction committed (a
 * database hiccup, a failover, a lock timeout). A retry in transactional mode commits the handler's writes in a
 * transaction of their own and removes the letter afterwards, outside it ({@code SegmentDeadLetters.retryOne} and
 * {@code retryLetters}); the failure then escapes the worker's command.
 *
 * <p>What the caller and the read model should see: the retry's future completes (with the letter still counted,
 * or exceptionally), and an event is applied once whatever the store did. What happens: see the assertions.
 */
class DeadLetterRetryFailureTest {

    private ProcessingDatabase database;
    private JdbcEventStore store;
    private JdbcProcessingStore processing;
    private String table;
    private Gyre node;

    @AfterEach
    void close() throws SQLException {
        if (node != null) {
            node.close();
        }
        if (database != null) {
            execute("DROP TRIGGER IF EXISTS refuse_delete ON " + database.deadLetterTable());
            execute("DROP FUNCTION IF EXISTS " + table + "_refuse()");
        }
        if (store != null) {
            store.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void a_store_failure_while_retrying_a_dead_letter_completes_the_retry_and_applies_the_event_once()
            throws Exception {
        table = "rm" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "_balances";
        database = ProcessingDatabase.onPostgres(table);
        store = database.eventStore();
        processing = database.processingStore();
        execute("CREATE TABLE " + table + " (account VARCHAR(255) PRIMARY KEY, balance BIGINT NOT NULL,"
                + " events BIGINT NOT NULL)");
        TransactionalDeliveryTest.Balances balances = new TransactionalDeliveryTest.Balances(table);
        AtomicBoolean failing = new AtomicBoolean(true);
        balances.failAfterWriting = context -> failing.get() && context.stream().aggregateId().equals("agg-1")
                && context.sequence() == 0;
        node = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing).build())
                .processor(TrackingProcessor.named("balances").segments(2).batchSize(25)
                        .pollInterval(Duration.ofMillis(20)).handlers(balances)
                        .delivery(Delivery.transactional(processing))
                        .onError(ErrorPolicy.builder().attempts(1).then(ErrorPolicy.Action.DEAD_LETTER).build()))
                .start();
        for (int i = 0; i < 6; i++) {
            store.append(append("agg-" + (i % 3), ExpectedSequence.any(), "cmd-" + i, 10 + i));
        }
        Eventually.await(Duration.ofSeconds(30), () -> "agg-1 #0 dead-lettered",
                () -> !processing.counts("balances").isEmpty() && node.processors().status("balances").caughtUp());

        // The dead-letter table refuses deletes: the letter cannot be removed after its retry commits.
        execute("CREATE FUNCTION " + table + "_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " RAISE EXCEPTION 'dead letters are read-only for a moment'; END $$");
        execute("CREATE TRIGGER refuse_delete BEFORE DELETE ON " + database.deadLetterTable()
                + " FOR EACH ROW EXECUTE FUNCTION " + table + "_refuse()");
        failing.set(false);
        CompletableFuture<DeadLetterRetry> retry = node.processors().retryDeadLetters("balances");
        String outcome;
        try {
            outcome = "completed with " + retry.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            outcome = "not completed after 10 s";
        } catch (java.util.concurrent.ExecutionException e) {
            outcome = "failed with " + e.getCause();
        }
        long appliedAfterFirstRetry = eventsOf("agg-1");
        var states = node.processors().status("balances").segments().stream().map(s -> s.state()).toList();

        // The store works again; an operator resumes stopped segments and retries again.
        execute("DROP TRIGGER refuse_delete ON " + database.deadLetterTable());
        node.processors().resume("balances");
        DeadLetterRetry second = node.processors().retryDeadLetters("balances").get(10, TimeUnit.SECONDS);
        Thread.sleep(500);
        long appliedAtEnd = eventsOf("agg-1");
        System.out.printf("%s: first retry %s; segments then %s; agg-1 events applied after it %d; second retry %s;"
                + " agg-1 events applied at the end %d (stored: 2)%n", getClass().getSimpleName(), outcome, states,
                appliedAfterFirstRetry, second, appliedAtEnd);

        assertThat(outcome).as("the first retry's future").doesNotStartWith("not completed");
        assertThat(states).as("segments after a failed retry").doesNotContain(SegmentState.STOPPED);
        assertThat(appliedAtEnd).as("agg-1's events applied to the read model (it has 2)").isEqualTo(2);
    }

    private long eventsOf(String account) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("SELECT events FROM " + table + " WHERE account = '" + account
                     + "'")) {
            return row.next() ? row.getLong(1) : 0;
        }
    }

    private void execute(String sql) throws SQLException {
        try (Connection connection = database.dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
