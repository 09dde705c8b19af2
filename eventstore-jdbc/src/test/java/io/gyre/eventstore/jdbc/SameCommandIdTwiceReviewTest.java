package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddAtMost;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of decide-then-append (issue 13) on PostgreSQL: the same command (one command id) sent at the same moment
 * through two nodes, each with a store of its own on the same tables, and through one node twice, so that the
 * deliveries race through group commit. The first decision on a command id is final: one set of events is stored per
 * id, and every delivery answers with the same result, or the same refusal for a command that was refused.
 */
class SameCommandIdTwiceReviewTest {

    private static final int COUNTERS = 6;
    private static final int COMMANDS = 15;

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void one_command_id_sent_through_two_nodes_and_twice_through_one_is_stored_once_and_answered_alike()
            throws Exception {
        try (JdbcEventStore storeA = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
             JdbcEventStore storeB = JdbcEventStore.builder(dataSource).tableNames(tables).build();
             Gyre a = Gyre.builder().sharedEventStore(storeA).aggregate(Counter.class).workers(2).start();
             Gyre b = Gyre.builder().sharedEventStore(storeB).aggregate(Counter.class).workers(2).start()) {
            for (int c = 0; c < COUNTERS; c++) {
                a.commandGateway().sendAndWait(new CreateCounter("c" + c));
            }
            List<List<CompletableFuture<Object>>> deliveries = new ArrayList<>();
            for (int i = 0; i < COMMANDS; i++) {
                for (int c = 0; c < COUNTERS; c++) {
                    // Every third command is refused once the total passes 300: its refusal is the decision.
                    Object payload = i % 3 == 2 ? new AddAtMost("c" + c, 40, 300) : new Add("c" + c, 20);
                    CommandMessage message = CommandMessage.of(payload).withCommandId("key-" + c + "-" + i);
                    deliveries.add(List.of(a.commandGateway().send(message, Duration.ofSeconds(60)),
                            b.commandGateway().send(message, Duration.ofSeconds(60)),
                            a.commandGateway().send(message, Duration.ofSeconds(60))));
                }
            }
            int refused = 0;
            for (List<CompletableFuture<Object>> same : deliveries) {
                List<String> answers = new ArrayList<>();
                for (CompletableFuture<Object> each : same) {
                    answers.add(answer(each));
                }
                assertThat(answers).as("the three deliveries of one command id").containsOnly(answers.get(0));
                refused += answers.get(0).equals("refused") ? 1 : 0;
            }
            assertThat(refused).as("commands refused, whose refusal is their decision").isPositive();
            for (int c = 0; c < COUNTERS; c++) {
                try (Stream<StoredEvent> events = storeA.readStream(StreamId.of("Counter", "c" + c))) {
                    List<String> commandIds = events.map(StoredEvent::commandId).toList();
                    assertThat(commandIds).as("one event per command id on c" + c).doesNotHaveDuplicates();
                }
            }
        }
    }

    private static String answer(CompletableFuture<Object> delivery) throws Exception {
        try {
            return "result " + delivery.get(90, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return "refused";
        }
    }
}
