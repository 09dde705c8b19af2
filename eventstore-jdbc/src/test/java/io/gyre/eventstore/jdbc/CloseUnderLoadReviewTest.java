package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of decide-then-append (issue 13) on PostgreSQL: a node that owns its store is closed under a burst while
 * another session blocks every insert into the events table for longer than the node's shutdown timeout, so commands
 * are waiting for capacity, for their aggregate's turn, in the group-commit queue and inside a blocked INSERT when
 * the bus gives up on them and the store closes. Every caller is answered by the time {@code close()} returns, and
 * the store is the judge once the lock is gone: "not executed" is not stored, an acknowledged command is stored
 * once, and nothing is stored after the node closed that its caller was told was not executed.
 */
class CloseUnderLoadReviewTest {

    private static final int COUNTERS = 6;
    private static final int PER_COUNTER = 30;

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void closing_a_node_while_its_appends_are_blocked_answers_everyone_and_stores_nothing_reported_not_executed()
            throws Exception {
        JdbcEventStore owned = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
        Gyre node = Gyre.builder().eventStore(owned).aggregate(Counter.class).workers(2).maxPendingCommands(20)
                .shutdownTimeout(Duration.ofMillis(800)).start();
        Map<Long, CompletableFuture<Object>> sent = new HashMap<>();
        CompletableFuture<Void> closed;
        try (Connection locker = dataSource.getConnection(); Statement statement = locker.createStatement()) {
            for (int c = 0; c < COUNTERS; c++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + c));
            }
            locker.setAutoCommit(false);
            statement.execute("LOCK TABLE " + tables.events() + " IN EXCLUSIVE MODE");
            long amount = 0;
            for (int i = 0; i < PER_COUNTER; i++) {
                for (int c = 0; c < COUNTERS; c++) {
                    amount++;
                    sent.put(amount, node.commandGateway().send(new Add("c" + c, amount), Metadata.empty(),
                            Duration.ofSeconds(30)));
                }
            }
            Thread.sleep(300);
            closed = CompletableFuture.runAsync(node::close);
            // Longer than the node's shutdown timeout, shorter than the store's time to finish its queue.
            Thread.sleep(2_500);
            locker.commit();
        }
        closed.get(60, TimeUnit.SECONDS);
        Map<Long, String> outcomes = new HashMap<>();
        for (Map.Entry<Long, CompletableFuture<Object>> each : sent.entrySet()) {
            assertThat(each.getValue()).as("command " + each.getKey() + " answered once close() returned").isDone();
            outcomes.put(each.getKey(), outcome(each.getValue()));
        }
        Map<String, Long> counts = new HashMap<>();
        outcomes.values().forEach(kind -> counts.merge(kind.startsWith("failed") ? "failed" : kind, 1L, Long::sum));
        System.out.println("Outcomes of the commands sent before close: " + counts);

        Thread.sleep(500); // anything still on its way to the database after close() would land meanwhile
        try (JdbcEventStore store = JdbcEventStore.builder(dataSource).tableNames(tables).build()) {
            Map<Long, Integer> stored = new HashMap<>();
            for (int c = 0; c < COUNTERS; c++) {
                List<Long> amounts = new ArrayList<>();
                long sequence = 0;
                try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c" + c))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                        assertThat(event.sequence()).as("contiguous").isEqualTo(sequence++);
                        Object payload = node.serializer().deserialize(new SerializedValue(event.type(),
                                event.payload()));
                        if (payload instanceof Added added) {
                            amounts.add(added.amount());
                            stored.merge(added.amount(), 1, Integer::sum);
                        }
                    }
                }
                assertThat(amounts).as("c" + c + " in send order").isSorted();
            }
            assertThat(stored.values()).as("nothing stored twice").allMatch(times -> times == 1);
            for (Map.Entry<Long, String> each : outcomes.entrySet()) {
                long amount = each.getKey();
                switch (each.getValue()) {
                    case "ok" -> assertThat(stored).as("acknowledged " + amount).containsKey(amount);
                    case "not executed" -> assertThat(stored).as("not executed " + amount).doesNotContainKey(amount);
                    case "unknown" -> { }
                    default -> throw new AssertionError(amount + ": " + each.getValue());
                }
            }
        }
    }

    private static String outcome(CompletableFuture<Object> sent) throws Exception {
        try {
            sent.get(1, TimeUnit.SECONDS);
            return "ok";
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CommandNotExecutedException) {
                return "not executed";
            }
            if (e.getCause() instanceof CommandOutcomeUnknownException) {
                return "unknown";
            }
            return "failed: " + e.getCause();
        }
    }
}
