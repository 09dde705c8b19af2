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
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Review of decide-then-append (issue 13), invariant I3: one sender's commands for one aggregate apply in send order
 * "also when some of them are retried". A transient store failure of an append (a pool timeout, a dropped connection
 * before the insert: nothing stored) is retried by the gateway, which dispatches the command again, behind the
 * aggregate's later commands that were queued meanwhile: they are stored first. Found by
 * {@code BurstBehindLockedTableReviewTest} on PostgreSQL with a pool of two connections (a stored stream
 * {@code [54, 62, ..., 286, 6]}), made deterministic here.
 */
class TransientAppendFailureOrderReviewTest {

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ExecutorService writer = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        writer.shutdownNow();
    }

    @Test
    @Disabled("bug: a command whose append fails transiently is retried by the gateway behind the aggregate's later "
            + "commands, so one sender's commands are stored out of send order (I3)")
    void a_transiently_failed_append_is_retried_before_the_aggregates_later_commands() throws Exception {
        CountDownLatch laterQueued = new CountDownLatch(1);
        AtomicBoolean failedOnce = new AtomicBoolean();
        ForwardingEventStore store = new ForwardingEventStore(events) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                boolean first = request.events().size() == 1 && request.events().get(0).payload().contains("\"amount\":1")
                        && failedOnce.compareAndSet(false, true);
                if (!first) {
                    return super.appendAsync(request);
                }
                // The writer fails it once the later commands are queued behind it: nothing of it is stored.
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        laterQueued.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new EventStoreException("connection is not available, request timed out after 1000ms", null);
                }, writer);
            }
        };
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
            assertThat(amounts).as("one sender's commands, stored").containsExactly(1L, 2L, 3L, 4L, 5L);
        }
    }
}
