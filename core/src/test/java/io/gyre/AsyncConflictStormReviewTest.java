package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import io.gyre.serialization.SerializedValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of decide-then-append (issue 13): two nodes that both believe they own the same few aggregates (as during a
 * partition) send bursts to them through one store whose appends complete later on a thread of their own. Every
 * append race is a concurrency conflict that the loser decides again, after a scheduled pause, inside its
 * aggregate's turn. Each sender's commands must still be stored exactly once and in its send order: the test counts
 * inversions instead of trusting one.
 */
class AsyncConflictStormReviewTest {

    private static final int COUNTERS = 3;
    private static final int PER_SENDER = 80;
    private static final long B_BASE = 1_000_000;

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ScheduledExecutorService writer = Executors.newScheduledThreadPool(2);
    private final LateStore store = new LateStore(events, writer);

    @AfterEach
    void stop() {
        writer.shutdownNow();
    }

    @Test
    void two_writers_storming_the_same_aggregates_store_each_senders_commands_once_and_in_send_order()
            throws Exception {
        try (Gyre a = Gyre.builder().name("a").sharedEventStore(store).aggregate(Counter.class).workers(2).start();
             Gyre b = Gyre.builder().name("b").sharedEventStore(store).aggregate(Counter.class).workers(2).start()) {
            for (int c = 0; c < COUNTERS; c++) {
                a.commandGateway().sendAndWait(new CreateCounter("c" + c));
            }
            List<CompletableFuture<Object>> sent = new ArrayList<>();
            for (long i = 1; i <= PER_SENDER; i++) {
                for (int c = 0; c < COUNTERS; c++) {
                    sent.add(a.commandGateway().send(new Add("c" + c, i), Metadata.empty(), Duration.ofMinutes(2)));
                    sent.add(b.commandGateway().send(new Add("c" + c, B_BASE + i), Metadata.empty(),
                            Duration.ofMinutes(2)));
                }
            }
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);

            assertThat(store.conflicts.get()).as("the storm produced conflicts, or it tested nothing").isPositive();
            for (int c = 0; c < COUNTERS; c++) {
                List<Long> fromA = new ArrayList<>();
                List<Long> fromB = new ArrayList<>();
                long sequence = 0;
                for (StoredEvent event : events.readStream(StreamId.of("Counter", "c" + c)).toList()) {
                    assertThat(event.sequence()).as("contiguous").isEqualTo(sequence++);
                    Object payload = a.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                    if (payload instanceof Added added) {
                        (added.amount() >= B_BASE ? fromB : fromA).add(added.amount());
                    }
                }
                assertThat(inversions(fromA)).as("inversions of a's commands on c" + c).isZero();
                assertThat(inversions(fromB)).as("inversions of b's commands on c" + c).isZero();
                assertThat(fromA).as("a's commands on c" + c + ", each once").hasSize(PER_SENDER).doesNotHaveDuplicates();
                assertThat(fromB).as("b's commands on c" + c + ", each once").hasSize(PER_SENDER).doesNotHaveDuplicates();
            }
        }
    }

    private static int inversions(List<Long> amounts) {
        int inversions = 0;
        for (int i = 1; i < amounts.size(); i++) {
            if (amounts.get(i) < amounts.get(i - 1)) {
                inversions++;
            }
        }
        return inversions;
    }

    /** Writes each append a moment later, on a writer thread, as the JDBC store's group commit does. */
    static final class LateStore extends ForwardingEventStore {
        final AtomicInteger conflicts = new AtomicInteger();
        private final ScheduledExecutorService writer;

        LateStore(InMemoryEventStore delegate, ScheduledExecutorService writer) {
            super(delegate);
            this.writer = writer;
        }

        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            CompletableFuture<AppendResult> outcome = new CompletableFuture<>();
            writer.schedule(() -> {
                try {
                    outcome.complete(append(request));
                } catch (io.gyre.eventstore.ConcurrencyConflictException e) {
                    conflicts.incrementAndGet();
                    outcome.completeExceptionally(e);
                } catch (RuntimeException e) {
                    outcome.completeExceptionally(e);
                }
            }, ThreadLocalRandom.current().nextInt(300), TimeUnit.MICROSECONDS);
            return outcome;
        }
    }
}
