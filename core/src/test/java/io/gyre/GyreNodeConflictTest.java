package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes that both believe they may write one aggregate (as during a rebalance) race through one store:
 * the store's sequence check lets exactly one append win, and the gateway retries the loser on fresh state.
 */
class GyreNodeConflictTest {

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final RacingStore store = new RacingStore(events);
    private Gyre nodeA;
    private Gyre nodeB;

    @BeforeEach
    void start() {
        Probe.reset();
        nodeA = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        nodeB = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
    }

    @AfterEach
    void stop() {
        nodeA.close();
        nodeB.close();
    }

    @Test
    void two_writers_on_one_aggregate_exactly_one_wins_and_the_retry_turns_the_loser_into_a_success_on_fresh_state()
            throws Exception {
        nodeA.commandGateway().sendAndWait(new CreateCounter("c"));
        Probe.reset();
        store.holdNextAppends(2);

        CompletableFuture<Long> fromA = nodeA.commandGateway().send(new Add("c", 10));
        CompletableFuture<Long> fromB = nodeB.commandGateway().send(new Add("c", 20));
        long totalA = fromA.get(10, TimeUnit.SECONDS);
        long totalB = fromB.get(10, TimeUnit.SECONDS);

        assertThat(store.conflicts()).as("appends rejected by the sequence check").hasSize(1);
        ConcurrencyConflictException conflict = store.conflicts().get(0);
        assertThat(conflict.aggregateId()).isEqualTo("c");
        assertThat(conflict.expectedSequence()).isZero();
        assertThat(conflict.actualSequence()).isEqualTo(1);

        // The winner decided on the state after creation; the loser, retried, on the state after the winner.
        assertThat(List.of(totalA, totalB)).containsAnyOf(10L, 20L).contains(30L);
        List<String> handled = Probe.commandIds();
        assertThat(handled).hasSize(3);
        assertThat(handled.stream().distinct()).as("the loser ran again with its own command id").hasSize(2);

        List<StoredEvent> stream = events.readStream(StreamId.of("Counter", "c")).toList();
        assertThat(stream).extracting(StoredEvent::sequence).containsExactly(0L, 1L, 2L);
        assertThat(stream.get(2).commandId()).isEqualTo(handled.get(2));
        long stateOnA = nodeA.commandGateway().sendAndWait(new Add("c", 0), Duration.ofSeconds(5));
        long stateOnB = nodeB.commandGateway().sendAndWait(new Add("c", 0), Duration.ofSeconds(5));
        assertThat(stateOnA).isEqualTo(30);
        assertThat(stateOnB).as("a node with a stale cached aggregate recovers through the conflict").isEqualTo(30);
    }

    /** Lets the next appends meet at a barrier, so they all decide before any of them writes. */
    static final class RacingStore extends ForwardingEventStore {

        private final AtomicInteger held = new AtomicInteger();
        private volatile CyclicBarrier barrier = new CyclicBarrier(1);
        private final List<ConcurrencyConflictException> conflicts = Collections.synchronizedList(new ArrayList<>());

        RacingStore(EventStore delegate) {
            super(delegate);
        }

        void holdNextAppends(int parties) {
            barrier = new CyclicBarrier(parties);
            held.set(parties);
        }

        List<ConcurrencyConflictException> conflicts() {
            return List.copyOf(conflicts);
        }

        @Override
        public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request); // the fault below blocks or fails the caller
        }

        @Override
        public AppendResult append(AppendRequest request) {
            if (held.getAndDecrement() > 0) {
                try {
                    barrier.await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException("the racing appends did not meet", e);
                }
            }
            try {
                return super.append(request);
            } catch (ConcurrencyConflictException e) {
                conflicts.add(e);
                throw e;
            }
        }
    }
}
