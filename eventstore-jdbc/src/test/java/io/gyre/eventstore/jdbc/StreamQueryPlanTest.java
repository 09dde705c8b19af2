package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.jdbc.internal.Statements;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream's queries (a page of its events, the head check of an append, its last sequence number) read only the
 * rows they return, along the stream key, on both databases. On H2 they did not: ordered by {@code sequence_number}
 * alone, H2 read every event of the stream from the first one asked for and sorted them to keep a page or two rows,
 * and computed {@code MAX(sequence_number)} by reading the whole stream, so loading a long aggregate without a
 * snapshot cost the square of its length. The queries are run as the store binds them, on a long stream beside
 * another one, and their plans counted: H2's {@code EXPLAIN ANALYZE} says how many rows each scan read and whether
 * the index gave the order; PostgreSQL's plan must have no sort.
 */
class StreamQueryPlanTest {

    private static final int STREAM_LENGTH = 20_000;
    private static final int PAGE = 100;
    private static final Pattern SCAN_COUNT = Pattern.compile("scanCount: (\\d+)");

    @TempDir
    Path folder;

    @Test
    void on_h2_each_stream_query_reads_only_the_rows_it_returns() throws Exception {
        try (TestDatabase database = TestDatabase.onH2(folder)) {
            Statements sql = fill(database);

            assertReadsAtMost(database, sql.readStreamPage(), 0, PAGE, PAGE + 1);
            assertReadsAtMost(database, sql.readStreamPage(), STREAM_LENGTH / 2, PAGE, PAGE + 1);
            // An append's head check when the stream is ahead of the writer (a stale writer, or a lost tail seen
            // the other way round): it still stops at two rows.
            assertReadsAtMost(database, sql.streamHead(), 0, -1, 3);
            assertReadsAtMost(database, sql.lastSequence(), -1, -1, 2);
        }
    }

    @Test
    void on_postgres_no_stream_query_sorts() throws Exception {
        try (TestDatabase database = TestDatabase.onPostgres()) {
            Statements sql = fill(database);

            for (String query : List.of(sql.readStreamPage(), sql.lastSequence())) {
                String plan = String.join("\n", explain(database, "EXPLAIN " + query, 0, PAGE));
                assertThat(plan).as("plan of " + query).contains("_stream_key").doesNotContain("Sort")
                        .doesNotContain("Seq Scan");
            }
        }
    }

    /** A stream of {@link #STREAM_LENGTH} events and, before and after it in the key, two short ones. */
    private static Statements fill(TestDatabase database) throws SQLException {
        TableNames tables = database.tables();
        JdbcEventStore.builder(database.dataSource()).tableNames(tables).createSchema(true).build().close();
        String series = database.postgres() ? "generate_series(0, ?) AS r(x)" : "SYSTEM_RANGE(0, ?) AS r(x)";
        try (Connection connection = database.dataSource().getConnection()) {
            for (String id : List.of("a", "long", "z")) {
                int last = id.equals("long") ? STREAM_LENGTH - 1 : 9;
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + tables.events()
                        + " (aggregate_type, aggregate_id, sequence_number, event_id, command_id, event_type, "
                        + "payload, metadata, occurred_at) SELECT 'Account', ?, x, ? || x, ? || x, 'Deposited', '{}',"
                        + " '{}', CURRENT_TIMESTAMP FROM " + series)) {
                    insert.setString(1, id);
                    insert.setString(2, id + "-event-");
                    insert.setString(3, id + "-command-");
                    insert.setInt(4, last);
                    insert.executeUpdate();
                }
            }
            if (database.postgres()) {
                try (Statement analyze = connection.createStatement()) {
                    analyze.execute("ANALYZE " + tables.events());
                }
            }
        }
        return new Statements(database.postgres(), tables);
    }

    /**
     * Runs a query of the long stream under {@code EXPLAIN ANALYZE} and checks that H2 read at most {@code rows} rows
     * in all and took the order from the index where the query has one.
     *
     * @param from  the first sequence number asked for, -1 for a query without one
     * @param limit the page size, -1 for a query without one
     */
    private static void assertReadsAtMost(TestDatabase database, String query, long from, int limit, long rows)
            throws SQLException {
        List<String> plan = explain(database, "EXPLAIN ANALYZE " + query, from, limit);
        String text = String.join("\n", plan);
        long read = 0;
        int scans = 0;
        Matcher counts = SCAN_COUNT.matcher(text);
        while (counts.find()) {
            read += Long.parseLong(counts.group(1));
            scans++;
        }
        assertThat(scans).as("scans counted in the plan of %s:%n%s", query, text).isPositive();
        assertThat(read).as("rows read by %s from %d of a %d-event stream; plan:%n%s", query, from, STREAM_LENGTH,
                text).isLessThanOrEqualTo(rows);
        if (query.contains("ORDER BY")) {
            assertThat(text).as("plan of " + query).contains("index sorted");
        }
    }

    private static List<String> explain(TestDatabase database, String statement, long from, int limit)
            throws SQLException {
        List<String> plan = new ArrayList<>();
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement explain = connection.prepareStatement(statement)) {
            explain.setString(1, "Account");
            explain.setString(2, "long");
            int parameters = explain.getParameterMetaData().getParameterCount();
            if (parameters >= 3) {
                explain.setLong(3, from);
            }
            if (parameters >= 4) {
                explain.setInt(4, limit);
            }
            try (ResultSet rows = explain.executeQuery()) {
                while (rows.next()) {
                    plan.add(rows.getString(1));
                }
            }
        }
        return plan;
    }
}
