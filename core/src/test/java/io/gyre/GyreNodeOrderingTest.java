package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.testing.AggregateFixture;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GyreNodeOrderingTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(8).start();

    @AfterEach
    void stop() {
        node.close();
    }

    @Test
    void sequential_commands_of_one_client_apply_in_the_order_sent() {
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        for (long i = 1; i <= 300; i++) {
            node.commandGateway().sendAndWait(new Add("c", i));
        }
        assertThat(amountsOf("c")).containsExactlyElementsOf(LongStream.rangeClosed(1, 300).boxed().toList());
    }

    @Test
    void commands_sent_without_waiting_still_run_in_arrival_order_per_aggregate() {
        node.commandGateway().sendAndWait(new CreateCounter("a"));
        node.commandGateway().sendAndWait(new CreateCounter("b"));
        List<CompletableFuture<Object>> sent = new ArrayList<>();
        for (long i = 1; i <= 2_000; i++) {
            sent.add(node.commandGateway().send(new Add(i % 2 == 0 ? "a" : "b", i)));
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
        assertThat(amountsOf("a")).isSorted().hasSize(1_000);
        assertThat(amountsOf("b")).isSorted().hasSize(1_000);
    }

    private List<Long> amountsOf(String id) {
        List<Long> amounts = new ArrayList<>();
        store.readStream(StreamId.of("Counter", id)).forEach(event -> {
            Object payload = node.serializer().deserialize(
                    new io.gyre.serialization.SerializedValue(event.type(), event.payload()));
            if (payload instanceof io.gyre.testmodel.CounterEvents.Added added) {
                amounts.add(added.amount());
            }
        });
        return amounts;
    }

    @Test
    void the_fixture_sees_the_same_order() {
        AggregateFixture.of(Counter.class)
                .given(new io.gyre.testmodel.CounterEvents.CounterCreated("c"),
                        new io.gyre.testmodel.CounterEvents.Added("c", 1))
                .when(new Add("c", 2))
                .expectEvents(new io.gyre.testmodel.CounterEvents.Added("c", 2))
                .expectState(counter -> assertThat(counter.amounts()).containsExactly(1L, 2L));
    }
}
