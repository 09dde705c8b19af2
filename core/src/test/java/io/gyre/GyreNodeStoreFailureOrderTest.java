package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Invariant I3 when the store fails: one sender's commands for one aggregate are stored in send order also when an
 * append fails transiently (a pool timeout, a dropped connection) while the aggregate's later commands wait. The
 * owner tries the failed command again in place, inside the aggregate's turn; handed back to the gateway, it was
 * retried behind them (found by an adversarial review on PostgreSQL with a pool of two connections, a stream stored
 * as {@code [54, 62, ..., 286, 6]}; made deterministic here).
 */
class GyreNodeStoreFailureOrderTest {

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ExecutorService writer = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        writer.shutdownNow();
    }

    @Test
    void an_append_that_failed_before_writing_is_tried_again_before_the_aggregates_later_commands() throws Exception {
        AtomicBoolean failedOnce = new AtomicBoolean();
        CountDownLatch laterQueued = new CountDownLatch(1);
        ForwardingEventStore store = failingFirstAppendOfOne(failedOnce, laterQueued, false);

        List<Long> stored = sendFiveInOrder(store, failedOnce, laterQueued);

        assertThat(stored).as("one sender's commands, stored").containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void an_append_that_failed_after_writing_is_answered_from_the_store_and_stored_once() throws Exception {
        AtomicBoolean failedOnce = new AtomicBoolean();
        CountDownLatch laterQueued = new CountDownLatch(1);
        ForwardingEventStore store = failingFirstAppendOfOne(failedOnce, laterQueued, true);

        List<Long> stored = sendFiveInOrder(store, failedOnce, laterQueued);

        assertThat(stored).as("one sender's commands, stored once each").containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    /**
     * The append of {@code Add(1)} fails once the later commands are queued behind it; with {@code written}, it is
     * stored first and then reported failed, as when a connection drops while the commit is acknowledged.
     */
    private ForwardingEventStore failingFirstAppendOfOne(AtomicBoolean failedOnce, CountDownLatch laterQueued,
                                                         boolean written) {
        return new ForwardingEventStore(events) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                boolean first = request.events().size() == 1
                        && request.events().get(0).payload().contains("\"amount\":1")
                        && failedOnce.compareAndSet(false, true);
                if (!first) {
                    return super.appendAsync(request);
                }
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        laterQueued.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    if (written) {
                        events.append(request);
                        throw new EventStoreException("connection reset while committing", null);
                    }
                    throw new EventStoreException("connection is not available, request timed out after 1000ms",
                            null);
                }, writer);
            }
        };
    }

    private List<Long> sendFiveInOrder(ForwardingEventStore store, AtomicBoolean failedOnce,
                                       CountDownLatch laterQueued) throws Exception {
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            List<CompletableFuture<Object>> sent = new ArrayList<>();
            for (long amount = 1; amount <= 5; amount++) {
                sent.add(node.commandGateway().send(new Add("c", amount), Metadata.empty(), Duration.ofSeconds(30)));
            }
            laterQueued.countDown();
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            assertThat(failedOnce).as("the fault was injected").isTrue();

            List<Long> amounts = new ArrayList<>();
            for (StoredEvent event : events.readStream(StreamId.of("Counter", "c")).toList()) {
                Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                if (payload instanceof Added added) {
                    amounts.add(added.amount());
                }
            }
            return amounts;
        }
    }
}
