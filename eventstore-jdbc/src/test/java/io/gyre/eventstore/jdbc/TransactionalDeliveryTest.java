package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.Delivery;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.EventContext;
import io.gyre.processing.EventHandler;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.ProcessingTransaction;
import io.gyre.processing.ResetHandler;
import io.gyre.processing.SegmentState;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Numbered;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read model written through the processor's transaction: its writes and the token commit together, so a handler
 * that fails after writing leaves no trace, each event counts exactly once, a stale owner writes nothing, and a reset
 * rebuilds the same table. On H2 and on PostgreSQL.
 */
class TransactionalDeliveryTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /**
     * Balances per account, updated with a non-idempotent increment, so that any event applied twice would show.
     * Fails after writing when told to.
     */
    static final class Balances {
        private final String table;
        volatile Predicate<EventContext> failAfterWriting = context -> false;
        final AtomicInteger failures = new AtomicInteger();

        Balances(String table) {
            this.table = table;
        }

        @EventHandler
        void on(Numbered event, EventContext context, Connection connection) throws SQLException {
            String account = context.stream().aggregateId();
            try (PreparedStatement update = connection.prepareStatement("UPDATE " + table
                    + " SET balance = balance + ?, events = events + 1 WHERE account = ?")) {
                update.setLong(1, event.n());
                update.setString(2, account);
                if (update.executeUpdate() == 0) {
                    try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table
                            + " (account, balance, events) VALUES (?, ?, 1)")) {
                        insert.setString(1, account);
                        insert.setLong(2, event.n());
                        insert.executeUpdate();
                    }
                }
            }
            if (failAfterWriting.test(context)) {
                failures.incrementAndGet();
                throw new IllegalStateException("failing after writing " + context.stream() + " #"
                        + context.sequence());
            }
        }

        @ResetHandler
        void clear(Connection connection) throws SQLException {
            try (Statement delete = connection.createStatement()) {
                delete.executeUpdate("DELETE FROM " + table);
            }
        }
    }

    abstract static class Scenario {

        private ProcessingDatabase database;
        private JdbcEventStore store;
        private JdbcProcessingStore processing;
        private String table;
        private Gyre node;

        abstract ProcessingDatabase open(String readModelTable);

        private void start() throws SQLException {
            table = "rm" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "_balances";
            database = open(table);
            store = database.eventStore();
            processing = database.processingStore();
            try (Connection connection = database.dataSource().getConnection();
                 Statement create = connection.createStatement()) {
                create.execute("CREATE TABLE " + table + " (account VARCHAR(255) PRIMARY KEY, balance BIGINT NOT NULL,"
                        + " events BIGINT NOT NULL)");
            }
        }

        private Gyre node(Balances balances, ErrorPolicy policy) {
            node = Gyre.builder().sharedEventStore(store)
                    .processing(ProcessingSettings.builder().tokenStore(processing).build())
                    .processor(TrackingProcessor.named("balances").segments(4).threads(2).batchSize(25)
                            .pollInterval(Duration.ofMillis(20)).handlers(balances)
                            .delivery(Delivery.transactional(processing)).onError(policy))
                    .start();
            return node;
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

        /** Like {@link Eventually#await}, adding on PostgreSQL what every session was doing and waiting for. */
        private void awaitOrDiagnose(String description, java.util.function.BooleanSupplier condition) {
            try {
                Eventually.await(TIMEOUT, description, condition);
            } catch (AssertionError e) {
                if (!database.postgres()) {
                    throw e;
                }
                StringBuilder sessions = new StringBuilder("\nSessions:");
                try (Connection connection = database.dataSource().getConnection();
                     Statement query = connection.createStatement();
                     ResultSet rows = query.executeQuery("SELECT a.pid, a.state, a.wait_event_type, a.wait_event, "
                             + "a.backend_xid, a.backend_xmin, pg_blocking_pids(a.pid), a.xact_start, "
                             + "left(a.query, 160) FROM pg_stat_activity a WHERE a.backend_type = 'client backend'")) {
                    while (rows.next()) {
                        sessions.append("\n  pid ").append(rows.getInt(1)).append(' ').append(rows.getString(2))
                                .append(" wait ").append(rows.getString(3)).append('/').append(rows.getString(4))
                                .append(" xid ").append(rows.getString(5)).append(" xmin ").append(rows.getString(6))
                                .append(" blocked by ").append(rows.getString(7)).append(" since ")
                                .append(rows.getString(8)).append(": ").append(rows.getString(9));
                    }
                } catch (SQLException diagnosis) {
                    sessions.append(" could not be read: ").append(diagnosis);
                }
                throw new AssertionError(e.getMessage() + sessions, e);
            }
        }

        private Map<String, Balance> readModel() {
            Map<String, Balance> rows = new TreeMap<>();
            try (Connection connection = database.dataSource().getConnection();
                 Statement query = connection.createStatement();
                 ResultSet result = query.executeQuery("SELECT account, balance, events FROM " + table)) {
                while (result.next()) {
                    rows.put(result.getString(1), new Balance(result.getLong(2), result.getLong(3)));
                }
            } catch (SQLException e) {
                throw new IllegalStateException("Reading the read model failed", e);
            }
            return rows;
        }

        /** A balance and its event count. */
        record Balance(long balance, long events) {
        }

        private Map<String, Balance> expected(int aggregates) {
            Map<String, Balance> expected = new TreeMap<>();
            for (int a = 0; a < aggregates; a++) {
                long balance = 0;
                long events = 0;
                try (Stream<StoredEvent> stream = store.readStream(Events.stream("agg-" + a))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) stream::iterator) {
                        balance += Long.parseLong(event.payload().replaceAll("[^0-9]", ""));
                        events++;
                    }
                }
                if (events > 0) {
                    expected.put("agg-" + a, new Balance(balance, events));
                }
            }
            return expected;
        }

        private void appendMany(int count, int aggregates) {
            for (int i = 0; i < count; i++) {
                store.append(append("agg-" + (i % aggregates), ExpectedSequence.any(), "cmd-" + i, i));
            }
        }

        @Test
        void handlers_that_fail_after_writing_leave_no_trace_and_every_event_counts_exactly_once() throws Exception {
            start();
            Balances balances = new Balances(table);
            Set<String> failedOnce = ConcurrentHashMap.newKeySet();
            balances.failAfterWriting = context -> ThreadLocalRandom.current().nextInt(5) == 0
                    && failedOnce.add(context.eventId());
            node(balances, ErrorPolicy.builder().attempts(10).backoff(Duration.ofMillis(1), Duration.ofMillis(5))
                    .build());

            appendMany(400, 9);

            Eventually.await(TIMEOUT, () -> "the read model matches the log: " + node.processors().status("balances"),
                    () -> node.processors().status("balances").caughtUp() && readModel().equals(expected(9)));
            assertThat(balances.failures.get()).as("handlers failed after writing").isGreaterThan(20);
        }

        @Test
        void a_stale_owners_transaction_is_refused_by_the_database_and_its_writes_roll_back() throws Exception {
            start();
            processing.initialize("balances", 1);
            processing.claim("balances", 0, "node-a", 1);
            ProcessingTransaction stale = processing.begin();
            Connection connection = (Connection) stale.resource();
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table
                    + " (account, balance, events) VALUES ('written-by-a', 1, 1)")) {
                insert.executeUpdate();
            }

            processing.claim("balances", 0, "node-b", 2);
            try (stale) {
                assertThatThrownBy(() -> stale.updateToken("balances", 0, "node-a", 1, TrackingToken.at(5)))
                        .isInstanceOf(StaleSegmentOwnerException.class).hasMessageContaining("'node-b' at epoch 2");
            }

            assertThat(readModel()).as("node-a's write rolled back with its refused token").isEmpty();
            assertThat(processing.tokens("balances").get(0).token()).isEqualTo(TrackingToken.START);
            assertThatThrownBy(connection::commit).as("a handler cannot end the transaction itself")
                    .isInstanceOf(IllegalStateException.class);
        }

        @Test
        void a_reset_clears_the_table_in_the_same_transaction_as_the_tokens_and_the_replay_rebuilds_it()
                throws Exception {
            start();
            Balances balances = new Balances(table);
            node(balances, ErrorPolicy.stop());
            appendMany(300, 11);
            awaitOrDiagnose("built", () -> node.processors().status("balances").caughtUp()
                    && readModel().equals(expected(11)));
            Map<String, Balance> before = readModel();

            node.processors().reset("balances").join();

            awaitOrDiagnose("rebuilt", () -> node.processors().status("balances").caughtUp()
                    && readModel().equals(before));
            assertThat(readModel()).isEqualTo(expected(11));
        }

        @Test
        void a_stopped_segment_keeps_its_token_before_the_failing_event_and_resumes_there() throws Exception {
            start();
            Balances balances = new Balances(table);
            AtomicBoolean failing = new AtomicBoolean(true);
            balances.failAfterWriting = context -> failing.get() && context.stream().aggregateId().equals("agg-3")
                    && context.sequence() == 2;
            node(balances, ErrorPolicy.builder().attempts(2).backoff(Duration.ofMillis(1), Duration.ofMillis(1))
                    .build());
            appendMany(80, 8);

            awaitOrDiagnose("a segment stops", () -> node.processors().status("balances").segments()
                    .stream().anyMatch(segment -> segment.state() == SegmentState.STOPPED));
            var stopped = node.processors().status("balances").segments().stream()
                    .filter(segment -> segment.state() == SegmentState.STOPPED).findFirst().orElseThrow();
            assertThat(stopped.failure().sequence()).isEqualTo(2);
            assertThat(processing.tokens("balances").get(stopped.segment()).token())
                    .isLessThan(stopped.failure().token());
            assertThat(readModel().get("agg-3")).as("the failing event's write rolled back")
                    .isEqualTo(new Balance(3 + 11, 2));

            failing.set(false);
            node.processors().resume("balances");
            awaitOrDiagnose("resumed", () -> node.processors().status("balances").caughtUp()
                    && readModel().equals(expected(8)));
        }

        @Test
        void a_dead_lettered_event_and_its_aggregates_later_events_are_replayed_in_order_by_a_retry()
                throws Exception {
            start();
            Balances balances = new Balances(table);
            AtomicBoolean failing = new AtomicBoolean(true);
            balances.failAfterWriting = context -> failing.get() && context.stream().aggregateId().equals("agg-5")
                    && context.sequence() == 1;
            node(balances, ErrorPolicy.builder().attempts(2).backoff(Duration.ofMillis(1), Duration.ofMillis(1))
                    .then(ErrorPolicy.Action.DEAD_LETTER).build());
            appendMany(120, 6);

            Map<String, Balance> others = expected(6);
            others.put("agg-5", new Balance(5, 1));
            awaitOrDiagnose("every other event handled, agg-5's held back after its dead letter",
                    () -> processing.list("balances", segmentOf("agg-5")).size() == 19
                            && readModel().equals(others) && node.processors().status("balances").caughtUp());
            assertThat(processing.list("balances", segmentOf("agg-5"))).extracting(letter -> letter.event().sequence())
                    .containsExactlyElementsOf(java.util.stream.LongStream.range(1, 20).boxed().toList());

            failing.set(false);
            DeadLetterRetry retry = node.processors().retryDeadLetters("balances").join();

            assertThat(retry).isEqualTo(new DeadLetterRetry(19, 0));
            assertThat(readModel()).isEqualTo(expected(6));
            assertThat(processing.counts("balances")).isEmpty();
        }

        private int segmentOf(String aggregate) {
            return io.gyre.processing.TrackingProcessor.segmentOf(Events.TYPE, aggregate, 4);
        }
    }

    @Nested
    class OnH2 extends Scenario {
        @TempDir
        Path folder;

        @Override
        ProcessingDatabase open(String readModelTable) {
            return ProcessingDatabase.onH2(folder, readModelTable);
        }
    }

    @Nested
    class OnPostgres extends Scenario {
        @Override
        ProcessingDatabase open(String readModelTable) {
            return ProcessingDatabase.onPostgres(readModelTable);
        }
    }
}
