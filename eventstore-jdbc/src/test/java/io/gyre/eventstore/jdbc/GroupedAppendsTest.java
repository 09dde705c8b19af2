package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.conformance.Events;
import io.gyre.serialization.SerializedValue;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit through the public API: appends that queue behind a busy transaction share the next one, and
 * each caller still gets exactly its own outcome. One append transaction at a time, and a first transaction
 * held open by the test, make the queue form for certain.
 */
class GroupedAppendsTest {

    abstract static class OnDatabase {

        private final List<AutoCloseable> resources = new ArrayList<>();
        private final ExecutorService callers = Executors.newCachedThreadPool();
        CommitControl control;
        JdbcEventStore store;

        private TestDatabase database;

        abstract TestDatabase createDatabase();

        private TestDatabase database() {
            if (database == null) {
                database = createDatabase();
                resources.add(0, database);
            }
            return database;
        }

        DataSource dataSource() {
            return database().dataSource();
        }

        TableNames tables() {
            return database().tables();
        }

        boolean postgres() {
            return database().postgres();
        }

        void open() {
            control = new CommitControl(dataSource(), tables().events());
            store = JdbcEventStore.builder(control).tableNames(tables()).createSchema(true).appendTransactions(1)
                    .build();
            resources.add(store);
        }

        @AfterEach
        void close() throws Exception {
            callers.shutdownNow();
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
        }

