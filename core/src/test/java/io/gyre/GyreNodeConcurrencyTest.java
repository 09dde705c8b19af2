package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GyreNodeConcurrencyTest {

    private static final int THREADS = 8;
    private static final int COMMANDS_PER_THREAD = 2_000;
    private static final int COUNTERS = 20;
    private static final int WINDOW = 100;

    private final InMemoryEventStore store = new InMemoryEventStore();
    private Gyre node;

    @BeforeEach
    void start() {
        Probe.reset();
        node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
    }

    @AfterEach
    void stop() {
        node.close();
    }

    @Test
    void eight_threads_over_twenty_aggregates_leave_contiguous_streams_whose_totals_equal_the_acknowledged_sums()
            throws Exception {
        for (int i = 0; i < COUNTERS; i++) {
            node.commandGateway().sendAndWait(new CreateCounter("counter-" + i));
        }
        AtomicLongArray acknowledged = new AtomicLongArray(COUNTERS);
        CyclicBarrier start = new CyclicBarrier(THREADS);
        ExecutorService clients = Executors.newFixedThreadPool(THREADS);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            SplittableRandom random = new SplittableRandom(t);
            done.add(clients.submit(() -> {
                start.await();
                List<CompletableFuture<Object>> window = new ArrayList<>();
                for (int i = 0; i < COMMANDS_PER_THREAD; i++) {
                    int counter = random.nextInt(COUNTERS);
                    long amount = 1 + random.nextInt(1000);
                    window.add(node.commandGateway().send(new Add("counter-" + counter, amount))
                            .thenApply(total -> acknowledged.addAndGet(counter, amount)));
                    if (window.size() == WINDOW) {
                        CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
                        window.clear();
                    }
                }
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
                return null;
            }));
        }
        for (Future<?> client : done) {
            client.get();
        }
        clients.shutdown();

        Set<String> commandIds = new HashSet<>();
        long events = 0;
        for (int i = 0; i < COUNTERS; i++) {
            String id = "counter-" + i;
            List<StoredEvent> stream = store.readStream(StreamId.of("Counter", id)).toList();
            long sum = 0;
            for (int sequence = 0; sequence < stream.size(); sequence++) {
                StoredEvent event = stream.get(sequence);
                assertThat(event.sequence()).as("sequence of event %d of %s", sequence, id).isEqualTo(sequence);
                assertThat(commandIds.add(event.commandId())).as("command %s stored once", event.commandId()).isTrue();
                Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                if (payload instanceof Added added) {
                    sum += added.amount();
                }
            }
            events += stream.size();
            assertThat(sum).as("stored sum of %s", id).isEqualTo(acknowledged.get(i));
            long total = node.commandGateway().sendAndWait(new Add(id, 0), Duration.ofSeconds(10));
            assertThat(total).as("state of %s", id).isEqualTo(acknowledged.get(i));
        }
        assertThat(events).isEqualTo(COUNTERS + (long) THREADS * COMMANDS_PER_THREAD);
        assertThat(Probe.overlaps()).as("commands for one aggregate that ran at the same time").isZero();
    }
}
