package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.EventStoreClosedException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Where the store's collaborators get connections and statements: the user's data source, the SQL of the
 * configured tables, and the per-statement timeout, if any. Internal: not part of Gyre's API.
 */
public final class Connections {

    private final DataSource dataSource;
    private final Statements sql;
    private final int queryTimeoutSeconds;
    private volatile boolean closed;

    /**
     * @param dataSource          the pooled data source
     * @param sql                 the statements of the configured tables and dialect
     * @param queryTimeoutSeconds the driver's per-statement timeout, 0 for none
     */
    public Connections(DataSource dataSource, Statements sql, int queryTimeoutSeconds) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.sql = Objects.requireNonNull(sql, "sql");
        this.queryTimeoutSeconds = queryTimeoutSeconds;
    }

    /**
     * @return a connection from the pool; close it
     * @throws SQLException when none can be had
     * @throws EventStoreClosedException once the store is closed ({@link #close()})
     */
    public Connection open() throws SQLException {
        if (closed) {
            throw closedFailure(null);
        }
        try {
            return dataSource.getConnection();
        } catch (SQLException e) {
            if (closed) {
                throw closedFailure(e); // the store's own pool, closed while this caller waited for it
            }
            throw e;
        }
    }

    /**
     * Refuses every connection from now on: the store is closed. Its appends that were queued or being written have
     * been answered by then (see {@link GroupCommit#close}).
     */
    public void close() {
        closed = true;
    }

    private EventStoreClosedException closedFailure(@Nullable Throwable cause) {
        return new EventStoreClosedException("The event store on " + sql.eventsTable() + " is closed: it takes no "
                + "more reads or appends, and nothing of this one was read or stored", cause);
    }

    /**
     * @param connection a connection
     * @param statement  SQL text, one of {@link #sql()}'s
     * @return the prepared statement, with the timeout set; close it
     * @throws SQLException when the database refuses it
     */
    public PreparedStatement prepare(Connection connection, String statement) throws SQLException {
        PreparedStatement prepared = connection.prepareStatement(statement);
        if (queryTimeoutSeconds > 0) {
            prepared.setQueryTimeout(queryTimeoutSeconds);
        }
        return prepared;
    }

    /** @return the driver's per-statement timeout set on every statement {@link #prepare} hands out, 0 for none */
    public int queryTimeoutSeconds() {
        return queryTimeoutSeconds;
    }

    /** @return the statements */
    public Statements sql() {
        return sql;
    }

    /** @return true on PostgreSQL, false on H2 */
    public boolean postgres() {
        return sql.postgres();
    }
}
