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

    /** Attempts of a read on H2 whose file was closed under it ({@link #read}). */
    static final int READ_ATTEMPTS = 5;

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
     * Runs a read on a connection of its own. On H2 a read that failed because the database file was closed under it
     * is run again, up to {@link #READ_ATTEMPTS} times in all, unless the calling thread was interrupted: the JDK
     * closes a file channel for every thread when one thread is interrupted inside it, and H2's {@code retry:} file
     * system, which opens it again, gives up on a read that another thread's interrupt closed twenty times or that
     * raced it re-opening ({@link FileClosedUnderRead}). Without this, a request thread cancelled while it read the
     * embedded store failed the reads of other threads (a probe: 4 of 4 threads never interrupted had reads fail
     * while 2 others were interrupted at random). A read changes nothing, so running it again is safe.
     *
     * @param read the statements of the read
     * @param <T>  what it returns
     * @return what the read returned
     * @throws SQLException the read's last failure
     */
    public <T> T read(Read<T> read) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (Connection connection = open()) {
                return read.run(connection);
            } catch (SQLException e) {
                if (postgres() || !FileClosedUnderRead.causedBy(e)) {
                    throw e;
                }
                // H2 clears the interrupt of a thread whose interrupt closed the file before it opens the file
                // again, so the flag alone misses most interrupted callers; the JDK's ClosedByInterruptException,
                // thrown only to the interrupted thread itself, names them.
                if (Thread.currentThread().isInterrupted() || FileClosedUnderRead.byThisThreadsInterrupt(e)) {
                    Thread.currentThread().interrupt();
                    // HY008, operation cancelled: H2's own message says only that reading the file failed.
                    throw new SQLException("the calling thread was interrupted while it read the embedded database, "
                            + "and the interrupt closed the database file under the read (the thread's interrupt "
                            + "status is set again; other threads' reads are read again)", "HY008", e);
                }
                if (attempt == READ_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * One read, run on a connection it must not close.
     *
     * @param <T> what it returns
     */
    @FunctionalInterface
    public interface Read<T> {
        /**
         * @param connection the connection
         * @return what was read
         * @throws SQLException when the database fails
         */
        T run(Connection connection) throws SQLException;
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
