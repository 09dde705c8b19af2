package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import io.gyre.eventstore.jdbc.JdbcEventStoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.jspecify.annotations.Nullable;

/**
 * Bounds the transaction of a caller that writes its own append ({@link GroupCommit#submitWithin}) by its deadline, so
 * that a write the database holds (a lock held by another transaction) does not hold the caller past it.
 *
 * <p>On PostgreSQL, {@code SET LOCAL statement_timeout} with the milliseconds left when the transaction starts: it
 * lasts until the transaction ends, so it never reaches the pool's next user, and it bounds each statement (a group is
 * one batched round trip). A statement it cancels fails with SQLState 57014; the transaction is then rolled back, so
 * nothing of it is stored. JDBC's {@code Statement.setQueryTimeout} counts whole seconds, too coarse for a deadline
 * of half a second. On H2 no bound is set: its settings are per session, not per transaction, and its lock timeout
 * (10 s as {@code JdbcEventStore.h2} sets it) ends a blocked write.
 * Internal: not part of Gyre's API.
 */
final class CallerDeadline {

    private static final String QUERY_CANCELED = "57014";

    private CallerDeadline() {
    }

    /**
     * Bounds the statements of the transaction just begun on the connection; does nothing without a deadline or on
     * H2.
     *
     * @param connections the store's connections, which know the dialect
     * @param connection  a connection inside a transaction (auto-commit off)
     * @param deadline    the caller's, or null
     * @throws SQLException when the database refuses the setting
     */
    static void bound(Connections connections, Connection connection, @Nullable Deadline deadline)
            throws SQLException {
        if (deadline == null || !connections.postgres()) {
            return;
        }
        // At least a millisecond: 0 would turn the bound off.
        long millis = Math.max(1, deadline.remainingNanos() / 1_000_000);
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCAL statement_timeout = " + millis);
        }
    }

    /**
     * @param deadline the caller's, or null
     * @param failure  what a statement of its transaction threw
     * @return true when the bound cancelled the statement
     */
    static boolean cancelled(@Nullable Deadline deadline, SQLException failure) {
        if (deadline == null) {
            return false;
        }
        for (Throwable e = failure; e != null; e = e.getCause()) {
            if (e instanceof SQLException sql) {
                for (SQLException next = sql; next != null; next = next.getNextException()) {
                    if (QUERY_CANCELED.equals(next.getSQLState())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * @param operation what was written, naming its command and stream
     * @param failure   the cancelled statement's error
     * @return the failure of a write that the bound cancelled and that was rolled back
     */
    static JdbcEventStoreException notStored(String operation, SQLException failure) {
        return new JdbcEventStoreException(operation + " was cancelled at its caller's deadline while the database "
                + "held it (a lock held by another transaction?) and rolled back: nothing of it was stored", failure);
    }
}
