package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.gyre.GyreTransientException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The database goes away mid-run and comes back: clear transient errors meanwhile, nothing half-written. */
class PostgresOutageTest {

    @Test
    void appends_fail_transiently_while_postgres_is_down_and_succeed_again_after_it_returns() {
        PostgresServer server = PostgresServer.get();
        assumeThat(server.restartable()).as("the test PostgreSQL can be stopped").isTrue();
        TableNames tables = JdbcFixtures.randomTables();
        JdbcEventStore store = JdbcEventStore.builder(server.dataSource()).tableNames(tables).createSchema(true)
                .build();
        try {
            store.append(append("acc", ExpectedSequence.noStream(), "before", 1, 2));

            server.stop();
            try {
                assertThatThrownBy(() -> store.append(append("acc", ExpectedSequence.exactly(1), "during", 3, 4)))
                        .isInstanceOfSatisfying(JdbcEventStoreException.class, e -> {
                            assertThat(GyreTransientException.isCauseOf(e)).isTrue();
                            assertThat(e.sqlState()).as("connection lost or server shutting down").matches("08...|57P0.");
                            assertThat(e.getMessage()).contains("command during").contains("'acc'");
                        });
                assertThatThrownBy(() -> store.readStream(Events.stream("acc")).toList())
                        .isInstanceOf(JdbcEventStoreException.class);
                assertThatThrownBy(() -> store.readAll(TrackingToken.START, 10))
                        .isInstanceOf(JdbcEventStoreException.class);
            } finally {
                server.startAgain();
            }

            // The pool reconnects after its own back-off; until then appends keep failing transiently, as a
            // retrying gateway would see them.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    store.append(append("acc", ExpectedSequence.exactly(1), "after", 5));
                    break;
                } catch (JdbcEventStoreException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
            List<StoredEvent> stream = store.readStream(Events.stream("acc")).toList();
            assertThat(stream).extracting(StoredEvent::commandId).containsExactly("before", "before", "after");
            assertThat(stream).extracting(StoredEvent::sequence).containsExactly(0L, 1L, 2L);
        } finally {
            JdbcFixtures.drop(server.dataSource(), tables);
        }
    }
}
