package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands decided by a worker and appended by the store's writers ({@code appendAsync}), on H2 and PostgreSQL: a
 * single worker keeps many appends in flight, each aggregate still stores its commands in send order, and closing
 * the store leaves no append without an outcome.
 */
class AsyncAppendsTest {

    private static final long TIMEOUT_SECONDS = 60;

    abstract static class OnDatabase {

        private TestDatabase database;
        private final List<AutoCloseable> resources = new ArrayList<>();

        abstract TestDatabase createDatabase();

        @AfterEach
        void closeAll() throws Exception {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
            if (database != null) {
                database.close();
            }
        }

        JdbcEventStore open() {
            if (database == null) {
                database = createDatabase();
            }
            JdbcEventStore store = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables())
                    .createSchema(true).build();
            resources.add(store);
            return store;
        }

        @Test
        void one_worker_keeps_many_appends_in_flight_and_each_aggregate_stores_its_commands_in_send_order() {
            int aggregates = 64;
            int perAggregate = 20;
            JdbcEventStore store = open();
            InFlight counted = new InFlight(store);
            try (Gyre node = Gyre.builder().sharedEventStore(counted).aggregate(Counter.class).workers(1)
                    .maxPendingCommands(256).start()) {
                for (int a = 0; a < aggregates; a++) {
                    node.commandGateway().sendAndWait(new CreateCounter("c" + a));
                }
                List<CompletableFuture<Object>> sent = new ArrayList<>();
                for (long i = 1; i <= perAggregate; i++) {
                    for (int a = 0; a < aggregates; a++) {
                        sent.add(node.commandGateway().send(new Add("c" + a, i), Metadata.empty(),
                                Duration.ofMinutes(5)));
                    }
                }
                CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
                for (int a = 0; a < aggregates; a++) {
                    assertThat(amounts(node, store, "c" + a)).as("c" + a)
                            .containsExactlyElementsOf(LongStream.rangeClosed(1, perAggregate).boxed().toList());
                }
            }
            assertThat(counted.most.get()).as("appends in flight at once with one worker").isGreaterThan(1);
        }

        @Test
        void closing_the_store_with_appends_queued_gives_each_an_outcome_and_stores_exactly_the_successful_ones()
                throws Exception {
            JdbcEventStore store = open();
            List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                appends.add(store.appendAsync(append("s" + i)));
            }
            resources.remove(store);
            store.close();

            JdbcEventStore reopened = open();
            int stored = 0;
            for (int i = 0; i < appends.size(); i++) {
                CompletableFuture<AppendResult> each = appends.get(i);
                assertThat(each).as("append " + i + " has an outcome once the store is closed").isDone();
                long last = reopened.lastSequence(StreamId.of("Closing", "s" + i));
                if (each.isCompletedExceptionally()) {
                    assertThat(each).failsWithin(Duration.ZERO).withThrowableOfType(Exception.class)
                            .havingCause().isInstanceOf(EventStoreException.class)
                            .withMessageContaining("not stored, the event store is closed");
                    assertThat(last).isEqualTo(-1);
                } else {
                    stored++;
                    assertThat(last).isEqualTo(0);
                }
            }
            assertThat(stored).as("the queue was written before the store closed").isEqualTo(appends.size());
            assertThat(reopened.appendAsync(append("after")).get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
                    .isEqualTo(new AppendResult(0, 0));
            assertThat(store.appendAsync(append("closed"))).failsWithin(Duration.ofSeconds(TIMEOUT_SECONDS))
                    .withThrowableOfType(Exception.class).havingCause()
                    .withMessageContaining("not stored, the event store is closed");
        }

        private static AppendRequest append(String id) {
            return AppendRequest.events(StreamId.of("Closing", id), ExpectedSequence.noStream(),
                    UUID.randomUUID().toString(), List.of(new EventData(UUID.randomUUID().toString(), "Numbered",
                            "{\"n\":1}", "{}", Instant.now(), 0)));
        }

        private static List<Long> amounts(Gyre node, JdbcEventStore store, String counter) {
            List<Long> amounts = new ArrayList<>();
            long sequence = 0;
            try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", counter))) {
                for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                    assertThat(event.sequence()).isEqualTo(sequence++);
                    Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                    if (payload instanceof Added added) {
                        amounts.add(added.amount());
                    }
                }
            }
            return amounts;
        }
    }

    /** Counts the appends handed to the store and not completed yet, and the most at once. */
    static final class InFlight extends ForwardingEventStore {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();

        InFlight(JdbcEventStore delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            most.accumulateAndGet(now.incrementAndGet(), Math::max);
            return super.appendAsync(request).whenComplete((result, failure) -> now.decrementAndGet());
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
}
