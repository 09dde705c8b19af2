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
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Review of 874ad2a: the store closes while an append is being written and outlasts close()'s 10 s drain (a trigger
 * sleeps 12 s in the insert of stream "slow"), with hundreds of appends of other streams written, batched with it,
 * or queued behind it, and commands of "slow" waiting for their aggregate's turn. The write in flight commits after
 * close() returned. Then the store is the judge: nothing answered not executed is stored, everything acknowledged
 * is stored once, streams are contiguous, and the command whose write outlasted the drain is not "not executed".
 */
class StoreClosedDuringSlowCommitReviewTest {

    private static final Duration DEADLINE = Duration.ofSeconds(25);
    private static final List<String> STREAMS = List.of("slow", "c0", "c1", "c2", "c3");

    @Test
    void a_write_that_outlasts_the_close_drain_is_never_answered_not_executed() throws Exception {
        DataSource dataSource = PostgresServer.get().dataSource();
        TableNames tables = JdbcFixtures.randomTables();
        String function = TableNames.unqualified(tables.events()) + "_slow";
        try {
            JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build().close();
            JdbcEventStore store = JdbcEventStore.builder(dataSource).tableNames(tables).build();
            Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
            Map<Long, String> streamOf = new LinkedHashMap<>();
            Map<Long, CompletableFuture<Object>> sent = new LinkedHashMap<>();
            try {
                for (String stream : STREAMS) {
                    node.commandGateway().sendAndWait(new CreateCounter(stream));
                }
                exec(dataSource, "CREATE FUNCTION " + function + "() RETURNS trigger AS $$ BEGIN "
                        + "PERFORM pg_sleep(12); RETURN NEW; END $$ LANGUAGE plpgsql");
                exec(dataSource, "CREATE TRIGGER " + function + " BEFORE INSERT ON " + tables.events()
                        + " FOR EACH ROW WHEN (NEW.aggregate_id = 'slow') EXECUTE FUNCTION " + function + "()");
                long amount = 1;
                send(node, sent, streamOf, "slow", amount++);
                long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!sleeping(dataSource) && System.nanoTime() < until) {
                    Thread.sleep(5);
                }
                assertThat(sleeping(dataSource)).as("the append of 'slow' is in the trigger").isTrue();
                for (int i = 0; i < 600; i++) {
                    String stream = i % 30 == 0 ? "slow" : "c" + (i % 4);
                    send(node, sent, streamOf, stream, amount++);
                }
                store.close();
            } finally {
                node.close();
            }
            // Waits for the write in flight: DROP TRIGGER takes a lock its transaction holds until it ends.
            exec(dataSource, "DROP TRIGGER " + function + " ON " + tables.events());
            Map<String, Integer> counts = new HashMap<>();
            Map<Long, String> outcomes = new HashMap<>();
            for (Map.Entry<Long, CompletableFuture<Object>> each : sent.entrySet()) {
                assertThat(each.getValue()).as("command %d answered", each.getKey()).isDone();
                String outcome = outcome(each.getValue());
                outcomes.put(each.getKey(), outcome);
                counts.merge(outcome, 1, Integer::sum);
            }
            JdbcEventStore reopened = JdbcEventStore.builder(dataSource).tableNames(tables).build();
            Map<Long, Integer> stored = new HashMap<>();
            try {
                for (String stream : STREAMS) {
                    long sequence = 0;
                    try (Stream<StoredEvent> events = reopened.readStream(StreamId.of("Counter", stream))) {
                        for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                            assertThat(event.sequence()).as("%s contiguous", stream).isEqualTo(sequence++);
                            Object payload = node.serializer().deserialize(new SerializedValue(event.type(),
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
            System.out.println("Outcomes: " + counts + "; the slow append: " + outcomes.get(1L) + ", stored "
                    + stored.containsKey(1L));
            assertThat(stored.values()).as("nothing stored twice").allMatch(times -> times == 1);
            assertThat(stored).as("the write that outlasted the drain committed after it").containsKey(1L);
            assertThat(outcomes.get(1L)).as("the write that outlasted the drain").isEqualTo("unknown");
            outcomes.forEach((amount, outcome) -> {
                switch (outcome) {
                    case "ok" -> assertThat(stored).as("acknowledged %d", amount).containsKey(amount);
                    case "not executed" -> assertThat(stored).as("not executed %d on %s", amount,
                            streamOf.get(amount)).doesNotContainKey(amount);
                    default -> { }
                }
            });
        } finally {
            exec(dataSource, "DROP TRIGGER IF EXISTS " + function + " ON " + tables.events());
            exec(dataSource, "DROP FUNCTION IF EXISTS " + function + "()");
            JdbcFixtures.drop(dataSource, tables);
        }
    }

    private static void send(Gyre node, Map<Long, CompletableFuture<Object>> sent, Map<Long, String> streamOf,
                             String stream, long amount) {
        streamOf.put(amount, stream);
        sent.put(amount, node.commandGateway().send(new Add(stream, amount), Metadata.empty(), DEADLINE));
    }

    private static boolean sleeping(DataSource dataSource) throws Exception {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event = "
                     + "'PgSleep'")) {
            rows.next();
            return rows.getInt(1) > 0;
        }
    }

    private static void exec(DataSource dataSource, String sql) throws Exception {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static String outcome(CompletableFuture<Object> future) throws InterruptedException {
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
            return "other: " + failure;
        }
    }
}
