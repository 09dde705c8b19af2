package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandNotExecutedException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import io.gyre.testmodel.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review of caller-runs with a handler that itself waits for another command ({@code sendAndWait} from inside a
 * handler), while its caller decides it on its own thread: to another aggregate it runs and both are stored once;
 * to its own aggregate it cannot run before the handler returns, and is then reported not executed at its deadline
 * and never stored (I8), while the outer command completes.
 */
class CallerRunsReentrancyReviewTest {

    @BeforeEach
    @AfterEach
    void resetProbe() {
        Probe.reset();
    }

    @Test
    void a_handler_that_waits_for_a_command_to_another_aggregate_gets_its_result_and_both_are_stored_once() {
        InMemoryEventStore store = new InMemoryEventStore();
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            node.commandGateway().sendAndWait(new CreateCounter("d"));
            warmUp(node, "c");
            warmUp(node, "d");
            AtomicReference<Object> inner = new AtomicReference<>();
            Probe.onHandle(message -> {
                if (message.payload() instanceof Add add && add.id().equals("c") && add.amount() == 1) {
                    inner.set(node.commandGateway().sendAndWait(new Add("d", 7), Duration.ofSeconds(20)));
                }
            });

            long total = node.commandGateway().sendAndWait(new Add("c", 1), Duration.ofSeconds(20));

            assertThat(total).isEqualTo(1);
            assertThat(inner.get()).isEqualTo(7L);
            assertThat(amounts(node, store, "c")).containsExactly(1L);
            assertThat(amounts(node, store, "d")).containsExactly(7L);
            assertThat(node.commandGateway().<Long>sendAndWait(new Add("d", 0))).isEqualTo(7);
        }
    }

    @Test
    void a_handler_that_waits_for_a_command_to_its_own_aggregate_is_told_it_was_not_executed_and_it_never_is()
            throws Exception {
        InMemoryEventStore store = new InMemoryEventStore();
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            warmUp(node, "c");
            AtomicReference<Throwable> inner = new AtomicReference<>();
            Probe.onHandle(message -> {
                if (message.payload() instanceof Add add && add.amount() == 1) {
                    try {
                        node.commandGateway().sendAndWait(new Add("c", 5), Duration.ofMillis(500));
                    } catch (RuntimeException e) {
                        inner.set(e);
                    }
                }
            });

            long total = node.commandGateway().sendAndWait(new Add("c", 1), Duration.ofSeconds(20));
            Probe.reset();
            // The inner command now reaches the head of the aggregate's queue, past its deadline.
            long after = node.commandGateway().sendAndWait(new Add("c", 0), Duration.ofSeconds(20));

            assertThat(total).isEqualTo(1);
            assertThat(inner.get()).isInstanceOf(CommandNotExecutedException.class);
            assertThat(after).as("the inner command never ran").isEqualTo(1);
            assertThat(amounts(node, store, "c")).as("non-zero additions stored").containsExactly(1L);
        }
    }

    /** Sends empty additions until the caller decides one itself: the aggregate is cached and idle. */
    private static void warmUp(Gyre node, String counter) {
        String caller = Thread.currentThread().getName();
        AtomicReference<String> decidedBy = new AtomicReference<>();
        Probe.onHandle(message -> decidedBy.set(Thread.currentThread().getName()));
        for (int i = 0; i < 50 && !caller.equals(decidedBy.get()); i++) {
            node.commandGateway().sendAndWait(new Add(counter, 0));
            if (!caller.equals(decidedBy.get())) {
                // A worker answers before it ends the aggregate's turn, so a sender that sends again at once finds
                // the turn still taken and goes to a worker again: 50 back to back all did so (41 ms, in a CI run).
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
        assertThat(decidedBy.get()).isEqualTo(caller);
        Probe.reset();
    }

    private static List<Long> amounts(Gyre node, InMemoryEventStore store, String counter) {
        List<Long> amounts = new ArrayList<>();
        try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", counter))) {
            events.forEach(event -> {
                Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                if (payload instanceof Added added && added.amount() != 0) {
                    amounts.add(added.amount());
                }
            });
        }
        return amounts;
    }
}
