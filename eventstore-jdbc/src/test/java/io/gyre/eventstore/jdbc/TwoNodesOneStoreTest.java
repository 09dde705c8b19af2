package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes behind a load balancer with no routing at all, both caching aggregates, writing the same aggregates
 * through one database: the store's sequence check and the gateway's retry keep every stream exact. (The
 * distributed command bus removes the conflicts; this proves correctness never depended on it.)
 */
class TwoNodesOneStoreTest {

    abstract static class Scenario {

        private final List<AutoCloseable> resources = new ArrayList<>();

        abstract EventStore store();

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
        void commands_spread_over_two_nodes_at_random_leave_contiguous_streams_with_exact_totals() {
            EventStore store = store();
            Gyre[] nodes = new Gyre[2];
            for (int i = 0; i < nodes.length; i++) {
                nodes[i] = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
                closeLater(nodes[i]);
            }
            int counters = 10;
            for (int i = 0; i < counters; i++) {
                nodes[i % 2].commandGateway().sendAndWait(new CreateCounter("counter-" + i));
            }
            AtomicLongArray acknowledged = new AtomicLongArray(counters);
            SplittableRandom random = new SplittableRandom(42);
            List<CompletableFuture<Object>> sent = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                int counter = random.nextInt(counters);
                long amount = 1 + random.nextInt(100);
                sent.add(nodes[random.nextInt(2)].commandGateway().send(new Add("counter-" + counter, amount))
                        .thenApply(total -> acknowledged.addAndGet(counter, amount)));
            }
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();

            Set<String> commandIds = new HashSet<>();
            for (int i = 0; i < counters; i++) {
                List<StoredEvent> stream = store.readStream(StreamId.of("Counter", "counter-" + i)).toList();
                long sum = 0;
                for (int sequence = 0; sequence < stream.size(); sequence++) {
                    StoredEvent event = stream.get(sequence);
                    assertThat(event.sequence()).isEqualTo(sequence);
                    assertThat(commandIds.add(event.commandId())).as("each command stored once").isTrue();
                    if (nodes[0].serializer().deserialize(new SerializedValue(event.type(), event.payload()))
                            instanceof Added added) {
                        sum += added.amount();
                    }
                }
                assertThat(sum).as("counter-%d", i).isEqualTo(acknowledged.get(i));
                for (Gyre node : nodes) {
                    assertThat(node.commandGateway().<Long>sendAndWait(new Add("counter-" + i, 0)))
                            .as("state of counter-%d on each node", i).isEqualTo(acknowledged.get(i));
                }
            }
        }
    }

    @Nested
    class OnH2 extends Scenario {
        @TempDir
        Path folder;

        @Override
        EventStore store() {
            JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
            closeLater(store);
            return store;
        }
    }

    @Nested
    class OnPostgres extends Scenario {
        @Override
        EventStore store() {
            TableNames tables = JdbcFixtures.randomTables();
            JdbcEventStore store = JdbcEventStore.builder(PostgresServer.get().dataSource()).tableNames(tables)
                    .createSchema(true).build();
            closeLater(() -> JdbcFixtures.drop(PostgresServer.get().dataSource(), tables));
            closeLater(store);
            return store;
        }
    }
}
