package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandOutcomeUnknownException;
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
 * Review of the in-place store retry (9d11ed0): a store that keeps failing holds a command in its aggregate's turn
 * until the command's deadline. Closing the node must end that: the node's caller is answered, and the closed node
 * stops trying the store, instead of going on for the rest of the deadline on the after-close thread.
 */
class StoreRetryAfterCloseReviewTest {

    @Test
    void a_closed_node_stops_retrying_a_store_that_keeps_failing() throws Exception {
        InMemoryEventStore events = new InMemoryEventStore();
        AtomicBoolean failing = new AtomicBoolean();
        AtomicInteger failedReads = new AtomicInteger();
        ForwardingEventStore store = new ForwardingEventStore(events) {
            @Override
            public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
                if (failing.get()) {
                    failedReads.incrementAndGet();
                    throw new EventStoreException("connection is not available (injected)", null);
                }
                return super.readStream(stream, fromSequence);
            }
        };
        CompletableFuture<Object> pending;
        Gyre node = Gyre.builder().name("retry-close").sharedEventStore(store).aggregate(Counter.class)
                .shutdownTimeout(Duration.ofMillis(300)).start();
        try {
            node.commandGateway().sendAndWait(new CreateCounter("r"));
        } finally {
            node.close();
        }
        // A fresh node loads "r" from the store, which now fails.
        node = Gyre.builder().name("retry-close").sharedEventStore(store).aggregate(Counter.class)
                .shutdownTimeout(Duration.ofMillis(300)).start();
        failing.set(true);
        pending = node.commandGateway().send(new Add("r", 1), Metadata.empty(), Duration.ofSeconds(30));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (failedReads.get() < 3 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(failedReads.get()).as("the store failed and was tried again in place").isGreaterThanOrEqualTo(3);

        node.close();
        Throwable outcome = null;
        try {
            pending.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            outcome = e.getCause();
        }
        assertThat(outcome).as("the caller is answered when the node closes")
                .isInstanceOf(CommandOutcomeUnknownException.class);
        Thread.sleep(1_500); // a retry is due at most a second after the last
        int afterClose = failedReads.get();
        Thread.sleep(2_500);
        assertThat(failedReads.get()).as("tries of the store after the node closed").isEqualTo(afterClose);
    }
}
