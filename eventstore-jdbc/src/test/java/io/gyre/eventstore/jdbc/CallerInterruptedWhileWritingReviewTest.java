package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of a waiting caller that writes its own append (and the queue before it) on the embedded store: a caller
 * interrupted while it writes (a web request cancelled, {@code Future.cancel(true)}, {@code shutdownNow}) must not take
 * the database down for everyone else. Callers interrupted before they send are {@link InterruptedCallerReviewTest}'s;
 * here the interrupts land at random moments, most of them while a caller is in the middle of its command.
 */
class CallerInterruptedWhileWritingReviewTest {

    private static final int CALLERS = 6;

    @TempDir
    Path folder;

    @Test
    void callers_interrupted_while_they_write_their_appends_leave_the_embedded_store_serving_everyone()
            throws Exception {
        JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            for (int i = 0; i < CALLERS; i++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + i));
            }
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentHashMap<String, Throwable> failures = new ConcurrentHashMap<>();
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < CALLERS; i++) {
                String id = "c" + i;
                Thread caller = new Thread(() -> {
                    while (!stop.get()) {
                        Thread.interrupted(); // each command starts uninterrupted: it may write itself
                        try {
                            node.commandGateway().sendAndWait(new Add(id, 1), Duration.ofSeconds(10));
                        } catch (RuntimeException e) {
                            if (!(e instanceof java.util.concurrent.CancellationException)) {
                                failures.putIfAbsent(e.getClass().getName() + ": " + e.getMessage(), e);
                            }
                        }
                    }
                }, "caller-" + i);
                callers.add(caller);
                caller.start();
            }
            RandomInterrupts.interruptAtRandom(callers, Duration.ofSeconds(4), stop);

            // Everyone else, uninterrupted, is still served, and every stream is intact.
            RandomInterrupts.assertCountersServedAndContiguous(node, store, CALLERS);
            assertThat(failures.keySet()).as("failures other than an interrupted wait").isEmpty();
        } finally {
            store.close();
        }
    }
}
