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
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Review of 874ad2a: two nodes, each with a store of its own on the same PostgreSQL tables, write the same two
 * counters, so that most commands meet concurrency conflicts and are decided again; node A's store closes while
 * they do. A command of A whose first try conflicted and whose next try met the closed store stored nothing; one
 * whose try was being written when the store closed may be stored. The store judges afterwards: nothing A answered
 * not executed is stored, everything acknowledged (by A or B) is stored once, streams are contiguous.
 */
class StoreClosedAmidConflictsReviewTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final int COMMANDS = 1_500;

    @Test
    void commands_retried_after_conflicts_on_a_store_that_closes_are_never_wrongly_not_executed() throws Exception {
        DataSource dataSource = PostgresServer.get().dataSource();
        TableNames tables = JdbcFixtures.randomTables();
        try {
            JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build().close();
            JdbcEventStore storeA = JdbcEventStore.builder(dataSource).tableNames(tables).build();
            JdbcEventStore storeB = JdbcEventStore.builder(dataSource).tableNames(tables).build();
            Gyre a = Gyre.builder().sharedEventStore(storeA).aggregate(Counter.class).start();
            Gyre b = Gyre.builder().sharedEventStore(storeB).aggregate(Counter.class).start();
            Map<Long, CompletableFuture<Object>> sent = new HashMap<>();
            try {
                a.commandGateway().sendAndWait(new CreateCounter("x0"));
                a.commandGateway().sendAndWait(new CreateCounter("x1"));
                for (long amount = 1; amount <= COMMANDS; amount++) {
                    Gyre node = amount % 2 == 0 ? a : b;
                    sent.put(amount, node.commandGateway().send(new Add("x" + (amount / 2 % 2), amount),
                            Metadata.empty(), DEADLINE));
                }
                long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while (sent.values().stream().filter(CompletableFuture::isDone).count() < COMMANDS / 10
                        && System.nanoTime() < until) {
                    Thread.sleep(1);
                }
                storeA.close();
                CompletableFuture.allOf(sent.values().toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                        .get(DEADLINE.toSeconds() + 10, java.util.concurrent.TimeUnit.SECONDS);
            } finally {
                a.close();
                b.close();
                storeB.close();
            }
            Map<String, Integer> counts = new HashMap<>();
            Map<Long, String> outcomes = new HashMap<>();
            sent.forEach((amount, future) -> {
                String outcome = (amount % 2 == 0 ? "A " : "B ") + outcome(future);
                outcomes.put(amount, outcome);
                counts.merge(outcome, 1, Integer::sum);
            });
            JdbcEventStore reopened = JdbcEventStore.builder(dataSource).tableNames(tables).build();
            Map<Long, Integer> stored = new HashMap<>();
            try {
                for (String stream : new String[] {"x0", "x1"}) {
                    long sequence = 0;
                    try (Stream<StoredEvent> events = reopened.readStream(StreamId.of("Counter", stream))) {
                        for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                            assertThat(event.sequence()).as("%s contiguous", stream).isEqualTo(sequence++);
                            Object payload = a.serializer().deserialize(new SerializedValue(event.type(),
                                    event.payload()));
                            if (payload instanceof Added added) {
                                stored.merge(added.amount(), 1, Integer::sum);
                            }
                        }
                    }
                }
            } finally {
                reopened.close();
            }
            System.out.println("Outcomes: " + counts);
            assertThat(stored.values()).as("nothing stored twice").allMatch(times -> times == 1);
            outcomes.forEach((amount, outcome) -> {
                if (outcome.endsWith(" ok")) {
                    assertThat(stored).as("acknowledged %d", amount).containsKey(amount);
                } else if (outcome.endsWith(" not executed")) {
                    assertThat(stored).as("not executed %d (%s)", amount, outcome).doesNotContainKey(amount);
                } else {
                    assertThat(outcome).as("command %d", amount).endsWith(" unknown");
                }
            });
            assertThat(counts.getOrDefault("A not executed", 0)).as("A's commands refused by its closed store")
                    .isPositive();
        } finally {
            JdbcFixtures.drop(dataSource, tables);
        }
    }

    private static String outcome(CompletableFuture<Object> future) {
        try {
            future.get();
            return "ok";
        } catch (ExecutionException e) {
            Throwable failure = e.getCause();
            if (failure instanceof CommandNotExecutedException) {
                return "not executed";
            }
            if (failure instanceof CommandOutcomeUnknownException) {
                return "unknown";
            }
            return "other " + failure;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
