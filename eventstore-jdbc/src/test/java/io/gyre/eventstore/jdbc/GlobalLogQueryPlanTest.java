package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.jdbc.internal.Statements;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The global log's read on PostgreSQL walks the log-order index: a batch costs its own rows, not a scan and a sort
 * of the whole events table (which it did while the selected commit order, unnamed, took the name
 * {@code transaction_id} and {@code ORDER BY transaction_id} sorted by it instead of by the indexed column).
 */
class GlobalLogQueryPlanTest {

    private final HikariDataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void a_batch_of_the_global_log_is_read_in_index_order_without_sorting_the_table() throws Exception {
        JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build().close();
        List<String> plan = new ArrayList<>();
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                // Whatever the table's size (empty here), a plan that can walk the index in order must; a query whose
                // order the index cannot give is left with a sort.
                statement.execute("SET LOCAL enable_seqscan = off");
                statement.execute("SET LOCAL enable_bitmapscan = off");
            }
            try (PreparedStatement explain = connection.prepareStatement("EXPLAIN "
                    + new Statements(true, tables).readAllPostgres())) {
                explain.setString(1, "0");
                explain.setLong(2, 0);
                explain.setInt(3, 1_000);
                try (ResultSet rows = explain.executeQuery()) {
                    while (rows.next()) {
                        plan.add(rows.getString(1));
                    }
                }
            }
            connection.rollback();
        }

        assertThat(String.join("\n", plan)).as("plan of the global log's read")
                .contains(TableNames.unqualified(tables.events()) + "_log_order")
                .doesNotContain("Sort");
    }
}
