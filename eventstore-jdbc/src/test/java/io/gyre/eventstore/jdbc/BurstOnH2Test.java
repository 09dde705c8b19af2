package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst far beyond the node's capacity on the embedded default store, sent from one thread without waiting:
 * nothing is refused for being early, and each aggregate stores its commands in exactly the order they were sent.
 */
class BurstOnH2Test {

    private static final int COMMANDS = 100_000;
    private static final int AGGREGATES = 50;

    @TempDir
    Path folder;

    @Test
    void a_hundred_thousand_async_sends_with_a_capacity_of_a_hundred_all_succeed_in_send_order() {
        JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).maxPendingCommands(100)
                .start()) {
            for (int a = 0; a < AGGREGATES; a++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + a));
            }
            List<CompletableFuture<Object>> sent = new ArrayList<>(COMMANDS);
            for (long i = 1; i <= COMMANDS; i++) {
                // A deadline that fits the burst on a slow machine: what is tested is waiting, not speed.
                sent.add(node.commandGateway().send(new Add("c" + (i % AGGREGATES), i), Metadata.empty(),
                        Duration.ofMinutes(15)));
            }
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
            long stored = 0;
            for (int a = 0; a < AGGREGATES; a++) {
                List<Long> amounts = new ArrayList<>();
                long sequence = 0;
                try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c" + a))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                        assertThat(event.sequence()).isEqualTo(sequence++);
                        Object payload = node.serializer().deserialize(new SerializedValue(event.type(),
                                event.payload()));
                        if (payload instanceof Added added) {
                            amounts.add(added.amount());
                        }
                    }
                }
                int aggregate = a;
                assertThat(amounts).as("c" + a).containsExactlyElementsOf(java.util.stream.LongStream
                        .rangeClosed(1, COMMANDS).filter(i -> i % AGGREGATES == aggregate).boxed().toList());
                stored += amounts.size();
            }
            assertThat(stored).isEqualTo(COMMANDS);
        } finally {
            store.close();
        }
    }
}
