package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddAtMost;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of reads on threads that can be interrupted, on the embedded store: a caller's refused command is confirmed
 * on the caller's own thread by reading the stream's head, and a service reads the store from its request threads
 * (a query endpoint). H2's storage is not interrupt-safe for writes ({@link CallerInterruptedWhileWritingReviewTest});
 * here interrupts land at random on threads that only read, while the store's own threads write, and every thread
 * must still be served afterwards, with every stream intact.
 */
class CallerInterruptedWhileReadingReviewTest {

    private static final int CALLERS = 4;
    private static final int READERS = 2;

    @TempDir
    Path folder;

    @Test
    void threads_interrupted_while_they_read_leave_the_embedded_store_serving_everyone() throws Exception {
        JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            for (int i = 0; i < CALLERS; i++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + i));
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong refusalsConfirmed = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            ConcurrentHashMap<String, Throwable> failures = new ConcurrentHashMap<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < CALLERS; i++) {
                String id = "c" + i;
                threads.add(new Thread(() -> {
                    while (!stop.get()) {
                        Thread.interrupted(); // each command starts uninterrupted: it may run on this thread
                        try {
                            node.commandGateway().sendAndWait(new Add(id, 1), Duration.ofSeconds(10));
                            Thread.interrupted();
                            // Refused without an event: confirmed by reading the stream's head, on this thread
                            // when the counter is cached and idle.
                            node.commandGateway().sendAndWait(new AddAtMost(id, 1, 0), Duration.ofSeconds(10));
                        } catch (IllegalStateException refused) {
                            refusalsConfirmed.incrementAndGet();
                        } catch (RuntimeException e) {
                            if (!(e instanceof java.util.concurrent.CancellationException) && !RandomInterrupts.namesAnInterrupt(e)) {
                                failures.putIfAbsent(e.getClass().getName() + ": " + e.getMessage(), e);
                            }
                        }
                    }
                }, "caller-" + i));
            }
            for (int i = 0; i < READERS; i++) {
                threads.add(new Thread(() -> {
                    while (!stop.get()) {
                        Thread.interrupted();
                        String id = "c" + ThreadLocalRandom.current().nextInt(CALLERS);
                        try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", id))) {
                            events.count();
                            store.lastSequence(StreamId.of("Counter", id));
                            reads.incrementAndGet();
                        } catch (RuntimeException e) {
                            if (!RandomInterrupts.namesAnInterrupt(e)) {
                                failures.putIfAbsent(e.getClass().getName() + ": " + e.getMessage(), e);
                            }
                        }
                    }
                }, "reader-" + i));
            }
            threads.forEach(Thread::start);
            RandomInterrupts.interruptAtRandom(threads, Duration.ofSeconds(4), stop);

            // Everyone, uninterrupted, is still served, and every stream is intact.
            RandomInterrupts.assertCountersServedAndContiguous(node, store, CALLERS);
            assertThat(refusalsConfirmed.get()).as("refusals confirmed").isPositive();
            assertThat(reads.get()).as("reads").isPositive();
            assertThat(failures.keySet()).as("failures other than an interrupted wait").isEmpty();
        } finally {
            store.close();
        }
    }
}
