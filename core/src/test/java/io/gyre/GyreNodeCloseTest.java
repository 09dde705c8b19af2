package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.command.CommandBusClosedException;
import io.gyre.command.RetryPolicy;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GyreNodeCloseTest {

    @Test
    void closing_a_node_ends_the_commands_still_waiting_for_a_retry_and_refuses_new_ones() throws Exception {
        java.util.concurrent.atomic.AtomicInteger failedAppends = new java.util.concurrent.atomic.AtomicInteger();
        InMemoryEventStore events = new InMemoryEventStore();
        ForwardingEventStore unavailable = new ForwardingEventStore(events) {
            @Override
            public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
                return appendOnCallingThread(request); // the fault below blocks or fails the caller
            }

            @Override
            public AppendResult append(AppendRequest request) {
                if (request.commandId().startsWith("x") || !(request.events().size() == 1
                        && request.aggregateType().equals("Counter") && request.expected().lastSequence() >= 0)) {
                    return super.append(request);
                }
                failedAppends.incrementAndGet();
                throw new EventStoreException("database unreachable", null);
            }
        };
        Gyre node = Gyre.builder().sharedEventStore(unavailable).aggregate(Counter.class)
                .retryPolicy(RetryPolicy.builder().maxAttempts(1000).initialBackoff(Duration.ofMillis(50))
                        .maxBackoff(Duration.ofMillis(50)).build())
                .commandTimeout(Duration.ofMinutes(5)).shutdownTimeout(Duration.ofMillis(300)).start();
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        CompletableFuture<Object> retrying = node.commandGateway().send(new Add("c", 1));
        while (failedAppends.get() < 2) {
            Thread.onSpinWait();
        }

        node.close();

        // An append that failed with the database away may have committed: the outcome is unknown, and the
        // caller gets the command id to re-send it under.
        assertThatThrownBy(() -> retrying.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(io.gyre.command.CommandOutcomeUnknownException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> node.commandGateway().sendAndWait(new Add("c", 1)))
                .isInstanceOf(CommandBusClosedException.class).hasMessageContaining("closed");
        assertThat(events.lastSequence(StreamId.of("Counter", "c"))).isZero();
    }
}
