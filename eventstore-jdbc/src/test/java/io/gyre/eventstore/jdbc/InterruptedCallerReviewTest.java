package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of caller-runs on the embedded store: a caller of {@code sendAndWait} that decides its own command does the
 * store's reads on its own thread. A caller whose thread is interrupted (a web request cancelled, an executor shut
 * down with {@code shutdownNow}) must not take the node's database down for everyone else: an interrupt while a
 * {@code FileChannel} is read closes the channel.
 */
class InterruptedCallerReviewTest {

    @TempDir
    Path folder;

    @Test
    void an_interrupted_caller_leaves_the_embedded_store_serving_everyone_else() throws Exception {
        JdbcEventStore store = JdbcEventStore.h2(folder.resolve("events"));
        try (Gyre first = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            for (int i = 0; i < 20; i++) {
                first.commandGateway().sendAndWait(new CreateCounter("c" + i));
            }
        }
        // A node with nothing cached: every first command of an aggregate loads it from the store.
        try (Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            // Callers interrupted before they send: each decides its command on its own thread, reading the store.
            AtomicReference<Throwable> seen = new AtomicReference<>();

            for (int i = 0; i < 20; i++) {
                int n = i;
                Thread caller = new Thread(() -> {
                    Thread.currentThread().interrupt();
                    try {
                        node.commandGateway().sendAndWait(new Add("c" + n, 1), Duration.ofSeconds(5));
                    } catch (RuntimeException e) {
                        seen.compareAndSet(null, e);
                    }
                });
                caller.start();
                caller.join();
            }

            assertThat(seen.get()).as("an interrupted caller is told its command may still run, or nothing")
                    .satisfiesAnyOf(e -> assertThat(e).isNull(),
                            e -> assertThat(e).isInstanceOf(java.util.concurrent.CancellationException.class));
            for (int i = 0; i < 20; i++) {
                long total = node.commandGateway().sendAndWait(new Add("c" + i, 2), Duration.ofSeconds(10));
                assertThat(total).as("c" + i).isIn(2L, 3L);
            }
        } finally {
            store.close();
        }
    }
}
