package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import io.gyre.eventstore.jdbc.JdbcEventStoreException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.jspecify.annotations.Nullable;

/**
 * Bounds the statements of a caller that writes its own append ({@link GroupCommit#submitWithin}) by its deadline, so
 * that a write the database holds (a lock held by another transaction) does not hold the caller past it.
 *
 * <p>On PostgreSQL each statement the caller's write runs gets the milliseconds left as its timeout, set through the
 * driver ({@link PostgresStatementTimeout}): no round trip, and a lone append keeps its single auto-committed
 * statement. ({@code SET LOCAL statement_timeout} needs a transaction and a round trip of its own, which made a lone
 * append about three times slower.) A statement the driver cancels fails with SQLState 57014; its transaction is
 * then rolled back (or, auto-committed, never committed), so nothing of it is stored. The commit itself is not
 * bounded. On H2 no bound is set: its timeouts are per session, and its lock timeout (10 s as
 * {@code JdbcEventStore.h2} sets it) ends a blocked write.
 *
 * <p>The caller's wait for a pooled connection, before any statement, is bounded too ({@link ConnectionWait}); a
 * caller whose deadline passes there writes nothing ({@link #noConnection}). Either failure is a {@link #isCut cut}:
 * nothing of it is stored, so the group commit fails the caller's own request and queues the others again.
 * Internal: not part of Gyre's API.
 */
final class CallerDeadline {

    private static final String QUERY_CANCELED = "57014";
    /** "SQL client unable to establish SQL connection". */
    private static final String NO_CONNECTION = "08001";

    private CallerDeadline() {
    }

    /**
     * @param connections the store's connections, which know the dialect
     * @param deadline    the caller's, or null
     * @return true when {@link #bound} sets a bound: a deadline, on PostgreSQL
     */
    static boolean applies(Connections connections, @Nullable Deadline deadline) {
        return deadline != null && connections.postgres();
    }

    /**
     * Bounds a statement by the time left, when {@link #applies}, or by the store's query timeout when that is
     * shorter; called each time the statement is about to run.
     *
     * @param connections the store's connections, which know the dialect
     * @param statement   a statement about to run
     * @param deadline    the caller's, or null
     * @return the timeout set, in milliseconds; 0 when none was set here (the store's query timeout, if any, stays)
     * @throws SQLException when the driver refuses the setting
     */
    static long bound(Connections connections, PreparedStatement statement, @Nullable Deadline deadline)
            throws SQLException {
        if (!applies(connections, deadline)) {
            return 0;
        }
        // At least a millisecond: 0 would turn the bound off.
        long millis = Math.max(1, deadline.remainingNanos() / 1_000_000);
        // The driver keeps one timeout per statement, and this one replaces the store's queryTimeout set when the
        // statement was prepared: a caller with more time left than that must not lift the user's own bound.
        if (connections.queryTimeoutSeconds() > 0) {
            millis = Math.min(millis, connections.queryTimeoutSeconds() * 1000L);
        }
        return PostgresStatementTimeout.set(statement, millis);
    }

    /**
     * @param failure what a statement threw
     * @return true when it, a cause or a chained next exception says the statement was cancelled (SQLState 57014):
     *         by the driver at a timeout the store set, by the database's own {@code statement_timeout}, or at another
     *         session's request; {@link StatementCache#cancelledByBound} tells the store's own apart
     */
    static boolean isCancel(SQLException failure) {
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
     * @param failure   the cancelled statement's error, which came before any timeout the store set had run out
     * @return the failure of a write that the database itself cancelled and that was rolled back
     */
    static JdbcEventStoreException cancelledByDatabase(String operation, SQLException failure) {
        return new JdbcEventStoreException(operation + " was cancelled by the database itself, before any timeout "
                + "the store set on it (its caller's deadline, the store's queryTimeout) had run out: the database's "
                + "statement_timeout (set for the user, the database or the pool's connections) or a cancel request "
                + "from another session ended it, and it was rolled back: "
                + "nothing of it was stored", failure);
    }

    /**
     * @param operation what was written, naming its command and stream
     * @param failure   the cancelled statement's error
     * @return the failure of a write that the bound cancelled and that was rolled back
     */
    static JdbcEventStoreException notStored(String operation, SQLException failure) {
        return new Cut(operation + " was cancelled at its caller's deadline (or the store's queryTimeout, when "
                + "shorter) while the database held it (a lock held by another transaction?) and rolled back: nothing "
                + "of it was stored", failure);
    }

    /**
     * @param operation what was to be written, naming its command and stream
     * @param deadline  the caller's, which passed
     * @param passed    how the wait for a connection ended
     * @return the failure of a write that never started: no pooled connection came before the caller's deadline
     */
    static JdbcEventStoreException noConnection(String operation, Deadline deadline,
                                                ConnectionWait.DeadlinePassed passed) {
        long lateMillis = -deadline.remainingNanos() / 1_000_000;
        SQLException cause = new SQLTransientConnectionException("No connection came from the pool before the "
                + "caller's deadline (freed " + Math.max(0, lateMillis) + " ms after it); the pool's own wait for a "
                + "connection is longer", NO_CONNECTION, passed);
        return new Cut(operation + " was not written: its caller's deadline passed while it waited for a connection "
                + "from the pool (every connection in use? raise the pool's size, or shorten what holds them); nothing "
                + "of it was stored", cause);
    }

    /**
     * @param failure an append's failure
     * @return true when it is {@link #notStored}'s or {@link #noConnection}'s: rolled back at a caller's deadline, so it may be written again
     */
    static boolean isCut(RuntimeException failure) {
        return failure instanceof Cut;
    }

    /** The failure of a write cut at its caller's deadline and rolled back; a type of its own to be told apart. */
    private static final class Cut extends JdbcEventStoreException {
        private static final long serialVersionUID = 1L;

        Cut(String message, SQLException cause) {
            super(message, cause);
        }
    }
}
