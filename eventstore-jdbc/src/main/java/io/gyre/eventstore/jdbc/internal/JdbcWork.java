package io.gyre.eventstore.jdbc.internal;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Runs a unit of work in a transaction of its own on a pooled connection, whatever auto-commit mode the pool hands
 * out, and gives the connection back in the mode it came. Internal: not part of Gyre's API.
 */
final class JdbcWork {

    /** Work on a connection. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private JdbcWork() {
    }

    /**
     * @param dataSource the pool
     * @param work       the work; it must not commit
     * @return what the work returned, after the commit
     * @throws SQLException when the database fails; nothing was committed
     */
    static <T> T inTransaction(DataSource dataSource, Work<T> work) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            if (autoCommit) {
                connection.setAutoCommit(false);
            }
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback);
                }
                throw e;
            } finally {
                if (autoCommit) {
                    connection.setAutoCommit(true);
                }
            }
        }
    }

    /**
     * Runs work that is a single statement: in the pool's auto-commit mode when it hands out auto-commit
     * connections (one round trip), else in a transaction it commits.
     *
     * @param dataSource the pool
     * @param work       one statement's work; it must not commit
     * @return what the work returned, once committed
     * @throws SQLException when the database fails; nothing was committed
     */
    static <T> T singleStatement(DataSource dataSource, Work<T> work) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            if (connection.getAutoCommit()) {
                return work.run(connection);
            }
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback);
                }
                throw e;
            }
        }
    }
}