        @Test
        void appends_of_many_callers_are_all_stored_once_with_contiguous_streams() throws Exception {
            open();
            int threads = 16;
            int appendsEach = 40;
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String aggregate = "acc-" + t;
                writers.add(callers.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    for (int i = 0; i < appendsEach; i++) {
                        store.append(append(aggregate, i == 0 ? ExpectedSequence.noStream()
                                : ExpectedSequence.exactly(i - 1), UUID.randomUUID().toString(), "{}"));
                    }
                    return null;
                }));
            }
            for (Future<?> writer : writers) {
                writer.get(60, TimeUnit.SECONDS);
            }
            for (int t = 0; t < threads; t++) {
                assertThat(store.readStream(account("acc-" + t)).map(StoredEvent::sequence).toList())
                        .containsExactly(LongStream.range(0, appendsEach).boxed().toArray(Long[]::new));
            }
        }

        @Test
        void a_refused_append_fails_alone_and_the_others_of_its_group_are_stored() throws Exception {
            open();
            store.append(append("stale", ExpectedSequence.noStream(), "cmd-stale-0", "{}"));
            store.append(append("stale", ExpectedSequence.exactly(0), "cmd-stale-1", "{}"));
            store.append(append("resent", ExpectedSequence.noStream(), "cmd-resent", "{}"));

            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            Map<String, CompletableFuture<Object>> group = new LinkedHashMap<>();
            group.put("good-1", submit(append("good-1", ExpectedSequence.noStream(), "cmd-good-1", "{}")));
            group.put("stale", submit(append("stale", ExpectedSequence.exactly(0), "cmd-stale-2", "{}")));
            group.put("resent", submit(append("resent", ExpectedSequence.exactly(0), "cmd-resent", "{}")));
            group.put("good-2", submit(append("good-2", ExpectedSequence.noStream(), "cmd-good-2", "{}")));
            group.put("twice-a", submit(append("twice", ExpectedSequence.noStream(), "cmd-twice-a", "{}")));
            group.put("twice-b", submit(append("twice", ExpectedSequence.noStream(), "cmd-twice-b", "{}")));
            if (postgres()) {
                group.put("bad-json", submit(append("bad-json", ExpectedSequence.noStream(), "cmd-bad", "{no")));
            }
            awaitQueued(group.size());
            hold.release.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isNull();
            assertThat(group.get("good-1").get(10, TimeUnit.SECONDS)).isNull();
            assertThat(group.get("good-2").get(10, TimeUnit.SECONDS)).isNull();
            assertThat(failure(group.get("stale"))).isInstanceOfSatisfying(ConcurrencyConflictException.class,
                    conflict -> assertThat(conflict.actualSequence()).isEqualTo(1));
            assertThat(failure(group.get("resent"))).isInstanceOf(DuplicateCommandException.class);
            List<Throwable> twice = new ArrayList<>();
            for (String each : List.of("twice-a", "twice-b")) {
                try {
                    group.get(each).get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    twice.add(e.getCause());
                }
            }
            assertThat(twice).as("two first events of one aggregate: one stored, one refused").singleElement()
                    .isInstanceOf(ConcurrencyConflictException.class);
            assertThat(store.readStream(account("twice")).count()).isEqualTo(1);
            if (postgres()) {
                assertThat(failure(group.get("bad-json"))).isInstanceOf(EventRejectedException.class);
                assertThat(store.readStream(account("bad-json")).count()).isZero();
            }
            assertThat(store.readStream(account("good-1")).count()).isEqualTo(1);
            assertThat(store.readStream(account("good-2")).count()).isEqualTo(1);
            assertThat(store.readStream(account("stale")).count()).isEqualTo(2);
            assertThat(store.readStream(account("resent")).count()).isEqualTo(1);
        }

        @Test
        void a_database_failure_in_a_shared_transaction_fails_every_append_in_it_and_stores_none() throws Exception {
            open();
            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            List<CompletableFuture<Object>> group = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                group.add(submit(append("doomed-" + i, ExpectedSequence.noStream(), "cmd-" + i, "{}")));
            }
            awaitQueued(group.size());
            control.randomly(1.0, 0);
            hold.release.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isNull();
            for (CompletableFuture<Object> each : group) {
                assertThat(failure(each)).isInstanceOf(JdbcEventStoreException.class).hasMessageContaining("40001");
            }
            control.randomly(0, 0);
            for (int i = 0; i < 5; i++) {
                assertThat(store.readStream(account("doomed-" + i)).count()).isZero();
                store.append(append("doomed-" + i, ExpectedSequence.noStream(), "cmd-" + i, "{}"));
                assertThat(store.readStream(account("doomed-" + i)).count()).as("stored when sent again").isEqualTo(1);
            }
        }

        @Test
        void decisions_without_events_in_a_group_each_get_their_own_outcome() throws Exception {
            open();
            store.append(append("moved", ExpectedSequence.noStream(), "cmd-moved-0", "{}"));
            store.append(append("moved", ExpectedSequence.exactly(0), "cmd-moved-1", "{}"));
            store.append(append("still", ExpectedSequence.noStream(), "cmd-still-0", "{}"));
            store.append(Events.refusal(account("decided"), ExpectedSequence.noStream(), "cmd-twice", "first"));

            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            Map<String, CompletableFuture<Object>> group = new LinkedHashMap<>();
            group.put("refusal", submit(Events.refusal(account("still"), ExpectedSequence.exactly(0), "cmd-no",
                    "no")));
            group.put("result", submit(Events.noChange(account("fresh"), ExpectedSequence.noStream(), "cmd-query",
                    new SerializedValue("java.lang.Long", "0"))));
            group.put("moved", submit(Events.refusal(account("moved"), ExpectedSequence.exactly(0), "cmd-late",
                    "stale")));
            group.put("twice", submit(Events.refusal(account("decided"), ExpectedSequence.noStream(), "cmd-twice",
                    "second")));
            group.put("events", submit(append("good", ExpectedSequence.noStream(), "cmd-good", "{}")));
            awaitQueued(group.size());
            hold.release.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isNull();
            assertThat(group.get("refusal").get(10, TimeUnit.SECONDS)).isNull();
            assertThat(group.get("result").get(10, TimeUnit.SECONDS)).isNull();
            assertThat(group.get("events").get(10, TimeUnit.SECONDS)).isNull();
            assertThat(failure(group.get("moved"))).isInstanceOfSatisfying(ConcurrencyConflictException.class,
                    conflict -> assertThat(conflict.actualSequence()).isEqualTo(1));
            assertThat(failure(group.get("twice"))).isInstanceOfSatisfying(DuplicateCommandException.class,
                    duplicate -> assertThat(duplicate.stored().outcome())
                            .isEqualTo(new CommandOutcome.Refusal("com.example.InsufficientFunds", "first")));
            assertThat(store.findCommand(account("still"), "cmd-no")).isPresent();
            assertThat(store.findCommand(account("fresh"), "cmd-query")).isPresent();
            assertThat(store.findCommand(account("moved"), "cmd-late")).isEmpty();
            assertThat(store.readStream(account("good")).count()).isEqualTo(1);
            assertThat(store.readStream(account("still")).count()).isEqualTo(1);
        }

        @Test
        void a_group_of_64_with_one_stale_append_stores_63_in_one_transaction_and_refuses_the_stale_one_alone()
                throws Exception {
            open();
            store.append(append("stale", ExpectedSequence.noStream(), "cmd-stale-0", "{}"));
            store.append(append("stale", ExpectedSequence.exactly(0), "cmd-stale-1", "{}"));
            int before = control.commits();

            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            Map<String, CompletableFuture<Object>> group = new LinkedHashMap<>();
            for (int i = 0; i < 63; i++) {
                group.put("many-" + i, submit(append("many-" + i, ExpectedSequence.noStream(), "cmd-many-" + i, "{}")));
            }
            group.put("stale", submit(append("stale", ExpectedSequence.exactly(0), "cmd-stale-2", "{}")));
            awaitQueued(group.size());
            hold.release.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isNull();
            for (int i = 0; i < 63; i++) {
                assertThat(group.get("many-" + i).get(10, TimeUnit.SECONDS)).isNull();
            }
            assertThat(failure(group.get("stale"))).isInstanceOfSatisfying(ConcurrencyConflictException.class,
                    conflict -> {
                        assertThat(conflict.expectedSequence()).isZero();
                        assertThat(conflict.actualSequence()).isEqualTo(1);
                    });
            assertThat(control.commits() - before).as("transactions committed: the held one, then the group")
                    .isEqualTo(2);
            for (int i = 0; i < 63; i++) {
                assertThat(store.readStream(account("many-" + i)).count()).isEqualTo(1);
            }
            assertThat(store.readStream(account("stale")).map(StoredEvent::commandId).toList())
                    .containsExactly("cmd-stale-0", "cmd-stale-1");
            assertThat(store.findCommand(account("stale"), "cmd-stale-2")).isEmpty();
            if (postgres()) {
                assertThat(transactionsOf("many-%")).as("transactions that stored the 63").isEqualTo(1);
            }
        }

        @Test
        void a_group_of_64_with_one_append_the_database_refuses_stores_63_in_one_transaction() throws Exception {
            open();
            store.append(append("taken", ExpectedSequence.noStream(), "cmd-taken", "{}", "event-id-taken"));
            int before = control.commits();

            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            Map<String, CompletableFuture<Object>> group = new LinkedHashMap<>();
            for (int i = 0; i < 63; i++) {
                group.put("many-" + i, submit(append("many-" + i, ExpectedSequence.noStream(), "cmd-many-" + i, "{}")));
            }
            // Its statement fails on the unique event id, which aborts a PostgreSQL transaction.
            group.put("reused-event-id", submit(append("reused", ExpectedSequence.noStream(), "cmd-reused", "{}",
                    "event-id-taken")));
            awaitQueued(group.size());
            hold.release.countDown();

            assertThat(first.get(10, TimeUnit.SECONDS)).isNull();
            for (int i = 0; i < 63; i++) {
                assertThat(group.get("many-" + i).get(10, TimeUnit.SECONDS)).isNull();
            }
            assertThat(failure(group.get("reused-event-id"))).isInstanceOf(EventRejectedException.class)
                    .hasMessageContaining("event id");
            assertThat(control.commits() - before).as("transactions committed: the held one, then the group")
                    .isEqualTo(2);
            assertThat(store.readStream(account("reused")).count()).isZero();
            assertThat(store.findCommand(account("reused"), "cmd-reused")).isEmpty();
            for (int i = 0; i < 63; i++) {
                assertThat(store.readStream(account("many-" + i)).count()).isEqualTo(1);
            }
            if (postgres()) {
                assertThat(transactionsOf("many-%")).as("transactions that stored the 63").isEqualTo(1);
            }
        }

        long transactionsOf(String aggregatePattern) throws SQLException {
            try (Connection connection = dataSource().getConnection();
                 PreparedStatement query = connection.prepareStatement("SELECT COUNT(DISTINCT transaction_id) FROM "
                         + tables().events() + " WHERE aggregate_id LIKE ?")) {
                query.setString(1, aggregatePattern);
                try (ResultSet rows = query.executeQuery()) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        }

        CompletableFuture<Object> submit(AppendRequest request) {
            return CompletableFuture.supplyAsync(() -> {
                store.append(request);
                return null;
            }, callers);
        }

        /**
         * Waits until the callers are parked in {@code append} behind the held transaction: with one writer, busy
         * with it, they are queued for the next one.
         */
        void awaitQueued(int callersWaiting) throws InterruptedException {
            // The store's own count: a caller's thread can be parked inside append before its request is queued
            // (waiting for the queue's lock), so counting parked callers let the writer start with one missing.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                if (store.queuedAppends() >= callersWaiting) {
                    return;
                }
                Thread.sleep(5);
            }
            throw new AssertionError(callersWaiting + " callers never queued for the next transaction");
        }

        static Throwable failure(CompletableFuture<Object> append)
                throws InterruptedException, TimeoutException {
            try {
                append.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                return e.getCause();
            }
            throw new AssertionError("the append succeeded");
        }
    }

    @Nested
    class OnH2 extends OnDatabase {
        @TempDir
        Path folder;

        @Override
        TestDatabase createDatabase() {
            return TestDatabase.onH2(folder);
        }
    }

    @Nested
    class OnPostgres extends OnDatabase {
        @Override
        TestDatabase createDatabase() {
            return TestDatabase.onPostgres();
        }

        @Test
        void appends_that_queue_behind_a_busy_transaction_share_the_next_one() throws Exception {
            open();
            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            List<CompletableFuture<Object>> group = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                group.add(submit(append("queued-" + i, ExpectedSequence.noStream(), "cmd-queued-" + i, "{}")));
            }
            awaitQueued(group.size());
            hold.release.countDown();
            first.get(10, TimeUnit.SECONDS);
            for (CompletableFuture<Object> each : group) {
                each.get(10, TimeUnit.SECONDS);
            }
            assertThat(transactionsOf("queued-%")).as("transactions that stored the six queued appends")
                    .isEqualTo(1);
        }

        @Test
        void decisions_queued_behind_a_busy_transaction_share_the_next_one_even_when_one_finds_its_stream_moved()
                throws Exception {
            open();
            store.append(append("queued-moved", ExpectedSequence.noStream(), "cmd-moved-0", "{}"));
            store.append(append("queued-moved", ExpectedSequence.exactly(0), "cmd-moved-1", "{}"));
            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Object> first = submit(append("first", ExpectedSequence.noStream(), "cmd-first", "{}"));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            List<CompletableFuture<Object>> stored = new ArrayList<>();
            stored.add(submit(append("queued-0", ExpectedSequence.noStream(), "cmd-queued-0", "{}")));
            stored.add(submit(Events.refusal(account("queued-1"), ExpectedSequence.noStream(), "cmd-queued-1", "no")));
            stored.add(submit(append("queued-2", ExpectedSequence.noStream(), "cmd-queued-2", "{}")));
            stored.add(submit(Events.noChange(account("queued-3"), ExpectedSequence.noStream(), "cmd-queued-3",
                    null)));
            CompletableFuture<Object> moved = submit(Events.refusal(account("queued-moved"),
                    ExpectedSequence.exactly(0), "cmd-late", "stale"));
            awaitQueued(stored.size() + 1);
            hold.release.countDown();
            first.get(10, TimeUnit.SECONDS);
            for (CompletableFuture<Object> each : stored) {
                each.get(10, TimeUnit.SECONDS);
            }
            assertThat(failure(moved)).isInstanceOfSatisfying(ConcurrencyConflictException.class,
                    conflict -> assertThat(conflict.actualSequence()).isEqualTo(1));
            try (Connection connection = dataSource().getConnection();
                 PreparedStatement query = connection.prepareStatement("SELECT COUNT(DISTINCT t) FROM ("
                         + "SELECT CAST(transaction_id AS text) AS t FROM " + tables().events()
                         + " WHERE aggregate_id IN ('queued-0', 'queued-2') UNION ALL SELECT CAST(xmin AS text) FROM "
                         + tables().commands() + " WHERE command_id LIKE 'cmd-queued-%') AS written");
                 ResultSet rows = query.executeQuery()) {
                rows.next();
                assertThat(rows.getLong(1)).as("transactions that stored the four queued decisions").isEqualTo(1);
            }
        }
    }

    private static AppendRequest append(String aggregateId, ExpectedSequence expected, String commandId,
                                        String payload) {
        return append(aggregateId, expected, commandId, payload, UUID.randomUUID().toString());
    }

    private static AppendRequest append(String aggregateId, ExpectedSequence expected, String commandId,
                                        String payload, String eventId) {
        return AppendRequest.events(account(aggregateId), expected, commandId, List.of(
                new EventData(eventId, "Happened", payload, "{}", Instant.now())));
    }

    private static StreamId account(String aggregateId) {
        return StreamId.of("Account", aggregateId);
    }
}
