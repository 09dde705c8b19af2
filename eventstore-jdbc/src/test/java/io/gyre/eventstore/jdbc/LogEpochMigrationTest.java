package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Schema version 6 on a PostgreSQL store of version 5 with events in it: the events become epoch 0, and a token
 * stored before (its commit order a bare transaction id) reads on as epoch 0, with nothing skipped or repeated.
 */
class LogEpochMigrationTest {

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private JdbcEventStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
        JdbcFixtures.drop(dataSource, tables);
    }

    private JdbcEventStore open() {
        return JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
    }

    @Test
    void a_token_stored_before_version_6_reads_on_as_epoch_0() throws SQLException {
        store = open();
        for (int i = 1; i <= 4; i++) {
            store.append(append("acc-" + i, ExpectedSequence.noStream(), "c" + i, i));
        }
        TrackingToken version5Token = store.readAll(TrackingToken.START, 2).get(1).token();
        store.close();
        store = null;
        backToVersion5();

        store = open();
        store.append(append("acc-5", ExpectedSequence.noStream(), "c5", 5));

        assertThat(numbers(store.readAll(version5Token, 10))).containsExactly(3L, 4L, 5L);
        assertThat(numbers(store.readAll(TrackingToken.START, 10))).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    /** The events table as version 5 left it: no epoch column, the log index of version 1, V6 not recorded. */
    private void backToVersion5() throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            // Dropping the column drops the index of version 6, whose first column it is.
            statement.execute("ALTER TABLE " + tables.events() + " DROP COLUMN log_epoch");
            statement.execute("CREATE INDEX " + TableNames.unqualified(tables.events()) + "_log_order ON "
                    + tables.events() + " (transaction_id, global_position)");
            statement.execute("DELETE FROM " + tables.schemaHistory() + " WHERE version LIKE 'V6\\_\\_%'");
        }
    }

    private static List<Long> numbers(List<TrackedEvent> events) {
        return events.stream().map(tracked -> Events.numberOf(tracked.event())).toList();
    }
}
