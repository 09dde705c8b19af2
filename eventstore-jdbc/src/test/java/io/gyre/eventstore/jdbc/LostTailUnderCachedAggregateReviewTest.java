package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of decide-then-append (issue 13) on H2: the node has the aggregate cached, at its last event, when that event
 * is lost behind its back (a restore, a failover that lost a commit). The next command is decided on the cached
 * state, which still holds the lost event; the store must refuse its append (its expected event is gone), and the
 * command must be decided again on what is stored: the stream stays contiguous and the result leaves the lost event
 * out.
 */
class LostTailUnderCachedAggregateReviewTest {

    @TempDir
    Path folder;
    private JdbcConnectionPool pool;

    @AfterEach
    void close() {
        if (pool != null) {
            pool.dispose();
        }
    }

    @Test
    void a_command_decided_on_a_cached_state_whose_last_event_was_lost_is_decided_again_on_what_is_stored()
            throws Exception {
        pool = JdbcConnectionPool.create("jdbc:h2:file:" + folder.resolve("events").toAbsolutePath(), "sa", "");
        try (JdbcEventStore store = JdbcEventStore.builder(pool).createSchema(true).build();
             Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            node.commandGateway().sendAndWait(new Add("c", 1));
            CommandMessage lost = CommandMessage.of(new Add("c", 10)).withCommandId("lost-command");
            assertThat(node.commandGateway().<Long>sendAndWait(lost, Duration.ofSeconds(20))).isEqualTo(11);
            loseTheCommitOf(store, "lost-command");

            long total = node.commandGateway().<Long>sendAndWait(new Add("c", 100), Duration.ofSeconds(20));

            assertThat(total).as("decided on what is stored: 1 + 100, without the lost 10").isEqualTo(101);
            List<StoredEvent> stream = store.readStream(StreamId.of("Counter", "c")).toList();
            assertThat(stream).extracting(StoredEvent::sequence).as("contiguous").containsExactly(0L, 1L, 2L);
        }
    }

    private void loseTheCommitOf(JdbcEventStore store, String commandId) throws Exception {
        try (Connection connection = pool.getConnection()) {
            for (String table : List.of(store.tableNames().events(), store.tableNames().commands())) {
                try (PreparedStatement delete = connection.prepareStatement("DELETE FROM " + table
                        + " WHERE aggregate_id = ? AND command_id = ?")) {
                    delete.setString(1, "c");
                    delete.setString(2, commandId);
                    assertThat(delete.executeUpdate()).as("rows of %s in %s", commandId, table).isPositive();
                }
            }
        }
    }
}
