package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the embedded store's HikariCP pool: a store closed under load answers every append, and its file can be
 * opened again in the same JVM, as often as wanted; a store that fails to start leaves no pool behind.
 *
 * <p>Printed, not asserted: how long {@code store.close()} and then {@code node.close()} take. Until the node stopped
 * retrying a closed store, {@code node.close()} took the in-flight commands' whole deadline (about 20 s for a 20 s
 * deadline, 60 s for 60 s) and their futures were answered only then; they are now answered as the store closes, and
 * {@link StoreClosedUnderRunningNodeTest} asserts it.
 */
class EmbeddedH2LifecycleReviewTest {

    private static final int ROUNDS = 2;
    private static final int DEADLINE_SECONDS = 20;

    @TempDir
    Path folder;

    @Test
    void closing_under_load_answers_every_command_and_the_file_opens_again_in_the_same_jvm() throws Exception {
        Path file = folder.resolve("events");
        for (int round = 0; round < ROUNDS; round++) {
            JdbcEventStore store = JdbcEventStore.h2(file);
            List<CompletableFuture<Object>> sent = new ArrayList<>();
            Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
            try {
                if (round == 0) {
                    for (int a = 0; a < 8; a++) {
                        node.commandGateway().sendAndWait(new CreateCounter("c" + a));
                    }
                }
                for (int i = 1; i <= 4_000; i++) {
                    sent.add(node.commandGateway().send(new Add("c" + (i % 8), i), Metadata.empty(),
                            Duration.ofSeconds(DEADLINE_SECONDS)));
                }
                Thread.sleep(50);
                long t0 = System.nanoTime();
                store.close(); // while appends are in flight
                System.out.printf("round %d: store.close %d ms%n", round, (System.nanoTime() - t0) / 1_000_000);
            } finally {
                long t0 = System.nanoTime();
                node.close();
                System.out.printf("round %d: node.close %d ms%n", round, (System.nanoTime() - t0) / 1_000_000);
            }
            long t0 = System.nanoTime();
            int done = 0;
            for (CompletableFuture<Object> future : sent) {
                try {
                    future.get(30, TimeUnit.SECONDS); // a hang fails here with a TimeoutException
                    done++;
                } catch (java.util.concurrent.ExecutionException answered) {
                    // refused or unknown: answered, which is what is checked
                }
            }
            System.out.printf("round %d: all answered %d ms after node.close%n", round,
                    (System.nanoTime() - t0) / 1_000_000);
            JdbcEventStore reopened = JdbcEventStore.h2(file);
            try {
                for (int a = 0; a < 8; a++) {
                    long sequence = 0;
                    try (Stream<StoredEvent> events = reopened.readStream(StreamId.of("Counter", "c" + a))) {
                        for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                            assertThat(event.sequence()).as("round %d c%d", round, a).isEqualTo(sequence++);
                        }
                    }
                }
            } finally {
                reopened.close();
            }
            System.out.printf("round %d: %d of %d acknowledged before the close%n", round, done, sent.size());
        }
    }

    @Test
    void a_store_that_fails_to_start_on_its_file_closes_its_pool() throws Exception {
        Path file = folder.resolve("broken");
        JdbcEventStore.h2(file).close();
        String url = "jdbc:h2:file:" + file.toAbsolutePath().normalize();
        try (Connection connection = DriverManager.getConnection(url, "sa", "");
             Statement statement = connection.createStatement()) {
            statement.execute("ALTER TABLE gyre_events DROP CONSTRAINT gyre_events_event_id_key");
        }
        assertThatThrownBy(() -> JdbcEventStore.h2(file)).isInstanceOf(EventStoreSchemaException.class);
        Thread.sleep(200);
        assertThat(Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("gyre-h2-broken")).toList())
                .as("threads of a pool that nothing can close any more").isEmpty();
    }
}
