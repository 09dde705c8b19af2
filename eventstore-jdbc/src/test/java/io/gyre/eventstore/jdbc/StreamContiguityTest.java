package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams stay contiguous when several store instances write one database, each knowing a different part of a
 * stream: a writer ahead of the stream is refused whether its store has appended, read or never seen the
 * aggregate, and a writer behind it conflicts on the unique key. Nor does a stream get a gap when committed
 * events are lost behind the store's back (a fail-over to a replica that lagged, a restore, a crash with
 * synchronous_commit off), since no store trusts what it remembers of a stream.
 */
class StreamContiguityTest {

    abstract static class OnDatabase {

        private final List<AutoCloseable> resources = new ArrayList<>();

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

        JdbcEventStore open() {
            JdbcEventStore store = JdbcEventStore.builder(dataSource()).tableNames(tables()).createSchema(true).build();
            resources.add(store);
            return store;
        }

        void closeLater(AutoCloseable resource) {
            resources.add(resource);
        }

        @AfterEach
        void close() throws Exception {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
        }

        @Test
        void a_writer_ahead_of_the_stream_is_refused_however_its_store_knows_the_stream() {
            JdbcEventStore writer = open();
            JdbcEventStore reader = open();
            JdbcEventStore stranger = open();
            writer.append(append("acc", ExpectedSequence.noStream(), 3));
            assertThat(reader.readStream(StreamId.of("Account", "acc")).count()).isEqualTo(3);

            // The writer appended up to 2, the reader read up to 2, the stranger has never seen the stream.
            for (JdbcEventStore store : List.of(writer, reader, stranger)) {
                assertThatThrownBy(() -> store.append(append("acc", ExpectedSequence.exactly(3), 1)))
                        .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                            assertThat(conflict.expectedSequence()).isEqualTo(3);
                            assertThat(conflict.actualSequence()).isEqualTo(2);
                        });
            }
            assertThat(sequences(stranger, "acc")).containsExactly(0L, 1L, 2L);
        }

        @Test
        void an_append_after_a_lost_tail_is_refused_and_the_stream_stays_contiguous() throws Exception {
            JdbcEventStore store = open();
            StreamId acc = StreamId.of("Account", "acc");
            for (int i = 0; i < 3; i++) {
                store.append(append("acc", i == 0 ? ExpectedSequence.noStream() : ExpectedSequence.exactly(i - 1),
                        1, "cmd-" + i));
            }
            assertThat(sequences(store, "acc")).containsExactly(0L, 1L, 2L);

            // The commit of event 2 is lost, as after a fail-over to a replica that had not received it; the pool
            // reconnects without the store seeing any error.
            loseTheCommitOf(acc, "cmd-2");
            if (dataSource() instanceof com.zaxxer.hikari.HikariDataSource pool) {
                pool.getHikariPoolMXBean().softEvictConnections();
            }

            // The store appended event 2 itself, and still expecting it is refused.
            assertThatThrownBy(() -> store.append(append("acc", ExpectedSequence.exactly(2), 1, "cmd-3")))
                    .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                        assertThat(conflict.expectedSequence()).isEqualTo(2);
                        assertThat(conflict.actualSequence()).isEqualTo(1);
                    });
            assertThatThrownBy(() -> store.append(new AppendRequest(acc, ExpectedSequence.exactly(2), "cmd-refused",
                    List.of(), new io.gyre.eventstore.CommandOutcome.Refusal("com.example.Closed", "closed"))))
                    .as("a decision without events, too").isInstanceOf(ConcurrencyConflictException.class);
            assertThat(sequences(store, "acc")).containsExactly(0L, 1L);
            assertThat(store.findCommand(acc, "cmd-3")).isEmpty();

            // Reloaded, the aggregate decides on what is really stored, and its stream goes on without a gap.
            store.append(append("acc", ExpectedSequence.exactly(1), 1, "cmd-3"));
            assertThat(sequences(open(), "acc")).containsExactly(0L, 1L, 2L);
        }

        @Test
        void appends_queued_together_after_a_lost_tail_are_each_refused_or_stored_on_what_is_stored()
                throws Exception {
            JdbcEventStore store = open();
            int streams = 16;
            for (int s = 0; s < streams; s++) {
                store.append(append("acc-" + s, ExpectedSequence.noStream(), 2, "cmd-" + s + "-0"));
            }
            // Every other stream loses its only commit.
            for (int s = 0; s < streams; s += 2) {
                loseTheCommitOf(StreamId.of("Account", "acc-" + s), "cmd-" + s + "-0");
            }
            List<java.util.concurrent.Callable<Object>> writers = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                String aggregate = "acc-" + s;
                writers.add(() -> {
                    store.append(append(aggregate, ExpectedSequence.exactly(1), 1, aggregate + "-next"));
                    return null;
                });
            }
            java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(streams);
            try {
                List<java.util.concurrent.Future<Object>> outcomes = callers.invokeAll(writers);
                for (int s = 0; s < streams; s++) {
                    java.util.concurrent.Future<Object> outcome = outcomes.get(s);
                    if (s % 2 == 0) {
                        assertThatThrownBy(outcome::get).as("acc-" + s)
                                .hasCauseInstanceOf(ConcurrencyConflictException.class);
                        assertThat(sequences(store, "acc-" + s)).as("acc-" + s).isEmpty();
                    } else {
                        assertThat(outcome.get()).isNull();
                        assertThat(sequences(store, "acc-" + s)).as("acc-" + s).containsExactly(0L, 1L, 2L);
                    }
                }
            } finally {
                callers.shutdownNow();
            }
        }

        /** Deletes what one command stored, behind the store's back. */
        void loseTheCommitOf(StreamId stream, String commandId) throws java.sql.SQLException {
            try (java.sql.Connection connection = dataSource().getConnection()) {
                for (String table : List.of(tables().events(), tables().commands())) {
                    try (java.sql.PreparedStatement delete = connection.prepareStatement("DELETE FROM " + table
                            + " WHERE aggregate_type = ? AND aggregate_id = ? AND command_id = ?")) {
                        delete.setString(1, stream.aggregateType());
                        delete.setString(2, stream.aggregateId());
                        delete.setString(3, commandId);
                        assertThat(delete.executeUpdate()).as("rows of %s in %s", commandId, table).isPositive();
                    }
                }
            }
        }

        @Test
        void a_writer_behind_the_stream_conflicts_even_though_its_store_remembers_the_event_it_expects() {
            JdbcEventStore first = open();
            JdbcEventStore second = open();
            first.append(append("acc", ExpectedSequence.noStream(), 1));
            second.append(append("acc", ExpectedSequence.exactly(0), 2));
            // first still remembers 0 as the last event it wrote; the stream has moved on to 2.
            assertThatThrownBy(() -> first.append(append("acc", ExpectedSequence.exactly(0), 1)))
                    .isInstanceOfSatisfying(ConcurrencyConflictException.class, conflict -> {
                        assertThat(conflict.expectedSequence()).isEqualTo(0);
                        assertThat(conflict.actualSequence()).isEqualTo(2);
                    });
            first.append(append("acc", ExpectedSequence.exactly(2), 1));
            assertThat(sequences(second, "acc")).containsExactly(0L, 1L, 2L, 3L);
        }

        @Test
        void an_append_that_rolled_back_teaches_its_store_nothing() {
            CommitControl control = new CommitControl(dataSource(), tables().events());
            JdbcEventStore store = JdbcEventStore.builder(control).tableNames(tables()).createSchema(true).build();
            closeLater(store);
            control.randomly(1.0, 0);
            assertThatThrownBy(() -> store.append(append("acc", ExpectedSequence.noStream(), 1)))
                    .isInstanceOf(JdbcEventStoreException.class);
            control.randomly(0, 0);
            assertThatThrownBy(() -> store.append(append("acc", ExpectedSequence.exactly(0), 1)))
                    .isInstanceOfSatisfying(ConcurrencyConflictException.class,
                            conflict -> assertThat(conflict.actualSequence()).isEqualTo(-1));
            assertThat(sequences(store, "acc")).isEmpty();
        }

        @Test
        void stores_that_each_know_a_different_part_of_a_stream_interleave_without_gaps() {
            JdbcEventStore[] stores = {open(), open(), open()};
            long[] known = new long[stores.length];
            java.util.Arrays.fill(known, -1);
            long last = -1;
            java.util.SplittableRandom random = new java.util.SplittableRandom(7);
            for (int i = 0; i < 300; i++) {
                int s = random.nextInt(stores.length);
                // Half the time a store writes at what it last knew, which may be stale; else a guess ahead.
                long expected = random.nextBoolean() ? known[s] : last + 1 + random.nextInt(3);
                try {
                    stores[s].append(append("acc", expected < 0 ? ExpectedSequence.noStream()
                            : ExpectedSequence.exactly(expected), 1));
                    assertThat(expected).isEqualTo(last);
                    last++;
                    known[s] = last;
                } catch (ConcurrencyConflictException conflict) {
                    assertThat(expected).isNotEqualTo(last);
                    assertThat(conflict.actualSequence()).isEqualTo(last);
                    known[s] = conflict.actualSequence();
                }
            }
            assertThat(sequences(stores[0], "acc")).containsExactly(LongStream.rangeClosed(0, last).boxed()
                    .toArray(Long[]::new));
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
    }

    private static AppendRequest append(String aggregateId, ExpectedSequence expected, int events) {
        return append(aggregateId, expected, events, UUID.randomUUID().toString());
    }

    private static AppendRequest append(String aggregateId, ExpectedSequence expected, int events,
                                        String commandId) {
        List<EventData> data = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            data.add(new EventData(UUID.randomUUID().toString(), "Happened", "{\"n\":" + i + "}", "{}",
                    Instant.now()));
        }
        return AppendRequest.events(StreamId.of("Account", aggregateId), expected, commandId, data);
    }

    private static List<Long> sequences(JdbcEventStore store, String aggregateId) {
        return store.readStream(StreamId.of("Account", aggregateId)).map(StoredEvent::sequence).toList();
    }
}
