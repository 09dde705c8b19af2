package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.jdbc.internal.Statements;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The global log's queries on PostgreSQL walk the log-order index (log_epoch, transaction_id, global_position): a
 * batch costs its own rows, not a scan and a sort of the whole events table (which it did while the selected commit
 * order, unnamed, took the name {@code transaction_id} and {@code ORDER BY transaction_id} sorted by it instead of by
 * the indexed column), and both of its bounds, the token and the horizon, are conditions of the index scan, so a
 * batch stops at the horizon instead of filtering the rest of the table.
 */
class GlobalLogQueryPlanTest {

    private final HikariDataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private final Statements sql = new Statements(true, tables);
    private final String index = TableNames.unqualified(tables.events()) + "_log_epoch_order";

    @BeforeEach
    void createSchema() {
        JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build().close();
    }

    @AfterEach
    void drop() {
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void a_batch_of_the_global_log_is_read_in_index_order_without_sorting_the_table() throws Exception {
        // Whatever the table's size (empty here), a plan that can walk the index in order must; a query whose order
        // the index cannot give is left with a sort.
        String plan = explain(sql.readAllPostgres(), true, 0);

        assertThat(plan).as("plan of the global log's read")
                .contains("Index Scan using " + index)
                .contains("ROW(log_epoch, transaction_id) < ROW(")
                .doesNotContain("Sort");
    }

    @Test
    void on_a_table_of_many_epochs_and_events_the_planner_itself_chooses_the_index() throws Exception {
        fill(50_000);

        String events = "Seq Scan on " + TableNames.unqualified(tables.events());
        for (int epoch : new int[] {0, 1}) {
            assertThat(explain(sql.readAllPostgres(), false, epoch)).as("plan of a read from epoch " + epoch)
                    .contains("Index Scan using " + index).contains("ROW(log_epoch, transaction_id) < ROW(")
                    .doesNotContain("Sort").doesNotContain(events);
        }
        // The look for events left behind after a short read (WithheldEventsWake): one row from the index.
        assertThat(explain(sql.anyAfterPostgres(), false, 1)).as("plan of the look for events after a batch")
                .contains("Index Only Scan using " + index).doesNotContain("Sort").doesNotContain(events);
        String check = explain(sql.logCheckPostgres(), false, -1);
        assertThat(check).as("plan of the watch's check").contains("Index Only Scan Backward using " + index)
                .doesNotContain("Sort").doesNotContain(events);
    }

    /** Events over two epochs, as after a repair, with statistics. */
    private void fill(int events) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO " + tables.events() + " (log_epoch, aggregate_type, aggregate_id, "
                    + "sequence_number, event_id, command_id, event_type, payload, metadata, occurred_at) SELECT "
                    + "CASE WHEN i <= " + events / 2 + " THEN 0 ELSE 1 END, 'T', 'a' || i, 0, 'e' || i, 'c' || i, "
                    + "'E', '{}', '{}', now() FROM generate_series(1, " + events + ") AS i");
            statement.execute("ALTER TABLE " + tables.events() + " ALTER COLUMN log_epoch SET DEFAULT 1");
            statement.execute("ANALYZE " + tables.events());
        }
    }

    /**
     * @param epoch the token's epoch, or -1 for a statement without parameters
     */
    private String explain(String statement, boolean indexForced, int epoch) throws SQLException {
        List<String> plan = new ArrayList<>();
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            if (indexForced) {
                try (Statement settings = connection.createStatement()) {
                    settings.execute("SET LOCAL enable_seqscan = off");
                    settings.execute("SET LOCAL enable_bitmapscan = off");
                }
            }
            try (PreparedStatement explain = connection.prepareStatement("EXPLAIN " + statement)) {
                if (epoch >= 0) {
                    explain.setInt(1, epoch);
                    explain.setString(2, "0");
                    explain.setLong(3, 0);
                    if (explain.getParameterMetaData().getParameterCount() > 3) {
                        explain.setInt(4, 1_000);
                    }
                }
                try (ResultSet rows = explain.executeQuery()) {
                    while (rows.next()) {
                        plan.add(rows.getString(1));
                    }
                }
            }
            connection.rollback();
        }
        return String.join("\n", plan);
    }
}
