package io.gyre.eventstore.jdbc.internal;

import io.gyre.command.Deadline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The prepared statements of one use of a connection (an append, or a group of appends), each prepared once and
 * closed together: a group on H2 runs the same few statements once per append. Not thread-safe. Internal: not part
 * of Gyre's API.
 */
public final class StatementCache implements AutoCloseable {

    private final Connections connections;
    private final Connection connection;
    private final Map<String, PreparedStatement> prepared = new HashMap<>();
    private final @Nullable Deadline deadline;

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
        CallerDeadline.bound(connections, statement, deadline);
        return statement;
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
