package io.gyre.eventstore.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Where the store's collaborators get connections and statements: the user's data source, the SQL of the
 * configured tables, and the per-statement timeout, if any. Internal: not part of Gyre's API.
 */
public final class Connections {

    private final DataSource dataSource;
    private final Statements sql;
    private final int queryTimeoutSeconds;

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
     */
    public Connection open() throws SQLException {
        return dataSource.getConnection();
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
