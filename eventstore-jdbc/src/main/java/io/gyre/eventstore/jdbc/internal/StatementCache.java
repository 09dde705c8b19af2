package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The prepared statements of one use of a connection (an append, or a group of appends), each prepared once and
 * closed together: a group on H2 runs the same few statements once per append. Not thread-safe. Internal: not part
 * of Gyre's API.
 */
public final class StatementCache implements AutoCloseable {

    /** Slack for the caller's bound, rounded down to whole milliseconds, and for clock reads. */
    private static final long ROUNDING_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final Connections connections;
    private final Connection connection;
    private final Map<String, PreparedStatement> prepared = new HashMap<>();
    private final @Nullable Deadline deadline;
    // When the timeout of the last statement handed out runs out, if it has one (System.nanoTime).
    private long boundUntil;
    private boolean bounded;

    /**
     * @param connections prepares statements with the store's timeout
     * @param connection  the connection they run on
     */
    public StatementCache(Connections connections, Connection connection) {
        this(connections, connection, null);
    }

    /**
     * @param connections prepares statements with the store's timeout
     * @param connection  the connection they run on
     * @param deadline    a waiting caller's, which bounds each statement handed out ({@link CallerDeadline}); or null
     */
    public StatementCache(Connections connections, Connection connection, @Nullable Deadline deadline) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.connection = Objects.requireNonNull(connection, "connection");
        this.deadline = deadline;
    }

    /** @return the connection the statements run on */
    public Connection connection() {
        return connection;
    }

    /**
     * @param sql one of {@link Statements}'s statements
     * @return it prepared on the connection, the same instance for the same text; parameters from an earlier use
     *         are replaced by the next binding
     * @throws SQLException when the database refuses it
     */
    public PreparedStatement get(String sql) throws SQLException {
        PreparedStatement statement = prepared.get(sql);
        if (statement == null) {
            statement = connections.prepare(connection, sql);
            prepared.put(sql, statement);
        }
        // Each time: a statement run again later in the write gets only the time then left.
        long millis = CallerDeadline.bound(connections, statement, deadline);
        if (millis == 0) {
            millis = connections.queryTimeoutSeconds() * 1000L;
        }
        if (millis > 0) {
            boundUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            bounded = true;
        }
        return statement;
    }

    /**
     * Tells a cancel that a timeout set on these statements caused (the caller's deadline, the store's queryTimeout)
     * from one the database sent on its own (its {@code statement_timeout}, another session's cancel request): both
     * come as SQLState 57014, and only the message text, in the server's language, differs. The driver's timer
     * starts when a statement runs, after it was handed out here, so a cancel of the store's own comes no earlier
     * than the bound of the last statement handed out (statements handed out later get no later bound than the
     * one running, give or take the millisecond the caller's bound is rounded down to); one before it is the
     * database's.
     *
     * @param failure what a statement handed out here threw
     * @return true when it is a cancel that came once the bound of these statements had run out
     */
    public boolean cancelledByBound(SQLException failure) {
        return bounded && CallerDeadline.isCancel(failure)
                && System.nanoTime() - boundUntil >= -ROUNDING_NANOS;
    }

    /**
     * @param failure what a statement handed out here threw
     * @return true when the caller's deadline ({@link CallerDeadline#applies}) cancelled it: rolled back, nothing
     *         stored, and the caller's time is up
     */
    public boolean cutAtDeadline(SQLException failure) {
        return CallerDeadline.applies(connections, deadline) && cancelledByBound(failure);
    }

    /** Closes every statement; the connection stays open. */
    @Override
    public void close() {
        for (PreparedStatement statement : prepared.values()) {
            try {
                statement.close();
            } catch (SQLException ignored) {
                // Closing the connection releases it anyway; the outcome of the appends is already known.
            }
        }
        prepared.clear();
    }
}
