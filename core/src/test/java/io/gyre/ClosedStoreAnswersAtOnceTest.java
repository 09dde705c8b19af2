package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A store that says it is closed ({@link EventStoreClosedException}) is not retried, neither by the gateway nor in
 * the aggregate's turn: waiting cannot reopen it, and a command retried until its deadline held {@code node.close()}
 * for that long. The command is answered at once, as not executed when the store says nothing was stored, as outcome
 * unknown when it says an append may have been (or an earlier try of the same turn failed on the store), with the
 * store's failure as the cause. The commands' deadline (60 s) is far above every bound asserted.
 */
class ClosedStoreAnswersAtOnceTest {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @Test
    void a_command_on_a_closed_store_is_answered_not_executed_at_once_and_the_node_closes_at_once() throws Exception {
        InMemoryEventStore store = new InMemoryEventStore();
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        CompletableFuture<Object> pending;
        try {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            store.close();
            pending = node.commandGateway().send(new Add("c", 1), Metadata.empty(), DEADLINE);
            Throwable outcome = outcomeWithin(pending, 10);
            assertThat(outcome).isInstanceOf(CommandNotExecutedException.class)
                    .hasCauseInstanceOf(EventStoreClosedException.class)
                    .hasMessageContaining("the event store is closed");
        } finally {
            long t0 = System.nanoTime();
            node.close();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("node.close()")
                    .isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void an_append_the_store_ended_while_writing_it_is_answered_outcome_unknown() throws Exception {
        InMemoryEventStore events = new InMemoryEventStore();
        AtomicBoolean closing = new AtomicBoolean();
        ForwardingEventStore store = new ForwardingEventStore(events) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                return closing.get() ? CompletableFuture.failedFuture(new EventStoreClosedException(
                        "closed while writing (injected)", null, true)) : super.appendAsync(request);
            }
        };
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        try {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            closing.set(true);
            Throwable outcome = outcomeWithin(node.commandGateway().send(new Add("c", 1), Metadata.empty(),
                    DEADLINE), 10);
            assertThat(outcome).isInstanceOf(CommandOutcomeUnknownException.class)
                    .hasCauseInstanceOf(EventStoreClosedException.class);
        } finally {
            node.close();
        }
    }

    @Test
    void a_closed_store_after_a_failed_try_of_the_same_turn_is_answered_outcome_unknown() throws Exception {
        InMemoryEventStore events = new InMemoryEventStore();
        AtomicBoolean failing = new AtomicBoolean();
        AtomicInteger appends = new AtomicInteger();
        ForwardingEventStore store = new ForwardingEventStore(events) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                if (!failing.get()) {
                    return super.appendAsync(request);
                }
                // The first try's append fails as a lost connection would (it may have been written); the store is
                // closed when the command is tried again in place.
                return CompletableFuture.failedFuture(appends.incrementAndGet() == 1
                        ? new EventStoreException("connection lost while committing (injected)", null)
                        : new EventStoreClosedException("closed (injected)", null));
            }

            @Override
            public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
                if (appends.get() > 0) {
                    throw new EventStoreClosedException("closed (injected)", null);
                }
                return super.readStream(stream, fromSequence);
            }
        };
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        try {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            failing.set(true);
            Throwable outcome = outcomeWithin(node.commandGateway().send(new Add("c", 1), Metadata.empty(),
                    DEADLINE), 10);
            assertThat(outcome).as("the first try may have stored it").isInstanceOf(
                    CommandOutcomeUnknownException.class).hasCauseInstanceOf(EventStoreClosedException.class);
            assertThat(appends.get()).as("tries that reached the append").isEqualTo(1);
        } finally {
            node.close();
        }
    }

    private static Throwable outcomeWithin(CompletableFuture<Object> pending, int seconds) throws Exception {
        try {
            Object value = pending.get(seconds, TimeUnit.SECONDS);
            throw new AssertionError("a command on a closed store succeeded: " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }
}
