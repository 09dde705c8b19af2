package io.gyre.eventstore.jdbc.internal;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.JdbcEventStoreException;
import io.gyre.eventstore.jdbc.TableNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a new log epoch ({@link PostgresLogOrder}) on a PostgreSQL event store whose log holds events or tokens
 * ahead of the server, and does nothing on one that does not. Internal: not part of Gyre's API;
 * {@code GlobalLogRepair} is its entry point.
 *
 * <p>All in one transaction: it locks the events table ({@code ACCESS EXCLUSIVE}, which waits until every transaction
 * that inserted events has ended and holds new appends back until it commits), looks at the current epoch, the newest
 * event in log order, the newest token and the server's next transaction id, and, when something is ahead, sets the
 * column's default to one above every epoch it saw. Two runs at once take turns on the lock, and the second finds
 * nothing ahead.
 */
public final class LogEpochRepair {

    private static final Logger log = LoggerFactory.getLogger(LogEpochRepair.class);

    /** How long the repair waits for transactions writing to the events table to end before it gives up. */
    static final Duration LOCK_WAIT = Duration.ofSeconds(30);

    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private final DataSource dataSource;
    private final TableNames tables;

    /**
     * @param dataSource the restored database
     * @param tables     the store's tables
     */
    public LogEpochRepair(DataSource dataSource, TableNames tables) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.tables = Objects.requireNonNull(tables, "tables");
    }

    /**
     * @param alsoPast a token's commit order kept elsewhere, -1 for none
     * @return the epoch new events take after the repair
     * @throws SQLException when the database fails; nothing is changed then
     */
    public int run(long alsoPast) throws SQLException {
        String events = tables.events();
        try (Connection connection = dataSource.getConnection()) {
            requirePostgres(connection);
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                requireEpochColumn(connection);
                statement.execute("SET LOCAL lock_timeout = '" + LOCK_WAIT.toMillis() + "ms'");
                lock(statement);
                int current;
                long newest = -1;
                long next;
                try (ResultSet row = statement.executeQuery("SELECT " + PostgresLogOrder.currentEpochSql(events)
                        + ", CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint), n.log_epoch, "
                        + "CAST(CAST(n.transaction_id AS text) AS bigint) FROM (SELECT 1) AS one LEFT JOIN LATERAL "
                        + "(SELECT log_epoch, transaction_id FROM " + events + " ORDER BY log_epoch DESC, "
                        + "transaction_id DESC LIMIT 1) AS n ON true")) {
                    row.next();
                    current = row.getInt(1);
                    next = row.getLong(2);
                    int newestEpoch = row.getInt(3);
                    if (!row.wasNull()) {
                        newest = PostgresLogOrder.commitOrder(newestEpoch, row.getLong(4));
                    }
                }
                long token = Math.max(alsoPast, newestToken(connection, statement));
                boolean eventsAhead = PostgresLogOrder.aheadOfServer(current, newest, next);
                boolean tokenAhead = PostgresLogOrder.aheadOfServer(current, token, next);
                if (!eventsAhead && !tokenAhead) {
                    connection.rollback();
                    log.info("The global log of {} needs no repair: nothing stored is ahead of the server (log epoch "
                            + "{}, next transaction id {})", events, current, next);
                    return current;
                }
                int highest = Math.max(current, Math.max(epochOf(newest), epochOf(token)));
                if (highest >= PostgresLogOrder.MAX_EPOCH) {
                    throw new GyreNonTransientException("The global log of " + events + " is at log epoch " + highest
                            + ", the last there is (" + PostgresLogOrder.MAX_EPOCH + "); no new epoch can be started");
                }
                int epoch = highest + 1;
                statement.execute("ALTER TABLE " + events + " ALTER COLUMN log_epoch SET DEFAULT " + epoch);
                connection.commit();
                log.warn("Started log epoch {} on {}: {} was ahead of the server (log epoch {}, next transaction id "
                        + "{}); every event appended from now on sorts after every one stored before", epoch, events,
                        eventsAhead ? "the newest event, at " + PostgresLogOrder.describe(newest) + ","
                                : "a token, at " + PostgresLogOrder.describe(token) + ",", current, next);
                return epoch;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        }
    }

    private static int epochOf(long commitOrder) {
        return commitOrder < 0 ? 0 : PostgresLogOrder.epoch(commitOrder);
    }

    /**
     * Only PostgreSQL orders its log by transaction ids, which a restore can put ahead of the server; on another
     * database the repair's catalog queries would fail with an error that names a missing function, not the mistake.
     */
    private void requirePostgres(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName();
        if (!"PostgreSQL".equalsIgnoreCase(product)) {
            throw new GyreNonTransientException("The global log repair is for PostgreSQL event stores only, but this "
                    + "data source is " + product + ": " + tables.events() + " there is ordered by position alone and "
                    + "needs no new log epoch. Point the repair at the restored PostgreSQL database");
        }
    }

    private void requireEpochColumn(Connection connection) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL, EXISTS (SELECT "
                + "1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = 'log_epoch' AND NOT attisdropped)")) {
            query.setString(1, tables.events());
            query.setString(2, tables.events());
            try (ResultSet row = query.executeQuery()) {
                row.next();
                if (!row.getBoolean(1)) {
                    throw new EventStoreSchemaException("There is no events table " + tables.events() + " to repair "
                            + "in this database", null);
                }
                if (!row.getBoolean(2)) {
                    throw new EventStoreSchemaException("The events table " + tables.events() + " has no log_epoch "
                            + "column: its schema is older than version 6. Start a store of this Gyre on it with "
                            + "createSchema(true), which migrates it (and then refuses the restored log), or apply "
                            + "V6__log_epoch_in_the_global_log_order.sql, then repair", null);
                }
            }
        }
    }

    private void lock(Statement statement) throws SQLException {
        try {
            statement.execute("LOCK TABLE " + tables.events() + " IN ACCESS EXCLUSIVE MODE");
        } catch (SQLException e) {
            if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                throw new JdbcEventStoreException("Waited " + LOCK_WAIT.toSeconds() + " s for the transactions "
                        + "writing to " + tables.events() + " to end, and they did not: stop every node (and end any "
                        + "session left in a transaction, see pg_stat_activity), then run the repair again", e);
            }
            throw e;
        }
    }

    private long newestToken(Connection connection, Statement statement) throws SQLException {
        try (PreparedStatement exists = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            exists.setString(1, tables.tokens());
            try (ResultSet row = exists.executeQuery()) {
                if (!row.next() || !row.getBoolean(1)) {
                    return -1;
                }
            }
        }
        try (ResultSet row = statement.executeQuery("SELECT max(commit_order) FROM " + tables.tokens())) {
            return row.next() && row.getObject(1) != null ? row.getLong(1) : -1;
        }
    }
}
