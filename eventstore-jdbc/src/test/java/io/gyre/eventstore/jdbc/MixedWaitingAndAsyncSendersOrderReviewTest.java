package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of caller-runs together with a caller that writes its own append, on the embedded store: senders that mix
 * {@code sendAndWait} (decided, and stored, on the caller's thread when the aggregate is cached and idle) with
 * {@code send} (decided on a worker, stored by a writer thread) on the same few aggregates must see their commands
 * applied exactly once each and, per sender and aggregate, in send order (I2, I3).
 */
class MixedWaitingAndAsyncSendersOrderReviewTest {

    private static final int SENDERS = 4;
    private static final int AGGREGATES = 3;
    private static final int PER_SENDER = 200;

    @TempDir
    Path folder;

    @Test
    void waiting_and_asynchronous_sends_on_shared_aggregates_apply_once_each_in_each_senders_order()
            throws Exception {
        JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            for (int a = 0; a < AGGREGATES; a++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + a));
            }
            CyclicBarrier start = new CyclicBarrier(SENDERS);
            List<Thread> senders = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                Thread thread = new Thread(() -> {
                    try {
                        start.await(30, TimeUnit.SECONDS);
                        List<CompletableFuture<Object>> sent = new ArrayList<>();
                        for (int n = 0; n < PER_SENDER; n++) {
                            Add add = new Add("c" + (n % AGGREGATES), sender * 1_000_000L + n);
                            if (ThreadLocalRandom.current().nextBoolean()) {
                                node.commandGateway().sendAndWait(add, Duration.ofSeconds(60));
                            } else {
                                sent.add(node.commandGateway().send(add, Metadata.empty(), Duration.ofSeconds(60)));
                            }
                        }
                        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "sender-" + s);
                senders.add(thread);
                thread.start();
            }
            for (Thread thread : senders) {
                thread.join(TimeUnit.MINUTES.toMillis(4));
            }
            assertThat(failures).isEmpty();

            int stored = 0;
            for (int a = 0; a < AGGREGATES; a++) {
                List<List<Long>> bySender = new ArrayList<>();
                for (int s = 0; s < SENDERS; s++) {
                    bySender.add(new ArrayList<>());
                }
                long sequence = 0;
                try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c" + a))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                        assertThat(event.sequence()).isEqualTo(sequence++);
                        Object payload = node.serializer().deserialize(new SerializedValue(event.type(),
                                event.payload()));
                        if (payload instanceof Added added) {
                            bySender.get((int) (added.amount() / 1_000_000)).add(added.amount() % 1_000_000);
                            stored++;
                        }
                    }
                }
                for (int s = 0; s < SENDERS; s++) {
                    int aggregate = a;
                    List<Long> expected = java.util.stream.LongStream.range(0, PER_SENDER)
                            .filter(n -> n % AGGREGATES == aggregate).boxed().toList();
                    assertThat(bySender.get(s)).as("sender " + s + " on c" + a).containsExactlyElementsOf(expected);
                }
            }
            assertThat(stored).isEqualTo(SENDERS * PER_SENDER);
        } finally {
            store.close();
        }
    }
}
