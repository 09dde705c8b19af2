package io.gyre.eventstore.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Moves a PostgreSQL server's transaction ids past the highest one a restored event store holds, by using up ids in
 * tiny transactions, so that the restored events become readable in their order and every new append sorts after
 * them. Nothing stored is changed: events, tokens and their order stay as they were. Internal: not part of Gyre's
 * API; {@code GlobalLogRepair} is its entry point.
 *
 * <p>The ids are used up on the server, in one {@code DO} block that commits after each {@code pg_current_xact_id()}
 * (a procedure-level {@code COMMIT}, PostgreSQL 11+), with {@code synchronous_commit} off for those empty
 * transactions: none of them writes anything worth flushing.
 */
public final class TransactionIdAdvancer {

    private final DataSource dataSource;

    /** @param dataSource the restored database */
    public TransactionIdAdvancer(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * @param eventsTable the events table
     * @param tokensTable a tokens table, checked only when it exists
     * @return the highest transaction id the tables hold (an event's, or a token's commit order), -1 when none
     * @throws SQLException when the database fails
     */
    public long highestStored(String eventsTable, @Nullable String tokensTable) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            long highest = -1;
            try (ResultSet row = statement.executeQuery("SELECT CAST(CAST(transaction_id AS text) AS bigint) FROM "
                    + eventsTable + " ORDER BY transaction_id DESC LIMIT 1")) {
                if (row.next()) {
                    highest = row.getLong(1);
                }
            }
            if (tokensTable != null && exists(connection, tokensTable)) {
                try (ResultSet row = statement.executeQuery("SELECT max(commit_order) FROM " + tokensTable)) {
                    if (row.next() && row.getObject(1) != null) {
                        highest = Math.max(highest, row.getLong(1));
                    }
                }
            }
            return highest;
        }
    }

    private static boolean exists(Connection connection, String table) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            query.setString(1, table);
            try (ResultSet row = query.executeQuery()) {
                return row.next() && row.getBoolean(1);
            }
        }
    }

    /**
     * @return the next transaction id the server will hand out
     * @throws SQLException when the database fails
     */
    public long serverNext() throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery(
                     "SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint)")) {
            row.next();
            return row.getLong(1);
        }
    }

    /**
     * Uses up transaction ids until the server's next one is above {@code highest}: the README's SQL step, verbatim.
     *
     * @param highest the id to pass
     * @return how many ids were used up
     * @throws SQLException when the database fails; the ids used up so far stay used, and running it again goes on
     */
    public long advancePast(long highest) throws SQLException {
        long before = serverNext();
        try (Connection connection = dataSource.getConnection()) {
            if (!connection.getAutoCommit()) {
                // A procedure-level COMMIT is refused inside a transaction block the driver opened.
                connection.setAutoCommit(true);
            }
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET synchronous_commit = off");
                try {
                    // Each pg_current_xact_id() in a new transaction takes the next id; COMMIT starts another.
                    statement.execute("DO $$ BEGIN WHILE pg_current_xact_id() < '" + highest + "'::xid8 LOOP COMMIT; "
                            + "END LOOP; END $$");
                } finally {
                    statement.execute("RESET synchronous_commit");
                }
            }
        }
        return serverNext() - before;
    }
}
