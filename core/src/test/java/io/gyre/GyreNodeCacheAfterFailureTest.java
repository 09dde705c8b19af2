package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.gyre.command.CommandMessage;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddAtMost;
import io.gyre.testmodel.CounterCommands.AddThenFail;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A command that failed without applying an event leaves its aggregate as it was, so the node keeps it loaded: a
 * business refusal costs no replay of the stream on the next command. An aggregate whose state may be dirty (an
 * event applied before the handler threw, an append that failed) is dropped and loaded again. Loads are counted
 * as reads of the aggregate's stream.
 */
class GyreNodeCacheAfterFailureTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final StreamId COUNTER = StreamId.of("Counter", "c");

    private final CountsLoads store = new CountsLoads(new InMemoryEventStore());
    private Gyre node;

    @BeforeEach
    void start() {
        node = startNode();
        node.commandGateway().sendAndWait(new CreateCounter("c"), TIMEOUT);
        node.commandGateway().sendAndWait(new Add("c", 5), TIMEOUT);
    }

    private Gyre startNode() {
        return Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
    }

    @AfterEach
    void stop() {
        node.close();
        store.close();
    }

    private long add(Gyre on, long amount) {
        return on.commandGateway().<Long>sendAndWait(new Add("c", amount), TIMEOUT);
    }

    @Test
    void a_refusal_keeps_the_loaded_aggregate_and_the_next_command_replays_nothing() {
        int before = store.loads.get();

        assertThat(catchThrowable(() -> node.commandGateway().sendAndWait(new AddAtMost("c", 10, 6), TIMEOUT)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("exceeds");
        assertThat(catchThrowable(() -> node.commandGateway().sendAndWait(
                CommandMessage.of(new AddAtMost("c", 10, 6)).withCommandId("stored-refusal"), TIMEOUT)))
                .as("a refusal stored under the caller's id").hasMessageContaining("exceeds");
        assertThat(add(node, 1)).isEqualTo(6);

        assertThat(store.loads.get() - before).as("loads after the refusals").isZero();
    }

    @Test
    void a_refusal_on_an_aggregate_just_loaded_keeps_it_loaded_too() {
        try (Gyre restarted = startNode()) {
            int before = store.loads.get();
            assertThat(catchThrowable(() -> restarted.commandGateway().sendAndWait(new AddAtMost("c", 10, 6),
                    TIMEOUT))).hasMessageContaining("exceeds");
            assertThat(add(restarted, 1)).isEqualTo(6);
            assertThat(store.loads.get() - before).as("loads: the refusal's only").isEqualTo(1);
        }
    }

    @Test
    void a_command_re_sent_under_its_key_is_answered_from_the_store_without_a_replay() {
        CommandMessage keyed = CommandMessage.of(new Add("c", 2)).withCommandId("re-sent");
        assertThat(node.commandGateway().<Long>sendAndWait(keyed, TIMEOUT)).isEqualTo(7);
        int before = store.loads.get();
        assertThat(node.commandGateway().<Long>sendAndWait(keyed, TIMEOUT)).isEqualTo(7);
        assertThat(add(node, 1)).isEqualTo(8);
        assertThat(store.loads.get() - before).as("loads after the re-send").isZero();
    }

    @Test
    void an_aggregate_that_applied_an_event_before_its_handler_threw_is_loaded_again_without_that_event() {
        int before = store.loads.get();
        assertThat(catchThrowable(() -> node.commandGateway().sendAndWait(new AddThenFail("c", 100), TIMEOUT)))
                .isInstanceOf(IllegalStateException.class);
        assertThat(add(node, 1)).as("the failed command's event is not in the state").isEqualTo(6);
        assertThat(store.loads.get() - before).as("loads after the dirty failure").isEqualTo(1);
    }

    @Test
    void an_aggregate_whose_append_failed_is_loaded_again_without_the_events_of_that_command() {
        int before = store.loads.get();
        store.refuseNextAppend.set(true);
        assertThat(catchThrowable(() -> add(node, 100))).isInstanceOf(EventRejectedException.class);
        assertThat(add(node, 1)).as("the refused append's event is not in the state").isEqualTo(6);
        assertThat(store.loads.get() - before).as("loads after the failed append").isEqualTo(1);
        assertThat(store.readStream(COUNTER).map(StoredEvent::sequence).toList()).containsExactly(0L, 1L, 2L);
    }

    /** Counts reads of streams (the repository's loads), and can refuse one append. */
    static final class CountsLoads extends ForwardingEventStore {

        final AtomicInteger loads = new AtomicInteger();
        final AtomicBoolean refuseNextAppend = new AtomicBoolean();

        CountsLoads(InMemoryEventStore delegate) {
            super(delegate);
        }

        @Override
        public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
            loads.incrementAndGet();
            return super.readStream(stream, fromSequence);
        }

        @Override
        public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request); // the fault below blocks or fails the caller
        }

        @Override
        public AppendResult append(AppendRequest request) {
            if (refuseNextAppend.getAndSet(false)) {
                throw new EventRejectedException("refused by the test", null);
            }
            return super.append(request);
        }
    }
}
