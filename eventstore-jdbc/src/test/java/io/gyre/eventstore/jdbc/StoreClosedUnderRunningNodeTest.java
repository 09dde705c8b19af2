package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store closed under a running node (by its creator, while thousands of commands are in flight) answers every
 * command at once: the node does not retry a closed store until the commands' deadlines, so its commands end as not
 * executed (nothing stored) or outcome unknown (an append was being written), and {@code node.close()} returns long
 * before the deadlines. The store is the judge afterwards: nothing reported not executed is stored, everything
 * acknowledged is stored once, every stream is contiguous. On an embedded H2 file (the store closes its own pool)
 * and on PostgreSQL (the data source stays open, so reads would succeed on it).
 */
class StoreClosedUnderRunningNodeTest {

    private static final int COUNTERS = 8;
    private static final int COMMANDS = 4_000;
    /** Far beyond the bound asserted on node.close(): a node that waits for the deadlines fails the test. */
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(10);

    @TempDir
    Path folder;

    @Test
    void an_embedded_h2_store_closed_under_a_running_node_answers_every_command_at_once() throws Exception {
        Path file = folder.resolve("events");
        closeUnderRunningNode(() -> JdbcEventStore.h2(file));
    }

    @Test
    void a_postgres_store_closed_under_a_running_node_answers_every_command_at_once() throws Exception {
        DataSource dataSource = PostgresServer.get().dataSource();
        TableNames tables = JdbcFixtures.randomTables();
        try {
            JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build().close();
            closeUnderRunningNode(() -> JdbcEventStore.builder(dataSource).tableNames(tables).build());
        } finally {
            JdbcFixtures.drop(dataSource, tables);
        }
    }

    private void closeUnderRunningNode(Supplier<JdbcEventStore> open) throws Exception {
        JdbcEventStore store = open.get();
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        Map<Long, CompletableFuture<Object>> sent = new HashMap<>();
        long closeNanos;
        try {
            for (int c = 0; c < COUNTERS; c++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + c));
            }
            for (long amount = 1; amount <= COMMANDS; amount++) {
                sent.put(amount, node.commandGateway().send(new Add("c" + (amount % COUNTERS), amount),
                        Metadata.empty(), DEADLINE));
            }
            // Close once appends are being written: the first commands are answered, most are still in flight.
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (sent.values().stream().noneMatch(CompletableFuture::isDone) && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            store.close();
        } finally {
            long t0 = System.nanoTime();
            node.close();
            closeNanos = System.nanoTime() - t0;
        }
        System.out.printf("%s: node.close() took %d ms after store.close()%n", store,
                closeNanos / 1_000_000);
        assertThat(Duration.ofNanos(closeNanos)).as("node.close() with the store closed under it, the commands' "
                + "deadline being " + DEADLINE).isLessThan(CLOSE_BOUND);

        Map<String, Integer> counts = new HashMap<>();
        Map<Long, String> outcomes = new HashMap<>();
        for (Map.Entry<Long, CompletableFuture<Object>> each : sent.entrySet()) {
            assertThat(each.getValue()).as("command " + each.getKey() + " answered once node.close() returned")
                    .isDone();
            String outcome = outcome(each.getKey(), each.getValue());
            outcomes.put(each.getKey(), outcome);
            counts.merge(outcome, 1, Integer::sum);
        }
        System.out.println("Outcomes: " + counts);
        assertThat(counts.get("not executed")).as("commands still queued when the store closed").isPositive();

        JdbcEventStore reopened = open.get();
        try {
            Map<Long, Integer> stored = new HashMap<>();
            for (int c = 0; c < COUNTERS; c++) {
                long sequence = 0;
                try (Stream<StoredEvent> events = reopened.readStream(StreamId.of("Counter", "c" + c))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                        assertThat(event.sequence()).as("c%d contiguous", c).isEqualTo(sequence++);
                        Object payload = node.serializer().deserialize(new SerializedValue(event.type(),
                                event.payload()));
                        if (payload instanceof Added added) {
                            stored.merge(added.amount(), 1, Integer::sum);
                        }
                    }
                }
            }
            assertThat(stored.values()).as("nothing stored twice").allMatch(times -> times == 1);
            outcomes.forEach((amount, outcome) -> {
                switch (outcome) {
                    case "ok" -> assertThat(stored).as("acknowledged %d", amount).containsKey(amount);
                    case "not executed" -> assertThat(stored).as("not executed %d", amount).doesNotContainKey(amount);
                    default -> { } // outcome unknown: either
                }
            });
        } finally {
            reopened.close();
        }
    }

    /** @return ok, not executed or unknown; fails on any other answer, or one that does not name the closed store */
    private static String outcome(long amount, CompletableFuture<Object> future) throws InterruptedException {
        try {
            future.get();
            return "ok";
        } catch (ExecutionException e) {
            Throwable failure = e.getCause();
            assertThat(failure).as("command %d", amount)
                    .isInstanceOfAny(CommandNotExecutedException.class, CommandOutcomeUnknownException.class);
            boolean saysClosed = false;
            for (Throwable t = failure; t != null && !saysClosed; t = t.getCause()) {
                saysClosed = t instanceof EventStoreClosedException;
            }
            assertThat(saysClosed).as("command %d says the store closed: %s", amount, failure).isTrue();
            return failure instanceof CommandNotExecutedException ? "not executed" : "unknown";
        }
    }
}
